"""Recorded data made up from a per-second profile: for tests and report previews.

Real HdrHistograms are filled from seeded samples, so everything downstream
(merging, percentiles, the CSV round trip) runs exactly as on a real run. Error
counts are deterministic (round(rate x error rate)) so tests can assert on them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from harness.analysis.series import ArchData
from harness.records.recorder import SecondCounts

PerSecond = Callable[[int], float]
ENDPOINTS: tuple[str, ...] = ("GET /products", "POST /orders")


def synthetic(
    arch: str,
    seconds: int,
    *,
    rate: PerSecond = lambda s: 50,
    latency_ms: PerSecond = lambda s: 20.0,
    error_rate: PerSecond = lambda s: 0.0,
    achieved_ratio: PerSecond = lambda s: 1.0,
    error_class: str = "http_5xx",
    endpoints: Sequence[str] = ENDPOINTS,
    seed: int = 1,
) -> ArchData:
    """One architecture's data: per second `rate` arrivals, median `latency_ms`, `error_rate`.

    Latencies scatter log-normally (sigma 0.25) around the median; errors go to the
    endpoints round robin and take the same latency distribution. Arrivals beyond
    `achieved_ratio` are dropped at the concurrency cap, also spread over the endpoints.
    """
    rng = random.Random(seed)
    data = ArchData(arch)
    for s in range(seconds):
        offered = round(rate(s))
        started = round(offered * achieved_ratio(s))
        data.counts[s] = SecondCounts(
            offered=offered, started=started, achieved=started, dropped=offered - started,
            cpu_pct=30.0,
        )
        errors = round(started * error_rate(s))
        samples: dict[tuple[str, str], list[float]] = {}
        for i in range(started):
            cls = error_class if i < errors else "ok"
            ep = endpoints[i % len(endpoints)]
            ms = latency_ms(s) * rng.lognormvariate(0, 0.25)
            samples.setdefault((ep, cls), []).append(ms)
        for (ep, cls), values in samples.items():
            data.add_samples(s, ep, cls, values)
        for i in range(offered - started):
            data.add_dropped(s, endpoints[i % len(endpoints)], 1)
    return data
