"""The admin's broadcast progress message, edited as the sender works — by the outbox.

The progress message is itself an outbox row (sent first). Once it has a message id,
each batch the sender finishes for that broadcast may queue an *edit* of it: another
outbox row (`Outgoing.edit`), so edits are paced with every other send and no module
here talks to a messenger. At most one edit every `delivery.progress_every_seconds`,
and always one at the end, when the message becomes the delivery report naming who did
not receive the broadcast and why. A channel that cannot edit gets only the final
report, as a new message.

Edits are keyed by what they show (sent/failed/waiting), so a repeated batch queues
nothing new; a newer edit deletes older ones still pending, so a slow intermediate
edit cannot land after the final report and undo it. (One already in flight still
can, by a fraction of a second — the per-chat pacing puts a second between them.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlalchemy import delete, select

from bot.channels.base import ChannelLimits
from models import Broadcast, Member, OutboxMessage, OutboxStatus
from models.outbox_claim import Recipient, delivery_status
from models.outbox_ops import enqueue
from reporting.messages import Outgoing
from reporting.services import Services

log = logging.getLogger(__name__)
EDIT_KIND = "progress_edit"


def reason_code(r: Recipient) -> str:
    error = (r.error or "").lower()
    if "blocked" in error or "deactivated" in error or "forbidden" in error:
        return "blocked"
    if "chat not found" in error:
        return "not_found"
    return "rejected" if r.permanent else "gave_up"


SHOWN_FAILURES = 30  # beyond this, "and N more": the report must fit one message


def channel_counts(by_channel: Mapping[str, Mapping[str, int]]) -> list[dict[str, object]]:
    """Per messenger: sent, failed and waiting rows (for a report over several)."""
    return [{"channel": channel,
             "sent": counts.get(OutboxStatus.SENT.value, 0),
             "failed": counts.get(OutboxStatus.FAILED.value, 0),
             "pending": counts.get(OutboxStatus.PENDING.value, 0)
             + counts.get(OutboxStatus.SENDING.value, 0)}
            for channel, counts in sorted(by_channel.items())]


def progress_text(app: Services, lang: str, total: int, sent: int, failed: int,
                  waiting: int, failures: list[Recipient],
                  by_channel: Mapping[str, Mapping[str, int]] | None = None) -> str:
    shown = failures[:SHOWN_FAILURES]
    # One messenger needs no breakdown: the totals say it all.
    channels = channel_counts(by_channel) if by_channel and len(by_channel) > 1 else []
    return app.t("broadcast_progress", lang, sent=sent, failed=failed, pending=waiting,
                 total=total, done=waiting == 0, more_failures=max(failed - len(shown), 0),
                 channels=channels, failures=[
                     {"name": f.member_name or f.chat_id,
                      "channel": f.channel if channels else None,
                      "reason": app.t("delivery_reason", lang, code=reason_code(f),
                                      attempts=f.attempts, channel=f.channel)}
                     for f in shown])


class BroadcastProgress:
    """`Sender.on_batch` hook: queue an edit of each touched broadcast's progress."""

    def __init__(self, services: Services, limits: Mapping[str, ChannelLimits],
                 wake: Callable[[], None] | None = None) -> None:
        self._services = services
        self._limits = limits
        self._wake = wake  # the sender's nudge: an edit queued is worth sending now

    async def __call__(self, broadcast_ids: set[int]) -> None:
        queued = False
        for bid in sorted(broadcast_ids):
            try:
                queued = await self.update(bid) or queued
            except Exception:  # progress is a courtesy; delivery must go on
                log.exception("could not update the progress of broadcast %s", bid)
        if queued and self._wake is not None:
            self._wake()

    async def sweep(self) -> None:
        """Finish reports no batch will come back to (the progress message went out
        after the last recipient's)."""
        async with self._services.sessions() as session:
            ids = set(await session.scalars(
                select(Broadcast.id).where(Broadcast.status == "queued")))
        await self(ids)

    async def update(self, broadcast_id: int) -> bool:
        """Queue the edit this broadcast's progress needs now; True if one was queued."""
        app = self._services
        every = timedelta(seconds=app.settings.delivery.progress_every_seconds)
        async with app.sessions() as session, session.begin():
            b = await session.get(Broadcast, broadcast_id)
            if b is None or b.status != "queued":
                return False
            progress = await session.scalar(select(OutboxMessage).where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.kind == "broadcast_progress"))
            if progress is not None and progress.status == OutboxStatus.FAILED:
                b.status = "done"  # the admin's chat cannot be reached: nothing to edit
                return False
            if (progress is None or progress.status != OutboxStatus.SENT
                    or progress.message_id is None):
                return False
            st = await delivery_status(session, broadcast_id=broadcast_id, kind="broadcast")
            now = app.clock()
            if not st.done and b.progress_at is not None and now - b.progress_at < every:
                return False
            limits = self._limits.get(progress.channel)
            can_edit = limits is not None and limits.edits
            if not st.done and not can_edit:
                return False  # a channel without edits gets only the final report
            admin = await session.get(Member, b.created_by)
            lang = admin.language if admin else app.settings.ward.language
            text = progress_text(app, lang, st.total, st.sent, st.failed, st.waiting,
                                 st.failures, st.by_channel)
            # Only the final report is worth a new message if the edit is refused.
            out = Outgoing(text, edit=progress.message_id if can_edit else None,
                           resend=st.done)
            # Older edits not sent yet would only show an earlier state: drop them.
            await session.execute(delete(OutboxMessage).where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.kind == EDIT_KIND,
                OutboxMessage.status == OutboxStatus.PENDING))
            added = await enqueue(
                session, kind=EDIT_KIND,
                dedupe_key=f"broadcast:{broadcast_id}:edit:{st.sent}:{st.failed}:{st.waiting}",
                channel=progress.channel, chat_id=progress.chat_id, body=out.to_payload(),
                now=now, member_id=progress.member_id, broadcast_id=broadcast_id)
            b.progress_at = now
            if st.done:
                b.status = "done"
            return added
