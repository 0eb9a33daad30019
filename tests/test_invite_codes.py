"""Invite codes at rest and under guessing: keyed hashes, old rows, an overall limit.

Personas: Lan (leader of Tổ 1, registering), Minh (a stranger who guesses), and a
guesser behind forty user ids.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.assembly import open_services
from bot.settings import Environment, InvalidEnvironment
from models import AppSecret, CodeAttempt, Group, HashScheme, Invite, Member, Role
from models.invites import InviteKey, new_code
from reporting.config import Settings
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import Person, make_invite


async def _invites(services: Services) -> list[Invite]:
    async with services.sessions() as s:
        return list(await s.scalars(select(Invite)))


async def _count(services: Services, model: type[Member] | type[CodeAttempt]) -> int:
    async with services.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _said(person: Person, key: str, services: Services) -> bool:
    return person.replies[-1].messages[-1].text == services.t(key, "vi")


async def test_a_code_is_stored_as_an_hmac_under_the_databases_own_key(
        services: Services, settings: Settings, db_url: str, clock: Clock) -> None:
    code = await make_invite(services, "to-1")
    [invite] = await _invites(services)
    async with services.sessions() as s:
        [secret] = (await s.scalars(select(AppSecret))).all()
    key = bytes.fromhex(secret.value)
    assert len(key) == 32
    assert invite.hash_scheme == HashScheme.HMAC
    assert invite.code_hash == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
    # The old, unkeyed hash is not what is stored: a leaked table gives nothing away.
    assert invite.code_hash != hashlib.sha256(code.encode()).hexdigest()
    # After a restart (or on another instance) the same key is read back: Lan's code works.
    async with open_services(settings, db_url, clock=clock, migrate=False) as again:
        assert again.invites == services.invites
        lan = Person(again, "1", "Lan")
        await lan.send(f"/start {code}")
        assert _said(lan, "code_unknown", again) is False
    assert await _count(services, Member) == 1


async def test_a_key_from_the_environment_is_used_and_nothing_is_stored(
        settings: Settings, db_url: str, clock: Clock) -> None:
    env_key = "ward-office-secret-0123456789"
    async with open_services(settings, db_url, clock=clock, migrate=False,
                             secret_key=env_key) as services:
        code = await make_invite(services, "to-2")
        [invite] = await _invites(services)
        async with services.sessions() as s:
            assert (await s.scalars(select(AppSecret))).all() == []
        assert invite.code_hash == hmac.new(env_key.encode(), code.encode(),
                                            hashlib.sha256).hexdigest()
        assert env_key not in repr(services) and env_key not in repr(services.invites)


async def _legacy_invite(services: Services, code: str, ttl: timedelta) -> None:
    """An invite as made before migration 0008: plain SHA-256, scheme left to the default."""
    async with services.sessions() as s, s.begin():
        group = await s.scalar(select(Group).where(Group.code == "to-3"))
        assert group is not None
        now = services.clock()
        s.add(Invite(code_hash=hashlib.sha256(code.encode()).hexdigest(),
                     hash_scheme=HashScheme.SHA256, group_id=group.id, role=Role.LEADER,
                     created_at=now, expires_at=now + ttl))


async def test_codes_made_before_the_keyed_hash_still_work_once(services: Services) -> None:
    code = new_code()
    await _legacy_invite(services, code, timedelta(days=7))
    lan, hoa = Person(services, "1", "Lan"), Person(services, "2", "Hoa")
    await lan.send(f"/start {code.lower()}")
    assert await _count(services, Member) == 1
    await hoa.send(f"/start {code}")
    assert _said(hoa, "code_used", services)
    assert await _count(services, Member) == 1


async def test_an_expired_old_code_is_expired(services: Services, clock: Clock) -> None:
    code = new_code()
    await _legacy_invite(services, code, timedelta(days=1))
    clock.advance(days=2)
    lan = Person(services, "1", "Lan")
    await lan.send(f"/start {code}")
    assert _said(lan, "code_expired", services)


async def test_a_guesser_with_many_user_ids_is_stopped_and_lan_registers_after_the_window(
        services: Services, settings: Settings, clock: Clock) -> None:
    limit = settings.bot.max_wrong_codes_per_10_minutes
    per_user = settings.bot.max_wrong_codes_per_hour
    assert limit < 40 * (per_user - 1)  # no single id reaches its own limit
    code = await make_invite(services, "to-1")
    answered: list[bool] = []
    for n in range(40):
        guesser = Person(services, str(5000 + n), f"G{n}")
        for _ in range(per_user - 1):
            clock.advance(seconds=1)
            await guesser.send(f"/start {new_code()}")
            answered.append(_said(guesser, "code_paused", services))
    # Exactly `limit` wrong codes were checked; every later try was refused unchecked.
    assert answered.index(True) == limit and all(answered[limit:])
    assert await _count(services, CodeAttempt) == limit
    # Lan, with a real code, inside the window: paused too (a lucky guess looks the same).
    lan = Person(services, "1", "Lan")
    await lan.send(f"/start {code}")
    assert _said(lan, "code_paused", services)
    assert await _count(services, Member) == 0
    # Ten minutes after the last counted wrong code, her code, typed again, works.
    clock.advance(minutes=10)
    await lan.send(code)
    assert await _count(services, Member) == 1


async def test_the_per_user_limit_still_comes_first(services: Services) -> None:
    minh = Person(services, "9", "Minh")
    for _ in range(5):
        await minh.send("/start AAAAAAAA")
    await minh.send("/start BBBBBBBB")
    assert _said(minh, "code_too_many", services)
    assert await _count(services, CodeAttempt) == 5


def test_the_key_never_shows_in_a_repr() -> None:
    key = InviteKey(b"k" * 32)
    assert "kkkk" not in repr(key)
    with pytest.raises(ValueError):
        InviteKey(b"short")


def test_a_short_secret_key_is_refused_without_echoing_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THIDUA_SECRET_KEY", "tooshort")
    with pytest.raises(InvalidEnvironment) as exc:
        Environment.load()
    assert "THIDUA_SECRET_KEY" in str(exc.value) and "tooshort" not in str(exc.value)
    monkeypatch.setenv("THIDUA_SECRET_KEY", "long-enough-secret-key-42")
    env = Environment.load()
    assert "long-enough" not in repr(env)
    assert "long-enough-secret-key-42" in env.secret_values
