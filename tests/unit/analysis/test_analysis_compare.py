"""Compare: bootstrap intervals from per-second data flag clear regressions, not noise."""

from __future__ import annotations

from harness.analysis.compare import compare
from tests.support.synthetic import synthetic


def _by_metric(baseline_latency: float, candidate_latency: float, *, seed_b: int = 2
               ) -> dict[str, bool]:
    a = synthetic("legacy", 120, latency_ms=lambda s: baseline_latency, seed=1)
    b = synthetic("modern", 120, latency_ms=lambda s: candidate_latency, seed=seed_b)
    return {d.metric: d.regression for d in compare(a, b).deltas}


def test_clear_latency_regression_is_flagged() -> None:
    flags = _by_metric(20.0, 40.0)
    assert flags["p50"]
    assert flags["p95"]
    assert not flags["error_rate"]


def test_noise_between_two_samples_of_the_same_system_is_not_flagged() -> None:
    for seed in range(2, 7):
        assert not any(_by_metric(20.0, 20.0, seed_b=seed).values())


def test_improvement_is_not_a_regression() -> None:
    a = synthetic("legacy", 60, error_rate=lambda s: 0.05)
    b = synthetic("modern", 60, error_rate=lambda s: 0.0)
    delta = next(d for d in compare(a, b).deltas if d.metric == "error_rate")
    assert delta.improvement
    assert not delta.regression
    assert delta.ci_high < 0


def test_error_burst_in_candidate_is_a_regression() -> None:
    a = synthetic("legacy", 120)
    b = synthetic("modern", 120, error_rate=lambda s: 0.5 if 40 <= s < 80 else 0.0)
    delta = next(d for d in compare(a, b).deltas if d.metric == "error_rate")
    assert delta.regression
    assert delta.ci_low > 0


def test_seeded_intervals_repeat() -> None:
    a = synthetic("legacy", 60, latency_ms=lambda s: 20 + s % 7)
    b = synthetic("modern", 60, latency_ms=lambda s: 22 + s % 5)
    assert compare(a, b, seed=3) == compare(a, b, seed=3)
