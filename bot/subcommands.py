"""What each `thidua` subcommand does (the CLI module only parses arguments).

Each takes the `Environment` the CLI read once; called without one (as tests and
scripts do), it reads the process environment itself, here at the composition root.
Below this point values travel as parameters: a URL, a path, a token.

A messenger that refuses the token or cannot be reached at start raises
`ChannelAuthError` / `ChannelUnreachable` (the latter after retrying for
`bot.start_retry_seconds`); `bot.cli` turns them into one line and exit 2 / 3.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from bot.channels.base import Channel, Transport
from bot.cli_open import cli_services, environment
from bot.error_reports import reporting_errors
from bot.http import HttpServer, ListenError, parse_listen
from bot.settings import Environment
from bot.startup import keep_trying
from models import Group, Role
from models.db import make_engine, make_sessions, upgrade
from models.invites import create_invite
from models.queries import group_by_code, sync_groups
from models.roster import handover_target
from reporting.config import Settings
from reporting.services import Services

if TYPE_CHECKING:  # PTB is imported only by the commands that talk to Telegram
    from bot.channels.telegram.webhook import WebhookSettings
    from bot.channels.zalo.webhook import ZaloWebhookSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


async def db_upgrade(settings: Settings, *, env: Environment | None = None) -> int:
    engine = make_engine(environment(env).database_url)
    try:
        await upgrade(engine)
        # Config's groups and their changes (`group_changes:`) too, as start does.
        async with make_sessions(engine)() as session, session.begin():
            await sync_groups(session, settings.group_pairs, settings.group_history)
    finally:
        await engine.dispose()
    print("Database schema is up to date.")
    return 0


def _channels(env: Environment, hook: WebhookSettings | None,
              zalo_hook: ZaloWebhookSettings | None = None,
              server: HttpServer | None = None) -> list[Channel]:
    """Every messenger with a token. A new channel is one more entry here; a webhook
    channel mounts its route on `server`, the process's HTTP server."""
    found: list[Channel] = []
    if env.token is not None:
        from bot.channels.telegram import TelegramChannel

        found.append(TelegramChannel(env.token, env.telegram_api_base_url, hook=hook,
                                     server=server))
    else:
        log.info("TELEGRAM_BOT_TOKEN is not set: the Telegram channel is skipped")
    if env.zalo_token is not None:
        from bot.channels.zalo import ZaloChannel

        found.append(ZaloChannel(env.zalo_token, env.zalo_api_base_url, hook=zalo_hook,
                                 server=server))
    else:
        log.info("ZALO_BOT_TOKEN is not set: the Zalo channel is skipped")
    return found


async def run(settings: Settings, webhook: bool = False, *,
              env: Environment | None = None) -> int:
    env = environment(env)
    if env.token is None and env.zalo_token is None:
        print("Neither TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN is set. To try the bot without "
              "a token: thidua demo", file=sys.stderr)
        return 2
    try:
        hook, zalo_hook = _webhook_settings(env, webhook)
    except _WebhookSettingsError as exc:
        print(f"Webhook mode: {exc}", file=sys.stderr)
        return 2
    try:
        parse_listen(env.http_listen)
    except ListenError as exc:
        print(f"HTTP server: {exc}", file=sys.stderr)
        return 2
    stop = _stop_on_signals()
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(cli_services(settings, env))
        # One HTTP server for the process: webhooks, file links when users reach us at a
        # public address (also while polling: Zalo users need the links then too), and
        # /healthz and /metrics wherever THIDUA_HTTP_LISTEN is given.
        wanted = (hook is not None or zalo_hook is not None or env.public_url is not None
                  or env.http_listen_given)
        webhooks = hook is not None or zalo_hook is not None
        server: HttpServer | None = None
        if webhooks:  # the channels mount their routes on it as they start
            server = await _serve_http(stack, services, env.http_listen)
        # Errors logged from here on reach an admin chat through the outbox.
        await stack.enter_async_context(reporting_errors(services))
        channels = _channels(env, hook, zalo_hook, server)
        transports: dict[str, Transport] = {}
        for channel in channels:
            transports[channel.name] = await _start(settings, channel.name, partial(
                _enter, stack, channel, services), stop)
        # Polling is under way. What answers updates (the handlers, Jinja2's texts) and
        # what follows (aiohttp, prometheus_client, APScheduler and every job's modules)
        # load in a thread, so the loop sends the first getUpdates meanwhile instead of
        # waiting for them; an update that comes sooner waits for its modules.
        await asyncio.to_thread(_load_after_start, server is None and wanted)
        if server is None and wanted:
            await _serve_http(stack, services, env.http_listen)
        from bot.assembly import background

        await stack.enter_async_context(
            background(services, transports, {c.name: c.limits for c in channels}))
        # Everything loaded so far lives as long as the process (modules, mappers, PTB):
        # out of the collector's sight, a full collection walks only what came after, so
        # the one after a chart (`reporting.chart`) takes a millisecond, not a tenth of a
        # second, and the automatic ones stay as cheap while serving.
        gc.freeze()
        # A Zalo-only bot has no Telegram @username.
        log.info("Thi Đua Bot is running (%s)%s for %s", ", ".join(transports),
                 f" as @{services.bot_username}" if services.bot_username else "",
                 settings.ward.name)
        await stop.wait()
        # Stopping: the sender and scheduler first, then each channel stops taking
        # updates and lets the handlings in flight finish (a few seconds at most).
        log.info("stopping")
    log.info("stopped")
    return 0


