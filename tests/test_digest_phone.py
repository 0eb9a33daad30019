"""A digest that fits a phone (issue 8, point 4).

The weekly digest for the shipped config, with all 15 groups reported and the ward
office's figures entered for January–March 2022, is at most 12 lines and 1,000
characters (the chart's caption apart); the full table is one button (or
`/tonghop chitiet`) away; value and goal show the same decimals; no "=0"; the chart's
labels are whole and it gives no verdict without data.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.router import handle
from models import Group, Member
from models.mutes import mute
from reporting.buttons import Button, CommandAction, Flow, decode
from reporting.chart import GREY, chart_layout, value_text
from reporting.chart_paint import Fonts
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.digest import DeedLine, Digest, GroupReport, Values
from reporting.digest_text import _row, render_digest, render_digest_detail
from reporting.messages import Incoming, Outgoing
from reporting.periods import period_dates
from reporting.services import Services
from reporting.targets import Figures, TargetResult, Verdict, judge_plan
from tests.helpers import Person, make_invite, plain, register

CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
MAX_LINES, MAX_CHARS = 12, 1000


@pytest.fixture(scope="module")
def shipped() -> Settings:
    return load_settings(CONFIG)


def _group_values(i: int) -> Values:
    return {"households": "100", "cultured_families": str(95 + i % 5), "residents": "400",
            "health_insured": str(370 + 4 * i), "internet_users": str(380 + i),
            "children_under_5": "30", "children_under_6": "40", "safe_area": "yes",
            "drug_free": "yes" if i else "no", "cultured_group": "yes" if i % 4 else "no",
            "sanitation": "1"}


WARD: list[Values] = [  # January–March 2022, as the ward office enters them
    {"production_value": "90", "budget_revenue": "700", "malnutrition_rate": "1.33",
     "new_poor_households": "0", "serious_incidents": "0", "alleys_asphalted": "1"},
    {"production_value": "95.5", "budget_revenue": "650", "new_poor_households": "2",
     "serious_incidents": "0", "vaccination_rate": "97.5"},
    {"production_value": "100", "budget_revenue": "720", "vaccination_rate": "99",
     "nursery_enrolment": "66", "kindergarten_enrolment": "98.5", "school_enrolment": "100",
     "promotion_rate": "99.2", "cultured_agencies": "100", "drug_free_agencies": "100",
     "agencies_security_standard": "95", "recruitment_done": "100",
     "militia_training_done": "80", "serious_incidents": "0", "alleys_asphalted": "2"},
]


def _deeds(n: int, status: str) -> list[DeedLine]:
    return [DeedLine(i, f"Bà Lò Thị Xuân Hương số {i}", f"Tổ dân phố {i}", "Giúp đỡ",
                     "Dọn vệ sinh đường ngõ, giúp đỡ hộ khó khăn trong tổ " * 3,
                     date(2022, 3, 10), status) for i in range(1, n + 1)]


def full_digest(settings: Settings, submitted: bool = True, ward: bool = True) -> Digest:
    """March 2022 read on 3 April: every group reported (one late), the ward's figures."""
    plan = settings.plan(2022)
    assert plan is not None
    groups = [GroupReport(g.code, g.name, "submitted" if submitted else "missing",
                          late=i == 1, values=_group_values(i) if submitted else {})
              for i, g in enumerate(settings.groups)]
    values = [g.values for g in groups if g.submitted]
    figures = Figures(month=3, groups_total=len(groups), groups=values,
                      groups_ytd=values * 3, ward_months=WARD if ward else [{}, {}, {}],
                      group_indicators=frozenset(i.code for i in settings.report.indicators))
    targets = judge_plan(plan, figures, baselines={"drug_free_groups": Decimal("86.7"),
                                                   "drug_free_agencies": Decimal("100")})
    return Digest(settings.ward.name, period_dates(settings.calendar, 2022, 3),
                  date(2022, 4, 3), groups, targets, plan,
                  new_deeds=_deeds(4, "new"), featured_deeds=_deeds(3, "featured"))


def _services(settings: Settings) -> Services:
    return Services(settings, sessions=None)  # type: ignore[arg-type]  # text only


def _text(out: Outgoing) -> str:
    return plain(str(out.text))


# --- the short digest -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_digest_for_all_groups_fits_a_phone(shipped: Settings, lang: str) -> None:
    d = full_digest(shipped)
    assert len(d.targets) == 23 and len(d.on_time) + len(d.late) == 15
    out = render_digest(_services(shipped), lang, d)
    text = _text(out)
    assert len(text.splitlines()) <= MAX_LINES, text
    assert len(text) <= MAX_CHARS, (len(text), text)
    assert len(str(out.text)) <= MAX_CHARS + 100  # the HTML tags add little
    assert len(out.attachments) == 1 and out.attachments[0].kind == "photo"  # one message


