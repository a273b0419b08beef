"""Capacity over time and the scaling gap, from a run's events alone.

During a run with auto scaling the metrics collector records, once a second, a
`scaling.capacity` event: the desired count, the members launching and in service,
and `cpu_sum_pct`, the sum of every running member's CPU (each as % of its own size).
The auto scaling orchestrator records every desired-count change
(`orchestrator.scaling.desired_changed`).

The scaling gap of a run is the time from demand first exceeding the in-service
capacity until enough capacity is in service:

- demand exceeds capacity at the first second of `SUSTAIN_S` consecutive seconds in
  which `cpu_sum_pct > in_service * target` (the work done needs more members than are
  in service to stay at the policy's target utilization);
- "enough" is the desired count the group was already launching towards then (a
  scheduled pre-scaling asked in time), else the new desired count of the first scale-out
  after it: the capacity the policy judged enough (a later scale-out is a new episode,
  listed among the desired-count changes, and does not stretch this gap);
- the gap ends at the first second at or after the demand when the in-service count
  reaches that count.

Not measurable (with the reason) when the run has no capacity samples, demand never
exceeded the in-service capacity, or no more capacity than was in service was ever
asked for; `not_reached` (a lower bound) when the count was not in service by the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

CAPACITY_EVENT = "scaling.capacity"
DESIRED_EVENT = "orchestrator.scaling.desired_changed"
#: consecutive seconds above capacity before demand counts as exceeding it
SUSTAIN_S = 3


@dataclass(frozen=True)
class CapacityPoint:
    t_s: float
    desired: int
    launching: int
    in_service: int
    #: sum over running members of CPU % of each member's size; None: not sampled
    cpu_sum_pct: float | None


@dataclass(frozen=True)
class DesiredChange:
    t_s: float
    old: int
    new: int
    cause: str


@dataclass(frozen=True)
class Gap:
    status: Literal["measured", "not_reached", "not_measurable"]
    #: seconds; with not_reached, a lower bound (until the end of the samples)
    gap_s: float | None = None
    demand_s: float | None = None
    enough_s: float | None = None
    #: the in-service count that was enough
    needed: int | None = None
    in_service_at_demand: int | None = None
    reason: str = ""


def _time(event: Mapping[str, Any]) -> float:
    return float(event.get("load_t_s", event.get("t_s", 0.0)))


def capacity_points(events: Sequence[Mapping[str, Any]], arch: str) -> list[CapacityPoint]:
    """The architecture's capacity samples, in time order."""
    points = [
        CapacityPoint(_time(e), int(e["desired"]), int(e["launching"]), int(e["in_service"]),
                      None if e.get("cpu_sum_pct") is None else float(e["cpu_sum_pct"]))
        for e in events if e.get("kind") == CAPACITY_EVENT and e.get("arch", arch) == arch
    ]
    return sorted(points, key=lambda p: p.t_s)


def desired_changes(events: Sequence[Mapping[str, Any]], arch: str) -> list[DesiredChange]:
    changes = [DesiredChange(_time(e), int(e["old"]), int(e["new"]), str(e.get("cause", "")))
               for e in events if e.get("kind") == DESIRED_EVENT and e.get("arch", arch) == arch]
    return sorted(changes, key=lambda c: c.t_s)


def _over(p: CapacityPoint, target_pct: float) -> bool:
    return p.cpu_sum_pct is not None and p.cpu_sum_pct > p.in_service * target_pct


def scaling_gap(points: Sequence[CapacityPoint], changes: Sequence[DesiredChange],
                target_pct: float | None) -> Gap:
    """The run's scaling gap (see the module's docstring)."""
    if target_pct is None:
        return Gap("not_measurable", reason="the profile has no target tracking policy "
                   "(no target utilization to judge demand against)")
    if not points:
        return Gap("not_measurable", reason="no capacity samples were recorded")
    demand = None
    for i in range(len(points) - SUSTAIN_S + 1):
        if all(_over(p, target_pct) for p in points[i:i + SUSTAIN_S]):
            demand = points[i]
            break
    if demand is None:
        return Gap("not_measurable", reason=f"demand never exceeded the in-service capacity "
                   f"at the {target_pct:g} % target for {SUSTAIN_S} s")
    if demand.desired > demand.in_service:
        needed = demand.desired  # asked for before the demand came (pre-scaling, a launch)
    else:
        first = next((c for c in changes if c.t_s >= demand.t_s), None)
        needed = first.new if first is not None and first.new > first.old else demand.desired
    if needed <= demand.in_service:
        return Gap("not_measurable", reason=f"demand exceeded the {demand.in_service} members "
                   f"in service at {demand.t_s:.1f} s, but no more were asked for",
                   demand_s=demand.t_s, in_service_at_demand=demand.in_service)
    enough = next((p for p in points if p.t_s >= demand.t_s and p.in_service >= needed), None)
    if enough is None:
        last = points[-1].t_s
        return Gap("not_reached", gap_s=round(last - demand.t_s, 3), demand_s=demand.t_s,
                   needed=needed, in_service_at_demand=demand.in_service,
                   reason=f"{needed} members were not in service by {last:.1f} s")
    return Gap("measured", gap_s=round(enough.t_s - demand.t_s, 3), demand_s=demand.t_s,
               enough_s=enough.t_s, needed=needed, in_service_at_demand=demand.in_service)
