"""Is `harness compare` right about its own error rate? A seeded simulation of many comparisons.

Thousands of synthetic A/A comparisons (both sides the same system, N paired
repeats) go through the production verdict code (`judge_runs`: the same
`repeat_estimate` and `decide` as `compare`). The share with at least one
regression or improvement is the family-wise false-verdict rate; it must stay
within the stated level (5 %). With a planted real difference, the share that
finds it is the power. The old rule (each metric's own 95 % interval
excluding zero, plus the minimum effect; no correction, verdicts from 2
repeats) runs on the very same deltas for the "before" figures.

Figures at the time of writing (seeds below; `pytest -s` prints them):

    rule    N  A/A false-verdict rate   power p99 +40 %   power error rate +0.01
    before  2  0.166                    -                 -
    before  3  0.159                    0.240             0.846
    after   3  0.030                    0.045             0.294
    before  5  0.140                    0.488             0.999
    after   5  0.029                    0.152             0.940

(after, N=8: p99 power 0.47; N=10: 0.70.) The power thresholds asserted below
sit under these seeded figures: they say what the rule must keep finding, not
what would be nice; with a p99 spread of 20 % between runs, a 40 % p99 change
needs about ten repeats to be found reliably at a family-wise 5 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from harness.analysis.compare import METRICS, MetricDelta, judge_runs

# Per-run spread of each metric between runs of one system: ASSUMPTIONS pending
# measurement on real repeat sets (issue 21). Latencies are log-normal with
# these coefficients of variation and correlated (a slow run is slow at every
# percentile, most of all in the tail); the error rate is gamma-distributed
# (never negative, right-skewed); both runs of a repeat are drawn independently
# (no shared machine state), which is conservative for the power figures.
BASE = {"p50": 25.0, "p95": 80.0, "p99": 200.0, "error_rate": 0.003,
        "achieved_ratio": 0.995, "recovery kill": 5.0}
LATENCY_CV = np.array([0.03, 0.08, 0.20])  # p50, p95, p99
LATENCY_CORR = np.array([[1.0, 0.5, 0.4],
                         [0.5, 1.0, 0.8],
                         [0.4, 0.8, 1.0]])
ERROR_RATE_SD = 0.002
ACHIEVED_SD = 0.002
RECOVERY_SD_S = 1.0

LEVEL = 0.05
A_A = 2000  # comparisons per N: the binomial sd of a 5 % rate is 0.5 points
PLANTED = 1000


def _runs(rng: np.random.Generator, k: int, n: int, *, p99_factor: float = 1.0,
          error_rate_plus: float = 0.0) -> list[dict[str, list[float]]]:
    """`k` sides of `n` runs each: per side, metric -> one figure per run."""
    cov = LATENCY_CORR * np.outer(LATENCY_CV, LATENCY_CV)
    z = rng.multivariate_normal(np.zeros(3), cov, size=(k, n))
    latency = np.array([BASE["p50"], BASE["p95"], BASE["p99"] * p99_factor]) * np.exp(
        z - np.diag(cov) / 2)  # mean-preserving log-normal
    shape = (BASE["error_rate"] / ERROR_RATE_SD) ** 2
    errors = rng.gamma(shape, BASE["error_rate"] / shape, size=(k, n)) + error_rate_plus
    achieved = np.minimum(1.0, rng.normal(BASE["achieved_ratio"], ACHIEVED_SD, size=(k, n)))
    recovery = np.maximum(0.5, rng.normal(BASE["recovery kill"], RECOVERY_SD_S, size=(k, n)))
    columns = {"p50": latency[..., 0], "p95": latency[..., 1], "p99": latency[..., 2],
               "error_rate": errors, "achieved_ratio": achieved, "recovery kill": recovery}
    return [{m: [float(v) for v in col[i]] for m, col in columns.items()} for i in range(k)]


_EFFECTS = {m: (hw, ma, mr) for m, _, hw, ma, mr in METRICS} | {"recovery kill": (True, 1.0, 0.1)}


def old_rule(d: MetricDelta) -> str:
    """The verdict before issue 21: the metric's own 95 % interval excluding zero + min effect."""
    assert d.delta is not None
    assert d.ci_low is not None
    assert d.ci_high is not None
    assert d.baseline is not None
    if d.ci_low <= 0.0 <= d.ci_high:
        return "no significant difference"
    higher_worse, min_abs, min_rel = _EFFECTS[d.metric]
    relative = d.delta / d.baseline if d.baseline else None
    if abs(d.delta) < min_abs or (relative is not None and abs(relative) < min_rel):
        return "below minimum effect"
    return "regression" if (d.delta > 0) == higher_worse else "improvement"


