"""The one runtime interface: how components are started, stopped and disrupted.

A runtime never decides *when*: the stack starts things, the fault executor
disrupts them. `process` (local processes) implements it now; a Docker runtime
implements the same interface.
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


class Runtime(Protocol):
    """Start, stop, kill, pause and resume components; keep their logs."""

    name: str

    def start(self, spec: ComponentSpec) -> float:
        """Start the component and wait until ready; return seconds to ready."""

    def start_many(self, specs: list[ComponentSpec]) -> dict[str, float]:
        """Start several components at once; return each one's seconds to ready."""

    def stop(self, name: str) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after the grace period)."""

    def kill(self, name: str) -> None:
        """Kill at once (SIGKILL), as a crashed instance."""

    def pause(self, name: str) -> None:
        """Freeze every process of the component (SIGSTOP / docker pause)."""

    def resume(self, name: str) -> None:
        """Undo `pause`."""

    def is_running(self, name: str) -> bool:
        """True while every process of the component is alive."""

    def log_path(self, name: str) -> Path:
        """The component's log file."""

    def components(self) -> list[str]:
        """Names of the components this runtime has started and not stopped."""

    def close(self) -> None:
        """Stop everything started, resume anything paused. Idempotent."""
