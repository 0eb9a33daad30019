"""``FakeBotApi``: an in-process stand-in for ``api.telegram.org``.

End-to-end tests and ``thidua demo`` run the *real* python-telegram-bot ``Application``
against this server over loopback HTTP, so everything between the bot's handlers and the
wire (parameter encoding, error mapping, long polling, file download) is exercised exactly
as in production.  The server runs on aiohttp in the caller's event loop, binds
``127.0.0.1`` on a free port, and keeps all state in memory.

State lives in small collaborators (:mod:`.store`, :mod:`.files`, :mod:`.updates`,
:mod:`.faults`) and the Bot API methods in :mod:`.methods`; this module owns the HTTP
routing, recording of every call as a :class:`~fakes.telegram.events.BotEvent`, and the public
API that tests use.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .errors import ApiError
from .events import (
    DELIVERY_METHODS,
    TRANSCRIPT_METHODS,
    BotEvent,
    BotMessage,
    CallInfo,
    UserAction,
)
from .faults import Faults
from .files import FileStore
from .methods import BotMethods
from .params import Upload, get_chat_id, read_params
from .store import ChatStore
from .updates import Pulse, UpdateQueue
from .users import FakeUser
from .webhook import WebhookPusher

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

EventCallback = Callable[[BotEvent | UserAction], None]


class FakeBotApi:
    """A fake Telegram Bot API server with scripted users and failure injection.

    Usage::

        async with FakeBotApi() as fake:
            app = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
                   .base_file_url(fake.base_file_url).build())
            ...
            user = fake.user(1001, "Lan")
            await user.send("/start")
            reply = await user.next()
    """

    def __init__(
        self,
        token: str = "123456:TEST",  # noqa: S107 - a fake token for a fake server
        bot_username: str = "ThiDuaDemoBot",
        bot_first_name: str = "Thi Đua Bot",
        *,
        on_event: EventCallback | None = None,
        strict_ampersand: bool = True,
    ) -> None:
        """Create a stopped server; call :meth:`start` or use ``async with``.

        ``strict_ampersand=False`` accepts a bare ``&`` in HTML like Telegram does; the
        default rejects it because it usually means unescaped user input.
        """
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.on_event = on_event
        """Called synchronously for every successful visible bot call and user action."""
        self.events: list[BotEvent] = []
        """Every bot call, in order, including rejected ones (successful ``getUpdates``
        polls are left out: they are plumbing, not conversation)."""
        self.actions: list[UserAction] = []
        self.store = ChatStore(self.bot_user)
        self.files = FileStore()
        self._faults = Faults()
        self._updates = UpdateQueue()
        self._methods = BotMethods(self.store, self.files, self._faults, self._updates,
                                   strict_ampersand=strict_ampersand)
        self._table = self._methods.table()
        self._users: dict[int, FakeUser] = {}
        self._pulse = Pulse()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._updates.reopen()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: when PTB cancels a long poll (Updater.stop), stop serving it
        # instead of letting it linger until its timeout.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                               shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Release waiting long polls and shut the server down."""
        self._updates.close()
        await self._methods.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (only after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("FakeBotApi has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_username(self) -> str:
        """The bot's @username without the ``@``."""
        return str(self.bot_user["username"])

    # -- users and chat state -------------------------------------------------------------

    def user(self, user_id: int, first_name: str, last_name: str | None = None,
             username: str | None = None, language_code: str = "vi") -> FakeUser:
        """Create (or return the existing) scripted user; their private chat id == user id."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user = FakeUser(self, user_id, first_name, last_name, username, language_code)
        self.store.add_user(user.to_json())
        self._users[user_id] = user
        return user

    @property
    def webhook(self) -> WebhookPusher:
        """Where updates are pushed after ``setWebhook`` (its URL, secret, responses)."""
        return self._methods.webhook

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat as they look now (after edits/deletes), in order."""
        return [stored.snapshot() for stored in self.store.bot_messages(chat_id)]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued but not yet confirmed by the bot through ``getUpdates`` offset."""
        return self._updates.pending

    @property
    def delivery_counts(self) -> dict[int, int]:
        """update_id -> how many times ``getUpdates`` returned it."""
        return dict(self._updates.delivered)

    def queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (a deep copy: later edits must not leak into it)."""
        return self._updates.put(kind, copy.deepcopy(payload))

    def emit_action(self, action: UserAction) -> None:
        """Record a user action and report it to :attr:`on_event`."""
        self.actions.append(action)
        self._notify(action)

    async def wait_until(self, predicate: Callable[[], _T | None], within: float) -> _T | None:
        """Re-check ``predicate`` after every API call until it returns non-``None``.

        Returns ``None`` if ``within`` seconds pass first.  Used by :class:`FakeUser` to
        wait for replies without sleeping in a loop.
        """
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

    # -- failure injection ----------------------------------------------------------------

    def fail_chat(self, chat_id: int, status: int = 403,
                  description: str = "Forbidden: bot was blocked by the user") -> None:
        """Make every call addressed to ``chat_id`` fail (e.g. the user blocked the bot)."""
        self._faults.fail_chat(chat_id, status, description)

    def unfail_chat(self, chat_id: int) -> None:
        """Undo :meth:`fail_chat`."""
        self._faults.unfail_chat(chat_id)

    def fail_next(self, method: str, status: int = 502, count: int = 1,
                  description: str | None = None, retry_after: int | None = None) -> None:
        """Fail the next ``count`` calls of ``method`` with ``status`` (5xx by default);
        ``retry_after`` adds Telegram's ``parameters.retry_after`` (a 429 flood wait)."""
        self._faults.fail_next(method, status, count, description, retry_after)

    def rate_limit(self, per_chat_per_second: float | None = 1.0,
                   overall_per_second: float | None = 30.0) -> None:
        """Enforce flood limits with 429 + ``retry_after``; pass ``None, None`` to turn off."""
        self._faults.rate_limit(per_chat_per_second, overall_per_second)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``method`` for ``seconds`` before serving them.

        Longer than the client's timeout, this is a call that times out: a client that
        gives up first gets nothing done (the message is not sent), and the call is
        recorded as rejected.
        """
        self._faults.delay_next(method, seconds, count)

    def latency(self, seconds: float, methods: Iterable[str] = DELIVERY_METHODS) -> None:
        """Slow every call of ``methods`` (default: the sends) by ``seconds``; 0 undoes it."""
        self._faults.set_latency(seconds, methods)

    def clear_faults(self) -> None:
        """Remove every injected failure, delay and rate limit."""
        self._faults.clear()

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        entry = self._table.get(raw_method.lower())
        call = CallInfo(method=entry[0] if entry else raw_method, params={})
        try:
            call.params = await read_params(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            delay = self._faults.delay_for(call.method)
            if delay > 0:
                await self._hold(call, request, delay)
            self._faults.check_method(call.method)
            result = await entry[1](call)
            if call.method != "getUpdates":
                self._record(call, None)
            return web.json_response({"ok": True, "result": result})
        except ApiError as error:
            transport = request.transport
            abandoned = transport is None or transport.is_closing()
            if not (error.status == 409 and abandoned):  # a poll the client already gave up
                self._record(call, error.description)
            return web.json_response(error.payload(), status=error.status)
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500, loudly
            _LOGGER.exception("FakeBotApi crashed serving %s", call.method)
            crash = ApiError(500, f"Internal Server Error: fake API crashed: {exc!r}")
            self._record(call, crash.description)
            return web.json_response(crash.payload(), status=500)
        finally:
            self._pulse.fire()

    async def _hold(self, call: CallInfo, request: web.Request, seconds: float) -> None:
        """Wait before serving; a client that hung up meanwhile gets nothing done."""
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:  # the client disconnected (handler_cancellation)
            self._record(call, "client gave up before the call was served")
            raise
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ApiError(504, "client gave up before the call was served")

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
            return web.json_response(error.payload(), status=401)
        stored = self.files.by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data,
                            content_type=stored.mime_type or "application/octet-stream")

    def _record(self, call: CallInfo, error: str | None) -> None:
        params = {key: value.describe() if isinstance(value, Upload) else value
                  for key, value in call.params.items()}
        chat_id = call.chat_id
        if chat_id is None and "chat_id" in call.params:  # failed before the handler read it
            with contextlib.suppress(ApiError):
                chat_id = get_chat_id(call.params)
        event = BotEvent(method=call.method, chat_id=chat_id, message_id=call.message_id,
                         text=call.text, html=call.html, buttons=call.buttons, params=params,
                         ok=error is None, error=error)
        self.events.append(event)
        visible = event.method in TRANSCRIPT_METHODS and (
            event.method != "answerCallbackQuery" or bool(event.text))
        if event.ok and visible:
            self._notify(event)

    def _notify(self, item: BotEvent | UserAction) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(item)
        except Exception:  # a broken printer must not break the conversation under test
            _LOGGER.exception("FakeBotApi.on_event callback failed")
