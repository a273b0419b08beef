"""Both services retry a throttled SQS call with their AWS SDK's default strategy.

The AWS fault point answers every SQS call with the throttling error AWS sends;
it counts the attempts. Each service must make exactly the attempts its profile's
`app.client.aws_max_attempts` cites (its SDK's default: AsyncAws 4, AWS SDK for Go
v2 3), then give up with the contract's 503, and a retry once the throttle is over
must publish. Before issue 9 the PHP service made one attempt only.
"""

from __future__ import annotations

from collections.abc import Callable

from conftest import PROFILE_OF
from contract_support import AppUnderTest

from harness.model.profile_file import load_profile
from harness.stacks.components import awsfault


def _sqs_throttles(port: int) -> int:
    return int(awsfault.stats(port)["stats"].get("sqs.throttle", 0))


def test_a_throttled_publish_is_retried_as_the_sdk_does_by_default(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    attempts = load_profile(PROFILE_OF[app.kind]).app.client.aws_max_attempts.value
    port = app.backends.aws_fault_port
    body = {"product_id": new_product(10), "quantity": 1, "idempotency_key": key}
    before = _sqs_throttles(port)
    awsfault.set_rules(port, {"throttle": {"percent": 100, "services": ["sqs"]}})
    try:
        failed = app.post("/orders", body)
    finally:
        awsfault.set_rules(port, {"throttle": None})
    throttled = _sqs_throttles(port) - before
    print(f"{app.kind}: {throttled} SQS attempts throttled, profile says {attempts}")
    assert failed.status == 503, failed.text
    assert failed.json["error"] == "unavailable"
    assert throttled == attempts
    retry = app.post("/orders", body)
    assert retry.status == 200, retry.text
    assert app.read_queue({retry.json["order_id"]}) == set(), "the retry did not publish"