def _load_after_start(http: bool) -> None:
    """Import what `run` needs once polling runs (see there); a module imported twice is
    loaded once, so the later imports in the loop's thread find it ready."""
    import handlers.router  # noqa: F401  (the dispatcher's, at the first update)
    import scheduler.runner  # noqa: F401
    from reporting.texts import texts

    texts()  # the catalogues read and Jinja2 imported (cached: every answer's)

    if http:
        import aiohttp.web  # noqa: F401

        import bot.health  # noqa: F401


async def _serve_http(stack: AsyncExitStack, services: Services, listen: str) -> HttpServer:
    """The process's HTTP server with /healthz, /metrics and the file links mounted."""
    from bot.health import mount_health
    from bot.http import http_server
    from bot.media_links import mount_media

    server = await stack.enter_async_context(http_server(listen))
    mount_media(server, services)
    mount_health(server, services)
    return server


class _WebhookSettingsError(Exception):
    """A webhook variable is missing or wrong (the message names it)."""


def _webhook_settings(env: Environment, webhook: bool
                      ) -> tuple[WebhookSettings | None, ZaloWebhookSettings | None]:
    """Each channel's webhook settings with `run --webhook`; (None, None) when polling.

    A channel's modules are imported only here and only when it has a token: polling
    imports neither webhook module, a Telegram-only bot never imports Zalo's."""
    hook = zalo_hook = None
    if webhook and env.token is not None:
        from bot.channels.telegram.webhook import WebhookConfigError, WebhookSettings

        try:
            hook = WebhookSettings.from_env(env)
        except WebhookConfigError as exc:
            raise _WebhookSettingsError(str(exc)) from None
    if webhook and env.zalo_token is not None:
        from bot.channels.zalo.webhook import ZaloWebhookConfigError, ZaloWebhookSettings

        try:
            zalo_hook = ZaloWebhookSettings.from_env(env)
        except ZaloWebhookConfigError as exc:
            raise _WebhookSettingsError(str(exc)) from None
    return hook, zalo_hook


async def _enter(stack: AsyncExitStack, channel: Channel, services: Services) -> Transport:
    # A fresh serve() each attempt: a failed start leaves nothing behind on the stack.
    return await stack.enter_async_context(channel.serve(services))


