"""/binhxet (/review) in chat and `thidua review` on the command line, on a seeded 2022.

Mai sits on the Council; Lan leads Tổ 1. In February 2023 December 2022 has locked,
so the review of 2022 is final; in April 2022, the ward's first year with the bot,
there is no finished year and the review is of 2022 so far ("tạm tính").
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.demo_year import seed_year
from handlers.router import handle
from reporting.messages import Incoming, Reply
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import Person, plain, register

NAMES = ["binh-xet-thi-dua-2022.xlsx", "to-trinh-khen-thuong-2022.docx"]


async def _people(app: Services, *, seed: bool = True) -> tuple[Person, Person]:
    lan = await register(app, "1", "Lan")
    mai = await register(app, "5", "Mai", group=None, role="council")
    if seed:
        async with app.sessions() as s, s.begin():
            await seed_year(s, app.settings, 2022)
    return lan, mai


def _files(reply: Reply) -> list[str]:
    return [a.filename for m in reply.messages for a in m.attachments]


async def test_mai_gets_the_review_and_lan_is_refused(services: Services,
                                                      clock: Clock) -> None:
    lan, mai = await _people(services)
    clock.set_local(2023, 2, 1)
    reply = await mai.send("/binhxet 2022")
    [out] = reply.messages
    assert [a.kind for a in out.attachments] == ["document", "document"]
    assert _files(reply) == NAMES and all(a.data for a in out.attachments)
    sheets = load_workbook(BytesIO(out.attachments[0].data)).sheetnames
    assert sheets[0] == "Bình xét" and len(sheets) == 4
    paper = docx.Document(BytesIO(out.attachments[1].data))
    assert "TỜ TRÌNH" in [p.text for p in paper.paragraphs]
    text = plain(out.text)
    assert "2022" in text and "tạm tính" not in text
    assert "14/15" in text  # groups signed up: all but Tổ 6
    assert "1. Bản 2" in text  # the top of the ranking, with its rank

    refused = await lan.send("/binhxet 2022")
    assert _files(refused) == []
    assert refused.messages[0].text == services.t("council_only", "vi")


async def test_without_a_year_the_last_finished_one(services: Services, clock: Clock) -> None:
    _, mai = await _people(services)
    clock.set_local(2023, 2, 1)
    reply = await mai.send("/review")  # the English alias
    assert _files(reply) == NAMES and "tạm tính" not in plain(reply.messages[0].text)


async def test_in_the_first_year_it_is_this_year_so_far(services: Services,
                                                        clock: Clock) -> None:
    """April 2022: 2021 has no plan and no reports, so the review is of 2022 so far."""
    _, mai = await _people(services)
    clock.set_local(2022, 4, 3)
    reply = await mai.send("/binhxet")
    assert _files(reply) == NAMES
    assert "tạm tính" in plain(reply.messages[0].text)


@pytest.mark.parametrize("arg", ["2030", "22", "năm ngoái", "2022 2023"])
async def test_a_year_that_is_not_one_is_explained(services: Services, clock: Clock,
                                                   arg: str) -> None:
    _, mai = await _people(services, seed=False)
    clock.set_local(2023, 2, 1)
    reply = await mai.send(f"/binhxet {arg}")
    assert _files(reply) == []
    assert "/binhxet 2023" in plain(reply.messages[0].text)  # a year it would take


async def test_not_in_a_group_that_is_not_the_councils(services: Services,
                                                       clock: Clock) -> None:
    """Mai types /binhxet in a residents' group chat: names and figures stay out of it."""
    _, mai = await _people(services, seed=False)
    clock.set_local(2023, 2, 1)
    reply = await handle(services, Incoming(
        channel="test", chat_id="-100987", user_id=mai.user_id, display_name="Mai",
        text="/binhxet 2022", command="binhxet", args=("2022",), private=False))
    assert _files(reply) == []
    assert [m.text for m in reply.messages] == [services.t("council_chat_only", "vi")]


async def test_help_lists_it_for_the_council_only(services: Services) -> None:
    lan, mai = await _people(services, seed=False)
    assert "/binhxet" in plain((await mai.send("/trogiup")).messages[0].text)
    assert "/binhxet" not in plain((await lan.send("/trogiup")).messages[0].text)


# -- thidua review -----------------------------------------------------------------------------

@pytest.fixture
def seeded_file(seeded_cli_db: str, tmp_path: Path) -> Path:
    return tmp_path


def test_cli_writes_both_files(seeded_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = seeded_file / "ho-so"
    assert main(["review", "--year", "2022", "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / name) for name in NAMES]
    assert load_workbook(out / NAMES[0]).sheetnames[0] == "Bình xét"
    assert "TỜ TRÌNH" in [p.text for p in docx.Document(str(out / NAMES[1])).paragraphs]
    assert main(["review", "--year", "2022"]) == 0  # the current folder by default
    assert (seeded_file / NAMES[1]).exists()


@pytest.mark.parametrize(("year", "said"), [
    ("22", "Not a year"), ("hai nghìn", "Not a year"), ("3000", "Not a year"),
    ("2099", "has not begun")])
def test_cli_refuses_what_is_not_a_year(cli_db: str, tmp_path: Path, year: str, said: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--year", year]) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.docx"))
