"""Capacity over time and the scaling gap, from a run's events alone.

During a run with auto scaling the metrics collector records, once a second, a
`scaling.capacity` event: the desired count, the members launching and in service,
and `cpu_sum_pct`, the sum of every running member's CPU (each as % of its own size).
The auto scaling orchestrator records every desired-count change
(`orchestrator.scaling.desired_changed`).

An overload episode starts at the first of `SUSTAIN_S` or more consecutive seconds in
which `cpu_sum_pct > in_service * target` (the work done needs more members than are in
service to stay at the policy's target utilization) and ends at the last of them, when
that stops holding (`overload_windows`).

The scaling gap of a run runs from the start of one episode, the demand, until enough
capacity is in service. It is the first episode, in time order, that either

- started while the group was still launching towards more members than it had in
  service (a scheduled pre-scaling or a scale-out asked before, whose count had not yet
  been in service; a member lost to a fault and being replaced is not this): "enough"
  is that desired count; or
- owns a scale-out, a desired-count increase beyond the members in service at the
  episode's start. A scale-out belongs to the earliest episode inside the data its
  decision acted on (the policy's datapoints, their period and the publication delay:
  `lookback_s`), so a spike and the peak after it, parted by a short dip, are one demand;
  when no episode reaches into that data, to the latest episode that started before the
  decision (the alarm acts on datapoints minutes old). "Enough" is the new desired count
  of the episode's first scale-out, the capacity the policy judged enough; a later
  scale-out is listed among the desired-count changes and does not stretch this gap.

So a start-up transient that ended before the data of any scale-out decision is passed
over, and the gap is measured from the demand the policy acted on. The
gap ends at the first second at or after the demand when the in-service count reaches
"enough".

Not measurable (with the reason) when the run has no capacity samples, no overload
episode, or episodes but no more capacity than was in service ever asked for during or
after one (the reason names the first episode); `not_reached` (a lower bound) when the
count was not in service by the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.records.events import OrchestratorEvent, StackEvent

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
        for e in events
        if e.get("kind") == StackEvent.SCALING_CAPACITY and e.get("arch", arch) == arch
    ]
    return sorted(points, key=lambda p: p.t_s)


def desired_changes(events: Sequence[Mapping[str, Any]], arch: str) -> list[DesiredChange]:
    changes = [DesiredChange(_time(e), int(e["old"]), int(e["new"]), str(e.get("cause", "")))
               for e in events if e.get("kind") == OrchestratorEvent.SCALING_DESIRED_CHANGED
               and e.get("arch", arch) == arch]
    return sorted(changes, key=lambda c: c.t_s)


def _over(p: CapacityPoint, target_pct: float) -> bool:
    return p.cpu_sum_pct is not None and p.cpu_sum_pct > p.in_service * target_pct


def overload_windows(points: Sequence[CapacityPoint], target_pct: float
                     ) -> list[tuple[float, float]]:
    """Overload episodes as (start s, end s): see the module's docstring."""
    return [(first.t_s, last.t_s) for first, last in _episodes(points, target_pct)]


def _episodes(points: Sequence[CapacityPoint], target_pct: float
              ) -> list[tuple[CapacityPoint, CapacityPoint]]:
    """First and last sample of each run of at least SUSTAIN_S samples over the target."""
    episodes = []
    run: list[CapacityPoint] = []
    for p in [*points, None]:  # None ends the last run
        if p is not None and _over(p, target_pct):
            run.append(p)
            continue
        if len(run) >= SUSTAIN_S:
            episodes.append((run[0], run[-1]))
        run = []
    return episodes


def scaling_gap(points: Sequence[CapacityPoint], changes: Sequence[DesiredChange],
                target_pct: float | None, lookback_s: float | None = None) -> Gap:
    """The run's scaling gap (see the module's docstring).

    lookback_s: how far back the data a scale-out decision acted on reaches (the policy's
    datapoints, their period and the publication delay); None: only the latest episode.
    """
    if target_pct is None:
        return Gap("not_measurable", reason="the profile has no target tracking policy "
                   "(no target utilization to judge demand against)")
    if not points:
        return Gap("not_measurable", reason="no capacity samples were recorded")
    episodes = _episodes(points, target_pct)
    if not episodes:
        return Gap("not_measurable", reason=f"demand never exceeded the in-service capacity "
                   f"at the {target_pct:g} % target for {SUSTAIN_S} s")
    for i, (demand, _last) in enumerate(episodes):
        if demand.desired > demand.in_service and _still_launching(points, changes, demand):
            return _gap(points, demand, demand.desired)
        # an increase still short of the members in service (after a scale-in) asks no more
        owned = next((c for c in changes if c.new > max(c.old, demand.in_service)
                      and _owner(episodes, c.t_s, lookback_s) == i), None)
        if owned is not None:
            return _gap(points, demand, owned.new)
    first = episodes[0][0]
    return Gap("not_measurable", reason=f"demand exceeded the {first.in_service} members "
               f"in service at {first.t_s:.1f} s, but no more were asked for",
               demand_s=first.t_s, in_service_at_demand=first.in_service)


def _still_launching(points: Sequence[CapacityPoint], changes: Sequence[DesiredChange],
                     demand: CapacityPoint) -> bool:
    """Was the group still launching towards the last increase asked before the demand?

    Not when that count had been in service since: fewer in service now means members
    were lost (a fault, a failed health check) and are being replaced, which is a
    fault's recovery, not capacity asked for in time.
    """
    asked = [c for c in changes if c.t_s <= demand.t_s and c.new > c.old]
    if not asked:
        return False
    last = asked[-1]
    return not any(last.t_s <= p.t_s < demand.t_s and p.in_service >= last.new
                   for p in points)


def _owner(episodes: Sequence[tuple[CapacityPoint, CapacityPoint]], decided_s: float,
           lookback_s: float | None) -> int | None:
    """The episode a decision at `decided_s` belongs to (an index), or None (before any)."""
    started = [i for i, (first, _last) in enumerate(episodes) if first.t_s <= decided_s]
    if not started:
        return None
    if lookback_s is not None:
        seen = [i for i in started if episodes[i][1].t_s >= decided_s - lookback_s]
        if seen:
            return seen[0]
    return started[-1]


def _gap(points: Sequence[CapacityPoint], demand: CapacityPoint, needed: int) -> Gap:
    """From the demand until `needed` members are in service."""
    enough = next((p for p in points if p.t_s >= demand.t_s and p.in_service >= needed), None)
    if enough is None:
        last = points[-1].t_s
        return Gap("not_reached", gap_s=round(last - demand.t_s, 3), demand_s=demand.t_s,
                   needed=needed, in_service_at_demand=demand.in_service,
                   reason=f"{needed} members were not in service by {last:.1f} s")
    return Gap("measured", gap_s=round(enough.t_s - demand.t_s, 3), demand_s=demand.t_s,
               enough_s=enough.t_s, needed=needed, in_service_at_demand=demand.in_service)
