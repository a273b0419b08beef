"""`harness init`: the starter files validate as written and nothing is overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.load.locustcheck import check_workload
from harness.scenario.scenario import load_scenario
from harness.scenario.starter import write_starter


def test_the_starter_scenario_validates_as_written(tmp_path: Path) -> None:
    (path,) = write_starter("my-event", tmp_path)
    scenario = load_scenario(str(path))
    assert scenario.name == "my-event"
    assert scenario.faults
    assert scenario.objectives.slos
    assert path.read_text().startswith("# my-event: ")


def test_the_starter_with_a_locustfile_validates_and_its_users_import(tmp_path: Path) -> None:
    path, locustfile = write_starter("byo", tmp_path, locustfile=True)
    scenario = load_scenario(str(path))
    assert scenario.workload.locustfile is not None
    assert scenario.workload.locustfile.path == locustfile.resolve()
    assert check_workload(scenario.workload, str(path)) == ["Shopper"]


def test_existing_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    (path,) = write_starter("my-event", tmp_path)
    path.write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter("my-event", tmp_path)
    assert path.read_text() == "mine"
    write_starter("my-event", tmp_path, force=True)
    assert path.read_text() != "mine"


def test_a_name_that_is_not_a_scenario_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a scenario name is letters"):
        write_starter("../evil", tmp_path)
