"""`harness capacity` end to end on the real modern stack, with a tiny step budget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.payments_example import with_journeys
from tests.support.processes import processes_under

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")
#: three 2-second steps (after 1 s of warm-up each) per search: a minute with the stack
TINY = ["--start", "100/s", "--step", "2s", "--warmup", "1s", "--max-steps", "3",
        "--no-confirm"]


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    return {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}


def test_capacity_modern_reports_a_positive_capacity(env: dict[str, str], tmp_path: Path
                                                     ) -> None:
    report_file = tmp_path / "capacity.json"
    started = time.monotonic()
    result = subprocess.run(
        [HARNESS, "capacity", "modern", *TINY, "--json", str(report_file),
         "--out", str(tmp_path / "steps")],
        env=env, text=True, capture_output=True, timeout=150, check=False,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    assert report["status"] == "complete"
    assert report["capacity"]["enforced"] is True
    member, stack = report["member"], report["stack"]
    assert member["capacity"] > 0
    assert stack["capacity"] >= member["capacity"]  # three tasks take at least what one takes
    for search in (member, stack):
        assert 1 <= len(search["steps"]) <= 3
        step = search["steps"][0]
        assert step["p99_ms"] is not None
        assert step["generator_share"] is not None  # the generator's own CPU, every step
        passed = [s["rate"] for s in search["steps"] if s["verdict"] == "pass"]
        assert search["capacity"] in passed
    assert "one task takes" in result.stdout
    assert "p99 ms" in result.stdout  # the latency curve
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []
    assert took < 90, f"took {took:.0f} s"


def test_capacity_of_a_scenario_s_variant_runs_the_team_s_app_on_its_own_data(
    env: dict[str, str], tmp_path: Path,
) -> None:
    """The payments example's variant: its own schema, seed and queue set up as `harness
    run` does (the app's queue variable would fail its start otherwise)."""
    report_file = tmp_path / "capacity.json"
    # an absolute path: once taken for an endpoint path
    mix = str(with_journeys(tmp_path))
    result = subprocess.run(
        [HARNESS, "capacity", "modern#payments", "--mix", mix, "--scope", "stack",
         "--start", "20/s", "--step", "2s", "--warmup", "1s", "--max-steps", "1",
         "--no-confirm", "--json", str(report_file), "--out", str(tmp_path / "steps")],
        env=env, text=True, capture_output=True, timeout=150, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    assert report["status"] == "complete"
    assert report["arch"] == "modern#payments"
    assert report["stack"]["capacity"] > 0
    assert report["own_service"]["queues"] == ["payment-events"]
    # the team's service answered: it says so when it starts, on every task
    logs = "".join(p.read_text(errors="replace")
                   for p in (tmp_path / "steps" / "logs").rglob("app-*.log"))
    assert "payments: listening on" in logs
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []


def test_ctrl_c_stops_the_stack(env: dict[str, str], tmp_path: Path) -> None:
    report_file = tmp_path / "capacity.json"
    proc = subprocess.Popen(
        [HARNESS, "capacity", "modern", *TINY, "--json", str(report_file),
         "--out", str(tmp_path / "steps")],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    with proc.stdout:
        for line in proc.stdout:
            if "measuring" in line:
                break
        time.sleep(2)  # in the middle of the first step
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 2, rest
    assert "interrupted" in rest
    assert json.loads(report_file.read_text())["status"] == "interrupted"
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []
