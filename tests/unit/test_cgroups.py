"""Task limits on fake cgroup v1 and v2 trees: written where the kernel reads them,
read back from the files, and off with a reason when the machine cannot enforce them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.errors import EnvironmentProblem
from harness.runtime.base import Limits
from harness.runtime.cgroups import CgroupLimiter, detect, kill_members, remove_tree


def _v1_tree(root: Path) -> Path:
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (root / "memory").mkdir()
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    # a hybrid machine also mounts an empty unified hierarchy: still v1 for cpu and memory
    (root / "unified").mkdir()
    (root / "unified" / "cgroup.controllers").write_text("\n")
    return root


def _v2_tree(root: Path, controllers: str = "cpuset cpu io memory pids") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("\n")
    return root


def test_without_controllers_limits_are_off_with_a_reason(tmp_path: Path) -> None:
    limiter = CgroupLimiter("stack-x", root=tmp_path)
    assert not limiter.available
    assert "not mounted" in limiter.reason
    assert limiter.prepare("app-1", Limits(cpus=0.5, memory_mb=128)) == []


def test_detect_tells_v1_from_v2(tmp_path: Path) -> None:
    assert detect(_v1_tree(tmp_path / "one")) == 1
    assert detect(_v2_tree(tmp_path / "two")) == 2
    assert detect(tmp_path / "none") is None


def test_v1_writes_quota_and_memory_limit_per_controller(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path)
    limiter = CgroupLimiter("stack-1", root=root)
    assert limiter.available, limiter.reason
    assert limiter.version == 1
    procs = limiter.prepare("app-1", Limits(cpus=0.75, memory_mb=1536))
    cpu_dir = root / "cpu" / "harness" / "stack-1" / "app-1"
    mem_dir = root / "memory" / "harness" / "stack-1" / "app-1"
    assert procs == [cpu_dir / "cgroup.procs", mem_dir / "cgroup.procs"]
    # the shared 20 ms period (CFS_PERIOD_US), the quota in proportion
    assert (cpu_dir / "cpu.cfs_period_us").read_text() == "20000"
    assert (cpu_dir / "cpu.cfs_quota_us").read_text() == "15000"
    assert (mem_dir / "memory.limit_in_bytes").read_text() == str(1536 * 2**20)


def test_v1_in_force_reads_the_files_back(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path)
    limiter = CgroupLimiter("stack-1", root=root)
    limiter.prepare("app-1", Limits(cpus=0.5, memory_mb=1024))
    # the kernel rounds the memory limit to pages and may hold another quota than asked
    mem = root / "memory" / "harness" / "stack-1" / "app-1" / "memory.limit_in_bytes"
    mem.write_text(f"{1000 * 2**20}\n")
    (root / "cpu" / "harness" / "stack-1" / "app-1" / "cpu.cfs_quota_us").write_text("8000\n")
    got = limiter.in_force("app-1")
    assert (got.cpus, got.memory_mb) == (0.4, 1000)
    assert len(got.cgroups) == 2


def test_v1_unlimited_reads_back_as_none(tmp_path: Path) -> None:
    root = _v1_tree(tmp_path)
    limiter = CgroupLimiter("stack-1", root=root)
    for controller, name, value in (("cpu", "cpu.cfs_quota_us", "-1"),
                                    ("memory", "memory.limit_in_bytes", "9223372036854771712")):
        d = root / controller / "harness" / "stack-1" / "app-1"
        d.mkdir(parents=True)
        (d / name).write_text(value)
    got = limiter.in_force("app-1")
    assert (got.cpus, got.memory_mb) == (None, None)


def test_v2_delegates_controllers_down_to_the_component(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path)
    limiter = CgroupLimiter("stack-2", root=root)
    assert limiter.available, limiter.reason
    assert limiter.version == 2
    procs = limiter.prepare("app-1", Limits(cpus=0.5, memory_mb=1024))
    cgroup = root / "harness" / "stack-2" / "app-1"
    assert procs == [cgroup / "cgroup.procs"]
    # every ancestor hands cpu and memory down, or the child's cpu.max would not exist
    for ancestor in (root, root / "harness", root / "harness" / "stack-2"):
        assert (ancestor / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (cgroup / "cpu.max").read_text() == "10000 20000"
    assert (cgroup / "memory.max").read_text() == str(1024 * 2**20)


def test_v2_in_force_reads_cpu_max_and_memory_max(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path)
    limiter = CgroupLimiter("stack-2", root=root)
    limiter.prepare("app-1", Limits(cpus=0.75, memory_mb=None))
    got = limiter.in_force("app-1")
    assert (got.cpus, got.memory_mb) == (0.75, None)
    assert got.cgroups == (str(root / "harness" / "stack-2" / "app-1"),)
    (root / "harness" / "stack-2" / "app-1" / "cpu.max").write_text("max 100000\n")
    assert limiter.in_force("app-1").cpus is None


def test_v2_never_created_component_has_no_limits_in_force(tmp_path: Path) -> None:
    limiter = CgroupLimiter("stack-2", root=_v2_tree(tmp_path))
    got = limiter.in_force("app-9")
    assert (got.cpus, got.memory_mb, got.cgroups) == (None, None, ())


def test_v2_without_memory_controller_is_off_with_a_reason(tmp_path: Path) -> None:
    limiter = CgroupLimiter("stack-2", root=_v2_tree(tmp_path, controllers="cpu io pids"))
    assert not limiter.available
    assert "memory" in limiter.reason
    assert "cgroup.controllers" in limiter.reason


def test_v2_that_cannot_delegate_is_off_with_a_reason(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path)
    # stands in for EBUSY: a container's root cgroup holds processes and cannot delegate
    (root / "cgroup.subtree_control").unlink()
    (root / "cgroup.subtree_control").mkdir()
    limiter = CgroupLimiter("stack-2", root=root)
    assert not limiter.available
    assert "cannot hand cpu and memory down" in limiter.reason


def test_a_failing_write_is_an_environment_problem_naming_the_cgroup(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path)
    limiter = CgroupLimiter("stack-2", root=root)
    (root / "harness" / "stack-2" / "app-1" / "cpu.max").mkdir(parents=True)
    with pytest.raises(EnvironmentProblem, match=r"app-1: cannot set its CPU/memory limits"):
        limiter.prepare("app-1", Limits(cpus=0.5))


@pytest.mark.parametrize("make", [_v1_tree, _v2_tree])
def test_remove_tree_removes_empty_component_cgroups(tmp_path: Path, make: object) -> None:
    root = make(tmp_path)  # type: ignore[operator]
    for base in (root / "cpu", root / "memory", root):
        (base / "harness" / "stack-3" / "app-1").mkdir(parents=True)
    remove_tree(root, "stack-3")
    for base in (root / "cpu", root / "memory", root):
        assert not (base / "harness" / "stack-3").exists()


def test_kill_members_kills_every_pid_of_a_v1_stack_and_writes_cgroup_kill_on_v2(
        tmp_path: Path) -> None:
    v1 = tmp_path / "v1" / "cpu" / "harness" / "stack-1" / "app-1"
    v1.mkdir(parents=True)
    v2 = tmp_path / "v2" / "harness" / "stack-1" / "app-1"
    v2.mkdir(parents=True)
    (v2 / "cgroup.procs").write_text("4242\n")
    (v2 / "cgroup.kill").write_text("0")
    worker = subprocess.Popen(["sleep", "300"])
    try:
        (v1 / "cgroup.procs").write_text(f"{worker.pid}\n")
        assert kill_members(tmp_path / "v1", "stack-1") == 1
        assert worker.wait(timeout=5) == -9
        assert kill_members(tmp_path / "v2", "stack-1") == 1
        assert (v2 / "cgroup.kill").read_text() == "1"  # the kernel kills the whole cgroup
        assert kill_members(tmp_path / "v1", "other-stack") == 0
    finally:
        worker.kill()
        worker.wait()
