"""The digest stays one or two messages at any number of groups (issue 14).

A commune of 1,500 groups got `/tonghop` as 7 messages and a province of 15,000 as 39,
because the detailed digest named every group on time, late, missing or flagged. Each
list now shows its count and at most `MAX_LISTED` names, the ones the Council most needs
to see, and points to the /xuat workbook for the rest; a 15-group ward reads as before.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.digest import Digest, GroupReport
from reporting.digest_lists import MAX_LISTED
from reporting.digest_text import render_digest, render_digest_detail
from reporting.messages import DEFAULT_LIMITS, Outgoing, split_text
from reporting.services import Services
from tests.helpers import plain
from tests.test_digest_phone import full_digest

CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
DUE = datetime(2022, 4, 5, 17, tzinfo=UTC)
LISTS = {"vi": {"on_time": "✅ Đúng hạn", "late": "⏰ Muộn", "missing": "⭕ Chưa nộp",
                "flagged": "⚠️ Số liệu cần lưu ý"},
         "en": {"on_time": "✅ On time", "late": "⏰ Late", "missing": "⭕ Missing",
                "flagged": "⚠️ Figures to check"}}
MORE = {"vi": re.compile(r" và ([\d.]+) tổ, bản khác \(gửi lệnh /xuat để nhận tệp Excel đầy đủ\)$"),
        "en": re.compile(r" and ([\d,]+) more groups \(full list in the /export workbook\)$")}


@pytest.fixture(scope="module")
def shipped() -> Settings:
    return load_settings(CONFIG)


def _group(i: int) -> GroupReport:
    """Group i of a large ward: 30% not reported (a third of them with a draft), 10% late
    (later the higher i), every 20th submitted with a figure to check."""
    code, name = f"g{i}", f"Tổ dân phố số {i}"
    if i % 10 < 3:
        return GroupReport(code, name, "draft" if i % 10 == 2 else "missing")
    late = i % 10 == 3
    at = DUE + timedelta(minutes=i) if late else DUE - timedelta(days=1)
    flagged = {"households": "asked"} if i % 20 == 5 else {}
    if i % 40 == 5:
        flagged = {"households": "confirmed"}
    return GroupReport(code, name, "submitted", late=late, submitted_at=at,
                       submitted_by="Lan", flagged=flagged)


def _ward(shipped: Settings, n: int) -> Digest:
    return replace(full_digest(shipped), groups=[_group(i) for i in range(n)])


def _services(settings: Settings) -> Services:
    return Services(settings, sessions=None)  # type: ignore[arg-type]  # text only


def _messages(out: Outgoing) -> int:
    """Telegram messages the reply becomes: one per file, then the text's parts."""
    return len(out.attachments) + len(split_text(str(out.text), DEFAULT_LIMITS.max_text))


def _number(text: str, lang: str) -> int:
    return int(text.replace("." if lang == "vi" else ",", ""))


def _lists(text: str, lang: str) -> dict[str, tuple[int, list[str], int]]:
    """Each list of the detail: (count, names shown, how many more it says)."""
    found = {}
    for line in plain(text).splitlines():
        for key, start in LISTS[lang].items():
            m = re.match(re.escape(start) + r" \(([\d.,]+)(?: \w.*)?\): (.*)$", line)
            if not m:
                continue
            rest, more = m.group(2), 0
            if tail := MORE[lang].search(rest):
                rest, more = rest[: tail.start()], _number(tail.group(1), lang)
            found[key] = (_number(m.group(1), lang), rest.split(", "), more)
    return found


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("n", [15, 1500, 15000])
def test_digest_is_at_most_two_messages_at_any_size(shipped: Settings, n: int,
                                                    lang: str) -> None:
    d = _ward(shipped, n)
    app = _services(shipped)
    short = render_digest(app, lang, d)
    detail = render_digest_detail(app, lang, d)
    assert _messages(short) <= 2 and _messages(detail) <= 2, n
    flagged = [g for g in d.groups if g.submitted and g.flagged]
    expected = {"on_time": len(d.on_time), "late": len(d.late), "missing": len(d.missing),
                "flagged": len(flagged)}
    lists = _lists(str(detail.text), lang)
    assert {k: v[0] for k, v in lists.items()} == expected
    for key, (count, names, more) in lists.items():
        assert len(names) == min(count, MAX_LISTED), key
        assert len(names) + more == count, key  # every group named or counted once
    # The short digest counts in the reader's format: "1.050/1.500 tổ, bản".
    submitted = len(d.on_time) + len(d.late)
    sep = "." if lang == "vi" else ","
    assert f"{submitted:,}/{n:,}".replace(",", sep) in plain(str(short.text))


def test_the_worst_are_named(shipped: Settings) -> None:
    d = _ward(shipped, 1500)
    lists = _lists(str(render_digest_detail(_services(shipped), "vi", d).text), "vi")
    # Not reported: groups that have not started come before those with a draft.
    not_started = [g.name for g in d.missing if g.state == "missing"]
    assert lists["missing"][1] == not_started[:MAX_LISTED]
    assert lists["missing"][2] == 450 - MAX_LISTED
    # Late: the latest submissions first.
    latest = sorted(d.late, key=lambda g: g.submitted_at or DUE, reverse=True)
    assert lists["late"][1] == [g.name for g in latest[:MAX_LISTED]]
    assert lists["late"][1][0] == "Tổ dân phố số 1493"  # the last of 1,500 to be late
    # Figures to check: the ones the leader has not confirmed first.
    asked = {g.name for g in d.groups if g.flagged.get("households") == "asked"}
    assert set(lists["flagged"][1]) <= asked


def test_a_list_up_to_the_limit_names_everyone_in_the_wards_order(shipped: Settings) -> None:
    d = _ward(shipped, 10 * MAX_LISTED)  # exactly MAX_LISTED late
    text = str(render_digest_detail(_services(shipped), "vi", d).text)
    count, names, more = _lists(text, "vi")["late"]
    assert (count, more) == (MAX_LISTED, 0)
    assert names == [g.name for g in d.late]  # as before: no ranking, nothing left out
    assert "khác" not in plain(text).split("⏰", 1)[1].splitlines()[0]
