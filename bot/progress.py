"""The admin's broadcast progress message, edited as the sender works.

The progress message is itself an outbox row (sent first); once it has a message id,
each batch the sender finishes for that broadcast may edit it — at most once every
`delivery.progress_every_seconds`, and always at the end, when it becomes the delivery
report naming who did not receive the message and why.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from models import Broadcast, Member, OutboxMessage, OutboxStatus
from models.outbox_claim import Recipient, delivery_status
from reporting.services import Services

log = logging.getLogger(__name__)


def reason_code(r: Recipient) -> str:
    error = (r.error or "").lower()
    if "blocked" in error or "deactivated" in error or "forbidden" in error:
        return "blocked"
    if "chat not found" in error:
        return "not_found"
    return "rejected" if r.permanent else "gave_up"


SHOWN_FAILURES = 30  # beyond this, "and N more": the report must fit one message


def progress_text(app: Services, lang: str, total: int, sent: int, failed: int,
                  waiting: int, failures: list[Recipient]) -> str:
    shown = failures[:SHOWN_FAILURES]
    return app.t("broadcast_progress", lang, sent=sent, failed=failed, pending=waiting,
                 total=total, done=waiting == 0, more_failures=max(failed - len(shown), 0),
                 failures=[{"name": f.member_name or f.chat_id,
                            "reason": app.t("delivery_reason", lang, code=reason_code(f),
                                            attempts=f.attempts)}
                           for f in shown])


class BroadcastProgress:
    """`Sender.on_batch` hook for Telegram: edit each touched broadcast's progress."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot

    async def __call__(self, broadcast_ids: set[int]) -> None:
        for bid in sorted(broadcast_ids):
            try:
                await self.update(bid)
            except Exception:  # progress is a courtesy; delivery must go on
                log.exception("could not update the progress of broadcast %s", bid)

    async def sweep(self) -> None:
        """Retry every unfinished report (an edit that failed has no next batch)."""
        async with self._services.sessions() as session:
            ids = set(await session.scalars(
                select(Broadcast.id).where(Broadcast.status == "queued")))
        await self(ids)

    async def update(self, broadcast_id: int) -> None:
        app = self._services
        every = timedelta(seconds=app.settings.delivery.progress_every_seconds)
        async with app.sessions() as session, session.begin():
            b = await session.get(Broadcast, broadcast_id)
            if b is None or b.status != "queued":
                return
            progress = await session.scalar(select(OutboxMessage).where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.kind == "broadcast_progress"))
            if progress is not None and progress.status == OutboxStatus.FAILED:
                b.status = "done"  # the admin's chat cannot be reached: nothing to edit
                return
            if (progress is None or progress.status != OutboxStatus.SENT
                    or progress.message_id is None or progress.channel != "telegram"):
                return
            st = await delivery_status(session, broadcast_id=broadcast_id, kind="broadcast")
            now = app.clock()
            if not st.done and b.progress_at is not None and now - b.progress_at < every:
                return
            admin = await session.get(Member, b.created_by)
            lang = admin.language if admin else app.settings.ward.language
            text = progress_text(app, lang, st.total, st.sent, st.failed, st.waiting,
                                 st.failures)
            try:
                await self._bot.edit_message_text(text, chat_id=progress.chat_id,
                                                  message_id=int(progress.message_id),
                                                  parse_mode=ParseMode.HTML)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    log.warning("progress edit refused: %s", exc)
                    return
            except TelegramError as exc:
                log.info("progress edit failed, will try with the next batch: %s", exc)
                return
            b.progress_at = now
            if st.done:
                b.status = "done"
