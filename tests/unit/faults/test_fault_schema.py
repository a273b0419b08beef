"""The fault timeline schema: parsing, symbolic starts, validation against a topology."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.model.profile_file import load_profile
from harness.scenario.faults import (
    Start,
    Topology,
    check_timeline,
    load_timeline,
    parse_timeline,
)
from harness.scenario.units import parse_duration

SRC = "blackfriday.yaml"


@pytest.fixture
def modern() -> Topology:
    return Topology.from_profile(load_profile("modern"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("500ms", 0.5), ("1m30s", 90), ("2m", 120), (1.5, 1.5), ("0.25s", 0.25)],
)
def test_durations_parse_to_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["30", "abc", "30x", "", "-1s", True])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_phase_start_stays_symbolic_until_resolved() -> None:
    start = Start.parse("peak+10s")
    assert (start.phase, start.offset_s) == ("peak", 10)
    assert start.resolve({"peak": 45}) == 55
    assert start.resolve(lambda name: {"peak": 5}[name]) == 15
    assert Start.parse("ramp-500ms").resolve({"ramp": 2}) == pytest.approx(1.5)
    assert Start.parse("45s") == Start(45.0)


def test_a_timeline_parses_into_typed_faults(modern: Topology) -> None:
    faults = load_timeline(
        [
            {"type": "latency", "at": "peak+10s", "duration": "30s", "target": "app->db",
             "latency_ms": 200, "jitter_ms": 20},
            {"type": "kill", "at": "5s", "target": "app[*]"},
            {"type": "http_errors", "at": "1m", "percent": 50},
            {"type": "az_outage", "at": "70s", "target": "zone:b"},
        ],
        source=SRC, topology=modern, phases={"peak": 20}, run_s=120,
    )
    assert [f.type for f in faults] == ["latency", "kill", "http_errors", "az_outage"]
    assert faults[0].params()["latency_ms"] == 200
    assert faults[0].duration_s == 30
    assert modern.resolve(faults[1]) == ["app-1", "app-2", "app-3"]
    assert modern.resolve(faults[2]) == ["lb"]
    assert set(modern.resolve(faults[3])) == {"app-2", "db-reader"}


@pytest.mark.parametrize(
    ("fault", "where"),
    [
        ({"type": "latency", "at": "5s", "target": "app->dbx", "latency_ms": 1},
         "faults[0].target: 'app->dbx' is not an edge"),
        ({"type": "kill", "at": "5s", "target": "app-9"}, "faults[0].target: 'app-9'"),
        ({"type": "lat", "at": "5s"}, "faults[0].type: unknown fault type 'lat'"),
        ({"type": "latency", "at": "5s", "target": "app->db", "latency_ms": 1, "foo": 2},
         "faults[0].foo: unknown parameter"),
        ({"type": "latency", "at": "5s", "target": "app->db"},
         "faults[0].latency_ms: Field required"),
        ({"type": "kill", "at": "5s", "target": "app-1", "duration": "3s"},
         "kill is instantaneous"),
        ({"type": "latency", "at": "100s", "duration": "30s", "target": "app->db",
          "latency_ms": 1}, "faults[0].duration: ends at 130 s, after the end of the run"),
        ({"type": "pause", "at": "nope+10s", "target": "app-1"}, "faults[0].at: no phase 'nope'"),
        ({"type": "pause", "at": "130s", "target": "app-1"}, "is not before the end of the run"),
        ({"type": "http_errors", "at": "5s", "percent": 150}, "faults[0].percent"),
        ({"type": "az_outage", "at": "5s", "target": "zone:q"}, "zone:<name>"),
        ({"type": "drain", "at": "5s", "target": "db-writer"}, "drain applies to app-1"),
    ],
)
def test_a_bad_fault_names_file_and_field(
    modern: Topology, fault: dict[str, object], where: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_timeline([fault], source=SRC, topology=modern, phases={"peak": 20}, run_s=120)
    assert str(info.value).startswith(f"{SRC}: ")
    assert where in str(info.value)


def test_every_problem_is_reported_at_once(modern: Topology) -> None:
    faults = parse_timeline(
        [{"type": "kill", "at": "5s", "target": "nope"},
         {"type": "down", "at": "500s", "target": "app->db"}],
        source=SRC,
    )
    with pytest.raises(ScenarioError) as info:
        check_timeline(faults, source=SRC, topology=modern, run_s=60)
    assert "faults[0].target" in str(info.value)
    assert "faults[1].at" in str(info.value)


def test_legacy_has_no_reader_edge() -> None:
    legacy = Topology.from_profile(load_profile("legacy"))
    with pytest.raises(ScenarioError, match="app->db-reader"):
        load_timeline(
            [{"type": "down", "at": "1s", "target": "app->db-reader"}],
            source=SRC, topology=legacy,
        )
