"""Small statistics for `harness compare`: Student t intervals and block-bootstrap weights.

No SciPy in the project, and only two things are needed: the t quantile (from
the regularised incomplete beta function, Numerical Recipes' continued
fraction, then bisection) and the moving-block bootstrap's resample weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def paired_t_interval(differences: Sequence[float], confidence: float
                      ) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of paired differences (n >= 2, df = n - 1)."""
    d = np.asarray(differences, dtype=np.float64)
    n = len(d)
    if n < 2:
        raise ValueError("a t interval needs at least 2 pairs")
    mean = float(d.mean())
    half = t_quantile(0.5 + confidence / 2, n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_t_interval(baseline: Sequence[float], candidate: Sequence[float], confidence: float
                     ) -> tuple[float, float, float]:
    """(mean(candidate) - mean(baseline), low, high); Welch-Satterthwaite df, n >= 2 each."""
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a Welch t interval needs at least 2 runs on each side")
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    delta = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0.0:
        return delta, delta, delta
    df = (va + vb) ** 2 / ((va * va / (len(a) - 1) if va else 0.0)
                           + (vb * vb / (len(b) - 1) if vb else 0.0))
    half = t_quantile(0.5 + confidence / 2, df) * se
    return delta, delta - half, delta + half


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
