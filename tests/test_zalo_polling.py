"""Zalo hands an update out once: polling keeps it until the database takes it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.channels.zalo import intake
from bot.channels.zalo.client import ZaloError
from tests.zalo_stub import ZaloStub


class OneUpdate:
    """getUpdates: the given updates one per call, then 408s (as `None`)."""

    def __init__(self, *updates: dict[str, Any]) -> None:
        self.updates = list(updates)
        self.calls = 0

    async def get_update(self, wait: int) -> dict[str, Any] | None:
        self.calls += 1
        await asyncio.sleep(0.001)
        return self.updates.pop(0) if self.updates else None


class Watcher:
    def __init__(self) -> None:
        self.nudged = 0
        self.told: list[str] = []

    def nudge(self) -> None:
        self.nudged += 1

    async def tell_waiting(self, raw: dict[str, Any], inc: Any) -> None:
        self.told.append(inc.chat_id)


async def test_an_update_in_hand_waits_out_a_database_outage(
        monkeypatch: pytest.MonkeyPatch) -> None:
    update = ZaloStub().message("zl-lan", "120")
    stored: list[dict[str, Any]] = []
    failures = [ConnectionError("database down")] * 2
    api, watcher = OneUpdate(update), Watcher()

    async def store(services: object, body: dict[str, Any]) -> int:
        if failures:
            raise failures.pop()
        stored.append(body)
        assert api.calls == 1  # no new update was asked for while this one waited
        return 1

    monkeypatch.setattr(intake, "store_update", store)
    monkeypatch.setattr(intake, "MAX_PAUSE", 0.01)
    task = asyncio.create_task(intake.poll(api, None, watcher, 1))  # type: ignore[arg-type]
    for _ in range(200):
        if stored:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert stored == [update] and watcher.nudged == 1
    assert watcher.told == ["zl-lan", "zl-lan"]  # the dispatcher says it once per chat
    assert api.updates == []


async def test_a_refused_token_stops_polling() -> None:
    class Refused:
        async def get_update(self, wait: int) -> None:
            raise ZaloError(401, "Unauthorized", 401)

    with pytest.raises(ZaloError):
        await intake.poll(Refused(), None, Watcher(), 1)  # type: ignore[arg-type]
