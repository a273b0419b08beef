"""Time to detect per fault, false alarms and alarms of an overload, from alarm changes."""

from __future__ import annotations

from harness.analysis.detection import (
    AlarmChange,
    FalseAlarm,
    changes_from_events,
    detect,
    repairs_from_events,
)
from harness.analysis.recovery import FaultRecovery, FaultWindow
from harness.model.alarmdef import AlarmDef

TASKS = AlarmDef(name="tasks-low", metric="RunningTaskCount", statistic="Minimum", period_s=6,
                 evaluation_periods=1, datapoints_to_alarm=1, threshold=3,
                 comparison="LessThanThreshold", treat_missing_data="missing", delay_s=6,
                 every_s=6)  # lag 6 + 6 + 6 = 18 s
ALARMS = {TASKS.name: TASKS}
KILL = FaultWindow("kill-app", "kill", "app-1", start_s=40.0)
FAILOVER = FaultWindow("db-failover", "db_failover", "db-writer", start_s=65.0)


def recovered(fault: FaultWindow, after_s: float | None) -> FaultRecovery:
    return FaultRecovery(
        fault=fault.name, type=fault.type, target=fault.target, start_s=fault.start_s,
        end_s=fault.end_s, apply_s=0.01,
        status="recovered" if after_s is not None else "not_recovered", reason=None,
        baseline_start_s=0, baseline_end_s=int(fault.start_s), baseline_error_rate=0.0,
        baseline_p95_ms=10.0, error_rate_limit=0.01, p95_limit_ms=20.0, impact_s=0.0,
        peak_error_rate=0.5, errors=10, requests=100, added_p95_ms=5.0, recovery_s=after_s,
        recovery_aws_s=after_s,
    )


def to_alarm(at_s: float, alarm: str = "tasks-low") -> AlarmChange:
    return AlarmChange(alarm, at_s, "OK", "ALARM")


def test_first_alarm_after_the_fault_detects_it() -> None:
    changes = [to_alarm(54.0), AlarmChange("tasks-low", 60.0, "ALARM", "OK")]
    found, false, _ = detect([KILL], [recovered(KILL, 5.0)], changes, ALARMS, 130)
    assert found[0].alarm == "tasks-low"
    assert found[0].detect_s == 14.0
    assert false == []


def test_a_fault_no_alarm_saw_is_not_detected() -> None:
    found, _, _ = detect([KILL], [recovered(KILL, 5.0)], [], ALARMS, 130)
    assert found[0].detected is False
    assert found[0].alarm is None


def test_an_alarm_before_any_fault_is_a_false_alarm() -> None:
    found, false, _ = detect([KILL], [recovered(KILL, 5.0)], [to_alarm(12.0)], ALARMS, 130)
    assert [f.at_s for f in false] == [12.0]
    assert found[0].detected is False


def _event(t_s: float, kind: str, **fields: object) -> dict[str, object]:
    return {"t_s": t_s, "kind": kind, "arch": "legacy", **fields}


ZONE_B = [
    _event(17.0, "fault.applied", fault="zone-b", target="zone:b", targets=["app-2", "db-s"]),
    _event(23.1, "orchestrator.instance_launching", component="app-2"),
    _event(29.4, "orchestrator.standby_rejoined", component="db-s"),
    _event(38.1, "orchestrator.instance_launched", component="app-2"),
]


def test_a_repair_reaches_until_its_member_serves_again_or_the_run_ends() -> None:
    assert repairs_from_events(ZONE_B, "legacy", 70.0) == {"zone-b": 70.0}
    served = [*ZONE_B, _event(66.0, "orchestrator.instance_in_service", component="app-2")]
    assert repairs_from_events(served, "legacy", 70.0) == {"zone-b": 66.0}
    assert repairs_from_events(ZONE_B, "modern", 70.0) == {}  # another architecture's events


def test_a_repair_ends_at_the_next_fault_on_the_same_target() -> None:
    again = [*ZONE_B[:3], _event(30.0, "fault.applied", fault="kill", target="app-2", targets=None),
             _event(31.0, "orchestrator.instance_in_service", component="app-2")]
    # kill's repair ends in service at 31 s; zone-b's app-2 was still launching when the
    # kill came, so zone-b reaches on (the kill, the later fault, owns what follows)
    assert repairs_from_events(again, "legacy", 70.0) == {"zone-b": 70.0, "kill": 31.0}
    served = [*ZONE_B, _event(66.0, "orchestrator.instance_in_service", component="app-2"),
              _event(80.0, "fault.applied", fault="kill", target="app-2", targets=None),
              _event(95.0, "orchestrator.instance_in_service", component="app-2")]
    assert repairs_from_events(served, "legacy", 120.0) == {"zone-b": 66.0, "kill": 95.0}


