"""A results folder that disappears or fills up mid-run: one clear error, nothing left running.

`harness run` on a short modern-only scenario (10 s of load at 10 arrivals a second);
while the load runs the test removes the run's results folder (as `rm -rf` would), or
fills the small filesystem it is on (a tmpfs the test mounts: root only, skipped with
the reason where mounting is not permitted). Either way the run stops with exit 2 and
one line naming the folder, tears its stack down, and what it had written before a
full disk stays readable: `harness report` on it says what is there and what is missing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli_process import HARNESS, KilledOnClose
from tests.support.processes import processes_under

pytestmark = pytest.mark.integration

#: the load starts this long after the run says "load for" (rehearsal.LEAD_IN_S)
LEAD_IN_S = 1.5
#: into the load when the test breaks the folder: well inside the 10 s of load
BREAK_AT_S = 3.0

SCENARIO: dict[str, Any] = {
    "name": "survive",
    "description": "a short modern-only load; the test breaks its results folder",
    "architectures": ["modern"],
    "seed": 7,
    "time_scale": 0.1,
    "drain": "1s",
    "workload": {
        "journeys": {"browse": {"weight": 1}, "checkout": {"weight": 1}},
        "phases": [{"name": "main", "shape": "constant", "rate": "10/s", "duration": "10s"}],
        "timeouts": {"connect": "1s", "read": "3s"},
    },
}


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "HARNESS_STATE_DIR": str(state), "COLUMNS": "200"}


def _start(scenario_dir: Path, out: Path, state: Path) -> tuple[KilledOnClose, Path]:
    """`harness run` until its load runs; the run and its results folder."""
    scenario = scenario_dir / "survive.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    run = KilledOnClose(["run", str(scenario), "--ci", "--out", str(out)], _env(state))
    run.wait_for("load for", timeout_s=180)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    time.sleep(LEAD_IN_S + BREAK_AT_S)
    return run, folder


def _remove(folder: Path) -> None:
    """`rm -rf` while the run writes: a file made meanwhile fails one pass, so retry."""
    deadline = time.monotonic() + 30
    while folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        assert time.monotonic() < deadline, f"{folder} could not be removed"


def _the_one_error(output: str) -> str:
    assert "Traceback" not in output, output[-4000:]
    errors = [line for line in output.splitlines() if line.startswith("harness: error:")]
    assert len(errors) == 1, output[-4000:]
    return errors[0]


def _nothing_left(state: Path, out: Path) -> None:
    # the stack's processes live under the state dir; the generator's plan under out
    deadline = time.monotonic() + 15  # the kernel may take a moment to reap
    while (left := processes_under(state) + processes_under(out)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], [" ".join(p.cmdline()) for p in left if p.is_running()]


def test_a_results_folder_removed_mid_run_stops_it_with_one_error(short_tmp: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    run, folder = _start(tmp_path, out, short_tmp)
    try:
        _remove(folder)
        removed = time.monotonic()
        code = run.proc.wait(timeout=180)
    finally:
        run.close()
    print(f"folder removed at {removed - started:.1f} s; the run ended "
          f"{time.monotonic() - removed:.1f} s later")
    output = run.output
    assert code == 2, output[-4000:]
    error = _the_one_error(output)
    assert error.startswith(f"harness: error: results folder {folder}: removed while the run "
                            "was writing it"), error
    assert "its stacks are torn down" in error
    assert "passed" not in output
    _nothing_left(short_tmp, out)
    assert not folder.exists()  # nothing made it anew on the way out


@contextlib.contextmanager
def _small_filesystem(size_mb: int) -> Iterator[Path]:
    """A tmpfs of `size_mb` MB mounted for the test; skipped where mounting is refused."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    where = Path(tempfile.mkdtemp(prefix="hfull-", dir="/tmp"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs",
                              str(where)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"mount -t tmpfs not permitted here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def _fill(path: Path) -> None:
    """Write zeros until the filesystem says it is full."""
    chunk = b"\0" * (1 << 20)
    with path.open("wb", buffering=0) as fh:
        while True:
            try:
                fh.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    with contextlib.suppress(OSError), path.open("ab", buffering=0) as fh:
        while fh.write(b"\0" * 512):
            pass  # the last pages too: a small append must find no room either


def test_a_full_disk_mid_run_stops_it_and_leaves_what_was_written_readable(
    short_tmp: Path, tmp_path: Path
) -> None:
    with _small_filesystem(64) as out:
        started = time.monotonic()
        run, folder = _start(tmp_path, out, short_tmp)
        filler = out / "filler"
        try:
            _fill(filler)
            filled = time.monotonic()
            code = run.proc.wait(timeout=180)
        finally:
            run.close()
        print(f"disk filled at {filled - started:.1f} s; the run ended "
              f"{time.monotonic() - filled:.1f} s later")
        output = run.output
        assert code == 2, output[-4000:]
        error = _the_one_error(output)
        assert error.startswith(f"harness: error: results folder {folder}: cannot write "), error
        assert "no space left on device" in error
        _nothing_left(short_tmp, out)

        # what was written stays readable; the report says what is there and what is not
        filler.unlink()
        assert (folder / "load" / "modern" / "load-plan.json").stat().st_size > 0
        report = subprocess.run([HARNESS, "report", str(folder)], env=_env(short_tmp),
                                capture_output=True, text=True, timeout=120, check=False)
        assert report.returncode == 2, report.stdout + report.stderr
        line = _the_one_error(report.stderr)
        assert line.startswith(f"harness: error: {folder / 'run.json'}: missing; "), line
        assert "events-modern.jsonl (events)" in line
        assert line.endswith("a report needs run.json"), line
