"""Replies and outbox rows out to Zalo: rendering paced, failures → `DeliveryError`.

Zalo publishes neither rate limits nor a list of error codes; what we know is the
envelope (`error_code`, `description`). Mapping, by what a retry can fix:
* 429 → `retry_after` (the answer's, else 5 s);
* 403, and "not found"/"blocked" descriptions → unreachable (the member is flagged);
* other 4xx (text too long, a bad photo URL…) → permanent;
* 5xx, timeouts, network errors → plain: retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.channels.base import DeliveryError, Pace
from bot.channels.zalo.client import ZaloApi, ZaloError
from bot.channels.zalo.render import (
    CHANNEL,
    Call,
    LinkMaker,
    Renderer,
    coalesce,
    flat,
    no_links,
    plain,
)
from bot.inbox import wall_clock
from bot.redact import redact
from models.channel_menus import save_menu
from reporting.messages import Incoming, Outgoing, Reply
from reporting.services import Services

log = logging.getLogger(__name__)

_UNREACHABLE = ("not found", "blocked", "not exist", "unfollow")
_PART_RETRIES = 3
DEFAULT_RETRY_AFTER = 5.0


def to_delivery_error(exc: ZaloError | httpx.HTTPError) -> DeliveryError:
    if isinstance(exc, httpx.HTTPError):  # network: the text is stored, so redacted
        return DeliveryError(f"{type(exc).__name__}: {redact(str(exc))}")
    text = f"Zalo {exc.code}: {exc.description}"
    if exc.code == 429:
        return DeliveryError(text, retry_after=exc.retry_after or DEFAULT_RETRY_AFTER)
    lower = exc.description.lower()
    if exc.code == 403 or (400 <= exc.code < 500 and any(s in lower for s in _UNREACHABLE)):
        return DeliveryError(text, unreachable=True)
    if 400 <= exc.code < 500 and exc.code not in (401, 408):
        return DeliveryError(text, permanent=True)
    return DeliveryError(text)  # 5xx, a revoked token (401): retry, give up after max_attempts


def renderer(api: ZaloApi, services: Services, links: LinkMaker = no_links) -> Renderer:
    unavailable = services.t("zalo_file_unavailable", services.settings.ward.language)
    return Renderer(api.send_message, api.send_photo, links, unavailable)


class ZaloTransport:
    """Sends outbox rows with the replies' renderer, pacing each call; a row with
    options becomes the chat's numbered menu (`models.channel_menus`)."""

    def __init__(self, api: ZaloApi, services: Services, links: LinkMaker = no_links) -> None:
        self._render = renderer(api, services, links)
        self._services = services

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        async def run(call: Call, first: bool) -> str:
            return await _paced(pace, call, first)

        try:
            message_id = await self._render.render(chat_id, out, run)
        except (ZaloError, httpx.HTTPError) as exc:
            raise to_delivery_error(exc) from exc
        if message_id is None:
            if out.edit is not None and not out.resend:
                return out.edit  # a progress edit Zalo cannot make: done, as dropped
            raise DeliveryError("empty message (no text, no attachment)", permanent=True)
        if out.options:
            async with self._services.sessions() as session, session.begin():
                await save_menu(session, CHANNEL, chat_id,
                                [(o.label, o.data) for o in flat(out.options)], out.expects,
                                wall_clock())
        return message_id


async def _paced(pace: Pace, call: Call, first: bool) -> str:
    """One API call. After the first part is out, a 429 is waited out here: giving the
    row back for a retry would send the earlier parts twice."""
    for attempt in range(_PART_RETRIES):
        await pace()
        try:
            return await call()
        except ZaloError as exc:
            if exc.code != 429 or first or attempt == _PART_RETRIES - 1:
                raise
            await asyncio.sleep(exc.retry_after or DEFAULT_RETRY_AFTER)
    raise AssertionError("unreachable")


# A reply is not paced by the sender: its second message may come within the second
# Zalo allows per chat. A 429 there is waited out briefly rather than lose the message.
_REPLY_WAIT = 1.0


async def _now(call: Call, first: bool) -> str:
    for attempt in range(_PART_RETRIES + 1):
        try:
            return await call()
        except ZaloError as exc:
            if exc.code != 429 or attempt == _PART_RETRIES:
                raise
            await asyncio.sleep(exc.retry_after or _REPLY_WAIT * (attempt + 1))
    raise AssertionError("unreachable")


def replier(api: ZaloApi, services: Services, links: LinkMaker = no_links
            ) -> Callable[[dict[str, Any], Incoming, Reply], Awaitable[None]]:
    """How the dispatcher's replies go out (the menu was saved with the handling)."""
    render = renderer(api, services, links)
    lang = services.settings.ward.language

    async def send(raw: dict[str, Any], inc: Incoming, reply: Reply) -> None:
        for out in coalesce(reply.messages):
            try:
                await render.render(inc.chat_id, out, _now)
            except (ZaloError, httpx.HTTPError) as exc:
                error = to_delivery_error(exc)
                if error.unreachable:
                    log.info("zalo: user %s cannot be reached (%s)", inc.user_id, exc)
                    return
                # The answer is already stored; tell the user rather than go silent.
                log.warning("zalo: could not deliver a reply to %s: %s", inc.chat_id, exc)
                with contextlib.suppress(ZaloError, httpx.HTTPError):
                    await api.send_message(inc.chat_id, plain(services.t("error_generic", lang)))
                return

    return send
