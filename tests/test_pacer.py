"""The sender's pacer (`bot.limits.RateLimiter`) on a virtual clock, with many callers at
once: the token bucket at `allowance_fraction` of the limit holds over every window,
callers arriving in jittered bursts never push a second over the limit, and a 429
pauses only what it concerns, for its `retry_after` and no longer."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable, Callable

import pytest

from bot.limits import RateLimiter, SendBook
from tests.test_limits import max_in_window as most_in

LIMIT, FRACTION = 30.0, 0.95
RATE = LIMIT * FRACTION  # 28.5 sends a second


class VirtualTime:
    """A clock that only moves when every task is asleep: then to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), woken))
        await woken

    async def run(self, jobs: list[Awaitable[None]]) -> None:
        tasks = [asyncio.ensure_future(job) for job in jobs]
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every runnable task get to its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                when, _, woken = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                woken.set_result(None)
        for task in tasks:
            task.result()  # an assertion inside a job fails the test


def pacer(t: VirtualTime, burst: float = 1.0, book: SendBook | None = None) -> RateLimiter:
    return RateLimiter(LIMIT, 1, 20, fraction=FRACTION, burst=burst, clock=t, sleep=t.sleep,
                       book=book)


def sender(lim: RateLimiter, t: VirtualTime, chat: str, sent: list[float],
           wait: float = 0.0, send_takes: float = 0.02) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        if wait > 0:
            await t.sleep(wait)
        await lim.acquire(chat)
        sent.append(t.now)
        await t.sleep(send_takes)  # the API call
        lim.done(chat)
    return send


async def test_the_fraction_holds_over_any_window() -> None:
    t = VirtualTime()
    lim = pacer(t)
    sent: list[float] = []
    # 1,000 recipients, all waiting at once (a broadcast claimed in one go).
    await t.run([sender(lim, t, str(n), sent)() for n in range(1000)])
    assert len(sent) == 1000
    for window in (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0):
        assert most_in(sent, window) <= 1 + RATE * window + 1e-9, window
    # …and no slower than that: the whole allowance fraction is used.
    assert max(sent) - min(sent) == pytest.approx(999 / RATE)
    assert most_in(sent, 1.0) == 29  # one short of the limit: the margin for jitter


@pytest.mark.parametrize("burst", [1.0, 5.0])
async def test_bursts_of_jittered_callers_never_exceed_the_limit(burst: float) -> None:
    t = VirtualTime()
    lim = pacer(t, burst)
    rng = random.Random(14)  # noqa: S311 - reproducible arrivals, not a secret
    sent: list[float] = []
    jobs = []
    chat = itertools.count(1)
    # Bursts of 5–80 callers, each caller jittered by up to 50 ms, with idle gaps of
    # up to 3 s between bursts (the bucket refills while idle: only up to `burst`).
    at = 0.0
    for _ in range(40):
        at += rng.uniform(0.0, 3.0)
        for _ in range(rng.randint(5, 80)):
            jobs.append(sender(lim, t, str(next(chat)), sent,
                               wait=at + rng.uniform(0.0, 0.05) + 1e-6,
                               send_takes=rng.uniform(0.005, 0.3))())
    await t.run(jobs)
    assert len(sent) == len(jobs)
    # Never the limit in any second: one message of margin for network jitter.
    assert most_in(sent, 1.0) <= LIMIT - 1
    for window in (0.2, 1.0, 3.0, 10.0):
        assert most_in(sent, window) <= burst + RATE * window + 1e-9, window


@pytest.mark.parametrize("burst", [1.0, 5.0])
async def test_a_held_up_sender_catches_up_within_the_burst(burst: float) -> None:
    t = VirtualTime()
    lim = pacer(t, burst)
    sent: list[float] = []

    async def stalling() -> None:
        for n in range(600):
            if n % 60 == 30:
                t.now += 0.1  # the event loop was busy elsewhere for 100 ms
            await lim.acquire(str(n))
            sent.append(t.now)
            lim.done(str(n))

    await t.run([stalling()])
    took = max(sent) - min(sent)
    if burst == 1.0:  # evenly spaced: each stall's 100 ms, less the slot it had, lost
        assert took == pytest.approx(599 / RATE + 10 * (0.1 - 1 / RATE))
    else:  # a burst of 5 (four slots, 140 ms) makes each up: no slower than even
        assert 599 / RATE - 4 / RATE <= took <= 599 / RATE
    assert most_in(sent, 1.0) <= LIMIT - 1
    for window in (0.5, 1.0, 5.0, 20.0):
        assert most_in(sent, window) <= burst + RATE * window + 1e-9, window


async def test_a_chats_own_429_does_not_pause_other_chats() -> None:
    t = VirtualTime()
    book = SendBook(t)  # what this process sent, replies included
    lim = pacer(t, book=book)
    got: dict[str, float] = {}

    async def story() -> None:
        await lim.acquire("A")  # the outbox's send to A leaves…
        await t.sleep(0.01)
        book.note("A")  # …a reply to A goes out meanwhile…
        await t.sleep(0.01)
        flooded = t.now
        lim.pause(7.0, "A")  # …and the outbox's send gets 429, retry after 7
        lim.done("A")
        await lim.acquire("B")
        got["B"] = t.now - flooded
        await lim.acquire("A")
        got["A"] = t.now - flooded

    await t.run([story()])
    assert got["B"] < 0.1  # the other chat goes on at once
    assert got["A"] == pytest.approx(7.0)  # the flooded chat waits its retry_after
    assert lim.paused_all == 0


async def test_a_reply_just_sent_holds_the_outbox_back_from_that_chat() -> None:
    t = VirtualTime()
    book = SendBook(t)
    lim = pacer(t, book=book)
    got: dict[str, float] = {}

    async def story() -> None:
        book.note("A")  # the bot answered A a moment ago
        start = t.now
        await lim.acquire("B")
        got["B"] = t.now - start
        await lim.acquire("A")
        got["A"] = t.now - start

    await t.run([story()])
    assert got["B"] == 0.0 and got["A"] == pytest.approx(1.0)


async def test_an_overall_429_pauses_every_chat_for_retry_after_only() -> None:
    t = VirtualTime()
    lim = pacer(t)
    sent: dict[str, float] = {}

    async def story() -> None:
        await lim.acquire("A")  # A's first message: no chat limit can be the cause
        flooded = t.now
        lim.pause(3.0, "A")
        lim.done("A")
        others = [sender(lim, t, c, [], send_takes=0.01)() for c in ("B", "C", "D")]

        async def timed(chat: str, job: Awaitable[None]) -> None:
            await job
            sent[chat] = t.now - flooded

        await asyncio.gather(*(timed(c, j) for c, j in zip("BCD", others, strict=True)))

    await t.run([story()])
    assert lim.paused_all == 1
    # Nobody before the pause ends; then at the usual pace, no later.
    assert min(sent.values()) == pytest.approx(3.0 + 0.01)
    assert max(sent.values()) == pytest.approx(3.0 + 2 / RATE + 0.01)


def test_a_fraction_or_burst_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="fraction"):
        RateLimiter(30, 1, 20, fraction=1.2)
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(30, 1, 20, burst=0.5)
