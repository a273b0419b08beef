"""The run's time scale: one value (Settings.time_scale), one check, wherever it is set.

--time-scale over HARNESS_TIME_SCALE over the scenario's `time_scale:` over 1.0; a bad
value from any of them is the same message from harness.model.cited.check_time_scale,
naming the flag, the variable or the file and line it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness import cli
from harness.errors import ConfigError, HarnessError, ScenarioError
from harness.scenario.scenario import load_scenario
from harness.settings import Settings, resolve_time_scale

OUT_OF_RANGE = "time scale 0 is out of range; use 0.001 to 10 (1 = AWS timings)"
SCENARIO = {
    "name": "t", "description": "time scale checks", "architectures": ["legacy"],
    "time_scale": 0.05,
    "workload": {"journeys": {"browse": {"weight": 1}}, "phases": [
        {"name": "steady", "shape": "constant", "rate": "5/s", "duration": "20s"}]},
}
ENV = {"HARNESS_STATE_DIR": "/tmp/hs-unit"}


def _scenario(tmp_path: Path, time_scale: object) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, "time_scale": time_scale}, sort_keys=False))
    return path


def test_the_flag_wins_over_the_variable_which_wins_over_the_scenario() -> None:
    env = {**ENV, "HARNESS_TIME_SCALE": "0.5"}
    assert Settings.from_env(env, time_scale=0.2, scenario_time_scale=0.05).time_scale == 0.2
    assert Settings.from_env(env, scenario_time_scale=0.05).time_scale == 0.5
    assert Settings.from_env(ENV, scenario_time_scale=0.05).time_scale == 0.05
    assert Settings.from_env(ENV).time_scale == 1.0


def test_a_bad_variable_is_one_message_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**ENV, "HARNESS_TIME_SCALE": "0"})
    assert str(caught.value) == f"HARNESS_TIME_SCALE='0': {OUT_OF_RANGE}"


def test_a_bad_flag_is_one_message_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(ENV, time_scale=0.0)
    assert str(caught.value) == f"--time-scale 0: {OUT_OF_RANGE}"


def test_a_bad_scenario_time_scale_is_the_same_message_with_its_file_and_line(
        tmp_path: Path) -> None:
    path = _scenario(tmp_path, 0)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    # name, description, architectures and its one item, then time_scale on line 5
    assert str(caught.value) == f"{path}:5: time_scale: {OUT_OF_RANGE}"


def test_the_scenarios_own_time_scale_is_the_runs_unless_overridden(tmp_path: Path) -> None:
    scenario = load_scenario(str(_scenario(tmp_path, 0.05)))
    assert resolve_time_scale({}, scenario=scenario.time_scale) == 0.05
    assert resolve_time_scale({}, flag=1.0, scenario=scenario.time_scale) == 1.0


@pytest.mark.parametrize("value", ["0.0009", "10.5", "nan"])
def test_every_source_refuses_what_the_others_refuse(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is out of range; use 0\.001 to 10"):
        resolve_time_scale({"HARNESS_TIME_SCALE": value})
    with pytest.raises(ConfigError, match=r"is out of range; use 0\.001 to 10"):
        resolve_time_scale({}, flag=float(value))
    with pytest.raises(ScenarioError, match=r"time_scale: time scale \S+ is out of range"):
        load_scenario(str(_scenario(tmp_path, float(value))))


@pytest.fixture
def rehearsed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`harness run`'s options as it would hand them to the rehearsal (which does not run)."""
    calls: list[Any] = []

    def rehearse(_scenario: Any, options: Any, *_args: Any, **_kwargs: Any) -> Any:
        calls.append(options)
        raise _Stopped("the run would start here")

    monkeypatch.setattr(cli, "rehearse", rehearse)
    monkeypatch.setattr(cli.doctor_mod, "require", lambda *_a: None)
    monkeypatch.setattr(cli.cgroups, "probe", lambda: (True, "cgroup v2"))
    return calls


class _Stopped(HarnessError):
    """Stands in for the rehearsal."""


def _run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli.app, ["run", "smoke", "--ci", *args],
                              env={**ENV, "HARNESS_TIME_SCALE": None, **(env or {})})


def test_run_hands_the_rehearsal_the_one_resolved_time_scale(rehearsed: list[Any]) -> None:
    _run()  # smoke.yaml: time_scale 0.05
    _run(env={"HARNESS_TIME_SCALE": "0.5"})
    _run("--time-scale", "0.2", env={"HARNESS_TIME_SCALE": "0.5"})
    assert [o.settings.time_scale for o in rehearsed] == [0.05, 0.5, 0.2]


def test_run_refuses_a_bad_flag_or_variable_before_anything_starts(
        rehearsed: list[Any]) -> None:
    flag = _run("--time-scale", "0")
    variable = _run(env={"HARNESS_TIME_SCALE": "20"})
    assert isinstance(flag.exception, ConfigError)
    assert str(flag.exception) == f"--time-scale 0: {OUT_OF_RANGE}"
    assert isinstance(variable.exception, ConfigError)
    assert str(variable.exception).startswith("HARNESS_TIME_SCALE='20': time scale 20 is out")
    assert flag.exception.exit_code == variable.exception.exit_code == 2
    assert not rehearsed
