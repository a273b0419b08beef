"""What every orchestrator shares: a watch loop in a plain thread, profile timings, events.

Each orchestrator polls the runtime (is the component still running?) every
`poll_s`, and hands a reaction (restart a task, fail over) to its own thread so
two dead tasks are replaced in parallel as ECS would. Every action is an event (an
`OrchestratorEvent`, harness.records.events) in the run's journal. Timings come from
the stack profile (AWS figures with their sources) multiplied by the run's time scale.

A started instance/task joins the load balancer only once its process answers
(`await_boot`): the time scale shortens AWS's health checks, not the process's own
start, so a service that takes seconds to boot would otherwise be judged unhealthy
and replaced before it could ever answer, which AWS's 30 s checks would not do.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from harness.errors import StackError
from harness.model.cited import Timing
from harness.model.profile import Profile
from harness.records.events import OrchestratorEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk
from harness.stacks.components import mariadb
from harness.stacks.components.haproxy import HaproxyAdmin, TargetGroupSettings
from harness.stacks.components.targets import TargetGroup
from harness.stacks.topology import StackInfo


@dataclass
class StackHandles:
    """What orchestrators act on: the runtime, the stack's endpoints, the journal."""

    runtime: Runtime
    info: StackInfo
    profile: Profile
    time_scale: float
    events: EventLog
    #: called after the stack's endpoints changed (a failover), to persist stack.json
    on_change: Callable[[], None] = lambda: None

    @property
    def haproxy(self) -> HaproxyAdmin:
        return HaproxyAdmin(self.info.haproxy_socket)

    @property
    def targets(self) -> TargetGroup:
        """The load balancer's targets, with the profile's deregistration delay (scaled)."""
        return TargetGroup(self.haproxy, TargetGroupSettings.of(self.profile, self.time_scale))

    def scaled(self, timing: Timing) -> float:
        """A profile timing in seconds at the run's time scale."""
        return timing.at(self.time_scale)


#: how often a starting instance/task is asked whether it answers (its own start, unscaled)
BOOT_POLL_S = 0.1

#: how a start ended: its liveness path answered 200, `app.start_timeout_s` passed, its
#: process exited (the failed-start path follows), or the stack is being stopped
BootOutcome = Literal["answered", "timed_out", "exited", "stopping"]


@dataclass(frozen=True)
class Boot:
    """How a just-launched instance/task came up, before its registration."""

    #: seconds from its launch to the outcome
    seconds: float
    outcome: BootOutcome

    def fields(self) -> dict[str, Any]:
        """What its registration event records: `boot_s` and `boot` (the outcome)."""
        return {"boot_s": round(self.seconds, 3), "boot": self.outcome}


