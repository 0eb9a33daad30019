"""When a month's reporting window opens, is due and locks (config.yaml `calendar:`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from reporting.config_base import Loc, Problems, Strict


class Calendar(Strict):
    """When a month's window opens, is due and locks.

    A period is the reported month M. Its window opens on `open_day` of M, is due on
    `due_day` of M+1 and locks `lock_after_days` after the due date, at the latest on
    the day M+1's window opens, so that only one period is open at a time.
    """

    open_day: int = Field(default=25, ge=1, le=28)
    due_day: int = Field(default=5, ge=1, le=28)
    lock_after_days: int = Field(default=5, ge=0, le=60)
    reminder_offsets: list[int] = Field(default_factory=lambda: [-2, 0, 2])

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        problems: list[tuple[Loc, str]] = [
            # On the lock day itself the period is closed, so such a reminder is useless.
            (("reminder_offsets", n), f"reminder offset {off} falls on or after the lock "
                                      f"(lock_after_days = {self.lock_after_days})")
            for n, off in enumerate(self.reminder_offsets)
            if off >= self.lock_after_days
        ]
        # Month M locks on (due_day of M+1) + lock_after_days; M+1 opens on open_day of
        # M+1. Locking later would leave two periods open at once (locking on the day
        # the next opens is fine: a period is closed on its lock day).
        if self.due_day + self.lock_after_days > self.open_day:
            problems.append((("lock_after_days",),
                             f"the period would still be open when the next one opens on "
                             f"day {self.open_day} (due_day {self.due_day} + "
                             f"lock_after_days {self.lock_after_days} > open_day "
                             f"{self.open_day})"))
        if problems:
            raise Problems(problems)
        return self
