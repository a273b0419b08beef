"""SLO verdicts: measured values, pass and fail, sliding windows, missing data."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.recovery import FaultRecovery, RecoveryStatus
from harness.analysis.slo import evaluate, evaluate_one
from harness.scenario.slo import SLO
from tests.support.synthetic import synthetic

PHASES = {"warmup": (0.0, 30.0), "peak": (30.0, 90.0)}


def slo(**fields: Any) -> SLO:
    return SLO.model_validate({"name": "x", **fields})


def test_latency_slo_passes_and_fails_on_the_same_data() -> None:
    data = synthetic("modern", 60, latency_ms=lambda s: 100.0)
    loose = evaluate_one(slo(metric="p50", threshold="150ms"), data, PHASES)
    tight = evaluate_one(slo(metric="p50", threshold="80ms"), data, PHASES)
    assert loose.passed
    assert not tight.passed
    assert loose.measured == tight.measured
    assert loose.measured == pytest.approx(100, rel=0.05)
    assert loose.unit == "ms"


def test_sliding_window_fails_in_exactly_one_window() -> None:
    # 10 errors in second 40 only, 50 requests a second: a 10 s window holding it has
    # 10/500 = 2 %. 10 s windows stepping 1 s over the peak (30..90) are 51; ten hold second 40.
    data = synthetic("legacy", 90, error_rate=lambda s: 0.2 if s == 40 else 0.0)
    result = evaluate_one(
        slo(metric="error_rate", phase="peak", window="10s", threshold="1%"), data, PHASES
    )
    assert not result.passed
    assert result.windows == 51
    assert result.windows_failed == 10
    assert result.measured == pytest.approx(10 / 500)
    assert result.worst_start_s is not None
    assert result.worst_start_s <= 40 < (result.worst_end_s or 0)


def test_sliding_window_that_only_one_window_breaks() -> None:
    # bursts at 40 s and 49 s: only the window 40..50 holds both (20/500 = 4 %), every
    # other window holds at most one (2 %)
    data = synthetic("legacy", 90, error_rate=lambda s: 0.2 if s in (40, 49) else 0.0)
    result = evaluate_one(
        slo(metric="error_rate", phase="peak", window="10s", threshold="3%"), data, PHASES
    )
    assert not result.passed
    assert (result.windows, result.windows_failed) == (51, 1)
    assert (result.worst_start_s, result.worst_end_s) == (40, 50)
    assert result.measured == pytest.approx(0.04)


def test_window_that_fits_the_scope_once_fails_once() -> None:
    data = synthetic("legacy", 90, error_rate=lambda s: 0.2 if s == 40 else 0.0)
    result = evaluate_one(
        slo(metric="error_rate", phase="peak", window="60s", threshold="0.3%"), data, PHASES
    )
    assert (result.windows, result.windows_failed) == (1, 1)
    whole = evaluate_one(slo(metric="error_rate", phase="warmup", threshold="0.3%"), data, PHASES)
    assert whole.passed
    assert whole.measured == 0.0


def test_endpoint_scope() -> None:
    # one error a second, always the first request, which goes to POST /orders
    data = synthetic("modern", 10, endpoints=("POST /orders", "GET /products"),
                     error_rate=lambda s: 0.02)
    check = {"metric": "error_rate", "threshold": "1%"}
    orders = evaluate_one(slo(endpoint="POST /orders", **check), data, PHASES)
    products = evaluate_one(slo(endpoint="GET /products", **check), data, PHASES)
    both = evaluate_one(slo(**check), data, PHASES)
    assert (orders.passed, products.passed, both.passed) == (False, True, False)
    assert orders.measured == pytest.approx(1 / 25)
    assert products.measured == 0.0
    assert both.measured == pytest.approx(1 / 50)


def test_achieved_ratio_at_least() -> None:
    data = synthetic("legacy", 20, achieved_ratio=lambda s: 0.9 if s < 10 else 1.0)
    result = evaluate_one(slo(metric="achieved_ratio", op=">=", threshold=0.98), data, PHASES)
    assert not result.passed
    assert result.measured == pytest.approx(0.95)


def test_no_requests_in_scope_fails_with_nothing_measured() -> None:
    data = synthetic("modern", 10)
    result = evaluate_one(slo(metric="p99", endpoint="GET /nowhere", threshold="1s"), data, PHASES)
    assert not result.passed
    assert result.measured is None
    assert "no requests" in result.detail


def _recovery(name: str, seconds: float | None, status: RecoveryStatus | None = None,
              reason: str | None = None) -> FaultRecovery:
    return FaultRecovery(
        fault=name, type="kill", target="app-1", start_s=10, end_s=None, apply_s=0.01,
        status=status or ("recovered" if seconds is not None else "not_recovered"),
        reason=reason, baseline_start_s=0, baseline_end_s=10,
        baseline_error_rate=0, baseline_p95_ms=20, error_rate_limit=0.01, p95_limit_ms=70,
        impact_s=0, peak_error_rate=0.5, errors=10, requests=100, added_p95_ms=5,
        recovery_s=seconds, recovery_aws_s=seconds,
    )


def test_recovery_slo_uses_the_slowest_fault_and_fails_when_not_recovered() -> None:
    data = synthetic("modern", 10)
    check = slo(metric="recovery_s", threshold="30s")
    ok = evaluate_one(check, data, PHASES, [_recovery("a", 5), _recovery("b", 20)])
    assert ok.passed
    assert ok.measured == 20
    never = evaluate_one(check, data, PHASES, [_recovery("a", 5), _recovery("b", None)])
    assert not never.passed
    assert never.measured is None
    only_a = evaluate_one(slo(metric="recovery_s", fault="a", threshold="3s"), data, PHASES,
                          [_recovery("a", 5), _recovery("b", None)])
    assert not only_a.passed
    assert only_a.measured == 5


def test_recovery_slo_passes_no_impact_without_a_figure() -> None:
    data = synthetic("modern", 10)
    result = evaluate_one(slo(metric="recovery_s", threshold="30s"), data, PHASES,
                          [_recovery("a", None, "no_impact")])
    assert result.passed
    assert result.measured is None
    assert result.detail == "no impact: a"


def test_recovery_slo_fails_when_not_measurable_and_says_why() -> None:
    data = synthetic("modern", 10)
    result = evaluate_one(
        slo(metric="recovery_s", threshold="30s"), data, PHASES,
        [_recovery("a", 5), _recovery("b", None, "not_measurable", "legacy had not recovered "
                                      "from a")],
    )
    assert not result.passed
    assert result.measured is None
    assert result.detail == "b: recovery not measurable: legacy had not recovered from a"


# -- dropped arrivals and windows without answers --


def test_dropped_arrivals_count_as_failed_requests() -> None:
    # 10 % of the arrivals dropped at the cap, every finished request fine
    data = synthetic("modern", 20, achieved_ratio=lambda s: 0.9)
    result = evaluate_one(slo(metric="error_rate", threshold="1%"), data, PHASES)
    assert not result.passed
    assert result.measured == pytest.approx(0.1)


def test_dropped_per_endpoint_reach_endpoint_slos() -> None:
    data = synthetic("modern", 20, achieved_ratio=lambda s: 0.9)
    result = evaluate_one(
        slo(metric="error_rate", endpoint="POST /orders", threshold="1%"), data, PHASES,
    )
    # per second: 45 requests (22 to POST /orders) and 5 drops (2 before POST /orders)
    assert not result.passed
    assert result.measured == pytest.approx(2 / 24)


def test_a_scenario_can_exclude_dropped_arrivals() -> None:
    data = synthetic("modern", 20, achieved_ratio=lambda s: 0.9)
    result = evaluate_one(
        slo(metric="error_rate", threshold="1%", dropped="exclude"), data, PHASES,
    )
    assert result.passed
    assert result.measured == 0.0
    assert "dropped arrivals excluded" in result.detail


def test_all_requests_dropped_fails_the_error_rate_slo() -> None:
    data = synthetic("modern", 60, achieved_ratio=lambda s: 0.0 if s >= 30 else 1.0)
    result = evaluate_one(
        slo(metric="error_rate", phase="peak", window="10s", threshold="1%"), data, PHASES,
    )
    assert not result.passed
    assert result.measured == 1.0
    assert result.windows_failed == result.windows


def test_window_offered_but_nothing_finished_fails_instead_of_being_skipped() -> None:
    # drops left out by the scenario: the seconds 30..59 have offered arrivals, no answers
    data = synthetic("modern", 60, achieved_ratio=lambda s: 0.0 if s >= 30 else 1.0)
    result = evaluate_one(
        slo(metric="error_rate", window="10s", threshold="1%", dropped="exclude"), data, PHASES,
    )
    assert not result.passed
    assert result.measured == 1.0
    assert result.windows == 51
    assert result.windows_failed == 21  # windows 30..50 hold no answer at all
    assert "offered but no request finished" in result.detail


def test_window_with_nothing_offered_is_skipped() -> None:
    # a gap between phases: nothing offered, nothing finished, nothing to judge
    data = synthetic("modern", 60, rate=lambda s: 0 if 20 <= s < 40 else 50)
    result = evaluate_one(slo(metric="error_rate", window="10s", threshold="1%"), data, PHASES)
    assert result.passed
    assert result.windows == 51 - 11  # windows 20..30 lie wholly in the gap


def test_evaluate_applies_arch_choice() -> None:
    data = {"legacy": synthetic("legacy", 5), "modern": synthetic("modern", 5)}
    results = evaluate([slo(metric="p50", threshold="1s", arch="modern"),
                        SLO.model_validate({"name": "y", "metric": "p99", "threshold": "1s"})],
                       data, PHASES)
    assert [(r.name, r.arch) for r in results] == [("x", "modern"), ("y", "legacy"),
                                                   ("y", "modern")]
