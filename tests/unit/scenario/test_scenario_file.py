"""Whole scenario files: the shipped ones are valid, broken ones give one line with file,
line and field (tests/unit/test_input_fuzzing.py mutates them at random)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from harness.cli import _pick_archs
from harness.errors import ScenarioError
from harness.scenario.labels import profile_of
from harness.scenario.scenario import SCENARIOS_DIR, available, load_scenario, on_architectures

SMOKE: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())


@pytest.mark.parametrize("name", available())
def test_shipped_scenarios_are_valid_and_say_what_they_rehearse(name: str) -> None:
    path = SCENARIOS_DIR / f"{name}.yaml"
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert path.read_text().startswith(f"# {name}: ")  # the comment header
    # both eras, always; a variant (legacy#prescaled) only beside the plain run it varies
    assert {profile_of(a) for a in scenario.architectures} == {"legacy", "modern"}
    assert {"legacy", "modern"} <= set(scenario.architectures)


def test_the_required_scenarios_ship() -> None:
    assert {"smoke", "blackfriday", "ticket-rush", "db-failover", "az-outage"} <= set(available())


def test_scenario_seed_drives_the_workload() -> None:
    assert load_scenario("smoke").workload.seed == SMOKE["seed"]


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _error(tmp_path: Path, data: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(_write(tmp_path, data)))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_fault_on_a_component_the_stack_lacks_names_file_line_and_field(tmp_path: Path) -> None:
    data = copy.deepcopy(SMOKE)
    data["faults"][0]["target"] = "app-9"
    message = _error(tmp_path, data)
    path = tmp_path / "s.yaml"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "app-9" in text)
    assert message.startswith(f"{path}:{line}: faults[0].target: 'app-9' is not a component")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    data = {**SMOKE, "fautls": []}
    assert "fautls: unknown key" in _error(tmp_path, data)


def test_an_slo_naming_a_missing_fault(tmp_path: Path) -> None:
    data = copy.deepcopy(SMOKE)
    data["slos"].append({"name": "x", "metric": "recovery_s", "fault": "nope", "threshold": "5s"})
    assert "slos[4].fault: no fault named 'nope'" in _error(tmp_path, data)


def test_a_fault_ending_after_the_run(tmp_path: Path) -> None:
    data = copy.deepcopy(SMOKE)
    data["faults"][1]["duration"] = "10m"
    assert "faults[1].duration: ends at" in _error(tmp_path, data)


def test_an_unknown_architecture(tmp_path: Path) -> None:
    data = {**SMOKE, "architectures": ["serverless"]}
    assert "architectures[0]" in _error(tmp_path, data)


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nworkload: {phases: [\n")
    with pytest.raises(ScenarioError, match=rf"^{path}:\d+: not valid YAML"):
        load_scenario(str(path))


def test_validate_command_exits_2_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, {**SMOKE, "seed": "many"})
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"harness: error: {path}:")


def test_a_relative_locustfile_is_found_beside_the_scenario_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "locustfile.py").write_text("from locust import HttpUser\n")
    data = {"name": "byo", "description": "d", "workload": {"locustfile": {
        "path": "locustfile.py", "users": 40, "spawn_rate": 20, "duration": "20s"}}}
    (folder / "byo.yaml").write_text(yaml.safe_dump(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = load_scenario("../team/byo.yaml")
    assert scenario.workload.locustfile is not None
    assert scenario.workload.locustfile.path == (folder / "locustfile.py").resolve()


def test_a_missing_locustfile_names_the_scenario_line_and_the_folder(tmp_path: Path) -> None:
    data = {"name": "byo", "description": "d", "workload": {"locustfile": {
        "path": "nope.py", "users": 1, "duration": "2s"}}}
    message = _error(tmp_path, data)
    assert message.startswith(f"{tmp_path / 's.yaml'}:")
    assert f"workload.locustfile.path: {tmp_path / 'nope.py'} does not exist" in message


def test_a_scenario_may_name_any_stack_profile(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SMOKE, "architectures": ["modern", "modern-no-proxy"]}))
    assert load_scenario(str(path)).architectures == ["modern", "modern-no-proxy"]


def test_arch_option_takes_a_comma_list_of_profiles() -> None:
    assert _pick_archs("modern,modern-no-proxy", ["legacy", "modern"]) == [
        "modern", "modern-no-proxy"]
    assert _pick_archs("both", ["modern"]) == ["legacy", "modern"]
    assert _pick_archs("scenario", ["legacy"]) == ["legacy"]
    assert _pick_archs("modern,modern", ["modern"]) == ["modern", "modern#2"]
    for bad in ("modern,serverless", ","):
        with pytest.raises(typer.BadParameter, match="name stack profiles, comma-separated"):
            _pick_archs(bad, ["legacy", "modern"])
    scenario = on_architectures(load_scenario("db-failover"), ["modern", "modern-no-proxy"])
    assert scenario.architectures == ["modern", "modern-no-proxy"]
