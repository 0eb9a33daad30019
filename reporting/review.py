"""The year's review (bình xét thi đua cuối năm): sign-up against achievement, a
ranking with its rule stated, and the lists the ward files.

Per group: the titles it signed up for (`models.Pledge`) against the titles it reached,
the households registered for "Gia đình văn hóa" against those recognised, months
reported on time, late and missing, the plan's targets its own figures met
(`reporting.yearly`), and its good deeds. A title is reached when the group's report
of the title month (`datasets.group_monthly.title_month`, December) — or, without one,
its latest submitted report of the year — answers "Đạt"; the households are read from
the same report.

The ranking's rule lives here (`rank_key`) and, in words, in `templates/doc_review.yaml`
(`review_rule`): the workbook and the Tờ trình print that sentence, so what the Council
reads is what was applied. Groups equal on every criterion share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.config import Settings
from reporting.periods import period_dates, recent_periods
from reporting.review_load import (
    ProposedDeed,
    has_reports,
    pledges,
    proposed_deeds,
    title_reports,
)
from reporting.yearly import LATE, MISSING, ON_TIME, year_summary

# The title proposed in list (a): "Tổ dân phố văn hóa" / "Bản văn hóa". The same code
# the plan's "tỷ lệ tổ, bản văn hóa" target counts (share_of_groups of it).
CULTURED_GROUP = "cultured_group"


@dataclass(frozen=True)
class GroupReview:
    code: str
    name: str
    position: int  # the group's place in the ward's list (config order)
    signed_up: bool
    pledged: tuple[str, ...]  # title codes the group signed up for
    achieved: tuple[str, ...]  # title codes (of `signup.titles`) answered "Đạt"
    households_registered: int | None  # for "Gia đình văn hóa"; None: not signed up
    households_achieved: int | None  # recognised, at the title report; None: no report
    title_report: str | None  # the period key titles were read from ("2022-12")
    on_time: int
    late: int
    missing: int
    targets_met: int
    targets_known: int
    deeds_submitted: int
    deeds_featured: int
    deeds_proposed: int
    rank: int = 0

    @property
    def pledged_achieved(self) -> tuple[str, ...]:
        return tuple(t for t in self.pledged if t in self.achieved)

    @property
    def kept_pledge(self) -> bool:
        """Signed up for at least one title and reached every one of them."""
        return bool(self.pledged) and len(self.pledged_achieved) == len(self.pledged)

    @property
    def deeds_recognised(self) -> int:
        """Good deeds the Council featured or proposed for commendation."""
        return self.deeds_featured + self.deeds_proposed


@dataclass(frozen=True)
class YearReview:
    ward: str
    year: int
    today: date
    final: bool  # December's period has locked: the figures no longer change
    months: int  # months counted: their period has locked (12 once the year is over)
    titles: dict[str, str]  # the sign-up's title codes → their labels, in config order
    targets_total: int  # the plan's targets a group's own figures can be measured on
    top_groups: int  # `review.top_groups`
    groups: list[GroupReview]  # in ranking order
    deeds: list[ProposedDeed]  # (c) good deeds proposed for commendation

    @property
    def cultured(self) -> list[GroupReview]:
        """(a) Groups proposed for "Tổ dân phố văn hóa" / "Bản văn hóa": they signed up
        for it and reached it."""
        return [g for g in self.groups_in_order
                if CULTURED_GROUP in g.pledged and CULTURED_GROUP in g.achieved]

    @property
    def leaders(self) -> list[GroupReview]:
        """(c) Collectives proposed from the top of the ranking: ranked within
        `top_groups` (a tie at the edge takes all who share it) and kept their pledge."""
        return [g for g in self.groups if g.rank <= self.top_groups and g.kept_pledge]

    @property
    def groups_in_order(self) -> list[GroupReview]:
        """The groups in the ward's own order (for lists that are not a ranking)."""
        return sorted(self.groups, key=lambda g: g.position)

    @property
    def signed_up(self) -> int:
        return sum(g.signed_up for g in self.groups)

    def households(self) -> tuple[int, int]:
        """(registered, recognised) households over every group."""
        return (sum(g.households_registered or 0 for g in self.groups),
                sum(g.households_achieved or 0 for g in self.groups))

    def households_of_signed(self) -> tuple[int, int]:
        """(registered, recognised) over the groups that registered households: the
        pair a rate of "recognised per registered" is fair on."""
        signed = [g for g in self.groups if g.households_registered]
        return (sum(g.households_registered or 0 for g in signed),
                sum(g.households_achieved or 0 for g in signed))