def test_an_alarm_during_the_repair_belongs_to_the_fault_not_to_nobody() -> None:
    # recovered (traffic-wise) at 45 s, but the replacement served only at 90 s: the
    # unhealthy-host alarm at 64 s is the fault's, not a false alarm
    found, false, _ = detect([KILL], [recovered(KILL, 5.0)], [to_alarm(64.0)], ALARMS, 130,
                          {"kill-app": 90.0})
    assert false == []
    assert found[0].alarm == "tasks-low"


def test_an_alarm_long_after_recovery_is_a_false_alarm() -> None:
    # recovered at 45 s; the alarm's data could show it until 45 + 18 = 63 s
    found, false, _ = detect([KILL], [recovered(KILL, 5.0)], [to_alarm(64.0)], ALARMS, 130)
    assert [f.alarm for f in false] == ["tasks-low"]
    assert found[0].detected is False


def test_an_alarm_on_data_from_before_the_next_fault_belongs_to_the_earlier_one() -> None:
    # at 66 s the alarm's newest data ends at 66 - 6 = 60 s: before the failover (65 s)
    found, false, _ = detect([KILL, FAILOVER], [recovered(KILL, 20.0), recovered(FAILOVER, 5.0)],
                          [to_alarm(66.0)], ALARMS, 130)
    assert [(d.fault, d.detect_s) for d in found] == [("kill-app", 26.0), ("db-failover", None)]
    assert false == []


def test_a_fault_that_never_recovered_can_be_detected_until_the_end() -> None:
    found, _, _ = detect([KILL], [recovered(KILL, None)], [to_alarm(120.0)], ALARMS, 130)
    assert found[0].detect_s == 80.0


def test_an_alarm_already_firing_is_named_but_does_not_detect() -> None:
    changes = [to_alarm(44.0)]
    found, _, _ = detect([KILL, FAILOVER], [recovered(KILL, None), recovered(FAILOVER, None)],
                      changes, ALARMS, 130)
    assert found[1].already_alarming == ["tasks-low"]
    assert found[1].detected is False


def test_changes_are_read_from_events_at_their_evaluation_time() -> None:
    events = [
        {"kind": "alarm.state_change", "arch": "modern", "alarm": "a", "old": "OK",
         "new": "ALARM", "at_s": 12.0, "t_s": 12.4},
        {"kind": "alarm.state_change", "arch": "legacy", "alarm": "b", "old": "OK",
         "new": "ALARM", "at_s": 6.0, "t_s": 6.2},
        {"kind": "fault.applied", "arch": "modern", "t_s": 1.0},
    ]
    assert changes_from_events(events, "modern") == [AlarmChange("a", 12.0, "OK", "ALARM")]


CPU = AlarmDef(name="cpu-high", metric="CPUUtilization", statistic="Average", period_s=6,
               evaluation_periods=2, datapoints_to_alarm=2, threshold=70,
               comparison="GreaterThanThreshold", treat_missing_data="missing", delay_s=6,
               every_s=6)  # evaluates data from at_s - 6 - 12 to at_s - 6
WITH_CPU = {**ALARMS, CPU.name: CPU}
#: demand above the in-service capacity from 90 to 110 s
OVERLOAD = [(90.0, 110.0)]


def test_an_alarm_on_data_during_an_overload_is_of_the_overload_not_false() -> None:
    # at 100 s the alarm saw 82-94 s: the overload began at 90 s
    _, false, overload = detect([KILL], [recovered(KILL, 5.0)],
                                [to_alarm(100.0, "cpu-high")], WITH_CPU, 130, None, OVERLOAD)
    assert false == []
    assert [(a.alarm, a.at_s) for a in overload] == [("cpu-high", 100.0)]
    assert "from 90.0 s to 110.0 s" in overload[0].reason
    assert not isinstance(overload[0], FalseAlarm)


def test_an_alarm_whose_data_overlaps_the_end_of_an_overload_is_of_it() -> None:
    # at 125 s the alarm saw 107-119 s, the last 3 s of the overload
    _, false, overload = detect([], [], [to_alarm(125.0, "cpu-high")], WITH_CPU, 130, None,
                                OVERLOAD)
    assert (false, [a.at_s for a in overload]) == ([], [125.0])


def test_an_alarm_on_data_from_before_or_after_an_overload_stays_false() -> None:
    # at 95 s the alarm saw 77-89 s; at 130 s, 112-124 s
    changes = [to_alarm(95.0, "cpu-high"), to_alarm(130.0, "cpu-high")]
    _, false, overload = detect([], [], changes, WITH_CPU, 140, None, OVERLOAD)
    assert [a.at_s for a in false] == [95.0, 130.0]
    assert overload == []


def test_an_alarm_a_fault_explains_is_the_faults_even_during_an_overload() -> None:
    found, false, overload = detect([KILL], [recovered(KILL, 5.0)], [to_alarm(54.0)], ALARMS,
                                    130, None, [(40.0, 60.0)])
    assert found[0].detect_s == 14.0
    assert (false, overload) == ([], [])
