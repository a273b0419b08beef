"""Recovery per fault: time to impact, damage while it lasted, and time to recover.

DESIGN.md: recovery time is from the fault's start until error rate and p95
are back within the pre-fault baseline band for N consecutive seconds; "never"
(None here) when that does not happen within the run. The band's parameters
are the scenario's `recovery:` block (harness.scenario.slo.Recovery).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from harness.analysis.series import ArchData
from harness.scenario.slo import Recovery


@dataclass(frozen=True)
class FaultWindow:
    """One fault as it happened: run-relative start and end in seconds (end None = instant)."""

    name: str
    type: str
    target: str
    start_s: float
    end_s: float | None = None


@dataclass(frozen=True)
class FaultRecovery:
    """What one fault did to one architecture."""

    fault: str
    type: str
    target: str
    start_s: float
    end_s: float | None
    baseline_error_rate: float
    baseline_p95_ms: float | None
    error_rate_limit: float
    p95_limit_ms: float | None
    #: seconds from the fault's start to the first second outside the band; None = no impact
    impact_s: float | None
    peak_error_rate: float
    errors: int
    requests: int
    #: p95 over the fault's span minus the baseline p95
    added_p95_ms: float | None
    #: seconds from the fault's start until back within the band; None = not recovered
    recovery_s: float | None

    @property
    def recovered(self) -> bool:
        return self.recovery_s is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def event_time(e: Mapping[str, Any]) -> float:
    """Seconds from the start of the load: `load_t_s` (see merge_events), else `t_s`."""
    return float(e.get("load_t_s", e["t_s"]))


def merge_events(
    per_arch: Mapping[str, Iterable[Mapping[str, Any]]],
    load_start_wall: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One events.jsonl for the run from each architecture's EventLog events.

    Adds `arch`, and `load_t_s` = wall - the load's wall-clock start (LoadResult.start_at)
    when it is known, so events line up with the recorder's seconds; sorted by wall time.
    """
    merged = []
    for arch, events in per_arch.items():
        start = (load_start_wall or {}).get(arch)
        for e in events:
            extra: dict[str, Any] = {"arch": arch}
            if start is not None and "wall" in e:
                extra["load_t_s"] = round(float(e["wall"]) - start, 6)
            merged.append({**e, **extra})
    return sorted(merged, key=lambda e: float(e.get("wall", e.get("t_s", 0.0))))


def faults_from_events(events: Iterable[Mapping[str, Any]], arch: str | None = None
                       ) -> list[FaultWindow]:
    """Faults applied (and reverted) in events.jsonl, optionally only one architecture's.

    Reads the executor's `fault.applied` / `fault.reverted` events (harness/faults/executor.py)
    at `event_time`: seconds from the start of the load, like the recorder's seconds.
    """
    started: dict[str, Mapping[str, Any]] = {}
    ended: dict[str, float] = {}
    for e in events:
        if arch is not None and e.get("arch", arch) != arch:
            continue
        kind = e.get("kind")
        if kind == "fault.applied" and e["fault"] not in started:
            started[e["fault"]] = e
        elif kind == "fault.reverted" and e["fault"] not in ended:
            ended[e["fault"]] = event_time(e)
    windows = [
        FaultWindow(
            name=name, type=str(e.get("type", "")), target=str(e.get("target", "")),
            start_s=event_time(e), end_s=ended.get(name),
        )
        for name, e in started.items()
    ]
    return sorted(windows, key=lambda w: w.start_s)


def detect(data: ArchData, fault: FaultWindow, params: Recovery, *,
           impact_until_s: float | None = None) -> FaultRecovery:
    """Impact, damage and recovery of one fault in one architecture's per-second data.

    The first second outside the band is looked for until `impact_until_s` (the next
    fault's start, so its damage is not blamed on this one) or the end of the data.
    """
    first = max(0, math.floor(fault.start_s))
    base = data.stats(max(0, first - math.ceil(params.baseline)), first)
    base_rate = base.error_rate
    base_p95 = base.latency_ms["p95"] if base.requests else None
    rate_limit = max(base_rate * params.error_rate_factor, base_rate + params.error_rate_margin)
    p95_limit = (
        None if base_p95 is None
        else max(base_p95 * params.p95_factor, base_p95 + params.p95_margin * 1000)
    )

    def good(s: int) -> bool:
        st = data.second(s)
        if st.requests == 0:
            # no finished request: nothing shows the service is back
            return False
        return st.error_rate <= rate_limit and (
            p95_limit is None or st.latency_ms["p95"] <= p95_limit
        )

    end = data.duration_s
    # the second in which the next fault starts is already partly its damage
    impact_end = end if impact_until_s is None else min(end, math.floor(impact_until_s))
    impact = next((s for s in range(first, impact_end) if not good(s)), None)
    recovered_at: int | None = None
    if impact is None:
        recovered_at = first
    else:
        streak = 0
        for s in range(impact + 1, end):
            streak = streak + 1 if good(s) else 0
            if streak == params.consecutive:
                recovered_at = s - params.consecutive + 1
                break
    # "during": the fault's own span, or for an instant fault until it recovered
    if fault.end_s is not None:
        span_end = math.ceil(fault.end_s)
    elif recovered_at is not None:
        span_end = recovered_at
    else:
        span_end = end
    span_end = max(span_end, first + 1)
    during = data.stats(first, span_end)
    peak = max((data.second(s).error_rate for s in range(first, span_end)), default=0.0)
    added = (
        during.latency_ms["p95"] - base_p95
        if base_p95 is not None and during.requests else None
    )
    return FaultRecovery(
        fault=fault.name, type=fault.type, target=fault.target,
        start_s=fault.start_s, end_s=fault.end_s,
        baseline_error_rate=base_rate, baseline_p95_ms=base_p95,
        error_rate_limit=rate_limit, p95_limit_ms=p95_limit,
        impact_s=None if impact is None else max(0.0, impact - fault.start_s),
        peak_error_rate=peak, errors=during.errors, requests=during.requests,
        added_p95_ms=added,
        recovery_s=None if recovered_at is None else max(0.0, recovered_at - fault.start_s),
    )


def detect_all(data: ArchData, faults: Iterable[FaultWindow], params: Recovery
               ) -> list[FaultRecovery]:
    """`detect` for each fault, each one's impact looked for until the next one starts."""
    ordered = sorted(faults, key=lambda f: f.start_s)
    nexts: list[float | None] = [f.start_s for f in ordered[1:]]
    nexts += [None] * (len(ordered) - len(nexts))
    return [detect(data, f, params, impact_until_s=n) for f, n in zip(ordered, nexts, strict=True)]
