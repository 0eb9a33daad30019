"""The flow kernel: named steps, where a user is, and the registry the router consults.

A flow is a conversation that spans several events (the monthly report, a good deed,
a broadcast, registering). Its position is one `conversations` row, loaded once per
event by the router into `ctx.conv`; flows move it with `goto` and close it with `end`,
so no handler reads or writes that row on its own.

A step is a `StrEnum` member, optionally with an item index (the report asks item i).
It is stored in the `step` column as `name` or `name:index`, the very strings earlier
releases wrote (`q:3`, `summary`, `photos`), so a conversation left half-way before an
upgrade resumes where it was. What does not parse is not guessed at: the flow falls
back to its first unanswered step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from handlers.context import Ctx
from models import Conversation
from models.queries import enter_conversation
from reporting.buttons import Button, Flow
from reporting.messages import Reply


class FlowName(StrEnum):
    """The `conversations.flow` column: which flow a user is in."""

    REGISTER = "register"
    REPORT = "report"
    DEED = "deed"
    BROADCAST = "broadcast"
    SIGNUP = "signup"
    MEMBERS = "members"  # an admin's roster change waiting for confirmation


S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class At(Generic[S]):
    """A position in a flow: a named step, and the item it is about where it has one."""

    step: S
    index: int | None = None

    def __str__(self) -> str:
        return self.step.value if self.index is None else f"{self.step.value}:{self.index}"


def parse_step(steps: type[S], raw: str | None) -> At[S] | None:
    """`"q:3"` → At(Step.QUESTION, 3); None for anything that is not one of `steps`."""
    name, sep, index = (raw or "").partition(":")
    try:
        step = steps(name)
    except ValueError:
        return None
    if not sep:
        return At(step)
    if not index.isdigit():
        return None
    return At(step, int(index))


async def goto(ctx: Ctx, flow: FlowName, at: At[S] | StrEnum, data: dict[str, object]) -> None:
    """Move the user to `at`: the loaded row is changed in place (one UPDATE at commit)."""
    conv = ctx.conv
    step = str(at) if isinstance(at, At) else at.value
    if conv is None:
        # Insert-on-conflict, not session.add: a concurrent first message of this user
        # may create the row first, and then this event takes it over.
        conv = await enter_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id,
                                        flow=flow.value, step=step, data=dict(data),
                                        now=ctx.now)
        ctx.conv = conv
    if conv.flow != flow.value or conv.step != step or conv.data != data:
        conv.flow, conv.step, conv.data = flow.value, step, dict(data)
    conv.updated_at = ctx.now


async def end(ctx: Ctx) -> None:
    """Close whatever flow the user is in."""
    conv, ctx.conv = ctx.conv, None
    if conv is None:
        return
    await ctx.session.delete(conv)
    # Now, not at commit: a flow that starts again in this same event inserts a row
    # with the same (channel, user) at once, and that insert must not meet this row.
    await ctx.session.flush()


TextHandler = Callable[[Ctx, Conversation], Awaitable[Reply | None]]
ButtonHandler = Callable[[Ctx, Button], Awaitable[Reply]]
ResumeHandler = Callable[[Ctx, Conversation], Awaitable[Reply]]
CancelHandler = Callable[[Ctx, Conversation], Awaitable[str]]


@dataclass(frozen=True)
class FlowSpec:
    """What a flow answers to.

    `on_text` gets the user's messages while they are in the flow (None: not for this
    flow, the router carries on); `on_button` gets its decoded buttons; `resume` shows
    where the user stands, after a button that is out of date; `on_cancel` says, on
    `/huy`, what was stopped and what became of it (the router then ends the flow).
    """

    name: FlowName | None  # None: only buttons, no conversation (the Council's review)
    button: Flow | None = None
    on_text: TextHandler | None = None
    on_button: ButtonHandler | None = None
    resume: ResumeHandler | None = None
    on_cancel: CancelHandler | None = None
    for_members: bool = True  # registering is the one flow for people not yet members


class Flows:
    """The registry: flows by conversation name and by button."""

    def __init__(self, specs: Iterable[FlowSpec]) -> None:
        self._by_name: dict[str, FlowSpec] = {}
        self._by_button: dict[Flow, FlowSpec] = {}
        for spec in specs:
            if spec.name is not None:
                assert spec.name.value not in self._by_name, f"flow {spec.name} twice"
                self._by_name[spec.name.value] = spec
            if spec.button is not None:
                assert spec.button not in self._by_button, f"buttons {spec.button} twice"
                self._by_button[spec.button] = spec

    def of(self, conv: Conversation | None) -> FlowSpec | None:
        """The flow a conversation row is in (None for a flow this release does not know)."""
        return self._by_name.get(conv.flow) if conv is not None else None

    def for_button(self, flow: Flow) -> FlowSpec | None:
        return self._by_button.get(flow)
