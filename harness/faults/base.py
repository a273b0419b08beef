"""What every fault type shares: its context (the stack's handles), a registry by name.

A fault type is a small class with `apply()` and `revert()` registered under its
`type` name; its typed parameters are the scenario model (`harness.scenario.faults`).
Reverts are tolerant: they undo what apply did, also after a partial apply.
Process and resource faults go through `ProcessControl`: the stack's `Runtime`
(process or docker) in the harness that owns the stack; from another harness
(`harness inject`), `RecordedProcesses` through the stack's PID registry, or the
docker stack's containers found by its labels (`recorded_control`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import psutil

from harness.errors import FaultError
from harness.records.events import FaultEvent
from harness.runtime.base import Helper
from harness.runtime.events import EventLog
from harness.runtime.helpers import run_in_cgroups
from harness.runtime.registry import ProcessRecord, write_json_atomic
from harness.runtime.select import run_containers
from harness.scenario.faults import FaultSpec, Topology
from harness.stacks.components.haproxy import HaproxyAdmin, fault_map_path
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.stack import Stack
from harness.stacks.topology import StackInfo


class ProcessControl(Protocol):
    """The runtime calls process and resource faults need (a subset of `Runtime`)."""

    def kill(self, name: str) -> None: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def is_running(self, name: str) -> bool: ...

    def run_inside(self, name: str, argv: list[str]) -> Helper: ...


class DatabaseControl(Protocol):
    """The database orchestrator's calls db faults need (Aurora's cluster, RDS's instance)."""

    def current_writer(self) -> str: ...

    def switchover(self) -> None: ...

    def reboot(self, name: str, *, force: bool) -> None: ...


class RecordedProcesses:
    """ProcessControl for a stack owned by another harness: signals the recorded PIDs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def _records(self, name: str) -> list[ProcessRecord]:
        try:
            rows = json.loads((self.workdir / "pids.json").read_text())
        except (OSError, ValueError):
            rows = []
        records = [ProcessRecord(**r) for r in rows if r["component"] == name]
        return [r for r in records if _alive(r)]

    def _signal(self, name: str, sig: signal.Signals) -> None:
        records = self._records(name)
        if not records:
            raise FaultError(f"{name} has no running process in {self.workdir}/pids.json")
        for rec in records:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(rec.pid, sig)

    def kill(self, name: str) -> None:
        self._signal(name, signal.SIGKILL)

    def pause(self, name: str) -> None:
        self._signal(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self._signal(name, signal.SIGCONT)

    def is_running(self, name: str) -> bool:
        return bool(self._records(name))

    def run_inside(self, name: str, argv: list[str]) -> Helper:
        """A helper in the component's cgroups (the work dir is named after the stack)."""
        return run_in_cgroups(self.workdir.name, name, argv)

    def resume_all(self) -> None:
        """SIGCONT every recorded process group (harmless on running ones)."""
        try:
            rows = json.loads((self.workdir / "pids.json").read_text())
        except (OSError, ValueError):
            return
        for row in rows:
            rec = ProcessRecord(**row)
            if _alive(rec):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(rec.pid, signal.SIGCONT)


class RecordedControl(ProcessControl, Protocol):
    """ProcessControl of a stack another harness owns, which can also undo every pause."""

    def resume_all(self) -> None: ...


def recorded_control(info: StackInfo) -> RecordedControl:
    """How to reach the components of a stack started by another harness (`harness up`)."""
    if info.runtime == "docker":
        return run_containers(info.stack_id)
    return RecordedProcesses(Path(info.workdir))


def _alive(rec: ProcessRecord) -> bool:
    try:
        proc = psutil.Process(rec.pid)
        return abs(proc.create_time() - rec.create_time) < 0.05 and proc.status() != "zombie"
    except psutil.Error:
        return False


@dataclass
class FaultContext:
    """Handles on one running stack, for fault types to act through."""

    info: StackInfo
    processes: ProcessControl
    events: EventLog
    #: optional database controller (the Aurora/RDS orchestrator) for db_failover
    database: DatabaseControl | None = None
    #: the running Stack (profile, time scale, runtime) when this harness owns it; deploys
    #: need it to start task sets and reload instances
    stack: Stack | None = None
    topology: Topology = field(init=False)

    def __post_init__(self) -> None:
        self.topology = Topology.from_stack(self.info)
        self._toxiproxy: ToxiproxyClient | None = None

    @property
    def toxiproxy(self) -> ToxiproxyClient:
        if self._toxiproxy is None:
            self._toxiproxy = ToxiproxyClient(self.info.toxiproxy_api)
        return self._toxiproxy

    @property
    def haproxy(self) -> HaproxyAdmin:
        return HaproxyAdmin(self.info.haproxy_socket)

    @property
    def haproxy_map(self) -> Path:
        return fault_map_path(Path(self.info.workdir))


