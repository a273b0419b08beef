"""Compare's numbers and decisions on synthetic data: run-level metrics, intervals, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.analysis.compare import (
    Comparison,
    Estimate,
    MinEffect,
    Rule,
    Side,
    compare,
    decide,
    judge,
    judge_runs,
)
from harness.analysis.runlevel import SecondTable
from harness.analysis.series import ArchData
from harness.analysis.stats import (
    bootstrap_p_value,
    holm,
    paired_t_interval,
    paired_t_test,
    t_p_value,
    t_quantile,
    welch_t_interval,
)
from harness.records.recorder import new_histogram, percentiles_ms
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


@pytest.mark.parametrize(("t", "df", "p"), [(12.7062, 1, 0.05), (4.3027, 2, 0.05),
                                             (2.7764, 4, 0.05), (4.6041, 4, 0.01),
                                             (0.0, 3, 1.0), (-2.5706, 5, 0.05)])
def test_t_p_value_matches_the_table(t: float, df: int, p: float) -> None:
    assert t_p_value(t, df) == pytest.approx(p, abs=1e-4)


def test_the_t_test_p_value_and_interval_agree_on_zero() -> None:
    for diffs in ([1.0, 2.0, 3.0], [0.5, -0.1, 0.9, 0.2], [-3.0, -2.5, -4.0]):
        test = paired_t_test(diffs, 0.95)
        assert (test.p_value < 0.05) == (test.low > 0 or test.high < 0), diffs


def test_holm_adjusts_step_down_and_keeps_the_order() -> None:
    # sorted: 0.01 x 4 = 0.04, 0.02 x 3 = 0.06, 0.04 x 2 = 0.08, 0.5 x 1 = 0.5
    assert holm([0.04, 0.5, 0.01, 0.02]) == pytest.approx([0.08, 0.5, 0.04, 0.06])
    assert holm([0.3, 0.3]) == pytest.approx([0.6, 0.6])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped, and never decreasing
    assert holm([]) == []


def test_bootstrap_p_value_is_two_sided_and_floored() -> None:
    diffs = np.array([-1.0] * 10 + [1.0] * 90)
    assert bootstrap_p_value(diffs) == pytest.approx(0.2)
    assert bootstrap_p_value(-diffs) == pytest.approx(0.2)
    assert bootstrap_p_value(np.ones(2000)) == pytest.approx(1 / 2000)
    assert bootstrap_p_value(np.zeros(50)) == 1.0


def test_a_delta_not_significant_is_no_significant_difference() -> None:
    assert judge(30.0, 20.0, significant=False, higher_worse=True,
                 effect=MinEffect(5, 0.05)) == "no significant difference"


def test_a_significant_but_tiny_change_is_below_minimum_effect() -> None:
    assert judge(0.5, 20.0, significant=True, higher_worse=True,
                 effect=MinEffect(5, 0.05)) == "below minimum effect"


@pytest.mark.parametrize(("higher_worse", "delta", "expected"), [
    (True, 10.0, "regression"), (True, -10.0, "improvement"),
    (False, -0.2, "regression"), (False, 0.2, "improvement"),
])
def test_direction_decides_regression_or_improvement(higher_worse: bool, delta: float,
                                                     expected: str) -> None:
    assert judge(delta, 1.0, significant=True, higher_worse=higher_worse,
                 effect=MinEffect(0.01)) == expected


def _estimate(metric: str, p: float, delta: float = 10.0) -> Estimate:
    return Estimate(metric, "ms", 100.0, 100.0 + delta, delta, delta / 2, delta * 2, p, True)


def test_holm_decides_over_the_whole_family_not_each_interval() -> None:
    """p = 0.03 clears 5 % alone, not as one of three deltas (0.03 x 3 > 0.05)."""
    rule = Rule(min_repeats=1)
    alone = decide([_estimate("p99", 0.03)], runs=3, rule=rule)
    assert alone[0].verdict == "regression"
    three = decide([_estimate("p50", 0.5), _estimate("p95", 0.4), _estimate("p99", 0.03)],
                   runs=3, rule=rule)
    assert [d.verdict for d in three] == ["no significant difference"] * 3
    assert three[2].p_value == 0.03
    assert three[2].p_holm == pytest.approx(0.09)
    clear = decide([_estimate("p50", 0.5), _estimate("p95", 0.4), _estimate("p99", 0.001)],
                   runs=3, rule=rule)
    assert clear[2].regression


def test_fewer_runs_than_min_repeats_read_too_few_repeats_with_the_interval_shown() -> None:
    items = [_estimate("p99", 1e-6)]
    (few,) = decide(items, runs=2, rule=Rule())
    assert few.verdict == "too few repeats"
    assert not few.regression
    assert (few.ci_low, few.ci_high) == (5.0, 20.0)
    (enough,) = decide(items, runs=2, rule=Rule(min_repeats=2))
    assert enough.regression


def test_a_user_minimum_effect_replaces_the_metrics_own() -> None:
    a = {"p99": [200.0, 210.0, 190.0], "recovery kill": [5.0, 5.2, 4.9]}
    b = {"p99": [218.0, 228.0, 209.0], "recovery kill": [6.5, 6.6, 6.4]}
    default = {d.metric: d.verdict for d in judge_runs(a, b)}
    assert default == {"p99": "regression", "recovery kill": "regression"}
    rule = Rule(min_effects={"p99": MinEffect(20.0), "recovery": MinEffect(0.0, 0.5)})
    assert {d.metric: d.verdict for d in judge_runs(a, b, rule=rule)} == {
        "p99": "below minimum effect", "recovery kill": "below minimum effect"}
    one_fault = Rule(min_effects={"recovery other": MinEffect(10.0)})
    assert judge_runs(a, b, rule=one_fault)[1].regression


def test_a_rule_refuses_what_it_cannot_apply() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Rule(min_repeats=0)
    with pytest.raises(ValueError, match="not a metric"):
        Rule(min_effects={"p90": MinEffect(1.0)})
    with pytest.raises(ValueError, match="negative"):
        Rule(min_effects={"p99": MinEffect(-1.0)})


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
        ab = compare(Side("a", a), Side("b", b), paired=paired, seed=9, min_repeats=1)
        ba = compare(Side("b", b), Side("a", a), paired=paired, seed=9, min_repeats=1)
        for x, y in zip(ab.deltas, ba.deltas, strict=True):
            assert x.delta is not None
            assert y.delta is not None
            assert y.delta == pytest.approx(-x.delta)
            assert (y.ci_low, y.ci_high) == pytest.approx((-x.ci_high, -x.ci_low)), x.metric
            assert y.verdict == mirror.get(x.verdict, x.verdict), x.metric
            assert y.p_holm == pytest.approx(x.p_holm), x.metric


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


def test_two_repeats_show_intervals_but_no_verdict() -> None:
    a = Side("a", noisy_runs("a", 2, seed=1, between_runs=0.01))
    b = Side("b", noisy_runs("b", 2, seed=2, between_runs=0.01, latency_ms=40.0))
    c = compare(a, b)
    assert c.too_few_repeats
    assert {d.verdict for d in c.deltas} <= {"too few repeats", "not measurable"}
    p50 = next(d for d in c.deltas if d.metric == "p50")
    assert p50.verdict == "too few repeats"
    assert p50.ci_low is not None
    assert p50.ci_low > 0
    assert "df 1" in c.method
    assert compare(a, b, min_repeats=2).regressions  # asked for, df 1 still judges


def test_one_run_against_repeats_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two repeats"):
        compare(Side("a", noisy_runs("a", 1)), Side("b", noisy_runs("b", 3)))
