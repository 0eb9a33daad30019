"""The sentences of the .docx documents: `templates/doc_*.yaml`, plain Jinja2 text.

Kept apart from the message catalogues (`reporting.texts`): messages are Telegram HTML
and escaped, a document's text is written into Word runs as it is, so escaping would
put "&amp;" on paper. Documents are Vietnamese only: the ward files them so.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import DictLoader, Environment, StrictUndefined

from reporting.numbers import format_number


def _num(value: Decimal | int | float | None, places: int | None = None) -> str:
    if value is None:
        return "—"
    return format_number(Decimal(str(value)), "vi", places)


def _date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _catalogue() -> dict[str, str]:
    out: dict[str, str] = {}
    folder = resources.files("templates")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("doc_") and entry.name.endswith(".yaml")):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"templates/{entry.name} must be a mapping of key: template")
        for key, value in data.items():
            if key in out:
                raise ValueError(f"templates/{entry.name}: {key!r} is already defined")
            out[key] = str(value).rstrip("\n")
    return out


class DocTexts:
    def __init__(self) -> None:
        mapping = _catalogue()
        self._env = Environment(loader=DictLoader(mapping), autoescape=False,  # noqa: S701
                                undefined=StrictUndefined, trim_blocks=True,
                                lstrip_blocks=True, keep_trailing_newline=False)
        self._env.filters.update(num=_num, d=_date)
        self.keys = frozenset(mapping)

    def __call__(self, key: str, **ctx: Any) -> str:
        return self._env.get_template(key).render(**ctx).strip()


@cache
def doc_texts() -> DocTexts:
    return DocTexts()
