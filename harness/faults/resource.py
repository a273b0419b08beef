"""Resource faults inside one task's limits: cpu_stress and memory_pressure.

A helper process joins the task's own cgroups, so it competes for the task's
CPU quota and counts against its memory limit, as a noisy neighbour inside
the container would; nothing outside the task is starved. The helper dies on
revert, and with the harness that started it (PDEATHSIG) if that one dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultType, register
from harness.runtime import cgroups

_PR_SET_PDEATHSIG = 1

_CPU = "while True: pass"
_MEMORY = (
    "import sys, time\n"
    "size = int(sys.argv[1]) * 1024 * 1024\n"
    "block = bytearray(size)\n"
    "for i in range(0, size, 4096): block[i] = 1\n"
    "print('holding', size, flush=True)\n"
    "time.sleep(10 ** 9)\n"
)


def _preexec(procs: list[Path]) -> Callable[[], None]:
    def setup() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        cgroups.join(procs)

    return setup


class _Helpers(FaultType):
    """Starts helper processes inside each target's cgroups; kills them on revert."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helpers: list[subprocess.Popen[bytes]] = []
        self.limiter = cgroups.CgroupLimiter(self.ctx.info.stack_id)

    def argvs(self) -> list[list[str]]:
        raise NotImplementedError

    def apply(self) -> None:
        if not self.limiter.available:
            raise FaultError(
                f"{self.spec.type}: cannot stay inside the task's limits: {self.limiter.reason}"
            )
        for name in self.targets:
            procs = self.limiter.procs_files(name)
            if not procs:
                raise FaultError(
                    f"{self.spec.type}: {name} has no CPU or memory limits (no cgroup); "
                    "give the profile's app.size"
                )
            for argv in self.argvs():
                self._helpers.append(subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True,
                    preexec_fn=_preexec(procs),
                ))

    def revert(self) -> None:
        for helper in self._helpers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(helper.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.wait(timeout=5)
        self._helpers = []


@register
class CpuStress(_Helpers):
    types = ("cpu_stress",)

    def argvs(self) -> list[list[str]]:
        return [[sys.executable, "-c", _CPU] for _ in range(self.spec.params()["workers"])]


@register
class MemoryPressure(_Helpers):
    types = ("memory_pressure",)

    def argvs(self) -> list[list[str]]:
        return [[sys.executable, "-c", _MEMORY, str(self.spec.params()["memory_mb"])]]
