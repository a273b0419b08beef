"""Resource faults inside one task's limits: cpu_stress and memory_pressure.

The runtime runs each helper inside the target's own limits (`run_inside`: the
process runtime joins the task's cgroups, the docker runtime execs in its
container), so it competes for the task's CPU quota and counts against its memory
limit, as a noisy neighbour inside the container would; nothing outside the task
is starved. The helpers end on revert.
"""

from __future__ import annotations

import sys
from typing import Any

from harness.errors import FaultError, StackError
from harness.faults.base import FaultType, register
from harness.runtime.base import Helper

_CPU = "while True: pass"
_MEMORY = (
    "import sys, time\n"
    "size = int(sys.argv[1]) * 1024 * 1024\n"
    "block = bytearray(size)\n"
    "for i in range(0, size, 4096): block[i] = 1\n"
    "print('holding', size, flush=True)\n"
    "time.sleep(10 ** 9)\n"
)


class _Helpers(FaultType):
    """Starts helper processes inside each target's limits; ends them on revert."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helpers: list[Helper] = []

    def argvs(self) -> list[list[str]]:
        raise NotImplementedError

    def apply(self) -> None:
        for name in self.targets:
            for argv in self.argvs():
                try:
                    self._helpers.append(self.ctx.processes.run_inside(name, argv))
                except StackError as exc:
                    raise FaultError(f"{self.spec.type}: {exc}") from None

    def revert(self) -> None:
        for helper in self._helpers:
            helper.stop()
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
