"""Compare two runs (or two architectures of one run) metric by metric, with confidence intervals.

Each metric is the mean of its per-second values; the interval of the
difference (candidate - baseline) comes from a moving-block bootstrap of the
seconds of each side (blocks keep the seconds' autocorrelation, so a burst is
not mistaken for many independent bad seconds). A metric is flagged as a
regression when the whole interval lies on the worse side and the change is
bigger than the metric's minimum effect, so noise does not get flagged.
Seeded: the same inputs give the same intervals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from harness.analysis.series import ALL, ArchData

#: (metric, unit, higher is worse, minimum absolute effect, minimum relative effect)
METRICS: tuple[tuple[str, str, bool, float, float], ...] = (
    ("p50", "ms", True, 1.0, 0.05),
    ("p95", "ms", True, 2.0, 0.05),
    ("p99", "ms", True, 5.0, 0.05),
    ("error_rate", "ratio", True, 0.001, 0.10),
    ("achieved_ratio", "ratio", False, 0.005, 0.0),
)


@dataclass(frozen=True)
class MetricDelta:
    """candidate - baseline for one metric, with its bootstrap confidence interval."""

    metric: str
    unit: str
    baseline: float
    candidate: float
    delta: float
    ci_low: float
    ci_high: float
    #: the relative change, candidate / baseline - 1 (None when the baseline is 0)
    relative: float | None
    regression: bool
    improvement: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    baseline: str
    candidate: str
    confidence: float
    resamples: int
    seconds: tuple[int, int]
    deltas: list[MetricDelta]

    @property
    def regressions(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.regression]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "deltas": [d.to_json() for d in self.deltas]}


def per_second(data: ArchData, metric: str, endpoint: str = ALL) -> npt.NDArray[np.float64]:
    """The metric's value in each second that had traffic (finished requests or offered)."""
    values = []
    for s in range(data.duration_s):
        st = data.second(s, endpoint)
        if metric == "achieved_ratio":
            if st.offered:
                values.append(st.achieved_ratio)
        elif st.requests:
            values.append(st.metric(metric))
    return np.asarray(values, dtype=np.float64)


def _block_means(
    values: npt.NDArray[np.float64], rng: np.random.Generator, resamples: int, block: int
) -> npt.NDArray[np.float64]:
    n = len(values)
    block = max(1, min(block, n))
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(resamples, blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)[:, :n]
    means: npt.NDArray[np.float64] = values[index].mean(axis=1)
    return means


def bootstrap_delta(
    baseline: npt.NDArray[np.float64],
    candidate: npt.NDArray[np.float64],
    *,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
    block: int = 5,
) -> tuple[float, float, float]:
    """(mean(candidate) - mean(baseline), ci_low, ci_high)."""
    delta = float(candidate.mean() - baseline.mean())
    rng = np.random.default_rng(seed)
    diffs = _block_means(candidate, rng, resamples, block) - _block_means(
        baseline, rng, resamples, block
    )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return delta, float(low), float(high)


def compare(
    baseline: ArchData,
    candidate: ArchData,
    *,
    baseline_label: str | None = None,
    candidate_label: str | None = None,
    endpoint: str = ALL,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
) -> Comparison:
    """Per-metric deltas of `candidate` against `baseline`, with regressions flagged."""
    deltas = []
    for metric, unit, higher_worse, min_abs, min_rel in METRICS:
        a = per_second(baseline, metric, endpoint)
        b = per_second(candidate, metric, endpoint)
        if len(a) == 0 or len(b) == 0:
            continue
        delta, low, high = bootstrap_delta(
            a, b, seed=seed, resamples=resamples, confidence=confidence
        )
        base = float(a.mean())
        relative = delta / base if base else None
        big = abs(delta) >= min_abs and (relative is None or abs(relative) >= min_rel)
        worse = low > 0 if higher_worse else high < 0
        better = high < 0 if higher_worse else low > 0
        deltas.append(MetricDelta(
            metric=metric, unit=unit, baseline=base, candidate=float(b.mean()), delta=delta,
            ci_low=low, ci_high=high, relative=relative,
            regression=worse and big, improvement=better and big,
        ))
    return Comparison(
        baseline=baseline_label or baseline.arch, candidate=candidate_label or candidate.arch,
        confidence=confidence, resamples=resamples,
        seconds=(baseline.duration_s, candidate.duration_s), deltas=deltas,
    )
