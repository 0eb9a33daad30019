"""Keep secrets out of logs, whichever library logs them.

python-telegram-bot logs the Bot API URL, token included, at DEBUG ("Set Bot API URL"),
and httpx logs request URLs at INFO. Rather than chase each logger, every log record is
redacted as it is created.
"""

from __future__ import annotations

import logging
from typing import Any

_secrets: set[str] = set()
_FORMATTER = logging.Formatter()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "<redacted>")
    return text


def protect(secret: str) -> None:
    """Redact `secret` (and its part after the colon, for bot tokens) from all logs."""
    global _installed
    if not secret:
        return
    _secrets.add(secret)
    if ":" in secret and len(secret.split(":", 1)[1]) >= 8:
        _secrets.add(secret.split(":", 1)[1])
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
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
