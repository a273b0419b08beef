"""What both deploy strategies share: the release's variables, the stop signal, events.

A deploy runs in its own thread from `start()` (the fault executor's apply) until it
is done; `stop()` (the executor's revert at the end of the run) ends an unfinished one
where it stands. Every step is a `DeployEvent` (`deploy.<step>`) in the run's journal
with the deploy's name, so analysis (harness.analysis.deploys) and the report's
timeline read them back.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from harness.errors import FaultError
from harness.model.cited import Timing
from harness.records.events import DeployEvent
from harness.runtime.events import EventLog
from harness.scenario.faults import Deploy

#: how often a waiting deploy looks at its alarm and its stop signal
POLL_S = 0.1


def release_env(spec: Deploy) -> dict[str, str]:
    """The variables both sample services read for a release (stacks/apps/README.md)."""
    return {
        "APP_VERSION": spec.version,
        "APP_VERSION_ERROR_PERCENT": str(spec.error_percent),
        "APP_VERSION_LATENCY_MS": str(spec.latency_ms),
    }


def serves_version(url: str, version: str, *, liveness_path: str, timeout_s: float = 1.0
                   ) -> bool:
    """Does the app at url answer its liveness check (`app.liveness_path`) as this release?"""
    try:
        reply = requests.get(f"{url}{liveness_path}", timeout=timeout_s)
    except requests.RequestException:
        return False
    return reply.status_code == 200 and reply.headers.get("X-App-Version") == version


class DeployRun:
    """One deploy in its own thread; subclasses implement `run()`."""

    strategy = "deploy"

    def __init__(self, spec: Deploy, name: str, *, events: EventLog, time_scale: float) -> None:
        self.spec = spec
        self.name = name
        self.events = events
        self.time_scale = time_scale
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"deploy:{name}", daemon=True)
        self.outcome: str | None = None

    def scaled(self, timing: Timing) -> float:
        return timing.at(self.time_scale)

    def emit(self, kind: DeployEvent, **fields: Any) -> None:
        self.events.emit(kind, deploy=self.name, strategy=self.strategy, **fields)

    def start(self) -> None:
        self.emit(DeployEvent.START, version=self.spec.version, **self.describe())
        self._thread.start()

    def stop(self, timeout_s: float = 30) -> None:
        """End an unfinished deploy where it stands (the run is over) and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; False when the run ended meanwhile."""
        return not self._stop.wait(max(0.0, seconds))

    def describe(self) -> dict[str, Any]:
        """The deploy's parameters for its `deploy.start` event."""
        return {}

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # an event, never a silent end: the run records it
            error = str(exc) if isinstance(exc, FaultError) else f"{type(exc).__name__}: {exc}"
            self.outcome = "failed"
            self.emit(DeployEvent.FAILED, error=error)
        if self.outcome is None:
            self.outcome = "unfinished"
            self.emit(DeployEvent.UNFINISHED, reason="the run ended before the deploy was done")

    def run(self) -> None:
        raise NotImplementedError
