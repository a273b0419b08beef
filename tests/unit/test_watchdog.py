"""The watchdog: when its harness dies (kill -9), what the harness guarded dies too, at once.

An "owner" here is a small Python process standing in for the harness: it starts a
process group with workers (like nginx's master and workers, without PDEATHSIG),
records it in a stack's registry, guards the stack and a results folder, and waits
to be killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.records.marker import MARKER, mark_owner_gone
from harness.runtime import registry

OWNER = textwrap.dedent("""
    import json, subprocess, sys, time
    from pathlib import Path
    import psutil
    from harness.runtime import registry, watchdog

    state, release = Path(sys.argv[1]), sys.argv[2] == "release"
    workdir = state / "stacks" / "legacy-test-1"
    workdir.mkdir(parents=True)
    results = state / "results"
    results.mkdir()
    (results / "INCOMPLETE").write_text("running since then (pid 1)\\n")
    watchdog.guard("stack", workdir, stack_id=workdir.name)
    leader = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"],
                              start_new_session=True)
    while len(psutil.Process(leader.pid).children()) < 2:
        time.sleep(0.01)
    registry.Registry(workdir).add(registry.ProcessRecord(
        "app-1", "nginx", leader.pid, psutil.Process(leader.pid).create_time()))
    with watchdog.guarding_results(state, results):
        if release:
            watchdog.release("stack", workdir)
        group = [leader.pid, *(c.pid for c in psutil.Process(leader.pid).children())]
        print(json.dumps({"group": group}), flush=True)
        time.sleep(300)
""")


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _watchdogs_of(pid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if "harness.runtime.watchdog" in argv and str(pid) in argv:
            found.append(proc)
    return found


def _until(check: object, timeout_s: float = 5.0) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


class _Owner:
    def __init__(self, state: Path, *, release: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", OWNER, str(state), "release" if release else "keep"],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        self.group: list[int] = json.loads(self.proc.stdout.readline())["group"]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def owners(tmp_path: Path) -> Iterator[list[_Owner]]:
    started: list[_Owner] = []
    yield started
    for owner in started:  # nothing of a failed test stays behind
        if owner.proc.poll() is None:
            owner.kill()
        for pid in owner.group:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_owner_takes_its_process_groups_with_it(tmp_path: Path, owners: list[_Owner]
                                                         ) -> None:
    owner = _Owner(tmp_path)
    owners.append(owner)
    [dog] = _watchdogs_of(owner.proc.pid)
    # the terminal's Ctrl-C and a stray SIGTERM do not end it
    dog.send_signal(signal.SIGINT)
    dog.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert dog.is_running()
    assert os.getsid(dog.pid) != os.getsid(0)  # a session of its own

    owner.kill()

    assert _until(lambda: all(_dead(pid) for pid in owner.group)), "the group outlived its owner"
    assert _until(lambda: not (tmp_path / "stacks" / "legacy-test-1").exists())
    assert _until(lambda: _dead(dog.pid)), "the watchdog stays after its job"
    marker = (tmp_path / "results" / MARKER).read_text()
    assert marker.startswith(f"ended: owner pid {owner.proc.pid} gone, found at ")
    assert "legacy-test-1: 3 processes" in marker
    assert not list((tmp_path / "runs").glob("*.json"))


def test_what_the_owner_released_is_left_alone(tmp_path: Path, owners: list[_Owner]) -> None:
    owner = _Owner(tmp_path, release=True)
    owners.append(owner)
    [dog] = _watchdogs_of(owner.proc.pid)

    owner.kill()

    assert _until(lambda: _dead(dog.pid))
    assert not any(_dead(pid) for pid in owner.group)
    # the results folder was still guarded: its marker says the owner is gone
    assert (tmp_path / "results" / MARKER).read_text().startswith("ended: owner pid")


def _dead_pid() -> tuple[int, float]:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    created = psutil.Process(proc.pid).create_time()
    proc.wait()
    return proc.pid, created


def test_the_next_command_marks_a_dead_runs_folder(tmp_path: Path) -> None:
    """When the watchdog could not (it was killed too), the next command says it."""
    state, running, interrupted = tmp_path / "state", tmp_path / "a", tmp_path / "b"
    for folder, text in ((running, "running since 2026-12-06T10:00:00+00:00 (pid 7)"),
                         (interrupted, "interrupted at 2026-12-06T10:01:00+00:00 by SIGTERM")):
        folder.mkdir()
        (folder / MARKER).write_text(text + "\n")
        note = registry.note_run(state, folder)
        pid, created = _dead_pid()
        note.write_text(json.dumps({"pid": pid, "create_time": created,
                                    "results": str(folder)}))
    mine = tmp_path / "c"
    mine.mkdir()
    (mine / MARKER).write_text("running since now\n")
    registry.note_run(state, mine)  # this process: alive

    assert registry.reap_runs(state, mark_owner_gone) == [running]

    text = (running / MARKER).read_text()
    assert text.startswith("ended: ")  # how depends on when this machine booted
    assert "gone, found at " in text
    assert "(running since 2026-12-06T10:00:00+00:00 (pid 7))" in text
    assert (interrupted / MARKER).read_text().startswith("interrupted at")  # how it ended
    assert (mine / MARKER).read_text() == "running since now\n"
    assert [n.name for n in (state / "runs").iterdir()] == [registry.run_note(state, mine).name]
