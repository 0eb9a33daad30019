"""Periods, reports, their values and the audit trail of corrections."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, partial_index


class ReportStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Period(Base):
    """A reported month. Dates are the ward's local calendar days."""

    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(7), unique=True)  # "2022-03"
    opens_on: Mapped[date]
    due_on: Mapped[date]
    locks_on: Mapped[date]
    # An admin may reopen a locked period until this local date (inclusive).
    reopened_until: Mapped[date | None]


class Report(Base):
    """One owner's report of one dataset for one period: a group's, or the ward's own.

    The unique constraint cannot hold the ward's report (group_id NULL: NULLs never
    collide), so a partial unique index does. `version` counts changes to the answers:
    several editors share one draft, and a summary is submitted only at the version it
    showed (`handlers.report_submit`).
    """

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("group_id", "period_id", "dataset"),
        partial_index("uq_reports_ward_period", "period_id", "dataset", unique=True,
                      where="group_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(32), default="group_monthly")
    status: Mapped[ReportStatus] = mapped_column(String(16), default=ReportStatus.DRAFT)
    late: Mapped[bool] = mapped_column(default=False)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=0, server_default="0")


class ReportValue(Base):
    """One answer. `value` is the canonical text; `number` mirrors it for aggregation."""

    __tablename__ = "report_values"
    __table_args__ = (
        UniqueConstraint("report_id", "indicator"),
        # The values a soft check asked about: a few among a month's thousands, which the
        # digest lists without reading the rest (`reporting.digest_load.group_reports`).
        partial_index("ix_report_values_flagged", "report_id",
                      where="soft_check IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)  # None: skipped
    number: Mapped[Decimal | None] = mapped_column(Numeric(24, 6))
    # A soft check asked about this value (`reporting.soft_checks`): "asked", then
    # "confirmed" once the leader says it is right; None: nothing to look at.
    soft_check: Mapped[str | None] = mapped_column(String(16))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    updated_at: Mapped[datetime]
    # The report's version this value was last changed at: what an editor has not seen.
    version: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditEntry(Base):
    """A change to an answer given before: who, when, old, new.

    `reason` is "correction" for a submitted report's value (the Council counts those),
    "draft" for a draft's answer changed (a second editor's, or one's own second thought).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    indicator: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(200))
    # What an admin wrote when correcting a figure directly (`/suaso`): the reason
    # the Council reads next to the change.
    note: Mapped[str | None] = mapped_column(Text, default=None)
