"""Process faults: kill (a crash), pause (a hang), az_outage (a zone's components crash).

They act through the runtime's ProcessControl; what happens next (a task
restarted, an instance replaced, a failover) is the orchestrators' business.
"""

from __future__ import annotations

from typing import Any

from harness.errors import FaultError, StackError
from harness.faults.base import FaultType, register


@register
class Kill(FaultType):
    """SIGKILL every process of every target (az_outage: every component of the zone)."""

    types = ("kill", "az_outage")

    def apply(self) -> None:
        failed: list[str] = []
        for name in self.targets:
            try:
                self.ctx.processes.kill(name)
            except (FaultError, StackError) as exc:
                failed.append(f"{name}: {exc}")
        if failed:
            raise FaultError(f"could not kill {'; '.join(failed)}")


@register
class Pause(FaultType):
    """SIGSTOP the targets for the duration, SIGCONT on revert."""

    types = ("pause",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paused: list[str] = []

    def apply(self) -> None:
        for name in self.targets:
            try:
                self.ctx.processes.pause(name)
            except StackError as exc:
                raise FaultError(f"could not pause {name}: {exc}") from None
            self._paused.append(name)

    def revert(self) -> None:
        failed: list[str] = []
        for name in list(self._paused):
            try:
                self.ctx.processes.resume(name)
            except (FaultError, StackError) as exc:
                # a paused component that was killed meanwhile has nothing to resume
                if self.ctx.processes.is_running(name):
                    failed.append(f"{name}: {exc}")
                    continue
            self._paused.remove(name)
        if failed:
            raise FaultError(f"could not resume {'; '.join(failed)}")
