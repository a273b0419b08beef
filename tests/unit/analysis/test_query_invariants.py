"""A scenario's own invariants judged from what their queries found after the drain."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.invariants import QueryCheck
from harness.analysis.queries import judge, judge_all
from harness.scenario.own import SqlInvariant


def _spec(expect: Any, sql: str = "SELECT id FROM t") -> SqlInvariant:
    return SqlInvariant.model_validate(
        {"name": "check", "description": "what it checks", "sql": sql, "expect": expect})


def _found(rows: list[tuple[Any, ...]], columns: tuple[str, ...] = ("id",), *,
           row_count: int | None = None) -> QueryCheck:
    return QueryCheck("SELECT id FROM t", "x", columns=columns, rows=tuple(rows[:5]),
                      row_count=len(rows) if row_count is None else row_count)


def test_no_rows_holds_on_an_empty_result() -> None:
    inv = judge(_spec("no_rows"), _found([]))
    assert (inv.ok, inv.value, inv.examples) == (True, 0, ())


def test_no_rows_fails_with_every_row_counted_and_the_first_ones_shown() -> None:
    rows = [(i, f"n{i}") for i in range(1, 6)]
    inv = judge(_spec("no_rows"), _found(rows, ("id", "note"), row_count=12))
    assert not inv.ok
    assert inv.value == 12  # each row is a violation, as with the built-in checks
    assert inv.examples[0] == "id=1, note='n1'"
    assert inv.examples[-1] == "... 7 more rows"
    assert inv.query is not None
    assert inv.query.row_count == 12


@pytest.mark.parametrize(("expect", "measured", "ok"), [
    ({"value": 35}, 35, True),
    ({"value": 35}, 34, False),
    ({"value": 0, "op": "!="}, 0, False),
    ({"value": 10, "op": ">="}, 10.5, True),
    ({"value": 10, "op": ">"}, 10, False),
    ({"value": 10, "op": "<"}, 9, True),
    ({"value": 10, "op": "<="}, 11, False),
    ({"value": 2.5}, "2.5", True),  # a DECIMAL the read-back kept as text
])
def test_a_value_is_compared_with_its_operator(expect: dict[str, Any], measured: Any,
                                               ok: bool) -> None:
    inv = judge(_spec(expect, "SELECT SUM(x) FROM t"), _found([(measured,)], ("SUM(x)",)))
    assert inv.ok is ok
    assert inv.value == (0 if ok else 1)
    assert inv.query is not None
    assert inv.query.measured == float(measured)
    assert inv.examples[0].startswith(f"value {float(measured):g}; expected value")


@pytest.mark.parametrize(("rows", "columns", "says"), [
    ([], ("n",), "the query gave 0 rows of 1 columns"),
    ([(1, 2)], ("a", "b"), "1 rows of 2 columns"),
    ([(None,)], ("n",), "None, not a number"),
    ([("abc",)], ("n",), "'abc', not a number"),
])
def test_a_value_needs_one_number(rows: list[tuple[Any, ...]], columns: tuple[str, ...],
                                  says: str) -> None:
    inv = judge(_spec({"value": 0}), _found(rows, columns))
    assert not inv.ok
    assert inv.value == 1
    assert says in inv.examples[0]


def test_a_row_count_is_compared_with_its_operator() -> None:
    assert judge(_spec({"rows": 3, "op": ">="}), _found([(1,), (2,), (3,)])).ok
    failed = judge(_spec({"rows": 3, "op": ">="}), _found([(1,)]))
    assert not failed.ok
    assert failed.value == 1
    assert failed.examples[0] == "1 rows; expected rows >= 3"


def test_a_query_the_database_refused_is_a_failed_invariant_with_its_message() -> None:
    refused = QueryCheck("SELECT nope FROM t", "no rows",
                         error="Unknown column 'nope' in 'field list' (error 1054)")
    inv = judge(_spec("no_rows", "SELECT nope FROM t"), refused)
    assert not inv.ok
    assert inv.value == 1
    assert inv.examples == ("query failed: Unknown column 'nope' in 'field list' (error 1054)",)
    assert inv.description == "what it checks"


def test_every_check_is_judged_in_the_scenario_order() -> None:
    specs = [_spec("no_rows"), _spec({"rows": 1})]
    judged = judge_all(specs, [_found([]), _found([(1,)])])
    assert [i.ok for i in judged] == [True, True]
    with pytest.raises(ValueError, match="shorter"):
        judge_all(specs, [_found([])])
