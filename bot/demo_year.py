"""A whole reporting year seeded as rows: for the demo's documents and for tests.

Every configured group reports twelve months (a few late, a few missing), the ward
office enters its figures, most groups sign up in January, and good deeds arrive
through the year, some featured in the bulletin and some proposed for commendation.
The figures are drawn from a generator seeded with the year, so a seeded year is the
same on every run and a test can check a document's numbers against the digest's.
Reports that already exist (the demo's own story) are left as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DeedStatus,
    GoodDeed,
    Group,
    Member,
    Pledge,
    Report,
    ReportStatus,
    ReportValue,
    Role,
)
from models.queries import ensure_period, sync_groups
from reporting.config import Settings
from reporting.periods import period_dates
from reporting.targets import number

LEADERS = ["Nguyễn Thị Lan", "Trần Văn Hùng", "Lò Văn Pắng", "Cầm Thị Xuân", "Hoàng Văn Minh",
           "Phạm Thị Hoa", "Vũ Văn Long", "Đỗ Thị Hằng", "Quàng Văn Dương", "Lường Thị Mai",
           "Bùi Văn Tâm", "Ngô Thị Thu", "Tòng Văn Hải", "Lò Thị Ánh", "Điêu Văn Sơn"]
NOTES = ["Đề nghị phường sửa đèn chiếu sáng ngõ 3.", "Rãnh thoát nước đầu tổ bị tắc, đề nghị "
         "nạo vét trước mùa mưa.", "Đề nghị hỗ trợ kinh phí sinh hoạt văn hóa tại nhà văn hóa."]
DEEDS = [("Bà Lò Thị Xuân", "Nhặt được ví có 5 triệu đồng, trả lại cho người đánh rơi."),
         ("Ông Nguyễn Văn Bình", "Hiến 50 m² đất mở rộng ngõ 7."),
         ("Chi hội Phụ nữ Tổ 9", "Vận động 12 hộ phân loại rác tại nguồn."),
         ("Anh Cầm Văn Tú", "Kịp thời dập tắt đám cháy nhỏ tại nhà hàng xóm."),
         ("Em Lường Thị Hà", "Đạt giải Nhì học sinh giỏi cấp tỉnh, giúp bạn học yếu."),
         ("Ông Tòng Văn Piếng", "Hòa giải thành một vụ tranh chấp đất đai giữa hai hộ."),
         ("Chị Quàng Thị Lả", "Nấu cơm miễn phí cho bệnh nhân nghèo tại bệnh viện tỉnh."),
         ("Ông Hoàng Văn Thắng", "Tự bỏ kinh phí lắp 20 bóng đèn chiếu sáng ngõ 12."),
         ("Đoàn viên thanh niên Bản 2", "Phát quang, dọn vệ sinh 2 km đường nội bản."),
         ("Bà Điêu Thị Nhung", "Vận động 5 hộ tham gia Bảo hiểm y tế hộ gia đình."),
         ("Anh Vũ Văn Quân", "Phát hiện, báo Công an phường một đối tượng trộm cắp xe máy."),
         ("Cháu Phạm Minh Khôi", "Trả lại điện thoại nhặt được cho người đánh rơi."),
         ("Ông Lò Văn Ún", "Hướng dẫn bà con nộp hồ sơ dịch vụ công trực tuyến."),
         ("Chị Bùi Thị Hương", "Sáng kiến ghi chép sổ theo dõi hộ nghèo gọn, dễ tra cứu.")]
MISSING = {1: (8,), 3: (2, 11)}  # group index → months never submitted
LATE = {0: (6,), 4: (3, 9), 7: (12,)}  # group index → months submitted after the due date
UNSIGNED = (5,)  # group indexes that do not sign up


@dataclass(frozen=True)
class SeededYear:
    year: int
    reports: int  # group reports written (existing ones are left)
    pledges: int
    deeds: int


def _utc(settings: Settings, day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), settings.ward.tz).astimezone(UTC)


def _group_values(rng: random.Random, households: int, month: int, n: int) -> dict[str, str]:
    residents = int(households * rng.uniform(3.4, 3.9))
    under_6 = int(residents * rng.uniform(0.07, 0.09))
    values = {
        "households": str(households),
        "cultured_families": str(int(households * rng.uniform(0.95, 1.0))),
        "residents": str(residents),
        "health_insured": str(int(residents * rng.uniform(0.93, 0.995))),
        "internet_users": str(int(residents * rng.uniform(0.96, 0.995))),
        "children_under_5": str(int(under_6 * 0.85)),
        "children_under_6": str(under_6),
        "safe_area": "yes" if n % 7 else "no",
        "drug_free": "yes" if n % 5 != 4 else "no",
        "cultured_group": "yes" if n % 8 != 6 else "no",
        "sanitation": "good" if rng.random() < 0.7 else "fair",
    }
    if (n + month) % 9 == 0:
        values["notes"] = NOTES[(n + month) % len(NOTES)]
    return values


def _ward_values(rng: random.Random, month: int) -> dict[str, str]:
    values = {"production_value": f"{Decimal(rng.uniform(96, 104)):.1f}",
              "budget_revenue": f"{Decimal(rng.uniform(820, 880)):.1f}",
              "alleys_asphalted": str(1 if month % 2 else 0),
              "bright_green_roads": str(1 if month in (6, 11) else 0)}
    if month in (6, 12):
        values |= {"malnutrition_rate": "0.03", "vaccination_rate": "98.6",
                   "nursery_enrolment": "67", "kindergarten_enrolment": "100",
                   "school_enrolment": "100", "promotion_rate": "99.2"}
    return values


async def _report(session: AsyncSession, settings: Settings, group_id: int | None,
                  year: int, month: int, values: dict[str, str], member_id: int | None,
                  late: bool) -> bool:
    p = period_dates(settings.calendar, year, month)
    period = await ensure_period(session, *p.row)
    dataset = "group_monthly" if group_id is not None else "ward_progress"
    owner = Report.group_id.is_(None) if group_id is None else Report.group_id == group_id
    if await session.scalar(select(Report.id).where(
            owner, Report.period_id == period.id, Report.dataset == dataset)) is not None:
        return False
    at = _utc(settings, p.due_on + timedelta(days=2) if late else p.due_on - timedelta(days=3))
    report = Report(group_id=group_id, period_id=period.id, dataset=dataset,
                    status=ReportStatus.SUBMITTED, late=late, started_by=member_id,
                    submitted_by=member_id, submitted_at=at, created_at=at, updated_at=at)
    session.add(report)
    await session.flush()
    session.add_all([ReportValue(report_id=report.id, indicator=code, value=value,
                                 number=number(value), updated_at=at)
                     for code, value in values.items()])
    return True


async def _leaders(session: AsyncSession, groups: list[Group], now: datetime) -> dict[int, int]:
    """group id → a leader's member id (the group's own, or one made for the year)."""
    found = {m.group_id: m.id for m in await session.scalars(
        select(Member).where(Member.role == Role.LEADER, Member.active.is_(True)))}
    for n, g in enumerate(groups):
        if g.id not in found:
            member = Member(display_name=LEADERS[n % len(LEADERS)], role=Role.LEADER,
                            group_id=g.id, created_at=now)
            session.add(member)
            await session.flush()
            found[g.id] = member.id
    return {gid: mid for gid, mid in found.items() if gid is not None}


async def seed_year(session: AsyncSession, settings: Settings, year: int) -> SeededYear:
    """Seed `year` in the caller's transaction; what exists already is kept."""
    rng = random.Random(year)  # noqa: S311 - demo figures, repeatable on purpose
    await sync_groups(session, settings.group_pairs, settings.group_history)
    groups = list((await session.scalars(
        select(Group).where(Group.active.is_(True)).order_by(Group.id))).all())
    leaders = await _leaders(session, groups, _utc(settings, date(year, 1, 2)))
    written = pledged = deeds = 0
    for n, g in enumerate(groups):
        households = rng.randrange(80, 200)
        for month in range(1, 13):
            values = _group_values(rng, households, month, n)
            if month in MISSING.get(n, ()):
                continue
            written += await _report(session, settings, g.id, year, month, values,
                                     leaders[g.id], month in LATE.get(n, ()))
        if n not in UNSIGNED and await session.scalar(select(Pledge.id).where(
                Pledge.group_id == g.id, Pledge.year == year)) is None:
            at = _utc(settings, date(year, 1, 10 + n % 15))
            titles = [t for i, t in enumerate(settings.signup.titles) if (n + i) % 6]
            session.add(Pledge(group_id=g.id, year=year, titles=titles,
                               households=int(households * 0.97), registered_by=leaders[g.id],
                               registered_at=at, updated_at=at))
            pledged += 1
    for month in range(1, 13):
        await _report(session, settings, None, year, month, _ward_values(rng, month), None,
                      False)
    categories = [c.code for c in settings.good_deeds.categories]
    statuses = [DeedStatus.FEATURED, DeedStatus.PROPOSED, DeedStatus.NEW, DeedStatus.FEATURED]
    for k in range(14):
        g = groups[(k * 4) % len(groups)]
        subject, story = DEEDS[k % len(DEEDS)]
        day = date(year, 1 + k % 12, 3 + (k * 5) % 24)
        at = _utc(settings, day, 15)
        status = statuses[k % len(statuses)]
        session.add(GoodDeed(
            group_id=g.id, reported_by=leaders[g.id], subject_kind="person",
            subject_name=subject, description=story, happened_on=day - timedelta(days=1),
            category=categories[k % len(categories)], status=status, created_at=at,
            submitted_at=at, reviewed_at=None if status is DeedStatus.NEW else at))
        deeds += 1
    await session.flush()
    return SeededYear(year, written, pledged, deeds)
