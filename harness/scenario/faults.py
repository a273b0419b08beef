"""The fault timeline of a scenario: what to break, where, when and for how long.

Faults are data here: typed models with a discriminated union on `type`, parsed
at the boundary. Starts stay symbolic (`peak+10s`) until the plan resolves them
with the phases' start offsets. `check_timeline` validates a parsed timeline
against a stack's topology and the run's length, collecting every problem with
its file and key path, before anything starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from harness.errors import ScenarioError
from harness.model.components import declare
from harness.model.deploy import ShiftConfig
from harness.model.profile import Profile
from harness.scenario.units import parse_duration

_PHASE_RE = re.compile(r"^([A-Za-z_][\w-]*?)(?:\s*([+-])\s*(\d[\w.]*))?$")


@dataclass(frozen=True)
class Start:
    """When a fault starts: `offset_s` after the run's start, or after phase `phase` starts."""

    offset_s: float
    phase: str | None = None

    @classmethod
    def parse(cls, value: object) -> Start:
        try:
            return cls(parse_duration(value))
        except ValueError:
            pass
        if isinstance(value, str) and (m := _PHASE_RE.match(value.strip())):
            phase, sign, rest = m.groups()
            try:
                offset = parse_duration(rest) if rest else 0.0
            except ValueError:
                pass
            else:
                return cls(-offset if sign == "-" else offset, phase)
        raise ValueError(
            f"{value!r} is not a start; write an offset (45s) or a phase plus an offset (peak+10s)"
        )

    def resolve(self, phases: Mapping[str, float] | Callable[[str], float]) -> float:
        """Seconds from the run's start, given the phases' start offsets."""
        if self.phase is None:
            return self.offset_s
        base = phases[self.phase] if isinstance(phases, Mapping) else phases(self.phase)
        return base + self.offset_s

    def __str__(self) -> str:
        if self.phase is None:
            return f"{self.offset_s:g}s"
        sign = "-" if self.offset_s < 0 else "+"
        return f"{self.phase}{sign}{abs(self.offset_s):g}s" if self.offset_s else self.phase


Stream = Literal["downstream", "upstream"]
#: the sample service's releases (stacks/apps/README.md, APP_VERSION)
Release = Literal["good", "bad-errors", "bad-latency"]
AwsService = Literal["sqs", "s3"]


def _all_services() -> list[AwsService]:
    return ["sqs", "s3"]


class _Fault(BaseModel):
    """Fields every fault has. Subclasses add their parameters, units in the names."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    #: instantaneous faults (kill, failover) have no duration
    instant: ClassVar[bool] = False
    #: actions that last until they are done (a deploy) take no duration either
    until_done: ClassVar[bool] = False
    #: what a target may be: components, an edge, the load balancer, a zone
    target_kind: ClassVar[Literal["component", "edge", "lb", "zone", "db", "app"]] = "component"
    default_target: ClassVar[str | None] = None

    type: str
    #: a name for events and reports; defaults to `<index>-<type>`
    name: str | None = None
    at: Start
    #: how long the fault lasts; None = until the end of the run (reverted at teardown)
    duration_s: float | None = Field(default=None, alias="duration")
    target: str = ""

    @field_validator("at", mode="before")
    @classmethod
    def _start(cls, value: object) -> Start:
        return value if isinstance(value, Start) else Start.parse(value)

    @field_validator("duration_s", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError("must be above 0; leave it out for a fault that lasts to the end")
        return seconds

    def model_post_init(self, _context: Any) -> None:
        if self.instant and self.duration_s is not None:
            raise ValueError(f"duration: {self.type} is instantaneous; remove `duration`")
        if self.until_done and self.duration_s is not None:
            raise ValueError(f"duration: a {self.type} lasts until it is done; remove `duration`")
        if not self.target and self.default_target is None:
            raise ValueError(f"{self.type} needs a `target`")

    @property
    def target_or_default(self) -> str:
        return self.target or self.default_target or ""

    def params(self) -> dict[str, Any]:
        """The type's own parameters (everything but the common fields)."""
        common = set(_Fault.model_fields)
        return {k: v for k, v in self.model_dump().items() if k not in common}


class _Toxic(_Fault):
    target_kind: ClassVar[Literal["edge"]] = "edge"
    #: downstream = answers towards the client, upstream = requests towards the server
    stream: Stream = "downstream"
    #: share of connections affected, 0..1
    toxicity: float = Field(default=1.0, ge=0, le=1)


class Latency(_Toxic):
    """Delay every chunk of data by latency_ms ± jitter_ms."""

    type: Literal["latency"]
    latency_ms: int = Field(ge=0)
    jitter_ms: int = Field(default=0, ge=0)


