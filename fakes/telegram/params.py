"""Reading Bot API parameters the way Telegram's server does.

Clients encode parameters in three ways and Telegram accepts all of them: a query string,
a form body (urlencoded or multipart) and a JSON body.  python-telegram-bot 22 always posts
forms in which *every* non-string value is JSON-encoded (``chat_id=42``, ``reply_markup=
{"inline_keyboard": ...}``, ``disable_notification=true``), and switches to multipart when a
file is attached.  So values arrive either already typed (JSON body) or as strings holding
JSON, and the helpers below accept both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request

# Parameters whose value is a JSON object/array even when it arrives inside a form.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "media",
    }
)


@dataclass
class Upload:
    """A file sent as a multipart part."""

    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        """What a recorded event shows instead of the raw bytes."""
        return {"upload": self.filename, "size": len(self.data)}


async def read_params(request: web.Request) -> dict[str, Any]:
    """Collect query, form, multipart or JSON parameters into one dict.

    JSON-in-form values for :data:`JSON_PARAMS` are decoded here, once, so method handlers
    and recorded events see real dicts and lists.
    """
    params: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON request body") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            params.update(body)
        else:
            try:
                form = await request.post()
            except ValueError as exc:
                raise bad_request(f"can't parse request body: {exc}") from exc
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, bytes | bytearray):
                    params[key] = bytes(value).decode("utf-8", errors="replace")
                else:
                    params[key] = value
    for key in JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                what = "reply keyboard markup" if key == "reply_markup" else key
                raise bad_request(f"can't parse {what} JSON object") from exc
    return params


def get_str(params: dict[str, Any], key: str) -> str | None:
    """A string parameter; numbers sent in JSON bodies are accepted as Telegram does."""
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise bad_request(f"parameter \"{key}\" must be a string")


def get_int(params: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    """An integer parameter (``"42"`` from forms, ``42`` from JSON)."""
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise bad_request(f"parameter \"{key}\" is required")
        return None
    if isinstance(value, bool):
        raise bad_request(f"parameter \"{key}\" must be an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise bad_request(f"parameter \"{key}\" must be an integer") from exc


def get_float(params: dict[str, Any], key: str, default: float) -> float:
    """A number parameter such as getUpdates' ``timeout`` (PTB may send fractions)."""
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"parameter \"{key}\" must be a number") from exc


def get_bool(params: dict[str, Any], key: str) -> bool:
    """A boolean flag; Telegram accepts ``true``/``false`` and ``1``/``0``."""
    value = params.get(key)
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"true", "1"}


def get_chat_id(params: dict[str, Any]) -> int:
    """``chat_id`` as an int; ``@username`` or junk can never name a private chat here."""
    value = params.get("chat_id")
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise ApiError(400, "Bad Request: chat not found") from exc
