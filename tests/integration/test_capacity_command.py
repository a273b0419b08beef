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
