"""/binhxet [năm] (/review): the year's review for the Council and admins.

A short message — how many groups signed up and kept their pledge, the top three of
the ranking, how many are on each list — and, as documents, the review's workbook and
the draft Tờ trình đề nghị khen thưởng (`reporting.review_docs`). Without a year: the
last year whose December has locked, else the year being reported so far ("tạm tính").
Which chats it answers in is the router's rule for the Council's reading commands.
"""

from __future__ import annotations

import re

from handlers.context import Ctx
from models.members import COUNCIL_ROLES
from reporting.messages import Attachment, Outgoing, Reply
from reporting.review import YearReview, default_year, reporting_year, year_review

_YEAR = re.compile(r"(?:n[aă]m\s*)?(\d{4})", re.IGNORECASE)
SHOWN = 3  # groups of the ranking named in the message


def _year(ctx: Ctx) -> int | None:
    """`/binhxet 2022` (or "năm 2022"); None for anything that is not a year the ward
    has begun reporting (a future year has nothing to review)."""
    m = _YEAR.fullmatch(" ".join(ctx.inc.args).strip())
    if m is None:
        return None
    year = int(m.group(1))
    latest = reporting_year(ctx.app.settings, ctx.today)
    return year if 2000 <= year <= latest else None


def _message(ctx: Ctx, review: YearReview) -> str:
    _, achieved = review.households()
    return ctx.t("binhxet_reply", year=review.year, final=review.final, today=review.today,
                 groups=len(review.groups), signed=review.signed_up,
                 kept=sum(g.kept_pledge for g in review.groups),
                 top=[(g.rank, g.name) for g in review.groups[:SHOWN]],
                 cultured=len(review.cultured), families=achieved,
                 collectives=len(review.leaders), deeds=len(review.deeds))


async def review(ctx: Ctx) -> Reply:
    if ctx.member is None or ctx.member.role not in COUNCIL_ROLES:
        return Reply().add(ctx.t("council_only"))
    settings = ctx.app.settings
    if ctx.inc.args:
        year = _year(ctx)
        if year is None:
            return Reply().add(ctx.t("binhxet_bad_year", text=" ".join(ctx.inc.args),
                                     latest=reporting_year(settings, ctx.today)))
    else:
        year = await default_year(ctx.session, settings, ctx.today)
    from reporting.review_docs import files_of  # openpyxl, python-docx: only when asked

    made = await year_review(ctx.session, settings, year, ctx.today)
    files = [Attachment("document", data, name)
             for name, data in files_of(settings, made, ctx.today)]
    return Reply(messages=[Outgoing(_message(ctx, made), attachments=files)])
