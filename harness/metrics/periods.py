"""Samples into CloudWatch datapoints: one statistic per period, published after a delay.

Pure logic. Periods are aligned on the load's start (`[k * period, (k + 1) * period)`);
a period without an observation has no datapoint (None: "missing"), as in CloudWatch.
A datapoint becomes visible to alarms `delay_s` after its period ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.model.alarmdef import PERCENTILE
from harness.records.samples import Sample


@dataclass(frozen=True)
class Datapoint:
    start_s: float
    end_s: float
    #: None: no observation in the period (CloudWatch shows no datapoint)
    value: float | None

    def available_at(self, delay_s: float) -> float:
        return self.end_s + delay_s


def statistic(values: Sequence[float], name: str) -> float | None:
    """One CloudWatch statistic of a period's observations; None if there are none."""
    if not values:
        return None
    if name == "Sum":
        return math.fsum(values)
    if name == "Average":
        return math.fsum(values) / len(values)
    if name == "Maximum":
        return max(values)
    if name == "Minimum":
        return min(values)
    if name == "SampleCount":
        return float(len(values))
    match = PERCENTILE.match(name)
    if match is None:
        raise ValueError(f"unknown statistic {name!r}")
    # nearest rank: the smallest value with at least p % of the observations at or below it
    ordered = sorted(values)
    rank = math.ceil(float(match.group(1)) / 100 * len(ordered))
    return ordered[max(0, rank - 1)]


def first_period(since_s: float, period_s: float) -> int:
    """The index of the period holding `since_s` (0 before the load's start)."""
    return max(0, math.floor(since_s / period_s))


def datapoints(samples: Iterable[Sample], metric: str, *, period_s: float, stat: str,
               until_s: float, member: str | None = None,
               since_s: float = 0.0) -> list[Datapoint]:
    """The datapoints of every whole period until `until_s`, from the one holding `since_s`.

    `since_s` (default: the load's start) spares a live reader building every period
    of the run when it reads only the last few; the periods it returns are the same
    as from 0, as long as `samples` still holds every sample of them.
    """
    if period_s <= 0:
        raise ValueError("period_s must be positive")
    first = first_period(since_s, period_s)
    wanted = [s for s in samples if s.metric == metric and (member is None or s.member == member)]
    buckets: dict[int, list[float]] = {}
    for s in wanted:
        if s.t_s >= 0:
            k = int(s.t_s // period_s)
            if k >= first:
                buckets.setdefault(k, []).extend(s.observations())
    count = math.floor(until_s / period_s + 1e-9)
    return [
        Datapoint(k * period_s, (k + 1) * period_s, statistic(buckets.get(k, []), stat))
        for k in range(first, count)
    ]
