"""Lan and Hùng, both leaders of Tổ 1, share one draft; Thảo and Mai, admins, the ward's.

What is submitted is exactly the summary its submitter confirmed; each sees what the
other changed since they last looked; every change of an answer leaves an audit row.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import delete, func, select

from handlers.context import Ctx
from handlers.flow import FlowName, goto
from handlers.report_load import load_for_member
from handlers.report_store import store
from handlers.report_views import SUMMARY, Draft
from models import AuditEntry, Conversation, Period, Report, ReportStatus, ReportValue
from models.queries import who_is
from reporting.buttons import Button, ReportAction, decode
from reporting.digest_load import group_reports
from reporting.messages import Incoming, Option
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, MONTH, Person, plain, register

ITEM = re.compile(r"^(\d+)\. [^:]+: (.+)$")


def _lines(summary: str) -> dict[int, str]:
    found = (ITEM.match(line) for line in plain(summary).splitlines())
    return {int(m[1]): m[2] for m in found if m}


def items(summary: str) -> dict[int, str]:
    """The summary's lines "1. Số hộ: 120 hộ" as {1: "120 hộ"} (the ✏️ mark left out)."""
    return {n: value.removesuffix(" ✏️") for n, value in _lines(summary).items()}


def marked(summary: str) -> set[int]:
    """The items the summary marks as changed by someone else."""
    return {n for n, value in _lines(summary).items() if value.endswith(" ✏️")}


async def answer_all(person: Person, answers: dict[str, str]) -> None:
    await person.send("/baocao")
    for code in MONTH:
        await person.send(answers.get(code, "bỏ qua"))
    assert "Kiểm tra lại báo cáo" in person.last_text, person.last_text


async def stored(services: Services) -> tuple[Report, dict[str, str | None]]:
    async with services.sessions() as s:
        report = (await s.scalars(select(Report))).one()
        values = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
    return report, values


async def audit(services: Services) -> list[tuple[str, str | None, str | None, str | None]]:
    async with services.sessions() as s:
        rows = (await s.execute(
            select(AuditEntry.indicator, AuditEntry.old_value, AuditEntry.new_value,
                   AuditEntry.reason, AuditEntry.member_id, AuditEntry.at)
            .order_by(AuditEntry.id))).all()
    assert all(r.member_id is not None and r.at is not None for r in rows)
    return [(r.indicator, r.old_value, r.new_value, r.reason) for r in rows]


