"""The log's endpoint mix mapped onto the sample shop's journeys, by best match.

Each journey makes a fixed set of requests (harness.load.journeys, read from there
so the two cannot drift): browse = GET /products + GET /products/{id}, checkout =
GET /products/{id} + POST /orders, ticket_rush = GET /events/{id} + POST
/events/{id}/reservations. The journey counts are the non-negative least-squares fit
of those requests to the log's counts of the same endpoints: a log whose product
views are exactly list views plus checkouts is matched exactly; any other is matched
as closely as the journeys allow, and the summary shows both mixes side by side.

Endpoints no journey calls (GET /orders/{id}, a team's own paths) are not replayed;
their share is stated. The arrival rate still carries the log's whole request rate:
arrivals per second = requests per second / requests per arrival.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from harness.load.journeys import steps
from harness.load.schedule import Arrival
from harness.scenario.workload import load_workload

#: the journeys a log is mapped onto (`get` sends one fixed path: no mix)
SHOP_JOURNEYS = ("browse", "checkout", "ticket_rush")
_ROUNDS = 2000


@functools.cache
def journey_endpoints() -> dict[str, tuple[str, ...]]:
    """The endpoints each shop journey requests, in order, as the generator sends them."""
    workload = load_workload({
        "journeys": {name: {"weight": 1} for name in SHOP_JOURNEYS},
        "phases": [{"name": "x", "shape": "constant", "rate": 1, "duration": 1}],
    }, "harness.replay")
    return {
        name: tuple(r.endpoint for r in steps(workload, Arrival(0, 0.0, name, 1, 1, 1, 1), "r"))
        for name in SHOP_JOURNEYS
    }


@dataclass(frozen=True)
class JourneyMix:
    """Journey weights for a log's endpoint mix, and how well they reproduce it."""

    #: journey -> share of arrivals (sums to 1)
    weights: dict[str, float]
    #: requests one arrival makes on average with these weights
    requests_per_arrival: float
    #: shop endpoint -> share of the log's requests to shop endpoints
    log_share: dict[str, float]
    #: shop endpoint -> share of the replay's requests
    replay_share: dict[str, float]
    #: endpoints no journey calls -> share of all the log's requests
    unmapped: dict[str, float]
    #: share of the log's requests that went to endpoints the journeys call
    mapped_share: float


def fit(counts: dict[str, float]) -> JourneyMix:
    """Journey weights whose requests match `counts` (requests per endpoint) best."""
    calls = journey_endpoints()
    shop = sorted({e for endpoints in calls.values() for e in endpoints})
    total = sum(counts.values())
    wanted = {e: counts.get(e, 0.0) for e in shop}
    mapped = sum(wanted.values())
    unmapped = {e: c / total for e, c in counts.items() if e not in wanted and c > 0}
    if mapped <= 0:
        # nothing the shop serves: browse carries the rate, and the summary says so
        return JourneyMix({"browse": 1.0}, float(len(calls["browse"])), {}, {}, unmapped, 0.0)
    x = _least_squares(calls, wanted)
    arrivals = sum(x.values())
    sent = {e: 0.0 for e in shop}
    for name, n in x.items():
        for endpoint in calls[name]:
            sent[endpoint] += n
    requests = sum(sent.values())
    return JourneyMix(
        weights={name: n / arrivals for name, n in x.items() if n > 0},
        requests_per_arrival=requests / arrivals,
        log_share={e: wanted[e] / mapped for e in shop},
        replay_share={e: sent[e] / requests for e in shop},
        unmapped=dict(sorted(unmapped.items(), key=lambda kv: -kv[1])),
        mapped_share=mapped / total,
    )


def _least_squares(calls: dict[str, tuple[str, ...]], wanted: dict[str, float]
                   ) -> dict[str, float]:
    """Non-negative journey counts minimising the squared request-count error.

    Coordinate descent: each journey in turn takes the count that best explains what
    the others leave; a convex problem of three unknowns settles in a few rounds.
    """
    x = dict.fromkeys(calls, 0.0)
    for _ in range(_ROUNDS):
        moved = 0.0
        for name, endpoints in calls.items():
            sent = dict.fromkeys(wanted, 0.0)
            for other, n in x.items():
                if other != name:
                    for e in calls[other]:
                        sent[e] += n
            # each endpoint this journey calls once: the mean of what is left on them
            left = [wanted[e] - sent[e] for e in endpoints]
            best = max(sum(left) / len(left), 0.0)
            moved = max(moved, abs(best - x[name]))
            x[name] = best
        if moved < 1e-9 * max(sum(wanted.values()), 1.0):
            break
    return x
