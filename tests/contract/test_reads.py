"""The read side of the contract: health, readiness, products, events, metrics, headers."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from contract_support import AppUnderTest, schema_errors
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.contract, pytest.mark.integration]


def test_health_answers_ok(app: AppUnderTest) -> None:
    reply = app.get("/health")
    assert reply.status == 200
    assert reply.json == {"status": "ok"}
    assert reply.headers["Content-Type"].startswith("application/json")


def test_ready_answers_ok_when_the_database_answers(app: AppUnderTest) -> None:
    reply = app.get("/ready")
    assert reply.status == 200
    assert schema_errors(reply.json, "Status") == []


def test_ready_answers_503_when_the_database_is_unreachable(app: AppUnderTest) -> None:
    toxi = app.backends.toxi
    toxi.set_enabled(app.db_proxy, False)
    try:
        reply = app.get("/ready")
        assert reply.status == 503
        assert reply.json["error"] == "unavailable"
        assert schema_errors(reply.json, "Error") == []
        # liveness never touches the database
        assert app.get("/health").status == 200
    finally:
        toxi.set_enabled(app.db_proxy, True)
    deadline = time.monotonic() + 15
    while app.get("/ready").status != 200:
        assert time.monotonic() < deadline, "the app did not become ready again"
        time.sleep(0.2)


def test_every_answer_names_the_instance_in_x_served_by(app: AppUnderTest) -> None:
    for path in ("/health", "/ready", "/products", "/products/1", "/products/999999",
                 "/metrics", "/no-such-route"):
        assert app.get(path).headers.get("X-Served-By") == app.app_name, path


def test_products_lists_every_product_ordered_by_id(app: AppUnderTest) -> None:
    reply = app.get("/products")
    assert reply.status == 200
    for item in reply.json:
        assert schema_errors(item, "Product") == []
    rows = app.backends.query("SELECT id, name, price_cents, stock FROM products ORDER BY id")
    assert [tuple(p.values()) for p in reply.json] == [tuple(r) for r in rows]
    assert [p["id"] for p in reply.json][:3] == [1, 2, 3]


def test_product_by_id_is_the_database_row(
    app: AppUnderTest, new_product: Callable[[int], int]
) -> None:
    pid = new_product(42)
    reply = app.get(f"/products/{pid}")
    assert reply.status == 200
    assert reply.json == {"id": pid, "name": f"contract-product-{pid}", "price_cents": 1234,
                          "stock": 42}


@pytest.mark.parametrize("path", ["/products/999999", "/events/999999", "/orders/999999999",
                                  "/products/abc"])
def test_unknown_resources_answer_404_not_found(app: AppUnderTest, path: str) -> None:
    reply = app.get(path)
    assert reply.status == 404
    assert reply.json["error"] == "not_found"
    assert schema_errors(reply.json, "Error") == []


def test_event_shows_seats_left(app: AppUnderTest, new_event: Callable[[int, int], int]) -> None:
    eid = new_event(300, 120)
    reply = app.get(f"/events/{eid}")
    assert reply.status == 200
    assert schema_errors(reply.json, "Event") == []
    assert reply.json == {"id": eid, "name": f"contract-event-{eid}", "seats_total": 300,
                          "seats_left": 120}


def _metrics(app: AppUnderTest) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples by name, then by sorted labels, parsed with prometheus_client's parser."""
    reply = app.get("/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(reply.text):
        for s in family.samples:
            samples.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return samples


def _orders_created(app: AppUnderTest) -> float:
    return sum(_metrics(app).get("harness_app_orders_created_total", {}).values())


def _wait_for(probe: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    # PHP counts after the response is flushed: give the counter a moment, never a fixed sleep.
    deadline = time.monotonic() + timeout_s
    while not probe():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_metrics_are_prometheus_text_with_the_contract_counters(app: AppUnderTest) -> None:
    assert app.get("/health").status == 200

    def health_counted() -> bool:
        requests_total = _metrics(app).get("harness_app_requests_total", {})
        return any(dict(labels).get("code") == "200" and "/health" in dict(labels)["route"]
                   for labels in requests_total)

    _wait_for(health_counted, "harness_app_requests_total{route=~.*/health,code=200} not found")
    families = {f.name: f.type for f in text_string_to_metric_families(app.get("/metrics").text)}
    assert families["harness_app_requests"] == "counter"
    assert families["harness_app_orders_created"] == "counter"


def test_orders_created_counts_creations_not_replays(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    before = _orders_created(app)
    body = {"product_id": pid, "quantity": 1, "idempotency_key": key}
    assert app.post("/orders", body).status == 201
    _wait_for(lambda: _orders_created(app) == before + 1, "orders_created_total did not count")
    assert app.post("/orders", body).status == 200
    assert app.post("/orders", {**body, "quantity": 50}).status == 200
    # no fixed wait can prove "never counted"; a counted replay shows up as fast as the 201 did
    time.sleep(0.3)
    assert _orders_created(app) == before + 1
