"""A locustfile's LoadTestShape: followed on a dry clock for `harness validate`, and the
rules that tie it to the scenario (no `users` beside it, no duration past its end)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import LoadError, ScenarioError
from harness.load.locustcheck import Shape, Stage, follow_shape, inspect, inspect_workload
from harness.scenario.workload import load_workload

STAGED = """\
from locust import HttpUser, LoadTestShape, constant, task


class Reader(HttpUser):
    wait_time = constant(1)

    @task
    def home(self):
        self.client.get("/")


class Stages(LoadTestShape):
    stages = [(5, 2, 1), (12, 10, 5)]

    def tick(self):
        run_time = self.get_run_time()
        for end, users, spawn_rate in self.stages:
            if run_time < end:
                return users, spawn_rate
        return None
"""


class _Staged:
    """A shape as Locust calls it: tick() reads get_run_time()."""

    def get_run_time(self) -> float:
        raise AssertionError("the dry run replaces the clock")

    def tick(self) -> Any:
        t = self.get_run_time()
        return (2, 1.0) if t < 5 else (10, 5.0) if t < 12 else None


def test_a_staged_shape_is_followed_second_by_second_to_its_end() -> None:
    report = follow_shape(_Staged(), 60)
    assert report["stages"] == [[0.0, 2, 1.0, None], [5.0, 10, 5.0, None]]
    assert report["end_s"] == 12.0
    assert report["unknown"] == ""


def test_a_shape_still_running_at_the_end_of_the_dry_run_has_no_end() -> None:
    report = follow_shape(_Staged(), 8)
    assert report["end_s"] is None
    assert report["followed_s"] == 8.0
    text = Shape("Staged", [Stage(*row) for row in report["stages"]],
                 followed_s=report["followed_s"]).describe()
    assert text == ("shape Staged: 0 s: 2 users (spawn 1/s); 5 s: 10 users (spawn 5/s); "
                    "still running at 8 s: the load stops it at the duration")


def test_a_tick_naming_user_classes_shows_their_names() -> None:
    class Buyer:
        pass

    class OnlyBuyers:
        def tick(self) -> Any:
            return (3, 1.0, [Buyer]) if self.get_run_time() < 2 else None

        def get_run_time(self) -> float:
            return 0.0

    report = follow_shape(OnlyBuyers(), 10)
    assert report["stages"] == [[0.0, 3, 1.0, ["Buyer"]]]
    assert Stage(*report["stages"][0]).describe() == "0 s: 3 users of Buyer (spawn 1/s)"


def test_a_shape_that_reads_the_live_run_has_unknown_stages() -> None:
    class ByUserCount:
        runner = None

        def tick(self) -> Any:
            return self.runner.user_count, 1  # type: ignore[attr-defined]

        def get_run_time(self) -> float:
            return 0.0

    report = follow_shape(ByUserCount(), 10)
    assert report["stages"] == []
    assert report["unknown"].startswith("its tick() raised AttributeError")
    assert "stages unknown" in Shape("ByUserCount", unknown=report["unknown"]).describe()


def test_a_tick_returning_something_else_is_named() -> None:
    class Wrong:
        def tick(self) -> Any:
            return 5

        def get_run_time(self) -> float:
            return 0.0

    assert follow_shape(Wrong(), 3)["unknown"].startswith("its tick() at 0 s returned 5")


def _scenario(tmp_path: Path, locustfile: dict[str, Any], text: str = STAGED) -> tuple[Any, str]:
    (tmp_path / "locustfile.py").write_text(text)
    scenario = tmp_path / "byo.yaml"
    lines = "".join(f"    {k}: {v}\n" for k, v in locustfile.items())
    scenario.write_text(f"workload:\n  locustfile:\n    path: locustfile.py\n{lines}")
    workload = load_workload(
        {"locustfile": {**locustfile, "path": str(tmp_path / "locustfile.py")}}, str(scenario))
    return workload, str(scenario)


def test_validation_reports_the_shapes_stages(tmp_path: Path) -> None:
    workload, source = _scenario(tmp_path, {"duration": "12s"})
    info = inspect_workload(workload, source)
    assert info is not None
    assert info.shape is not None
    assert info.users == ["Reader"]
    assert info.shape.stages == [Stage(0.0, 2, 1.0), Stage(5.0, 10, 5.0)]
    assert info.shape.end_s == 12.0


def test_users_beside_a_shape_is_an_error_naming_the_field_and_line(tmp_path: Path) -> None:
    workload, source = _scenario(tmp_path, {"users": 5, "duration": "12s"})
    with pytest.raises(ScenarioError) as info:
        inspect_workload(workload, source)
    assert str(info.value).startswith(
        f"{source}:4: workload.locustfile.users: {tmp_path / 'locustfile.py'} has a "
        "LoadTestShape (Stages) that sets the users and spawn rate over time")
    assert str(info.value).endswith("remove users (or the shape class)")


def test_spawn_rate_beside_a_shape_is_an_error_too(tmp_path: Path) -> None:
    workload, source = _scenario(tmp_path, {"spawn_rate": 5, "duration": "12s"})
    with pytest.raises(ScenarioError, match=r"workload\.locustfile\.spawn_rate: .* remove "
                                            r"spawn_rate"):
        inspect_workload(workload, source)


def test_a_duration_past_the_shapes_end_is_an_error_with_the_end(tmp_path: Path) -> None:
    workload, source = _scenario(tmp_path, {"duration": "30s"})
    with pytest.raises(ScenarioError) as info:
        inspect_workload(workload, source)
    assert str(info.value).startswith(f"{source}:4: workload.locustfile.duration: 30 s, but "
                                      "the shape Stages in")
    assert "ends the load at 12 s (its tick() returns None); set duration: 12s" in str(
        info.value)


def test_a_duration_inside_the_shape_caps_it(tmp_path: Path) -> None:
    workload, source = _scenario(tmp_path, {"duration": "8s"})
    info = inspect_workload(workload, source)
    assert info is not None
    assert info.shape is not None
    assert info.shape.end_s is None  # followed one second past the duration only
    assert info.shape.followed_s == 9.0


def test_no_users_and_no_shape_is_an_error(tmp_path: Path) -> None:
    plain = STAGED.split("class Stages")[0]
    workload, source = _scenario(tmp_path, {"duration": "8s"}, text=plain)
    with pytest.raises(ScenarioError, match=r"workload\.locustfile: no `users`"):
        inspect_workload(workload, source)


def test_two_shapes_are_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(STAGED + "\n\nclass Other(Stages):\n    pass\n")
    with pytest.raises(LoadError, match=r"defines 2 LoadTestShape classes \(Other, Stages\)"):
        inspect(path)


def test_validate_prints_the_stages(tmp_path: Path) -> None:
    (tmp_path / "locustfile.py").write_text(STAGED)
    scenario = tmp_path / "byo.yaml"
    scenario.write_text(
        "name: byo\ndescription: a shape\narchitectures: [modern]\nworkload:\n"
        "  locustfile: {path: locustfile.py, duration: 12s}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(scenario)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ("locustfile: shape Stages: 0 s: 2 users (spawn 1/s); 5 s: 10 users (spawn 5/s); "
            "ends the load at 12 s") in result.stdout
