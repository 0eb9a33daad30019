"""The one exception type the fake Bot API uses internally.

Every validation failure inside the fake is raised as :class:`ApiError` and turned into the
exact JSON envelope Telegram sends (``{"ok": false, "error_code": ..., "description": ...}``)
at a single place in the HTTP layer.  Keeping the HTTP status and the Bot API description
together means python-telegram-bot maps our failures to the same exception classes it maps
real ones to (``BadRequest`` for 400, ``Forbidden`` for 403, ``RetryAfter`` for 429, ...).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API call failed the way Telegram would fail it."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram returns for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Shorthand for Telegram's most common failure, ``400 Bad Request: <detail>``."""
    return ApiError(400, f"Bad Request: {detail}")