async def _start(settings: Settings, name: str, attempt: Callable[[], Awaitable[T]],
                 stop: asyncio.Event | None = None) -> T:
    return await keep_trying(attempt, total=settings.bot.start_retry_seconds,
                             what=f"starting {name}", stop=stop)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the block in hand finishes, then we exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def sender(settings: Settings, worker: str | None = None,
                 api_timeout: float = 10.0, *, env: Environment | None = None) -> int:
    """`thidua sender`: only the outbox sender, e.g. as its own process next to the bot.

    Several may share one database without sending a row twice, but each paces itself:
    for one bot token, run one (or split delivery.overall_per_second between them).
    SIGTERM/SIGINT finish the batch in hand; a SIGKILL leaves it to be re-sent after
    delivery.sending_timeout_seconds.
    """
    from bot.assembly import outbox_sender
    from bot.channels.telegram import TelegramChannel

    env = environment(env)
    token = env.token
    if token is None:
        print("TELEGRAM_BOT_TOKEN is not set: the sender has nothing to send with.",
              file=sys.stderr)
        return 2
    if api_timeout * 3 > settings.delivery.sending_timeout_seconds:
        # A row whose call may still be in flight must not look abandoned to others.
        log.warning("delivery.sending_timeout_seconds (%s) should be well above the API "
                    "timeout (%ss)", settings.delivery.sending_timeout_seconds, api_timeout)
    stop = _stop_on_signals()
    channel = TelegramChannel(token, env.telegram_api_base_url)
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(cli_services(settings, env))
        await stack.enter_async_context(reporting_errors(services))

        async def connect() -> Transport:
            return await stack.enter_async_context(
                channel.sender_transport(services, api_timeout))

        transport = await _start(settings, channel.name, connect, stop)
        outbox = outbox_sender(services, {channel.name: transport},
                               {channel.name: channel.limits}, worker)
        log.info("outbox sender %s started", outbox.worker)
        await outbox.run(stop)
        log.info("outbox sender %s stopped", outbox.worker)
    return 0


async def _bot_username(settings: Settings, env: Environment) -> str | None:
    """config's bot.username (no Bot API call), else getMe when a token is set."""
    if settings.bot.username:
        return settings.bot.username
    token = env.token
    if token is None:
        return None
    from bot.channels.telegram import TelegramChannel

    channel = TelegramChannel(token, env.telegram_api_base_url)
    return await _start(settings, channel.name, channel.username)


async def invite(settings: Settings, group_code: str, role: str,
                 expires: timedelta | None, *, env: Environment | None = None,
                 replaces: int | None = None) -> int:
    env = environment(env)
    if replaces is not None and role != Role.LEADER:
        print("--replaces hands a group over to a new leader: use it with --role leader",
              file=sys.stderr)
        return 2
    if settings.group(group_code) is None:
        codes = ", ".join(g.code for g in settings.groups)
        print(f"Unknown group {group_code!r}. Groups: {codes}", file=sys.stderr)
        return 2
    ttl = expires or timedelta(days=settings.bot.invite_ttl_days)
    # The link's username first: a refused token or an unreachable API must stop us
    # before a code exists that nobody was shown.
    username = await _bot_username(settings, env)
    async with cli_services(settings, env) as services:
        async with services.sessions() as session, session.begin():
            await sync_groups(session, settings.group_pairs, settings.group_history)
            group: Group | None = await group_by_code(session, group_code)
            old = None
            if replaces is not None and group is not None:
                found = await handover_target(session, replaces, group)
                if isinstance(found, str):
                    print(f"Member {replaces} is not an active leader of {group_code}: no "
                          "handover code made (see `thidua members`)", file=sys.stderr)
                    return 2
                old = found
            code, inv = await create_invite(session, group, Role(role), services.clock(), ttl,
                                            key=services.invites, replaces=old)
        expires_local = inv.expires_at.astimezone(settings.ward.tz)
    print(f"Invite code: {code}")
    print(f"Group: {group.name if group else '-'}  Role: {role}  "
          f"Expires: {expires_local:%d/%m/%Y %H:%M}")
    if old is not None:
        print(f"Replaces: #{old.id} {old.display_name} (deactivated when the code is used)")
    if username:
        print(f"Link: https://t.me/{username}?start={code}")
    else:
        print("Link: set bot.username in config.yaml or TELEGRAM_BOT_TOKEN to print the link; "
              f"meanwhile the user sends /start {code}")
    return 0


async def chat(settings: Settings, *, env: Environment | None = None) -> int:
    from bot.channels.console import run_console

    async with cli_services(settings, environment(env)) as services:
        await run_console(services)
    return 0


async def demo(config: str | None, keep_db: str | None, *,
               env: Environment | None = None, channel: str = "telegram") -> int:
    # The demo brings its own database and Bot API; of the environment only
    # THIDUA_CONFIG matters (without it, ./config.yaml or else the shipped one).
    config_env = environment(env).config
    chosen = config or (str(config_env) if config_env else None)
    if channel == "zalo":
        from bot.demo_zalo import run_zalo_demo

        return await run_zalo_demo(chosen, keep_db)
    from bot.demo import run_demo

    return await run_demo(chosen, keep_db)
