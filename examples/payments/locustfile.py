"""The payments example's traffic: each user pays (a new idempotency key each time), now
and then retries a payment with the same key (as a client does after a timeout), and reads
a payment back. Every payment is marked with `record_write`, so after the drain the harness
looks each acknowledged key up in payments.idempotency_key: one missing is a lost write.
"""

from __future__ import annotations

import random
import uuid

from locust import HttpUser, constant_throughput, task

from harness.load.acked import record_write


class Payer(HttpUser):
    # each user at most 2 requests a second, so the offered rate does not follow latency
    wait_time = constant_throughput(2)

    def on_start(self) -> None:
        self.last_key: str | None = None
        self.last_id: int | None = None

    @task(6)
    def pay(self) -> None:
        key = uuid.uuid4().hex
        self._pay(key)

    @task(1)
    def retry_last(self) -> None:
        # the same key again must not charge twice (the invariant balance_matches_payments)
        if self.last_key is not None:
            self._pay(self.last_key, name="POST /payments (retry)")

    @task(2)
    def read_back(self) -> None:
        if self.last_id is not None:
            self.client.get(f"/payments/{self.last_id}", name="GET /payments/{id}")

    def _pay(self, key: str, name: str = "POST /payments") -> None:
        body = {"idempotency_key": key, "account_id": random.randint(1, 20),
                "amount_cents": random.randint(100, 5000)}
        response = self.client.post("/payments", json=body, name=name)
        record_write(response, table="payments", column="idempotency_key", key=key)
        if response.status_code in (200, 201):
            self.last_key = key
            self.last_id = response.json().get("payment_id")
