"""Small, reusable database operations shared by handlers, CLI and jobs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from models.base import dialect_insert
from models.conversation import Conversation
from models.group_history import GroupHistory, GroupVersion, apply_groups
from models.members import Group, Identity, Member
from models.reports import AuditEntry, Period, Report, ReportStatus, ReportValue


async def sync_groups(session: AsyncSession, groups: Iterable[tuple[str, str]],
                      history: GroupHistory | None = None) -> None:
    """Mirror config's groups (code, name) into the database: add new ones, rename,
    retire missing; with `history` (config's `group_changes:`, see
    `models.group_history`), also the groups before each change and their lineage."""
    if history is None:
        history = GroupHistory([GroupVersion(code, name) for code, name in groups], [])
    await apply_groups(session, history.versions, history.edges)


async def who_is(session: AsyncSession, channel: str, external_id: str,
                 ) -> tuple[Member | None, Group | None, Conversation | None]:
    """The member behind a chat user, with their group and their conversation."""
    member, group, conv, _identity = await speaker(session, channel, external_id)
    return member, group, conv


async def speaker(session: AsyncSession, channel: str, external_id: str,
                  ) -> tuple[Member | None, Group | None, Conversation | None,
                             Identity | None]:
    """`who_is`, plus the identity they write from (its last use, its reach).

    Every event needs all of them, so a member's costs one query; a stranger's
    conversation (registering) is looked up on its own.
    """
    found = await speaker_and_draft(session, channel, external_id, draft_flow=None)
    return found[0], found[1], found[2], found[3]


async def speaker_and_draft(session: AsyncSession, channel: str, external_id: str,
                            draft_flow: str | None,
                            ) -> tuple[Member | None, Group | None, Conversation | None,
                                       Identity | None, Loaded | None]:
    """`speaker`, and, when their conversation is in `draft_flow` at a report
    (`data.report_id`), that report as `report_with_values` loads it: a typed answer
    costs one read for all it needs to know."""
    params = {"channel": channel, "external_id": external_id}
    if draft_flow is None:
        rows = (await session.execute(_speaker_query(False), params)).all()
    else:
        rows = (await session.execute(_speaker_query(True),
                                      params | {"draft_flow": draft_flow})).all()
    if not rows:
        conv = await get_conversation(session, channel, external_id)
        return None, None, conv, None, None
    first = rows[0]
    loaded = None
    if draft_flow is not None and first[4] is not None:
        loaded = _loaded(rows, 4)
    return first[0], first[1], first[2], first[3], loaded


@cache
def _speaker_query(with_draft: bool) -> Select[Any]:
    """Built once (bound parameters): building a query of six joins costs more than
    running it."""
    editor = aliased(Member)
    draft_cols: tuple[Any, ...] = ()
    if with_draft:
        draft_cols = (Report, Period, ReportValue.indicator, ReportValue.value,
                      ReportValue.version, ReportValue.updated_by, ReportValue.updated_at,
                      editor.display_name, editor.role, editor.address)
    query = (select(Member, Group, Conversation, Identity, *draft_cols)
             .join(Identity, Identity.member_id == Member.id)
             .outerjoin(Group, Group.id == Member.group_id)
             .outerjoin(Conversation, and_(Conversation.channel == Identity.channel,
                                           Conversation.external_id == Identity.external_id))
             .where(Identity.channel == bindparam("channel"),
                    Identity.external_id == bindparam("external_id"),
                    Member.active.is_(True)))
    if with_draft:
        query = (query.outerjoin(Report, and_(
                     Conversation.flow == bindparam("draft_flow"),
                     Report.id == Conversation.data["report_id"].as_integer()))
                 .outerjoin(Period, Period.id == Report.period_id)
                 .outerjoin(ReportValue, ReportValue.report_id == Report.id)
                 .outerjoin(editor, editor.id == ReportValue.updated_by))
    return query


# How fresh `Identity.last_used_at` is kept: writing it on every message would cost an
# UPDATE per typed answer; to the minute is enough to tell which messenger is in use.
LAST_USED_GRAIN = timedelta(minutes=1)


def note_use(identity: Identity, now: datetime) -> None:
    """The member wrote from this identity: it is reachable, and the latest in use."""
    if identity.unreachable:
        identity.unreachable = False
    if identity.last_used_at is None or now - identity.last_used_at >= LAST_USED_GRAIN:
        identity.last_used_at = now


async def group_by_code(session: AsyncSession, code: str) -> Group | None:
    return await session.scalar(select(Group).where(Group.code == code))


def _insert(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both databases."""
    return dialect_insert(session.get_bind().dialect.name)(model)