class Orchestrator:
    """A watch loop; subclasses implement `tick()` and react through `react()`."""

    name = "orchestrator"
    poll_s = 0.05

    def __init__(self, handles: StackHandles) -> None:
        self.h = handles
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._reactions: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30) -> None:
        """Stop watching and wait for reactions under way (they check `stopping`)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        for reaction in list(self._reactions.values()):
            reaction.join(timeout_s)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; return False if the stack is being stopped."""
        return not self._stop.wait(seconds)

    def emit(self, kind: OrchestratorEvent, **fields: Any) -> None:
        self.h.events.emit(kind, orchestrator=self.name, **fields)

    def relaunch(self, name: str) -> None:
        """Start a new process for a stopped component, without waiting for it to be ready.

        The load balancer's health checks decide when it gets traffic (a replacement
        whose deep health check fails still runs, as a real task or instance would).
        """
        spec = self.h.runtime.spec(name)
        if spec is None:
            raise StackError(f"{name} was never started; nothing to relaunch")
        with contextlib.suppress(StackError):
            self.h.runtime.kill(name)  # forget the dead process, if the runtime has not
        self.h.runtime.launch(spec)

    def await_boot(self, name: str, *, port: int | None = None,
                   since: float | None = None) -> Boot:
        """Wait until a launched instance/task answers `app.liveness_path`, to register it.

        Gives up after `app.start_timeout_s` (unscaled: the harness's patience) and returns
        at once when its process exits: either way the caller registers it and the load
        balancer's checks and the orchestrator's watch judge it as on AWS (a replacement
        whose database is down still fails its deep check). Only the calling reaction's
        thread waits; the loop and the other members go on. `port`: the member's, when it
        is not in `info.components` yet; `since`: when it was launched (default: now).
        """
        started = time.monotonic() if since is None else since
        app = self.h.profile.app
        if port is None:
            port = self.h.info.components[name].port
        liveness = HttpOk(f"http://{LOOPBACK}:{port}{app.liveness_path}")
        deadline = started + app.start_timeout_s
        outcome: BootOutcome
        while True:
            if not self.h.runtime.is_running(name):
                outcome = "exited"
            elif liveness.check() is None:
                outcome = "answered"
            elif time.monotonic() >= deadline:
                outcome = "timed_out"
            elif not self.sleep(BOOT_POLL_S):
                outcome = "stopping"
            else:
                continue
            return Boot(time.monotonic() - started, outcome)

    def busy(self, key: str) -> bool:
        with self._lock:
            reaction = self._reactions.get(key)
            return reaction is not None and reaction.is_alive()

    def react(self, key: str, action: Callable[[], None]) -> None:
        """Run action in its own thread unless a reaction for key is under way."""
        with self._lock:
            current = self._reactions.get(key)
            if current is not None and current.is_alive():
                return

            def guarded() -> None:
                try:
                    action()
                except Exception as exc:
                    if not self.stopping:
                        self.emit(OrchestratorEvent.ACTION_FAILED,
                                  key=key, error=f"{type(exc).__name__}: {exc}")

            thread = threading.Thread(target=guarded, name=f"{self.name}:{key}", daemon=True)
            self._reactions[key] = thread
            thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.tick()
            except Exception as exc:
                self.emit(OrchestratorEvent.WATCH_FAILED, error=f"{type(exc).__name__}: {exc}")
                time.sleep(1)

    def tick(self) -> None:
        raise NotImplementedError

    def adopt(self, name: str) -> None:
        """A member auto scaling just launched joins the fleet (a grace period starts)."""


class DatabaseOrchestrator(Orchestrator):
    """What RDS and Aurora share: which instance writes now, and in-place reboots."""

    def __init__(self, handles: StackHandles) -> None:
        super().__init__(handles)
        #: held while the instances change roles (failover, switchover, reboot)
        self._switching = threading.Lock()

    def _port(self, name: str) -> int:
        return self.h.info.components[name].port

    def _promotion_s(self, failover: Timing, dns_ttl: Timing) -> float:
        """From the writer's failure to the promoted instance taking writes (scaled).

        AWS times a failover to the endpoint working again, its DNS change included
        (Aurora FAQ: the CNAME flip, 'start-to-finish ... within 30 seconds'; RDS User Guide,
        Failing over a Multi-AZ DB instance: the DNS record moves to the standby within the
        60-120 s), so the TTL is counted once, inside the figure: clients resolving the
        endpoint reach the new writer at `failover`, RDS Proxy (no DNS wait) `dns_ttl` sooner.
        """
        return max(0.0, self.h.scaled(failover) - self.h.scaled(dns_ttl))

    def current_writer(self) -> str:
        raise NotImplementedError

    def current_replica(self) -> str | None:
        """The instance replicating from the writer (Aurora reader, Multi-AZ standby)."""
        raise NotImplementedError

    def reboot(self, name: str, *, force: bool) -> None:
        """Restart an instance in place (db_reboot); a rebooted writer does not fail over."""
        with self._switching:
            self.emit(OrchestratorEvent.REBOOT_STARTED, component=name, force=force)
            started = time.monotonic()
            if force:
                self.h.runtime.kill(name)
            else:
                self.h.runtime.stop(name)
            self.h.runtime.restart(name)
            if name == self.current_replica():
                mariadb.rejoin_as_replica(
                    replica_port=self._port(name), writer_port=self._port(self.current_writer())
                )
            self.emit(OrchestratorEvent.REBOOT_DONE,
                      component=name, down_s=round(time.monotonic() - started, 3))
