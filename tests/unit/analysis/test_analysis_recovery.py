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
from harness.scenario.slo import Recovery
from tests.support.synthetic import synthetic

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


def test_no_impact_is_its_own_status_not_a_zero() -> None:
    data = synthetic("modern", 60)
    r = detect(data, FaultWindow("noop", "latency", "app->db", 30.0, 40.0), PARAMS)
    assert r.status == "no_impact"
    assert r.impact_s is None
    assert r.recovery_s is None
    assert r.errors == 0


def test_next_fault_damage_is_not_blamed_on_the_previous_one() -> None:
    data = synthetic("modern", 90, error_rate=lambda s: 0.5 if 60 <= s < 65 else 0.0)
    first, second = detect_all(data, [
        FaultWindow("second", "kill", "app-2", 60.0), FaultWindow("first", "kill", "app-1", 20.0),
    ], PARAMS)
    assert (first.fault, first.status, first.recovery_s) == ("first", "no_impact", None)
    assert (second.fault, second.status, second.recovery_s) == ("second", "recovered", 5.0)
    # nor its errors: an instant fault with no impact counts up to the next one's start only
    assert (first.errors, first.peak_error_rate) == (0, 0.0)
    assert first.requests == 40 * 50  # seconds 20-59 at synthetic's 50 requests a second
    assert second.errors > 0


def test_recovery_is_also_given_at_aws_timings() -> None:
    data = synthetic("legacy", 90, error_rate=lambda s: 0.4 if 30 <= s < 42 else 0.0)
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 30.0), PARAMS, time_scale=0.1)
    assert r.recovery_s == 12.0
    assert r.recovery_aws_s == pytest.approx(120.0)
    assert r.time_scale == 0.1


# -- baseline polluted by an earlier fault --


def test_fault_during_an_unrecovered_one_is_not_measurable() -> None:
    # the failover never recovers: everything after it is 100 % errors
    data = synthetic("legacy", 120, error_rate=lambda s: 1.0 if s >= 30 else 0.0)
    failover, throttle = detect_all(data, [
        FaultWindow("db-failover", "db_failover", "db", 30.0),
        FaultWindow("sqs-throttle", "aws_throttle", "aws", 70.0, 90.0),
    ], PARAMS)
    assert failover.status == "not_recovered"
    assert throttle.status == "not_measurable"
    assert throttle.reason == "legacy had not recovered from db-failover"
    assert throttle.recovery_s is None
    assert throttle.impact_s is None
    # the damage during it is still data, and reported as such
    assert throttle.peak_error_rate == 1.0


def test_fault_before_the_previous_one_recovered_is_not_measurable() -> None:
    # errors 30..59 (failover), the throttle comes at 50: the failover's figure includes it
    data = synthetic("legacy", 120, error_rate=lambda s: 1.0 if 30 <= s < 60 else 0.0)
    failover, throttle = detect_all(data, [
        FaultWindow("db-failover", "db_failover", "db", 30.0),
        FaultWindow("sqs-throttle", "aws_throttle", "aws", 50.0, 55.0),
    ], PARAMS)
    assert (failover.status, failover.recovery_s) == ("recovered", 30.0)
    assert failover.reason is not None
    assert "sqs-throttle started before it recovered" in failover.reason
    assert throttle.status == "not_measurable"
    assert throttle.reason == "legacy had not recovered from db-failover"


def test_baseline_starts_after_the_previous_fault_recovered() -> None:
    # kill 20..24 (back at 25); a slowdown at 32 with baseline 10 s: its band is set by
    # 25..31 only, never by the kill's errors
    data = synthetic(
        "modern", 90,
        error_rate=lambda s: 0.5 if 20 <= s < 25 or 32 <= s < 35 else 0.0,
    )
    kill, slow = detect_all(data, [
        FaultWindow("kill", "kill", "app-1", 20.0), FaultWindow("slow", "latency", "lb", 32.0),
    ], PARAMS)
    assert (kill.status, kill.recovery_s) == ("recovered", 5.0)
    assert (slow.baseline_start_s, slow.baseline_end_s) == (25, 32)
    assert slow.baseline_error_rate == 0.0
    assert (slow.status, slow.recovery_s) == ("recovered", 3.0)


def test_baseline_skips_a_harmless_fault_still_in_place() -> None:
    # a latency fault 10..50 that does nothing; a kill at 30 that does: the kill's baseline
    # is taken before the latency fault began
    data = synthetic("modern", 90, error_rate=lambda s: 0.5 if 30 <= s < 33 else 0.0)
    slow, kill = detect_all(data, [
        FaultWindow("slow", "latency", "app->db", 10.0, 50.0),
        FaultWindow("kill", "kill", "app-1", 30.0),
    ], PARAMS)
    assert slow.status == "no_impact"
    assert (kill.baseline_start_s, kill.baseline_end_s) == (0, 10)
    assert (kill.status, kill.recovery_s) == ("recovered", 3.0)


def test_baseline_already_full_of_errors_is_not_measurable() -> None:
    data = synthetic("legacy", 60, error_rate=lambda s: 1.0)
    r = detect(data, FaultWindow("sqs-throttle", "aws_throttle", "aws", 30.0), PARAMS)
    assert r.status == "not_measurable"
    assert r.reason is not None
    assert "already had 100.0 % errors" in r.reason


