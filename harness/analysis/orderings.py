"""The compressed clock: orderings of timings a run's time scale may invert.

A run multiplies every AWS control-plane timing of its profiles (`Timing`: failovers,
health checks, launches, alarm periods) by the scenario's `time_scale`, but not the
request path: the services' client timeouts, the SDK's retry back-off, the apps' own
latency. So an ordering that decides what a fault does can flip (DESIGN.md, "time
scaling"): at AWS an Aurora failover (30 s) outlasts the client's 3 s query timeout, so
the queries RDS Proxy holds fail; at 0.1 the failover takes 3 s and they succeed late.

For every fault of the scenario's timeline this lists the pairs of timings that decide
its outcome, each at AWS's timing (scale 1) and at the run's, and whether their order
held (`ClockOrdering.preserved`); plus the auto scaling pair, which belongs to no fault.
How each side's seconds are taken:

- a profile `Timing`: `value` at AWS, `at(time_scale)` in the run (its floor included);
- a request-path setting (`app.client.*`) and the SDK's back-off: the same on both sides;
- a fault's duration as the scenario writes it is run time: it stands for
  `duration / time_scale` at AWS, as `FaultRecovery.recovery_aws_s` does;
- the apps' latency is measured (the clients' p99 in the fault's window) and is the same
  on both sides: the request path is not scaled.

Computed when the run is analysed (harness.report.assemble), from what run.json records:
the stack profile read back into the typed `Profile`, the scenario's `faults:` and the
per-second series. Not at the run's start: one pair needs the measured latency, and a
report rebuilt from a results folder must say the same. A recovery whose order is
inverted gets no AWS estimate (`withhold_estimates`). The rules, which timings decide
what for each kind of fault, are harness.analysis.timings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import ValidationError

from harness.analysis.recovery import FaultRecovery
from harness.analysis.series import ArchData
from harness.analysis.timings import Clock, Figure, Pair, fault_pairs, scaling_pairs
from harness.errors import ScenarioError
from harness.model.profile import Profile
from harness.scenario.faults import FaultSpec, Topology, fault_name, parse_timeline

__all__ = ["ClockOrdering", "Figure", "clock_orderings", "from_record", "relation",
           "window_p99_ms", "withhold_estimates"]

Relation = Literal["<", "=", ">"]


@dataclass(frozen=True)
class ClockOrdering:
    """Two timings that decide what a fault does: their order at AWS and in this run."""

    #: the fault's name; None: no single fault's (auto scaling)
    fault: str | None
    #: the fault's type; None: no single fault's
    type: str | None
    #: the two timings, named by their profile settings (or by what was measured)
    pair: tuple[str, str]
    #: seconds at AWS's own timings (time scale 1); None: not known
    aws_s: tuple[float | None, float | None]
    #: seconds in this run
    run_s: tuple[float | None, float | None]
    #: pair[0] <, = or > pair[1] at AWS, and in this run; None: not judged
    aws: Relation | None
    run: Relation | None
    #: the order at AWS held in the run; None: not judged (`reason` says why)
    preserved: bool | None
    #: the fault's figures this order decides
    touches: tuple[Figure, ...]
    #: what the order decides, in words
    decides: str
    reason: str | None = None

    @property
    def inverted(self) -> bool:
        return self.preserved is False


def relation(a: float, b: float) -> Relation:
    """`<`, `=` or `>`; equal within a millisecond (0.1 x 30 s is 3 s, not 3.0000000000000004)."""
    if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3):
        return "="
    return "<" if a < b else ">"


def _latency_pair(clock: Clock, fault: FaultSpec, name: str,
                  p99_ms: Mapping[str, float | None] | None) -> ClockOrdering | None:
    if clock.hc.protocol.value == "TCP":
        return None  # a TCP check does not wait for the app's answer
    timeout = clock.timing("load_balancer.health_check.timeout_s", clock.hc.timeout_s)
    what = "clients' p99 latency in the fault's window (measured)"
    touches: tuple[Figure, ...] = ("errors", "recovery")
    decides = ("a target slower than the health check's timeout fails its checks: with the "
               "apps' latency above the timeout, targets are ejected for being slow")
    if p99_ms is None:
        reason = "no measured data"
    elif name not in p99_ms:
        reason = "the fault did not run"
    else:
        measured = p99_ms[name]
        if measured is not None:
            return _judged(name, fault.type,
                           Pair(timeout, clock.fixed(what, measured / 1000), touches, decides))
        reason = "no request finished in its window"
    return ClockOrdering(
        fault=name, type=fault.type, pair=(timeout.name, what),
        aws_s=(_round(timeout.aws_s), None), run_s=(_round(timeout.run_s), None),
        aws=None, run=None, preserved=None, touches=touches, decides=decides,
        reason=f"not judged: {reason}")


def _round(seconds: float) -> float:
    return round(seconds, 3)


def _judged(fault: str | None, kind: str | None, pair: Pair) -> ClockOrdering:
    a, b = pair.a, pair.b
    aws, run = relation(a.aws_s, b.aws_s), relation(a.run_s, b.run_s)
    return ClockOrdering(
        fault=fault, type=kind, pair=(a.name, b.name),
        aws_s=(_round(a.aws_s), _round(b.aws_s)), run_s=(_round(a.run_s), _round(b.run_s)),
        aws=aws, run=run, preserved=aws == run, touches=pair.touches, decides=pair.decides)


def clock_orderings(profile: Profile, faults: Sequence[FaultSpec], time_scale: float, *,
                    p99_ms: Mapping[str, float | None] | None = None) -> list[ClockOrdering]:
    """Every ordering that decides a fault's outcome (and auto scaling's), at AWS and in the run.

    `p99_ms` is each fault's measured p99 latency in its window (by fault name; None:
    nothing finished); without it the health check's timeout is not judged against it.
    """
    clock = Clock(profile, time_scale)
    topology = Topology.from_profile(profile)
    out: list[ClockOrdering] = []
    for i, spec in enumerate(faults):
        name = fault_name(spec, i)
        out += [_judged(name, spec.type, p) for p in fault_pairs(clock, spec, topology)]
        latency = _latency_pair(clock, spec, name, p99_ms)
        if latency is not None:
            out.append(latency)
    out += [_judged(None, None, p) for p in scaling_pairs(clock)]
    return out


# -- from what the run recorded ------------------------------------------------------------


def window_p99_ms(data: ArchData, recovery: FaultRecovery, until_s: float | None = None
                  ) -> float | None:
    """The clients' p99 over the fault's window: its span, or an instant fault's until it
    recovered (else until `until_s`, the next fault, or the end of the data)."""
    lo = max(0, math.floor(recovery.start_s))
    if recovery.end_s is not None:
        hi = math.ceil(recovery.end_s)
    elif recovery.recovery_s is not None:
        hi = math.ceil(recovery.start_s + recovery.recovery_s)
    else:
        hi = data.duration_s if until_s is None else math.floor(until_s)
    stats = data.stats(lo, max(hi, lo + 1))
    return stats.latency_ms["p99"] if stats.requests else None


def recorded_profile(profile: Mapping[str, Any]) -> Profile | str:
    """run.json's stack profile read back into the typed Profile, or why it does not read back.

    Everything after a run reads a profile setting through this, never the JSON by key.
    """
    if not profile:
        return "no stack profile was recorded"
    try:
        return Profile.model_validate(profile)
    except ValidationError as exc:
        first = exc.errors()[0]
        return (f"the recorded stack profile does not read back "
                f"({'.'.join(str(p) for p in first['loc'])}: {first['msg']})")


def from_record(profile: Profile | str, definition: Mapping[str, Any], time_scale: float,
                recoveries: Sequence[FaultRecovery], data: ArchData | None
                ) -> tuple[list[ClockOrdering], str | None]:
    """`clock_orderings` from run.json's parts: (orderings, None) or ([], why not judged).

    `profile` is `recorded_profile`'s answer: the typed profile, or why there is none.
    """
    if isinstance(profile, str):
        return [], profile
    typed = profile
    try:
        faults = parse_timeline(definition.get("faults"), source="the recorded scenario")
    except ScenarioError as exc:
        return [], f"the recorded scenario's faults do not read back: {exc}"
    p99: dict[str, float | None] | None = None
    if data is not None:
        starts = sorted(r.start_s for r in recoveries)
        p99 = {r.fault: window_p99_ms(data, r, next((s for s in starts if s > r.start_s), None))
               for r in recoveries}
    return clock_orderings(typed, faults, time_scale, p99_ms=p99), None


def withhold_estimates(recoveries: Sequence[FaultRecovery],
                       orderings: Sequence[ClockOrdering]) -> list[FaultRecovery]:
    """The recoveries, with no AWS estimate where an ordering the recovery hangs on is inverted.

    `recovery_s / time_scale` assumes the run is AWS on a faster clock; with an inverted
    pair it is another outcome, not a faster one.
    """
    out = []
    for r in recoveries:
        hit = [o for o in orderings if o.fault == r.fault and o.inverted
               and "recovery" in o.touches]
        if not hit:
            out.append(r)
            continue
        first = hit[0]
        why = (f"{first.pair[0]} vs {first.pair[1]} inverted at time scale {r.time_scale:g}"
               + (f" (+{len(hit) - 1} more)" if len(hit) > 1 else ""))
        out.append(replace(r, recovery_aws_s=None, aws_estimate_withheld=why))
    return out
