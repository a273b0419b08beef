"""A generator that never says done is stopped, and the load is incomplete, not endless."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.load import runner
from harness.load.command import build_workload


def _silent_generator(start_at: float) -> subprocess.Popen[str]:
    """Says it started at `start_at`, then hangs (as a master waiting on a lost worker)."""
    started = json.dumps({"type": "started", "start_at": start_at})
    code = f"print({runner.PREFIX + started!r}, flush=True); import time; time.sleep(120)"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_generator_past_its_end_is_stopped_and_the_load_is_incomplete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FINISH_GRACE_S", 0.5)
    workload = build_workload(rate="10/s", duration="1s", phases_file=None, seed=1,
                              concurrency=5, timeout="1s")
    proc = _silent_generator(time.time())
    collector = runner._Collector(tmp_path, None)
    took = time.monotonic()
    try:
        complete = collector.follow(proc, workload, stop=None)
    finally:
        proc.kill()
        proc.wait()
        collector.close()
        assert proc.stdout is not None
        proc.stdout.close()
    assert not complete
    assert time.monotonic() - took < 60  # not the generator's 120 s
    (problem,) = collector.problems
    assert "had not finished" in problem
    assert "it was stopped" in problem
    assert proc.returncode is not None


def test_a_generator_within_its_time_is_left_alone(tmp_path: Path) -> None:
    workload = build_workload(rate="10/s", duration="60s", phases_file=None, seed=1,
                              concurrency=5, timeout="1s")
    collector = runner._Collector(tmp_path, None)
    assert collector._overdue(workload) == ""  # not started yet
    collector.start_at = time.time() - 60
    assert collector._overdue(workload) == ""  # its last requests may still be in flight
    collector.start_at = time.time() - 60 - 2 - runner.FINISH_GRACE_S - 1
    assert "had not finished" in collector._overdue(workload)
