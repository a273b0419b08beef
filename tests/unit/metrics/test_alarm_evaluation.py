"""CloudWatch alarm semantics on hand-computed synthetic series.

Every series is one sample a second from t=0; with period 2 s each datapoint is the
statistic of two samples. Expected transitions are worked out by hand in the comments.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.metrics.alarms import AlarmEngine, evaluate, window_state
from harness.model.alarmdef import AlarmDef
from harness.records.samples import Sample

CPU = AlarmDef(
    name="cpu-high", metric="CPUUtilization", statistic="Average", period_s=2,
    evaluation_periods=3, datapoints_to_alarm=2, threshold=80,
    comparison="GreaterThanThreshold", treat_missing_data="missing",
)


def series(values: list[float | None], metric: str = "CPUUtilization") -> list[Sample]:
    return [Sample(float(t), metric, v) for t, v in enumerate(values) if v is not None]


def states(alarm: AlarmDef, samples: list[Sample], until_s: float) -> list[tuple[float, str]]:
    return [(t.at_s, t.new) for t in evaluate(alarm, samples, until_s)]


def test_two_of_three_breaching_periods_alarm() -> None:
    # datapoints (Average of 2 s): [10, 90, 10, 90, 10, 10]
    # evaluated every 2 s on the last 3: t=2 [-,-,10] OK; t=4 [-,10,90]: 1 breach < M=2, but
    # 2 present >= M so OK; t=8 [90,10,90] -> 2 of 3 ALARM; t=10 [10,90,10] OK; t=12 OK
    samples = series([10, 10, 90, 90, 10, 10, 90, 90, 10, 10, 10, 10])
    assert states(CPU, samples, 12) == [(2, "OK"), (8, "ALARM"), (10, "OK")]


def test_m_equal_n_needs_every_period() -> None:
    alarm = replace(CPU, evaluation_periods=3, datapoints_to_alarm=3)
    # datapoints [90, 90, 10, 90, 90, 90]: only t=12 sees three breaching in a row
    samples = series([90, 90, 90, 90, 10, 10, 90, 90, 90, 90, 90, 90])
    # t=2 [-,-,90]: 1 present < M and it breaches -> ALARM (missing: all present breach)
    # t=4 [-,90,90] ALARM stays; t=6 [90,90,10] OK; t=8, t=10 OK; t=12 [90,90,90] ALARM
    assert states(alarm, samples, 12) == [(2, "ALARM"), (6, "OK"), (12, "ALARM")]


def test_publication_delay_postpones_the_alarm() -> None:
    alarm = replace(CPU, evaluation_periods=1, datapoints_to_alarm=1, delay_s=3, every_s=1)
    # period [2,4) breaches; it is visible at 4 + 3 = 7 s
    samples = series([10, 10, 90, 90, 10, 10, 10, 10])
    assert states(alarm, samples, 9) == [(5, "OK"), (7, "ALARM"), (9, "OK")]


@pytest.mark.parametrize(("treat", "expected"), [
    # window of N=3, M=2 over datapoints [-, -, -]
    ("missing", "INSUFFICIENT_DATA"),
    ("ignore", "OK"),  # keeps the current state (OK here)
    ("breaching", "ALARM"),
    ("notBreaching", "OK"),
])
def test_all_missing(treat: str, expected: str) -> None:
    alarm = replace(CPU, treat_missing_data=treat)  # type: ignore[arg-type]
    assert window_state([None, None, None], alarm, "OK") == expected


@pytest.mark.parametrize(("treat", "current", "expected"), [
    # [-, 90, -] with M=2: one datapoint, and it breaches
    ("missing", "OK", "ALARM"),  # fewer than M present, all breaching
    ("ignore", "OK", "OK"),  # keeps its state
    ("breaching", "OK", "ALARM"),  # 3 bad of 3
    ("notBreaching", "ALARM", "OK"),  # 1 bad of 3
])
def test_one_breaching_among_missing(treat: str, current: str, expected: str) -> None:
    alarm = replace(CPU, treat_missing_data=treat)  # type: ignore[arg-type]
    assert window_state([None, 95, None], alarm, current) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("treat", "expected"), [
    # [10, -, -]: present and good
    ("missing", "OK"), ("ignore", "OK"), ("breaching", "ALARM"), ("notBreaching", "OK"),
])
def test_one_good_among_missing(treat: str, expected: str) -> None:
    alarm = replace(CPU, treat_missing_data=treat)  # type: ignore[arg-type]
    assert window_state([10, None, None], alarm, "ALARM") == expected


def test_count_metric_without_errors_has_no_datapoints() -> None:
    errors = replace(CPU, name="5xx", metric="HTTPCode_Target_5XX_Count", statistic="Sum",
                     threshold=5, evaluation_periods=1, datapoints_to_alarm=1,
                     treat_missing_data="notBreaching")
    # 5xx only in seconds 4 and 5: sum 8 in [4,6); the other periods have no datapoint
    samples = series([None, None, None, None, 3, 5, None, None], "HTTPCode_Target_5XX_Count")
    assert states(errors, samples, 8) == [(2, "OK"), (6, "ALARM"), (8, "OK")]
    # the same series with `missing`: no datapoint at first -> INSUFFICIENT_DATA, no change
    missing = replace(errors, treat_missing_data="missing")
    assert states(missing, samples, 8) == [(6, "ALARM"), (8, "INSUFFICIENT_DATA")]


def test_less_than_threshold() -> None:
    tasks = replace(CPU, name="tasks", metric="RunningTaskCount", statistic="Minimum",
                    threshold=3, comparison="LessThanThreshold", evaluation_periods=1,
                    datapoints_to_alarm=1)
    samples = series([3, 3, 3, 2, 3, 3], "RunningTaskCount")
    assert states(tasks, samples, 6) == [(2, "OK"), (4, "ALARM"), (6, "OK")]


def test_one_member_alarm_sees_only_its_member() -> None:
    per = replace(CPU, evaluation_periods=1, datapoints_to_alarm=1, member="app-2")
    samples = ([Sample(float(t), "CPUUtilization", 95, member="app-1") for t in range(4)]
               + [Sample(float(t), "CPUUtilization", 5, member="app-2") for t in range(4)])
    assert states(per, samples, 4) == [(2, "OK")]


def test_live_engine_gives_each_transition_once_and_as_post_hoc() -> None:
    samples = series([10, 10, 90, 90, 90, 90, 10, 10, 10, 10, 10, 10])
    engine = AlarmEngine([CPU])
    live = []
    for now in range(1, 13):
        live += engine.advance([s for s in samples if s.t_s < now], float(now))
    assert live == evaluate(CPU, samples, 12)
    assert [t.new for t in live] == ["OK", "ALARM", "OK"]


def test_periods_before_the_load_are_not_evidence() -> None:
    # missing data as breaching, but at the first evaluation only period [0,2) exists
    tasks = replace(CPU, name="tasks", metric="RunningTaskCount", statistic="Minimum",
                    threshold=3, comparison="LessThanThreshold", evaluation_periods=3,
                    datapoints_to_alarm=2, treat_missing_data="breaching")
    samples = series([3, 3, 3, 3, 3, 3], "RunningTaskCount")
    assert states(tasks, samples, 6) == [(2, "OK")]
