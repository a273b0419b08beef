"""An alarm on `RunningTaskCount - DesiredTaskCount < 0` follows the desired count."""

from __future__ import annotations

from harness.metrics.alarms import evaluate
from harness.model.alarmdef import AlarmDef
from harness.model.profile_file import load_profile
from harness.records.samples import Sample

LOW = AlarmDef(name="tasks-low", metric="RunningTaskCount", statistic="Minimum", period_s=3,
               evaluation_periods=1, datapoints_to_alarm=1, threshold=0,
               comparison="LessThanThreshold", treat_missing_data="breaching",
               minus_metric="DesiredTaskCount")


def _counts(per_second: list[tuple[int, int]]) -> list[Sample]:
    """(running, desired) once a second from second 0."""
    out = []
    for t, (running, desired) in enumerate(per_second):
        out += [Sample(t + 0.5, "RunningTaskCount", float(running)),
                Sample(t + 0.5, "DesiredTaskCount", float(desired))]
    return out


def test_scaling_out_raises_the_bar_and_catching_up_clears_it() -> None:
    # 3 of 3 running, then desired 5 with 3 running (a scale-out under way), then 5 of 5
    samples = _counts([(3, 3)] * 3 + [(3, 5)] * 3 + [(5, 5)] * 3)
    changes = evaluate(LOW, samples, until_s=9)
    assert [(c.at_s, c.new) for c in changes] == [(3.0, "OK"), (6.0, "ALARM"), (9.0, "OK")]


def test_a_fixed_threshold_of_3_would_miss_the_same_shortfall() -> None:
    fixed = AlarmDef(**{**LOW.to_json(), "minus_metric": None, "threshold": 3})
    samples = _counts([(3, 3)] * 3 + [(3, 5)] * 3)
    assert [c.new for c in evaluate(fixed, samples, until_s=6)] == ["OK"]


def test_modern_profiles_running_task_alarm_is_relative_to_the_desired_count() -> None:
    (tasks_low,) = [a for a in load_profile("modern").alarm_definitions(0.05)
                    if a.name == "ecs-running-tasks-low"]
    assert tasks_low.minus_metric == "DesiredTaskCount"
    assert tasks_low.threshold == 0
    assert "RunningTaskCount - DesiredTaskCount" in tasks_low.describe()
