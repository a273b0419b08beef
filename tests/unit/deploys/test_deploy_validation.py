"""A scenario's deploys are checked against each architecture before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.deploys.rolling import with_release
from harness.errors import ScenarioError
from harness.scenario.faults import parse_timeline
from harness.scenario.scenario import load_scenario

_SCENARIO = {
    "name": "t", "description": "deploy checks", "architectures": ["legacy", "modern"],
    "time_scale": 0.05,
    "workload": {"journeys": {"browse": {"weight": 1}}, "phases": [
        {"name": "steady", "shape": "constant", "rate": "5/s", "duration": "20s"}]},
}


def _write(tmp_path: Path, deploy: dict[str, object]) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**_SCENARIO, "faults": [
        {"type": "deploy", "at": "steady+2s", **deploy}]}))
    return path


def test_a_rollback_alarm_modern_lacks_names_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, {"version": "bad-errors", "rollback_alarm": "clb-backend-5xx"})
    with pytest.raises(ScenarioError, match=r"s\.yaml:\d+: faults\[0\]\.rollback_alarm: modern "
                                            r"has no alarm 'clb-backend-5xx'"):
        load_scenario(str(path))


def test_a_rollback_alarm_of_modern_loads_and_legacy_ignores_it(tmp_path: Path) -> None:
    path = _write(tmp_path, {"version": "bad-errors", "config": "Canary10Percent5Minutes",
                             "rollback_alarm": "alb-target-5xx"})
    (deploy,) = load_scenario(str(path)).faults
    assert deploy.params()["rollback_alarm"] == "alb-target-5xx"


def test_a_deploy_with_a_duration_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"faults\[0\].*a deploy lasts until it is done"):
        parse_timeline([{"type": "deploy", "at": "1s", "version": "good", "duration": "5s"}],
                       source="s.yaml")


def test_an_unknown_config_is_refused_with_the_choices() -> None:
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.config: .*AllAtOnce"):
        parse_timeline([{"type": "deploy", "at": "1s", "version": "good",
                         "config": "Canary50Percent"}], source="s.yaml")


def test_the_release_replaces_an_earlier_deploys_pool_lines() -> None:
    conf = "[www]\nlisten = x.sock\nclear_env = no\n"
    once = with_release(conf, {"APP_VERSION": "bad-errors", "APP_VERSION_ERROR_PERCENT": "5"})
    twice = with_release(once, {"APP_VERSION": "good"})
    assert twice.startswith(conf)
    assert "env[APP_VERSION] = good" in twice
    assert "bad-errors" not in twice
    assert "APP_VERSION_ERROR_PERCENT" not in twice
