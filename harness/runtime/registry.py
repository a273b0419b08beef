"""What a stack has started, on disk, so a later harness can clean up after a crash.

Each stack has a work dir with `owner.json` (the harness process that owns it)
and `pids.json` (every process it started, with its creation time so a reused
PID is never mistaken for ours). A stack whose owner is gone is stale: the
next `harness up`, `harness run` or `harness down` kills what it left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from harness.runtime import cgroups


@dataclass(frozen=True)
class ProcessRecord:
    """One started process: enough to find it again and to be sure it is ours."""

    component: str
    process: str
    pid: int
    create_time: float


def _same_process(pid: int, create_time: float) -> bool:
    try:
        proc = psutil.Process(pid)
        # a zombie is dead, only not yet reaped by its parent
        return abs(proc.create_time() - create_time) < 0.05 and (
            proc.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.Error:
        return False


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON so that a reader never sees half a file.

    Each write has a temporary file of its own: with one shared name, two writers
    renamed each other's file and the second rename found none.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True))
        # mkstemp makes the file private; keep it readable, as a plain write left it
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Registry:
    """The on-disk record of one stack's processes.

    Only the harness that owns the stack writes `pids.json` (others read it), but it
    does so from several threads: ECS replaces killed tasks in parallel. A thread lock
    is enough; it also keeps the file in step with the list, so a slower writer never
    replaces the file with a list that misses a later launch.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._records: list[ProcessRecord] = []
        self._lock = threading.Lock()

    @property
    def pids_file(self) -> Path:
        return self.workdir / "pids.json"

    @property
    def owner_file(self) -> Path:
        return self.workdir / "owner.json"

    def claim(self, info: dict[str, object]) -> None:
        """Mark this harness process as the owner of the work dir."""
        me = psutil.Process()
        write_json_atomic(
            self.owner_file,
            {"pid": me.pid, "create_time": me.create_time(), **info},
        )

    def add(self, record: ProcessRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._save()

    def remove(self, component: str) -> None:
        with self._lock:
            self._records = [r for r in self._records if r.component != component]
            self._save()

    def _save(self) -> None:
        write_json_atomic(self.pids_file, [asdict(r) for r in self._records])


def owner_alive(workdir: Path) -> bool:
    """True when the harness process that owns this work dir still runs."""
    try:
        owner = json.loads((workdir / "owner.json").read_text())
    except (OSError, ValueError):
        return False
    return _same_process(int(owner["pid"]), float(owner["create_time"]))


def read_owner(workdir: Path) -> dict[str, object]:
    try:
        data = json.loads((workdir / "owner.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _group_members(pgid: int, not_before: float) -> list[psutil.Process]:
    """Live processes in process group `pgid` started no earlier than its leader was."""
    with contextlib.suppress(psutil.Error):
        if abs(psutil.Process(pgid).create_time() - not_before) >= 0.05:
            return []  # the PID was recycled: our group had ended before
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.create_time() >= not_before - 0.05:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def kill_recorded(workdir: Path) -> int:
    """SIGKILL every recorded process group that is still ours; return how many."""
    try:
        rows = json.loads((workdir / "pids.json").read_text())
    except (OSError, ValueError):
        rows = []
    killed = 0
    leftovers: list[psutil.Process] = []
    for row in rows:
        rec = ProcessRecord(**row)
        # Each process leads its own group (start_new_session). When the harness was
        # SIGKILLed, PDEATHSIG took the leaders but not their workers (nginx, php-fpm,
        # LocalStack's children), which live on in the group. Linux never reuses a PID
        # as long as a group of that id exists, so surviving members are ours.
        members = _group_members(rec.pid, rec.create_time)
        if not members:
            continue
        leftovers += members
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(rec.pid, signal.SIGCONT)
            os.killpg(rec.pid, signal.SIGKILL)
            killed += 1
    psutil.wait_procs(leftovers, timeout=5)
    return killed


def reap_stale(state_dir: Path) -> list[str]:
    """Clean up every stack under state_dir whose owner died; return their ids."""
    reaped: list[str] = []
    stacks = state_dir / "stacks"
    if not stacks.is_dir():
        return reaped
    for workdir in sorted(p for p in stacks.iterdir() if p.is_dir()):
        if owner_alive(workdir):
            continue
        kill_recorded(workdir)
        cgroups.remove_tree(cgroups.ROOT, workdir.name)
        shutil.rmtree(workdir, ignore_errors=True)
        reaped.append(workdir.name)
    return reaped


def live_stacks(state_dir: Path) -> list[Path]:
    """Work dirs of stacks whose owner is still running."""
    stacks = state_dir / "stacks"
    if not stacks.is_dir():
        return []
    return [p for p in sorted(stacks.iterdir()) if p.is_dir() and owner_alive(p)]
