"""A reply's parts to one chat, timed on a fake clock: the first at once, each later
message a second after the previous one, an edit in place unpaced, a 429 waited out and
the same part sent again — a few times at most, and never a long flood wait."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram import reply_pace
from bot.channels.telegram.reply_pace import ReplyPace

# PTB 22 itself reads `retry_after` when it builds a RetryAfter, and warns that the int
# form is going: that is PTB talking to PTB, nothing this code can change.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Chat:
    """A fake clock and a record of when each call reached Telegram."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sent: list[tuple[str, float]] = []
        self.floods: list[float] = []  # retry_after of the next calls, one each

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def send_message(self, text: str) -> bool:
        return self._call(text)

    async def edit_message_text(self, text: str) -> bool:
        return self._call(text)

    def _call(self, text: str) -> bool:
        if self.floods:
            raise RetryAfter(timedelta(seconds=self.floods.pop(0)))
        self.sent.append((text, self.now))
        self.now += 0.05  # the request's own round trip
        return True

    def pace(self) -> ReplyPace:
        return ReplyPace(1.0, clock=lambda: self.now, sleep=self.sleep)


async def test_later_messages_wait_a_second_after_the_previous_one() -> None:
    chat = Chat()
    pace = chat.pace()
    await pace(partial(chat.edit_message_text, "the pressed message, edited"), True)
    await pace(partial(chat.send_message, "preview"), True)
    await pace(partial(chat.send_message, "Gửi?"), False)
    await pace(partial(chat.send_message, "third"), False)
    times = [t for _, t in chat.sent]
    assert times[1] == pytest.approx(0.05)  # an edit is not a message: no wait after it
    assert times[2] == pytest.approx(1.1) and times[3] == pytest.approx(2.15)


async def test_a_429_is_waited_out_and_the_same_part_sent_again() -> None:
    chat = Chat()
    pace = chat.pace()
    await pace(partial(chat.send_message, "part 1"), True)
    chat.floods = [3]
    await pace(partial(chat.send_message, "part 2"), False)
    await pace(partial(chat.send_message, "part 3"), False)
    assert [text for text, _ in chat.sent] == ["part 1", "part 2", "part 3"]
    assert chat.sent[1][1] >= 1.05 + 3  # refused at 1.05 s, sent again 3 s later
    assert chat.sent[2][1] - chat.sent[1][1] >= 1.0


async def test_the_part_is_given_up_after_a_few_429s() -> None:
    chat = Chat()
    chat.floods = [1] * reply_pace.ATTEMPTS
    with pytest.raises(RetryAfter):
        await chat.pace()(partial(chat.send_message, "part 1"), True)
    assert chat.sent == [] and chat.now == reply_pace.ATTEMPTS - 1  # waited between tries


async def test_a_long_flood_wait_is_not_sat_out() -> None:
    chat = Chat()
    chat.floods = [int(reply_pace.MAX_WAIT) + 1]
    with pytest.raises(RetryAfter):
        await chat.pace()(partial(chat.send_message, "part 1"), True)
    assert chat.now == 0.0
