"""The report's scaling record and text, from events and the profile as run.json holds them."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.profile_file import load_profile
from harness.report.scaling import cpu_target, decision_lookback_s, gap_text, scaling_record


def _capacity(t: float, desired: int, in_service: int, cpu: float) -> dict[str, Any]:
    return {"kind": "scaling.capacity", "arch": "legacy", "t_s": t, "desired": desired,
            "launching": desired - in_service, "in_service": in_service, "cpu_sum_pct": cpu}


def test_record_and_text_give_the_gap_and_the_counts() -> None:
    profile = load_profile("legacy").model_dump(mode="json")
    events = [_capacity(0, 2, 2, 50), _capacity(1, 2, 2, 150), _capacity(2, 2, 2, 150),
              _capacity(3, 4, 2, 150),
              {"kind": "orchestrator.scaling.desired_changed", "arch": "legacy", "t_s": 3.5,
               "old": 2, "new": 4, "cause": "target_tracking"},
              _capacity(4, 4, 3, 150), _capacity(5, 4, 4, 150)]
    record = scaling_record(events, "legacy", profile, None)
    assert record is not None
    # demand from 1 s (150 > 2 x 50 for 3 s); 4 in service at 5 s
    assert (record.gap.status, record.gap.gap_s) == ("measured", 4.0)
    assert gap_text(record) == "scaling gap 4.0 s (2 -> 4 in service)"
    assert [p.in_service for p in record.timeline] == [2, 2, 2, 2, 3, 4]


def test_a_fixed_fleet_has_no_record() -> None:
    profile = load_profile("modern").model_dump(mode="json")
    profile["scaling"] = None
    assert scaling_record([], "modern", profile, None) is None


def test_the_cpu_target_is_the_profiles() -> None:
    assert cpu_target(load_profile("modern").model_dump(mode="json")) == 50
    assert cpu_target({"scaling": {"target_tracking": {
        "metric": {"value": "RequestCountPerTarget"}, "target_value": {"value": 100}}}}) is None


def test_a_decisions_data_reaches_back_its_datapoints_and_the_publication_delay() -> None:
    # modern: 3 one-minute datapoints, 60 s publication delay; x 0.1 run seconds
    profile = load_profile("modern").model_dump(mode="json")
    assert decision_lookback_s(profile, 0.1) == pytest.approx((4 * 60 + 60) * 0.1)
    assert decision_lookback_s({}, 0.1) is None
