"""The releases a deploy ships (APP_VERSION) behave the same in both services.

`good` is the service as it is; `bad-errors` answers APP_VERSION_ERROR_PERCENT % of API
requests with a 500 before any handler runs (so nothing is written); `bad-latency` adds
APP_VERSION_LATENCY_MS to every API request. Health checks, readiness and metrics are
never affected, so a load balancer admits a bad release (harness.deploys relies on it).
Every answer names the release in `X-App-Version`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from contract_support import AppUnderTest

pytestmark = [pytest.mark.contract, pytest.mark.integration]

KINDS = ["php", "go"]
StartRelease = Callable[[str, dict[str, str]], AppUnderTest]


def test_the_good_release_is_the_default_and_names_itself(app: AppUnderTest) -> None:
    reply = app.get("/products")
    assert reply.status == 200
    assert reply.headers.get("X-App-Version") == "good"


@pytest.mark.parametrize("kind", KINDS)
def test_bad_errors_at_100_percent_fails_every_api_request_and_writes_nothing(
    kind: str, start_release: StartRelease, new_product: Callable[[int], int], key: str,
) -> None:
    app = start_release(kind, {"APP_VERSION": "bad-errors", "APP_VERSION_ERROR_PERCENT": "100"})
    pid = new_product(5)
    for path in ("/products", f"/products/{pid}"):
        reply = app.get(path)
        assert reply.status == 500, (path, reply.text)
        assert reply.json["error"] == "internal"
        assert reply.headers.get("X-App-Version") == "bad-errors"
    order = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    assert order.status == 500
    assert app.backends.scalar("SELECT stock FROM products WHERE id = %s", (pid,)) == 5
    assert app.backends.scalar(
        "SELECT COUNT(*) FROM orders WHERE idempotency_key = %s", (key,)) == 0
    # the load balancer's checks still pass
    assert app.get("/health").status == 200
    assert app.get("/ready").status == 200


@pytest.mark.parametrize("kind", KINDS)
def test_bad_errors_at_0_percent_serves_everything(kind: str, start_release: StartRelease
                                                   ) -> None:
    app = start_release(kind, {"APP_VERSION": "bad-errors", "APP_VERSION_ERROR_PERCENT": "0"})
    statuses = {app.get("/products").status for _ in range(20)}
    assert statuses == {200}


@pytest.mark.parametrize("kind", KINDS)
def test_bad_errors_fails_about_its_share(kind: str, start_release: StartRelease) -> None:
    app = start_release(kind, {"APP_VERSION": "bad-errors", "APP_VERSION_ERROR_PERCENT": "50"})
    failed = sum(app.get("/products").status == 500 for _ in range(200))
    # binomial(200, 0.5): 100 +- 4.5 sd; 60..140 fails only if the share is not honoured
    assert 60 <= failed <= 140


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.alone
def test_bad_latency_slows_api_requests_but_not_health_checks(
    kind: str, start_release: StartRelease,
) -> None:
    app = start_release(kind, {"APP_VERSION": "bad-latency", "APP_VERSION_LATENCY_MS": "400"})
    started = time.monotonic()
    reply = app.get("/products")
    slow = time.monotonic() - started
    assert reply.status == 200
    assert reply.headers.get("X-App-Version") == "bad-latency"
    assert slow >= 0.4
    started = time.monotonic()
    assert app.get("/health").status == 200
    assert time.monotonic() - started < 0.4
