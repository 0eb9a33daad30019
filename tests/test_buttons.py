"""The callback-data codec: what a button says survives the round trip through Telegram,
fits its 64 bytes, and a button this release did not make is never acted on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.router import FLOWS
from reporting.buttons import (
    ACTIONS,
    EXPIRED,
    MAX_BYTES,
    Button,
    CommandAction,
    DeedAction,
    Flow,
    ReportAction,
    TooLong,
    command,
    decode,
    encode,
)

LARGEST_ID = 2**63 - 1  # a BIGINT; today's ids are 32-bit INTEGERs
# The longest argument config allows: an indicator choice is ≤16, a good-deed category
# ≤40 characters of [a-z0-9_], a group code ≤32 of [a-z0-9-].
LONGEST_CATEGORY = "c" * 40

ids = st.integers(min_value=0, max_value=LARGEST_ID)
items = st.integers(min_value=0, max_value=999)  # an item or step index
codes = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,31}", fullmatch=True)


@st.composite
def buttons(draw: st.DrawFn) -> Button:
    """Any button's shape: a record id, maybe an item of it, maybe a code or a command."""
    flow = draw(st.sampled_from(list(Flow)))
    action = draw(st.sampled_from(list(ACTIONS[flow])))
    shape = draw(st.sampled_from([(), (ids,), (ids, items)]))
    return Button(flow, action, tuple(draw(s) for s in shape),  # type: ignore[arg-type]
                  draw(st.one_of(st.just(""), codes)))


@given(buttons())
def test_every_button_decodes_to_itself(button: Button) -> None:
    data = encode(button)
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == button


def test_the_largest_buttons_fit_in_64_bytes() -> None:
    # A good-deed category button: two ids and the longest code config accepts.
    deed = Button(Flow.DEED, DeedAction.VALUE, (LARGEST_ID, 6), LONGEST_CATEGORY)
    report = Button(Flow.REPORT, ReportAction.VALUE, (LARGEST_ID, 999), "c" * 16)
    for button in (deed, report):
        data = encode(button)
        assert len(data.encode()) <= 64, data
        assert decode(data) == button


def test_a_button_that_cannot_fit_is_refused_when_made_not_when_pressed() -> None:
    with pytest.raises(TooLong):
        encode(Button(Flow.DEED, DeedAction.VALUE, (LARGEST_ID, 6), "c" * 50))
    with pytest.raises(ValueError):  # a deed's action on a report's button
        Button(Flow.REPORT, DeedAction.DISCARD, (1,))


@pytest.mark.parametrize("old", [
    "q:3", "r:12:3:v.yes", "r:12:-:ok", "g:5:0:v.person", "v:5:f", "b:7:send:",
    "c:bao cao", "c:", "c:BAOCAO",  # every format the previous release wrote…
    "0|r|v|c,3|yes", "2|r|v|c,3|yes",  # an unknown version, older or newer
    "1|z|v|c|", "1|r|zz|c|", "1|r|v|-1|", "1|r|v|0c|", "1|r|v|c,|", "1|r|v| c|",  # garbage
    "1|r|v|c", "", "|||||", "1|r|v|c|" + "y" * 60,  # more than Telegram would carry
])
def test_old_or_garbled_data_is_out_of_date(old: str) -> None:
    assert decode(old) is EXPIRED


@given(st.text(max_size=80))
def test_any_text_decodes_to_a_valid_button_or_expired(text: str) -> None:
    result = decode(text)
    assert result is EXPIRED or encode(result) == text or text == f"c:{result.arg}"


def test_the_first_releases_command_buttons_still_run_their_command() -> None:
    """…but for "Báo cáo ngay" in reminders already sent: it still means /baocao."""
    assert decode("c:baocao") == Button(Flow.COMMAND, CommandAction.RUN, (), "baocao")


def test_every_button_flow_has_a_handler() -> None:
    for flow in Flow:
        spec = FLOWS.for_button(flow)
        assert spec is not None and spec.on_button is not None, flow
    assert decode(command("baocao")) == Button(Flow.COMMAND, CommandAction.RUN, (), "baocao")
