"""The one error type of the fake Zalo Bot API, and the error codes it answers with.

Zalo documents the envelope (``{"ok": false, "error_code": ..., "description": ...}``) and
a few codes (408 "no update" from ``getUpdates``); for the rest it publishes nothing, so
the fake uses HTTP-like codes with descriptions a client can log. The HTTP status of the
response equals ``error_code``: a client must read the JSON body whatever the status.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = 401
"""Wrong or malformed token."""
BAD_REQUEST = 400
"""A parameter is missing or invalid (text too long, photo URL not reachable, ...)."""
CHAT_NOT_FOUND = 400
"""``chat_id`` names no chat the bot knows: description ``Bad Request: chat not found``."""
BLOCKED = 403
"""The user blocked the bot (or cannot be reached): the client should mark them unreachable."""
NOT_FOUND = 404
"""Unknown method."""
NO_UPDATE = 408
"""``getUpdates``: nothing arrived within ``timeout`` (documented by Zalo)."""
CONFLICT = 409
"""``getUpdates`` while a webhook is set, or superseded by a newer poll."""
TOO_MANY_REQUESTS = 429
"""A send limit was exceeded (Zalo publishes no limits; this is the fake's own)."""

_TEXTS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: the user has blocked the bot",
    404: "Not Found",
    408: "Request Timeout: no update",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def default_description(code: int) -> str:
    """A plausible description for an injected error code."""
    return _TEXTS.get(code, "Internal Server Error" if code >= 500 else "Error")


class ZaloError(Exception):
    """A call failed; turned into Zalo's error envelope at one place in the server."""

    def __init__(self, code: int, description: str | None = None) -> None:
        text = description or default_description(code)
        super().__init__(text)
        self.code = code
        self.description = text

    def payload(self) -> dict[str, Any]:
        """The JSON body of the error answer."""
        return {"ok": False, "error_code": self.code, "description": self.description}


def bad_request(detail: str) -> ZaloError:
    """``400 Bad Request: <detail>``."""
    return ZaloError(BAD_REQUEST, f"Bad Request: {detail}")
