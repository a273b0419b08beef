"""SLO verdicts: each objective, per architecture, with its measured value and worst window.

Over the whole scope the metric is computed once from the merged histogram of
every second in it. With a sliding window (1 s steps) every window is checked;
the measured value is the worst window's and the SLO fails if any window does.
A scope with no finished request cannot show the objective holds: it fails.
Error rates count arrivals dropped at the concurrency cap as failed (unless the
SLO says `dropped: exclude`), and a window in which arrivals were offered but no
request finished fails an error-rate SLO at 100 %: a stack that stops answering
must not pass because nothing was left to count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.analysis.recovery import FaultRecovery
from harness.analysis.series import ArchData, Stats, scope_seconds, window_starts
from harness.scenario.slo import SLO


@dataclass(frozen=True)
class SloResult:
    """The verdict of one SLO for one architecture."""

    name: str
    arch: str
    metric: str
    endpoint: str
    phase: str | None
    window_s: float | None
    op: str
    threshold: str
    #: threshold and measured value in `unit` (ms, ratio or s)
    limit: float
    unit: str
    #: None when nothing was measured (no requests in scope, or a fault never recovered)
    measured: float | None
    passed: bool
    #: [start, end) seconds of the worst window (or the whole scope)
    worst_start_s: int | None
    worst_end_s: int | None
    windows: int
    windows_failed: int
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _result(slo: SLO, arch: str, **fields: Any) -> SloResult:
    return SloResult(
        name=slo.name, arch=arch, metric=slo.metric, endpoint=slo.endpoint, phase=slo.phase,
        window_s=slo.window, op=slo.op, threshold=str(slo.threshold), limit=slo.limit,
        unit=slo.unit, **fields,
    )


def evaluate_one(
    slo: SLO,
    data: ArchData,
    phase_windows: Mapping[str, tuple[float, float]],
    recoveries: Sequence[FaultRecovery] = (),
) -> SloResult:
    """The verdict of `slo` on one architecture's data."""
    if slo.metric == "recovery_s":
        return _recovery(slo, data.arch, recoveries)
    start, end = scope_seconds(phase_windows, slo.phase, data.duration_s)
    size = end - start if slo.window is None else max(1, round(slo.window))
    worst: tuple[float, int] | None = None
    windows = failed = 0
    silent = 0
    for w in window_starts(start, end, size):
        st: Stats = data.stats(w, min(w + size, end), slo.endpoint)
        if slo.metric == "error_rate":
            if st.attempts(count_dropped=slo.count_dropped) == 0:
                if st.offered == 0:
                    continue  # nothing was asked of the service (a gap between phases)
                # offered, yet no answer at all: every one of them failed
                silent += 1
                value = 1.0
            else:
                value = st.metric("error_rate", count_dropped=slo.count_dropped)
        elif st.requests == 0 and slo.metric != "achieved_ratio":
            continue
        else:
            value = st.metric(slo.metric)
        windows += 1
        failed += not slo.holds(value)
        if worst is None or slo.worse(value, worst[0]) != worst[0]:
            worst = (value, w)
    if worst is None:
        return _result(
            slo, data.arch, measured=None, passed=False, worst_start_s=None, worst_end_s=None,
            windows=0, windows_failed=0,
            detail=f"no requests to {slo.endpoint} in seconds {start}-{end}",
        )
    value, w = worst
    where = f"{size} s window at {w}-{min(w + size, end)} s" if slo.window else f"{start}-{end} s"
    detail = (f"worst {where}" if slo.window is None or failed == 0
              else f"{failed} of {windows} windows failed; worst {where}")
    if silent:
        detail += (f"; {silent} window{'s' if silent > 1 else ''} with arrivals offered but no "
                   "request finished (counted as 100 % errors)")
    if slo.metric == "error_rate" and not slo.count_dropped:
        detail += "; dropped arrivals excluded by the scenario"
    return _result(
        slo, data.arch, measured=value, passed=failed == 0, worst_start_s=w,
        worst_end_s=min(w + size, end), windows=windows, windows_failed=failed, detail=detail,
    )


def _recovery(slo: SLO, arch: str, recoveries: Sequence[FaultRecovery]) -> SloResult:
    chosen = [r for r in recoveries if slo.fault is None or r.fault == slo.fault]
    if not chosen:
        return _result(
            slo, arch, measured=None, passed=False, worst_start_s=None, worst_end_s=None,
            windows=0, windows_failed=0,
            detail=f"no fault {slo.fault!r} in this run" if slo.fault else "no faults in this run",
        )
    # not measurable cannot show the objective holds; no impact holds without a figure
    unknown = [r for r in chosen if r.status == "not_measurable"]
    never = [r for r in chosen if r.status == "not_recovered"]
    timed = [r for r in chosen if r.recovery_s is not None]
    failed = unknown + never + [r for r in timed if not slo.holds(r.recovery_s or 0.0)]
    measured: float | None = None
    if never:
        worst, detail = never[0], f"{never[0].fault} did not recover within the run"
    elif unknown:
        worst = unknown[0]
        detail = f"{worst.fault}: recovery not measurable: {worst.reason}"
    elif timed:
        worst = max(timed, key=lambda r: r.recovery_s or 0.0)
        measured, detail = worst.recovery_s, f"slowest: {worst.fault}"
    else:
        worst = chosen[0]
        detail = f"no impact: {', '.join(r.fault for r in chosen)}"
    return _result(
        slo, arch, measured=measured, passed=not failed,
        worst_start_s=int(worst.start_s), worst_end_s=None, windows=len(chosen),
        windows_failed=len(failed), detail=detail,
    )


def evaluate(
    slos: Sequence[SLO],
    data: Mapping[str, ArchData],
    phase_windows: Mapping[str, tuple[float, float]],
    recoveries: Mapping[str, Sequence[FaultRecovery]] | None = None,
) -> list[SloResult]:
    """Every SLO on every architecture it applies to, in scenario order."""
    results = []
    for slo in slos:
        for arch in slo.archs(list(data)):
            results.append(evaluate_one(
                slo, data[arch], phase_windows, (recoveries or {}).get(arch, ()),
            ))
    return results
