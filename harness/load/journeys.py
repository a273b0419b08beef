"""The journeys as data: which requests an arrival makes against the shop API (stacks/api.yaml).

Pure, so the generator (gevent side) and the tests share one definition. A
409 on a write is an expected business outcome (out of stock, sold out), not
an error; every other 4xx is unexpected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.load.schedule import Arrival
from harness.scenario.workload import Workload


@dataclass(frozen=True)
class Request:
    """One step of a journey."""

    #: the endpoint template the recorder groups by, e.g. "GET /products/{id}"
    endpoint: str
    method: str
    path: str
    json: dict[str, Any] | None = None
    #: 4xx statuses that are expected outcomes and count as ok
    expected: frozenset[int] = frozenset()
    #: "order" / "reservation" for writes whose outcome goes to the writes log
    write: str | None = None
    #: the write's idempotency key
    key: str = ""
    #: pause before the next step, seconds
    think_s: float = 0.0
    #: for writes: (field in the response that holds the id, the write's own attributes)
    id_field: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


def idempotency_key(run_tag: str, arrival: Arrival) -> str:
    """Unique per run and arrival; at most 64 characters as the API requires."""
    return f"{run_tag[:40]}-{arrival.seq}"


def steps(
    workload: Workload, arrival: Arrival, run_tag: str, default_path: str = "/"
) -> list[Request]:
    """The requests of one arrival, in order."""
    think = workload.journeys[arrival.journey].think_time  # type: ignore[index]
    pid, eid = arrival.product_id, arrival.event_id
    key = idempotency_key(run_tag, arrival)
    if arrival.journey == "browse":
        return [
            Request("GET /products", "GET", "/products", think_s=think),
            Request("GET /products/{id}", "GET", f"/products/{pid}"),
        ]
    if arrival.journey == "checkout":
        order = {"product_id": pid, "quantity": arrival.quantity, "idempotency_key": key}
        return [
            Request("GET /products/{id}", "GET", f"/products/{pid}", think_s=think),
            Request(
                "POST /orders",
                "POST",
                "/orders",
                json=order,
                expected=frozenset({409}),
                write="order",
                key=key,
                id_field="order_id",
                attrs={"product_id": pid, "quantity": arrival.quantity},
            ),
        ]
    if arrival.journey == "ticket_rush":
        body = {"seats": arrival.seats, "idempotency_key": key}
        return [
            Request("GET /events/{id}", "GET", f"/events/{eid}", think_s=think),
            Request(
                "POST /events/{id}/reservations",
                "POST",
                f"/events/{eid}/reservations",
                json=body,
                expected=frozenset({409}),
                write="reservation",
                key=key,
                id_field="reservation_id",
                attrs={"event_id": eid, "seats": arrival.seats},
            ),
        ]
    path = workload.journeys["get"].path or default_path
    return [Request(f"GET {path}", "GET", path)]
