"""Real CPU and memory limits for process-runtime "tasks", through cgroups.

ECS gives each task a CPU share and a hard memory limit; locally the same is a
cgroup. Written by hand because no kept Python library manages cgroup v1
directories; it is a few file writes. When the machine does not allow it (not
root, read-only cgroupfs, cgroup v2 without delegation) `CgroupLimiter.available`
is False with the reason, and the stack says so instead of pretending.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from harness.runtime.base import Limits

ROOT = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 100_000


class CgroupLimiter:
    """Creates one cgroup per limited component under harness/<stack-id>/."""

    def __init__(self, stack_id: str, root: Path = ROOT) -> None:
        self.stack_id = stack_id
        self.root = root
        self.available, self.reason = self._probe()
        self._made: list[Path] = []

    def _probe(self) -> tuple[bool, str]:
        cpu, mem = self.root / "cpu", self.root / "memory"
        if not (cpu / "cpu.cfs_quota_us").exists() or not (mem / "memory.limit_in_bytes").exists():
            return False, "cgroup v1 cpu and memory controllers are not mounted at /sys/fs/cgroup"
        if not os.access(cpu, os.W_OK) or not os.access(mem, os.W_OK):
            return False, "no write access to /sys/fs/cgroup (run as root to enforce task limits)"
        return True, "cgroup v1 cpu + memory"

    def _dirs(self, component: str) -> tuple[Path, Path]:
        rel = Path("harness") / self.stack_id / component
        return self.root / "cpu" / rel, self.root / "memory" / rel

    def prepare(self, component: str, limits: Limits) -> list[Path]:
        """Create the component's cgroups with its limits; return the `cgroup.procs` files."""
        if not self.available:
            return []
        cpu_dir, mem_dir = self._dirs(component)
        procs: list[Path] = []
        if limits.cpus is not None:
            cpu_dir.mkdir(parents=True, exist_ok=True)
            self._made.append(cpu_dir)
            (cpu_dir / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (cpu_dir / "cpu.cfs_quota_us").write_text(str(int(limits.cpus * CFS_PERIOD_US)))
            procs.append(cpu_dir / "cgroup.procs")
        if limits.memory_mb is not None:
            mem_dir.mkdir(parents=True, exist_ok=True)
            self._made.append(mem_dir)
            (mem_dir / "memory.limit_in_bytes").write_text(str(limits.memory_mb * 1024 * 1024))
            procs.append(mem_dir / "cgroup.procs")
        return procs

    def procs_files(self, component: str) -> list[Path]:
        """The `cgroup.procs` files of a component's existing cgroups (none if unlimited)."""
        return [d / "cgroup.procs" for d in self._dirs(component) if (d / "cgroup.procs").exists()]

    def memory_usage_bytes(self, component: str) -> int | None:
        """What the component's memory cgroup holds now, or None without one."""
        usage = self._dirs(component)[1] / "memory.usage_in_bytes"
        try:
            return int(usage.read_text())
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        """Remove the cgroups this stack made (they must be empty by now)."""
        remove_tree(self.root, self.stack_id)


def join(procs_files: list[Path]) -> None:
    """Move the calling process into the given cgroups (runs in the child before exec)."""
    pid = str(os.getpid())
    for procs in procs_files:
        procs.write_text(pid)


def remove_tree(root: Path, stack_id: str) -> None:
    """Remove harness/<stack_id>/ cgroups, deepest first; busy ones are left alone."""
    for controller in ("cpu", "memory"):
        base = root / controller / "harness" / stack_id
        if not base.exists():
            continue
        for child in sorted(base.glob("*"), reverse=True):
            with contextlib.suppress(OSError):
                child.rmdir()
        with contextlib.suppress(OSError):
            base.rmdir()
