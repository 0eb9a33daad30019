"""Errors the bot logs reach a person: an admin chat through the outbox, and Sentry.

The rules-bot pattern (an error handler that logs, then tells an admin chat), applied
to every ERROR record of the process rather than to handler exceptions only: a sender
that cannot write its results or a scheduled job that fails matter as much as a chat.

Rate limit: at most one message per *kind* (the logger and the exception type, or
the log line's template) per `health.error_every_minutes`; the ones held back are
counted and named in the next message of that kind. The limit is this process's
memory: two instances may each report the same kind once. A report is a row in the
outbox, so it obeys the channel's limits and survives a restart; when the database
itself is the error, the row cannot be written, the report is dropped (one warning
line) and the log and Sentry still have it.

Sentry (`SENTRY_DSN`) is optional: sentry-sdk comes with the `sentry` extra; set
without it, start-up says so in one warning line and goes on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.redact import redact
from bot.telemetry import of
from models.outbox_ops import enqueue, enqueue_to_members
from models.outbox_stats import admin_ids
from reporting.messages import payload
from reporting.runtime_config import COUNCIL_CHAT_CHANNEL
from reporting.services import Services

log = logging.getLogger(__name__)
KIND = "error_report"  # outbox.kind of the reports
MAX_MESSAGE = 600  # characters of the log line and the exception: enough to act on


def error_kind(record: logging.LogRecord) -> str:
    """Where and what: `bot.delivery: OperationalError`, or the line's template."""
    if record.exc_info and record.exc_info[0] is not None:
        what = record.exc_info[0].__name__
    else:
        what = str(record.msg)
    return f"{record.name}: {what}"[:120]


def summary(record: logging.LogRecord) -> str:
    """The log line and the exception's last line, redacted (the record factory has
    already cleaned the message; an exception's text is cleaned here)."""
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text += f"\n{type(exc).__name__}: {exc}"
    text = redact(text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


class ErrorReporter(logging.Handler):
    """A logging handler that queues a report per error kind, rate-limited."""

    def __init__(self, services: Services, loop: asyncio.AbstractEventLoop, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(level=logging.ERROR)
        self._services = services
        self._loop = loop
        self._now = monotonic
        self._every = services.settings.health.error_every_minutes * 60
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}  # kind → reports held back since the last one
        self.tasks: set[asyncio.Task[None]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == __name__:
            return  # our own trouble: reporting it would loop
        try:
            kind = error_kind(record)
            now = self._now()
            last = self._last.get(kind)
            outcomes = of(self._services).metrics.errors_reported
            if last is not None and now - last < self._every:
                self._held[kind] = self._held.get(kind, 0) + 1
                outcomes.labels("held_back").inc()
                return
            self._last[kind] = now
            skipped = self._held.pop(kind, 0)
            text = summary(record)
            # emit() may run on another thread (a driver's); the outbox is the loop's.
            self._loop.call_soon_threadsafe(self._start, kind, text, skipped)
        except RuntimeError:
            pass  # the loop has closed: the process is stopping
        except Exception:
            self.handleError(record)

    def _start(self, kind: str, text: str, skipped: int) -> None:
        task = self._loop.create_task(self.send(kind, text, skipped))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send(self, kind: str, text: str, skipped: int) -> None:
        """Queue the report to `health.error_chats`, else to every active admin."""
        services = self._services
        cfg = services.settings.health
        body = payload(services.t("error_report", services.settings.ward.language,
                                  kind=kind, message=text, skipped=skipped,
                                  minutes=cfg.error_every_minutes))
        now = services.clock()
        # Each report is news: a key of its own (the business clock may stand still).
        key = f"{KIND}:{hashlib.sha256(kind.encode()).hexdigest()[:16]}:{uuid.uuid4().hex}"
        outcomes = of(services).metrics.errors_reported
        try:
            async with services.sessions() as session, session.begin():
                if cfg.error_chats:
                    for chat in cfg.error_chats:
                        await enqueue(session, kind=KIND, dedupe_key=f"{key}:{chat}",
                                      channel=COUNCIL_CHAT_CHANNEL, chat_id=str(chat),
                                      body=body, now=now)
                else:
                    await enqueue_to_members(session, kind=KIND, key=key, body=body, now=now,
                                             member_ids=await admin_ids(session))
        except Exception as exc:
            outcomes.labels("failed").inc()
            log.warning("could not queue the report of an error (%s): %s",
                        type(exc).__name__, kind)
            return
        outcomes.labels("queued").inc()


@asynccontextmanager
async def reporting_errors(services: Services) -> AsyncIterator[ErrorReporter | None]:
    """Report the process's errors to the admins for the block (unless turned off)."""
    if services.settings.health.error_every_minutes <= 0:
        yield None
        return
    reporter = ErrorReporter(services, asyncio.get_running_loop())
    root = logging.getLogger()
    root.addHandler(reporter)
    try:
        yield reporter
    finally:
        root.removeHandler(reporter)
        if reporter.tasks:  # reports being written: a second to finish
            await asyncio.wait(list(reporter.tasks), timeout=1.0)


def start_sentry(dsn: str, *, environment: str | None = None) -> bool:
    """Send errors to Sentry too; False (and one warning) without sentry-sdk."""
    try:
        import sentry_sdk
    except ImportError:
        log.warning("SENTRY_DSN is set but sentry-sdk is not installed "
                    "(pip install 'thidua-bot[sentry]'): errors are not sent to Sentry")
        return False
    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False,
                    before_send=_scrubbed)
    return True


def _scrubbed(event: Any, _hint: Any) -> Any:
    """The event with every string redacted: tokens and invite codes stay here."""
    return _scrub(event)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value

