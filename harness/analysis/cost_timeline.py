"""The event's cost as it accrued: cumulative dollars over the run, in AWS time.

Drawn from the recorded cost (`ArchCost`, its line items) and the recorded fleet
timeline (the capacity samples `event_cost` priced), so the curve ends at the measured
lines' total:

- the app fleet's lines accrue with the billed member-seconds (`fleet_stretches`): a
  scale-out steepens the curve from the new members' launch;
- a line billed by whole hours (a load balancer's hours) steps up at the start of every
  AWS hour begun, a partial hour as a full one;
- every other measurable line (database instance-hours, the proxy, any request-priced
  item) accrues evenly over the run: the run does not record when each request-priced
  unit was spent, only how many;
- a line not measurable is left out, so the curve is then a lower bound.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from harness.analysis.cost import ArchCost, fleet_stretches
from harness.analysis.scaling import CapacityPoint

#: the price names of the app fleet's lines (harness.analysis.cost.event_cost)
FLEET_PRICES = frozenset({"ec2_instance_hour", "fargate_vcpu_hour", "fargate_gb_hour"})


@dataclass(frozen=True)
class CostPoint:
    """The measurable lines' dollars spent from the load's start until `run_s`."""

    run_s: float
    #: run_s / time_scale: the AWS time it stands for
    aws_s: float
    usd: float


def _times(run_s: float, time_scale: float, points: Sequence[CapacityPoint]) -> list[float]:
    """Every run second, each capacity sample and each AWS hour's start, and the end."""
    hour_run_s = 3600 * time_scale
    times = {float(s) for s in range(math.ceil(run_s))}
    times.update(p.t_s for p in points if 0 < p.t_s < run_s)
    times.update(h * hour_run_s for h in range(1, math.ceil(run_s / hour_run_s)))
    times.add(run_s)
    return sorted(t for t in times if 0 <= t <= run_s)


def cumulative(cost: ArchCost, fleet: Sequence[CapacityPoint]) -> list[CostPoint]:
    """The cumulative cost at each of the run's seconds (and samples, hours, the end)."""
    run_s, scale = cost.event_run_s, cost.time_scale
    stretches = fleet_stretches(fleet, run_s, cost.base_members)
    starts = [f.start_s for f in stretches]
    before = [0.0]  # member-seconds billed before each stretch
    for f in stretches:
        before.append(before[-1] + f.members * (f.end_s - f.start_s))
    billed = before[-1]

    def member_seconds(t: float) -> float:
        i = bisect_right(starts, t) - 1
        if i < 0:
            return 0.0
        f = stretches[i]
        return before[i] + f.members * (min(t, f.end_s) - f.start_s)

    measured = [li for li in cost.lines if li.subtotal_usd is not None]
    fleet_usd = sum(li.subtotal_usd or 0.0 for li in measured if li.price in FLEET_PRICES)
    even_usd = sum(li.subtotal_usd or 0.0 for li in measured
                   if li.price not in FLEET_PRICES and li.scales == "hours")
    hourly = [li for li in measured if li.price not in FLEET_PRICES
              and li.scales == "whole_hours" and li.quantity]
    out = []
    for t in _times(run_s, scale, fleet):
        aws_h = t / scale / 3600
        usd = even_usd * (t / run_s if run_s else 1.0)
        if billed:
            usd += fleet_usd * member_seconds(t) / billed
        for li in hourly:
            assert li.quantity is not None
            # billed from the start of each hour begun (the first at the start)
            # (at the end floor + 1 >= the hours begun, so the line's whole quantity)
            begun = min(li.quantity, float(math.floor(aws_h + 1e-9) + 1))
            usd += (li.subtotal_usd or 0.0) * begun / li.quantity
        out.append(CostPoint(round(t, 6), round(t / scale, 3), round(usd, 6)))
    return out
