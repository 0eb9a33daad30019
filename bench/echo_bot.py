"""The baseline of issue 14: a bare python-telegram-bot echo bot.

Polling, one handler that sends every text back, nothing else: no database, no inbox,
no templates. What the stack itself costs, measured against the same fake Bot API as
`thidua run`. Run it as `python -m bench.echo_bot` with TELEGRAM_BOT_TOKEN and
TELEGRAM_API_BASE_URL set (as `thidua run` reads them), or start `echo_application`
in-process.
"""

from __future__ import annotations

import os
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

EchoApp = Application[Any, Any, Any, Any, Any, Any]


async def _echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def echo_application(token: str, base_url: str) -> EchoApp:
    """The echo bot's Application (not started), talking to `base_url`."""
    app = Application.builder().token(token).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


def main() -> None:
    app = echo_application(os.environ["TELEGRAM_BOT_TOKEN"],
                           os.environ.get("TELEGRAM_API_BASE_URL",
                                          "https://api.telegram.org/bot"))
    # A short long-poll, as `thidua run` against the fake: SIGTERM stops it promptly.
    app.run_polling(poll_interval=0.0, timeout=1)


if __name__ == "__main__":
    main()
