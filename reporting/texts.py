"""Every user-visible sentence, rendered from keyed Jinja2 templates per language.

The catalogues live in `templates/<lang>.yaml` (key: template). Autoescape is on, so
any user text passed in the context is HTML-escaped; templates mark their own tags.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from markupsafe import Markup

from reporting.html_text import abbreviate
from reporting.numbers import format_number

if TYPE_CHECKING:
    from jinja2.runtime import Context

LANGUAGES = ("vi", "en")


def _catalogue(lang: str) -> dict[str, str]:
    raw = resources.files("templates").joinpath(f"{lang}.yaml").read_text(encoding="utf-8")
    # libyaml's parser (as in reporting.config_file): the catalogues are 130 kB.
    data = yaml.load(raw, Loader=yaml.CSafeLoader)
    if not isinstance(data, dict):
        raise ValueError(f"templates/{lang}.yaml must be a mapping of key: template")
    return {f"{lang}/{key}": str(value).rstrip("\n") for key, value in data.items()}


def _num(value: Decimal | int | float | None, lang: str = "vi", places: int | None = None) -> str:
    if value is None:
        return "—"
    return format_number(Decimal(str(value)), lang, places)


def _date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _datetime(ctx: Context, value: datetime | None) -> str:
    """ "09:00 ngày 03/04/2022" (written after "lúc"); "09:00 03/04/2022" in English."""
    if not value:
        return "—"
    return value.strftime("%H:%M ngày %d/%m/%Y" if ctx.get("lang", "vi") == "vi"
                          else "%H:%M %d/%m/%Y")


# Administrative units written in lower case mid-sentence (Nghị định 30/2020/NĐ-CP).
_UNITS = ("Phường ", "Xã ", "Thị trấn ", "Thành phố ", "Quận ", "Huyện ")


def _mid(ctx: Context, value: str) -> str:
    """A ward's name mid-sentence: "phường Quyết Thắng"; headings keep "Phường"."""
    text = str(value)
    if ctx.get("lang", "vi") == "vi" and text.startswith(_UNITS):
        return text[:1].lower() + text[1:]
    return text


def _clip(value: str | None) -> str:
    # User text of any length (a good-deed story) shown in a message: its start and "…".
    return abbreviate(str(value)) if value is not None else ""


def _prevday(value: date) -> date:
    return value - timedelta(days=1)


def _lcfirst(value: str) -> str:
    # "Số trẻ dưới 6 tuổi" mid-sentence reads "số trẻ dưới 6 tuổi"; keep acronyms (BHYT).
    if len(value) > 1 and value[1].isupper():
        return value
    return value[:1].lower() + value[1:]


ROLE_NAMES = {
    "vi": {"leader": "tổ trưởng, trưởng bản",
           "council": "thành viên Hội đồng Thi đua - Khen thưởng", "admin": "quản trị viên"},
    "en": {"leader": "group leader", "council": "member of the Emulation & Commendation Council",
           "admin": "administrator"},
}


def _role_name(role: str, lang: str = "vi") -> str:
    return ROLE_NAMES.get(lang, ROLE_NAMES["vi"]).get(str(role), str(role))


# Messengers by their proper names; a channel name not listed shows as it is.
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


def _channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(str(channel), str(channel))


class Texts:
    def __init__(self) -> None:
        # Jinja2 is imported with the first text rendered, not with this module: `thidua
        # run` polls before it needs one (and loads it meanwhile, `bot.subcommands`).
        from jinja2 import DictLoader, Environment, StrictUndefined, pass_context, select_autoescape

        mapping: dict[str, str] = {}
        for lang in LANGUAGES:
            mapping.update(_catalogue(lang))
        self._env = Environment(
            loader=DictLoader(mapping),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # `pass_context`: these two read the template's `lang`.
        self._env.filters.update(num=_num, d=_date, hm=pass_context(_datetime),
                                 prevday=_prevday, lcfirst=_lcfirst, mid=pass_context(_mid),
                                 clip=_clip)
        self._env.globals["role_name"] = _role_name
        self._env.globals["channel_name"] = _channel_name
        self._keys = {k.split("/", 1)[1] for k in mapping}

    def has(self, key: str) -> bool:
        return key in self._keys

    def __call__(self, key: str, lang: str = "vi", **ctx: Any) -> str:
        lang = lang if lang in LANGUAGES else "vi"
        name = f"{lang}/{key}"
        try:
            template = self._env.get_template(name)
        except Exception:
            # An English string not written yet falls back to Vietnamese.
            template = self._env.get_template(f"vi/{key}")
        # What the reader's messenger can do: `buttons` (else options are a numbered menu
        # the user answers by typing) and `edits` (else a progress message cannot be
        # updated). Unknown: Telegram's, which has both.
        ctx.setdefault("buttons", True)
        ctx.setdefault("edits", True)
        # Markup: a rendered message may be embedded in another without being escaped
        # twice, while plain user strings passed alongside are still escaped.
        return Markup(template.render(lang=lang, **ctx).strip())  # noqa: S704


@cache
def texts() -> Texts:
    return Texts()
