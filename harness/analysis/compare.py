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

Verdicts (`decide`, the one place that gives them) are corrected for the
number of deltas judged at once: every delta with an interval (p50, p95, p99,
error rate, achieved/offered, each fault's recovery) gets a p-value (from its
t statistic, or two-sided from the bootstrap resamples), and Holm-Bonferroni
over that family keeps the chance of any false regression or improvement in
one comparison at most 1 - confidence (5 %). The intervals shown are each
metric's own, unadjusted; the verdict is the Holm-adjusted one, so an interval
just clear of zero can still read "no significant difference".

A significant delta is a regression (or improvement) only when it is also
bigger than the metric's minimum effect (`METRICS`, `RECOVERY_EFFECT`, or the
user's `Rule.min_effects`), so a real but negligible change does not fail a
pipeline; it then reads "below minimum effect". And no verdict is given on
fewer than `Rule.min_repeats` runs a side (default 3): the interval is shown,
the verdict reads "too few repeats". Two repeats (df 1) or one run (a bootstrap
that sees no run-to-run variation) gave false alarms on identical stacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from harness.analysis.cost import ArchCost
from harness.analysis.runlevel import SecondTable
from harness.analysis.series import ALL, ArchData
from harness.analysis.stats import (
    block_weights,
    blocks_needed,
    bootstrap_p_value,
    holm,
    paired_t_test,
    welch_t_test,
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
#: a recovery delta's metric name is this prefix and the fault's name
RECOVERY = "recovery"
#: runs a side below which no verdict is given (see the module docstring)
DEFAULT_MIN_REPEATS = 3
BLOCK_S = 5

Verdict = Literal[
    "regression", "improvement", "no significant difference", "below minimum effect",
    "too few repeats", "no interval", "not measurable",
]


@dataclass(frozen=True)
class MinEffect:
    """The smallest change worth a verdict: |delta| >= absolute and |relative| >= relative."""

    #: in the metric's unit (ms, s, or a ratio: 0.001 = 0.1 percentage points)
    absolute: float
    #: a share of the baseline (0.05 = 5 %); 0 = no relative bound
    relative: float = 0.0

    def describe(self, unit: str) -> str:
        """`5 ms and 5 %`, `0.1 pp`: absolute in the unit (ratios in points), relative in %."""
        absolute = (f"{self.absolute * 100:g} pp" if unit == "ratio"
                    else f"{self.absolute:g} {unit}")
        parts = [absolute] if self.absolute or not self.relative else []
        if self.relative:
            parts.append(f"{self.relative * 100:g} %")
        return " and ".join(parts)


_DEFAULT_EFFECTS = {m: MinEffect(ma, mr) for m, _, _, ma, mr in METRICS}
_UNITS = {m: unit for m, unit, *_ in METRICS}


def metric_unit(metric: str) -> str:
    """ms, ratio or s (recoveries); KeyError for a name compare does not judge."""
    return "s" if metric == RECOVERY or metric.startswith(f"{RECOVERY} ") else _UNITS[metric]


@dataclass(frozen=True)
class Rule:
    """How deltas are judged: the family-wise level, the repeats needed, the minimum effects."""

    #: of each interval; 1 - confidence is the family-wise level of the verdicts
    confidence: float = 0.95
    #: runs a side for a verdict; fewer read "too few repeats"
    min_repeats: int = DEFAULT_MIN_REPEATS
    #: overrides by metric: "p99", "error_rate", ..., "recovery" (every fault) or
    #: "recovery <fault>" (one); the rest keep METRICS' and RECOVERY_EFFECT
    min_effects: Mapping[str, MinEffect] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence {self.confidence}: must be from 0.5 to below 1")
        if self.min_repeats < 1:
            raise ValueError(f"min_repeats {self.min_repeats}: must be at least 1")
        for metric, effect in self.min_effects.items():
            if metric not in _UNITS and metric.split(" ")[0] != RECOVERY:
                raise ValueError(f"minimum effect of {metric!r}: not a metric compare judges")
            if effect.absolute < 0 or effect.relative < 0:
                raise ValueError(f"minimum effect of {metric}: cannot be negative")

    @property
    def family_alpha(self) -> float:
        return 1.0 - self.confidence

    def effect(self, metric: str) -> MinEffect:
        if metric in self.min_effects:
            return self.min_effects[metric]
        if metric.startswith(f"{RECOVERY} "):
            return self.min_effects.get(RECOVERY, MinEffect(*RECOVERY_EFFECT))
        return _DEFAULT_EFFECTS[metric]

    def describe(self, judged: int) -> str:
        """The verdict rule in words, for the note under every table."""
        effects = [f"{m} {self.effect(m).describe(u)}" for m, u, *_ in METRICS]
        effects += [f"{m} {e.describe('s')}" for m, e in self.min_effects.items()
                    if m.startswith(f"{RECOVERY} ")]
        recovery = self.min_effects.get(RECOVERY, MinEffect(*RECOVERY_EFFECT))
        effects.append(f"recovery {recovery.describe('s')}")
        return (
            f"verdicts Holm-Bonferroni-corrected over the {judged} "
            f"delta{'s' if judged != 1 else ''} with an interval, "
            f"family-wise level {self.family_alpha:.0%} (each interval shown is the "
            f"metric's own, unadjusted {self.confidence:.0%}; 'Holm p' is the adjusted "
            f"p-value); a verdict needs at least {self.min_repeats} "
            f"run{'s' if self.min_repeats > 1 else ''} a side; minimum effects: "
            + ", ".join(effects)
        )


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
    #: two-sided p-value of "no difference", unadjusted
    p_value: float | None = None
    #: the Holm-adjusted p-value over the comparison's deltas; significant when <= 1 - confidence
    p_holm: float | None = None

    @property
    def regression(self) -> bool:
        return self.verdict == "regression"

    @property
    def improvement(self) -> bool:
        return self.verdict == "improvement"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """One metric's difference before judging: the point, the interval and the p-value."""

    metric: str
    unit: str
    baseline: float
    candidate: float
    delta: float
    low: float
    high: float
    p_value: float
    higher_worse: bool


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its label, its runs (one, or the repeats) and recoveries."""

    label: str
    runs: Sequence[ArchData]
    #: per run: fault name -> recovery seconds (None: no figure, e.g. never recovered)
    recovery_s: Sequence[Mapping[str, float | None]] = field(default_factory=tuple)
    #: per run: fault name -> why that run has no figure ("modern run 2: no impact")
    no_figure: Sequence[Mapping[str, str]] = field(default_factory=tuple)
    #: per run: the event's AWS cost from run.json (None: the run recorded none); empty:
    #: no costs to compare (the comparison then has no cost rows)
    costs: Sequence[ArchCost | None] = field(default_factory=tuple)


@dataclass(frozen=True)
class Comparison:
    baseline: str
    candidate: str
    confidence: float
    #: how the intervals were computed and the verdicts given, in words (under every table)
    method: str
    #: runs on each side
    runs: tuple[int, int]
    #: seconds of data on each side (of the first run)
    seconds: tuple[int, int]
    deltas: list[MetricDelta]
    #: runs a side needed for a verdict
    min_repeats: int = DEFAULT_MIN_REPEATS
    #: the event's AWS cost on both sides and its difference: shown, never judged
    costs: list[CostDelta] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.regression]

    @property
    def too_few_repeats(self) -> bool:
        """No verdicts: fewer runs a side than the rule asks."""
        return min(self.runs) < self.min_repeats

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "deltas": [d.to_json() for d in self.deltas]}


@dataclass(frozen=True)
class CostDelta:
    """One cost figure of both sides, in on-demand AWS dollars, and candidate - baseline.

    A cost is arithmetic on the recorded fleet and the price table, not a sample: it has
    no interval and gets no verdict, so it never fails a pipeline. A side whose cost
    leaves out items the run could not measure is a lower bound (`*_partial`), and the
    delta is then of the measured items; None: not measurable, `note` says why.
    """

    #: "event_cost" (the whole event) or "per_million" (per million requests served)
    metric: Literal["event_cost", "per_million"]
    baseline: float | None
    candidate: float | None
    delta: float | None
    relative: float | None
    #: the line items a side's figure leaves out (not measurable): it is then a lower bound
    baseline_left_out: tuple[str, ...] = ()
    candidate_left_out: tuple[str, ...] = ()
    #: why there is no figure ("not measurable: ..."), or what to read the delta with
    note: str = ""

    @property
    def measurable(self) -> bool:
        return self.delta is not None


#: why a side has no cost figure; `NO_COST_WHY` says why a run.json has none
NO_COST = "no cost in run.json"
NO_COST_WHY = ("a run.json without a cost was written before costs were priced, or without "
               "a typed profile or measured seconds")


def _mean(values: Sequence[float]) -> float:
    return round(math.fsum(values) / len(values), 6)


def _cost_figures(side: Side, metric: str) -> tuple[float | None, tuple[str, ...], str]:
    """The side's mean figure over its runs, the items it leaves out, or why there is none."""
    costs = list(side.costs)
    if len(costs) < len(side.runs) or any(c is None for c in costs):
        missing = len(side.runs) - sum(c is not None for c in costs)
        runs = "" if len(side.runs) == 1 else f" in {missing} of {len(side.runs)} runs"
        return None, (), f"{side.label}: {NO_COST}{runs}"
    known = [c for c in costs if c is not None]
    if metric == "per_million":
        values = [c.per_million_usd for c in known]
        if any(v is None for v in values):
            return None, (), f"{side.label}: no request served, so no cost per request"
        figures = [v for v in values if v is not None]
    else:
        figures = [c.total_usd for c in known]
    left_out = tuple(dict.fromkeys(item for c in known for item in c.unmeasured))
    return _mean(figures), left_out, ""


def cost_deltas(baseline: Side, candidate: Side) -> list[CostDelta]:
    """The event's cost and the cost per million requests served, both sides; [] when
    neither side carries costs (a comparison of bare data)."""
    if not baseline.costs and not candidate.costs:
        return []
    out = []
    metrics: tuple[Literal["event_cost", "per_million"], ...] = ("event_cost", "per_million")
    for metric in metrics:
        base, base_out, base_why = _cost_figures(baseline, metric)
        cand, cand_out, cand_why = _cost_figures(candidate, metric)
        if base is None or cand is None:
            why = "; ".join(w for w in (base_why, cand_why) if w)
            out.append(CostDelta(metric, base, cand, None, None, base_out, cand_out,
                                 f"not measurable: {why}"))
            continue
        delta = round(cand - base, 6)
        note = ""
        if metric == "event_cost":
            hours = [_mean([c.event_aws_h for c in side.costs if c is not None])
                     for side in (baseline, candidate)]
            if abs(hours[0] - hours[1]) > 1e-6:
                note = (f"the events differ in length ({hours[0]:.4g} h and {hours[1]:.4g} h "
                        "of AWS time): compare the cost per million")
        out.append(CostDelta(metric, base, cand, delta, delta / base if base else None,
                             base_out, cand_out, note))
    return out


def judge(delta: float, baseline: float, *, significant: bool, higher_worse: bool,
          effect: MinEffect) -> Verdict:
    """The verdict of one delta, once (Holm-)significance is known."""
    if not significant:
        return "no significant difference"
    relative = delta / baseline if baseline else None
    big = abs(delta) >= effect.absolute and (relative is None or abs(relative) >= effect.relative)
    if not big:
        return "below minimum effect"
    worse = delta > 0 if higher_worse else delta < 0
    return "regression" if worse else "improvement"


def decide(items: Sequence[Estimate | MetricDelta], *, runs: int, rule: Rule
           ) -> list[MetricDelta]:
    """Every estimate judged as one family (Holm); ready deltas (no interval) pass through.

    `runs` is the smaller side's number of runs; below `rule.min_repeats` every
    estimate reads "too few repeats", with its interval and p-values still shown.
    """
    adjusted = iter(holm([x.p_value for x in items if isinstance(x, Estimate)]))
    out = []
    for x in items:
        if isinstance(x, MetricDelta):
            out.append(x)
            continue
        p_holm = next(adjusted)
        verdict: Verdict = "too few repeats"
        if runs >= rule.min_repeats:
            verdict = judge(x.delta, x.baseline, significant=p_holm <= rule.family_alpha,
                            higher_worse=x.higher_worse, effect=rule.effect(x.metric))
        out.append(MetricDelta(
            x.metric, x.unit, x.baseline, x.candidate, x.delta, x.low, x.high,
            x.delta / x.baseline if x.baseline else None, verdict,
            p_value=x.p_value, p_holm=p_holm))
    return out


def judge_runs(baseline: Mapping[str, Sequence[float]], candidate: Mapping[str, Sequence[float]],
               *, paired: bool = True, rule: Rule | None = None) -> list[MetricDelta]:
    """Deltas and verdicts from per-run values alone, as `compare` gives them over repeats.

    Keys are METRICS' names or "recovery <fault>"; values one figure per run
    (NaN: none). The same estimate and `decide` as `compare`, without the data
    behind the figures: what a simulation of many comparisons needs.
    """
    rule = rule or Rule()
    items = [repeat_estimate(m, baseline[m], candidate[m], paired=paired,
                             confidence=rule.confidence) for m in baseline]
    runs = min(len(v) for v in (*baseline.values(), *candidate.values()))
    return decide(items, runs=runs, rule=rule)


def _side(x: Side | ArchData, label: str | None) -> Side:
    if isinstance(x, Side):
        return x if label is None else Side(label, x.runs, x.recovery_s, x.no_figure, x.costs)
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
    min_repeats: int = DEFAULT_MIN_REPEATS,
    min_effects: Mapping[str, MinEffect] | None = None,
) -> Comparison:
    """Per-metric deltas of `candidate` against `baseline`, each with its interval and verdict.

    Both sides have one run (bootstrap of the seconds) or both at least two (t
    interval over the runs; `paired` when run i of each side belong together).
    `min_repeats` and `min_effects` as in `Rule`.
    """
    rule = Rule(confidence, min_repeats, dict(min_effects or {}))
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
    items: list[Estimate | MetricDelta]
    if na == 1:
        items = _bootstrap_estimates(tables_a[0], tables_b[0], seed, resamples, confidence)
        method = (f"paired moving-block bootstrap of the seconds ({resamples} resamples, "
                  f"{BLOCK_S} s blocks, seed {seed}); one run per side, so it shows the "
                  "variation within a run, not between runs (use --repeat)")
    else:
        items = [
            repeat_estimate(metric, [t.metric(metric)[0] for t in tables_a],
                            [t.metric(metric)[0] for t in tables_b], paired=pairs,
                            confidence=confidence)
            for metric, *_ in METRICS
        ]
        method = (f"paired t-interval over {na} interleaved repeats (df {na - 1})" if pairs
                  else f"Welch t-interval over {na} and {nb} runs")
        method += "; each run's value from its merged histograms"
    items += _recovery_items(a, b, pairs, confidence)
    judged = sum(isinstance(x, Estimate) for x in items)
    return Comparison(
        baseline=a.label, candidate=b.label, confidence=confidence,
        method=f"{method}; {rule.describe(judged)}", runs=(na, nb),
        seconds=(tables_a[0].seconds, tables_b[0].seconds),
        deltas=decide(items, runs=min(na, nb), rule=rule), min_repeats=min_repeats,
        costs=cost_deltas(a, b),
    )