def test_short_digest_says_what_matters(shipped: Settings) -> None:
    d = full_digest(shipped)
    text = _text(render_digest(_services(shipped), "vi", d))
    lines = text.splitlines()
    assert lines[0] == "📊 Bản tin thi đua tháng 03/2022 · Phường Quyết Thắng"
    assert lines[1].startswith(
        "📝 15/15 tổ, bản đã nộp báo cáo (100%): 14 đúng hạn, 1 nộp muộn; hạn nộp")
    counts = {v: sum(1 for r in d.targets if r.verdict == v) for v in Verdict}
    assert (f"23 chỉ tiêu năm 2022: ✅ {counts[Verdict.MET]} đạt · "
            f"🟢 {counts[Verdict.ON_TRACK]} đúng tiến độ · "
            f"⚠️ {counts[Verdict.NOT_MET] + counts[Verdict.BEHIND]} chưa đạt hoặc chậm") in text
    attention = lines[lines.index("Chỉ tiêu cần quan tâm chỉ đạo:") + 1:][:3]
    assert len(attention) == 3 and all(line.startswith("⚠️ ") for line in attention)
    # The new poor households of February stay on the year's books, without "=0".
    assert "⚠️ Hộ nghèo, cận nghèo phát sinh mới: 2 hộ (chỉ tiêu: không để phát sinh)" in text
    assert "=0" not in text and "= 0" not in text
    assert ("⭐ Gương người tốt, việc tốt: 3 gương được đưa vào bản tin trong tháng; "
            "4 gương mới cần xem xét.") in text
    assert "⭐ Bà Lò Thị Xuân Hương số 1 (Tổ dân phố 1): Dọn vệ sinh đường ngõ" in text
    assert "/tonghop 2022-03 chitiet" in text


def test_missing_and_excused_groups(shipped: Settings) -> None:
    d = full_digest(shipped)
    groups = [GroupReport(g.code, g.name, "missing") if i >= 12 else g
              for i, g in enumerate(d.groups)]
    d = Digest(d.ward, d.period, d.today, groups, d.targets, d.plan, d.new_deeds,
               d.featured_deeds)
    muted = {groups[14].code: "Tổ trưởng nằm viện, tổ phó đi vắng cả tháng ba năm nay"}
    text = _text(render_digest(_services(shipped), "vi", d, muted))
    assert (f"⭕ Chưa nộp 2: {groups[12].name}, {groups[13].name}; tạm nghỉ báo cáo 1: "
            f"{groups[14].name} (Tổ trưởng nằm viện, tổ phó đi vắng cả…).") in text
    assert len(text.splitlines()) <= MAX_LINES and len(text) <= MAX_CHARS


def test_detail_button_and_full_table(shipped: Settings) -> None:
    d = full_digest(shipped)
    app = _services(shipped)
    out = render_digest(app, "vi", d)
    [[option, loudspeaker]] = out.options
    assert "Xem chi tiết" in option.label and "Bản tin loa" in loudspeaker.label
    assert decode(option.data) == Button(Flow.COMMAND, CommandAction.DETAIL, (2022, 3),
                                         "tonghop")
    detail = _text(render_digest_detail(app, "vi", d))
    assert d.plan is not None
    for t in d.plan.targets:
        assert t.label.vi in detail, t.code
    assert not render_digest_detail(app, "vi", d).attachments


# --- numbers as a ward official writes them ---------------------------------------------


def _result(d: Digest, code: str) -> TargetResult:
    return next(r for r in d.targets if r.target.code == code)


def _decimals(text: str) -> list[int]:
    return [len(m.group(2) or "") for m in re.finditer(r"(\d[\d.]*)(?:,(\d+))?%", text)]


def test_value_and_goal_in_the_same_decimals(shipped: Settings) -> None:
    d = full_digest(shipped)
    row = _row(_result(d, "nursery_enrolment"), "vi")
    assert (row["value"], row["goal"]) == ("66,0%", "≥66,0%")
    for r in d.targets:
        if r.value is None or r.target.compute.kind == "cumulative" or r.goal is None:
            continue
        row = _row(r, "vi")
        shown = f"{row['value']} / {row['goal']}"
        if r.target.unit and r.target.unit.vi == "%":
            decimals = _decimals(shown)
            assert len(decimals) == 2 and decimals[0] == decimals[1], shown
        chart = value_text(r, "vi")
        if "%" in chart:
            decimals = _decimals(chart)
            assert len(decimals) == 2 and decimals[0] == decimals[1], chart


def test_counts_that_must_stay_zero(shipped: Settings) -> None:
    d = full_digest(shipped)
    app = _services(shipped)
    detail = _text(render_digest_detail(app, "vi", d))
    assert "Hộ nghèo, cận nghèo phát sinh mới: 2 hộ (chỉ tiêu: không để phát sinh)" in detail
    assert "Vụ việc nghiêm trọng, phức tạp kéo dài: 0 vụ, không phát sinh" in detail
    assert "=0" not in detail and "= 0" not in detail
    assert value_text(_result(d, "new_poor_households"), "vi") == \
        "2 hộ (chỉ tiêu: không để phát sinh)"
    assert value_text(_result(d, "serious_incidents"), "vi") == "0 vụ, không phát sinh"


