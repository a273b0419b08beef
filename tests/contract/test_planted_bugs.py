"""The checkers can fail: each planted bug (APP_BUG) is caught, for both apps.

Same bursts and checks as test_concurrency.py, against an instance started
with a planted bug; the test passes only when the checker reports the
violation the bug causes.

skip_stock_check is a race: one burst of 40 oversold the last 5 units or
seats in 139 of 140 measured bursts (PHP: 8 php-fpm workers, so up to 8
contend; Go: up to its 20 pooled connections); the miss sold exactly 5.
So a test tries up to BURSTS bursts, each on fresh rows, and stops at the
first oversell; every burst is judged by the unchanged checker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from contract_support import (
    AppUnderTest,
    Attempt,
    check_claims,
    check_published,
    read_orders,
    read_reservations,
    run_together,
)

pytestmark = [pytest.mark.contract, pytest.mark.integration]

THREADS = 40
LAST = 5
BURSTS = 3
KINDS = ["php", "go"]

StartApp = Callable[[str, str | None], AppUnderTest]


@pytest.mark.parametrize("kind", KINDS)
def test_skip_stock_check_oversells_seats_and_the_checker_sees_it(
    kind: str, start_app: StartApp, new_event: Callable[[int, int], int]
) -> None:
    app = start_app(kind, "skip_stock_check")
    seen: list[tuple[int, int]] = []
    for _ in range(BURSTS):
        eid = new_event(500, LAST)
        run = uuid.uuid4().hex[:10]
        attempts = run_together(app, f"/events/{eid}/reservations", [
            {"seats": 1, "idempotency_key": f"bug-seat-{run}-{i}"} for i in range(THREADS)])
        claims = read_reservations(app.backends, eid)
        violations = check_claims(attempts, claims, available=LAST, amount=1)
        if any(v.startswith("oversold") for v in violations):
            assert claims.left < 0
            return
        seen.append((claims.left, len(claims.rows)))
    pytest.fail(f"no oversell detected in {BURSTS} bursts (seats left, reservations): {seen}")


@pytest.mark.parametrize("kind", KINDS)
def test_skip_stock_check_oversells_stock_and_the_checker_sees_it(
    kind: str, start_app: StartApp, new_product: Callable[[int], int]
) -> None:
    app = start_app(kind, "skip_stock_check")
    seen: list[tuple[int, int]] = []
    for _ in range(BURSTS):
        pid = new_product(LAST)
        run = uuid.uuid4().hex[:10]
        attempts = run_together(app, "/orders", [
            {"product_id": pid, "quantity": 1, "idempotency_key": f"bug-unit-{run}-{i}"}
            for i in range(THREADS)])
        claims = read_orders(app.backends, pid)
        violations = check_claims(attempts, claims, available=LAST, amount=1)
        if any(v.startswith("oversold") for v in violations):
            assert claims.left < 0
            return
        seen.append((claims.left, len(claims.rows)))
    pytest.fail(f"no oversell detected in {BURSTS} bursts (stock left, orders): {seen}")


@pytest.mark.parametrize("kind", KINDS)
def test_ack_before_commit_loses_orders_and_the_checker_sees_it(
    kind: str, start_app: StartApp, new_product: Callable[[int], int]
) -> None:
    app = start_app(kind, "ack_before_commit")
    pid = new_product(100)
    run = uuid.uuid4().hex[:10]
    attempts = []
    # ids are consecutive, so 10 orders include at least one id divisible by 5
    for i in range(10):
        key = f"bug-ack-{run}-{i}"
        reply = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
        attempts.append(Attempt(key, reply.status, reply.json))
    assert all(a.status == 201 for a in attempts)
    rolled_back = {a.body["order_id"] for a in attempts if a.body["order_id"] % 5 == 0}
    assert rolled_back, "no order id divisible by 5: the bug had nothing to throw away"
    claims = read_orders(app.backends, pid)
    violations = check_claims(attempts, claims, available=100, amount=1)
    assert f"lost: {len(rolled_back)} acknowledged but not in the database" in violations
    # the lost orders were published: the queue alone cannot tell, the database can
    published = check_published(app, attempts)
    assert published == [
        f"lost: orders {sorted(rolled_back)} acknowledged but not in the database"
    ]
