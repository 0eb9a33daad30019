"""The dispatcher's bookkeeping (`bot.inbox`): replies as stored on their rows, and the
replies delivered but not yet noted as such in the table."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from reporting.messages import Attachment, Outgoing, Reply


def reply_json(reply: Reply) -> dict[str, Any]:
    """A reply as stored on its inbox row. Unlike an outbox row it may carry bytes (an
    export made for this request), kept as base64 until the row is pruned."""
    messages = []
    for out in reply.messages:
        body = replace(out, attachments=[]).to_payload()
        body["attachments"] = [
            {"kind": a.kind, "filename": a.filename, "caption": a.caption,
             "file_id": a.file_id, "media": a.media,
             "data": base64.b64encode(a.data).decode() if a.data else None}
            for a in out.attachments]
        messages.append(body)
    return {"messages": messages, "toast": reply.toast}


def reply_from_json(body: dict[str, Any]) -> Reply:
    messages = []
    for item in body.get("messages") or []:
        out = Outgoing.from_payload({k: v for k, v in item.items() if k != "attachments"})
        out.attachments = [
            Attachment(a["kind"], base64.b64decode(a["data"]) if a.get("data") else b"",
                       a.get("filename") or "", a.get("caption"), a.get("file_id"),
                       a.get("media"))
            for a in item.get("attachments") or []]
        messages.append(out)
    return Reply(messages, toast=body.get("toast"))


class Unnoted:
    """Rows whose reply was delivered, not yet noted as such (`replied_at`).

    They are still open in the table, so a claim or an order check must pass over them
    (`of`); a transaction that notes some takes them (`take`) so that no other notes
    the same rows at once (two UPDATEs locking one row in turn), and `settle`s them
    once its commit is known.
    """

    def __init__(self) -> None:
        self._rows: dict[int, tuple[str, float]] = {}  # row id → (chat, loop time sent)
        self._noting: set[int] = set()  # taken by a transaction in flight

    def __bool__(self) -> bool:
        return bool(self._rows)

    def add(self, row_id: int, chat: str, at: float) -> None:
        self._rows[row_id] = (chat, at)

    def of(self, chat: str) -> list[int]:
        return [i for i, (c, _) in self._rows.items() if c == chat]

    def take(self, before: float | None = None) -> list[int]:
        """Rows (delivered before loop time `before`) no other transaction is noting."""
        taken = [i for i, (_, at) in self._rows.items()
                 if i not in self._noting and (before is None or at < before)]
        self._noting.update(taken)
        return taken

    def settle(self, taken: list[int], noted: bool) -> None:
        self._noting.difference_update(taken)
        if noted:
            for i in taken:
                self._rows.pop(i, None)