async def test_a_submit_after_the_other_leader_changed_shows_the_summary_again(
        services: Services, clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    hung = await register(services, "101", "Trần Văn Hùng")
    await answer_all(lan, LAN_MARCH)
    lans_summary = lan.replies[-1].messages[-1]
    assert items(lans_summary.text)[1] == "120 hộ"

    clock.advance(minutes=5)
    await hung.send("/baocao")  # everything is answered: Hùng lands on the summary
    assert "Lan đã sửa mục 1, 2" in hung.last_text  # what Lan did, before he saw it
    await hung.press("Sửa một mục")
    await hung.press("1. Số hộ")
    await hung.send("125")
    assert items(hung.replies[-1].messages[-1].text)[1] == "125 hộ"

    clock.advance(minutes=2)
    await lan.press_data(decode_submit(lans_summary.options))  # her summary said 120
    report, values = await stored(services)
    assert report.status == ReportStatus.DRAFT and values["households"] == "125"
    again = lan.replies[-1].messages[-1].text
    assert items(again)[1] == "125 hộ" and marked(again) == {1}
    assert "Hùng đã sửa mục 1" in plain(again)

    await lan.press("Gửi báo cáo")  # the summary as it is now: confirmed, submitted
    report, values = await stored(services)
    assert report.status == ReportStatus.SUBMITTED
    async with services.sessions() as s:
        lan_id = await s.scalar(select(Report.submitted_by))
    assert lan_id is not None
    # Exactly what she confirmed: the summary's figures are the stored ones.
    await lan.send("/baocao")
    assert items(lan.last_text) == items(again)
    assert await audit(services) == [("households", "120", "125", "draft")]


def decode_submit(options: list[list[Option]]) -> str:
    """The data of the summary's "Gửi báo cáo" button (it carries the version shown)."""
    for option in (o for row in options for o in row):
        button = decode(option.data)
        if isinstance(button, Button) and button.action is ReportAction.SUBMIT:
            assert button.arg.isdigit()
            return option.data
    raise AssertionError("no submit button")


async def test_a_typed_gui_submits_only_the_summary_last_shown(services: Services,
                                                               clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    hung = await register(services, "101", "Trần Văn Hùng")
    await answer_all(lan, LAN_MARCH)
    await hung.send("/baocao")
    await hung.press("Sửa một mục")
    await hung.press("3. Nhân khẩu")
    await hung.send("455")
    await lan.send("gửi")
    report, values = await stored(services)
    assert report.status == ReportStatus.DRAFT and values["residents"] == "455"
    assert marked(lan.last_text) == {3}
    await lan.send("gửi")
    report, _ = await stored(services)
    assert report.status == ReportStatus.SUBMITTED


async def test_interleaved_answers_each_see_the_others_and_every_change_is_audited(
        services: Services, clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    hung = await register(services, "101", "Trần Văn Hùng")
    await lan.send("/baocao")
    await lan.send("120")  # 1
    await hung.send("/baocao")  # resumes at question 2: Lan's answer is there
    assert "Câu 2/12" in hung.last_text and "Lan đã sửa mục 1" in hung.last_text
    await hung.send("118")  # 2, by Hùng
    await lan.send("117")  # Lan is at 2 too: she replaces Hùng's answer
    assert "Câu 3/12" in lan.last_text
    await hung.send("450")  # Hùng's next question was 3
    assert "Lan đã sửa mục 2" in hung.all_text
    await lan.send("451")  # 3 again, over Hùng's
    assert "Hùng đã sửa" not in lan.last_text  # she has just overwritten his only news
    assert await audit(services) == [("cultured_families", "118", "117", "draft"),
                                     ("residents", "450", "451", "draft")]
    _, values = await stored(services)
    assert {k: values[k] for k in ("households", "cultured_families", "residents")} == {
        "households": "120", "cultured_families": "117", "residents": "451"}
    async with services.sessions() as s:
        version = await s.scalar(select(Report.version))
    assert version == 5  # five changes, five versions


async def test_a_correction_after_submission_is_still_a_correction(services: Services,
                                                                   clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    hung = await register(services, "101", "Trần Văn Hùng")
    await answer_all(lan, LAN_MARCH)
    await lan.send("sửa")  # a second thought before sending: a draft change
    await lan.send("2")
    await lan.send("119")
    await lan.press("Gửi báo cáo")
    await hung.send("/baocao")
    await hung.press("Sửa một mục")
    await hung.press("1. Số hộ")
    await hung.send("121")
    assert await audit(services) == [("cultured_families", "118", "119", "draft"),
                                     ("households", "120", "121", "correction")]
    async with services.sessions() as s:
        to_1 = next(g for g in await group_reports(s, "2022-03") if g.code == "to-1")
    assert to_1.corrections == 1  # the Council counts corrections, not draft changes


async def test_two_admins_starting_together_share_one_ward_report(
        services: Services, clock: Clock) -> None:
    if services.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("concurrent writers are the PostgreSQL case")
    thao = await register(services, "9", "Thảo", None, "admin")
    mai = await register(services, "8", "Mai", None, "admin")
    for attempt in range(20):
        await asyncio.gather(thao.send("/baocao"), mai.send("/baocao"))
        assert "Câu 1/" in thao.last_text and "Câu 1/" in mai.last_text
        async with services.sessions() as s, s.begin():
            assert await s.scalar(select(func.count()).select_from(Report)) == 1
            await s.execute(delete(Conversation))
            await s.execute(delete(Report))
            if attempt % 2:
                # Every other try races on the month's row too (the loser of that race
                # waits for the winner's commit, so only the other tries race on the report).
                await s.execute(delete(Period))


async def test_a_change_slipping_in_mid_event_is_not_shown_as_seen(services: Services,
                                                                   clock: Clock) -> None:
    """Hùng's answer commits between Lan's event loading the draft and storing hers: her
    summary cannot include it, so its "Gửi" must not submit at the version after both."""
    if services.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("another writer inside a transaction is the PostgreSQL case")
    lan = await register(services, "100", "Nguyễn Thị Lan")
    hung = await register(services, "101", "Trần Văn Hùng")
    await answer_all(lan, LAN_MARCH)
    await hung.send("/baocao")
    await hung.press("Sửa một mục")
    await hung.press("3. Nhân khẩu")  # Hùng is about to type
    await lan.press("Sửa một mục")
    await lan.press("1. Số hộ")
    async with services.sessions() as s, s.begin():
        member, group, conv = await who_is(s, "test", "100")
        ctx = Ctx(services, s, Incoming("test", "100", "100", "Lan", text="125"), member,
                  group, clock(), conv)
        d = await load_for_member(ctx, (await s.scalars(select(Report.id))).one())
        assert isinstance(d, Draft)
        await hung.send("455")  # commits while Lan's event is under way
        await store(ctx, d, d.indicators[0], "125")
        assert d.report.version == d.known + 2  # hers and his: she was shown only hers
        await goto(ctx, FlowName.REPORT, SUMMARY, d.state())  # as her summary is shown
    await lan.send("/baocao")  # her next look at it: Hùng's change is news, marked
    assert marked(lan.last_text) == {3}