async def ensure_period(session: AsyncSession, key: str, opens_on: date, due_on: date,
                        locks_on: date) -> Period:
    """The period `key`, created if missing. Two instances opening the same new month at
    once both get the one row: the loser's insert does nothing and it reads the winner's."""
    row = await session.scalar(select(Period).where(Period.key == key))
    if row is None:
        await session.execute(_insert(session, Period).values(
            key=key, opens_on=opens_on, due_on=due_on, locks_on=locks_on,
        ).on_conflict_do_nothing())
        row = await session.scalar(select(Period).where(Period.key == key))
        assert row is not None
    return row


async def find_period(session: AsyncSession, key: str) -> Period | None:
    return await session.scalar(select(Period).where(Period.key == key))


async def find_report(session: AsyncSession, group_id: int | None, period_id: int,
                      dataset: str = "group_monthly") -> Report | None:
    """A group's report, or the ward's own (group_id None) for ward_progress."""
    owner = Report.group_id.is_(None) if group_id is None else Report.group_id == group_id
    return await session.scalar(
        select(Report).where(owner, Report.period_id == period_id, Report.dataset == dataset)
    )


async def open_report(session: AsyncSession, group_id: int | None, period_id: int,
                      dataset: str, member_id: int, now: datetime) -> Report:
    """The owner's report for the period, started as a draft if there is none.

    Two editors starting at once (two admins on the ward's figures, on two instances)
    must share one report: the insert does nothing on a conflict with the unique
    constraint or, for the ward (group_id NULL), the partial unique index, and the
    loser reads the row the winner made. On PostgreSQL the loser's insert waits for the
    winner's transaction, so the read that follows (READ COMMITTED) sees its row.
    """
    found = await find_report(session, group_id, period_id, dataset)
    if found is not None:
        return found
    await session.execute(_insert(session, Report).values(
        group_id=group_id, period_id=period_id, dataset=dataset, status=ReportStatus.DRAFT,
        late=False, started_by=member_id, created_at=now, updated_at=now, version=0,
    ).on_conflict_do_nothing())
    found = await find_report(session, group_id, period_id, dataset)
    assert found is not None, "a report inserted or found a moment ago"
    return found


async def report_values(session: AsyncSession, report_id: int) -> dict[str, str | None]:
    """A report's answers: indicator code → value (None: skipped)."""
    rows = await session.execute(select(ReportValue.indicator, ReportValue.value)
                                 .where(ReportValue.report_id == report_id))
    return {code: value for code, value in rows}


@dataclass(frozen=True)
class Edit:
    """Who last changed an answer, when, and at which version of the report."""

    version: int
    member_id: int | None
    name: str
    role: str
    address: str | None
    at: datetime


@dataclass
class Loaded:
    """A report, its period, its answers and who last changed each (one query)."""

    report: Report
    period: Period
    values: dict[str, str | None]
    edits: dict[str, Edit]


