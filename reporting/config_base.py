"""What every section of config.yaml shares: strict models and how mistakes are carried.

Both halves of the file's schema build on it: the ward's plan (`reporting.config`) and
the runtime settings (`reporting.runtime_config`). `reporting.config_file` turns the
carried mistakes into `file: key: reason` lines.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConfigError(Exception):
    """A configuration mistake, already phrased as `file: key: reason`."""


Loc = tuple[int | str, ...]


class Problems(ValueError):
    """Every mistake a cross-check found, each at a key below the model being checked.

    Raised from a model validator; `config_file` reports each one at its own key
    instead of one message at the model's key.
    """

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(msg for _, msg in problems))
        self.problems = problems


class Strict(BaseModel):
    # Unknown keys are mistakes (a typo like `requird` must not be silently ignored).
    model_config = ConfigDict(extra="forbid", frozen=True)


CODE = r"^[a-z][a-z0-9_]*$"
Comparator = Literal["<", "<=", ">", ">=", "=="]


class Text(Strict):
    """A user-visible string in Vietnamese, with an optional English version."""

    vi: str = Field(min_length=1)
    en: str | None = None

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.vi


class Choice(Strict):
    """One answer of a choice question, or one good-deed category."""

    code: Annotated[str, Field(pattern=CODE, max_length=16)]
    label: Text
