"""Log lines as text for people, or as JSON for a log collector (`THIDUA_LOG_FORMAT`).

JSON: one object per line with `time` (UTC, ISO 8601), `level`, `logger`, `message`
and, for a record with one, `exception` (the formatted traceback), so Loki, Elastic
or journald's JSON tooling can index them without parsing our wording. Secrets are
removed before formatting, as for text lines: the record factory of `bot.redact`
cleans the message and the traceback when the record is made; the line is redacted
once more here, for what a library put in a record's arguments after that.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.redact import redact

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        # ensure_ascii=False: Vietnamese stays readable; json escapes the newlines.
        return json.dumps(line, ensure_ascii=False)


def use_format(name: str) -> None:
    """Give every handler of the root logger the `text` or `json` format."""
    formatter = JsonFormatter() if name == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