def _higher_worse(metric: str) -> bool:
    return next((hw for m, _, hw, *_ in METRICS if m == metric), True)


def _bootstrap_estimates(a: SecondTable, b: SecondTable, seed: int, resamples: int,
                         confidence: float) -> list[Estimate | MetricDelta]:
    rng = np.random.default_rng(seed)
    uniform = rng.random((resamples, blocks_needed(max(a.seconds, b.seconds), BLOCK_S)))
    wa = block_weights(uniform, a.seconds, BLOCK_S)
    wb = block_weights(uniform, b.seconds, BLOCK_S)
    tail = (1 - confidence) / 2 * 100
    out: list[Estimate | MetricDelta] = []
    for metric, unit, higher_worse, *_ in METRICS:
        base, cand = float(a.metric(metric)[0]), float(b.metric(metric)[0])
        if math.isnan(base) or math.isnan(cand):
            out.append(_not_measurable(metric, unit, base, cand, "no data on one side"))
            continue
        diffs = b.metric(metric, wb) - a.metric(metric, wa)
        diffs = diffs[~np.isnan(diffs)]
        low, high = (float(v) for v in np.percentile(diffs, [tail, 100 - tail]))
        out.append(Estimate(metric, unit, base, cand, cand - base, low, high,
                            bootstrap_p_value(diffs), higher_worse))
    return out


