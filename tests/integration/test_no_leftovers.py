"""A `harness run` killed with SIGKILL leaves nothing running, with no further command.

The run's watchdog kills every process of its stack (nginx's and php-fpm's workers
included), its load generator and its cgroups within a moment of the harness's death,
and says in the results folder's INCOMPLETE that the owner is gone. Killed at three
moments: while the stack starts, during the load, and while the ASG replaces the
instance the scenario killed (a component started from an orchestrator's thread).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.support.cli_process import LegacySmoke

pytestmark = pytest.mark.integration

#: the issue's measure: 5 s after the SIGKILL, nothing of the run may be left
AFTER_S = 5.0


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _of_the_run(state: Path, out: Path, owner: int, stack_ids: set[str], groups: set[int]
                ) -> list[psutil.Process]:
    """Every live process that belongs to the run, by every trace it can leave.

    Its state or results dir in argv or cwd (MariaDB, HAProxy, nginx's and php-fpm's
    masters, the generator), a stack's id in its environment (Toxiproxy, LocalStack, the
    Go and Python components), the process groups the stack's processes led (nginx's
    and php-fpm's workers, which show neither), and the owner's watchdog.
    """
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if proc.pid == os.getpid() or not _alive(proc):
            continue
        argv = proc.info["cmdline"] or []
        text = " ".join(argv) + " " + (proc.info["cwd"] or "")
        try:
            ours = (str(state) in text or str(out) in text
                    or os.getpgid(proc.pid) in groups
                    or ("harness.runtime.watchdog" in argv and str(owner) in argv)
                    or proc.environ().get("HARNESS_STACK_ID") in stack_ids)
        except (psutil.Error, ProcessLookupError):
            continue
        if ours:
            found.append(proc)
    return found


def _describe(procs: list[psutil.Process]) -> list[str]:
    described = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:100]}")
    return described


@pytest.mark.parametrize(("after", "wait_s"), [
    ("legacy: starting the stack", 2.0),  # MariaDB and LocalStack starting, apps not yet
    ("load for", 9.0),  # app-1 killed at 6 s: the ASG replaces it from its own thread
])
def test_sigkill_leaves_no_process_behind(after: str, wait_s: float, short_tmp: Path,
                                          tmp_path: Path) -> None:
    state, out = short_tmp, tmp_path / "out"
    run = LegacySmoke(state, out)
    try:
        run.wait_for(after)
        time.sleep(wait_s)
        assert run.proc.poll() is None, "\n".join(run.lines)
        stacks = state / "stacks"
        stack_ids = {p.name for p in stacks.iterdir()} if stacks.is_dir() else set()
        descendants = psutil.Process(run.proc.pid).children(recursive=True)
        groups = {os.getpgid(p.pid) for p in descendants if _alive(p)} - {os.getpgid(0)}
        assert stack_ids, "the stack's work dir should exist by now"

        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait()
        time.sleep(AFTER_S)

        left = [p for p in descendants if _alive(p)]
        left += [p for p in _of_the_run(state, out, run.proc.pid, stack_ids, groups)
                 if p not in left]
        assert _describe(left) == [], f"{len(left)} processes outlived the harness"
        assert not any(stacks.iterdir()), "the stack's work dir stays"
        for stack_id in stack_ids:  # its cgroups are gone too (where it had any)
            assert not list(Path("/sys/fs/cgroup").glob(f"*/harness/{stack_id}"))
            assert not list(Path("/sys/fs/cgroup").glob(f"harness/{stack_id}"))
        (folder,) = out.iterdir()
        marker = (folder / "INCOMPLETE").read_text()
        assert marker.startswith(f"ended: owner pid {run.proc.pid} gone, found at "), marker
    finally:
        run.close()
