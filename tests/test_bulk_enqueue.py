"""A whole audience goes into the outbox in one statement (per 1,000 rows), not one per
member (issue 14: a broadcast to 1,000 leaders was 1,001 INSERTs holding the update loop
for over a second), and stays idempotent: enqueued again, nothing is added."""

from __future__ import annotations

from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from models import Identity, Member, OutboxMessage, Role
from models.outbox_ops import BULK_ROWS, enqueue_to_members
from reporting.services import Services


async def _members(app: Services, n: int) -> list[int]:
    now = app.clock()
    async with app.sessions() as s, s.begin():
        members = [Member(display_name=f"Tổ trưởng {i}", role=Role.LEADER, created_at=now)
                   for i in range(n)]
        s.add_all(members)
        await s.flush()
        s.add_all([Identity(member_id=m.id, channel="telegram", external_id=str(10_000 + i),
                            chat_id=str(10_000 + i), created_at=now)
                   for i, m in enumerate(members)])
        return [m.id for m in members]


async def _enqueue(app: Services, ids: list[int]) -> tuple[int, list[str]]:
    """(rows added, the INSERT statements issued)."""
    inserts: list[str] = []

    def seen(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(statement)

    engine = app.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with app.sessions() as s, s.begin():
            added = await enqueue_to_members(s, kind="broadcast", key="broadcast:7",
                                             member_ids=ids, body={"text": "Ra quân"},
                                             now=app.clock())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return added, inserts


async def test_an_audience_of_1200_is_two_statements_and_idempotent(services: Services) -> None:
    ids = await _members(services, 1200)
    added, inserts = await _enqueue(services, ids)
    assert added == 1200
    assert len(inserts) == -(-1200 // BULK_ROWS) == 2
    async with services.sessions() as s:
        rows = (await s.execute(select(OutboxMessage.chat_id, OutboxMessage.member_id))).all()
    assert sorted(int(chat) for chat, _ in rows) == list(range(10_000, 11_200))
    assert {member for _, member in rows} == set(ids)

    again, _ = await _enqueue(services, ids)  # a retried job or a double tap
    assert again == 0
    async with services.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 1200