class Bandwidth(_Toxic):
    """Limit the edge to rate_kb_s kilobytes per second."""

    type: Literal["bandwidth"]
    rate_kb_s: int = Field(ge=0)


class Timeout(_Toxic):
    """Blackhole: data is dropped; the connection is closed after timeout_ms (0 = never)."""

    type: Literal["timeout"]
    timeout_ms: int = Field(default=0, ge=0)


class ResetPeer(_Toxic):
    """Connections are reset (TCP RST) after timeout_ms."""

    type: Literal["reset_peer"]
    timeout_ms: int = Field(default=0, ge=0)


class SlowClose(_Toxic):
    """Delay the TCP close by delay_ms."""

    type: Literal["slow_close"]
    delay_ms: int = Field(ge=0)


class LimitData(_Toxic):
    """Close each connection after `bytes` bytes."""

    type: Literal["limit_data"]
    bytes: int = Field(ge=0)


class Down(_Fault):
    """Partition: the edge refuses and cuts every connection."""

    type: Literal["down"]
    target_kind: ClassVar[Literal["edge"]] = "edge"


class Kill(_Fault):
    """SIGKILL the target's processes, as a crashed instance or task."""

    type: Literal["kill"]
    instant: ClassVar[bool] = True


class Pause(_Fault):
    """SIGSTOP the target's processes for the duration (a hung instance), then SIGCONT."""

    type: Literal["pause"]


class AzOutage(_Fault):
    """Kill every component tagged with the zone (`zone:b`)."""

    type: Literal["az_outage"]
    instant: ClassVar[bool] = True
    target_kind: ClassVar[Literal["zone"]] = "zone"


class DbFailover(_Fault):
    """Unplanned: the writer is killed, the stack fails over; planned: the same, no write lost."""

    type: Literal["db_failover"]
    instant: ClassVar[bool] = True
    target_kind: ClassVar[Literal["db"]] = "db"
    default_target: ClassVar[str | None] = "db-writer"
    mode: Literal["unplanned", "planned"] = "unplanned"


class DbReboot(_Fault):
    """Restart a database instance; it is unavailable while it restarts."""

    type: Literal["db_reboot"]
    instant: ClassVar[bool] = True
    target_kind: ClassVar[Literal["db"]] = "db"
    default_target: ClassVar[str | None] = "db-writer"
    #: SIGKILL instead of a clean shutdown
    force: bool = False


class HttpErrors(_Fault):
    """The load balancer answers `percent` % of requests with `status` itself."""

    type: Literal["http_errors"]
    target_kind: ClassVar[Literal["lb"]] = "lb"
    default_target: ClassVar[str | None] = "lb"
    percent: float = Field(gt=0, le=100)
    status: Literal[500, 502, 503, 504] = 503


class Drain(_Fault):
    """Take an app out of the load balancer: `drain` (finish in-flight) or `maint` (at once)."""

    type: Literal["drain"]
    target_kind: ClassVar[Literal["app"]] = "app"
    mode: Literal["drain", "maint"] = "drain"


class AwsThrottle(_Fault):
    """Answer `percent` % of AWS calls with the service's throttling error (SDKs retry it)."""

    type: Literal["aws_throttle"]
    target_kind: ClassVar[Literal["edge"]] = "edge"
    default_target: ClassVar[str | None] = "app->aws"
    percent: float = Field(gt=0, le=100)
    services: list[AwsService] = Field(default_factory=_all_services)


class AwsErrors(_Fault):
    """Answer `percent` % of AWS calls with a 5xx."""

    type: Literal["aws_errors"]
    target_kind: ClassVar[Literal["edge"]] = "edge"
    default_target: ClassVar[str | None] = "app->aws"
    percent: float = Field(gt=0, le=100)
    status: Literal[500, 503] = 500
    services: list[AwsService] = Field(default_factory=_all_services)


class CpuStress(_Fault):
    """Burn CPU inside the task's own cgroup: `workers` busy loops."""

    type: Literal["cpu_stress"]
    target_kind: ClassVar[Literal["app"]] = "app"
    workers: int = Field(default=1, ge=1, le=16)


class MemoryPressure(_Fault):
    """Hold `memory_mb` MiB inside the task's own cgroup (counts against its limit)."""

    type: Literal["memory_pressure"]
    target_kind: ClassVar[Literal["app"]] = "app"
    memory_mb: int = Field(ge=1)


