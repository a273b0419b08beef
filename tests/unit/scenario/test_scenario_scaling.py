"""A scenario's scheduled scaling: per-architecture counts, phase times, clear errors."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.model.profile_file import load_profile
from harness.model.scaling import ScheduledAction
from harness.scenario.scaling import check_scaling, parse_scaling

PHASES = {"everyday": 0.0, "surge": 50.0}


def test_actions_resolve_phase_times_and_per_architecture_counts() -> None:
    scaling = parse_scaling({"schedule": [
        {"at": "surge-40s", "min": {"legacy": 4, "modern": 6}},
        {"at": "70s", "max": 5},
    ]}, "s.yaml")
    assert scaling is not None
    assert scaling.actions("legacy", PHASES) == [
        ScheduledAction(10.0, min_capacity=4), ScheduledAction(70.0, max_capacity=5)]
    assert scaling.actions("modern", PHASES)[0] == ScheduledAction(10.0, min_capacity=6)


def test_a_label_keyed_count_applies_to_that_run_only_and_a_profile_key_to_every_copy() -> None:
    scaling = parse_scaling({"schedule": [
        {"at": "surge-40s", "min": {"legacy#prescaled": 4}},
        {"at": "surge", "min": {"modern": 5, "modern#prescaled": 6}},
    ]}, "s.yaml")
    assert scaling is not None
    assert scaling.actions("legacy", PHASES) == []
    assert scaling.actions("legacy#prescaled", PHASES) == [ScheduledAction(10.0, min_capacity=4)]
    assert scaling.actions("modern#2", PHASES) == [ScheduledAction(50.0, min_capacity=5)]
    assert scaling.actions("modern#prescaled", PHASES) == [ScheduledAction(50.0, min_capacity=6)]
    labels = ("legacy", "legacy#prescaled", "modern", "modern#prescaled")
    check_scaling(scaling, source="s.yaml", profiles={a: load_profile(a.split("#")[0])
                                                      for a in labels}, phases=PHASES, run_s=100)
    with pytest.raises(ScenarioError, match="legacy#prescaled not among the architectures"):
        check_scaling(scaling, source="s.yaml", profiles={"legacy": load_profile("legacy"),
                      "modern": load_profile("modern")}, phases=PHASES, run_s=100)


def test_no_block_is_no_scaling() -> None:
    assert parse_scaling({}, "s.yaml") is None


@pytest.mark.parametrize(("raw", "message"), [
    ({"schedule": [{"at": "10s", "mni": 3}]}, r"s.yaml: scaling\.schedule\[0\]\.mni: unknown key"),
    ({"schedule": [{"at": "10s", "min": 40}]}, "40 is not a count"),
    ({"schedule": [{"at": "10 parsecs", "min": 3}]}, "is not a start"),
])
def test_bad_entries_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scaling(raw, "s.yaml")


@pytest.mark.parametrize(("entry", "message"), [
    ({"at": "doors+1s", "min": 3}, r"scaling.schedule\[0\].at: no phase 'doors'"),
    ({"at": "200s", "min": 3}, "is not within the run"),
    ({"at": "1s", "min": {"legacy": 3, "modrn": 4}}, "modrn not among the architectures"),
])
def test_checked_against_phases_run_and_architectures(entry: dict[str, object],
                                                      message: str) -> None:
    scaling = parse_scaling({"schedule": [entry]}, "s.yaml")
    assert scaling is not None
    profiles = {a: load_profile(a) for a in ("legacy", "modern")}
    with pytest.raises(ScenarioError, match=message):
        check_scaling(scaling, source="s.yaml", profiles=profiles, phases=PHASES, run_s=100)


def test_a_profile_without_scaling_cannot_be_scheduled() -> None:
    fixed = load_profile("legacy").model_copy(update={"scaling": None})
    scaling = parse_scaling({"schedule": [{"at": "1s", "min": 3}]}, "s.yaml")
    assert scaling is not None
    with pytest.raises(ScenarioError, match="has no scaling: section"):
        check_scaling(scaling, source="s.yaml", profiles={"legacy": fixed}, phases=PHASES,
                      run_s=100)


def test_a_target_value_replaces_the_profiles_target_and_says_so() -> None:
    scaling = parse_scaling({"target_value": 20}, "s.yaml")
    assert scaling is not None
    profile = scaling.applied(load_profile("modern"), "s.yaml")
    assert profile.scaling is not None
    assert profile.scaling.target_tracking is not None
    target = profile.scaling.target_tracking.target_value
    assert target.value == 20
    assert target.source.startswith("scenario s.yaml: scaling.target_value (the profile has 50")
    row = next(m for m in profile.modelled(0.1)
               if m.setting == "scaling.target_tracking.target_value")
    assert row.aws_value == 20
