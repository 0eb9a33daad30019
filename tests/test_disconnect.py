"""Which errors mean "the database went away" (retried, then "thử lại sau") and which
are the handler's own (an apology, never retried)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from models.db import is_disconnect


class ConnectionDoesNotExistError(Exception):
    """Named like asyncpg's: models/ recognise it by name."""


def _wrapped(orig: Exception, invalidated: bool = False) -> sa_exc.DBAPIError:
    """What SQLAlchemy raises for a driver error (`invalidated`: its dialect saw a
    disconnect)."""
    return sa_exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connect call failed"),
    TimeoutError(),
    sa_exc.TimeoutError("QueuePool limit reached"),
    _wrapped(Exception("connection is closed"), invalidated=True),
    _wrapped(ConnectionDoesNotExistError("connection was closed in the middle")),
])
def test_the_server_going_away_is_a_disconnect(error: BaseException) -> None:
    assert is_disconnect(error)


def _caused(error: BaseException, by: BaseException) -> BaseException:
    error.__cause__ = by
    return error


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    _wrapped(Exception("duplicate key value violates unique constraint")),
    sa_exc.IntegrityError("INSERT", {}, Exception("unique")),
    _caused(RuntimeError("commit failed"), ValueError("a bug")),
])
def test_a_handlers_own_error_is_not(error: BaseException) -> None:
    assert not is_disconnect(error)


def test_a_disconnect_underneath_is_found() -> None:
    assert is_disconnect(_caused(RuntimeError("commit failed"), ConnectionResetError()))
