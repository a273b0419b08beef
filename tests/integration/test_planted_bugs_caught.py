"""The lost-data checker against real stacks: quiet on the healthy services, and it
catches the planted `ack_before_commit` bug of each sample service every time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import running_stack

from harness.analysis.invariants import Invariant, evaluate
from harness.load.writes import Write, outcome_of
from harness.readback import drain_queue, read_database
from harness.stacks.stack import Stack

pytestmark = pytest.mark.integration

ORDERS = 12


@pytest.fixture(scope="module", params=[
    ("legacy", None), ("legacy", "ack_before_commit"),
    ("modern", None), ("modern", "ack_before_commit"),
], ids=lambda p: f"{p[0]}-{p[1] or 'healthy'}")
def stack(request: pytest.FixtureRequest, state_dir: Path) -> Iterator[Stack]:
    arch, bug = request.param
    with running_stack(arch, state_dir, seed=5, products=10, events=2, app_bug=bug) as running:
        yield running


def _check(stack: Stack) -> dict[str, Invariant]:
    info = stack.info
    writes = []
    for i in range(ORDERS):
        key = uuid.uuid4().hex
        body = {"product_id": 1 + i % 3, "quantity": 1, "idempotency_key": key}
        answer = requests.post(f"{info.lb_url}/orders", json=body, timeout=10)
        acked = answer.status_code in (200, 201)
        writes.append(Write(
            "order", key, outcome_of(answer.status_code, "ok" if acked else "http"),
            int(answer.json()["order_id"]) if acked else None,
            answer.status_code, "ok", 0.0, 0.0,
        ))
    assert stack.seed_data is not None
    initial = {p[0]: p[3] for p in stack.seed_data.products}
    results = evaluate(
        writes, read_database(info.db_writer_port), initial_stock=initial,
        queued_order_ids=drain_queue(info.aws_endpoint, info.queue_url, quiet_s=1.5),
    )
    return {r.name: r for r in results}


def test_checker_verdict_matches_the_service(stack: Stack) -> None:
    results = _check(stack)
    failed = {name for name, r in results.items() if not r.ok}
    if stack.app_bug is None:
        assert failed == set(), [results[n] for n in failed]
    else:
        # every 5th new order id is rolled back yet answered 201 and published
        assert "orders_lost" in failed
        assert results["orders_lost"].value >= ORDERS // 5 - 1
        assert "orders_missing_from_queue" not in failed
