"""A thin typed client of the Zalo Bot API over httpx (no third-party Zalo library).

Why not `python-zalo-bot`: it is a 0.1.x fork of python-telegram-bot whose webhook
helpers are synchronous and fail inside a running event loop, which is all we run in.

Every call is `POST <base><token>/<method>` with a JSON body; every answer is
`{ok: true, result}` or `{ok: false, error_code, description}`, which becomes a
`ZaloError`. `getUpdates` is special: it returns ONE update (not a list), and
`error_code` 408 means "nothing arrived during the wait" — `get_update` returns None.
The URL holds the token: callers keep httpx's request logs quiet (`quiet_http_logs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from bot.redact import protect

DEFAULT_API = "https://bot-api.zapps.me/bot"
NO_UPDATE = 408


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


class ZaloError(Exception):
    """The API answered `ok: false` (or an HTTP error without a readable body).

    `code` is Zalo's `error_code` (often the HTTP status), `status` the HTTP status.
    """

    def __init__(self, code: int, description: str, status: int = 200,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.retry_after = retry_after  # seconds, when a 429 says how long to wait


class ZaloApi:
    """One bot's calls; an async context manager owning its httpx client."""

    def __init__(self, token: str, base_url: str | None = None, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_success: Callable[[], None] | None = None) -> None:
        protect(token)
        # Called after each call Zalo answered (the bot-level health registry's
        # `called`): an answer, even "nothing arrived", shows Zalo is there.
        self._on_success = on_success
        self._url = f"{(base_url or DEFAULT_API).rstrip('/')}{token}/"
        self._timeout = timeout
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def __aenter__(self) -> ZaloApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, body: dict[str, Any] | None = None,
                   wait: float | None = None) -> Any:
        """One API call (`wait`: its own timeout) → its `result`.

        `ZaloError` for a refusal or an answer that is not JSON (a proxy's 502 page);
        httpx's network errors as they are.
        """
        response = await self._http.post(self._url + method, json=body or {},
                                         timeout=wait or self._timeout)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # Not httpx's raise_for_status: its message holds the URL, and so the token.
            status = response.status_code
            raise ZaloError(status, f"HTTP {status}, the answer is not JSON", status)
        code = data.get("error_code")
        if (data.get("ok") is True or code == NO_UPDATE) and self._on_success is not None:
            self._on_success()
        if data.get("ok") is True:
            return data.get("result")
        params = data.get("parameters")
        wait = params.get("retry_after") if isinstance(params, dict) else None
        raise ZaloError(code if isinstance(code, int) else response.status_code,
                        str(data.get("description") or "no description"), response.status_code,
                        float(wait) if isinstance(wait, int | float) else None)

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_update(self, wait: int) -> dict[str, Any] | None:
        """Long-poll for one update; None when none came within `wait` seconds."""
        try:
            result = await self.call("getUpdates", {"timeout": str(wait)}, wait=wait + 10)
        except ZaloError as exc:
            if exc.code == NO_UPDATE:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}

    async def send_message(self, chat_id: str, text: str) -> str:
        """Send a text (1–2,000 characters); the new message's id."""
        return _message_id(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> str:
        body: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            body["caption"] = caption
        return _message_id(await self.call("sendPhoto", body))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _message_id(result: Any) -> str:
    if isinstance(result, dict) and result.get("message_id") is not None:
        return str(result["message_id"])
    return ""
