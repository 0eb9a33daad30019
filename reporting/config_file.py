"""Reading config.yaml and explaining its mistakes: file, key and reason, one a line.

The schema lives in `reporting.config` (the plan, composing `reporting.runtime_config`
on `reporting.config_base`); this module turns YAML into `Settings` and pydantic's
errors into sentences a ward's engineer can act on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reporting.config import CODE, GROUP_CODE, Settings
from reporting.config_base import ConfigError, Loc, Problems
from reporting.config_groups_text import groups_apart


def _describe_loc(raw: Any, loc: Loc) -> str:
    """Turn pydantic's location into `datasets.group_monthly.indicators[3] (code).max`."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and "code" in node:
                    label += f" ({node['code']})"
            parts.append(label)
        elif item != "[key]":  # pydantic's marker for "the key itself is wrong"
            parts.append(("." if parts else "") + item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_PATTERN_HINTS = {
    CODE: "only lowercase letters without accents, digits and '_', starting with a letter "
          "(e.g. households)",
    GROUP_CODE: "only lowercase letters without accents, digits and '-' (e.g. to-1)",
}
_SHAPE_HINTS = {
    "Text": " like {vi: \"...\", en: \"...\"}",
    "Rule": " (or a rule written like 'indicator_a <= indicator_b')",
}


def _reason(err: ErrorDetails) -> str:
    """pydantic's message in words a ward's staff can act on."""
    kind, ctx, got = err["type"], err.get("ctx", {}), _show(err.get("input"))
    if kind == "extra_forbidden":
        return "unknown key (a typo, or in the wrong place?)"
    if kind == "missing":
        return "required key is missing"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"should be a whole number, got {got}"
    if kind in ("decimal_type", "decimal_parsing", "float_type", "float_parsing", "finite_number"):
        return f"should be a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"should be true or false, got {got}"
    if kind == "string_type":
        return f"should be text, got {got}"
    if kind == "list_type":
        return f"should be a list, got {got}"
    if kind in ("model_type", "dict_type"):
        return f"should be a mapping of keys{_SHAPE_HINTS.get(ctx.get('class_name', ''), '')}, " \
               f"got {got}"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item(s)"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "should not be empty"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_HINTS:
        return f"should use {_PATTERN_HINTS[ctx['pattern']]}, got {got}"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith("Input should be"):  # literals, enums, bounds: say what was written
        msg = f"{msg.removeprefix('Input ')}, got {got}"
    if err["loc"] and err["loc"][-1] == "[key]":
        msg = f"the key name {msg}"
    return msg


def parse_settings(raw: Any, source: str = "config.yaml") -> Settings:
    if raw is None:
        raise ConfigError(f"{source}: the file is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the file must be a mapping of keys (ward:, groups:, ...), "
                          f"got {_show(raw)}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not str(x).startswith("function-"))
            error = err.get("ctx", {}).get("error")
            if isinstance(error, Problems):
                lines += [f"{source}: {_describe_loc(raw, loc + sub)}: {msg}"
                          for sub, msg in error.problems]
            else:
                lines.append(f"{source}: {_describe_loc(raw, loc)}: {_reason(err)}")
        raise ConfigError("\n".join(lines)) from None


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The path given, else `./config.yaml`.

    The caller resolves `--config PATH` against THIDUA_CONFIG first
    (`bot.settings.Environment.config_path`): reporting/ never reads the environment.
    """
    return Path(explicit) if explicit else Path("config.yaml")


def _refuse_repeated_keys(loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode,
                          deep: bool) -> None:
    """A key written twice in one mapping is a mistake.

    Plain YAML loading keeps the last one silently, e.g. a second `targets:` section
    would replace the first.
    """
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice", key_node.start_mark)
            seen.add(key)
        except TypeError:  # an unhashable key: the base class reports it
            break


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_repeated_keys(self, node, deep)
        return super().construct_mapping(node, deep=deep)


class _FastLoader(yaml.CSafeLoader):
    """The same on libyaml's parser (PyYAML's wheels have it): the pure-Python parser
    took a third of a second of every start on config.yaml."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_repeated_keys(self, node, deep)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str) -> Any:
    apart = groups_apart(text, _FastLoader.yaml_implicit_resolvers)
    if apart is not None:
        raw = _load_yaml(apart.rest)
        if isinstance(raw, dict) and raw.get("groups") == []:
            raw["groups"] = apart.groups
            return raw
    return _load_yaml(text)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        # libyaml words its errors its own way; a mistake is read again by the
        # pure-Python parser, whose messages (line, column, what) are the ones shown.
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: file not found (use --config PATH or THIDUA_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text (save the file as UTF-8)") from None
    try:
        raw = _parse_yaml(text)
    except yaml.YAMLError as exc:
        where, problem = "", str(exc).replace("\n", " ")
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            if mark is not None:
                where = f"line {mark.line + 1}, column {mark.column + 1}: "
            if exc.problem:
                problem = exc.problem + (f" ({exc.context})" if exc.context else "")
        raise ConfigError(f"{p}: {where}not valid YAML: {problem}") from None
    return parse_settings(raw, str(p))
