"""What a button says when it is pressed: a typed, versioned callback-data codec.

Telegram gives a button at most 64 bytes of callback data and hands them back verbatim,
possibly weeks later and from a message sent by an older release of the bot. So the
data carries a version, and anything this release did not write (another version,
the unversioned strings of earlier releases like `r:12:3:v.yes`, or garbage) decodes
to `EXPIRED`: the user is told the button is out of date, and nothing else happens.

Wire format, `|`-separated (no earlier release used `|`, so old data never parses):

    <version>|<flow>|<action>|<ids, base 36, comma-separated>|<arg>

e.g. `1|r|v|c,3|yes` = report 12, item 3, value "yes". Ids are base 36 so the largest
64-bit id takes 13 bytes; `arg` is last and may hold any text (a choice, category or
group code from config, a command name). Every flow's actions live here, in one
vocabulary, because the version covers all of them: change what an action means and
bump `VERSION`.

It sits below `handlers/` because the scheduler makes buttons too ("Báo cáo ngay").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final

VERSION: Final = "1"
MAX_BYTES: Final = 64  # Telegram's limit on callback_data
_SEP: Final = "|"
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


class Flow(StrEnum):
    """Who handles a pressed button."""

    COMMAND = "c"  # runs a chat command, e.g. /baocao from a reminder
    REPORT = "r"
    DEED = "g"
    REVIEW = "v"
    BROADCAST = "b"
    SIGNUP = "s"
    MEMBERS = "ms"  # an admin confirms a change to the roster (/thanhvien)


class CommandAction(StrEnum):
    RUN = "run"  # arg: the command, without "/"
    DETAIL = "d"  # arg: the command; ids: year, month: its detailed view of that period
    BULLETIN = "bt"  # arg: the command; ids: year, month: that month's loudspeaker bulletin


class ReportAction(StrEnum):
    VALUE = "v"  # ids: report, item; arg: the choice code
    BACK = "b"
    SKIP = "s"
    KEEP = "k"
    PAUSE = "p"  # from a question (ids: report, item) or the summary (ids: report)
    EDIT = "e"  # ids: report, item to correct (from the picker)
    SUBMIT = "ok"  # ids: report (summary buttons carry no item)
    PICK = "ed"
    SUMMARY = "sum"
    DONE = "done"
    CONFIRM = "cf"  # ids: report, item: "Ý là 1.234?" yes, store the figure being confirmed
    RETYPE = "rt"  # ids: report, item: no, ask the question again
    SOFT_OK = "y"  # ids: report, item: a figure a soft check asked about is right
    SOFT_REDO = "n"  # ids: report, item: ... it is not: ask the question again
    SAME = "nc"  # ids: report: last month's stocks and titles stand ("Không thay đổi")
    SAME_EDIT = "nce"  # ids: report: ... but one of them is to be corrected


class DeedAction(StrEnum):
    VALUE = "v"  # ids: deed, step index; arg: the chosen code
    BACK = "b"
    DISCARD = "x"
    OK = "ok"


class ReviewAction(StrEnum):
    FEATURE = "f"  # ids: deed
    PROPOSE = "p"
    NOT_NOW = "n"
    BROADCAST = "b"  # an admin spreads a featured deed


class BroadcastAction(StrEnum):
    DISCARD = "x"  # ids: broadcast
    BACK = "back"
    AUDIENCE = "a"  # arg: the audience
    TOGGLE = "t"  # arg: a group code
    GROUPS_DONE = "ok"
    SEND = "send"


class SignupAction(StrEnum):
    """The year's sign-up; ids: year, step index (the titles, then households, summary)."""

    YES = "y"  # the group registers for the title asked
    NO = "n"
    BACK = "b"
    SEND = "ok"  # from the summary: save the registration
    REDO = "e"  # from the summary: answer again from the first title


class MemberAction(StrEnum):
    """ids: the member the pending change is about (checked against the conversation)."""

    CONFIRM = "ok"
    CANCEL = "x"


Action = (CommandAction | ReportAction | DeedAction | ReviewAction | BroadcastAction
          | SignupAction | MemberAction)
ACTIONS: Final[dict[Flow, type[StrEnum]]] = {
    Flow.COMMAND: CommandAction,
    Flow.REPORT: ReportAction,
    Flow.DEED: DeedAction,
    Flow.REVIEW: ReviewAction,
    Flow.BROADCAST: BroadcastAction,
    Flow.SIGNUP: SignupAction,
    Flow.MEMBERS: MemberAction,
}


class Expired(Enum):
    """Data this release did not write: an old button, a future one, or garbage."""

    EXPIRED = "expired"


EXPIRED: Final = Expired.EXPIRED


class TooLong(ValueError):
    """A button whose data would not fit in 64 bytes (a bug or an over-long code)."""


@dataclass(frozen=True)
class Button:
    flow: Flow
    action: Action
    ids: tuple[int, ...] = ()
    arg: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS[self.flow]:  # e.g. a deed action on a report button
            raise ValueError(f"{self.action!r} is not an action of flow {self.flow!r}")

    def id(self, n: int) -> int | None:
        """The n-th id, or None when the button carries fewer."""
        return self.ids[n] if n < len(self.ids) else None


def command(name: str) -> str:
    """Data for a button that runs a chat command (e.g. "baocao")."""
    return encode(Button(Flow.COMMAND, CommandAction.RUN, (), name))


def encode(button: Button) -> str:
    ids = ",".join(_base36(i) for i in button.ids)
    data = _SEP.join((VERSION, button.flow.value, button.action.value, ids, button.arg))
    if len(data.encode()) > MAX_BYTES:
        raise TooLong(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Button | Expired:
    """The button, or EXPIRED for anything this release did not write.

    One exception: the first release's command buttons (`c:baocao`, the "Báo cáo ngay"
    of reminders already in leaders' chats) still run their command. Their meaning never
    changed, and the command checks who may use it as a typed one does.
    """
    if not data or len(data.encode()) > MAX_BYTES:  # never written by `encode`
        return EXPIRED
    legacy = _LEGACY_COMMAND.fullmatch(data)
    if legacy is not None:
        return Button(Flow.COMMAND, CommandAction.RUN, (), legacy.group(1))
    parts = data.split(_SEP, 4)
    if len(parts) != 5 or parts[0] != VERSION:
        return EXPIRED
    _, flow_s, action_s, ids_s, arg = parts
    try:
        flow = Flow(flow_s)
        action = ACTIONS[flow](action_s)
        ids = tuple(_from_base36(s) for s in ids_s.split(",")) if ids_s else ()
    except ValueError:
        return EXPIRED
    return Button(flow, action, ids, arg)  # type: ignore[arg-type]  # one of ACTIONS


_LEGACY_COMMAND = re.compile(r"c:([a-z]{1,20})")


def _base36(n: int) -> str:
    if n < 0:
        raise ValueError(f"ids are never negative: {n}")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def _from_base36(s: str) -> int:
    # int() alone would also take "+1", " 1", "1_0": only what `_base36` writes is ours.
    if not s or any(c not in _DIGITS for c in s) or (len(s) > 1 and s[0] == "0"):
        raise ValueError(s)
    return int(s, 36)
