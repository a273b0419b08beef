"""The one runtime interface: how components are started, stopped and disrupted.

A runtime never decides *when*: the stack starts things, the fault executor
disrupts them, the orchestrators replace what died. `process` (local processes,
harness.runtime.process) and `docker` (containers, harness.runtime.docker) implement
it; everything outside harness/runtime holds a `Runtime`, and only
`harness.runtime.select` names the concrete classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.runtime.wait import WaitStrategy


@dataclass(frozen=True)
class Limits:
    """CPU and memory limits of one component, like an ECS task's."""

    cpus: float | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class InForce:
    """A component's limits as the runtime reads them back (None = no limit)."""

    cpus: float | None
    memory_mb: int | None
    #: where they are held (cgroup directories, a container id)
    cgroups: tuple[str, ...]


@dataclass(frozen=True)
class ProcessSpec:
    """One OS process of a component (a component may need several: nginx + php-fpm)."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True)
class ComponentSpec:
    """What to run for one component and how to know it is ready."""

    name: str
    kind: str
    processes: tuple[ProcessSpec, ...]
    ready: WaitStrategy
    ready_timeout_s: float = 30.0
    #: how long SIGTERM may take before SIGKILL (LocalStack ignores SIGTERM a while)
    stop_grace_s: float = 5.0
    zone: str | None = None
    limits: Limits | None = None
    #: the container image (docker runtime); None = the runtime's image for `kind`
    image: str | None = None
    #: a minimal init as the container's PID 1 (docker runtime): a team's program may
    #: ignore SIGTERM as PID 1 (Python does), and each stop would wait out the grace
    init: bool = False


class Helper(Protocol):
    """A helper process a runtime runs inside a component's limits (a stressor)."""

    def stop(self) -> None:
        """End it (SIGKILL); idempotent."""


class StartsByLaunching:
    """`start` and `start_many` of every runtime, from its own `launch` and `wait`."""

    def launch(self, spec: ComponentSpec) -> None:
        raise NotImplementedError

    def wait(self, name: str) -> float:
        raise NotImplementedError

    def start(self, spec: ComponentSpec) -> float:
        self.launch(spec)
        return self.wait(spec.name)

    def start_many(self, specs: list[ComponentSpec]) -> dict[str, float]:
        """Launch all, then wait for each: slow starters (LocalStack) overlap the rest."""
        for spec in specs:
            self.launch(spec)
        return {spec.name: self.wait(spec.name) for spec in specs}


class Runtime(Protocol):
    """Start, stop, kill, pause and resume components; keep their logs."""

    name: str

    def launch(self, spec: ComponentSpec) -> None:
        """Start the component without waiting for readiness."""

    def wait(self, name: str) -> float:
        """Wait until a launched component is ready; return the seconds it took."""

    def start(self, spec: ComponentSpec) -> float:
        """Start the component and wait until ready; return seconds to ready."""

    def start_many(self, specs: list[ComponentSpec]) -> dict[str, float]:
        """Start several components at once; return each one's seconds to ready."""

    def restart(self, name: str) -> float:
        """Start a stopped, killed or crashed component again from its spec; wait until ready."""

    def spec(self, name: str) -> ComponentSpec | None:
        """The spec a component was started with (also after it was killed)."""

    def stop(self, name: str) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after the grace period)."""

    def kill(self, name: str) -> None:
        """Kill at once (SIGKILL / docker kill), as a crashed instance."""

    def pause(self, name: str) -> None:
        """Freeze every process of the component (SIGSTOP / docker pause)."""

    def resume(self, name: str) -> None:
        """Undo `pause`."""

    def is_running(self, name: str) -> bool:
        """True while every process of the component is alive (paused counts as alive)."""

    def is_paused(self, name: str) -> bool:
        """True while the component is paused."""

    def stop_state(self, name: str) -> str | None:
        """How the component is held still from outside now, or None when it is not.

        "process stopped" (a signal stopped its process: state T) or "cgroup frozen" (its
        cgroup frozen, a paused container): a hang `is_running` does not see. Its own
        `pause` shows here too; telling a scenario's pause from a hang is the caller's.
        """

    def exited(self) -> list[str]:
        """Components that died on their own (crashed, or killed outside the runtime)."""

    def components(self) -> list[str]:
        """Names of the components this runtime has started and not stopped."""

    def pids(self, name: str) -> list[int]:
        """Host PIDs of the component's main processes (for CPU accounting)."""

    def memory_usage_bytes(self, name: str) -> int | None:
        """Memory the component's limit counts now, or None when it has no limit."""

    def limits_enforcement(self) -> tuple[bool, str]:
        """Can this runtime enforce limits? (available, how or why not)."""

    def limits_in_force(self, name: str) -> InForce | None:
        """The component's limits as held now; None when they cannot be read."""

    def run_inside(self, name: str, argv: list[str]) -> Helper:
        """Run a helper inside the component's CPU and memory limits (a stressor).

        Raises StackError when the component has no limits to stay inside.
        """

    def log_path(self, name: str) -> Path:
        """The component's log file."""

    def close(self) -> None:
        """Stop everything started, resume anything paused. Idempotent."""