class Deploy(_Fault):
    """Ship a release: in place instance by instance (legacy), blue/green (modern).

    Lasts until the deploy is done; at the end of the run an unfinished one is stopped
    where it stands (harness.deploys).
    """

    type: Literal["deploy"]
    until_done: ClassVar[bool] = True
    target_kind: ClassVar[Literal["app"]] = "app"
    default_target: ClassVar[str | None] = "app[*]"
    version: Release
    #: bad-errors: share of API requests (in %) the release answers with 500
    error_percent: int = Field(default=50, ge=0, le=100)
    #: bad-latency: added to every API request
    latency_ms: int = Field(default=500, ge=0, le=60_000)
    #: modern (CodeDeploy) traffic shifting; CodeDeployDefault.ECSAllAtOnce when not given.
    #: Legacy deploys in place and has no traffic to shift.
    config: ShiftConfig = "AllAtOnce"
    #: modern: roll back automatically when this alarm goes to ALARM (an alarm of the
    #: profile or the scenario's `alarms:`); legacy (OpsWorks) had no automatic rollback
    rollback_alarm: str | None = None


Fault = Annotated[
    Latency
    | Bandwidth
    | Timeout
    | ResetPeer
    | SlowClose
    | LimitData
    | Down
    | Kill
    | Pause
    | AzOutage
    | DbFailover
    | DbReboot
    | HttpErrors
    | Drain
    | AwsThrottle
    | AwsErrors
    | CpuStress
    | MemoryPressure
    | Deploy,
    Field(discriminator="type"),
]
FAULT_TYPES: dict[str, type[_Fault]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        Latency,
        Bandwidth,
        Timeout,
        ResetPeer,
        SlowClose,
        LimitData,
        Down,
        Kill,
        Pause,
        AzOutage,
        DbFailover,
        DbReboot,
        HttpErrors,
        Drain,
        AwsThrottle,
        AwsErrors,
        CpuStress,
        MemoryPressure,
        Deploy,
    )
}
_TIMELINE: TypeAdapter[list[Fault]] = TypeAdapter(list[Fault])

# The fault base class is public under this name for type hints elsewhere.
FaultSpec = _Fault


@dataclass(frozen=True)
class Topology:
    """The names a stack has, for validating targets: components with zones, and edges."""

    components: dict[str, str | None]  # name -> zone
    edges: frozenset[str]
    kinds: dict[str, str] = field(default_factory=dict)
    #: the load balancer parses HTTP (CLB, ALB); an NLB's TCP listener answers nothing itself
    http_lb: bool = True

    @classmethod
    def from_profile(cls, profile: Profile) -> Topology:
        """The topology `Stack.start()` builds for this profile: its declaration's names."""
        shape = declare(profile)
        listed = shape.listed()
        return cls({c.name: c.zone for c in listed}, frozenset(e.name for e in shape.edges),
                   {c.name: c.kind for c in listed},
                   http_lb=profile.load_balancer.style != "nlb")

    @classmethod
    def from_stack(cls, info: Any) -> Topology:
        """The topology of a running stack (a `StackInfo`)."""
        comps = {c.name: c.zone for c in info.components.values()}
        kinds = {c.name: c.kind for c in info.components.values()}
        return cls(comps, frozenset(info.edges), kinds)

    @property
    def apps(self) -> list[str]:
        return sorted(n for n in self.components if n.startswith("app-"))

    @property
    def zones(self) -> list[str]:
        return sorted({z for z in self.components.values() if z})

    def resolve(self, fault: _Fault) -> list[str]:
        """The component or edge names a fault's target means; ValueError if none."""
        target = fault.target_or_default
        kind = fault.target_kind
        if kind == "edge":
            if target.endswith("[*]"):
                prefix = target[:-3]
                names = sorted(e for e in self.edges if e.startswith(prefix + "-"))
            else:
                names = [target] if target in self.edges else []
            if not names:
                edges = ", ".join(sorted(self.edges))
                raise ValueError(f"{target!r} is not an edge of this stack; edges: {edges}")
            return names
        if kind == "zone":
            zone = target.removeprefix("zone:")
            if not target.startswith("zone:") or zone not in self.zones:
                raise ValueError(
                    f"{target!r}: write zone:<name> with a zone of this stack "
                    f"({', '.join('zone:' + z for z in self.zones)})"
                )
            return [n for n, z in self.components.items() if z == zone]
        if kind == "lb":
            if target != "lb":
                raise ValueError(f"{target!r}: {fault.type} applies to the load balancer: `lb`")
            return ["lb"]
        names = self._components(target)
        allowed = {
            "db": [n for n in self.components if n.startswith("db-")],
            "app": self.apps,
            "component": [n for n in self.components if n != "toxiproxy"],
        }[kind]
        wrong = [n for n in names if n not in allowed]
        if wrong:
            raise ValueError(
                f"{target!r}: {fault.type} applies to {', '.join(sorted(allowed))}, not {wrong[0]}"
            )
        return names

    def _components(self, target: str) -> list[str]:
        if target.startswith("zone:"):
            zone = target.removeprefix("zone:")
            names = [n for n, z in self.components.items() if z == zone]
        elif target.endswith("[*]"):
            prefix = target[:-3]
            names = sorted(n for n in self.components if n.startswith(prefix + "-"))
        else:
            names = [target] if target in self.components else []
        if not names:
            raise ValueError(
                f"{target!r} is not a component of this stack; components: "
                f"{', '.join(sorted(self.components))} (groups: app[*], zone:<z>)"
            )
        return names


