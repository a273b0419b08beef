"""The overall exit code: 0 all hold, 1 an SLO or invariant failed, 3 invalid run."""

from __future__ import annotations

from harness.analysis.invariants import Invariant
from harness.analysis.slo import SloResult
from harness.analysis.verdict import FAIL, INVALID, PASS, verdict


def _slo(passed: bool) -> SloResult:
    return SloResult(
        name="p99", arch="modern", metric="p99", endpoint="*", phase=None, window_s=None,
        op="<=", threshold="300ms", limit=300.0, unit="ms", measured=120.0, passed=passed,
        worst_start_s=0, worst_end_s=60, windows=1, windows_failed=0 if passed else 1,
        detail="worst 0-60 s",
    )


OK = Invariant("orders_lost", True, 0, "lost")
LOST = Invariant("orders_lost", False, 2, "lost")


def test_all_hold_is_zero() -> None:
    assert verdict([_slo(True)], {"modern": [OK]}, {}).exit_code == PASS


def test_failed_slo_is_one() -> None:
    v = verdict([_slo(False)], {"modern": [OK]}, {})
    assert v.exit_code == FAIL
    assert v.reasons == ["modern: SLO p99 failed: worst 0-60 s"]


def test_violated_invariant_is_one() -> None:
    v = verdict([_slo(True)], {"modern": [LOST]}, {})
    assert v.exit_code == FAIL
    assert "orders_lost" in v.reasons[0]


def test_invalid_run_wins_over_failures() -> None:
    v = verdict([_slo(False)], {"modern": [LOST]}, {"legacy": ["generator fell behind"]})
    assert v.exit_code == INVALID
    assert v.status == "invalid"
