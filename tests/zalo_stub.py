"""A small in-process stand-in for the Zalo Bot API (httpx.MockTransport), as strict
as the documented shapes: one update per getUpdates (408 when none), texts of 1–2,000
characters, photos by URL only, a webhook secret of 8–256 characters, unknown chats
refused. Used by the Zalo channel's tests until they run against fakes/zalo.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "1234567890:zalo-secret-abcdef"
BASE = "https://zalo.test/bot"
PHOTO_HOST = "https://photos.zalo.test/"


@dataclass
class Sent:
    method: str
    chat_id: str
    text: str | None = None
    photo: str | None = None


@dataclass
class ZaloStub:
    token: str = TOKEN
    updates: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    sent: list[Sent] = field(default_factory=list)
    chats: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    fail_next: list[tuple[int, str]] = field(default_factory=list)  # (code, description)
    photos: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # url → (type, data)
    webhook: dict[str, str] | None = None
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    wait: float = 0.05  # the long poll's wait, shortened for tests

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def message(self, user: str, text: str | None = None, *, photo: str | None = None,
                name: str = "", group: bool = False, event: str | None = None) -> dict[str, Any]:
        self.chats.add(user)
        body: dict[str, Any] = {
            "from": {"id": user, "display_name": name or user, "is_bot": False},
            "chat": {"id": user, "chat_type": "GROUP" if group else "PRIVATE"},
            "message_id": f"m{next(self._ids)}", "date": 1648951200000}
        if photo is not None:
            body["photo_url"] = photo
            if text:
                body["caption"] = text
            kind = "message.image.received"
        else:
            body["text"] = text
            kind = "message.text.received"
        return {"event_name": event or kind, "message": body}

    def texts(self, chat_id: str) -> list[str]:
        return [s.text or "" for s in self.sent if s.chat_id == chat_id]

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(PHOTO_HOST):
            kind, data = self.photos.get(url, ("text/html", b"not found"))
            return httpx.Response(200, content=data, headers={"content-type": kind})
        prefix = f"{BASE}{self.token}/"
        if not url.startswith(prefix):
            return _error(401, "Unauthorized")
        method = url[len(prefix):]
        self.calls.append(method)
        body = json.loads(request.content or b"{}")
        if self.fail_next and method.startswith("send"):
            code, text = self.fail_next.pop(0)
            return _error(code, text)
        if method == "getMe":
            return _ok({"id": "1234567890", "account_name": "thidua_bot"})
        if method in ("deleteWebhook", "getWebhookInfo"):
            if method == "deleteWebhook":
                self.webhook = None
            return _ok(self.webhook or {"url": ""})
        if method == "setWebhook":
            if not 8 <= len(body.get("secret_token") or "") <= 256 or not body.get("url"):
                return _error(400, "Bad Request: secret_token must be 8-256 characters")
            self.webhook = {"url": body["url"], "secret_token": body["secret_token"]}
            return _ok({"url": body["url"]})
        if method == "getUpdates":
            if self.webhook:
                return _error(409, "Conflict: webhook is set")
            try:
                update = await asyncio.wait_for(self.updates.get(), self.wait)
            except TimeoutError:
                return _error(408, "Request Timeout: no update")
            return _ok(update)
        if method in ("sendMessage", "sendPhoto", "sendChatAction"):
            chat = str(body.get("chat_id") or "")
            if chat in self.blocked:
                return _error(403, "Forbidden: the user has blocked the bot")
            if chat not in self.chats:
                return _error(400, "Bad Request: chat not found")
            if method == "sendMessage":
                text = body.get("text")
                if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                    return _error(400, "Bad Request: text must be 1-2000 characters")
                self.sent.append(Sent(method, chat, text=text))
            elif method == "sendPhoto":
                photo = body.get("photo")
                if not isinstance(photo, str) or not photo.startswith("https://"):
                    return _error(400, "Bad Request: photo must be a URL")
                self.sent.append(Sent(method, chat, text=body.get("caption"), photo=photo))
            return _ok({"message_id": f"b{next(self._ids)}", "date": 1648951200000})
        return _error(404, "Not Found")


def _ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


def _error(code: int, description: str) -> httpx.Response:
    return httpx.Response(code, json={"ok": False, "error_code": code,
                                      "description": description})
