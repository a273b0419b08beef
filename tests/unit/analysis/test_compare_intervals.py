"""Compare's numbers and decisions on synthetic data: run-level metrics, intervals, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.analysis.compare import Comparison, Side, compare, judge
from harness.analysis.runlevel import SecondTable
from harness.analysis.series import ArchData
from harness.analysis.stats import paired_t_interval, t_quantile, welch_t_interval
from harness.load.recorder import new_histogram, percentiles_ms
from harness.repeats import order_of
from tests.support.repeat_data import noisy_runs
from tests.support.synthetic import synthetic

# -- run-level metrics --


def test_run_level_metrics_equal_the_merged_histograms_of_the_run() -> None:
    data = synthetic("legacy", 60, latency_ms=lambda s: 10.0 if s < 30 else 100.0,
                     error_rate=lambda s: 0.2 if s % 7 == 0 else 0.0,
                     achieved_ratio=lambda s: 0.9 if s > 50 else 1.0)
    table = SecondTable.of(data)
    whole = data.stats()
    for metric in ("p50", "p95", "p99"):
        assert table.metric(metric)[0] == whole.latency_ms[metric]
    assert table.metric("error_rate")[0] == pytest.approx(whole.error_rate)
    assert table.metric("achieved_ratio")[0] == pytest.approx(whole.achieved_ratio)


def test_compare_reports_the_run_p99_not_the_mean_of_per_second_p99() -> None:
    # a slow half and a fast half: the run's p99 is the slow half's, far above the mean
    data = synthetic("legacy", 60, latency_ms=lambda s: 10.0 if s < 30 else 100.0)
    other = synthetic("modern", 60, seed=5)
    p99 = next(d for d in compare(data, other).deltas if d.metric == "p99")
    mean_of_seconds = float(np.mean([data.second(s).latency_ms["p99"] for s in range(60)]))
    assert p99.baseline == data.stats().latency_ms["p99"]
    assert p99.baseline > 1.5 * mean_of_seconds


def test_resampled_weights_merge_like_histograms() -> None:
    data = synthetic("legacy", 10, latency_ms=lambda s: 10.0 * (s + 1))
    table = SecondTable.of(data)
    weights = np.zeros((1, 10))
    weights[0, [2, 2, 7]] = [2, 2, 1]  # second 2 drawn twice, second 7 once
    merged = new_histogram()
    for s in (2, 2, 7):
        hist = data.histogram(s)
        assert hist is not None
        merged.add(hist)
    assert table.metric("p95", weights)[0] == percentiles_ms(merged)["p95"]


def test_a_run_without_finished_requests_has_no_figure_not_zero() -> None:
    empty = synthetic("legacy", 10, rate=lambda s: 0)
    assert math.isnan(SecondTable.of(empty).metric("p99")[0])
    assert math.isnan(SecondTable.of(empty).metric("error_rate")[0])
    delta = next(d for d in compare(empty, synthetic("modern", 10)).deltas if d.metric == "p99")
    assert delta.verdict == "not measurable"
    assert delta.delta is None


# -- intervals --


@pytest.mark.parametrize(("df", "expected"), [(1, 12.7062), (2, 4.3027), (5, 2.5706),
                                              (30, 2.0423)])
def test_t_quantile_matches_the_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_paired_t_interval_by_hand() -> None:
    mean, low, high = paired_t_interval([1.0, 2.0, 3.0], 0.95)
    # mean 2, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.3027
    assert mean == 2.0
    assert high - mean == pytest.approx(4.3027 / math.sqrt(3), abs=1e-3)
    assert mean - low == pytest.approx(high - mean)


def test_welch_interval_mirrors_when_the_sides_swap() -> None:
    a, b = [10.0, 12.0, 11.0], [15.0, 19.0, 16.0, 18.0]
    delta, low, high = welch_t_interval(a, b, 0.95)
    back = welch_t_interval(b, a, 0.95)
    assert back == pytest.approx((-delta, -high, -low))
    assert low > 0


# -- decisions --


def test_an_interval_spanning_zero_is_no_significant_difference() -> None:
    assert judge(30.0, -1.0, 61.0, 20.0, higher_worse=True, min_abs=5, min_rel=0.05)[0] == (
        "no significant difference")


def test_a_significant_but_tiny_change_is_below_minimum_effect() -> None:
    assert judge(0.5, 0.2, 0.8, 20.0, higher_worse=True, min_abs=5, min_rel=0.05)[0] == (
        "below minimum effect")


@pytest.mark.parametrize(("higher_worse", "delta", "expected"), [
    (True, 10.0, "regression"), (True, -10.0, "improvement"),
    (False, -0.2, "regression"), (False, 0.2, "improvement"),
])
def test_direction_decides_regression_or_improvement(higher_worse: bool, delta: float,
                                                     expected: str) -> None:
    low, high = sorted((delta * 0.5, delta * 1.5))
    assert judge(delta, low, high, 1.0, higher_worse=higher_worse, min_abs=0.01,
                 min_rel=0.0)[0] == expected


# -- repeats --


def _verdicts(c: Comparison) -> dict[str, str]:
    return {d.metric: d.verdict for d in c.deltas}


def test_same_system_repeated_is_rarely_flagged() -> None:
    """A/A on synthetic repeats: 40 seeds of 3 repeats a side, at most a few false flags."""
    flagged = 0
    for seed in range(40):
        a = Side("a", noisy_runs("a", 3, seed=2 * seed + 1))
        b = Side("b", noisy_runs("b", 3, seed=2 * seed + 2))
        flagged += any(d.regression or d.improvement for d in compare(a, b).deltas)
    assert flagged <= 4


def test_a_real_slowdown_over_repeats_is_a_regression_with_an_interval_above_zero() -> None:
    a = Side("legacy", noisy_runs("legacy", 3, seed=1, between_runs=0.03))
    b = Side("modern", noisy_runs("modern", 3, seed=2, latency_ms=30.0, between_runs=0.03))
    c = compare(a, b)
    p99 = next(d for d in c.deltas if d.metric == "p99")
    assert p99.regression
    assert p99.ci_low is not None
    assert p99.ci_low > 0
    assert "paired t-interval over 3 interleaved repeats" in c.method


def test_swapping_the_sides_mirrors_every_interval_and_verdict() -> None:
    one_a, one_b = noisy_runs("a", 1, seed=3), noisy_runs("b", 1, seed=4, latency_ms=26.0)
    rep_a, rep_b = noisy_runs("a", 4, seed=5), noisy_runs("b", 4, seed=6, latency_ms=26.0)
    mirror = {"regression": "improvement", "improvement": "regression"}
    for a, b, paired in ((one_a, one_b, True), (rep_a, rep_b, True), (rep_a, rep_b, False)):
        ab = compare(Side("a", a), Side("b", b), paired=paired, seed=9)
        ba = compare(Side("b", b), Side("a", a), paired=paired, seed=9)
        for x, y in zip(ab.deltas, ba.deltas, strict=True):
            assert x.delta is not None
            assert y.delta is not None
            assert y.delta == pytest.approx(-x.delta)
            assert (y.ci_low, y.ci_high) == pytest.approx((-x.ci_high, -x.ci_low)), x.metric
            assert y.verdict == mirror.get(x.verdict, x.verdict), x.metric


def test_interleaving_cancels_an_effect_of_going_second() -> None:
    """Whichever side runs second in a repeat is 3 ms slower (say, a warmer neighbour).

    With A B, B A, A B, B A the same system compared with itself shows no
    difference; always running A first turns the order into a fake regression.
    """
    n, penalty = 4, 3.0

    def runs(label: str, seed: int, second: list[bool]) -> list[ArchData]:
        return noisy_runs(label, n, seed=seed, between_runs=0.01,
                          shift_ms=[penalty if s else 0.0 for s in second])

    b_second = [order_of(i, ["a", "b"])[1] == "b" for i in range(1, n + 1)]
    fair = compare(Side("a", runs("a", 1, [not s for s in b_second])),
                   Side("b", runs("b", 2, b_second)))
    assert not any(d.regression or d.improvement for d in fair.deltas), _verdicts(fair)
    always_b_second = compare(Side("a", runs("a", 1, [False] * n)),
                              Side("b", runs("b", 2, [True] * n)))
    assert next(d for d in always_b_second.deltas if d.metric == "p50").regression


def test_recovery_deltas_have_intervals_only_with_repeats() -> None:
    a, b = noisy_runs("a", 3, seed=1), noisy_runs("b", 3, seed=2)
    three = compare(Side("a", a, [{"kill": 10.0}, {"kill": 12.0}, {"kill": 11.0}]),
                    Side("b", b, [{"kill": 3.0}, {"kill": 4.0}, {"kill": 3.5}]))
    rec = next(d for d in three.deltas if d.metric == "recovery kill")
    assert rec.improvement
    assert rec.ci_high is not None
    assert rec.ci_high < 0
    one = compare(Side("a", a[:1], [{"kill": 10.0}]), Side("b", b[:1], [{"kill": 3.0}]))
    rec = next(d for d in one.deltas if d.metric == "recovery kill")
    assert rec.verdict == "no interval"
    assert rec.delta == -7.0
    assert "--repeat" in rec.note


def test_a_repeat_without_a_recovery_figure_makes_the_delta_not_measurable() -> None:
    a, b = noisy_runs("a", 3, seed=1), noisy_runs("b", 3, seed=2)
    c = compare(Side("a", a, [{"kill": 10.0}, {"kill": None}, {"kill": 11.0}]),
                Side("b", b, [{"kill": 3.0}, {"kill": 4.0}, {"kill": 3.5}]))
    rec = next(d for d in c.deltas if d.metric == "recovery kill")
    assert rec.verdict == "not measurable"
    assert rec.delta is None
    assert "1 of 6 runs" in rec.note


def test_one_run_against_repeats_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two repeats"):
        compare(Side("a", noisy_runs("a", 1)), Side("b", noisy_runs("b", 3)))
