"""This process's heartbeats and Prometheus metrics: one `Telemetry` per running bot.

`/healthz` (`bot.health`) asks whether the loops that move messages are alive: each
one beats (`beat`) as it goes round — every channel loop of the outbox sender, the
scheduler's tick — and each channel notes its last Bot API call that succeeded
(`called`). `/metrics` exposes the counters the runtime keeps here.

The metrics live in a registry of this object, not prometheus_client's global one:
tests run many bots in one interpreter, and each must start from zero; a process runs
one bot, so per object is per process where it matters. Heartbeats use the monotonic
clock: the business clock (`Services.clock`) is moved by tests and the demo.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reporting.messages import Incoming
from reporting.services import Services

__all__ = ["Metrics", "Telemetry", "kind_of", "of", "recorder"]

# Seconds from an update's arrival to its reply being out: a reply should take well
# under a second; a chat queued behind a slow one, or a database hiccup, takes longer.
REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class Call:
    """A channel's last successful Bot API call."""

    at: datetime  # wall time, for people reading /healthz
    mono: float  # monotonic, for its age


class Metrics:
    """The Prometheus metrics of one bot, in a registry of their own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = r = CollectorRegistry()
        self.updates = Counter("thidua_updates_handled", "Updates handled from the inbox",
                               ["channel", "kind", "result"], registry=r)
        self.reply_seconds = Histogram(
            "thidua_reply_latency_seconds",
            "From an update's arrival in the inbox to its reply delivered",
            ["channel"], buckets=REPLY_BUCKETS, registry=r)
        self.sends = Counter("thidua_outbox_sends", "Outbox rows the sender finished trying",
                             ["channel", "result"], registry=r)
        self.rate_limited = Counter("thidua_rate_limited",
                                    "Sends refused with 429 (retry_after)", ["channel"],
                                    registry=r)
        self.job_runs = Counter("thidua_job_runs", "Scheduled job occurrences",
                                ["job", "result"], registry=r)
        self.errors_reported = Counter(
            "thidua_errors_reported", "Errors logged, by what became of their report",
            ["outcome"], registry=r)
        # Sampled from the database on each scrape (`bot.health.metrics`).
        self.outbox_depth = Gauge("thidua_outbox_messages", "Outbox rows by status",
                                  ["status"], registry=r)
        self.outbox_oldest = Gauge("thidua_outbox_oldest_waiting_seconds",
                                   "Age of the oldest outbox row not yet delivered",
                                   registry=r)
        self.database_up = Gauge("thidua_database_up", "1 if SELECT 1 answered in time",
                                 registry=r)
        self.heartbeat_age = Gauge("thidua_heartbeat_age_seconds",
                                   "Seconds since each running loop last went round",
                                   ["loop"], registry=r)


class Telemetry:
    """Heartbeats and metrics of one bot (see the module docstring)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._beats: dict[str, float] = {}
        self._calls: dict[str, Call] = {}
        self._metrics: Metrics | None = None
        # An error may be logged, and so counted, on a driver's thread.
        self._making = threading.Lock()

    @property
    def metrics(self) -> Metrics:
        """Made, and prometheus_client imported, at the first thing counted: `thidua run`
        polls before any is (its HTTP server, `/metrics`, loads once polling runs)."""
        if self._metrics is None:
            with self._making:
                if self._metrics is None:
                    self._metrics = Metrics()
        return self._metrics

    # -- heartbeats ---------------------------------------------------------------------

    def beat(self, loop: str) -> None:
        """`loop` went round (and so is running here): "sender:telegram", "scheduler"."""
        self._beats[loop] = self._now()

    def forget(self, loop: str) -> None:
        """`loop` stopped on purpose: no longer judged."""
        self._beats.pop(loop, None)

    def ages(self, prefix: str = "") -> dict[str, float]:
        """Seconds since each running loop (whose name starts with `prefix`) beat."""
        now = self._now()
        return {name: now - at for name, at in self._beats.items() if name.startswith(prefix)}

    def called(self, channel: str) -> None:
        """A Bot API call on `channel` succeeded just now."""
        self._calls[channel] = Call(datetime.now(UTC), self._now())

    def calls(self) -> dict[str, tuple[datetime, float]]:
        """Per channel: when its last successful call was, and how many seconds ago."""
        now = self._now()
        return {name: (c.at, now - c.mono) for name, c in self._calls.items()}

    # -- events -------------------------------------------------------------------------

    def handled(self, channel: str, kind: str, result: str,
                latency: timedelta | None = None) -> None:
        self.metrics.updates.labels(channel, kind, result).inc()
        if latency is not None:
            seconds = max(0.0, latency.total_seconds())
            self.metrics.reply_seconds.labels(channel).observe(seconds)

    def sent(self, channel: str, result: str) -> None:
        self.metrics.sends.labels(channel, result).inc()

    def throttled(self, channel: str) -> None:
        self.metrics.rate_limited.labels(channel).inc()

    def job_ran(self, job: str, result: str) -> None:
        self.metrics.job_runs.labels(job, result).inc()

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        ages = self.metrics.heartbeat_age
        ages.clear()  # a loop stopped on purpose leaves no stale series
        for name, age in self.ages().items():
            ages.labels(name).set(age)
        return generate_latest(self.metrics.registry)


def of(services: Services) -> Telemetry:
    """The bot's telemetry, made on first use (tests and the demo need not set it up)."""
    found = services.telemetry
    if not isinstance(found, Telemetry):
        found = Telemetry()
        services.telemetry = found
    return found


def recorder(services: Services, channel: str) -> Callable[[], None]:
    """What a channel calls after each successful Bot API call."""
    telemetry = of(services)
    return lambda: telemetry.called(channel)


def kind_of(inc: Incoming) -> str:
    """A few fixed kinds, never the text itself: a label's values must stay few."""
    if inc.edited:
        return "edited"
    if inc.callback is not None:
        return "button"
    if inc.command is not None:
        return "command"
    if inc.photos:
        return "photo"
    return "text"
