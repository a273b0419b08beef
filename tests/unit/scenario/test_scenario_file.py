"""Whole scenario files: the shipped ones are valid, broken ones give one line with file,
line and field, and no input whatsoever gives a traceback."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# -- fuzzing: any mutation of a valid scenario is valid or a ScenarioError ------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["5s", "-1s", "10/s", "0/s", "1%", "peak+3s", "app-1",
                                           "app->db", "zone:b", "lb", "kill", "latency"]),
)
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=8), inner, max_size=3), max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


PATHS = _paths(SMOKE)[1:]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(PATHS), _values, st.booleans()), min_size=1,
                max_size=3))
def test_fuzzed_scenarios_are_valid_or_one_clear_error(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[tuple[Any, ...], Any, bool]]
) -> None:
    data = copy.deepcopy(SMOKE)
    for path, value, delete in edits:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    target = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    target.write_text(yaml.safe_dump(data))
    problem = ""
    try:
        load_scenario(str(target))
    except ScenarioError as exc:
        problem = str(exc)
    if problem:
        assert problem.startswith(str(target))
        assert "\n" not in problem


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
