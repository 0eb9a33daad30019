"""`thidua run --webhook` for Zalo: pushes checked, stored, then answered.

The route checks `X-Bot-Api-Secret-Token` (403 if wrong or missing, compared in
constant time), takes the update from a wrapped `{ok, result}` or a bare
`{event_name, message}` body, commits it to the inbox and only then answers 200. A
database that cannot take the insert answers 500 (Zalo may push it again); a body that
is no update answers 200 with a log line, as anything else would be pushed forever.
A repeated push has the same `event_name:message_id` key and is stored once.

Environment: ZALO_WEBHOOK_URL (the public https URL, path included), ZALO_WEBHOOK_SECRET
(8–256 characters, Zalo's rule), and where to listen: ZALO_WEBHOOK_LISTEN, else
THIDUA_HTTP_LISTEN (with Telegram's webhook on the same host, give Zalo its own port).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.zalo.intake import store_update, tell_waiting
from bot.http import Handler, Webhook, push_receiver
from bot.inbox import Dispatcher
from bot.settings import Environment
from reporting.services import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class ZaloWebhookConfigError(Exception):
    pass


class ZaloWebhookSettings(Webhook):
    @classmethod
    def from_env(cls, env: Environment) -> ZaloWebhookSettings:
        secret = env.zalo_webhook_secret.get_secret_value() if env.zalo_webhook_secret else ""
        if not 8 <= len(secret) <= 256 or any(c.isspace() for c in secret):
            raise ZaloWebhookConfigError("ZALO_WEBHOOK_SECRET must be 8-256 characters "
                                         "without spaces")
        return cls.checked(env.zalo_webhook_url or "", secret,
                           env.zalo_webhook_listen or env.http_listen,
                           url_name="ZALO_WEBHOOK_URL", error=ZaloWebhookConfigError)


def receiver(services: Services, dispatcher: Dispatcher, secret: str) -> Handler:
    """The route Zalo POSTs to (`bot.http.push_receiver`); both body shapes are read."""

    async def store(body: Any) -> int:
        return await store_update(services, body)

    async def waiting(body: Any) -> None:
        await tell_waiting(dispatcher, body)

    return push_receiver(name="zalo", header=SECRET_HEADER, secret=secret, store=store,
                         waiting=waiting, nudge=dispatcher.nudge)
