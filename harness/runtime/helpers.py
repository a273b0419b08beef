"""Helper processes inside a component's cgroups: a noisy neighbour within its limits.

`cpu_stress` and `memory_pressure` start such a helper: it joins the component's own
cgroups, so it competes for the component's CPU quota and counts against its memory
limit, and nothing outside the component is starved. It dies on `stop()`, and with
the harness that started it (PDEATHSIG) if that one dies first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from harness.errors import StackError
from harness.runtime import cgroups

_PR_SET_PDEATHSIG = 1


def child_setup(procs: list[Path]) -> Callable[[], None]:
    """A preexec_fn: the child joins these cgroups and dies with the harness."""
    parent = os.getpid()

    def setup() -> None:
        # If the harness is SIGKILLed, take the child down with it; its watchdog
        # covers what this misses (grandchildren).
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the harness died before PDEATHSIG was armed
        cgroups.join(procs)

    return setup


class CgroupHelper:
    """One helper process in its own session, inside the given cgroups."""

    def __init__(self, argv: list[str], procs_files: list[Path]) -> None:
        self._popen: subprocess.Popen[bytes] | None = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=child_setup(procs_files),
        )
        self.pid = self._popen.pid

    def stop(self) -> None:
        popen, self._popen = self._popen, None
        if popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)


def run_in_cgroups(stack_id: str, name: str, argv: list[str]) -> CgroupHelper:
    """Start a helper inside component `name`'s cgroups of stack `stack_id`."""
    limiter = cgroups.CgroupLimiter(stack_id)
    if not limiter.available:
        raise StackError(f"cannot stay inside {name}'s limits: {limiter.reason}")
    procs = limiter.procs_files(name)
    if not procs:
        raise StackError(
            f"{name} has no CPU or memory limits (no cgroup); give the profile's app.size"
        )
    return CgroupHelper(argv, procs)
