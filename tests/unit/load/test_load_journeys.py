from __future__ import annotations

from harness.load.journeys import steps
from harness.load.schedule import Arrival, arrivals
from harness.scenario.workload import load_workload

W = load_workload(
    {
        "journeys": {
            "browse": {"think_time": "1s"},
            "checkout": {},
            "ticket_rush": {},
            "get": {"path": "/static"},
        },
        "phases": [{"name": "m", "shape": "constant", "rate": 10, "duration": 1}],
    },
    "x",
)


def arrival(journey: str) -> Arrival:
    return Arrival(
        seq=7, offset_s=0.0, journey=journey, product_id=3, quantity=2, event_id=4, seats=1
    )


def test_browse_lists_then_views_with_think_time() -> None:
    got = steps(W, arrival("browse"), "run1")
    assert [(s.method, s.path) for s in got] == [("GET", "/products"), ("GET", "/products/3")]
    assert got[0].think_s == 1.0
    assert all(s.write is None for s in got)


def test_checkout_orders_with_an_idempotency_key_and_accepts_out_of_stock() -> None:
    view, order = steps(W, arrival("checkout"), "run1")
    assert view.endpoint == "GET /products/{id}"
    assert order.json == {"product_id": 3, "quantity": 2, "idempotency_key": "run1-7"}
    assert order.write == "order"
    assert order.expected == frozenset({409})


def test_ticket_rush_reserves_on_the_chosen_event() -> None:
    view, reserve = steps(W, arrival("ticket_rush"), "run1")
    assert view.path == "/events/4"
    assert reserve.path == "/events/4/reservations"
    assert reserve.endpoint == "POST /events/{id}/reservations"
    assert reserve.json == {"seats": 1, "idempotency_key": "run1-7"}


def test_get_uses_its_path() -> None:
    (only,) = steps(W, arrival("get"), "run1")
    assert only.path == "/static"


def test_keys_are_unique_within_a_run_and_short_enough() -> None:
    writes = [s for a in arrivals(W, seed=3) for s in steps(W, a, "r" * 80) if s.write]
    keys = {s.key for s in writes}
    assert len(writes) > 2
    assert len(keys) == len(writes)
    assert max(len(k) for k in keys) <= 64
