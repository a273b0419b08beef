"""A new user's first hour: their own locustfile from any folder, bad input stopped before
a stack starts, a live view worth watching, and `harness init`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.cli_process import told
from tests.support.processes import processes_under

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")
#: anything but newline: no colour codes, no cursor movement, no carriage return
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

DOCS_STYLE = """\
from locust import HttpUser, task, between


class QuickstartUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def hello_world(self):
        self.client.get("/products")

    @task(3)
    def view_items(self):
        self.client.get("/products/1")
"""


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    return {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}


def _harness(env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 300
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HARNESS, *args], env=env, cwd=cwd, text=True, capture_output=True,
                          timeout=timeout, check=False)


def _team_folder(tmp_path: Path, locustfile: str = DOCS_STYLE, duration: str = "6s") -> Path:
    team = tmp_path / "team"
    team.mkdir()
    (team / "locustfile.py").write_text(locustfile)
    (team / "byo.yaml").write_text(yaml.safe_dump({
        "name": "byo", "description": "a team's own locustfile", "architectures": ["modern"],
        "time_scale": 0.05, "drain": "1s",
        "workload": {"locustfile": {"path": "locustfile.py", "users": 40, "spawn_rate": 20,
                                    "duration": duration}},
    }))
    return team / "byo.yaml"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_documentation_style_locustfile_runs_from_another_directory(
    env: dict[str, str], tmp_path: Path, workers: int
) -> None:
    scenario = _team_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _harness(env, "run", str(scenario), "--ci", "--workers", str(workers),
                      "--out", str(tmp_path / "out"), cwd=elsewhere)
    assert result.returncode == 0, told(result)
    (run,) = (tmp_path / "out").iterdir()
    (modern,) = json.loads((run / "run.json").read_text())["architectures"]
    assert modern["valid"], modern["invalid_reasons"]
    assert modern["totals"]["requests"] > 40
    assert set(modern["totals"]["errors"].values()) == {0}


def test_a_broken_locustfile_is_exit_2_with_its_line_before_any_stack_starts(
    env: dict[str, str], tmp_path: Path
) -> None:
    lines = DOCS_STYLE.splitlines()
    lines[2] = "class Broken(:"
    scenario = _team_folder(tmp_path, "\n".join(lines) + "\n")
    validate = _harness(env, "validate", str(scenario), cwd=tmp_path)
    assert validate.returncode == 2, validate.stdout + validate.stderr
    assert "locustfile.py:3: the locustfile does not import: SyntaxError" in validate.stderr
    started = time.monotonic()
    run = _harness(env, "run", str(scenario), "--ci", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "locustfile.py:3" in run.stderr
    assert "starting the stack" not in run.stdout + run.stderr
    assert not (tmp_path / "out").exists()
    assert time.monotonic() - started < 30  # no stack was started and torn down
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []


def _under_a_terminal(args: list[str], env: dict[str, str], timeout: float = 300
                      ) -> tuple[int, str]:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        args, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"},
    )
    os.close(terminal)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        out += chunk
    os.close(controller)
    return proc.wait(timeout=30), out.decode(errors="replace")


def test_the_live_view_shows_total_and_remaining_time_and_an_active_fault(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, screen = _under_a_terminal(
        [HARNESS, "run", "smoke", "--arch", "modern", "--out", str(tmp_path)], env)
    # 3 (the generator fell behind) happens on a busy machine; the view is what is tested
    assert code in (0, 1, 3), screen[-3000:]
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)  # colours and cursor moves
    assert re.search(r"elapsed \d+:\d\d · total ~\d+:\d\d · ~\d+:\d\d left", text), text[-3000:]
    assert "modern (1 of 1) · load, phase steady" in text
    # smoke's slow-db (150 ms on app->db for 3 s) while it is active, with its countdown
    assert re.search(r"faults: slow-db on app->db, 0:0\d left", text), text[-3000:]
    assert "ECS: " in text  # the orchestrator replacing the killed task


def test_ci_output_is_plain_lines_without_control_characters(
    env: dict[str, str], tmp_path: Path
) -> None:
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml")
                          .read_text())
    data["architectures"] = ["modern"]
    data["workload"]["phases"] = [
        {"name": "warm", "shape": "constant", "rate": "10/s", "duration": "4s"},
        {"name": "steady", "shape": "constant", "rate": "10/s", "duration": "8s"},
    ]
    data["faults"] = [{"name": "slow-db", "type": "latency", "target": "app->db",
                       "latency_ms": 50, "at": "steady+1s", "duration": "6s"}]
    data["slos"] = [s for s in data["slos"] if s["metric"] != "recovery_s"]
    scenario = tmp_path / "short.yaml"
    scenario.write_text(yaml.safe_dump(data))
    result = _harness(env, "run", str(scenario), "--ci", "--out", str(tmp_path / "out"))
    # 3 (the generator fell behind) happens on a busy machine; the output is what is tested
    assert result.returncode in (0, 1, 3), told(result)
    output = result.stdout + result.stderr
    assert not CONTROL.search(output), repr(CONTROL.search(output))
    status = [line for line in result.stdout.splitlines() if "% " in line and "elapsed" in line]
    assert status, result.stdout
    assert all(line.isascii() for line in status)
    assert "modern: " in result.stdout
    assert "fault slow-db (latency) applied on app->db" in result.stdout


def test_harness_init_writes_a_scenario_that_validates_and_runs(
    env: dict[str, str], tmp_path: Path
) -> None:
    made = _harness(env, "init", "our-event", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    scenario = tmp_path / "our-event.yaml"
    assert _harness(env, "validate", str(scenario)).returncode == 0
    result = _harness(env, "run", str(scenario), "--arch", "modern", "--ci",
                      "--out", str(tmp_path / "out"))
    assert result.returncode in (0, 1), told(result)
    (run,) = (tmp_path / "out").iterdir()
    (modern,) = json.loads((run / "run.json").read_text())["architectures"]
    assert modern["valid"], modern["invalid_reasons"]
    assert modern["slos"]
