"""A scenario's `replayed_from:` block: typed, checked against its series phase, and every
problem one line with the file, the line and the key."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import ScenarioError
from harness.replay.formats import CLASSES
from harness.scenario.replayed import STATUS_CLASSES, replayed_night
from harness.scenario.scenario import load_scenario

BLOCK: dict[str, Any] = {
    "phase": "replay",
    "window": {"start": "2025-11-28T20:00:00Z", "end": "2025-11-28T20:00:20Z",
               "chosen": "the busiest 20s"},
    "scale": 3, "compress": 2, "requests_per_journey": 2.5,
    "files": 2, "lines": 1010, "skipped": 10, "requests": 1000,
    "status": {"2xx": 900, "3xx": 20, "4xx": 50, "5xx": 30},
}
SCENARIO: dict[str, Any] = {
    "name": "night", "description": "a replayed night",
    "architectures": ["legacy", "modern"],
    "workload": {
        "journeys": {"browse": {"weight": 1}},
        "phases": [
            {"name": "warm", "shape": "constant", "rate": 5, "duration": "4s"},
            {"name": "replay", "shape": "series", "rates": [10, 20, 30, 40, 30, 20, 10, 5, 5, 5]},
        ],
    },
    "replayed_from": BLOCK,
}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "night.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _error(tmp_path: Path, data: Any) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "\n" not in message
    return message


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_valid_block_is_read_into_typed_fields(tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path, SCENARIO)))
    block = scenario.replayed_from
    assert block is not None
    assert block.window.start == datetime(2025, 11, 28, 20, 0, tzinfo=UTC)
    assert block.window.seconds == 20
    assert (block.scale, block.compress, block.requests_per_journey) == (3.0, 2, 2.5)
    # a class the block leaves out counts 0; shares are of the classes' total
    assert block.status_counts() == {"2xx": 900, "3xx": 20, "4xx": 50, "5xx": 30, "other": 0}
    assert block.status_shares()["5xx"] == pytest.approx(0.03)


def test_the_record_holds_the_logs_requests_per_second_where_the_phase_runs(
        tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path, SCENARIO)))
    night = replayed_night(scenario.replayed_from, scenario.workload)
    assert night is not None
    assert night.start_s == 4.0  # after the warm-up phase
    assert night.end_s == 14.0
    # the series is journeys per second; the log's requests are x requests_per_journey
    assert night.requests_per_s[:4] == [25.0, 50.0, 75.0, 100.0]
    assert night.status_shares["2xx"] == pytest.approx(0.9)
    # it survives the trip through run.json
    assert type(night).model_validate_json(night.model_dump_json()) == night


def test_a_scenario_without_the_block_has_no_replay_source(tmp_path: Path) -> None:
    data = {k: v for k, v in SCENARIO.items() if k != "replayed_from"}
    scenario = load_scenario(str(_write(tmp_path, data)))
    assert scenario.replayed_from is None
    assert replayed_night(scenario.replayed_from, scenario.workload) is None


def test_the_status_classes_are_the_ones_replay_counts() -> None:
    assert STATUS_CLASSES == CLASSES


@pytest.mark.parametrize(("change", "key", "says"), [
    (lambda b: b["status"].update({"6xx": 1}), "replayed_from.status", "unknown name"),
    (lambda b: b.update({"scale": 0}), "replayed_from.scale", "greater than 0"),
    (lambda b: b.update({"client_ip": "10.0.0.1"}), "replayed_from.client_ip", "unknown key"),
    (lambda b: b["status"].update({"5xx": -1}), "replayed_from.status.5xx", "greater than or"),
    (lambda b: b["window"].update({"start": "yesterday"}), "replayed_from.window.start",
     "datetime"),
    (lambda b: b.pop("requests"), "replayed_from", "requests"),
])
def test_a_bad_field_names_the_file_line_and_key(
        tmp_path: Path, change: Any, key: str, says: str) -> None:
    data = copy.deepcopy(SCENARIO)
    change(data["replayed_from"])
    message = _error(tmp_path, data)
    path = tmp_path / "night.yaml"
    assert f"{path}:" in message
    assert f": {key}" in message
    assert says in message
    line = int(message.split(f"{path}:", 1)[1].split(":", 1)[0])
    assert line >= _line_of(path, "replayed_from:")


def test_a_window_that_ends_before_it_starts_is_an_error_at_its_line(tmp_path: Path) -> None:
    data = copy.deepcopy(SCENARIO)
    data["replayed_from"]["window"]["end"] = "2025-11-28T19:00:00Z"
    message = _error(tmp_path, data)
    path = tmp_path / "night.yaml"
    assert message.startswith(f"{path}:{_line_of(path, 'end:')}: replayed_from.window.end: ")
    assert "not after window.start" in message


@pytest.mark.parametrize(("phase", "says"), [
    ("warm", "phase 'warm' is a constant phase, not a series"),
    ("nope", "no phase named 'nope'"),
])
def test_the_phase_must_be_the_series_that_replays_the_log(
        tmp_path: Path, phase: str, says: str) -> None:
    data = copy.deepcopy(SCENARIO)
    data["replayed_from"]["phase"] = phase
    message = _error(tmp_path, data)
    path = tmp_path / "night.yaml"
    assert message.startswith(f"{path}:{_line_of(path, 'phase: ' + phase)}: "
                              "replayed_from.phase: ")
    assert says in message
    assert "(replay)" in message  # the series phases it could name


def test_a_block_of_another_replay_than_the_rate_file_is_an_error(tmp_path: Path) -> None:
    data = copy.deepcopy(SCENARIO)
    data["replayed_from"]["compress"] = 1  # 20 s of log would replay in 20 s, not 10
    message = _error(tmp_path, data)
    path = tmp_path / "night.yaml"
    assert message.startswith(f"{path}:{_line_of(path, 'window:')}: replayed_from.window: ")
    assert "replay in 20 s, but phase 'replay' lasts 10 s" in message
