"""/vanban (/document): the report on a month, a quarter, six months or the year, as a
Word document for the Council and admins to edit, sign and file.

`/vanban 2022-H1`, `/vanban quý II/2022`, `/vanban 6 tháng đầu năm 2022`, `/vanban năm
2022` (`reporting.span_words.read_span`); without a period, the last locked month, whose
figures no longer change. Like /xuat it shows every group's figures, so the router lets
it answer only in private chats and the Council's chats (`COUNCIL_READ`).
"""

from __future__ import annotations

from datetime import date

from handlers.context import Ctx
from handlers.council import allowed
from reporting.messages import Attachment, Outgoing, Reply
from reporting.periods import last_closed
from reporting.span_words import month_span, read_span
from reporting.spans import Span


def _span(ctx: Ctx) -> Span | None:
    text = " ".join(ctx.inc.args)
    if text:
        try:
            return read_span(text, ctx.today)
        except ValueError:
            return None
    last = last_closed(ctx.app.settings.calendar, ctx.today)
    if last is None:  # recent_periods always holds a locked one; kept for safety
        return None
    return month_span(last.year, last.month)


async def report(ctx: Ctx) -> Reply:
    if not allowed(ctx):
        return Reply().add(ctx.t("council_only"))
    span = _span(ctx)
    if span is None:
        return Reply().add(ctx.t("document_bad_period", text=" ".join(ctx.inc.args)))
    if date(span.year, span.first, 1) > ctx.today:
        return Reply().add(ctx.t("document_not_started", period=span.key))
    from reporting.doc_report import report_document, report_file_name, span_phrase

    data = await report_document(ctx.session, ctx.app.settings, span, ctx.today)
    doc = Attachment("document", data, report_file_name(span),
                     ctx.t("document_caption", period=span_phrase(span), code=span.key))
    return Reply(messages=[Outgoing("", attachments=[doc])])
