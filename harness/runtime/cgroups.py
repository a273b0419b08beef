"""Real CPU and memory limits for process-runtime components, through cgroups v1 or v2.

ECS gives each task a CPU share and a hard memory limit, and an EC2 instance has
its size; locally the same is a cgroup per component (a PHP instance's nginx and
php-fpm share one). Written by hand because no kept Python library manages cgroup
directories; it is a few file writes. Both hierarchies are supported:

- v1 (separate `cpu` and `memory` mounts under /sys/fs/cgroup; a hybrid machine with
  an empty `unified` mount is v1 for our purpose): `cpu.cfs_quota_us` and
  `memory.limit_in_bytes` in `<controller>/harness/<stack>/<component>`;
- v2 (the unified hierarchy mounted at /sys/fs/cgroup, as on current distributions
  and GitHub's runners): `cpu.max` and `memory.max` in `harness/<stack>/<component>`,
  with `+cpu +memory` written to `cgroup.subtree_control` of every ancestor
  (delegation: a v2 controller works in a cgroup only if its parent hands it down).

When the machine does not allow it (not root, read-only cgroupfs, controllers not
delegated, a container's root cgroup with processes in it) `CgroupLimiter.available`
is False with the reason, and the run says so instead of pretending. What is in
force is always read back from the cgroup files (`in_force`), never assumed.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Literal

from harness.errors import EnvironmentProblem
from harness.runtime.base import InForce, Limits

ROOT = Path("/sys/fs/cgroup")
#: The CPU bandwidth period for every member, on both stacks and both runtimes: 20 ms,
#: not the kernel's 100 ms. An assumption, the same on both sides. At these small sizes
#: (0.075-0.1125 vCPU) a 100 ms period lets one burst spend the whole quota and then
#: stalls the member for up to ~90 ms however idle the machine is; measured here, one
#: 0.05 vCPU Go task held 13.75 journeys/s at 100 ms and 18/s at 20 ms. The real sizes
#: stall far less (a 0.5 vCPU Fargate task at most 50 ms per 100 ms period, an EC2
#: instance's whole vCPUs not at all), so the shorter period is the closer model.
CFS_PERIOD_US = 20_000
#: v1 reports "no memory limit" as a huge page-rounded number near 2**63
_V1_UNLIMITED = 2**62
_PARENT = "harness"


def detect(root: Path = ROOT) -> Literal[1, 2] | None:
    """Which hierarchy carries cpu and memory here: 2 (unified at root), 1, or None."""
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "cpu" / "cpu.cfs_quota_us").exists() and (
        root / "memory" / "memory.limit_in_bytes"
    ).exists():
        return 1
    return None


class CgroupLimiter:
    """Creates one cgroup per limited component under harness/<stack-id>/."""

    def __init__(self, stack_id: str, root: Path = ROOT) -> None:
        self.stack_id = stack_id
        self.root = root
        self.version = detect(root)
        self.available, self.reason = self._probe()

    # -- probing -------------------------------------------------------------------

    def _probe(self) -> tuple[bool, str]:
        if self.version is None:
            return False, (
                f"cpu and memory cgroups are not mounted at {self.root}: neither v2 "
                f"({self.root}/cgroup.controllers) nor v1 ({self.root}/cpu, {self.root}/memory)"
            )
        if self.version == 1:
            cpu, mem = self.root / "cpu", self.root / "memory"
            if not os.access(cpu, os.W_OK) or not os.access(mem, os.W_OK):
                return False, (
                    f"cgroup v1: no write access to {cpu} and {mem} "
                    "(run as root to enforce the limits)"
                )
            return True, f"cgroup v1 cpu + memory, CPU period {CFS_PERIOD_US // 1000} ms"
        controllers = _words(self.root / "cgroup.controllers")
        missing = {"cpu", "memory"} - controllers
        if missing:
            return False, (
                f"cgroup v2: controller(s) {', '.join(sorted(missing))} not available in "
                f"{self.root}/cgroup.controllers (have: {' '.join(sorted(controllers)) or 'none'})"
            )
        if not os.access(self.root, os.W_OK):
            return False, (
                f"cgroup v2: no write access to {self.root} (run as root, or inside a systemd "
                "scope with Delegate=yes)"
            )
        try:
            self._delegate(self.root)
            parent = self.root / _PARENT
            parent.mkdir(exist_ok=True)
            self._delegate(parent)
        except OSError as exc:
            return False, (
                f"cgroup v2: cannot hand cpu and memory down from {self.root} "
                f"({exc.strerror or exc}); a cgroup that holds processes (a container's root) "
                "cannot delegate: run the harness from a child cgroup or on the host"
            )
        return True, f"cgroup v2 cpu + memory, CPU period {CFS_PERIOD_US // 1000} ms"

    @staticmethod
    def _delegate(cgroup: Path) -> None:
        control = cgroup / "cgroup.subtree_control"
        if {"cpu", "memory"} <= _words(control):
            return
        control.write_text("+cpu +memory")

    # -- layout --------------------------------------------------------------------

    def _stack_dirs(self) -> list[Path]:
        """harness/<stack-id> in each hierarchy this machine uses."""
        rel = Path(_PARENT) / self.stack_id
        if self.version == 1:
            return [self.root / "cpu" / rel, self.root / "memory" / rel]
        return [self.root / rel]

    def _dirs(self, component: str) -> tuple[Path, Path]:
        """The component's (cpu, memory) cgroup directories; one and the same on v2."""
        dirs = [d / component for d in self._stack_dirs()]
        return dirs[0], dirs[-1]

    # -- limits --------------------------------------------------------------------

    def prepare(self, component: str, limits: Limits) -> list[Path]:
        """Create the component's cgroups with its limits; return the `cgroup.procs` files."""
        if not self.available or (limits.cpus is None and limits.memory_mb is None):
            return []
        cpu_dir, mem_dir = self._dirs(component)
        try:
            if self.version == 2:
                return self._prepare_v2(cpu_dir, limits)
            return self._prepare_v1(cpu_dir, mem_dir, limits)
        except OSError as exc:
            raise EnvironmentProblem(
                f"{component}: cannot set its CPU/memory limits in {cpu_dir}: {exc}; "
                "`harness doctor` checks the cgroup setup"
            ) from None

    @staticmethod
    def _prepare_v1(cpu_dir: Path, mem_dir: Path, limits: Limits) -> list[Path]:
        procs: list[Path] = []
        if limits.cpus is not None:
            cpu_dir.mkdir(parents=True, exist_ok=True)
            (cpu_dir / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (cpu_dir / "cpu.cfs_quota_us").write_text(str(quota_us(limits.cpus)))
            procs.append(cpu_dir / "cgroup.procs")
        if limits.memory_mb is not None:
            mem_dir.mkdir(parents=True, exist_ok=True)
            (mem_dir / "memory.limit_in_bytes").write_text(str(limits.memory_mb * 2**20))
            procs.append(mem_dir / "cgroup.procs")
        return procs

    def _prepare_v2(self, cgroup: Path, limits: Limits) -> list[Path]:
        stack_dir = cgroup.parent
        stack_dir.mkdir(parents=True, exist_ok=True)
        self._delegate(stack_dir.parent)
        self._delegate(stack_dir)
        cgroup.mkdir(exist_ok=True)
        cpu_max = "max" if limits.cpus is None else str(quota_us(limits.cpus))
        (cgroup / "cpu.max").write_text(f"{cpu_max} {CFS_PERIOD_US}")
        memory_max = "max" if limits.memory_mb is None else str(limits.memory_mb * 2**20)
        (cgroup / "memory.max").write_text(memory_max)
        return [cgroup / "cgroup.procs"]

    def procs_files(self, component: str) -> list[Path]:
        """The `cgroup.procs` files of a component's existing cgroups (none if unlimited)."""
        return [
            d / "cgroup.procs" for d in dict.fromkeys(self._dirs(component))
            if (d / "cgroup.procs").exists()
        ]

    def in_force(self, component: str) -> InForce:
        """The limits the kernel holds for the component now, read from its cgroup files."""
        cpu_dir, mem_dir = self._dirs(component)
        if self.version == 2:
            quota, period = _read(cpu_dir / "cpu.max", "max 1").split()[:2]
            cpus = None if quota == "max" else int(quota) / int(period)
            memory = _read(mem_dir / "memory.max", "max")
            memory_b = None if memory == "max" else int(memory)
        else:
            cfs_quota = int(_read(cpu_dir / "cpu.cfs_quota_us", "-1"))
            period_us = int(_read(cpu_dir / "cpu.cfs_period_us", str(CFS_PERIOD_US)))
            cpus = None if cfs_quota < 0 else cfs_quota / period_us
            memory_b = int(_read(mem_dir / "memory.limit_in_bytes", str(2**63)))
            memory_b = None if memory_b >= _V1_UNLIMITED else memory_b
        dirs = tuple(str(d) for d in dict.fromkeys((cpu_dir, mem_dir)) if d.exists())
        return InForce(
            cpus=None if cpus is None else round(cpus, 4),
            memory_mb=None if memory_b is None else memory_b // 2**20,
            cgroups=dirs,
        )

    def limits_enforcement(self) -> tuple[bool, str]:
        """(available, how or why not), as a runtime reports it."""
        return self.available, self.reason

    def limits_in_force(self, component: str) -> InForce | None:
        return self.in_force(component) if self.available else None

    def memory_usage_bytes(self, component: str) -> int | None:
        """What the component's memory cgroup holds now, or None without one."""
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        try:
            return int((self._dirs(component)[1] / name).read_text())
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        """Remove the cgroups this stack made (they must be empty by now)."""
        remove_tree(self.root, self.stack_id)


def quota_us(cpus: float) -> int:
    """The CFS quota, per `CFS_PERIOD_US`, that enforces `cpus` (the kernel's floor is 1 ms)."""
    return max(1000, round(cpus * CFS_PERIOD_US))


def _words(path: Path) -> set[str]:
    return set(_read(path, "").split())


def _read(path: Path, missing: str) -> str:
    """A cgroup file's content, or `missing` when the file (or the cgroup) is not there."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return missing


def probe(root: Path = ROOT) -> tuple[bool, str]:
    """Can limits be enforced on this machine? (available, how or why not)."""
    limiter = CgroupLimiter("probe", root)
    return limiter.available, limiter.reason


def join(procs_files: list[Path]) -> None:
    """Move the calling process into the given cgroups (runs in the child before exec)."""
    pid = str(os.getpid())
    for procs in procs_files:
        procs.write_text(pid)


def _stack_cgroups(root: Path, stack_id: str) -> list[Path]:
    """harness/<stack_id>/* component cgroups in every layout (v1 cpu and memory, v2)."""
    found = []
    for base in (root / "cpu", root / "memory", root):
        stack_dir = base / _PARENT / stack_id
        if stack_dir.is_dir():
            found += sorted(c for c in stack_dir.iterdir() if c.is_dir())
    return found


def kill_members(root: Path, stack_id: str) -> int:
    """SIGKILL every process in the stack's cgroups, workers and helpers included.

    v2 with `cgroup.kill` (Linux 5.14+) kills a whole cgroup in one write, forks in
    flight included; elsewhere (v1, older v2) each PID in `cgroup.procs` is killed:
    a cgroup's members are ours whatever process group or session they moved to.
    Returns how many PIDs were signalled (a `cgroup.kill` write counts its members).
    """
    killed = 0
    for cgroup in _stack_cgroups(root, stack_id):
        pids = [int(p) for p in _read(cgroup / "cgroup.procs", "").split() if p.isdigit()]
        if not pids:
            continue
        kill_file = cgroup / "cgroup.kill"
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
                killed += len(pids)
                continue
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def remove_tree(root: Path, stack_id: str) -> None:
    """Remove harness/<stack_id>/ cgroups (v1 and v2 layouts), deepest first; busy ones stay."""
    for base in (root / "cpu", root / "memory", root):
        stack_dir = base / _PARENT / stack_id
        if not stack_dir.is_dir():
            continue
        for child in sorted(stack_dir.glob("*"), reverse=True):
            if child.is_dir():
                with contextlib.suppress(OSError):
                    child.rmdir()
        with contextlib.suppress(OSError):
            stack_dir.rmdir()


# -- a process's own cgroups ---------------------------------------------------------

PROC = Path("/proc")


def controller_file(pid: int, controller: str, filename: str, *, proc: Path = PROC
                    ) -> Path | None:
    """`filename` in the cgroup of `pid` that carries `controller` ("memory"), or None.

    The cgroup comes from /proc/<pid>/cgroup (`4:memory:/a/b` on v1, `0::/a/b` on v2),
    the directory from the mounts this process sees (/proc/self/mountinfo): a cgroup
    path is relative to its hierarchy's root, and a container's mount may show only
    a subtree of it. None when the process is gone, no mount carries the controller,
    or the file is not there (a kernel without it).
    """
    try:
        lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    v2 = ""
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            found = _under_mount(proc, path, filename, controller)
            if found is not None:
                return found
        elif not controllers:
            v2 = path
    if v2:
        return _under_mount(proc, v2, filename, "")
    return None


def _under_mount(proc: Path, cgroup: str, filename: str, controller: str) -> Path | None:
    """`filename` in `cgroup` under the first mount of its hierarchy that contains it:
    the v1 hierarchy carrying `controller`, or with "" the v2 one."""
    try:
        mounts = (proc / "self" / "mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields, _, tail = line.partition(" - ")
        parts, kind_opts = fields.split(), tail.split()
        if len(parts) < 5 or len(kind_opts) < 3:
            continue
        kind, options = kind_opts[0], kind_opts[2].split(",")
        ours = (kind == "cgroup" and controller in options) if controller else kind == "cgroup2"
        if not ours:
            continue
        root, mount_point = parts[3], parts[4]
        if cgroup != root and not cgroup.startswith(root.rstrip("/") + "/"):
            continue  # the mount shows another part of the hierarchy
        candidate = Path(mount_point) / cgroup[len(root):].lstrip("/") / filename
        if candidate.is_file():
            return candidate
    return None


#: where each hierarchy counts the OOM killer's kills in a memory cgroup: v1, then v2's
#: own count (children not included) before its hierarchical one
OOM_FILES = ("memory.oom_control", "memory.events.local", "memory.events")


def oom_kill_file(pid: int, *, proc: Path = PROC) -> Path | None:
    """The file holding the `oom_kill` count of the memory cgroup of `pid`, or None."""
    for name in OOM_FILES:
        found = controller_file(pid, "memory", name, proc=proc)
        if found is not None and oom_kills(found) is not None:
            return found
    return None


def oom_kills(path: Path) -> int | None:
    """The `oom_kill N` count in a memory.oom_control or memory.events file; None if none."""
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return None


class OomKills:
    """The OOM kills counted in a process's memory cgroup, read while it lives.

    The watchdog samples its owner's count about once a second; once the owner is gone,
    `rose()` says whether the count went up as it vanished. The owner died at most a
    moment after its last sample, so the count is compared with the sample before the
    last one: a kill that landed between the owner's death and the watchdog seeing it
    is counted either way.
    """

    def __init__(self, pid: int, *, proc: Path = PROC) -> None:
        self.file = oom_kill_file(pid, proc=proc)
        self._samples: list[int] = []
        self.sample()

    def sample(self) -> None:
        """Read the count now (while the owner still runs); keep the last two."""
        count = oom_kills(self.file) if self.file is not None else None
        if count is not None:
            self._samples = [*self._samples[-1:], count]

    def rose(self) -> str:
        """`oom_kill in <file> went from X to Y` if it rose since then; else ""."""
        if self.file is None or not self._samples:
            return ""
        now = oom_kills(self.file)
        before = self._samples[0]
        if now is None or now <= before:
            return ""
        return f"oom_kill in {self.file} went from {before} to {now}"