def repeat_estimate(metric: str, a: Sequence[float], b: Sequence[float], *, paired: bool,
                    confidence: float) -> Estimate | MetricDelta:
    """The t interval and p-value of one metric over repeats; not measurable when a run has none."""
    unit = metric_unit(metric)
    missing = sum(math.isnan(v) for v in (*a, *b))
    if missing:
        return _not_measurable(metric, unit, None, None,
                               f"no figure in {missing} of {len(a) + len(b)} runs")
    base, cand = math.fsum(a) / len(a), math.fsum(b) / len(b)
    if paired:
        test = paired_t_test([y - x for x, y in zip(a, b, strict=True)], confidence)
    else:
        test = welch_t_test(a, b, confidence)
    return Estimate(metric, unit, base, cand, test.delta, test.low, test.high, test.p_value,
                    _higher_worse(metric))


def _recovery_items(a: Side, b: Side, paired: bool, confidence: float
                    ) -> list[Estimate | MetricDelta]:
    faults = list(dict.fromkeys(f for r in (*a.recovery_s, *b.recovery_s) for f in r))
    out: list[Estimate | MetricDelta] = []
    for fault in faults:
        metric = f"{RECOVERY} {fault}"
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
        out.append(repeat_estimate(metric, xf, yf, paired=paired, confidence=confidence))
    return out


def _not_measurable(metric: str, unit: str, base: float | None, cand: float | None, why: str
                    ) -> MetricDelta:
    def clean(v: float | None) -> float | None:
        return None if v is None or math.isnan(v) else v

    return MetricDelta(metric, unit, clean(base), clean(cand), None, None, None, None,
                       "not measurable", why)
