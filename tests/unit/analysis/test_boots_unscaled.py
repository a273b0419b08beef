"""A replacement's own start counts once, unscaled, in a recovery's AWS estimate."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.boots import count_boots_once
from harness.analysis.recovery import FaultRecovery
from harness.records.events import OrchestratorEvent

SCALE = 0.05


def _recovery(seconds: float | None, *, scale: float = SCALE) -> FaultRecovery:
    return FaultRecovery(
        fault="kill-app", type="kill", target="app-1", start_s=10, end_s=None, apply_s=0.01,
        status="recovered" if seconds is not None else "not_recovered", reason=None,
        baseline_start_s=0, baseline_end_s=10, baseline_error_rate=0, baseline_p95_ms=20,
        error_rate_limit=0.01, p95_limit_ms=70, impact_s=0, peak_error_rate=0.5, errors=10,
        requests=100, added_p95_ms=5, recovery_s=seconds,
        recovery_aws_s=None if seconds is None else seconds / scale, time_scale=scale,
    )


def _registered(at: float, boot: float, *, arch: str = "modern", component: str = "app-1",
                kind: str = OrchestratorEvent.TASK_REGISTERED) -> dict[str, Any]:
    return {"kind": kind, "arch": arch, "load_t_s": at, "t_s": at, "component": component,
            "boot_s": boot, "boot": "answered"}


def test_the_start_inside_the_recovery_is_counted_once_not_divided() -> None:
    [r] = count_boots_once([_recovery(10)], [_registered(16, 4.0)], "modern")
    # 6 s of scaled timings at AWS (120 s), plus the start as measured
    assert r.recovery_aws_s == pytest.approx(6 / SCALE + 4.0)
    assert r.recovery_s == 10
    assert r.reason is not None
    assert "app-1's own start (4.0 s)" in r.reason


def test_the_longest_of_parallel_starts_is_the_one_counted() -> None:
    events = [_registered(14, 1.5, component="app-1"),
              _registered(15, 3.0, component="app-2", kind=OrchestratorEvent.INSTANCE_LAUNCHED)]
    [r] = count_boots_once([_recovery(10)], events, "modern")
    assert r.recovery_aws_s == pytest.approx(7 / SCALE + 3.0)
    assert r.reason is not None
    assert "app-2" in r.reason


@pytest.mark.parametrize("event", [
    _registered(25, 4.0),                     # after the recovery ended
    _registered(5, 4.0),                      # before the fault
    _registered(16, 4.0, arch="legacy"),      # the other architecture's
    {**_registered(16, 4.0), "boot_s": None},  # an older journal: no start recorded
    _registered(16, 4.0, kind=OrchestratorEvent.SCALING_REGISTERED),  # not a replacement
])
def test_a_start_outside_this_recovery_leaves_the_estimate_alone(event: dict[str, Any]
                                                                 ) -> None:
    [r] = count_boots_once([_recovery(10)], [event], "modern")
    assert r.recovery_aws_s == pytest.approx(10 / SCALE)
    assert r.reason is None


def test_no_recovery_or_no_scale_is_left_as_it_is() -> None:
    never, unscaled = _recovery(None), _recovery(10, scale=1.0)
    assert count_boots_once([never, unscaled], [_registered(16, 4.0)], "modern") == [
        never, unscaled]


def test_a_start_longer_than_the_recovery_counts_no_more_than_the_recovery() -> None:
    [r] = count_boots_once([_recovery(3)], [_registered(12, 8.0)], "modern")
    assert r.recovery_aws_s == pytest.approx(3.0)
