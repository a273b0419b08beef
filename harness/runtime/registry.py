"""What a stack has started, on disk, so a later harness can clean up after a crash.

Each stack has a work dir with `owner.json` (the harness process that owns it, and
the command it runs: `up`, `run`, `capacity`) and `pids.json` (every process it
started, with its creation time so a reused PID is never mistaken for ours). A stack
whose owner is gone is stale: its watchdog (harness.runtime.watchdog) kills what it
left at once, and any later harness command does if the watchdog could not.

A run's results folders in progress are noted under `<state dir>/runs/`, so that the
next command can say in a dead run's `INCOMPLETE` marker that its owner is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from harness.runtime import cgroups

#: how long a clean-up waits for killed processes to be gone
_GONE_WAIT_S = 5.0


@dataclass(frozen=True)
class ProcessRecord:
    """One started process: enough to find it again and to be sure it is ours."""

    component: str
    process: str
    pid: int
    create_time: float


def same_process(pid: int, create_time: float) -> bool:
    """Is `pid` still the process that started at `create_time` (and not a zombie)?"""
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
    return same_process(int(owner["pid"]), float(owner["create_time"]))


def is_work_dir(workdir: Path) -> bool:
    """Is this a harness's work dir (claimed, or with processes recorded)?

    Nothing else is ever killed for or removed: not a folder that happens to sit
    where the state dir's stacks/ is, nor one made a moment before its owner's claim.
    """
    return (workdir / "owner.json").is_file() or (workdir / "pids.json").is_file()


def read_owner(workdir: Path) -> dict[str, object]:
    try:
        data = json.loads((workdir / "owner.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def held_by(workdir: Path) -> str:
    """The harness command that holds a stack: up, run, capacity.

    An owner.json from before commands were recorded counts as `up`'s, which every
    `harness down` stopped then.
    """
    return str(read_owner(workdir).get("command", "up"))


def _group_members(pgid: int, not_before: float) -> list[psutil.Process]:
    """Live processes in process group `pgid` started no earlier than its leader was."""
    with contextlib.suppress(psutil.Error):
        if abs(psutil.Process(pgid).create_time() - not_before) >= 0.05:
            return []  # the PID was recycled: our group had ended before
    members = []
    for proc in psutil.process_iter():
        try:
            if (os.getpgid(proc.pid) == pgid and proc.create_time() >= not_before - 0.05
                    and proc.status() != psutil.STATUS_ZOMBIE):
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def kill_recorded(workdir: Path) -> list[psutil.Process]:
    """SIGKILL every recorded process group that is still ours; return its members."""
    try:
        rows = json.loads((workdir / "pids.json").read_text())
    except (OSError, ValueError):
        rows = []
    killed: list[psutil.Process] = []
    for row in rows:
        rec = ProcessRecord(**row)
        # Each process leads its own group (start_new_session). When the harness was
        # SIGKILLed, PDEATHSIG took the leaders but not their workers (nginx, php-fpm,
        # LocalStack's children), which live on in the group. Linux never reuses a PID
        # as long as a group of that id exists, so surviving members are ours.
        members = _group_members(rec.pid, rec.create_time)
        if not members:
            continue
        killed += members
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(rec.pid, signal.SIGCONT)
            os.killpg(rec.pid, signal.SIGKILL)
    return killed


def _marked(stack_id: str, workdir: Path) -> list[psutil.Process]:
    """Processes that carry the stack's id in their environment or its work dir in argv.

    The net under the process groups and cgroups: a process spawned an instant before
    its owner died (not yet in pids.json, PDEATHSIG not yet set) or one that left its
    group. nginx and php-fpm overwrite their environment with their process titles,
    but their masters name the work dir in argv and their workers share the masters'
    groups. The work dir counts only where it is a stack's own (it ends in the id).
    """
    where = (f"{workdir}/" if workdir.is_absolute() and workdir.name == stack_id
             and is_work_dir(workdir) else None)
    me = os.getpid()
    found = []
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            argv = proc.cmdline()
            if ((where is not None and any(where in arg for arg in argv))
                    or proc.environ().get("HARNESS_STACK_ID") == stack_id) and (
                    proc.status() != psutil.STATUS_ZOMBIE):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def kill_stack(workdir: Path, stack_id: str | None = None) -> int:
    """SIGKILL everything a stack started, however it got away; return how many died.

    Three nets, each enough alone for most processes: the recorded process groups
    (workers included), the stack's cgroups (whatever group a member moved to), and a
    scan for the stack's id and work dir (cgroup-less components spawned too late to be
    recorded). Repeated until a round finds nothing: a master may fork while dying.
    """
    stack_id = stack_id or workdir.name
    victims: set[psutil.Process] = set()
    for _ in range(5):
        found = [*kill_recorded(workdir), *_marked(stack_id, workdir)]
        for proc in found:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        cgroup_killed = cgroups.kill_members(cgroups.ROOT, stack_id)
        victims.update(found)
        if not found and not cgroup_killed:
            break
        _wait_gone(found)
    return len(victims)


def _wait_gone(procs: list[psutil.Process], timeout_s: float = _GONE_WAIT_S) -> None:
    """Wait until each process has exited; reap those that are our own children.

    Another's zombie counts as gone: only its parent (or init) can reap it.
    """
    deadline = time.monotonic() + timeout_s
    alive = list(procs)
    while alive and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(alive, timeout=0.05)
        alive = [p for p in alive if _running(p)]


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def remove_stack(workdir: Path, stack_id: str | None = None) -> None:
    """Remove a stack's cgroups, and its work dir when it is a stack's own (named by its id)."""
    stack_id = stack_id or workdir.name
    cgroups.remove_tree(cgroups.ROOT, stack_id)
    if workdir.name == stack_id and is_work_dir(workdir):
        _remove_work_dir(workdir)


def _remove_work_dir(workdir: Path) -> None:
    """rmtree, the claim last: a removal cut short (its harness killed mid-way) leaves
    a work dir that still says whose it is, for the watchdog or the next command."""
    marks = ("pids.json", "owner.json")
    with contextlib.suppress(OSError):
        for entry in list(workdir.iterdir()):
            if entry.name in marks:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    for name in marks:
        with contextlib.suppress(OSError):
            (workdir / name).unlink(missing_ok=True)
    shutil.rmtree(workdir, ignore_errors=True)


def clean_stack(workdir: Path) -> int:
    """Kill what a dead owner's stack left and remove its cgroups and work dir."""
    killed = kill_stack(workdir)
    remove_stack(workdir)
    return killed


