"""One monitoring resolution per era: its scaling policy and its alarms read the same one.

`metrics.resolution_s` is how often the era's compute metrics reach CloudWatch (EC2 basic
monitoring 5 minutes, detailed 1 minute; ECS 1 minute). The scaling policy and an alarm
without a period of its own take it; a period finer than its metric is published at is a
validation error (instance CPU at the resolution, ELB and status check metrics every minute).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ProfileError, ScenarioError
from harness.model.catalogue import follows_monitoring
from harness.model.profile_file import load_profile, profile_with
from harness.scenario.alarms import apply, parse_alarms

SRC = "test.yaml"
WHY = "assumption: a test's own figure"
BASIC = {"value": 300, "source": "EC2 User Guide: basic monitoring, 5-minute periods (a test)"}


def _legacy_with(overrides: dict[str, Any]) -> Any:
    return profile_with("legacy", overrides, file=SRC, node=None, at="profile")


@pytest.mark.parametrize("arch", ["legacy", "modern", "modern-no-proxy"])
def test_each_era_scales_and_alarms_on_its_one_resolution(arch: str) -> None:
    profile = load_profile(arch)
    assert profile.metrics is not None
    assert profile.scaling is not None
    resolution = profile.metrics.resolution_s.value
    tracking = profile.scaling.target_tracking
    assert tracking is not None
    assert tracking.period_s.value == resolution
    assert tracking.period_s.source.startswith("metrics.resolution_s: ")
    on_instances = [a for a in profile.alarms if follows_monitoring(a.metric)]
    assert [a.period_s.value for a in on_instances] == [resolution] * len(on_instances)


def test_the_ec2_era_scales_on_detailed_monitoring_so_its_cpu_alarm_is_one_minute_too() -> None:
    legacy = load_profile("legacy")
    assert legacy.metrics is not None
    assert legacy.metrics.resolution_s.value == 60
    assert "detailed monitoring" in legacy.metrics.resolution_s.source
    cpu = next(a for a in legacy.alarms if a.name == "instance-cpu-high")
    # the 5 minutes the console alarm watched, as 5 one-minute datapoints
    assert (cpu.period_s.value, cpu.evaluation_periods, cpu.datapoints_to_alarm) == (60, 5, 5)


def test_basic_monitoring_moves_the_scaling_policy_to_five_minutes() -> None:
    # the load balancer's alarms stay at a minute: ELB metrics are published every 60 s
    elb = [a.model_dump(mode="json") for a in load_profile("legacy").alarms
           if not follows_monitoring(a.metric)]
    basic = _legacy_with({"metrics": {"resolution_s": BASIC}, "alarms": elb})
    assert basic.scaling is not None
    assert basic.scaling.target_tracking is not None
    assert basic.scaling.target_tracking.period_s.value == 300
    assert {a.period_s.value for a in basic.alarms} == {60}


def test_an_instance_alarm_finer_than_basic_monitoring_is_a_validation_error() -> None:
    with pytest.raises(ProfileError, match=(
            r"alarms\[0\] \(instance-cpu-high\): period_s 60 is finer than CPUUtilization is "
            r"published at \(300 s: metrics.resolution_s, basic monitoring\)")):
        _legacy_with({"metrics": {"resolution_s": BASIC}})


def test_a_scaling_policy_finer_than_its_metric_is_a_validation_error() -> None:
    with pytest.raises(ProfileError, match=(
            r"scaling.target_tracking: period_s 30 is finer than CPUUtilization is "
            r"published at \(60 s")):
        _legacy_with({"scaling": {"target_tracking": {"period_s": {"value": 30,
                                                                   "source": WHY}}}})


def test_an_alarm_on_a_load_balancer_metric_cannot_be_finer_than_a_minute() -> None:
    clb = next(a for a in load_profile("legacy").alarms if a.name == "clb-backend-5xx")
    ten_s = {**clb.model_dump(mode="json"), "period_s": {"value": 10, "source": WHY}}
    with pytest.raises(ProfileError, match=r"HTTPCode_Backend_5XX is published at \(60 s: "
                                           "CloudWatch has one datapoint a minute"):
        _legacy_with({"alarms": [ten_s]})


def test_a_resolution_cloudwatch_does_not_publish_is_an_error() -> None:
    with pytest.raises(ProfileError, match=r"every 300 s \(basic monitoring\) or every 60 s"):
        _legacy_with({"metrics": {"resolution_s": {"value": 120, "source": WHY}}})


def test_an_alarm_a_scenario_adds_takes_the_eras_resolution() -> None:
    overrides = parse_alarms([{"name": "cpu-busy", "metric": "CPUUtilization",
                               "statistic": "Average", "evaluation_periods": 3,
                               "threshold": 70, "comparison": "GreaterThanThreshold"}], SRC)
    alarm = next(a for a in apply(load_profile("legacy"), overrides, "legacy", SRC)
                 if a.name == "cpu-busy")
    assert alarm.period_s.value == 60
    assert alarm.period_s.source.startswith("metrics.resolution_s: ")


def test_a_scenario_alarm_finer_than_the_era_publishes_is_an_error() -> None:
    overrides = parse_alarms([{"name": "instance-cpu-high", "period": "30s"}], SRC)
    with pytest.raises(ScenarioError, match=r"test.yaml: alarms\[0\].period: legacy: period_s "
                                            "30 is finer than CPUUtilization"):
        apply(load_profile("legacy"), overrides, "legacy", SRC)
