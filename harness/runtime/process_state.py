"""Whether a process is held still from outside: stopped by a signal, or in a frozen cgroup.

A hung harness part (a SIGSTOPped LocalStack, a paused container) still runs as far as
`is_running` can tell; this reads what the kernel says instead:

- `/proc/<pid>/stat`: state `T` is stopped by a signal (SIGSTOP, SIGTSTP). A tracer's
  stop (`t`, a debugger at a breakpoint) is someone looking, not a hang: not counted;
- the process's cgroups (`/proc/<pid>/cgroup`): v2 `cgroup.events` says `frozen 1`, v1
  the freezer's `freezer.state` is `FROZEN` (`docker pause`, a frozen systemd unit). A
  frozen task shows as sleeping in its stat, so only the cgroup tells.

Pure file reads with the roots as parameters, so tests give them a fake /proc and
cgroup tree. Anything unreadable (the process gone, another PID namespace) is "not
stopped": is_running already tells a dead one.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")
CGROUP_ROOT = Path("/sys/fs/cgroup")

#: what `stop_state` answers
PROCESS_STOPPED = "process stopped"
CGROUP_FROZEN = "cgroup frozen"
#: a container the engine reports paused (its cgroup frozen where this host cannot see)
CONTAINER_PAUSED = "container paused"


def stat_state(stat: str) -> str | None:
    """The state letter of a `/proc/<pid>/stat` line, or None when it cannot be parsed.

    The command name (field 2) is in parentheses and may itself hold spaces and `)`:
    the state is the first field after the *last* `)`.
    """
    _, sep, rest = stat.rpartition(")")
    fields = rest.split()
    if not sep or not fields:
        return None
    return fields[0]


def frozen_cgroups(cgroup_file: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """The files telling whether the cgroups of one `/proc/<pid>/cgroup` are frozen.

    `0::/a/b` (v2) -> root/a/b/cgroup.events; `6:freezer:/a` (v1) -> root/freezer/a/
    freezer.state. Both report the effective state: a frozen ancestor freezes it too.
    """
    files = []
    for line in cgroup_file.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        rel = path.strip().lstrip("/")
        if hierarchy == "0" and controllers == "":
            files.append(root / rel / "cgroup.events")
        elif "freezer" in controllers.split(","):
            files.append(root / "freezer" / rel / "freezer.state")
    return files


def is_frozen(path: Path) -> bool:
    """True when a `cgroup.events` says `frozen 1` or a `freezer.state` says FROZEN."""
    try:
        text = path.read_text()
    except OSError:
        return False
    if path.name == "freezer.state":
        return text.strip() == "FROZEN"
    return any(line.split() == ["frozen", "1"] for line in text.splitlines())


def stop_state(pid: int, *, proc: Path = PROC, cgroup_root: Path = CGROUP_ROOT) -> str | None:
    """PROCESS_STOPPED, CGROUP_FROZEN, or None when `pid` is not held still (or is gone)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    if stat_state(stat) == "T":
        return PROCESS_STOPPED
    try:
        cgroup_file = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return None
    if any(is_frozen(f) for f in frozen_cgroups(cgroup_file, cgroup_root)):
        return CGROUP_FROZEN
    return None


def first_stop(pids: list[int], *, proc: Path = PROC,
               cgroup_root: Path = CGROUP_ROOT) -> str | None:
    """The stop state of the first of `pids` that is held still, or None."""
    for pid in pids:
        state = stop_state(pid, proc=proc, cgroup_root=cgroup_root)
        if state is not None:
            return state
    return None
