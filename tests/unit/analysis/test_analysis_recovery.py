"""Recovery detection on synthetic faults: impact, damage, recovery after N good seconds."""

from __future__ import annotations

import pytest

from harness.analysis.recovery import (
    FaultWindow,
    detect,
    detect_all,
    faults_from_events,
    merge_events,
)
from harness.analysis.synthetic import synthetic
from harness.scenario.slo import Recovery

PARAMS = Recovery.model_validate({"baseline": "10s", "consecutive": 5})


def test_impact_at_fault_start_and_recovery_after_n_good_seconds() -> None:
    # errors from 30 s to 41 s; latency doubles from 30 s to 44 s
    data = synthetic(
        "legacy", 90,
        error_rate=lambda s: 0.4 if 30 <= s < 42 else 0.0,
        latency_ms=lambda s: 200.0 if 30 <= s < 45 else 20.0,
    )
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 30.0), PARAMS)
    assert r.impact_s == 0.0
    assert r.recovery_s == 15.0  # back within the band from second 45 on
    assert r.peak_error_rate == pytest.approx(0.4)
    assert r.errors == 12 * 20  # 50 a second, 40 % -> 20 errors, for 12 seconds
    assert r.added_p95_ms is not None
    assert r.added_p95_ms > 100


def test_good_streak_shorter_than_n_does_not_count() -> None:
    # errors 30..34, four good seconds 35..38, errors again 39..40, then good
    bad = set(range(30, 35)) | {39, 40}
    data = synthetic("legacy", 90, error_rate=lambda s: 0.5 if s in bad else 0.0)
    r = detect(data, FaultWindow("flap", "kill", "app-1", 30.0), PARAMS)
    assert r.recovery_s == 11.0


def test_not_recovered_within_the_run() -> None:
    data = synthetic("legacy", 60, error_rate=lambda s: 0.5 if s >= 30 else 0.0)
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 30.0), PARAMS)
    assert r.impact_s == 0.0
    assert r.recovery_s is None
    assert not r.recovered


def test_delayed_impact_and_fractional_start() -> None:
    data = synthetic("modern", 90, error_rate=lambda s: 0.3 if 35 <= s < 38 else 0.0)
    r = detect(data, FaultWindow("drain", "latency", "lb", 30.25, 50.0), PARAMS)
    assert r.impact_s == pytest.approx(4.75)
    assert r.recovery_s == pytest.approx(7.75)


def test_no_impact_means_recovered_at_once() -> None:
    data = synthetic("modern", 60)
    r = detect(data, FaultWindow("noop", "latency", "app->db", 30.0, 40.0), PARAMS)
    assert r.impact_s is None
    assert r.recovery_s == 0.0
    assert r.errors == 0


def test_next_fault_damage_is_not_blamed_on_the_previous_one() -> None:
    data = synthetic("modern", 90, error_rate=lambda s: 0.5 if 60 <= s < 65 else 0.0)
    first, second = detect_all(data, [
        FaultWindow("second", "kill", "app-2", 60.0), FaultWindow("first", "kill", "app-1", 20.0),
    ], PARAMS)
    assert (first.fault, first.impact_s, first.recovery_s) == ("first", None, 0.0)
    assert (second.fault, second.impact_s, second.recovery_s) == ("second", 0.0, 5.0)


def test_faults_from_executor_events() -> None:
    events = [
        {"arch": "legacy", "t_s": 30.1, "kind": "fault.applied", "fault": "slow",
         "type": "latency", "target": "app->db"},
        {"arch": "modern", "t_s": 30.2, "kind": "fault.applied", "fault": "slow",
         "type": "latency", "target": "app->db"},
        {"arch": "legacy", "t_s": 5.0, "kind": "fault.applied", "fault": "kill",
         "type": "kill", "target": "app-1"},
        {"arch": "legacy", "t_s": 40.1, "kind": "fault.reverted", "fault": "slow"},
        {"arch": "legacy", "t_s": 41.0, "kind": "orchestrator.instance_launched"},
    ]
    assert faults_from_events(events, "legacy") == [
        FaultWindow("kill", "kill", "app-1", 5.0, None),
        FaultWindow("slow", "latency", "app->db", 30.1, 40.1),
    ]
    assert faults_from_events(events, "modern") == [
        FaultWindow("slow", "latency", "app->db", 30.2, None)
    ]


def test_merge_events_aligns_each_architecture_to_its_load_start() -> None:
    per_arch = {
        "legacy": [{"wall": 1000.0 + 45.2, "t_s": 80.0, "kind": "fault.applied", "fault": "k",
                    "type": "kill", "target": "app-1"}],
        "modern": [{"wall": 2000.0 + 45.1, "t_s": 70.0, "kind": "fault.applied", "fault": "k",
                    "type": "kill", "target": "app-1"}],
    }
    merged = merge_events(per_arch, {"legacy": 1000.0, "modern": 2000.0})
    assert [e["arch"] for e in merged] == ["legacy", "modern"]
    assert faults_from_events(merged, "legacy")[0].start_s == pytest.approx(45.2)
    assert faults_from_events(merged, "modern")[0].start_s == pytest.approx(45.1)
    # without the load's start, the EventLog's own clock is used
    assert faults_from_events(merge_events(per_arch), "modern")[0].start_s == 70.0


def test_no_faults_no_recoveries() -> None:
    assert detect_all(synthetic("modern", 10), [], PARAMS) == []
