"""``FakeZaloApi``: an in-process stand-in for Zalo's Bot API (``bot-api.zapps.me``).

The server runs on aiohttp in the caller's event loop, binds ``127.0.0.1`` on a free
port and keeps all state in memory. The methods live in :mod:`.methods`, limits and
failures in :mod:`.faults`, the update queue in :mod:`.updates`, webhook delivery in
:mod:`.webhook`; this module owns the HTTP routing, the record of every call and the
public API tests use.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .errors import NOT_FOUND, UNAUTHORIZED, ZaloError
from .events import DELIVERY_METHODS, SEND_METHODS, ZaloEvent, ZaloUserAction
from .faults import Faults, SendLimits
from .files import FileStore
from .methods import BotMethods, Call, PhotoSettings
from .params import read_params
from .updates import Pulse, UpdateQueue
from .users import FakeZaloGroup, FakeZaloUser
from .webhook import WebhookPusher

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_QUIET = frozenset({200, 408})  # a served or empty long poll is plumbing, not an event

EventCallback = Callable[[ZaloEvent | ZaloUserAction], None]


class FakeZaloApi:
    """A fake Zalo Bot API server with scripted users, send limits and injected failures.

    ``overall_per_second`` and ``per_chat_per_second`` are the send limits (``None``: no
    limit); :meth:`rate_limit` changes them later. ``clock`` (seconds) drives the limits,
    so a test can step time instead of sleeping.
    """

    def __init__(self, token: str = "1234567890:fake-zalo-secret",  # noqa: S107 - a fake
                 bot_name: str = "Thi Đua Bot", *, overall_per_second: float | None = 10.0,
                 per_chat_per_second: float | None = 1.0,
                 on_event: EventCallback | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not _TOKEN.fullmatch(token):
            raise ValueError("a Zalo bot token looks like '<bot_id>:<secret>'")
        self.token = token
        self.bot_info: dict[str, Any] = {
            "id": token.split(":", 1)[0], "account_name": bot_name,
            "account_type": "BASIC", "can_join_groups": True,
        }
        self.on_event = on_event
        """Called for every message the bot sent successfully (``sendMessage``,
        ``sendPhoto``, ``sendSticker``) and every user action: a demo's transcript."""
        self.events: list[ZaloEvent] = []
        """Every bot call in order, refused ones too (served or empty polls left out)."""
        self.actions: list[ZaloUserAction] = []
        self.files = FileStore()
        self.photos = PhotoSettings()
        """``sendPhoto``'s fetch: ``.timeout`` seconds and ``.max_bytes``."""
        self.chats: dict[str, str] = {}
        """Chats the bot can send to: id -> ``"PRIVATE"`` | ``"GROUP"``."""
        self.limits = SendLimits(overall_per_second, per_chat_per_second, clock)
        self._faults = Faults()
        self._updates = UpdateQueue()
        self._pulse = Pulse()
        self._webhook = WebhookPusher(self._updates, self._pulse.fire)
        self._methods = BotMethods(self.bot_info, self.chats, self._faults, self.limits,
                                   self._updates, self._webhook, self.photos)
        self._table = self._methods.table()
        self._users: dict[str, FakeZaloUser] = {}
        self._groups: dict[str, FakeZaloGroup] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve."""
        if self._runner is not None:
            raise RuntimeError("FakeZaloApi is already running")
        self._updates.reopen()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/files/{name}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                               shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._webhook.resume()  # a webhook set before a restart keeps receiving

    async def stop(self) -> None:
        """Release waiting polls, stop webhook delivery, shut down."""
        self._updates.close()
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloApi:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("FakeZaloApi has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``ZALO_API_BASE_URL`` for the bot: the client appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def api_url(self) -> str:
        """``base_url`` + token: append ``/<method>``."""
        return f"{self.base_url}{self.token}"

    # -- users, groups, updates -----------------------------------------------------------

    def user(self, user_id: str, name: str) -> FakeZaloUser:
        """A scripted user (created once); their private chat id equals their user id."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user = self._users[user_id] = FakeZaloUser(self, user_id, name)
        self.chats[user_id] = "PRIVATE"
        return user

    def group(self, group_id: str, name: str = "") -> FakeZaloGroup:
        """A group chat the bot is in; users speak in it with ``group.send(user, text)``."""
        existing = self._groups.get(group_id)
        if existing is not None:
            return existing
        group = self._groups[group_id] = FakeZaloGroup(self, group_id, name)
        self.chats[group_id] = "GROUP"
        return group

    @property
    def webhook(self) -> WebhookPusher:
        """Webhook control: ``.url``, ``.secret``, ``.shape``, ``.max_attempts``,
        ``.retry_delay``, ``.repeat_next()``, ``.deliveries``, ``.responses``, ``.dropped``."""
        return self._webhook

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet handed to the bot."""
        return self._updates.pending

    @property
    def handed_out(self) -> list[dict[str, Any]]:
        """Updates ``getUpdates`` gave the bot, in order (each exactly once)."""
        return list(self._updates.handed_out)

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (a deep copy) for ``getUpdates`` or the webhook."""
        update = copy.deepcopy(update)
        self._updates.put(update)
        return update

    def emit_action(self, action: ZaloUserAction) -> None:
        """Record a user action and report it to :attr:`on_event`."""
        self.actions.append(action)
        self._notify(action)

    def new_message_id(self, prefix: str) -> str:
        """An opaque message id, unique within this fake."""
        return self._methods.new_message_id(prefix)

    def serve_file(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` under ``/files/...`` and return its URL."""
        return f"http://127.0.0.1:{self.port}/files/{self.files.add(data, content_type).name}"

    def sent(self, chat_id: str) -> list[ZaloEvent]:
        """The messages and photos the bot delivered to ``chat_id``, in order."""
        return [event for event in self.events
                if event.ok and event.chat_id == chat_id and event.method in DELIVERY_METHODS]

    async def wait_until(self, predicate: Callable[[], _T | None], within: float) -> _T | None:
        """Re-check ``predicate`` after every call until it returns non-``None``, or give up
        (``None``) after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = predicate()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._pulse.wait(remaining)

    # -- limits and failures --------------------------------------------------------------

    def rate_limit(self, overall_per_second: float | None = 10.0,
                   per_chat_per_second: float | None = 1.0) -> None:
        """Change the send limits (``None, None``: no limits); buckets start full."""
        self.limits.set(overall_per_second, per_chat_per_second)

    def fail_next(self, method: str, code: int = 502, count: int = 1,
                  description: str | None = None) -> None:
        """The next ``count`` calls of ``method`` answer ``error_code`` ``code``."""
        self._faults.fail_next(method, code, count, description)

    def drop_next(self, method: str, count: int = 1, *, after: bool = False) -> None:
        """Cut the connection of the next ``count`` calls of ``method`` without an answer;
        with ``after=True`` the call is served first (the message *is* sent)."""
        self._faults.drop_next(method, count, after)

    def block(self, chat_id: str, code: int = 403, description: str | None = None) -> None:
        """Every call to ``chat_id`` fails (the user blocked the bot): 403 by default."""
        self._faults.block(chat_id, code, description)

    def unblock(self, chat_id: str) -> None:
        """Undo :meth:`block`."""
        self._faults.unblock(chat_id)

    def clear_faults(self) -> None:
        """Forget injected failures and blocks (limits stay; see :meth:`rate_limit`)."""
        self._faults.clear()

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        raw_method = request.match_info["method"]
        entry = self._table.get(raw_method.lower())
        call = Call(method=entry[0] if entry else raw_method, params={})
        try:
            call.params = await read_params(request)
            if request.match_info["token"] != self.token:
                raise ZaloError(UNAUTHORIZED, "Unauthorized")
            if entry is None:
                raise ZaloError(NOT_FOUND, f"Not Found: no method {raw_method!r}")
            failure = self._faults.take(call.method)
            if failure is not None and failure.error is not None:
                raise failure.error
            if failure is not None and not failure.drop_after:
                self._record(call, ZaloError(0, "connection dropped (injected)"))
                return self._drop(request)
            result = await entry[1](call)
            self._record(call, None)
            if failure is not None:  # served, then the answer is lost
                return self._drop(request)
            body = {"ok": True} if result is None else {"ok": True, "result": result}
            return web.json_response(body)
        except ZaloError as error:
            self._record(call, error)
            status = error.code if 400 <= error.code <= 599 else 400
            return web.json_response(error.payload(), status=status)
        except Exception as exc:  # a bug in the fake: answer 500, loudly
            _LOGGER.exception("FakeZaloApi crashed serving %s", call.method)
            crash = ZaloError(500, f"Internal Server Error: fake API crashed: {exc!r}")
            self._record(call, crash)
            return web.json_response(crash.payload(), status=500)
        finally:
            self._pulse.fire()

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response()  # never reaches the client: the connection is gone

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["name"])
        if stored is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=stored.data, content_type=stored.content_type)

    def _record(self, call: Call, error: ZaloError | None) -> None:
        if call.method == "getUpdates" and (error is None or error.code in _QUIET):
            return
        chat_id = call.chat_id
        if chat_id is None and isinstance(call.params.get("chat_id"), str):
            chat_id = call.params["chat_id"]  # refused before the method read it
        event = ZaloEvent(
            method=call.method, chat_id=chat_id, ok=error is None, text=call.text,
            photo_url=call.photo_url, photo=call.photo.data if call.photo else None,
            photo_type=call.photo.content_type if call.photo else None,
            message_id=call.message_id, error_code=error.code if error else None,
            error=error.description if error else None, params=dict(call.params))
        self.events.append(event)
        if event.ok and event.method in SEND_METHODS:
            self._notify(event)

    def _notify(self, item: ZaloEvent | ZaloUserAction) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(item)
        except Exception:  # a transcript printer must not break the bot under test
            _LOGGER.exception("FakeZaloApi.on_event callback failed")
