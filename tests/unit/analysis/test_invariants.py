"""The lost-data checker on hand-made states: each invariant can pass and can fail."""

from __future__ import annotations

from harness.analysis.invariants import DatabaseState, Invariant, Row, count_writes, evaluate
from harness.load.writes import Outcome
from harness.load.writes import Write as LoggedWrite

INITIAL = {1: 10, 2: 5}


def Write(kind: str, key: str, outcome: Outcome, id: int | None = None) -> LoggedWrite:
    """A write as the load generator logs it (only the fields the checker reads matter)."""
    return LoggedWrite(kind, key, outcome, id, status=0, error_class="", sent_at=0, done_at=0)


def _state(orders: list[Row], reservations: list[Row] | None = None,
           stock: dict[int, int] | None = None, seats_left: int | None = None) -> DatabaseState:
    reservations = reservations or []
    return DatabaseState(
        orders=orders, reservations=reservations,
        stock=stock if stock is not None else {
            p: s - sum(r.amount for r in orders if r.target == p) for p, s in INITIAL.items()
        },
        seats_left={1: seats_left if seats_left is not None
                    else 4 - sum(r.amount for r in reservations)},
        seats_total={1: 4},
    )


def _by_name(results: list[Invariant]) -> dict[str, Invariant]:
    return {r.name: r for r in results}


def _failed(results: list[Invariant]) -> set[str]:
    return {r.name for r in results if not r.ok}


def test_a_consistent_run_passes_every_invariant() -> None:
    writes = [
        Write("order", "k1", "acknowledged", 1),
        Write("order", "k1", "acknowledged", 1),   # an idempotent replay
        Write("order", "k2", "failed"),             # 409 out of stock: nothing stored
        Write("order", "k3", "indeterminate"),      # timed out, yet committed
        Write("reservation", "r1", "acknowledged", 7),
    ]
    db = _state([Row(1, "k1", 1, 2), Row(2, "k3", 2, 1)], [Row(7, "r1", 1, 3)])
    results = evaluate(writes, db, initial_stock=INITIAL, queued_order_ids={1, 2})
    assert _failed(results) == set()
    assert _by_name(results)["orders_recovered"].value == 1


def test_an_acknowledged_order_missing_from_the_database_is_lost() -> None:
    writes = [Write("order", "k1", "acknowledged", 1), Write("order", "k2", "acknowledged", 2)]
    db = _state([Row(1, "k1", 1, 1)])
    results = _by_name(evaluate(writes, db, initial_stock=INITIAL, queued_order_ids={1, 2}))
    assert not results["orders_lost"].ok
    assert results["orders_lost"].value == 1
    assert "k2" in results["orders_lost"].examples[0]


def test_an_acknowledged_order_never_published_is_caught() -> None:
    writes = [Write("order", "k1", "acknowledged", 1)]
    results = evaluate(writes, _state([Row(1, "k1", 1, 1)]), initial_stock=INITIAL,
                       queued_order_ids=set())
    assert _failed(results) == {"orders_missing_from_queue"}


def test_rows_nobody_asked_for_or_that_failed_are_unexpected() -> None:
    writes = [Write("order", "k2", "failed")]
    db = _state([Row(1, "k2", 1, 1), Row(2, "ghost", 1, 1)])
    results = _by_name(evaluate(writes, db, initial_stock=INITIAL, queued_order_ids=None))
    assert results["orders_unexpected"].value == 2


def test_one_key_answered_with_two_ids_is_a_duplicate() -> None:
    writes = [Write("order", "k1", "acknowledged", 1), Write("order", "k1", "acknowledged", 2)]
    db = _state([Row(1, "k1", 1, 1)])
    assert "orders_duplicate_keys" in _failed(
        evaluate(writes, db, initial_stock=INITIAL, queued_order_ids=None)
    )


def test_a_key_answered_with_another_row_s_id_is_a_duplicate_naming_both() -> None:
    writes = [Write("order", "k1", "acknowledged", 1), Write("order", "k1", "acknowledged", 3),
              Write("order", "k2", "acknowledged", 9)]
    db = _state([Row(1, "k1", 1, 1), Row(2, "k2", 1, 1)])
    found = _by_name(evaluate(writes, db, initial_stock=INITIAL, queued_order_ids={1, 2}))
    assert found["orders_duplicate_keys"].examples == (
        "key k1: answered ids [1, 3]", "key k2: answered ids [9]")
    # every id an acknowledged answer named must be on the queue, the odd ones too
    assert found["orders_missing_from_queue"].examples == ("order 3", "order 9")


def test_the_writes_are_read_in_one_pass() -> None:
    """An hour's writes come from the log as a stream: a second pass would see nothing."""
    writes = [Write("order", "k1", "acknowledged", 1), Write("order", "k2", "acknowledged", 2),
              Write("reservation", "r1", "indeterminate")]
    db = _state([Row(1, "k1", 1, 1)], [Row(4, "r1", 1, 1)])
    streamed = evaluate(iter(writes), db, initial_stock=INITIAL, queued_order_ids={1})
    assert streamed == evaluate(writes, db, initial_stock=INITIAL, queued_order_ids={1})
    assert _by_name(streamed)["orders_lost"].examples == ("order key k2 (id [2])",)
    assert _by_name(streamed)["reservations_recovered"].value == 1


def test_oversell_and_negative_stock_are_caught() -> None:
    writes = [Write("order", f"k{i}", "acknowledged", i) for i in range(1, 4)] + [
        Write("reservation", f"r{i}", "acknowledged", i) for i in range(1, 4)
    ]
    orders = [Row(i, f"k{i}", 2, 2) for i in range(1, 4)]        # 6 of 5 in stock
    reservations = [Row(i, f"r{i}", 1, 2) for i in range(1, 4)]  # 6 of 4 seats
    db = _state(orders, reservations, stock={1: 10, 2: -1}, seats_left=-2)
    failed = _failed(evaluate(writes, db, initial_stock=INITIAL, queued_order_ids=None))
    assert {"stock_below_zero", "seats_oversold"} <= failed


def test_a_lost_decrement_breaks_conservation() -> None:
    writes = [Write("order", "k1", "acknowledged", 1)]
    db = _state([Row(1, "k1", 1, 3)], stock={1: 10, 2: 5})  # order stored, stock untouched
    assert _failed(evaluate(writes, db, initial_stock=INITIAL, queued_order_ids=None)) == {
        "stock_conserved"
    }


def test_count_writes_says_how_much_was_checked_per_kind_and_outcome() -> None:
    writes = [
        Write("order", "k1", "acknowledged", 1),
        Write("order", "k2", "failed"),
        Write("order", "k3", "indeterminate"),
        Write("order", "k4", "indeterminate"),
    ]
    assert count_writes(writes) == {
        "order": {"acknowledged": 1, "failed": 1, "indeterminate": 2},
        "reservation": {"acknowledged": 0, "failed": 0, "indeterminate": 0},
    }
