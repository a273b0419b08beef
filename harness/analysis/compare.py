"""Compare two sides (architectures, or runs) metric by metric, with confidence intervals.

Every latency and ratio metric is the run's own: p50/p95/p99 of the run's
exactly merged HdrHistograms, error rate as errors / finished requests of the
whole run, never a mean of per-second values (harness.analysis.runlevel).

The interval of each difference (candidate - baseline) depends on what there is:

- **one run per side**: a paired moving-block bootstrap of the seconds. Both
  sides ran the same seeded arrivals and fault timeline on one clock, so each
  resample draws the same stretches of the timeline on both sides (blocks of
  5 s keep a burst together); a resample's percentiles come from its merged
  histograms. Seeded (`seed`), so the same inputs give the same intervals. It
  captures the variation within a run, not between runs: use repeats for that.
- **repeated runs** (`harness run --repeat N`, N >= 2 on both sides): a Student t
  interval over the repeats; paired (df = N - 1) when repeat i of both sides ran
  back to back, as `--repeat` interleaves them, else Welch's. Three repeats give
  wide intervals (t = 4.30 at 95 %): that is the honest width of three samples.

A delta whose interval includes zero is "no significant difference". One whose
interval excludes zero is a regression (or improvement) only when it is also
bigger than the metric's minimum effect, so a real but negligible change does
not fail a pipeline; it then reads "below minimum effect".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from harness.analysis.runlevel import SecondTable
from harness.analysis.series import ALL, ArchData
from harness.analysis.stats import (
    block_weights,
    blocks_needed,
    paired_t_interval,
    welch_t_interval,
)

#: (metric, unit, higher is worse, minimum absolute effect, minimum relative effect)
METRICS: tuple[tuple[str, str, bool, float, float], ...] = (
    ("p50", "ms", True, 1.0, 0.05),
    ("p95", "ms", True, 2.0, 0.05),
    ("p99", "ms", True, 5.0, 0.05),
    ("error_rate", "ratio", True, 0.001, 0.10),
    ("achieved_ratio", "ratio", False, 0.005, 0.0),
)
#: recovery time per fault: higher is worse; a second and 10 % at least
RECOVERY_EFFECT = (1.0, 0.10)
BLOCK_S = 5

Verdict = Literal[
    "regression", "improvement", "no significant difference", "below minimum effect",
    "no interval", "not measurable",
]


@dataclass(frozen=True)
class MetricDelta:
    """candidate - baseline for one metric, with its confidence interval and verdict."""

    metric: str
    unit: str
    #: the run's value; with repeats, the mean of the repeats' run-level values
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    #: the relative change, candidate / baseline - 1 (None when the baseline is 0)
    relative: float | None
    verdict: Verdict
    #: why there is no figure or no interval
    note: str = ""

    @property
    def regression(self) -> bool:
        return self.verdict == "regression"

    @property
    def improvement(self) -> bool:
        return self.verdict == "improvement"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its label, its runs (one, or the repeats) and recoveries."""

    label: str
    runs: Sequence[ArchData]
    #: per run: fault name -> recovery seconds (None: no figure, e.g. never recovered)
    recovery_s: Sequence[Mapping[str, float | None]] = field(default_factory=tuple)
    #: per run: fault name -> why that run has no figure ("modern run 2: no impact")
    no_figure: Sequence[Mapping[str, str]] = field(default_factory=tuple)


@dataclass(frozen=True)
class Comparison:
    baseline: str
    candidate: str
    confidence: float
    #: how the intervals were computed, in words (printed under every table)
    method: str
    #: runs on each side
    runs: tuple[int, int]
    #: seconds of data on each side (of the first run)
    seconds: tuple[int, int]
    deltas: list[MetricDelta]

    @property
    def regressions(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.regression]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "deltas": [d.to_json() for d in self.deltas]}


def judge(delta: float, low: float, high: float, baseline: float, *, higher_worse: bool,
          min_abs: float, min_rel: float) -> tuple[Verdict, float | None]:
    """The verdict of one delta with its interval, and its relative change."""
    relative = delta / baseline if baseline else None
    if low <= 0.0 <= high:
        return "no significant difference", relative
    big = abs(delta) >= min_abs and (relative is None or abs(relative) >= min_rel)
    if not big:
        return "below minimum effect", relative
    worse = delta > 0 if higher_worse else delta < 0
    return ("regression" if worse else "improvement"), relative


def _side(x: Side | ArchData, label: str | None) -> Side:
    if isinstance(x, Side):
        return x if label is None else Side(label, x.runs, x.recovery_s, x.no_figure)
    return Side(label or x.arch, [x])


