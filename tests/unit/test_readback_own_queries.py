"""The read-back of a scenario's own invariants: rows as run.json can hold them, a refused
query recorded with the database's message, a lost connection retried."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pymysql
import pytest

from harness import readback
from harness.scenario.own import SqlInvariant

SPEC = SqlInvariant.model_validate({"name": "c", "description": "d",
                                    "sql": "SELECT id, total FROM t", "expect": "no_rows"})


class _Cursor:
    """Answers one query with `rows`, or raises `error`; notes every statement."""

    def __init__(self, rows: list[tuple[Any, ...]] | None = None,
                 error: Exception | None = None) -> None:
        self.rows, self.error, self.executed = rows or [], error, []
        self.description = (("id",), ("total",))

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        if sql == SPEC.sql and self.error is not None:
            raise self.error

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


def test_rows_are_counted_and_the_first_five_kept_json_safe() -> None:
    rows = [(i, decimal.Decimal("12.50")) for i in range(8)]
    rows[0] = (1, datetime.datetime(2024, 11, 29, 9, 30))
    cur = _Cursor(rows)
    found = readback._run_query(cur, SPEC)  # type: ignore[arg-type]
    assert found.row_count == 8
    assert len(found.rows) == 5
    assert found.columns == ("id", "total")
    assert found.rows[0] == (1, "2024-11-29T09:30:00")
    assert found.rows[1] == (1, 12.5)
    # read only, and always ended
    assert cur.executed == ["START TRANSACTION READ ONLY", SPEC.sql, "ROLLBACK"]


@pytest.mark.parametrize(("value", "cell"), [
    (decimal.Decimal("35"), 35), (b"ab", "ab"), (True, 1), (None, None),
    (datetime.timedelta(seconds=90), "0:01:30"), (datetime.date(2024, 1, 2), "2024-01-02"),
])
def test_database_values_become_json_values(value: Any, cell: Any) -> None:
    assert readback._cell(value) == cell


def test_a_refused_query_is_recorded_with_the_database_message() -> None:
    cur = _Cursor(error=pymysql.err.OperationalError(1054, "Unknown column 'total'"))
    found = readback._run_query(cur, SPEC)  # type: ignore[arg-type]
    assert found.error == "Unknown column 'total' (error 1054)"
    assert found.row_count is None
    assert cur.executed[-1] == "ROLLBACK"


def test_a_lost_connection_is_raised_for_the_writer_wait_to_retry() -> None:
    cur = _Cursor(error=pymysql.err.OperationalError(2013, "Lost connection"))
    with pytest.raises(pymysql.err.OperationalError):
        readback._run_query(cur, SPEC)  # type: ignore[arg-type]


class _KeyCursor:
    """Answers each look-up with the rows whose value the database matches."""

    def __init__(self, rows: list[Any], error: Exception | None = None) -> None:
        self.rows, self.error = rows, error
        self.executed: list[tuple[str, Any]] = []
        self._last: list[tuple[Any]] = []

    def execute(self, sql: str, args: Any = None) -> None:
        self.executed.append((sql, args))
        if args is not None:
            if self.error is not None:
                raise self.error
            # a case-insensitive collation: 'ABC' matches the key 'abc'
            self._last = [(r,) for r in self.rows
                          if str(r).casefold() in {str(a).casefold() for a in args}]

    def fetchall(self) -> list[tuple[Any]]:
        return self._last


def test_keys_are_looked_up_in_chunks_with_the_names_quoted(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(readback, "KEYS_PER_QUERY", 2)
    cur = _KeyCursor([1, 3, "ABC"])
    found = readback._look_up(cur, "shop.payments", "id",  # type: ignore[arg-type]
                              ["1", "2", "3", "abc", "zzz"])
    assert found.present == frozenset({"1", "3", "abc"})
    assert found.error is None
    looked = [(sql, args) for sql, args in cur.executed if args is not None]
    assert [args for _sql, args in looked] == [["1", "2"], ["3", "abc"], ["zzz"]]
    assert looked[0][0] == "SELECT `id` FROM `shop`.`payments` WHERE `id` IN (%s, %s)"
    assert cur.executed[0][0] == "START TRANSACTION READ ONLY"
    assert cur.executed[-1][0] == "ROLLBACK"


def test_a_key_spelled_like_another_key_is_not_found_through_it() -> None:
    # a binary collation holds 'ABC' alone; 'abc' was acknowledged too and is missing
    cur = _KeyCursor(["ABC"])
    found = readback._look_up(cur, "t", "k", ["ABC", "abc"])  # type: ignore[arg-type]
    assert found.present == frozenset({"ABC"})


def test_a_name_that_is_not_plain_is_never_sent() -> None:
    cur = _KeyCursor([])
    found = readback._look_up(cur, "t`; DROP TABLE x; --", "id", ["1"])  # type: ignore[arg-type]
    assert found.error is not None
    assert cur.executed == []


def test_a_refused_look_up_carries_the_database_message() -> None:
    cur = _KeyCursor([], error=pymysql.err.ProgrammingError(1146, "Table 'shop.t' doesn't exist"))
    found = readback._look_up(cur, "t", "id", ["1"])  # type: ignore[arg-type]
    assert found.error == "Table 'shop.t' doesn't exist (error 1146)"
