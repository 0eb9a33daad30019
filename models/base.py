"""Declarative base and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Index, MetaData, TypeDecorator, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases.

    SQLite stores no zone: values come back naive, so we re-attach UTC on the way out.
    Naive values on the way in are a programming error and are rejected.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


# PostgreSQL's dialect package is imported only by a bot on PostgreSQL: with it come its
# four drivers' modules (2 MB and some 50 ms at every start), which naming a
# `postgresql_` keyword, or importing its `insert`, would load on SQLite too.

def dialect_insert(dialect: str) -> Any:
    """The INSERT of `dialect` ("postgresql" or "sqlite"), the one with ON CONFLICT."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


_PARTIAL: list[tuple[Index, str]] = []
_ON_POSTGRESQL: list[bool] = []  # set once a PostgreSQL engine is made


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows matching `where`, on both databases: SQLite's clause given
    now, PostgreSQL's by `on_postgresql` (what `models.db.make_engine` calls for it)."""
    index = Index(name, *columns, unique=unique, sqlite_where=text(where))
    _PARTIAL.append((index, where))
    if _ON_POSTGRESQL:
        _postgresql_where(index, where)
    return index


def on_postgresql() -> None:
    """Give the partial indexes their PostgreSQL clause (loads that dialect)."""
    if not _ON_POSTGRESQL:
        _ON_POSTGRESQL.append(True)
        for index, where in _PARTIAL:
            _postgresql_where(index, where)


def _postgresql_where(index: Index, where: str) -> None:
    index.dialect_options["postgresql"]["where"] = text(where)