def compare(
    baseline: Side | ArchData,
    candidate: Side | ArchData,
    *,
    baseline_label: str | None = None,
    candidate_label: str | None = None,
    endpoint: str = ALL,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
    paired: bool = True,
) -> Comparison:
    """Per-metric deltas of `candidate` against `baseline`, each with its interval and verdict.

    Both sides have one run (bootstrap of the seconds) or both at least two (t
    interval over the runs; `paired` when run i of each side belong together).
    """
    a, b = _side(baseline, baseline_label), _side(candidate, candidate_label)
    na, nb = len(a.runs), len(b.runs)
    if na == 0 or nb == 0 or (min(na, nb) == 1 and max(na, nb) > 1):
        raise ValueError(
            f"{a.label} has {na} runs and {b.label} {nb}: compare one run with one, "
            "or at least two repeats with at least two"
        )
    tables_a = [SecondTable.of(r, endpoint) for r in a.runs]
    tables_b = [SecondTable.of(r, endpoint) for r in b.runs]
    pairs = paired and na == nb
    if na == 1:
        deltas = _bootstrap_deltas(tables_a[0], tables_b[0], seed, resamples, confidence)
        method = (f"paired moving-block bootstrap of the seconds ({resamples} resamples, "
                  f"{BLOCK_S} s blocks, seed {seed}); one run per side, so it shows the "
                  "variation within a run, not between runs (use --repeat)")
    else:
        deltas = [
            _repeat_delta(metric, unit, [t.metric(metric)[0] for t in tables_a],
                          [t.metric(metric)[0] for t in tables_b], pairs, confidence,
                          higher_worse=hw, min_abs=ma, min_rel=mr)
            for metric, unit, hw, ma, mr in METRICS
        ]
        method = (f"paired t-interval over {na} interleaved repeats (df {na - 1})" if pairs
                  else f"Welch t-interval over {na} and {nb} runs")
        method += "; each run's value from its merged histograms"
    deltas += _recovery_deltas(a, b, pairs, confidence)
    return Comparison(
        baseline=a.label, candidate=b.label, confidence=confidence, method=method,
        runs=(na, nb), seconds=(tables_a[0].seconds, tables_b[0].seconds), deltas=deltas,
    )


def _bootstrap_deltas(a: SecondTable, b: SecondTable, seed: int, resamples: int,
                      confidence: float) -> list[MetricDelta]:
    rng = np.random.default_rng(seed)
    uniform = rng.random((resamples, blocks_needed(max(a.seconds, b.seconds), BLOCK_S)))
    wa = block_weights(uniform, a.seconds, BLOCK_S)
    wb = block_weights(uniform, b.seconds, BLOCK_S)
    tail = (1 - confidence) / 2 * 100
    out = []
    for metric, unit, higher_worse, min_abs, min_rel in METRICS:
        base, cand = float(a.metric(metric)[0]), float(b.metric(metric)[0])
        if math.isnan(base) or math.isnan(cand):
            out.append(_not_measurable(metric, unit, base, cand, "no data on one side"))
            continue
        diffs = b.metric(metric, wb) - a.metric(metric, wa)
        diffs = diffs[~np.isnan(diffs)]
        low, high = (float(v) for v in np.percentile(diffs, [tail, 100 - tail]))
        delta = cand - base
        verdict, relative = judge(delta, low, high, base, higher_worse=higher_worse,
                                  min_abs=min_abs, min_rel=min_rel)
        out.append(MetricDelta(metric, unit, base, cand, delta, low, high, relative, verdict))
    return out


def _repeat_delta(metric: str, unit: str, a: Sequence[float], b: Sequence[float], paired: bool,
                  confidence: float, *, higher_worse: bool, min_abs: float, min_rel: float,
                  ) -> MetricDelta:
    missing = sum(math.isnan(v) for v in (*a, *b))
    if missing:
        return _not_measurable(metric, unit, None, None,
                               f"no figure in {missing} of {len(a) + len(b)} runs")
    base, cand = float(np.mean(a)), float(np.mean(b))
    if paired:
        delta, low, high = paired_t_interval([y - x for x, y in zip(a, b, strict=True)],
                                             confidence)
    else:
        delta, low, high = welch_t_interval(a, b, confidence)
    verdict, relative = judge(delta, low, high, base, higher_worse=higher_worse,
                              min_abs=min_abs, min_rel=min_rel)
    return MetricDelta(metric, unit, base, cand, delta, low, high, relative, verdict)


def _recovery_deltas(a: Side, b: Side, paired: bool, confidence: float) -> list[MetricDelta]:
    faults = list(dict.fromkeys(f for r in (*a.recovery_s, *b.recovery_s) for f in r))
    out = []
    for fault in faults:
        metric = f"recovery {fault}"
        xs = [r.get(fault) for r in a.recovery_s]
        ys = [r.get(fault) for r in b.recovery_s]
        figures = [v for v in (*xs, *ys) if v is not None]
        if len(figures) < len(xs) + len(ys) or len(xs) < len(a.runs) or len(ys) < len(b.runs):
            total = len(a.runs) + len(b.runs)
            whys = [w[fault] for w in (*a.no_figure, *b.no_figure) if fault in w]
            out.append(_not_measurable(
                metric, "s", None, None,
                f"no recovery figure in {total - len(figures)} of {total} runs "
                f"({'; '.join(whys) or 'never recovered, or not measurable'})"))
            continue
        xf = [float(v) for v in xs if v is not None]
        yf = [float(v) for v in ys if v is not None]
        if len(xf) == 1:
            base, cand = xf[0], yf[0]
            out.append(MetricDelta(
                metric, "s", base, cand, cand - base, None, None,
                cand / base - 1 if base else None, "no interval",
                "one run per side: a recovery time is one figure per run; run with --repeat"))
            continue
        min_abs, min_rel = RECOVERY_EFFECT
        out.append(_repeat_delta(metric, "s", xf, yf, paired, confidence, higher_worse=True,
                                 min_abs=min_abs, min_rel=min_rel))
    return out


def _not_measurable(metric: str, unit: str, base: float | None, cand: float | None, why: str
                    ) -> MetricDelta:
    def clean(v: float | None) -> float | None:
        return None if v is None or math.isnan(v) else v

    return MetricDelta(metric, unit, clean(base), clean(cand), None, None, None, None,
                       "not measurable", why)