async def report_with_values(session: AsyncSession, report_id: int) -> Loaded | None:
    """A report, its period and its answers with their last editors, in one query (each
    answer costs one event, and an editor sharing the draft is shown the others' changes)."""
    rows = (await session.execute(
        select(Report, Period, ReportValue.indicator, ReportValue.value, ReportValue.version,
               ReportValue.updated_by, ReportValue.updated_at, Member.display_name,
               Member.role, Member.address)
        .join(Period, Period.id == Report.period_id)
        .outerjoin(ReportValue, ReportValue.report_id == Report.id)
        .outerjoin(Member, Member.id == ReportValue.updated_by)
        .where(Report.id == report_id)
        # Fresh attributes even for a report this session holds: re-read after a
        # submit found that another editor changed it.
        .execution_options(populate_existing=True)
    )).all()
    return _loaded(rows, 0) if rows else None


def _loaded(rows: Sequence[Any], at: int) -> Loaded:
    """`Loaded` from rows holding (Report, Period, indicator, value, version, updated_by,
    updated_at, editor's name, role, address) from column `at` on."""
    values: dict[str, str | None] = {}
    edits: dict[str, Edit] = {}
    for row in rows:
        code = row[at + 2]
        if code is None:
            continue
        values[code] = row[at + 3]
        edits[code] = Edit(row[at + 4], row[at + 5], row[at + 7] or "", str(row[at + 8] or ""),
                           row[at + 9], row[at + 6])
    return Loaded(rows[0][at], rows[0][at + 1], values, edits)


async def set_value(session: AsyncSession, report: Report, answers: dict[str, str | None],
                    indicator: str, value: str | None, number: Decimal | None,
                    member_id: int, now: datetime, audited: bool,
                    soft_check: str | None = None,
                    note: str | None = None) -> tuple[str | None, bool]:
    """Store one answer (one upsert) and note it in `answers`, the report's answers as
    loaded in this transaction. A change bumps the report's version (the value carries
    it) and, when an earlier answer is replaced, leaves an audit row: "correction" when
    the report is submitted (`audited`), "draft" otherwise, since a draft may be shared
    by several editors. `soft_check` marks a value a soft check asked about (a new
    answer clears it). `note` is an admin's stated reason for a direct correction,
    kept on the audit row.

    Returns (old value, whether it changed). `report.version` is the bumped version:
    when it is more than one above the loaded one, another editor changed the report
    in between (the UPDATE waited for their commit).
    """
    old = answers.get(indicator)
    changed = indicator not in answers or old != value
    fields: dict[str, Any] = {"value": value, "number": number, "soft_check": soft_check,
                              "updated_by": member_id, "updated_at": now}
    if changed:
        # One UPDATE both bumps and locks the report row: editors take turns on it.
        row = (await session.execute(_BUMP, {"b_id": report.id, "b_now": now})).one()
        version = row[0]
        # Submitted by another editor since this event loaded it: a correction now.
        audited = audited or row[1] == ReportStatus.SUBMITTED
        set_committed_value(report, "version", version)
        set_committed_value(report, "updated_at", now)
        fields["version"] = version
    else:
        report.updated_at = now
    fields |= {"report_id": report.id, "indicator": indicator}
    await session.execute(_upsert_value(session.get_bind().dialect.name, changed),
                          {f"b_{k}": v for k, v in fields.items()})
    if changed and (audited or indicator in answers):
        session.add(AuditEntry(report_id=report.id, indicator=indicator, old_value=old,
                               new_value=value, member_id=member_id, at=now,
                               reason="correction" if audited else "draft", note=note))
    answers[indicator] = value
    return old, changed


_reports = cast(Table, Report.__table__)
_BUMP = (update(_reports).where(_reports.c.id == bindparam("b_id"))
         .values(version=_reports.c.version + 1, updated_at=bindparam("b_now"))
         .returning(_reports.c.version, _reports.c.status))


@cache
def _upsert_value(dialect: str, changed: bool) -> Any:
    """One answer's INSERT … ON CONFLICT DO UPDATE, built once per shape: a changed
    answer carries the report's new version, an unchanged one keeps its own."""
    table = ReportValue.__table__
    cols = ["report_id", "indicator", "value", "number", "soft_check", "updated_by",
            "updated_at", *(["version"] if changed else [])]
    insert = dialect_insert(dialect)(table).values(
        {c: bindparam(f"b_{c}", type_=table.c[c].type) for c in cols})
    return insert.on_conflict_do_update(
        index_elements=[table.c.report_id, table.c.indicator],
        set_={c: insert.excluded[c] for c in cols[2:]})


