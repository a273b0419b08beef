"""Reading whether a process is held still: /proc/<pid>/stat, its cgroups' freeze state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.runtime import process_state
from harness.runtime.process_state import (
    CGROUP_FROZEN,
    PROCESS_STOPPED,
    frozen_cgroups,
    stat_state,
    stop_state,
)

V2_CGROUP = "0::/harness/s1/aws\n"
V1_CGROUP = "9:systemd:/\n6:freezer:/docker/abc\n4:memory:/x\n2:cpu,cpuacct:/\n"


def _proc(tmp_path: Path, pid: int, state: str, cgroup: str = V2_CGROUP,
          comm: str = "python3") -> Path:
    proc = tmp_path / "proc"
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560\n")
    (proc / str(pid) / "cgroup").write_text(cgroup)
    return proc


def _events(root: Path, rel: str, frozen: int) -> None:
    (root / rel).mkdir(parents=True, exist_ok=True)
    (root / rel / "cgroup.events").write_text(f"populated 1\nfrozen {frozen}\n")


def test_the_state_is_the_field_after_the_last_parenthesis() -> None:
    assert stat_state("42 (python3) T 1 42") == "T"
    # a command name may hold spaces and parentheses of its own
    assert stat_state("42 (a) S (b)) R 1 42") == "R"
    assert stat_state("garbage") is None


def test_a_signal_stopped_process_is_stopped_and_a_traced_one_is_not(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 7, "T", comm="weird ) T name")
    assert stop_state(7, proc=proc, cgroup_root=tmp_path / "cg") == PROCESS_STOPPED
    traced = _proc(tmp_path / "t", 8, "t")
    assert stop_state(8, proc=traced, cgroup_root=tmp_path / "cg") is None
    running = _proc(tmp_path / "r", 9, "S")
    assert stop_state(9, proc=running, cgroup_root=tmp_path / "cg") is None


def test_a_process_that_is_gone_is_not_stopped(tmp_path: Path) -> None:
    assert stop_state(12345, proc=tmp_path / "proc", cgroup_root=tmp_path) is None


def test_a_frozen_v2_cgroup_is_read_from_cgroup_events(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    proc = _proc(tmp_path, 5, "S")
    _events(root, "harness/s1/aws", 0)
    assert stop_state(5, proc=proc, cgroup_root=root) is None
    _events(root, "harness/s1/aws", 1)
    assert stop_state(5, proc=proc, cgroup_root=root) == CGROUP_FROZEN


def test_a_frozen_v1_freezer_is_read_from_freezer_state(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    proc = _proc(tmp_path, 5, "D", cgroup=V1_CGROUP)
    assert frozen_cgroups(V1_CGROUP, root) == [root / "freezer/docker/abc/freezer.state"]
    (root / "freezer/docker/abc").mkdir(parents=True)
    state = root / "freezer/docker/abc/freezer.state"
    state.write_text("THAWED\n")
    assert stop_state(5, proc=proc, cgroup_root=root) is None
    state.write_text("FREEZING\n")  # not yet: every task must have stopped
    assert stop_state(5, proc=proc, cgroup_root=root) is None
    state.write_text("FROZEN\n")
    assert stop_state(5, proc=proc, cgroup_root=root) == CGROUP_FROZEN


def test_first_stop_answers_for_any_of_the_processes(tmp_path: Path) -> None:
    proc = _proc(tmp_path, 3, "S")
    _proc(tmp_path, 4, "T")
    cg = tmp_path / "cg"
    assert process_state.first_stop([3], proc=proc, cgroup_root=cg) is None
    assert process_state.first_stop([3, 4], proc=proc, cgroup_root=cg) == PROCESS_STOPPED


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_real_sigstopped_process_reads_as_stopped_until_sigcont() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert stop_state(child.pid) is None
        os.kill(child.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while stop_state(child.pid) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stop_state(child.pid) == PROCESS_STOPPED
        os.kill(child.pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while stop_state(child.pid) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stop_state(child.pid) is None
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.kill()
        child.wait()