def new_rule(d: MetricDelta) -> str:
    return d.verdict


@dataclass
class Figures:
    false_rate: float
    power_p99: float
    power_error_rate: float


def _simulate(n: int, rule: Callable[[MetricDelta], str], seed: int) -> Figures:
    rng = np.random.default_rng(seed)
    flagged = 0
    for a, b in zip(_runs(rng, A_A, n), _runs(rng, A_A, n), strict=True):
        verdicts = [rule(d) for d in judge_runs(a, b)]
        flagged += any(v in ("regression", "improvement") for v in verdicts)
    found = {"p99": 0, "error_rate": 0}
    base = _runs(rng, PLANTED, n)
    worse = _runs(rng, PLANTED, n, p99_factor=1.4, error_rate_plus=0.01)
    for a, b in zip(base, worse, strict=True):
        for d in judge_runs(a, b):
            if d.metric in found:
                found[d.metric] += rule(d) == "regression"
    return Figures(flagged / A_A, found["p99"] / PLANTED, found["error_rate"] / PLANTED)


def _tolerance(rate: float, trials: int) -> float:
    """Three binomial standard deviations: a seeded run beyond it is no accident."""
    return 3 * math.sqrt(rate * (1 - rate) / trials)


def _show(label: str, n: int, f: Figures) -> None:
    print(f"{label:7} N={n}  A/A false-verdict rate {f.false_rate:.3f}  "
          f"power p99 +40 % {f.power_p99:.3f}  power error rate +0.01 {f.power_error_rate:.3f}")


@pytest.mark.parametrize(("n", "min_power_error_rate"), [(3, 0.25), (5, 0.90)])
def test_a_a_false_verdicts_stay_within_the_family_wise_level(
    n: int, min_power_error_rate: float
) -> None:
    after = _simulate(n, new_rule, seed=21 + n)
    before = _simulate(n, old_rule, seed=21 + n)  # the same draws
    _show("before", n, before)
    _show("after", n, after)
    assert after.false_rate <= LEVEL + _tolerance(LEVEL, A_A)
    # the old rule, five metrics and a recovery each at 5 %, was wrong several times as often
    assert before.false_rate > 2 * LEVEL
    # the price: what was found before is found less often (three repeats buy little
    # against a 20 % run-to-run spread in p99), a big error-rate change still is
    assert after.power_error_rate >= min_power_error_rate
    assert after.power_p99 <= before.power_p99


def test_two_repeats_give_no_verdict_where_they_used_to_give_false_ones() -> None:
    rng = np.random.default_rng(2)
    sides = _runs(rng, 2 * A_A // 4, 2)
    pairs: Sequence[tuple[dict[str, list[float]], dict[str, list[float]]]] = list(
        zip(sides[::2], sides[1::2], strict=True))
    before = after = 0
    for a, b in pairs:
        deltas = judge_runs(a, b)
        before += any(old_rule(d) in ("regression", "improvement") for d in deltas)
        after += any(d.regression or d.improvement for d in deltas)
        assert {d.verdict for d in deltas} == {"too few repeats"}
    print(f"before  N=2  A/A false-verdict rate {before / len(pairs):.3f}; after: no verdicts")
    assert after == 0
    assert before / len(pairs) > 2 * LEVEL
