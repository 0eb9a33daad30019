"""The sender's rate limiter, on a fake clock (and once on the real one, concurrently)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict

import pytest

from bot.limits import RateLimiter, is_group


class FakeTime:
    """A monotonic clock that `sleep` moves forward (one caller at a time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def limiter(t: FakeTime, overall: float = 30, private: float = 1,
            group_per_min: float = 20) -> RateLimiter:
    return RateLimiter(overall, private, group_per_min, clock=t, sleep=t.sleep)


async def sends(lim: RateLimiter, t: FakeTime, chats: list[str]) -> list[tuple[float, str]]:
    out = []
    for chat in chats:
        await lim.acquire(chat)
        out.append((t.now, chat))
        lim.done(chat)
    return out


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, at in enumerate(times):
        while at - times[lo] >= window - 1e-9:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_group_ids_are_negative() -> None:
    assert is_group("-1001234") and is_group(-5)
    assert not is_group("42") and not is_group("console-user")


async def test_one_message_per_second_per_private_chat() -> None:
    t = FakeTime()
    lim = limiter(t)
    log = await sends(lim, t, ["7"] * 5)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(log)]
    assert all(g >= 1.0 - 1e-9 for g in gaps), gaps
    assert log[-1][0] - log[0][0] == pytest.approx(4.0)


async def test_twenty_per_minute_per_group_chat() -> None:
    t = FakeTime()
    lim = limiter(t)
    log = await sends(lim, t, ["-100"] * 41)
    times = [at for at, _ in log]
    assert max_in_window(times, 60.0) <= 20
    assert times[-1] - times[0] == pytest.approx(40 * 3.0)


async def test_thirty_per_second_overall_and_no_head_of_line_blocking() -> None:
    t = FakeTime()
    lim = limiter(t)
    chats = [str(n) for n in range(300)]
    log = await sends(lim, t, chats)
    times = [at for at, _ in log]
    assert max_in_window(times, 1.0) <= 30
    assert times[-1] - times[0] == pytest.approx(299 / 30)  # and no slower than that


async def test_mixed_traffic_respects_every_limit() -> None:
    t = FakeTime()
    lim = limiter(t)
    rng = random.Random(7)  # noqa: S311 - a reproducible traffic mix, not a secret
    chats = [rng.choice(["1", "2", "3", "-10", "-20"] + [str(n) for n in range(100, 140)])
             for _ in range(400)]
    log = await sends(lim, t, chats)
    by_chat: dict[str, list[float]] = defaultdict(list)
    for at, chat in log:
        by_chat[chat].append(at)
    assert max_in_window([at for at, _ in log], 1.0) <= 30
    for chat, times in by_chat.items():
        if is_group(chat):
            assert max_in_window(times, 60.0) <= 20, chat
        else:
            assert max_in_window(times, 1.0) <= 1, chat


async def test_pause_after_429_holds_the_chat_and_everyone() -> None:
    t = FakeTime()
    lim = limiter(t)
    await lim.acquire("5")
    start = t.now
    lim.pause(4.0, "5")
    await lim.acquire("6")
    assert t.now == pytest.approx(start + 4.0)  # overall pause
    await lim.acquire("5")
    assert t.now >= start + 4.0


async def test_idle_chats_are_forgotten() -> None:
    t = FakeTime()
    lim = RateLimiter(1000, 1, 20, clock=t, sleep=t.sleep, prune_above=50)
    for n in range(2000):
        await lim.acquire(str(n))
        t.now += 0.01
    assert lim.tracked_chats <= 250  # only the last ~second of chats is still binding


async def test_concurrent_callers_never_share_a_chat_slot() -> None:
    # Real time, scaled up: 10/s per chat, 100/s overall, 6 tasks hammering 3 chats.
    lim = RateLimiter(100, 10, 600)
    stamps: dict[str, list[float]] = defaultdict(list)

    async def worker(chat: str) -> None:
        for _ in range(4):
            await lim.acquire(chat)
            # The slot the limiter booked (what the send's timing rests on), not when
            # this task happened to run again: on a loaded machine that comes late by
            # tens of milliseconds, and a late stamp then an on-time one looks too close.
            stamps[chat].append(lim._chats[chat] - lim.interval(chat))
            assert time.monotonic() >= stamps[chat][-1] - 0.005  # not sent before its slot

    await asyncio.gather(*(worker(c) for c in ["a", "a", "b", "b", "c", "c"]))
    for times in stamps.values():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.1 - 0.01, gaps
    everything = sorted(t for ts in stamps.values() for t in ts)
    assert max_in_window(everything, 0.1) <= 10 + 1
