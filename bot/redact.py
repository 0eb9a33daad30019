"""Keep secrets out of logs, whichever library logs them.

python-telegram-bot logs the Bot API URL, token included, at DEBUG ("Set Bot API URL"),
every call's parameters (setWebhook's secret_token) and every getUpdates result (users'
`/start CODE` messages); httpx logs request URLs at INFO. Rather than chase each
logger, every log record is redacted as it is created:

* known secrets (`protect`): the bot token (and its part after the colon), the webhook
  secret, the invite key — replaced wherever they appear;
* invite codes this process makes (`bot.assembly` hands `protect` to the invite key),
  so the admin's `/moi` reply, echoed back by the Bot API in plain text, is clean;
* invite codes made elsewhere, by where they appear: after `/start`, in a deep link's
  `start=`, in `<code>…</code>` of a message, and as the whole text of a user's
  message ("'text': 'k7qm-4xpd'", "text='k7qm-4xpd'").
"""

from __future__ import annotations

import logging
import re
from typing import Any

from models.invites import ALPHABET, CODE_LENGTH, normalise_code

HIDDEN = "<redacted>"
_secrets: set[str] = set()
_FORMATTER = logging.Formatter()
_installed = False

# Whatever follows /start is a code (or a wrong guess at one): hide it up to the end
# of the text, a quote, or a tag.
_START = re.compile(r"(/start(?:@\w{1,64})?[ \t]+)[^'\"\\\n<>&]{1,64}", re.IGNORECASE)
_DEEP_LINK = re.compile(r"([?&]start=)[^&\s'\"\\<>]+", re.IGNORECASE)
_TAGGED = re.compile(r"(<code>)([^<]{1,20})(</code>)")
# A message that is only a code: "'text': 'k7qm-4xpd'" (a dict), "text='…'" (a repr).
_WHOLE_TEXT = re.compile(r"""(\b(?:text|caption)(?:['"]|\\")?\s*[:=]\s*(?:['"]|\\"))"""
                         r"""([A-Za-z0-9 \-]{8,20})(['"\\])""")


def _code_like(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def _hide_if_code(m: re.Match[str]) -> str:
    return m.group(1) + HIDDEN + m.group(3) if _code_like(m.group(2)) else m.group(0)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, HIDDEN)
    if "start" in text or "code>" in text or "text" in text:
        text = _START.sub(r"\1" + HIDDEN, text)
        text = _DEEP_LINK.sub(r"\1" + HIDDEN, text)
        text = _TAGGED.sub(_hide_if_code, text)
        text = _WHOLE_TEXT.sub(_hide_if_code, text)
    return text


def protect(secret: str) -> None:
    """Redact `secret` (and its part after the colon, for bot tokens) from all logs."""
    if not secret:
        return
    _secrets.add(secret)
    if ":" in secret and len(secret.split(":", 1)[1]) >= 8:
        _secrets.add(secret.split(":", 1)[1])
    install()


def install() -> None:
    """Redact every log record from now on (the CLI calls it first thing)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Exception texts carry secrets too (PTB: "The token `…` was rejected");
            # formatters reuse a ready exc_text, so format and clean it now.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
