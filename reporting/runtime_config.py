"""How this installation runs: config.yaml's `bot`, `schedule` and `delivery` sections.

Kept apart from the ward's plan (`reporting.config`: ward, groups, calendar, datasets,
targets, good deeds) because they change for different reasons: the plan follows the
ward's resolution, these follow the server and the messenger's limits. The scheduler
and the runtime (`bot/`) read them; `reporting.config.Settings` still composes both, so
config.yaml and its error messages are one file with one set of keys.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from reporting.config_base import Strict

# The messenger `schedule.council_chats` belong to.
COUNCIL_CHAT_CHANNEL = "telegram"


class BotSettings(Strict):
    username: str | None = None  # for t.me invite links when no token is at hand
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    max_wrong_codes_per_hour: int = Field(default=5, ge=1, le=100)  # per user
    # Wrong codes from all users together in 10 minutes before registration by code
    # pauses: one guesser with many accounts is stopped too.
    max_wrong_codes_per_10_minutes: int = Field(default=30, ge=1, le=10000)
    # At start, how long to keep retrying a messenger that cannot be reached (1, 2, 4 s…).
    start_retry_seconds: float = Field(default=60, ge=0, le=3600)


_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class Schedule(Strict):
    """When the scheduled jobs run, in the ward's time zone."""

    period_open_time: Annotated[str, Field(pattern=_HHMM)] = "08:00"  # on calendar.open_day
    reminder_time: Annotated[str, Field(pattern=_HHMM)] = "08:30"  # on due + each offset
    lock_time: Annotated[str, Field(pattern=_HHMM)] = "00:05"  # on the lock day
    monthly_summary_time: Annotated[str, Field(pattern=_HHMM)] = "09:00"  # on the lock day
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: Annotated[str, Field(pattern=_HHMM)] = "07:30"
    # A run missed while the bot was down is still made this long afterwards.
    misfire_grace_minutes: int = Field(default=360, ge=1, le=7 * 24 * 60)
    # How often the scheduler asks the calendar what is due: a job runs at most this late.
    tick_seconds: float = Field(default=30, ge=1, le=3600)
    # Where the weekly digest goes: Telegram group chat ids; empty = each Council member.
    council_chats: list[int] = Field(default_factory=list)

    def is_council_chat(self, channel: str, chat_id: str) -> bool:
        """One of `council_chats` (they are Telegram chat ids, so only on Telegram)."""
        return channel == COUNCIL_CHAT_CHANNEL and chat_id in {str(c) for c in self.council_chats}

    @model_validator(mode="after")
    def _tick_within_grace(self) -> Schedule:
        # A job is run by the first tick after its time, and only within the grace: a
        # tick as long as the grace could step over the whole window.
        if self.tick_seconds * 2 > self.misfire_grace_minutes * 60:
            raise ValueError(f"tick_seconds ({self.tick_seconds:g}) must be at most half of "
                             f"misfire_grace_minutes ({self.misfire_grace_minutes}) in "
                             "seconds, or a job could be missed")
        return self


class ChannelPace(Strict):
    """One channel's sending pace where it differs from Telegram's (`delivery.zalo`)."""

    # Zalo publishes no rate limits: conservative defaults, raised once measured.
    overall_per_second: float = Field(default=10, gt=0, le=1000)
    private_per_second: float = Field(default=1, gt=0, le=100)
    group_per_minute: float = Field(default=20, gt=0, le=1000)


class Delivery(Strict):
    """The sender's own limits (Telegram: ~30 msg/s, 1/s per chat, 20/min per group)."""

    overall_per_second: float = Field(default=30, gt=0, le=1000)
    private_per_second: float = Field(default=1, gt=0, le=100)
    group_per_minute: float = Field(default=20, gt=0, le=1000)
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: float = Field(default=2, gt=0, le=3600)
    max_backoff_seconds: float = Field(default=600, gt=0, le=86400)
    sending_timeout_seconds: float = Field(default=120, gt=0, le=86400)
    progress_every_seconds: float = Field(default=5, gt=0, le=3600)
    zalo: ChannelPace = Field(default_factory=ChannelPace)
    # With several instances on PostgreSQL, the share of `overall_per_second` (per
    # channel) they take together from one allowance in the database: a little below
    # the limit, so that network jitter between booking a slot and Telegram counting
    # the message never adds up to more than the limit.
    allowance_fraction: float = Field(default=0.95, gt=0, le=1)

    def pace(self, channel: str) -> ChannelPace:
        """The limits the sender keeps on `channel` (the top-level ones: Telegram's)."""
        if channel == "zalo":
            return self.zalo
        return ChannelPace(overall_per_second=self.overall_per_second,
                           private_per_second=self.private_per_second,
                           group_per_minute=self.group_per_minute)


class Health(Strict):
    """What `/healthz` calls unhealthy (503), and how errors reach an admin (`bot.health`,
    `bot.error_reports`). A check that has nothing to judge in this process (no sender
    here, say) is shown and not judged."""

    # SELECT 1 slower than this counts as the database being down.
    database_timeout_seconds: float = Field(default=2, gt=0, le=60)
    # The sender's loops beat once per batch; a batch may take half of
    # delivery.sending_timeout_seconds, so at least that plus 30 s is allowed.
    sender_stale_seconds: float = Field(default=180, gt=0, le=86400)
    # The scheduler beats once a tick; at least three ticks (schedule.tick_seconds) are
    # allowed, whatever this says.
    scheduler_stale_seconds: float = Field(default=180, gt=0, le=86400)
    # The oldest message still waiting in the outbox (pending, or being sent): older than
    # this, messages are not getting out (the Bot API refuses them, or nobody sends).
    outbox_max_age_seconds: float = Field(default=900, gt=0, le=7 * 86400)
    # Errors logged by the bot go, as a message through the outbox, to these Telegram
    # chat ids (e.g. the ward IT staff's group); empty: to every admin's private chat.
    error_chats: list[int] = Field(default_factory=list)
    # At most one message per kind of error in this many minutes (the others are
    # counted and named in the next one); 0 turns the reports off.
    error_every_minutes: float = Field(default=10, ge=0, le=7 * 24 * 60)
