from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.units import parse_duration
from harness.scenario.workload import (
    SCHEMA_FILE,
    load_workload,
    load_workload_file,
    parse_rate,
    schema_text,
)

PHASE = {"name": "main", "shape": "constant", "rate": "10/s", "duration": "5s"}


def base(**extra: Any) -> dict[str, Any]:
    return {"journeys": {"browse": {}}, "phases": [PHASE], **extra}


def test_durations_and_rates_are_parsed() -> None:
    assert parse_duration("2m") == 120
    assert parse_duration("500ms") == 0.5
    assert parse_duration(3) == 3
    assert parse_rate("6000/m") == 100
    assert parse_rate("200/s") == 200


def test_negative_rate_names_file_and_field() -> None:
    with pytest.raises(ScenarioError) as err:
        load_workload(base(phases=[{**PHASE, "rate": "-5/s"}]), "shop.yaml", "workload")
    assert str(err.value) == "shop.yaml: workload.phases[0].rate: '-5/s': a rate cannot be negative"


def test_unknown_journey_is_named_with_the_choices() -> None:
    with pytest.raises(ScenarioError) as err:
        load_workload(base(journeys={"brwose": {}}), "shop.yaml")
    message = str(err.value)
    assert message.startswith("shop.yaml: journeys.brwose: unknown name; expected 'browse'")
    assert "'browse'" in message


def test_overlapping_phases_are_refused() -> None:
    second = {**PHASE, "name": "peak", "at": "3s"}
    with pytest.raises(
        ScenarioError,
        match=r"shop.yaml: .*'peak' starts at 3 s, before phase "
        r"'main' ends \(5 s\): phases overlap",
    ):
        load_workload(base(phases=[PHASE, second]), "shop.yaml")


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"phases\[0\].rtae: unknown key"):
        load_workload(base(phases=[{**PHASE, "rtae": 3}]), "shop.yaml")


def test_spike_longer_than_its_phase_is_refused() -> None:
    spike = {
        "name": "p",
        "shape": "spike",
        "base": 1,
        "peak": 9,
        "peak_at": "4s",
        "peak_for": "2s",
        "duration": "5s",
    }
    with pytest.raises(ScenarioError, match=r"phases\[0\]: .*longer than the phase"):
        load_workload(base(phases=[spike]), "shop.yaml")


def test_duplicate_phase_names_are_refused() -> None:
    with pytest.raises(ScenarioError, match="'main' is used twice"):
        load_workload(base(phases=[PHASE, PHASE]), "shop.yaml")


def test_locustfile_excludes_phases() -> None:
    lf = {"path": "lf.py", "users": 2, "duration": "5s"}
    with pytest.raises(ScenarioError, match="remove `phases`"):
        load_workload(base(locustfile=lf), "shop.yaml")


def test_phase_windows_follow_each_other_and_at() -> None:
    w = load_workload(base(phases=[PHASE, {**PHASE, "name": "b", "at": "7s"}]), "x")
    assert w.phase_windows() == [("main", 0.0, 5.0), ("b", 7.0, 12.0)]
    assert w.duration == 12.0


def test_workload_file_with_bad_yaml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("phases:\n  - name: [unclosed\n")
    with pytest.raises(ScenarioError, match=rf"{f}:\d+: not valid YAML"):
        load_workload_file(f)


def test_workload_file_resolves_the_locustfile_next_to_it(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("workload:\n  locustfile: {path: lf.py, users: 2, duration: 3s}\n")
    w = load_workload_file(f)
    assert w.locustfile is not None
    assert w.locustfile.path == tmp_path / "lf.py"


def test_schema_file_is_up_to_date() -> None:
    # Regenerate with: python -m harness.scenario.workload
    assert SCHEMA_FILE.read_text() == schema_text()
    assert json.loads(schema_text())["additionalProperties"] is False
