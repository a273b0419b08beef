"""Synthetic repeated runs for the compare tests: noisy repeats, order effects, repeat sets.

Built on tests.support.synthetic (real HdrHistograms from seeded samples), so
everything downstream (merging, run-level percentiles, the CSV round trip) runs
as on a real run. Between-run noise is a per-run shift of the median latency,
the kind of difference two runs of one stack show (a colder cache, a neighbour).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.analysis.recovery import FaultRecovery
from harness.analysis.series import ArchData
from harness.repeats import order_of
from harness.report.assemble import RunHeader, build_record, write_all
from harness.report.record import Repeat
from harness.report.results import REPEAT_PREFIX, ResultsDir, create_repeat_set
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic


def noisy_runs(arch: str, n: int, *, latency_ms: float = 20.0, between_runs: float = 0.05,
               error_rate: float = 0.0, seconds: int = 30, seed: int = 1,
               shift_ms: Sequence[float] = ()) -> list[ArchData]:
    """`n` runs of one system: each run's median is `latency_ms` x (1 + N(0, between_runs)).

    `shift_ms[i]` adds a fixed delay to run i (an order effect, a real regression).
    """
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        median = latency_ms * (1 + rng.gauss(0, between_runs)) + (
            shift_ms[i] if i < len(shift_ms) else 0.0)
        runs.append(synthetic(arch, seconds, rate=lambda s: 30,
                              latency_ms=lambda s, m=median: m,
                              error_rate=lambda s: error_rate, seed=rng.randrange(1 << 30)))
    return runs


def recovery(fault: str, recovery_s: float | None) -> FaultRecovery:
    """A recovery figure as run.json keeps it (None: never recovered)."""
    return FaultRecovery(
        fault=fault, type="kill", target="app-1", start_s=5.0, end_s=None, apply_s=0.01,
        status="recovered" if recovery_s is not None else "not_recovered", reason=None,
        baseline_start_s=0, baseline_end_s=5,
        baseline_error_rate=0.0, baseline_p95_ms=20.0, error_rate_limit=0.01,
        p95_limit_ms=40.0, impact_s=0.0, peak_error_rate=0.5, errors=10, requests=100,
        added_p95_ms=5.0, recovery_s=recovery_s, recovery_aws_s=recovery_s,
    )


def write_repeat_set(
    root: Path, runs: Mapping[str, Sequence[ArchData]], *,
    recoveries: Mapping[str, Sequence[float | None]] | None = None,
    incomplete: Sequence[int] = (),
) -> Path:
    """A repeat set as `harness run --repeat N` writes it; architectures in `runs`' order.

    `recoveries[arch][i]` is repeat i+1's recovery from fault "kill-app";
    repeats numbered in `incomplete` are left marked interrupted.
    """
    set_dir = create_repeat_set(root, "synthetic")
    archs = list(runs)
    n = len(next(iter(runs.values())))
    for index in range(1, n + 1):
        order = order_of(index, archs)
        out = ResultsDir.create(set_dir, "synthetic", name=f"{REPEAT_PREFIX}{index}")
        data = {a: runs[a][index - 1] for a in order}
        header = RunHeader(
            run_id=f"{set_dir.name}/{out.run_id}", scenario="synthetic", seed=1,
            phases=[("main", 0, 30)], settings={"architectures": order},
            repeat=Repeat(set_id=set_dir.name, index=index, of=n, order=order).model_dump(),
        )
        status = "interrupted" if index in incomplete else "complete"
        record = build_record(header, Objectives(), data, [], status=status)
        if recoveries:
            for a in record.architectures:
                figure = recoveries[a.arch][index - 1]
                a.recoveries = [recovery("kill-app", figure)]
        if status != "complete":
            out.mark_interrupted(status)
        write_all(out, record, data, [], finish=status == "complete")
    (set_dir / "INCOMPLETE").unlink()
    return set_dir
