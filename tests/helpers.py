"""Drive the transport-agnostic handlers like a person would, without any channel."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from handlers.router import handle
from models import Group, Role
from models.invites import create_invite
from reporting.messages import Incoming, Option, Reply
from reporting.services import Services

TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(TAGS.sub("", text))


async def make_invite(app: Services, group_code: str | None, role: str = "leader",
                      ttl: timedelta = timedelta(days=7)) -> str:
    async with app.sessions() as s, s.begin():
        group = None
        if group_code is not None:
            group = await s.scalar(select(Group).where(Group.code == group_code))
        code, _ = await create_invite(s, group, Role(role), app.clock(), ttl, key=app.invites)
    return code


@dataclass
class Person:
    """A chat user talking to the handlers directly (channel "test")."""

    app: Services
    user_id: str
    name: str
    replies: list[Reply] = field(default_factory=list)
    _next_msg: int = 1
    channel: str = "test"  # "telegram" where a test needs config's Telegram chat ids

    def _inc(self, **kw: object) -> Incoming:
        return Incoming(channel=self.channel, chat_id=self.user_id, user_id=self.user_id,
                        display_name=self.name, **kw)  # type: ignore[arg-type]

    async def send(self, text: str) -> Reply:
        if text.startswith("/"):
            word, *rest = text.split()
            inc = self._inc(text=text, command=word[1:].lower(), args=tuple(rest))
        else:
            inc = self._inc(text=text)
        return await self._go(inc)

    async def send_photos(self, *file_ids: str) -> Reply:
        return await self._go(self._inc(photos=tuple(file_ids)))

    async def press(self, label: str) -> Reply:
        option = self.find(label)
        return await self._go(self._inc(callback=option.data, message_id="1"))

    async def press_data(self, data: str) -> Reply:
        return await self._go(self._inc(callback=data, message_id="1"))

    async def _go(self, inc: Incoming) -> Reply:
        reply = await handle(self.app, inc)
        self.replies.append(reply)
        return reply

    def options(self) -> list[Option]:
        for reply in reversed(self.replies):
            for out in reversed(reply.messages):
                if out.options:
                    return [o for row in out.options for o in row]
        return []

    def find(self, label: str) -> Option:
        opts = self.options()
        exact = [o for o in opts if o.label == label]
        loose = [o for o in opts if label.lower() in o.label.lower()]
        found = exact or loose
        assert len(found) >= 1, f"no button {label!r} among {[o.label for o in opts]}"
        return found[0]

    @property
    def last_text(self) -> str:
        return plain(self.replies[-1].messages[-1].text) if self.replies[-1].messages else ""

    @property
    def all_text(self) -> str:
        return "\n".join(plain(o.text) for o in self.replies[-1].messages)


MONTH = ["households", "cultured_families", "residents", "health_insured", "internet_users",
         "children_under_5", "children_under_6", "safe_area", "drug_free", "cultured_group",
         "sanitation", "notes"]


LAN_MARCH = {  # Lan's consistent month for Tổ 1 (typed answers)
    "households": "120", "cultured_families": "118", "residents": "450",
    "health_insured": "430", "internet_users": "440", "children_under_5": "30",
    "children_under_6": "40", "safe_area": "đạt",
    "drug_free": "đạt", "cultured_group": "chưa đạt", "sanitation": "1"}


async def submit_month(person: Person, answers: dict[str, str]) -> None:
    """Answer every question of /baocao in order (typed), then submit."""
    await person.send("/baocao")
    for code in MONTH:
        await person.send(answers.get(code, "bỏ qua"))
        assert "⚠️" not in person.all_text, (code, person.all_text)
    await person.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" in person.all_text, person.all_text


async def register(app: Services, user_id: str, name: str, group: str | None = "to-1",
                   role: str = "leader") -> Person:
    person = Person(app, user_id, name)
    code = await make_invite(app, group, role)
    await person.send(f"/start {code}")
    assert "đăng ký thành công" in person.last_text, person.last_text
    return person
