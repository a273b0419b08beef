"""Simultaneous writes: the last seats and units sell exactly once, one key makes one order.

Threads are released together by a barrier so the requests really contend
(each opens its own connection). The checkers in contract_support judge the
outcome; test_planted_bugs.py shows the same checkers fail on a buggy app.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from contract_support import (
    AppUnderTest,
    check_claims,
    check_published,
    read_orders,
    read_reservations,
    run_together,
)

pytestmark = [pytest.mark.contract, pytest.mark.integration]

THREADS = 40
LAST = 5


def _keys(prefix: str, n: int) -> list[str]:
    run = uuid.uuid4().hex[:10]
    return [f"{prefix}-{run}-{i}" for i in range(n)]


def test_parallel_reservations_sell_exactly_the_last_seats(
    app: AppUnderTest, new_event: Callable[[int, int], int]
) -> None:
    eid = new_event(500, LAST)
    attempts = run_together(app, f"/events/{eid}/reservations", [
        {"seats": 1, "idempotency_key": k} for k in _keys("seat", THREADS)])
    claims = read_reservations(app.backends, eid)
    assert check_claims(attempts, claims, available=LAST, amount=1) == []
    statuses = Counter(a.status for a in attempts)
    assert statuses == {201: LAST, 409: THREADS - LAST}
    assert all(a.body["error"] == "sold_out" for a in attempts if a.status == 409)
    assert claims.left == 0
    assert len(claims.rows) == LAST


def test_parallel_orders_sell_exactly_the_last_units(
    app: AppUnderTest, new_product: Callable[[int], int]
) -> None:
    pid = new_product(LAST)
    attempts = run_together(app, "/orders", [
        {"product_id": pid, "quantity": 1, "idempotency_key": k} for k in _keys("unit", THREADS)])
    claims = read_orders(app.backends, pid)
    assert check_claims(attempts, claims, available=LAST, amount=1) == []
    assert check_published(app, attempts) == []
    assert Counter(a.status for a in attempts) == {201: LAST, 409: THREADS - LAST}
    assert all(a.body["error"] == "out_of_stock" for a in attempts if a.status == 409)
    assert claims.left == 0


def test_parallel_requests_with_one_key_create_one_order(
    app: AppUnderTest, new_product: Callable[[int], int]
) -> None:
    pid = new_product(100)
    key = f"same-{uuid.uuid4().hex}"
    threads = 20
    attempts = run_together(app, "/orders", [
        {"product_id": pid, "quantity": 2, "idempotency_key": key}] * threads)
    claims = read_orders(app.backends, pid)
    assert check_claims(attempts, claims, available=100, amount=2) == []
    assert Counter(a.status for a in attempts) == {201: 1, 200: threads - 1}, [
        (a.status, a.body) for a in attempts if a.status not in (200, 201)]
    assert len({a.body["order_id"] for a in attempts}) == 1
    assert claims.rows == [(key, 2)]
    assert claims.left == 98
    assert check_published(app, attempts) == []


def test_parallel_reservations_with_one_key_create_one_reservation(
    app: AppUnderTest, new_event: Callable[[int, int], int]
) -> None:
    eid = new_event(100, 100)
    key = f"same-{uuid.uuid4().hex}"
    threads = 20
    attempts = run_together(app, f"/events/{eid}/reservations", [
        {"seats": 3, "idempotency_key": key}] * threads)
    claims = read_reservations(app.backends, eid)
    assert check_claims(attempts, claims, available=100, amount=3) == []
    assert Counter(a.status for a in attempts) == {201: 1, 200: threads - 1}
    assert claims.rows == [(key, 3)]
    assert claims.left == 97