def rank_key(g: GroupReview) -> tuple[int, int, int, int]:
    """The ranking rule (said in words by `review_rule`): a group that kept its
    sign-up — reached every title it registered — comes first; then more months
    reported on time; then more of the plan's targets met by its own figures; then more
    good deeds the Council featured or proposed for commendation."""
    return (0 if g.kept_pledge else 1, -g.on_time, -g.targets_met, -g.deeds_recognised)


def ranked(groups: list[GroupReview]) -> list[GroupReview]:
    """Groups in ranking order (config order among equals), each with its rank; equal
    keys share a rank and the next rank skips (1, 2, 2, 4)."""
    out: list[GroupReview] = []
    for n, g in enumerate(sorted(groups, key=rank_key), start=1):
        same = out and rank_key(out[-1]) == rank_key(g)
        out.append(replace(g, rank=out[-1].rank if same else n))
    return out


def _count(value: str | None) -> int | None:
    try:
        number = Decimal(value) if value is not None else None
    except InvalidOperation:
        return None
    return int(number) if number is not None and number.is_finite() else None


def is_final(settings: Settings, year: int, today: date) -> bool:
    return today >= period_dates(settings.calendar, year, 12).locks_on


async def year_review(session: AsyncSession, settings: Settings, year: int,
                      today: date) -> YearReview:
    """The review of `year` as the data stands on `today` (tạm tính until December's
    period locks)."""
    summary = await year_summary(session, settings, year, today)
    titles = list(settings.signup.titles)
    households = settings.signup.households_indicator
    signed = await pledges(session, year)
    read = await title_reports(session, settings, year, [*titles, households])
    groups = []
    for n, y in enumerate(summary.groups):
        pledge, report = signed.get(y.code), read.get(y.code)
        values = report.values if report else {}
        groups.append(GroupReview(
            code=y.code, name=y.name, position=n, signed_up=pledge is not None,
            pledged=tuple(t for t in titles if pledge and t in pledge.titles),
            achieved=tuple(t for t in titles if values.get(t) == "yes"),
            households_registered=pledge.households if pledge else None,
            households_achieved=_count(values.get(households)),
            title_report=report.period_key if report else None,
            on_time=y.count(ON_TIME), late=y.count(LATE), missing=y.count(MISSING),
            targets_met=y.targets_met, targets_known=y.targets_known,
            deeds_submitted=y.deeds_submitted, deeds_featured=y.deeds_featured,
            deeds_proposed=y.deeds_proposed))
    by_code = {i.code: i for i in settings.report.indicators}
    labels = {t: by_code[t].short_label("vi") if t in by_code else t for t in titles}
    return YearReview(ward=settings.ward.name, year=year, today=today,
                      final=is_final(settings, year, today),
                      months=len(summary.counted_months), titles=labels,
                      targets_total=len(summary.targets),
                      top_groups=settings.review.top_groups, groups=ranked(groups),
                      deeds=await proposed_deeds(session, settings, year))


def reporting_year(settings: Settings, today: date) -> int:
    """The year of the latest month whose reporting window has opened: in the first
    days of January that is still last year (December is being reported)."""
    return next(p for p in recent_periods(settings.calendar, today)
                if p.opens_on <= today).year


async def default_year(session: AsyncSession, settings: Settings, today: date) -> int:
    """The year `/binhxet` reviews when none is named: the last year whose December has
    locked, if the ward has a plan or reports for it; else the year being reported,
    so far (tạm tính) — a ward in its first year of the bot has no finished year."""
    last = today.year - 1 if is_final(settings, today.year - 1, today) else today.year - 2
    if settings.plan(last) is not None or await has_reports(session, last):
        return last
    return reporting_year(settings, today)
