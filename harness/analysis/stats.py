"""Small statistics for `harness compare`: Student t tests, Holm's correction, bootstrap weights.

No SciPy in the project, and only a few things are needed: the t distribution
(the regularised incomplete beta function by Numerical Recipes' continued
fraction; its quantile by bisection), Holm's step-down adjustment and the
moving-block bootstrap's resample weights. Each is a few lines checked against
published tables in the tests, which costs less than a 40 MB dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_p_value(t: float, df: float) -> float:
    """Two-sided p-value of a t statistic: P(|T| >= |t|) under Student's t(df)."""
    return min(1.0, incomplete_beta(df / 2.0, 0.5, df / (df + t * t)))


# cached: compare asks for the same (q, df) for every metric of every comparison
@lru_cache(maxsize=512)
def t_quantile(q: float, df: float) -> float:
    """The t value below which a share `q` (0.5 < q < 1) of Student's t(df) lies."""
    if not 0.5 < q < 1.0 or df <= 0:
        raise ValueError(f"t_quantile needs 0.5 < q < 1 and df > 0, got q={q}, df={df}")
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


class TTest(NamedTuple):
    """A t interval with its test of zero difference."""

    delta: float
    low: float
    high: float
    #: two-sided p-value of "no difference"
    p_value: float


def _t_test(delta: float, se: float, df: float, confidence: float) -> TTest:
    if se == 0.0:  # every pair differs by the same amount: no spread to test against
        return TTest(delta, delta, delta, 1.0 if delta == 0.0 else 0.0)
    half = t_quantile(0.5 + confidence / 2, df) * se
    return TTest(delta, delta - half, delta + half, t_p_value(delta / se, df))


def paired_t_test(differences: Sequence[float], confidence: float) -> TTest:
    """The mean of paired differences (n >= 2, df = n - 1): interval and p-value."""
    n = len(differences)
    if n < 2:
        raise ValueError("a t interval needs at least 2 pairs")
    # plain floats, not numpy: compare's calibration simulation calls this tens of
    # thousands of times on 3 to 5 values, where numpy's per-call overhead dominates
    mean = math.fsum(differences) / n
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in differences) / (n - 1))
    return _t_test(mean, sd / math.sqrt(n), n - 1, confidence)


def welch_t_test(baseline: Sequence[float], candidate: Sequence[float], confidence: float
                 ) -> TTest:
    """mean(candidate) - mean(baseline), Welch-Satterthwaite df, n >= 2 each: interval, p."""
    na, nb = len(baseline), len(candidate)
    if na < 2 or nb < 2:
        raise ValueError("a Welch t interval needs at least 2 runs on each side")
    ma, mb = math.fsum(baseline) / na, math.fsum(candidate) / nb
    va = math.fsum((x - ma) ** 2 for x in baseline) / (na - 1) / na
    vb = math.fsum((x - mb) ** 2 for x in candidate) / (nb - 1) / nb
    if va + vb == 0.0:
        return _t_test(mb - ma, 0.0, 1.0, confidence)
    df = (va + vb) ** 2 / ((va * va / (na - 1) if va else 0.0)
                           + (vb * vb / (nb - 1) if vb else 0.0))
    return _t_test(mb - ma, math.sqrt(va + vb), df, confidence)


def paired_t_interval(differences: Sequence[float], confidence: float
                      ) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of paired differences (n >= 2, df = n - 1)."""
    return paired_t_test(differences, confidence)[:3]


def welch_t_interval(baseline: Sequence[float], candidate: Sequence[float], confidence: float
                     ) -> tuple[float, float, float]:
    """(mean(candidate) - mean(baseline), low, high); Welch-Satterthwaite df, n >= 2 each."""
    return welch_t_test(baseline, candidate, confidence)[:3]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the given order.

    Reject hypothesis i at family-wise level alpha when its adjusted p <= alpha:
    the step-down rule (smallest p against alpha/m, the next against alpha/(m-1),
    ... stopping at the first that fails), which keeps the chance of any false
    rejection at most alpha whatever the dependence between the tests.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def bootstrap_p_value(diffs: npt.NDArray[np.float64]) -> float:
    """Two-sided p-value of zero difference from resampled differences.

    2 x the smaller share of resamples on either side of zero (the inversion of
    the percentile interval), floored at 1/resamples: the resamples cannot tell
    anything smaller.
    """
    n = len(diffs)
    if n == 0:
        return 1.0
    below, above = float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))
    return min(1.0, max(2 * min(below, above), 1.0 / n))


def block_weights(uniform: npt.NDArray[np.float64], n: int, block: int
                  ) -> npt.NDArray[np.float64]:
    """Moving-block bootstrap: how often each of `n` seconds is drawn, per resample.

    `uniform` holds one value in [0, 1) per (resample, block); the same draws map to
    block starts for series of any length, so two sides resampled with the same
    draws are resampled at the same points of the (shared) timeline, and swapping
    the sides exactly negates every resampled difference.
    """
    block = max(1, min(block, n))
    resamples = uniform.shape[0]
    starts = np.floor(uniform * (n - block + 1)).astype(np.int64)
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)
    flat = (index[:, :n] + (np.arange(resamples) * n)[:, None]).ravel()
    counts = np.bincount(flat, minlength=resamples * n).reshape(resamples, n)
    return counts.astype(np.float64)


def blocks_needed(n: int, block: int) -> int:
    """Blocks per resample so that a resample is as long as the series."""
    block = max(1, min(block, n))
    return -(-n // block)
