"""Recovery per fault: time to impact, damage while it lasted, and time to recover.

DESIGN.md: recovery time is from the fault's start until error rate and p95
are back within the pre-fault baseline band for N consecutive seconds; "never"
when that does not happen within the run. The band's parameters are the
scenario's `recovery:` block (harness.scenario.slo.Recovery).

A figure must never read better than the data: each fault gets a status,

- `recovered`: impact seen, then N good seconds in a row; `recovery_s` is a number;
- `not_recovered`: impact seen, never back within the band before the data ended;
- `no_impact`: at least N seconds examined and none outside the band;
- `not_measurable`: the data cannot tell, and `reason` says why: an earlier fault had
  not recovered when this one started, another fault started in the same second, no
  clean baseline before it, or too little data after it (the run ended, the next
  fault came).

The baseline is the last stretch of up to `baseline` seconds before the fault in
which no earlier fault was active or still recovering. A fault's clock starts
when its apply began (the executor's `fault.applying` event), so a slow apply (a
planned failover) does not hide its own outage in the baseline; the apply's own
duration is kept as `apply_s`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from harness.analysis.series import ArchData
from harness.records.events import FaultEvent
from harness.scenario.slo import Recovery

RecoveryStatus = Literal["recovered", "not_recovered", "no_impact", "not_measurable"]
NEVER = math.inf


@dataclass(frozen=True)
class FaultWindow:
    """One fault as it happened: run-relative start and end in seconds (end None = instant).

    `start_s` is when the apply began; `apply_s` how long the apply itself took.
    """

    name: str
    type: str
    target: str
    start_s: float
    end_s: float | None = None
    apply_s: float | None = None


@dataclass(frozen=True)
class FaultRecovery:
    """What one fault did to one architecture."""

    fault: str
    type: str
    target: str
    start_s: float
    end_s: float | None
    #: how long the fault's apply took (its clock starts when the apply began)
    apply_s: float | None
    status: RecoveryStatus
    #: why it is not measurable, or what qualifies the figure; None when nothing to add
    reason: str | None
    #: [start, end) seconds of the baseline window; None when there was no clean one
    baseline_start_s: int | None
    baseline_end_s: int | None
    baseline_error_rate: float | None
    baseline_p95_ms: float | None
    error_rate_limit: float | None
    p95_limit_ms: float | None
    #: seconds from the fault's start to the first second outside the band; None = none seen
    impact_s: float | None
    #: over the fault's span; None when nothing was attempted in it
    peak_error_rate: float | None
    #: failed requests (and dropped arrivals, unless the scenario excludes them) in the span
    errors: int
    requests: int
    #: p95 over the fault's span minus the baseline p95
    added_p95_ms: float | None
    #: seconds from the fault's start until back within the band; only when `recovered`
    recovery_s: float | None
    #: recovery_s / time_scale: an estimate of the same recovery at AWS's own timings
    recovery_aws_s: float | None
    time_scale: float = 1.0
    #: why there is no AWS estimate although it recovered: an ordering of timings the
    #: recovery hangs on is inverted at this time scale (harness.analysis.orderings)
    aws_estimate_withheld: str | None = None

    @property
    def recovered(self) -> bool:
        return self.status == "recovered"

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

    Reads the executor's `fault.applying` / `fault.applied` / `fault.reverted` events
    (harness/faults/executor.py) at `event_time`. A fault starts when its apply began:
    the `fault.applying` event, or for older journals `fault.applied` minus its `took_ms`.
    """
    began: dict[str, float] = {}
    applied: dict[str, Mapping[str, Any]] = {}
    ended: dict[str, float] = {}
    for e in events:
        if arch is not None and e.get("arch", arch) != arch:
            continue
        kind, name = e.get("kind"), str(e.get("fault", ""))
        if kind == FaultEvent.APPLYING and name not in began:
            began[name] = event_time(e)
        elif kind == FaultEvent.APPLIED and name not in applied:
            applied[name] = e
        elif kind == FaultEvent.REVERTED and name not in ended:
            ended[name] = event_time(e)
    windows = []
    for name, e in applied.items():
        took = float(e["took_ms"]) / 1000 if "took_ms" in e else None
        start = began.get(name, event_time(e) - (took or 0.0))
        windows.append(FaultWindow(
            name=name, type=str(e.get("type", "")), target=str(e.get("target", "")),
            start_s=start, end_s=ended.get(name), apply_s=took,
        ))
    return sorted(windows, key=lambda w: w.start_s)


@dataclass(frozen=True)
class _Band:
    start: int
    end: int
    error_rate: float
    p95_ms: float | None
    rate_limit: float
    p95_limit: float | None


@dataclass(frozen=True)
class _Found:
    """One fault's detection before its status is decided."""

    window: tuple[int, int]
    band: _Band | None
    examined: int
    impact: int | None
    recovered_at: int | None