class FaultType:
    """One fault on its resolved targets. Subclasses implement apply and (unless instant) revert."""

    #: the `type` names this class implements
    types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: FaultSpec, name: str, targets: list[str], ctx: FaultContext) -> None:
        self.spec = spec
        self.name = name
        self.targets = targets
        self.ctx = ctx

    def apply(self) -> None:
        """Put the fault in place on every target; raise FaultError when it cannot."""
        raise NotImplementedError

    def revert(self) -> None:
        """Undo what apply did (also a partial apply); instantaneous faults do nothing."""


REGISTRY: dict[str, type[FaultType]] = {}


def register(cls: type[FaultType]) -> type[FaultType]:
    """Class decorator: make the class the implementation of its `types`.

    A fault type lives in one place: a second class claiming a type is an error.
    """
    for name in cls.types:
        other = REGISTRY.get(name)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"fault type {name!r} is implemented twice: "
                            f"{other.__module__}.{other.__qualname__} and "
                            f"{cls.__module__}.{cls.__qualname__}")
        REGISTRY[name] = cls
    return cls


def _load_all() -> None:
    # Importing the family modules fills REGISTRY; done lazily to keep imports one-way.
    from harness.faults import aws, db, deploy, lb, network, process, resource  # noqa: F401


def build(spec: FaultSpec, name: str, ctx: FaultContext) -> FaultType:
    """The fault type instance for a spec, with its targets resolved on the running stack."""
    _load_all()
    cls = REGISTRY.get(spec.type)
    if cls is None:
        raise FaultError(
            f"fault {name}: type {spec.type!r} has no implementation in harness/faults"
        )
    try:
        targets = ctx.topology.resolve(spec)
    except ValueError as exc:
        raise FaultError(f"fault {name}: target: {exc}") from None
    return cls(spec, name, targets, ctx)


def implemented() -> set[str]:
    _load_all()
    return set(REGISTRY)


# -- the journal of active faults, for cleaning up after a harness that died ------------

JOURNAL_GLOB = "faults-active-*.json"


def journal_path(workdir: Path, pid: int | None = None) -> Path:
    """One journal per harness process, so two drills on one stack do not overwrite each other."""
    return workdir / f"faults-active-{os.getpid() if pid is None else pid}.json"


def write_journal(workdir: Path, active: list[dict[str, Any]]) -> None:
    """Record the faults in place now (with our PID) in the stack's work dir."""
    path = journal_path(workdir)
    if active:
        me = psutil.Process()
        write_json_atomic(path, {"pid": me.pid, "create_time": me.create_time(), "active": active})
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def revert_leftovers(ctx: FaultContext, note: Callable[[str], None] = lambda _m: None) -> bool:
    """Undo faults left in place by a harness that died; return True if there were any.

    The journals say whether there is something to undo; the undo itself is the
    idempotent reset of everything a fault can touch, so a journal written just
    before a crash is enough.
    """
    workdir = Path(ctx.info.workdir)
    left: list[dict[str, Any]] = []
    dead: list[Path] = []
    for path in sorted(workdir.glob(JOURNAL_GLOB)):
        try:
            journal = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid, created = int(journal["pid"]), float(journal["create_time"])
        owner = ProcessRecord("harness", "harness", pid, created)
        if not _alive(owner):
            left += [{**a, "pid": owner.pid} for a in journal.get("active", [])]
            dead.append(path)
    if not dead:
        return False
    reset_all(ctx, workdir)
    for path in dead:
        path.unlink(missing_ok=True)
    names = ", ".join(f"{a.get('name')} (pid {a['pid']})" for a in left)
    note(f"reverted faults left by a harness that died: {names}")
    ctx.events.emit(FaultEvent.LEFTOVERS_REVERTED, faults=left)
    return True


def reset_all(ctx: FaultContext, workdir: Path) -> None:
    """Remove every toxic, enable every proxy, resume every process, clear LB faults."""
    ctx.toxiproxy.reset()
    recorded_control(ctx.info).resume_all()
    from harness.stacks.components.haproxy import ERROR_STATUSES

    admin = ctx.haproxy
    for status in ERROR_STATUSES:
        with contextlib.suppress(FaultError):
            admin.set_error_share(ctx.haproxy_map, status, 0)
    for app in ctx.topology.apps:
        with contextlib.suppress(FaultError):
            admin.set_server_state(app, "ready")
    from harness.stacks.components import awsfault

    port = awsfault.read_port(workdir)
    if port is not None:
        with contextlib.suppress(OSError):
            awsfault.set_rules(port, {"throttle": None, "errors": None})
