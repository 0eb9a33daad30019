"""Reading parameters the way the fake Zalo Bot API accepts them.

Zalo's documentation shows JSON bodies (``POST`` with ``application/json``); query
strings and form bodies are accepted too. Values are checked strictly: ids are strings
(Zalo's ids are opaque strings, a JSON number is refused), unknown parameters are
refused so a bot cannot believe Zalo honours ``parse_mode`` or ``reply_markup``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .errors import bad_request


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query, form or JSON parameters in one dict."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
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
                raise bad_request(f"file upload is not supported ({key}): send a URL")
            params[key] = value if isinstance(value, str) else bytes(value).decode()
    return params


def check_known(params: dict[str, Any], allowed: frozenset[str]) -> None:
    """Refuse parameters the method does not take."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise bad_request(f"unsupported parameter {unknown[0]!r}")


def get_str(params: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string parameter; 400 if required and missing, or not a string."""
    value = params.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value


def get_timeout(params: dict[str, Any], default: float) -> float:
    """``getUpdates``'s ``timeout`` in seconds (documented as a string, numbers accepted)."""
    value = params.get("timeout")
    if value is None:
        return default
    if isinstance(value, bool):
        raise bad_request("timeout must be a number of seconds")
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("timeout must be a number of seconds") from exc
    if not 0 <= seconds <= 60:
        raise bad_request("timeout must be between 0 and 60 seconds")
    return seconds