def reap_stale(state_dir: Path) -> list[str]:
    """Clean up every stack under state_dir whose owner died; return their ids."""
    reaped: list[str] = []
    stacks = state_dir / "stacks"
    if not stacks.is_dir():
        return reaped
    for workdir in sorted(p for p in stacks.iterdir() if p.is_dir()):
        # a work dir no harness claimed has no process yet: not stale, maybe not ours
        if not (workdir / "owner.json").is_file() or owner_alive(workdir):
            continue
        clean_stack(workdir)
        reaped.append(workdir.name)
    return reaped


def live_stacks(state_dir: Path) -> list[Path]:
    """Work dirs of stacks whose owner is still running."""
    stacks = state_dir / "stacks"
    if not stacks.is_dir():
        return []
    return [p for p in sorted(stacks.iterdir()) if p.is_dir() and owner_alive(p)]


def stop_owner(workdir: Path, timeout_s: float) -> bool:
    """SIGTERM the harness that owns a stack, as Ctrl-C would; SIGKILL it after timeout_s.

    Its own teardown stops the stack; when it does not end in time, it and its stack
    are killed (its watchdog would do the same). False when it was already gone.
    """
    owner = read_owner(workdir)
    pid = int(str(owner.get("pid", 0)))
    if pid in (0, os.getpid()) or not owner_alive(workdir):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and owner_alive(workdir):
        time.sleep(0.1)
    if owner_alive(workdir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        clean_stack(workdir)
    return True


# -- results folders in progress ---------------------------------------------------


def run_note(state_dir: Path, results: Path) -> Path:
    """Where this process notes that it writes the results folder `results`."""
    digest = hashlib.sha1(str(results.resolve()).encode()).hexdigest()[:12]
    return state_dir / "runs" / f"{os.getpid()}-{digest}.json"


def note_run(state_dir: Path, results: Path) -> Path:
    """Note that this process writes `results` until forget_run(); return the note."""
    note = run_note(state_dir, results)
    note.parent.mkdir(parents=True, exist_ok=True)
    me = psutil.Process()
    write_json_atomic(note, {"pid": me.pid, "create_time": me.create_time(),
                             "results": str(results.resolve())})
    return note


def forget_run(state_dir: Path, results: Path) -> None:
    run_note(state_dir, results).unlink(missing_ok=True)


def reap_runs(state_dir: Path, mark_gone: Callable[[Path, int], bool]) -> list[Path]:
    """Results folders whose run's owner is gone: `mark_gone(folder, pid)` each, forget it.

    Returns the folders whose marker `mark_gone` updated (one still saying "running").
    """
    runs = state_dir / "runs"
    if not runs.is_dir():
        return []
    marked = []
    for note in sorted(runs.glob("*.json")):
        try:
            data = json.loads(note.read_text())
            pid, created, results = int(data["pid"]), float(data["create_time"]), data["results"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if same_process(pid, created):
            continue
        if mark_gone(Path(results), pid):
            marked.append(Path(results))
        note.unlink(missing_ok=True)
    return marked
