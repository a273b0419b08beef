"""CloudWatch periods from samples: statistics, missing periods, publication delay."""

from __future__ import annotations

import pytest

from harness.metrics.periods import Datapoint, datapoints, statistic
from harness.model.alarmdef import valid_statistic
from harness.records.samples import Sample


def gauge(metric: str, values: list[float | None], member: str | None = None) -> list[Sample]:
    """One sample a second from t=0; None = no sample that second."""
    return [Sample(float(t), metric, v, member=member) for t, v in enumerate(values)
            if v is not None]


def test_statistics_of_one_period() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert statistic(values, "Sum") == 10
    assert statistic(values, "Average") == 2.5
    assert statistic(values, "Maximum") == 4
    assert statistic(values, "Minimum") == 1
    assert statistic(values, "SampleCount") == 4


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert statistic(values, "p99") == 99
    assert statistic(values, "p50") == 50
    assert statistic([5.0, 1.0], "p99") == 5
    assert statistic(values, "p99.9") == 100


def test_no_observation_is_no_value() -> None:
    assert statistic([], "Sum") is None


def test_statistic_names() -> None:
    assert valid_statistic("p99")
    assert valid_statistic("Average")
    assert valid_statistic("p99.9")
    assert not valid_statistic("avg")
    assert not valid_statistic("p100x")


def test_periods_aggregate_whole_periods_only() -> None:
    samples = gauge("CPUUtilization", [10, 20, 30, 40, 50, 60, 70])
    points = datapoints(samples, "CPUUtilization", period_s=3, stat="Average", until_s=7)
    # [0,3) and [3,6); the period [6,9) is not over at 7 s
    assert points == [Datapoint(0, 3, 20.0), Datapoint(3, 6, 50.0)]


def test_a_period_without_samples_is_missing() -> None:
    samples = gauge("HTTPCode_Target_5XX_Count", [1, 2, None, None, None, 5])
    points = datapoints(samples, "HTTPCode_Target_5XX_Count", period_s=2, stat="Sum", until_s=6)
    assert [p.value for p in points] == [3.0, None, 5.0]


def test_members_pool_or_filter() -> None:
    samples = [*gauge("CPUUtilization", [10, 10], "app-1"),
               *gauge("CPUUtilization", [90, 90], "app-2")]
    group = datapoints(samples, "CPUUtilization", period_s=2, stat="Average", until_s=2)
    one = datapoints(samples, "CPUUtilization", period_s=2, stat="Maximum", until_s=2,
                     member="app-1")
    assert group[0].value == 50
    assert one[0].value == 10


def test_distribution_samples_contribute_every_value() -> None:
    samples = [Sample(0.0, "TargetResponseTime", values=(0.1, 0.2)),
               Sample(1.0, "TargetResponseTime", values=(0.3, 4.0))]
    points = datapoints(samples, "TargetResponseTime", period_s=2, stat="p99", until_s=2)
    count = datapoints(samples, "TargetResponseTime", period_s=2, stat="SampleCount", until_s=2)
    assert points[0].value == 4.0
    assert count[0].value == 4


def test_samples_before_the_load_are_left_out() -> None:
    samples = [Sample(-1.0, "RunningTaskCount", 0.0), Sample(0.5, "RunningTaskCount", 3.0)]
    points = datapoints(samples, "RunningTaskCount", period_s=1, stat="Minimum", until_s=1)
    assert points == [Datapoint(0, 1, 3.0)]


def test_a_datapoint_is_published_after_the_delay() -> None:
    assert Datapoint(6, 12, 1.0).available_at(6) == 18


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="period_s"):
        datapoints([], "RequestCount", period_s=0, stat="Sum", until_s=5)
