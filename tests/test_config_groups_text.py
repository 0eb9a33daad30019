"""config.yaml's `groups:` read by shape (`reporting.config_groups_text`): whatever the
file, the settings are those the YAML parser alone gives, and so are its mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting import config_file
from reporting.config_base import ConfigError
from reporting.config_file import _FastLoader, _load_yaml, _parse_yaml, load_settings
from reporting.config_groups_text import groups_apart
from tests.conftest import ROOT

SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")
BLOCK = SHIPPED[SHIPPED.index("groups:\n"):SHIPPED.index("group_changes:")]
RESOLVERS = _FastLoader.yaml_implicit_resolvers


def with_groups(block: str) -> str:
    """The shipped config.yaml with `block` (from `groups:` on) for its groups."""
    return SHIPPED.replace(BLOCK, block)


FLOW = "groups:\n" + "".join(f"  - {{code: to-{i}, name: Tổ {i}}}\n" for i in range(1, 40))
LISTED = "groups:\n" + "".join(f"- code: g-{i:05d}\n  name: Bản Nà {i} (cũ)\n"
                               for i in range(1, 40))
READ_BY_SHAPE = {
    "shipped": SHIPPED,
    "flow": with_groups(FLOW + "\n"),
    "codes YAML reads as text": with_groups(
        "groups:\n  - {code: 2022-1-1, name: T}\n  - {code: 1e5, name: Tổ Yes}\n"),
    "block, as yaml.safe_dump writes it": with_groups(LISTED),
    "blank lines and comments between": with_groups(
        "groups:\n  # the first ones\n  - {code: a-1, name: Tổ 1}\n\n  - {code: a-2, "
        "name: Khu Đông-Tây 2/3}\n# a comment at the margin\n  - {code: a-3, name: T.3}\n"),
    "at the end of the file": SHIPPED.replace(BLOCK, "") + FLOW,
    "at the end, no last newline": SHIPPED.replace(BLOCK, "") + FLOW.rstrip("\n"),
}
READ_BY_YAML = {
    "a name YAML reads as true": with_groups("groups:\n  - {code: to-1, name: Yes}\n"),
    "a code YAML reads as a number": with_groups("groups:\n  - {code: 123, name: Tổ}\n"),
    "a code YAML reads as a date": with_groups("groups:\n  - {code: 2022-01-01, name: T}\n"),
    "a code YAML reads as hexadecimal": with_groups("groups:\n  - {code: 0x1f, name: T}\n"),
    "a code YAML reads as nothing": with_groups("groups:\n  - {code: null, name: T}\n"),
    "quoted": with_groups('groups:\n  - {code: to-1, name: "Tổ 1"}\n'),
    "a comment after an item": with_groups("groups:\n  - {code: to-1, name: Tổ 1} # x\n"),
    "a name with a colon": with_groups("groups:\n  - {code: to-1, name: Tổ 1: Bắc}\n"),
    "a third key": with_groups("groups:\n  - {code: to-1, name: Tổ 1, x: 1}\n"),
    "an anchor": with_groups("groups:\n  - &g {code: to-1, name: Tổ 1}\n"),
    "two indentations": with_groups(
        "groups:\n  - {code: to-1, name: T}\n    - {code: to-2, name: U}\n"),
    "block name misplaced": with_groups("groups:\n- code: to-1\n   name: Tổ 1\n"),
    "block without its name": with_groups("groups:\n- code: to-1\n"),
    "an empty block": with_groups("groups:\n"),
    "a flow list": with_groups("groups: [{code: to-1, name: T}]\n"),
    "CRLF": with_groups(FLOW).replace("\n", "\r\n"),
    "written twice": with_groups(FLOW + FLOW),
}


@pytest.mark.parametrize("name", list(READ_BY_SHAPE))
def test_plain_groups_are_read_by_shape_as_yaml_reads_them(name: str) -> None:
    text = READ_BY_SHAPE[name]
    assert groups_apart(text, RESOLVERS) is not None  # the fast path is taken
    read = _parse_yaml(text)
    assert read == _load_yaml(text)
    assert read["groups"] and all(type(g["code"]) is str and type(g["name"]) is str
                                  for g in read["groups"])


@pytest.mark.parametrize("name", list(READ_BY_YAML))
def test_anything_else_is_left_to_yaml(name: str) -> None:
    text = READ_BY_YAML[name]
    assert groups_apart(text, RESOLVERS) is None
    try:
        expected = _load_yaml(text)
    except Exception as exc:  # the same mistake either way
        with pytest.raises(type(exc)):
            _parse_yaml(text)
    else:
        assert _parse_yaml(text) == expected


@pytest.mark.parametrize("mistake", ["calendar:\n  bad: [\n", "delivery: {a: 1\n",
                                     "ward:\n  name: x\n"])
def test_a_mistake_after_the_groups_is_told_at_its_own_line(
        mistake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(with_groups(LISTED) + mistake, encoding="utf-8")
    with pytest.raises(ConfigError) as by_shape:
        load_settings(path)
    monkeypatch.setattr(config_file, "groups_apart", lambda text, resolvers: None)
    with pytest.raises(ConfigError) as by_yaml:
        load_settings(path)
    assert str(by_shape.value) == str(by_yaml.value)
    assert "line" in str(by_shape.value)