# --- the chart ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_chart_labels_are_whole(shipped: Settings, lang: str) -> None:
    d = full_digest(shipped)
    fonts = Fonts()
    layout = chart_layout(d, lang, fonts)
    assert len(layout.labels) == len(d.targets)
    for label, r in zip(layout.labels, d.targets, strict=True):
        text = label.text
        assert "…" not in text
        assert " ".join(text.split()) == " ".join(r.target.label.get(lang).split())
        assert text.count("\n") <= 1
        x0, _, x1, _ = fonts.box(label)  # inside the picture, left of the bars
        assert x0 >= 0 and x1 < layout.plot.x0, text


def test_no_verdict_without_data(shipped: Settings) -> None:
    d = full_digest(shipped, submitted=False, ward=False)
    assert all(r.verdict == Verdict.NO_DATA for r in d.targets)
    out = render_digest(_services(shipped), "vi", d)
    caption = str(out.attachments[0].caption)
    assert "0/23" not in caption and "chưa có số liệu" in caption, caption
    for r in d.targets:
        assert value_text(r, "vi").startswith("chưa có số liệu")
    bars = chart_layout(d, "vi", Fonts()).bars
    assert {b.colour for b in bars} == {GREY}  # all grey
    text = _text(out)
    assert "⚠️" not in text and "23 chỉ tiêu năm 2022: chưa có số liệu." in text


def test_caption_with_data_counts_judged_targets(shipped: Settings) -> None:
    d = full_digest(shipped)
    caption = str(render_digest(_services(shipped), "vi", d).attachments[0].caption)
    good = sum(1 for r in d.targets if r.met)
    judged = sum(1 for r in d.targets if r.met is not None)
    # The same groups as the digest's count line: judged, provisional, no data.
    assert f"trong {judged} chỉ tiêu đã đánh giá được, {good} chỉ tiêu đạt" in caption


# --- through the handlers ------------------------------------------------------------------


async def _council(services: Services) -> Any:
    return await register(services, "c1", "Chị Mai", group=None, role="council")


async def test_button_shows_the_full_table(services: Services) -> None:
    mai = await _council(services)
    reply = await mai.send("/tonghop 2022-03")
    assert len(reply.messages) == 1 and reply.messages[0].attachments
    assert len(mai.last_text.splitlines()) <= MAX_LINES
    reply = await mai.press("Xem chi tiết")
    plan = services.settings.plan(2022)
    assert plan is not None
    assert "(chi tiết)" in mai.last_text and not reply.messages[0].attachments
    for t in plan.targets:
        assert t.label.vi in mai.last_text, t.code


@pytest.mark.parametrize("command", ["/tonghop chitiet", "/tonghop 2022-03 chitiet",
                                     "/digest 2022-03 detail"])
async def test_tonghop_chitiet(services: Services, command: str) -> None:
    mai = await _council(services)
    await mai.send(command)
    plan = services.settings.plan(2022)
    assert plan is not None
    assert "03/2022" in mai.last_text and "(chi tiết)" in mai.last_text
    for t in plan.targets:
        assert t.label.vi in mai.last_text, t.code


async def test_muted_group_is_excused_with_its_reason(services: Services) -> None:
    mai = await _council(services)
    async with services.sessions() as s, s.begin():
        group = await s.scalar(select(Group).order_by(Group.id).limit(1))
        member_id = await s.scalar(select(Member.id).where(Member.display_name == "Chị Mai"))
        assert group is not None and member_id is not None
        await mute(s, group.id, "2022-03", member_id, "ốm dài ngày",
                   datetime(2022, 4, 1, tzinfo=UTC))
        name = group.name
    await mai.send("/tonghop 2022-03")
    assert f"tạm nghỉ báo cáo 1: {name} (ốm dài ngày)" in mai.last_text


async def test_the_detail_button_works_in_the_councils_group_chat(services: Services) -> None:
    """Minh reads the digest in the Council's group chat and presses "Xem chi tiết" there."""
    group_chat = -100200
    schedule = services.settings.schedule.model_copy(update={"council_chats": [group_chat]})
    services = replace(services, settings=services.settings.model_copy(
        update={"schedule": schedule}))
    minh = Person(services, "31", "Minh", channel="telegram")
    await minh.send(f"/start {await make_invite(services, None, 'council')}")

    def in_group(**kw: object) -> Incoming:
        return Incoming(channel="telegram", chat_id=str(group_chat), user_id=minh.user_id,
                        display_name=minh.name, private=False, **kw)  # type: ignore[arg-type]

    short = await handle(services, in_group(text="/tonghop", command="tonghop"))
    [[button, _loudspeaker]] = short.messages[0].options
    detail = await handle(services, in_group(callback=button.data, message_id="5"))
    plan = services.settings.plan(2022)
    assert plan is not None
    text = plain(detail.messages[0].text)
    assert all(t.label.vi in text for t in plan.targets)  # the full table, in the group
    chatter = await handle(services, in_group(text="Cảm ơn anh"))
    assert chatter.messages == []  # people talking among themselves: the bot stays quiet