def test_no_traffic_before_the_fault_is_not_measurable() -> None:
    data = synthetic("legacy", 60)
    r = detect(data, FaultWindow("early", "kill", "app-1", 0.4), PARAMS)
    assert r.status == "not_measurable"
    assert r.reason is not None
    assert "baseline" in r.reason
    assert r.recovery_s is None


# -- empty impact windows --


def test_faults_in_the_same_second_are_not_measurable() -> None:
    data = synthetic("modern", 90, error_rate=lambda s: 0.5 if 30 <= s < 35 else 0.0)
    a, b = detect_all(data, [
        FaultWindow("kill-a", "kill", "app-1", 30.2), FaultWindow("kill-b", "kill", "app-2", 30.7),
    ], PARAMS)
    assert (a.status, b.status) == ("not_measurable", "not_measurable")
    assert a.reason is not None
    assert b.reason is not None
    assert a.reason.startswith("kill-b started in the same second")
    assert b.reason.startswith("kill-a started in the same second")
    assert a.recovery_s is None
    assert b.recovery_s is None


def test_after_same_second_faults_settle_the_next_fault_is_measured() -> None:
    data = synthetic(
        "modern", 120, error_rate=lambda s: 0.5 if 30 <= s < 35 or 70 <= s < 72 else 0.0,
    )
    *_pair, later = detect_all(data, [
        FaultWindow("kill-a", "kill", "app-1", 30.2), FaultWindow("kill-b", "kill", "app-2", 30.7),
        FaultWindow("kill-c", "kill", "app-3", 70.0),
    ], PARAMS)
    assert (later.status, later.recovery_s) == ("recovered", 2.0)


def test_run_cut_short_right_after_the_fault_is_not_measurable() -> None:
    data = synthetic("legacy", 40)
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 40.5), PARAMS)
    assert r.status == "not_measurable"
    assert r.reason is not None
    assert r.reason.startswith("the run ended")
    assert r.recovery_s is None
    assert r.peak_error_rate is None


def test_too_few_good_seconds_to_call_it_no_impact() -> None:
    data = synthetic("legacy", 40)
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 38.0), PARAMS)
    assert r.status == "not_measurable"
    assert r.reason == "only 2 s of data before the run ended (5 s needed to call it no impact)"


def test_next_fault_soon_after_leaves_too_little_to_judge() -> None:
    data = synthetic("legacy", 90)
    first, _second = detect_all(data, [
        FaultWindow("a", "kill", "app-1", 30.0), FaultWindow("b", "kill", "app-2", 32.0),
    ], PARAMS)
    assert first.status == "not_measurable"
    assert first.reason is not None
    assert first.reason.startswith("only 2 s of data before b started")


def test_not_recovered_by_the_end_says_when_the_data_ended() -> None:
    data = synthetic("legacy", 40, error_rate=lambda s: 0.5 if s >= 30 else 0.0)
    r = detect(data, FaultWindow("kill-app", "kill", "app-1", 30.0), PARAMS)
    assert r.status == "not_recovered"
    assert r.reason == "not back within the band when the data ended, 10.0 s after it started"


# -- dropped arrivals --


def test_all_arrivals_dropped_is_an_impact_not_a_quiet_second() -> None:
    data = synthetic("modern", 60, achieved_ratio=lambda s: 0.0 if 30 <= s < 40 else 1.0)
    r = detect(data, FaultWindow("pause", "pause", "app-1", 30.0, 40.0), PARAMS)
    assert (r.status, r.impact_s, r.recovery_s) == ("recovered", 0.0, 10.0)
    assert r.peak_error_rate == 1.0
    assert r.errors == 10 * 50  # every dropped arrival counts as a failed request


def test_excluded_drops_still_leave_seconds_with_no_answer_bad() -> None:
    exclude = Recovery.model_validate({"baseline": "10s", "consecutive": 5, "dropped": "exclude"})
    data = synthetic("modern", 60, achieved_ratio=lambda s: 0.0 if 30 <= s < 40 else 1.0)
    r = detect(data, FaultWindow("pause", "pause", "app-1", 30.0, 40.0), exclude)
    assert (r.status, r.recovery_s) == ("recovered", 10.0)
    assert r.errors == 0  # the drops themselves are not counted
    assert r.peak_error_rate is None


# -- a slow apply --


def test_slow_apply_starts_the_clock_when_the_apply_began() -> None:
    events = [
        {"arch": "modern", "t_s": 30.0, "kind": "fault.applying", "fault": "failover",
         "type": "db_failover", "target": "db"},
        {"arch": "modern", "t_s": 34.0, "kind": "fault.applied", "fault": "failover",
         "type": "db_failover", "target": "db", "took_ms": 4000.0},
    ]
    (window,) = faults_from_events(events, "modern")
    assert (window.start_s, window.apply_s) == (30.0, 4.0)
    # the outage began with the apply: none of it is in the baseline, all of it in the figure
    data = synthetic("modern", 90, error_rate=lambda s: 1.0 if 30 <= s < 40 else 0.0)
    r = detect(data, window, PARAMS)
    assert r.baseline_error_rate == 0.0
    assert (r.status, r.impact_s, r.recovery_s, r.apply_s) == ("recovered", 0.0, 10.0, 4.0)


def test_older_journals_start_at_applied_minus_its_duration() -> None:
    events = [{"t_s": 34.0, "kind": "fault.applied", "fault": "failover", "type": "db_failover",
               "target": "db", "took_ms": 2500.0}]
    (window,) = faults_from_events(events)
    assert window.start_s == pytest.approx(31.5)
    assert window.apply_s == 2.5


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