class _Detector:
    """The per-second judgement for one architecture's data and the scenario's parameters."""

    def __init__(self, data: ArchData, params: Recovery) -> None:
        self.data = data
        self.params = params
        self.cd = params.count_dropped

    def band(self, start: int, end: int) -> _Band | None:
        if end <= start:
            return None
        st = self.data.stats(start, end)
        if st.attempts(count_dropped=self.cd) == 0:
            return None
        p = self.params
        rate = st.error_rate_of(count_dropped=self.cd)
        p95 = st.latency_ms["p95"] if st.requests else None
        return _Band(
            start, end, rate, p95,
            max(rate * p.error_rate_factor, rate + p.error_rate_margin),
            None if p95 is None else max(p95 * p.p95_factor, p95 + p.p95_margin * 1000),
        )

    def good(self, s: int, band: _Band) -> bool | None:
        """Within the band; None when nothing was offered or finished (nothing to judge)."""
        st = self.data.second(s)
        if st.attempts(count_dropped=self.cd) == 0:
            # offered but nothing finished: nothing shows the service is back
            return None if st.offered == 0 else False
        if st.error_rate_of(count_dropped=self.cd) > band.rate_limit:
            return False
        return band.p95_limit is None or st.requests == 0 or st.latency_ms["p95"] <= band.p95_limit

    def find(self, window: tuple[int, int], first: int, impact_end: int) -> _Found:
        band = self.band(*window)
        if band is None:
            return _Found(window, None, 0, None, None)
        examined, impact = 0, None
        for s in range(first, impact_end):
            verdict = self.good(s, band)
            if verdict is None:
                continue
            examined += 1
            if not verdict:
                impact = s
                break
        recovered_at = None
        if impact is not None:
            streak = 0
            for s in range(impact + 1, self.data.duration_s):
                verdict = self.good(s, band)
                if verdict is None:
                    continue  # a gap in the traffic neither breaks nor extends the streak
                streak = streak + 1 if verdict else 0
                if streak == self.params.consecutive:
                    recovered_at = s - self.params.consecutive + 1
                    break
        return _Found(window, band, examined, impact, recovered_at)


def _baseline_window(first: int, polluted: list[tuple[int, float]], length: int
                     ) -> tuple[int, int]:
    """The last stretch of up to `length` seconds before `first` outside every polluted span."""
    def dirty(s: int) -> bool:
        return any(lo <= s < hi for lo, hi in polluted)

    end = first
    while end > 0 and dirty(end - 1):
        end -= 1
    start = end
    while start > 0 and end - start < length and not dirty(start - 1):
        start -= 1
    return start, end


def detect_all(data: ArchData, faults: Iterable[FaultWindow], params: Recovery, *,
               time_scale: float = 1.0) -> list[FaultRecovery]:
    """Impact, damage and recovery of every fault, in start order (see the module doc).

    Each fault's impact is looked for until the next fault (in a later second) starts,
    so its damage is not blamed on this one.
    """
    ordered = sorted(faults, key=lambda f: f.start_s)
    detector = _Detector(data, params)
    firsts = [max(0, math.floor(f.start_s)) for f in ordered]
    end = data.duration_s
    length = math.ceil(params.baseline)
    results: list[FaultRecovery] = []
    earlier: list[_Earlier] = []
    for i, f in enumerate(ordered):
        first = firsts[i]
        later = [j for j in range(i + 1, len(ordered)) if firsts[j] > first]
        impact_end = end if not later else min(end, firsts[later[0]])
        polluted = [(e.first, e.until) for e in earlier if e.first < first]
        found = detector.find(_baseline_window(first, polluted, length), first, impact_end)
        status, reason = _status(data, ordered, firsts, i, found, earlier, params, impact_end,
                                 later)
        earlier.append(_Earlier(f.name, first, _until(f, first, found),
                                hurt=found.band is None or found.impact is not None,
                                known=found.band is not None))
        results.append(_record(data, f, first, found, status, reason, params, time_scale,
                               impact_end))
    return results


def detect(data: ArchData, fault: FaultWindow, params: Recovery, *, time_scale: float = 1.0
           ) -> FaultRecovery:
    """`detect_all` for a single fault."""
    return detect_all(data, [fault], params, time_scale=time_scale)[0]


@dataclass(frozen=True)
class _Earlier:
    """An earlier fault, as the faults after it see it."""

    name: str
    first: int
    #: the second from which it no longer affects the data (NEVER: not back, or unknown)
    until: float
    #: it was seen outside the band (or could not be judged)
    hurt: bool
    #: it had a baseline, so `until` is measured rather than unknown
    known: bool