def parse_timeline(raw: object, *, source: str, key: str = "faults") -> list[_Fault]:
    """Parse the `faults:` list; every problem is one line `file: faults[i].field: what`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ScenarioError(f"{source}: {key}: must be a list of faults, got {type(raw).__name__}")
    problems: list[str] = []
    for i, item in enumerate(raw):
        kind = item.get("type") if isinstance(item, dict) else None
        if isinstance(item, dict) and not (isinstance(kind, str) and kind in FAULT_TYPES):
            problems.append(
                f"{source}: {key}[{i}].type: unknown fault type {item.get('type')!r}; "
                f"choose one of {', '.join(sorted(FAULT_TYPES))} (see `harness faults`)"
            )
    if problems:
        raise ScenarioError("; ".join(problems))
    try:
        return list(_TIMELINE.validate_python(raw))
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            # pydantic puts the union tag in the path: faults.2.latency.latency_ms
            if len(loc) >= 2 and isinstance(loc[0], int) and loc[1] in FAULT_TYPES:
                loc.pop(1)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown parameter; see `harness faults` for this type's parameters"
            problems.append(f"{source}: {key}{_path(loc)}: {msg}")
        raise ScenarioError("; ".join(problems)) from None


def _path(loc: list[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def check_timeline(
    faults: Sequence[_Fault],
    *,
    source: str,
    topology: Topology,
    phases: Mapping[str, float] | None = None,
    run_s: float | None = None,
    key: str = "faults",
) -> None:
    """Check targets, phases and times against the stack and the run; raise all problems."""
    problems: list[str] = []
    for i, fault in enumerate(faults):
        where = f"{source}: {key}[{i}]"
        try:
            topology.resolve(fault)
        except ValueError as exc:
            problems.append(f"{where}.target: {exc}")
        if isinstance(fault, HttpErrors) and not topology.http_lb:
            problems.append(
                f"{where}.type: http_errors needs an HTTP load balancer; an NLB's TCP listener "
                "answers no status of its own (a deploy of bad-errors, or a fault on app[*] or an "
                "edge, reaches its clients)")
        start: float | None = None
        if phases is not None:
            if fault.at.phase is not None and fault.at.phase not in phases:
                problems.append(
                    f"{where}.at: no phase {fault.at.phase!r}; phases: {', '.join(phases) or '-'}"
                )
            else:
                start = fault.at.resolve(phases)
        elif fault.at.phase is None:
            start = fault.at.offset_s
        if start is not None and start < 0:
            problems.append(f"{where}.at: {fault.at} is before the run starts")
        if start is not None and run_s is not None:
            if start >= run_s:
                problems.append(
                    f"{where}.at: {fault.at} ({start:g} s) is not before the end of the run "
                    f"({run_s:g} s)"
                )
            elif fault.duration_s is not None and start + fault.duration_s > run_s:
                problems.append(
                    f"{where}.duration: ends at {start + fault.duration_s:g} s, after the end of "
                    f"the run ({run_s:g} s); shorten it or leave it out to last to the end"
                )
    names = [f.name for f in faults if f.name]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{source}: {key}: fault name {dup!r} is used twice; names must be unique")
    if problems:
        raise ScenarioError("; ".join(problems))


def load_timeline(
    raw: object,
    *,
    source: str,
    topology: Topology | None = None,
    phases: Mapping[str, float] | None = None,
    run_s: float | None = None,
) -> list[_Fault]:
    """Parse and, when a topology is given, check a `faults:` list."""
    faults = parse_timeline(raw, source=source)
    if topology is not None:
        check_timeline(faults, source=source, topology=topology, phases=phases, run_s=run_s)
    return faults


def fault_name(fault: _Fault, index: int) -> str:
    return fault.name or f"{index}-{fault.type}"
