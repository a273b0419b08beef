"""The CPU and memory each instance/task really had: asked by the profile, read from the kernel.

Both architectures are given the same budget (`app.size` x `app.instances`); a run is
only a fair comparison if that budget was in force. This reads every app
component's cgroup files back after the stack started, so run.json and the report
state what the kernel held, not what was asked, and say plainly when nothing was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from harness.model.profile import Profile
from harness.runtime.base import InForce


@dataclass(frozen=True)
class ComponentCapacity:
    """One instance or task: its requested size and the limits in force."""

    component: str
    requested_cpus: float
    requested_memory_mb: int
    #: read back from the cgroup files; None = no limit in force
    cpus: float | None
    memory_mb: int | None
    cgroups: list[str] = field(default_factory=list)

    @property
    def enforced(self) -> bool:
        return (
            self.cpus is not None and abs(self.cpus - self.requested_cpus) < 0.005
            and self.memory_mb == self.requested_memory_mb
        )


@dataclass(frozen=True)
class Capacity:
    """One architecture's app capacity as the run had it."""

    aws_size: str
    #: how limits are enforced here ("cgroup v1 cpu + memory"), or why they cannot be
    mechanism: str
    components: list[ComponentCapacity]
    #: why the budget was not (fully) in force; None when it was
    reason: str | None = None

    @property
    def enforced(self) -> bool:
        return self.reason is None

    @property
    def total_cpus(self) -> float | None:
        """The members' CPU limits in force, summed; None unless every member had one."""
        cpus = [c.cpus for c in self.components]
        return None if None in cpus else round(sum(c or 0.0 for c in cpus), 4)

    def to_json(self) -> dict[str, Any]:
        memory = [c.memory_mb for c in self.components]
        return {
            "enforced": self.enforced, "mechanism": self.mechanism, "reason": self.reason,
            "aws_size": self.aws_size,
            "requested_total_cpus": round(sum(c.requested_cpus for c in self.components), 4),
            "requested_total_memory_mb": sum(c.requested_memory_mb for c in self.components),
            # a total is only meaningful when every member had its limit
            "total_cpus": self.total_cpus,
            "total_memory_mb": None if None in memory else sum(m or 0 for m in memory),
            "components": [asdict(c) for c in self.components],
        }


def largest_fleet_cpus(capacity: Capacity, profile: Profile) -> float | None:
    """The CPU the fleet can hold at its largest: the members in force at the start, or
    the scaling maximum of members of the profile's size, whichever is more.

    The generator-competition check (load/cpushare.py) takes its room from this: with
    the base fleet it would overstate the room once the fleet scaled out; the maximum
    may understate it, which can only flag more runs, never fewer.
    """
    base = capacity.total_cpus
    if base is None or profile.scaling is None:
        return base
    most = profile.scaling.max_capacity.value * profile.app.size.cpus.value
    return round(max(base, most), 4)


class LimitsView(Protocol):
    """Where limits are read back from: a runtime (or the cgroup limiter under it)."""

    def limits_enforcement(self) -> tuple[bool, str]: ...

    def limits_in_force(self, name: str) -> InForce | None: ...


def read_capacity(profile: Profile, limits: LimitsView) -> Capacity:
    """Each app component's limits as the runtime holds them now."""
    size = profile.app.size
    available, how = limits.limits_enforcement()
    components = []
    for name in profile.app_names:
        in_force = limits.limits_in_force(name) if available else None
        components.append(ComponentCapacity(
            component=name, requested_cpus=size.cpus.value,
            requested_memory_mb=size.memory_mb.value,
            cpus=in_force.cpus if in_force else None,
            memory_mb=in_force.memory_mb if in_force else None,
            cgroups=list(in_force.cgroups) if in_force else [],
        ))
    reason: str | None = None
    if not available:
        reason = f"limits not enforced: {how}"
    else:
        off = [
            f"{c.component} has {_fmt(c.cpus, 'vCPU')} / {_fmt(c.memory_mb, 'MiB')}, "
            f"asked {c.requested_cpus:g} vCPU / {c.requested_memory_mb} MiB"
            for c in components if not c.enforced
        ]
        if off:
            reason = "limits not as asked: " + "; ".join(off)
    return Capacity(
        aws_size=size.aws_size.value,
        mechanism=how if available else "none",
        components=components, reason=reason,
    )


def _fmt(value: float | None, unit: str) -> str:
    return "no limit" if value is None else f"{value:g} {unit}"
