"""Good-deed examples in config.yaml (`good_deeds:`): categories and photo handling."""

from __future__ import annotations

from pydantic import Field

from reporting.config_base import Choice, Strict, Text


class Category(Choice):
    """A good deed's field (lĩnh vực); `short` names it on a button, where the full name
    of a movement would be cut ("Toàn dân đoàn kết xây dựng đời sống v…")."""

    short: Text | None = None

    def button(self, lang: str) -> str:
        return (self.short or self.label).get(lang)


class GoodDeeds(Strict):
    """Good-deed examples (gương người tốt, việc tốt): categories and photo handling."""

    categories: list[Category] = Field(min_length=1)
    max_photos: int = Field(default=5, ge=0, le=10)
    # Photos are downloaded here (relative to the working directory) so exports and
    # digests work without Telegram.
    media_dir: str = "media"
    max_photo_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    # Photos older than this many days are deleted by a daily job (the deed's text
    # stays); None keeps them for as long as the deed is kept.
    photo_retention_days: int | None = Field(default=None, ge=1, le=36500)


def default_good_deeds() -> GoodDeeds:
    return GoodDeeds(categories=[Category(code="other", label=Text(vi="Khác", en="Other"))])
