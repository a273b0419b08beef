"""Did the generator keep its schedule? A run where the generator fell behind is invalid.

Start lag (actual start - scheduled start of an arrival) only grows when the
generator's own loop is busy: a slow target fills the concurrency cap, and the
arrivals beyond it are counted as dropped, not delayed. A second is "behind"
when its p99 lag is too long, or when arrivals were dropped or late while the
generator's CPU was saturated (then the cap filled because the generator could
not handle the answers fast enough, not because the target was slow).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.records.recorder import Recorder, SecondCounts

#: a second whose p99 start lag is above this had a generator that could not keep up
MAX_LAG_P99_MS = 100.0
#: share of seconds allowed to be behind before the run is invalid
MAX_BEHIND_SHARE = 0.05
#: share of offered arrivals the generator may miss (never processed) before the run is invalid
MAX_MISSED_SHARE = 0.005
#: a generator process this busy (percent of one core, running or waiting for a core) is saturated
SATURATED_CPU_PCT = 90.0


@dataclass(frozen=True)
class SelfCheck:
    """The verdict on the generator, and the seconds it was behind."""

    valid: bool
    reasons: list[str] = field(default_factory=list)
    behind_seconds: list[int] = field(default_factory=list)
    max_cpu_pct: float = 0.0


def check(recorder: Recorder, *, complete: bool = True) -> SelfCheck:
    """Judge the generator from its own per-second lag, CPU and missed arrivals."""
    seconds = [
        s for s in recorder.seconds() if recorder.counts.get(s) and recorder.counts[s].offered
    ]
    behind = [s for s in seconds if _behind(recorder, s)]
    cpu = max((c.cpu_pct for c in recorder.counts.values()), default=0.0)
    summary = recorder.summary()
    reasons = []
    if seconds and len(behind) > MAX_BEHIND_SHARE * len(seconds):
        busy = sum(_saturated(recorder.counts[s]) for s in behind)
        reasons.append(
            f"the generator fell behind its schedule in {len(behind)} of {len(seconds)} seconds "
            f"(arrivals started more than {MAX_LAG_P99_MS:g} ms late at p99, or dropped or "
            f"late with its CPU saturated; {busy} of them with a saturated CPU); "
            "lower the rate or add --workers"
        )
    if (
        complete
        and summary["offered"]
        and summary["missed"] > MAX_MISSED_SHARE * summary["offered"]
    ):
        reasons.append(
            f"the generator never started {summary['missed']} of {summary['offered']} arrivals"
        )
    return SelfCheck(not reasons, reasons, behind, cpu)


def _behind(recorder: Recorder, second: int) -> bool:
    c = recorder.counts[second]
    if recorder.lag_ms(second)[0] > MAX_LAG_P99_MS:
        return True
    return _saturated(c) and (c.dropped > 0 or c.late > 0)


def _saturated(c: SecondCounts) -> bool:
    # On a shared machine a generator that wants a core all the time runs only part of it
    # and waits in the run queue for the rest: both are its demand.
    return c.cpu_pct + c.cpu_wait_pct >= SATURATED_CPU_PCT
