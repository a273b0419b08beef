"""The SLO part of the scenario: thresholds parsed per metric, one-line errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.slo import SLO, check_phases, load_objectives


def _one(**fields: Any) -> SLO:
    return load_objectives({"slos": [{"name": "x", **fields}]}, "s.yaml").slos[0]


@pytest.mark.parametrize(
    ("metric", "threshold", "limit"),
    [
        ("p99", "300ms", 300.0),
        ("p95", "1.5s", 1500.0),
        ("max", 2, 2000.0),
        ("error_rate", "1%", 0.01),
        ("error_rate", 0.02, 0.02),
        ("achieved_ratio", 0.98, 0.98),
        ("recovery_s", "30s", 30.0),
        ("recovery_s", "2m", 120.0),
    ],
)
def test_threshold_is_parsed_into_the_metric_unit(metric: str, threshold: Any, limit: float
                                                  ) -> None:
    assert _one(metric=metric, threshold=threshold).limit == pytest.approx(limit)


def test_defaults() -> None:
    s = _one(metric="p99", threshold="1s")
    assert (s.endpoint, s.phase, s.window, s.op, s.arch) == ("*", None, None, "<=", "both")


def test_window_is_a_duration() -> None:
    assert _one(metric="error_rate", threshold="1%", window="10s").window == 10.0


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"metric": "p99", "threshold": "1%"}, "threshold"),
        ({"metric": "error_rate", "threshold": "300ms"}, "threshold"),
        ({"metric": "error_rate", "threshold": "150%"}, "between 0 and 1"),
        ({"metric": "p98", "threshold": "1s"}, "slos[0].metric"),
        ({"metric": "p99", "threshold": "1s", "op": "=="}, "slos[0].op"),
        ({"metric": "p99", "threshold": "1s", "windw": "10s"}, "slos[0].windw: unknown key"),
        ({"metric": "recovery_s", "threshold": "1s", "window": "10s"}, "window"),
        ({"metric": "p99", "threshold": "1s", "fault": "kill"}, "fault"),
        ({"metric": "p99", "threshold": "1s", "arch": "cloud"}, "slos[0].arch"),
        ({"metric": "p99", "threshold": "1s", "dropped": "exclude"}, "only error_rate SLOs"),
        ({"metric": "error_rate", "threshold": "1%", "dropped": "ignore"}, "slos[0].dropped"),
    ],
)
def test_errors_are_one_line_and_name_the_field(fields: dict[str, Any], needle: str) -> None:
    with pytest.raises(ScenarioError) as info:
        _one(**fields)
    message = str(info.value)
    assert message.startswith("s.yaml: slos[0]")
    assert needle in message
    assert "\n" not in message


def test_dropped_arrivals_count_unless_excluded() -> None:
    assert _one(metric="error_rate", threshold="1%").count_dropped
    assert not _one(metric="error_rate", threshold="1%", dropped="exclude").count_dropped
    assert load_objectives({"recovery": {}}, "s").recovery.count_dropped
    assert not load_objectives({"recovery": {"dropped": "exclude"}}, "s").recovery.count_dropped
    with pytest.raises(ScenarioError, match=r"recovery\.dropped"):
        load_objectives({"recovery": {"dropped": "sometimes"}}, "s")


def test_names_must_be_unique() -> None:
    with pytest.raises(ScenarioError, match="used twice"):
        load_objectives({"slos": [{"name": "a", "metric": "p99", "threshold": "1s"}] * 2}, "s")


def test_unknown_phase_is_named() -> None:
    objectives = load_objectives(
        {"slos": [{"name": "a", "metric": "p99", "threshold": "1s", "phase": "peek"}]}, "s.yaml"
    )
    with pytest.raises(ScenarioError, match=r"slos\[0\]\.phase: unknown phase 'peek'"):
        check_phases(objectives, ["warmup", "peak"], "s.yaml")


def test_recovery_parameters() -> None:
    raw = {"baseline": "20s", "consecutive": 3, "error_rate_margin": "2%", "p95_margin": "80ms"}
    r = load_objectives({"recovery": raw}, "s").recovery
    assert (r.baseline, r.consecutive, r.error_rate_margin, r.p95_margin) == (20, 3, 0.02, 0.08)
    with pytest.raises(ScenarioError, match=r"recovery\.consecutive"):
        load_objectives({"recovery": {"consecutive": 0}}, "s")


def test_holds_and_worse_follow_the_operator() -> None:
    at_most = _one(metric="p99", threshold="100ms")
    at_least = _one(metric="achieved_ratio", op=">=", threshold=0.9)
    assert at_most.holds(100)
    assert not at_most.holds(101)
    assert at_least.holds(0.9)
    assert not at_least.holds(0.89)
    assert at_most.worse(1, 2) == 2
    assert at_least.worse(1, 2) == 1
