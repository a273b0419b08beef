"""Compare: bootstrap intervals from per-second data flag clear regressions, not noise.

One run a side gives no verdict by default ("too few repeats": the bootstrap sees
no run-to-run variation); these tests exercise the bootstrap's verdicts, so they
ask for them with min_repeats=1, as `harness compare --min-repeats 1` does.
"""

from __future__ import annotations

from harness.analysis.compare import compare
from tests.support.synthetic import synthetic


def _by_metric(baseline_latency: float, candidate_latency: float, *, seed_b: int = 2
               ) -> dict[str, bool]:
    a = synthetic("legacy", 120, latency_ms=lambda s: baseline_latency, seed=1)
    b = synthetic("modern", 120, latency_ms=lambda s: candidate_latency, seed=seed_b)
    return {d.metric: d.regression for d in compare(a, b, min_repeats=1).deltas}


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
    delta = next(d for d in compare(a, b, min_repeats=1).deltas if d.metric == "error_rate")
    assert delta.improvement
    assert not delta.regression
    assert delta.ci_high < 0


def test_error_burst_in_candidate_is_a_regression() -> None:
    a = synthetic("legacy", 120)
    b = synthetic("modern", 120, error_rate=lambda s: 0.5 if 40 <= s < 80 else 0.0)
    delta = next(d for d in compare(a, b, min_repeats=1).deltas if d.metric == "error_rate")
    assert delta.regression
    assert delta.ci_low > 0


def test_seeded_intervals_repeat() -> None:
    a = synthetic("legacy", 60, latency_ms=lambda s: 20 + s % 7)
    b = synthetic("modern", 60, latency_ms=lambda s: 22 + s % 5)
    assert compare(a, b, seed=3) == compare(a, b, seed=3)


def test_one_run_a_side_gives_no_verdict_by_default() -> None:
    a = synthetic("legacy", 120, latency_ms=lambda s: 20.0, seed=1)
    b = synthetic("modern", 120, latency_ms=lambda s: 40.0, seed=2)
    c = compare(a, b)
    assert c.too_few_repeats
    assert c.regressions == []
    p50 = next(d for d in c.deltas if d.metric == "p50")
    assert p50.verdict == "too few repeats"
    assert p50.ci_low is not None
    assert p50.ci_low > 0  # the interval is still shown
    assert p50.p_holm is not None
    assert "at least 3 runs a side" in c.method
