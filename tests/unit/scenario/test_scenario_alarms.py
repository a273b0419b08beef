"""A scenario's `alarms:` block: change, switch off and add alarms; errors name the entry."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.model.profile_file import load_profile
from harness.scenario.alarms import apply, parse_alarms

SRC = "test.yaml"


def test_change_keeps_the_rest_and_says_so() -> None:
    modern = load_profile("modern")
    specs = apply(modern, parse_alarms(
        [{"name": "alb-target-5xx", "evaluation_periods": 2, "datapoints_to_alarm": 2}], SRC),
        "modern", SRC)
    alarm = next(a for a in specs if a.name == "alb-target-5xx")
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (2, 2)
    assert alarm.statistic == "Sum"
    assert alarm.source.startswith("scenario test.yaml: alarms[0] changed")


def test_switch_off_and_add_for_one_architecture() -> None:
    overrides = parse_alarms([
        {"name": "clb-latency", "enabled": False, "architectures": ["legacy"]},
        {"name": "cpu-high", "architectures": ["legacy"], "metric": "CPUUtilization",
         "statistic": "Average", "period": "60s", "evaluation_periods": 3, "threshold": 80,
         "comparison": "GreaterThanThreshold"},
    ], SRC)
    legacy = [a.name for a in apply(load_profile("legacy"), overrides, "legacy", SRC)]
    modern = [a.name for a in apply(load_profile("modern"), overrides, "modern", SRC)]
    assert "clb-latency" not in legacy
    assert "cpu-high" in legacy
    assert "cpu-high" not in modern


def test_a_new_alarm_needs_its_fields() -> None:
    overrides = parse_alarms([{"name": "nope", "metric": "CPUUtilization"}], SRC)
    with pytest.raises(ScenarioError, match=r"alarms\[0\]: modern has no alarm 'nope'.*statistic"):
        apply(load_profile("modern"), overrides, "modern", SRC)


def test_an_impossible_m_of_n_is_an_error() -> None:
    overrides = parse_alarms([{"name": "alb-target-5xx", "datapoints_to_alarm": 9}], SRC)
    with pytest.raises(ScenarioError, match=r"alarms\[0\].*M <= N"):
        apply(load_profile("modern"), overrides, "modern", SRC)


def test_an_unknown_key_names_the_entry() -> None:
    with pytest.raises(ScenarioError, match=r"alarms\[1\]\.thresold: unknown key"):
        parse_alarms([{"name": "a"}, {"name": "b", "thresold": 3}], SRC)


def test_a_period_cloudwatch_does_not_offer_is_an_error() -> None:
    overrides = parse_alarms([{"name": "alb-target-5xx", "period": "45s"}], SRC)
    with pytest.raises(ScenarioError, match="10 s, 30 s or a multiple of 60 s"):
        apply(load_profile("modern"), overrides, "modern", SRC)
