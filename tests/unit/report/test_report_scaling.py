"""The report's scaling record and text, from events and the typed profile run.json's reads
back into."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.orderings import recorded_profile
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.report.scaling import cpu_target, decision_lookback_s, gap_text, scaling_record


def _capacity(t: float, desired: int, in_service: int, cpu: float) -> dict[str, Any]:
    return {"kind": "scaling.capacity", "arch": "legacy", "t_s": t, "desired": desired,
            "launching": desired - in_service, "in_service": in_service, "cpu_sum_pct": cpu}


def test_record_and_text_give_the_gap_and_the_counts() -> None:
    profile = load_profile("legacy")
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
    fixed = load_profile("modern").model_copy(update={"scaling": None})
    assert scaling_record([], "modern", fixed, None) is None
    # a profile that was not recorded or does not read back: no record, not a guess
    assert scaling_record([], "modern", None, None) is None


def test_the_cpu_target_is_the_profiles() -> None:
    assert cpu_target(load_profile("modern")) == 50
    by_requests = _with_tracking(load_profile("modern"), metric={
        "value": "RequestCountPerTarget", "source": WHY})
    assert cpu_target(by_requests) is None
    assert cpu_target(None) is None


def test_a_decisions_data_reaches_back_its_datapoints_and_the_publication_delay() -> None:
    # modern: 3 one-minute datapoints, 60 s publication delay; x 0.1 run seconds
    profile = load_profile("modern")
    assert decision_lookback_s(profile, 0.1) == pytest.approx((4 * 60 + 60) * 0.1)
    assert decision_lookback_s(None, 0.1) is None
    assert decision_lookback_s(profile.model_copy(update={"scaling": None}), 0.1) is None


def test_the_decision_lookback_honours_the_periods_floor_as_the_live_policy_does() -> None:
    # a 60 s period floored at 10 s: 10 s a period at x 0.1 (the live policy's
    # period_s.at(0.1)), not 6 s; the publication delay is still 60 s x 0.1
    floored = _with_tracking(load_profile("modern"), period_s={
        "value": 60, "source": WHY, "floor": {"value": 10, "source": WHY}})
    assert decision_lookback_s(floored, 0.1) == pytest.approx(4 * 10 + 60 * 0.1)


def test_the_record_reads_the_profile_run_json_holds_back_into_the_typed_profile() -> None:
    # what assemble passes: run.json's profile read back, floors and all
    floored = _with_tracking(load_profile("modern"), period_s={
        "value": 60, "source": WHY, "floor": {"value": 10, "source": WHY}})
    typed = recorded_profile(floored.model_dump(mode="json"))
    assert isinstance(typed, Profile)
    assert decision_lookback_s(typed, 0.1) == pytest.approx(46.0)


WHY = "assumption: a test's own figure"


def _with_tracking(profile: Profile, **changes: Any) -> Profile:
    """The profile with its target tracking policy's settings changed, validated again."""
    data = profile.model_dump(mode="json")
    data["scaling"]["target_tracking"].update(changes)
    return Profile.model_validate(data)
