"""Start-up against a messenger: retry while unreachable, never retry a refused token;
and what the log redaction hides (invite codes wherever PTB and httpx print them)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.channels.base import ChannelAuthError, ChannelUnreachable
from bot.redact import redact
from bot.startup import keep_trying


class Api:
    """A Bot API that is down for the first `down` calls (or refuses the token)."""

    def __init__(self, down: int, refuse: bool = False) -> None:
        self.down, self.refuse, self.calls = down, refuse, 0

    async def get_me(self) -> str:
        self.calls += 1
        if self.refuse:
            raise ChannelAuthError("rejected")
        if self.calls <= self.down:
            raise ChannelUnreachable(f"down (call {self.calls})")
        return "ThiDuaBot"


class FakeTime:
    """A monotonic clock that the pauses move forward (no real sleeping)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def pause(self, stop: asyncio.Event, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def fast() -> FakeTime:
    return FakeTime()


async def test_an_api_back_after_three_failures_is_reached_with_growing_waits(
        fast: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    api = Api(down=3)
    with caplog.at_level(logging.WARNING, "bot.startup"):
        assert await keep_trying(api.get_me, total=60, what="starting telegram",
                                 clock=fast, pause=fast.pause) == "ThiDuaBot"
    assert api.calls == 4 and fast.waits == [1, 2, 4]
    assert [r.getMessage().endswith(f"trying again in {w:g} s")
            for r, w in zip(caplog.records, fast.waits, strict=True)] == [True] * 3


async def test_it_gives_up_when_the_total_is_spent(fast: FakeTime) -> None:
    api = Api(down=100)
    with pytest.raises(ChannelUnreachable) as exc:
        await keep_trying(api.get_me, total=10, what="x", clock=fast, pause=fast.pause)
    assert fast.waits == [1, 2, 4, 3]  # the last wait is cut to what is left
    assert api.calls == 5 and "5 tries" in str(exc.value)


async def test_a_refused_token_is_not_retried(fast: FakeTime) -> None:
    api = Api(down=0, refuse=True)
    with pytest.raises(ChannelAuthError):
        await keep_trying(api.get_me, total=60, what="x", clock=fast, pause=fast.pause)
    assert api.calls == 1 and fast.waits == []


async def test_sigterm_stops_the_retrying() -> None:
    api, stop = Api(down=100), asyncio.Event()
    stop.set()
    with pytest.raises(ChannelUnreachable):
        await asyncio.wait_for(keep_trying(api.get_me, total=60, what="x", stop=stop), 1)
    assert api.calls == 1


@pytest.mark.parametrize(("logged", "hidden"), [
    ("{'text': '/start K7QM4XPD', 'entities': []}", "K7QM4XPD"),  # getUpdates dump
    ("Update(message=Message(text='k7qm-4xpd'), update_id=3)", "k7qm-4xpd"),  # typed
    ('{"chat_id": 5, "text": "/start@ThiDuaBot k7qm4xpd"}', "k7qm4xpd"),
    ("Gửi đường dẫn: https://t.me/ThiDuaBot?start=K7QM4XPD'", "K7QM4XPD"),
    ("'text': 'Mã mời: <code>K7QM4XPD</code> (tổ trưởng)'", "K7QM4XPD"),
])
def test_invite_codes_are_hidden_wherever_the_libraries_print_them(
        logged: str, hidden: str) -> None:
    assert hidden not in redact(logged) and "<redacted>" in redact(logged)


@pytest.mark.parametrize("logged", [
    "{'text': 'hello world'}", "{'text': '120'}", "<code>1.234</code>",
    "context='nothing to hide'", "Calling Bot API endpoint `getMe`",
])
def test_ordinary_lines_are_left_alone(logged: str) -> None:
    assert redact(logged) == logged
