"""The rollback decision: CodeDeploy rolls back once the tied alarm is in ALARM."""

from __future__ import annotations

from typing import Any

from harness.deploys.schedule import AlarmWatch


def _change(alarm: str, new: str, at_s: float, old: str = "OK") -> dict[str, Any]:
    return {"kind": "alarm.state_change", "alarm": alarm, "old": old, "new": new, "at_s": at_s}


def test_no_rollback_while_the_alarm_is_ok_or_lacks_data() -> None:
    watch = AlarmWatch("alb-target-5xx")
    assert not watch.feed([_change("alb-target-5xx", "INSUFFICIENT_DATA", 1.0),
                           _change("alb-target-5xx", "OK", 2.0)])
    assert watch.tripped_at_s is None


def test_rollback_when_the_tied_alarm_goes_to_alarm_with_its_time() -> None:
    events = [_change("alb-target-5xx", "OK", 1.0)]
    watch = AlarmWatch("alb-target-5xx")
    assert not watch.feed(events)
    events.append(_change("alb-target-5xx", "ALARM", 7.5))
    assert watch.feed(events)
    assert watch.tripped_at_s == 7.5


def test_another_alarm_does_not_roll_back() -> None:
    watch = AlarmWatch("alb-target-5xx")
    assert not watch.feed([_change("alb-target-response-time-p99", "ALARM", 3.0)])


def test_a_per_task_alarm_counts_for_its_base_name() -> None:
    watch = AlarmWatch("task-cpu-high")
    assert watch.feed([_change("task-cpu-high[app-2]", "ALARM", 4.0)])


def test_an_alarm_already_in_alarm_when_the_deploy_starts_rolls_back_at_once() -> None:
    # the run's changes so far, all before the deploy: the last one left it in ALARM
    watch = AlarmWatch("alb-target-5xx")
    assert watch.feed([_change("alb-target-5xx", "ALARM", 2.0)])


def test_a_trip_is_kept_after_the_alarm_recovers() -> None:
    events = [_change("alb-target-5xx", "ALARM", 5.0)]
    watch = AlarmWatch("alb-target-5xx")
    assert watch.feed(events)
    events.append(_change("alb-target-5xx", "OK", 9.0, old="ALARM"))
    assert watch.feed(events)
    assert watch.tripped_at_s == 5.0
    assert watch.state == "OK"
