"""Render cases for the roster's messages (issue 13, part A), for tests/test_texts.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from models.roster import Reach
from reporting.digest_lists import Listed
from reporting.roster_summary import RosterSummary

NASTY = "Tổ <b>1</b> & </code> «x»"
AT = datetime(2025, 4, 3, 9, 0, tzinfo=UTC)


def _row(active: bool, channels: tuple[Reach, ...], reason: str | None = NASTY,
         last: datetime | None = AT) -> dict[str, Any]:
    return {"id": 12, "name": NASTY, "role": "leader", "active": active,
            "reachable": any(not c.unreachable for c in channels), "channels": channels,
            "last": last, "since": None if active else AT, "reason": reason}


def member_cases(lang: str) -> Iterator[tuple[str, dict[str, Any]]]:
    both = (Reach("telegram", False), Reach("zalo", True))
    rows = [_row(True, both), _row(False, (), last=None), _row(False, both, reason=None)]
    yield "members_list", {"groups": [(NASTY, rows), (None, [_row(True, both)])],
                           "group": None, "total": 4, "active": 2}
    yield "members_list", {"groups": [], "group": NASTY, "total": 0, "active": 0}
    many = Listed(1_490, (NASTY, NASTY))
    yield "members_summary", {"s": RosterSummary(15_003, 14_990, 15_000, ((7, NASTY, "admin"),),
                                                 many, many)}
    yield "members_summary", {"s": RosterSummary(61, 61, 61, (), Listed(0, ()), Listed(0, ()))}
    yield "account_deactivated", {}
    yield "members_usage", {"codes": "to-1, to-2"}
    for key in ("members_bad_id", "members_bad_group"):
        yield key, {"text": NASTY, "codes": "to-1"}
    for key in ("members_unknown", "handover_unknown"):
        yield key, {"id": 12}
    yield "handover_not_leader", {"id": 12, "group": NASTY}
    yield "members_self", {}
    for key in ("members_not_leader", "members_already_off", "members_already_on",
                "members_unchanged", "members_done_off", "members_done_on"):
        yield key, {"id": 12, "name": NASTY}
    yield "members_already_there", {"id": 12, "name": NASTY, "group": NASTY}
    yield "members_done_move", {"id": 12, "name": NASTY, "group": NASTY}
    for reason, group in ((NASTY, NASTY), (None, None)):
        yield "members_confirm_off", {"id": 12, "name": NASTY, "role": "leader",
                                      "group": group, "reason": reason}
        yield "members_confirm_move", {"id": 12, "name": NASTY, "old": group, "new": NASTY}
    for key in ("members_yes", "members_no", "members_confirm_hint", "members_cancelled",
                "members_nothing_pending"):
        yield key, {}
    yield "handover_registered", {"addr": NASTY, "old": NASTY, "group": NASTY}
    yield "invite_created", {"code": "ABCD2345", "role": "leader", "group": NASTY,
                             "link": None, "expires": AT, "replaces": NASTY,
                             "replaces_id": 12}
    yield "fix_usage", {"codes": "to-1"}
    yield "fix_bad_indicator", {"text": NASTY, "n": 12, "codes": "households"}
    for draft in (True, False):
        yield "fix_no_report", {"group": NASTY, "period": "03/2025", "draft": draft}
    yield "fix_unsure", {"typed": NASTY, "number": "1.234", "words": NASTY}
    yield "fix_bad_value", {"label": NASTY, "error": NASTY}
    yield "fix_same", {"label": NASTY, "value": NASTY}
    params = {"group": NASTY, "period": "03/2025", "label": NASTY, "old": "120 hộ",
              "new": "125 hộ", "reason": NASTY}
    yield "fix_done", params
    yield "fix_notice", params