def _status(data: ArchData, ordered: list[FaultWindow], firsts: list[int], i: int,
            found: _Found, earlier: list[_Earlier], params: Recovery, impact_end: int,
            later: list[int]) -> tuple[RecoveryStatus, str | None]:
    f, first = ordered[i], firsts[i]
    same = [g.name for j, g in enumerate(ordered) if j != i and firsts[j] == first]
    if same:
        return "not_measurable", (
            f"{', '.join(same)} started in the same second; their effects cannot be told apart"
        )
    for e in earlier:
        if e.first < first and e.hurt and e.until > first:
            if not e.known:
                return "not_measurable", (
                    f"could not tell whether {data.arch} had recovered from {e.name}"
                )
            return "not_measurable", f"{data.arch} had not recovered from {e.name}"
    band = found.band
    if band is None:
        lo, hi = found.window
        if hi > lo:
            return "not_measurable", f"no traffic in its baseline window ({lo}-{hi} s)"
        if hi == first:
            return "not_measurable", (
                f"it started {f.start_s:.1f} s into the load: no traffic before it for a baseline"
            )
        return "not_measurable", "no clean baseline: earlier faults were in place right up to it"
    if band.rate_limit >= 1:
        return "not_measurable", (
            f"the baseline ({band.start}-{band.end} s) already had "
            f"{band.error_rate * 100:.1f} % errors: no impact could show"
        )
    what_ends = (f"{ordered[later[0]].name} started" if later and firsts[later[0]] <= impact_end
                 else "the run ended")
    after = max(0.0, impact_end - f.start_s)
    if found.examined == 0:
        return "not_measurable", f"{what_ends} {after:.1f} s after it started: no data to judge"
    if found.impact is None:
        if found.examined < params.consecutive:
            return "not_measurable", (
                f"only {found.examined} s of data before {what_ends} "
                f"({params.consecutive} s needed to call it no impact)"
            )
        return "no_impact", None
    if found.recovered_at is None:
        return "not_recovered", (
            f"not back within the band when the data ended, {data.duration_s - f.start_s:.1f} s "
            "after it started"
        )
    overlapping = [ordered[j].name for j in later if firsts[j] < found.recovered_at]
    if overlapping:
        return "recovered", (
            f"{', '.join(overlapping)} started before it recovered: the figure includes "
            "their effect"
        )
    return "recovered", None


def _until(f: FaultWindow, first: int, found: _Found) -> float:
    """The second from which this fault no longer affects the data (NEVER if unknown)."""
    active_end = first + 1 if f.end_s is None else max(first + 1, math.ceil(f.end_s))
    if found.band is None:
        return NEVER
    if found.impact is None:
        return active_end
    if found.recovered_at is None:
        return NEVER
    return max(active_end, found.recovered_at)


def _record(data: ArchData, f: FaultWindow, first: int, found: _Found, status: RecoveryStatus,
            reason: str | None, params: Recovery, time_scale: float, impact_end: int
            ) -> FaultRecovery:
    cd = params.count_dropped
    # "during": the fault's own span, or for an instant fault until it recovered; one that
    # did not (or had no impact) until the next fault started: that one's errors are its own
    if f.end_s is not None:
        span_end = math.ceil(f.end_s)
    elif found.recovered_at is not None:
        span_end = found.recovered_at
    else:
        span_end = impact_end
    span_end = max(span_end, first + 1)
    during = data.stats(first, span_end)
    rates = [
        data.second(s).error_rate_of(count_dropped=cd) for s in range(first, span_end)
        if data.second(s).attempts(count_dropped=cd)
    ]
    band = found.band
    base_p95 = band.p95_ms if band else None
    measured = status in ("recovered", "not_recovered")
    recovery = (
        max(0.0, found.recovered_at - f.start_s)
        if status == "recovered" and found.recovered_at is not None else None
    )
    return FaultRecovery(
        fault=f.name, type=f.type, target=f.target, start_s=f.start_s, end_s=f.end_s,
        apply_s=f.apply_s, status=status, reason=reason,
        baseline_start_s=band.start if band else None, baseline_end_s=band.end if band else None,
        baseline_error_rate=band.error_rate if band else None, baseline_p95_ms=base_p95,
        error_rate_limit=band.rate_limit if band else None,
        p95_limit_ms=band.p95_limit if band else None,
        impact_s=(max(0.0, found.impact - f.start_s)
                  if measured and found.impact is not None else None),
        peak_error_rate=max(rates) if rates else None,
        errors=during.failures(count_dropped=cd), requests=during.attempts(count_dropped=cd),
        added_p95_ms=(during.latency_ms["p95"] - base_p95
                      if base_p95 is not None and during.requests else None),
        recovery_s=recovery,
        recovery_aws_s=None if recovery is None else recovery / time_scale,
        time_scale=time_scale,
    )