async def submit_report(session: AsyncSession, report: Report, version: int, member_id: int,
                        now: datetime, late: bool) -> bool:
    """Submit the draft exactly as it was at `version` (the summary its submitter
    confirmed): a compare-and-set, so an answer another editor changed in the meantime,
    even one committing at this very moment, makes it False and nothing is submitted."""
    fields = {"status": ReportStatus.SUBMITTED, "submitted_at": now, "submitted_by": member_id,
              "late": late, "updated_at": now}
    done = await session.scalar(
        update(Report).where(Report.id == report.id, Report.version == version,
                             Report.status == ReportStatus.DRAFT)
        .values(**fields).returning(Report.id))
    if done is None:
        return False
    for key, value in fields.items():
        set_committed_value(report, key, value)
    return True


async def month_values(session: AsyncSession, report: Report,
                       period_key: str) -> dict[str, str | None]:
    """The owner's submitted answers for `period_key` (empty: none submitted), in one
    query: a soft check compares each new figure with last month's."""
    same_owner = Report.group_id.is_(None) if report.group_id is None \
        else Report.group_id == report.group_id
    rows = await session.execute(
        select(ReportValue.indicator, ReportValue.value)
        .join(Report, Report.id == ReportValue.report_id)
        .join(Period, Period.id == Report.period_id)
        .where(Period.key == period_key, same_owner, Report.dataset == report.dataset,
               Report.status == ReportStatus.SUBMITTED))
    return {code: value for code, value in rows}


async def mark_value(session: AsyncSession, report_id: int, indicator: str,
                     soft_check: str | None) -> None:
    """Set the soft-check mark of one stored answer (e.g. confirmed by the leader)."""
    await session.execute(update(ReportValue).where(
        ReportValue.report_id == report_id, ReportValue.indicator == indicator)
        .values(soft_check=soft_check))


async def get_conversation(session: AsyncSession, channel: str,
                           external_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel,
                                   Conversation.external_id == external_id)
    )


async def enter_conversation(session: AsyncSession, channel: str, external_id: str, *,
                             flow: str, step: str, data: dict[str, Any],
                             now: datetime) -> Conversation:
    """The user's conversation row, created at `flow`/`step` if there is none.

    Two first messages of one user handled at once (two instances, or a retried update
    beside the original) both reach here with no row: a plain INSERT would fail the
    loser on the (channel, external_id) constraint and show it the generic error. The
    loser's insert does nothing and it reads the winner's row (on PostgreSQL after
    waiting for the winner's commit); the caller then moves that row where it wants it.
    """
    await session.execute(_insert(session, Conversation).values(
        channel=channel, external_id=external_id, flow=flow, step=step, data=data,
        updated_at=now,
    ).on_conflict_do_nothing())
    found = await get_conversation(session, channel, external_id)
    assert found is not None, "a conversation inserted or found a moment ago"
    return found


async def last_submitted(session: AsyncSession, report: Report, before_key: str,
                         since_key: str) -> tuple[str, dict[str, str | None]] | None:
    """The owner's latest submitted report of this dataset for a month in
    [since_key, before_key): its period key and answers (None: there is none)."""
    same_owner = Report.group_id.is_(None) if report.group_id is None \
        else Report.group_id == report.group_id
    row = (await session.execute(
        select(Report.id, Period.key).join(Period, Period.id == Report.period_id)
        .where(same_owner, Report.dataset == report.dataset,
               Report.status == ReportStatus.SUBMITTED,
               Period.key < before_key, Period.key >= since_key)
        .order_by(Period.key.desc()).limit(1))).first()
    if row is None:
        return None
    return row[1], await report_values(session, row[0])
