"""`run.json`: the run's journal, the source of truth every report renders from.

A versioned pydantic model; its JSON Schema is `harness/report/run.schema.json`
(regenerate with `python -m harness.report.record`; a unit test checks it is
up to date). Bump SCHEMA_VERSION when a field changes meaning or goes away.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.analysis.cost import ArchCost
from harness.analysis.deploys import DeploySummary
from harness.analysis.detection import FalseAlarm, FaultDetection, OverloadAlarm
from harness.analysis.invariants import Invariant
from harness.analysis.orderings import ClockOrdering, Figure
from harness.analysis.recovery import FaultRecovery, FaultWindow
from harness.analysis.replayed import ReplayFigures
from harness.analysis.scaling import CapacityPoint, DesiredChange, Gap
from harness.analysis.series import PERCENTILE_KEYS, ArchData
from harness.analysis.slo import SloResult
from harness.analysis.verdict import Verdict
from harness.model.alarmdef import AlarmDef
from harness.records.classify import FAILURE_CLASSES
from harness.scenario.replayed import ReplayedNight

#: 2: recoveries carry a status (no_impact is no longer recovery_s 0), dropped arrivals
#: count as failures, invariants say how many writes they checked
SCHEMA_VERSION: Literal[2] = 2
SCHEMA_FILE = Path(__file__).with_name("run.schema.json")
#: running: written at the start; incomplete: the load or a stack stopped early;
#: interrupted: Ctrl-C; failed: the harness itself crashed
Status = Literal["running", "complete", "incomplete", "interrupted", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Phase(_Model):
    name: str
    start_s: float
    end_s: float


class Totals(_Model):
    """The whole run of one architecture."""

    offered: int
    started: int
    late: int
    dropped: int
    missed: int
    requests: int = Field(description="finished requests (dropped arrivals not included)")
    ok: int
    errors: dict[str, int] = Field(
        description="failures by class, `dropped` (arrivals dropped at the concurrency cap) too")
    error_rate: float = Field(
        description="(failed requests + dropped arrivals) / (finished requests + dropped)")
    achieved_ratio: float
    latency_ms: dict[str, float] = Field(description="p50, p90, p95, p99, p999, max")

    @classmethod
    def of(cls, data: ArchData) -> Totals:
        st = data.stats()
        counts = {k: sum(getattr(c, k) for c in data.counts.values())
                  for k in ("offered", "started", "late", "dropped", "missed")}
        return cls(
            **counts, requests=st.requests, ok=st.classes.get("ok", 0),
            errors={c: st.classes.get(c, 0) for c in FAILURE_CLASSES},
            error_rate=st.error_rate, achieved_ratio=st.achieved_ratio,
            latency_ms={k: st.latency_ms[k] for k in PERCENTILE_KEYS},
        )


class ModelledRow(_Model):
    """One cited profile setting as this run used it."""

    setting: str
    aws_value: float | int | bool | str
    used_value: float | int | bool | str
    scaled: bool = Field(description="the AWS value multiplied by the run's time scale")
    source: str
    overridden: bool = Field(
        False, description="changed by the scenario's variant of the profile (see variant)")


class OverrideRow(_Model):
    """One profile setting a scenario's variant changes."""

    setting: str = Field(description="dotted path into the profile, e.g. app.instances")
    base_value: Any = Field(description="the base profile's value; null: it has none")
    value: Any = Field(description="the value this variant ran with")
    source: str | None = Field(
        None, description="the override's own source (a cited setting); null: a plain setting")


class VariantRecord(_Model):
    """A scenario's what-if copy of a stack profile (`variants:` in the scenario)."""

    description: str
    overrides: list[OverrideRow] = Field(default_factory=list)


class ComponentLimits(_Model):
    """One instance's or task's CPU and memory: asked by the profile, in force in the kernel."""

    component: str
    requested_cpus: float
    requested_memory_mb: int
    cpus: float | None = Field(description="in force, read back from its cgroup; null = none")
    memory_mb: int | None = Field(description="in force, read back from its cgroup; null = none")
    cgroups: list[str] = Field(default_factory=list)


class CapacityRecord(_Model):
    """The apps' CPU and memory budget as the run had it (the same on both sides, or not)."""

    enforced: bool = Field(description="every instance/task had the limits its profile asks")
    mechanism: str = Field(description='e.g. "cgroup v2 cpu + memory"; "none"')
    reason: str | None = Field(None, description="why the budget was not (fully) in force")
    aws_size: str = Field(description="the AWS size one instance/task stands for")
    requested_total_cpus: float
    requested_total_memory_mb: int
    total_cpus: float | None = Field(description="in force; null if any member had no limit")
    total_memory_mb: int | None = Field(description="in force; null if any member had none")
    components: list[ComponentLimits] = Field(default_factory=list)


class GeneratorCpuRecord(_Model):
    """The load generator's own CPU over the load, and whether it competed with the stack."""

    cores: int
    wall_s: float
    generator_cpu_s: float = Field(description="CPU seconds of every generator process")
    machine_busy_s: float = Field(description="non-idle CPU seconds of the whole machine")
    generator_share: float = Field(description="generator CPU / (cores x wall)")
    machine_share: float = Field(description="machine busy / (cores x wall)")
    generator_peak_share: float = Field(description="the busiest second's generator share")
    stack_cpus: float | None = Field(
        description="the most CPU the stack could hold: its members' limits in force, or the "
        "scaling maximum of members of that size when more; null unknown")
    headroom_share: float = Field(description="room the stack's limit leaves the generator")
    intervals: int
    saturated_intervals: int = Field(description="seconds with the machine >= 90 % busy")
    competed_intervals: int = Field(
        description="saturated seconds in which the generator used more than its room")
    competed: bool = Field(description="competed in more than 5 % of the seconds: flagged")
    warnings: list[str] = Field(default_factory=list)


class ArchRecord(_Model):
    """Everything measured and judged for one architecture."""

    arch: str
    position: int | None = Field(
        None, ge=1, description="1-based place in the order the run went through its "
        "architectures (a single run goes in the listed order; --repeat alternates it): "
        "whatever running second costs lands on the architecture in place 2")
    profile: dict[str, Any] = Field(default_factory=dict, description="the stack profile used")
    modelled: list[ModelledRow] = Field(
        default_factory=list, description="what this run modelled: every cited profile setting"
    )
    variant: VariantRecord | None = Field(
        None, description="the scenario's variant this label ran: its description and every "
        "setting it overrides; null: the profile as it is")
    capacity: CapacityRecord | None = Field(
        None, description="the apps' CPU and memory limits in force; null: the stack never ran"
    )
    generator_cpu: GeneratorCpuRecord | None = Field(
        None, description="the load generator's own CPU share; null: not measured")
    valid: bool = True
    invalid_reasons: list[str] = Field(default_factory=list)
    error: str | None = Field(None, description="why this architecture's run stopped early")
    totals: Totals | None = None
    faults: list[FaultWindow] = Field(default_factory=list)
    recoveries: list[FaultRecovery] = Field(default_factory=list)
    clock_orderings: list[ClockOrdering] = Field(
        default_factory=list, description="per fault, the pairs of timings that decide its "
        "outcome, at AWS's timings and at the run's time scale, and whether their order held "
        "(harness.analysis.orderings)")
    clock_unjudged: str | None = Field(
        None, description="why the orderings were not judged; null: they were")
    slos: list[SloResult] = Field(default_factory=list)
    invariants: list[Invariant] = Field(default_factory=list)
    writes_checked: dict[str, dict[str, int]] | None = Field(
        None, description="kind (order, reservation) -> outcome (acknowledged, failed, "
        "indeterminate) -> writes the invariants checked; null = not checked")

    def inverted(self, fault: str | None = None, figure: Figure | None = None
                 ) -> list[ClockOrdering]:
        """Orderings inverted at the run's time scale: of one fault, touching one figure."""
        return [o for o in self.clock_orderings if o.inverted
                and (fault is None or o.fault == fault)
                and (figure is None or figure in o.touches)]

    def acknowledged(self, kind: str) -> int:
        """Acknowledged writes of `kind` the invariants checked (0 when not checked)."""
        return (self.writes_checked or {}).get(kind, {}).get("acknowledged", 0)
    alarms: list[AlarmDef] = Field(
        default_factory=list, description="the CloudWatch alarms evaluated, at the run's scale")
    detections: list[FaultDetection] = Field(
        default_factory=list, description="time to detect each fault: its first alarm, or none")
    false_alarms: list[FalseAlarm] = Field(
        default_factory=list, description="alarms that went to ALARM with neither a fault nor "
        "an overload to explain it")
    overload_alarms: list[OverloadAlarm] = Field(
        default_factory=list, description="alarms that went to ALARM with no fault to explain "
        "it, on data that saw demand above the in-service capacity at the scaling target: "
        "true alarms of an overload, not false ones")
    deploys: list[DeploySummary] = Field(
        default_factory=list, description="per deploy: failed requests, time to rollback or to "
        "its first alarm (harness.analysis.deploys)")
    scaling: ScalingRecord | None = Field(
        None, description="auto scaling: capacity over time and the scaling gap; null: a "
        "fixed fleet")
    cost: ArchCost | None = Field(
        None, description="the event's cost on AWS: line items (quantity in AWS units, unit "
        "price, source), total, cost per million requests served, what scaling added "
        "(harness.analysis.cost); null: not priced (a record written before it, no data)")
    replay: ReplayFigures | None = Field(
        None, description="the replayed phase beside the original night: the log's requests "
        "x scale, offered, answered, and the status mix by class (harness.analysis.replayed); "
        "null: the scenario replays no log, or no data")


class ScalingRecord(_Model):
    """Auto scaling of one architecture: capacity over time and the scaling gap."""

    target_pct: float | None = Field(
        description="the CPU target demand is judged against; null: no CPU target tracking")
    timeline: list[CapacityPoint] = Field(
        default_factory=list, description="once a second: desired, launching, in service, "
        "and the sum of the running members' CPU (% of each member's size)")
    desired_changes: list[DesiredChange] = Field(default_factory=list)
    gap: Gap = Field(description="from demand exceeding the in-service capacity to enough "
                     "capacity in service (harness.analysis.scaling)")
    gap_error_rate: float | None = Field(
        None, description="failures / attempts during the gap; null: no gap measured")
    gap_p99_ms: float | None = Field(None, description="p99 during the gap; null: none")


class ScenarioRecord(_Model):
    name: str
    file: str | None = None
    seed: int
    phases: list[Phase] = Field(default_factory=list)
    #: the scenario as loaded (slos, recovery parameters, faults, workload)
    definition: dict[str, Any] = Field(default_factory=dict)
    replayed_from: ReplayedNight | None = Field(
        None, description="the original night a `harness replay` scenario replays: its "
        "window, scale, compression, lines read, status mix and requests per second x scale "
        "as replayed (harness.scenario.replayed); null: no replay")


class Repeat(_Model):
    """This run's place in a repeated rehearsal (`harness run --repeat N`)."""

    set_id: str = Field(description="the repeat set's folder: results/<set_id>/repeat-<index>")
    index: int = Field(ge=1, description="1-based")
    of: int = Field(ge=1)
    order: list[str] = Field(description="the architectures in the order they ran in this repeat")


class RunRecord(_Model):
    """run.json."""

    schema_version: Literal[2] = SCHEMA_VERSION
    run_id: str
    status: Status
    started_at: str = Field(description="ISO 8601 UTC")
    finished_at: str | None = None
    scenario: ScenarioRecord
    architectures: list[ArchRecord] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict, description="the resolved settings")
    versions: dict[str, str] = Field(default_factory=dict, description="harness, python, mariadb…")
    verdict: Verdict | None = None
    repeat: Repeat | None = Field(None, description="set when the run is one of N repeats")

    def arch(self, name: str) -> ArchRecord:
        for a in self.architectures:
            if a.arch == name:
                return a
        raise KeyError(name)

    @property
    def arch_names(self) -> list[str]:
        return [a.arch for a in self.architectures]

    @property
    def time_scale(self) -> float:
        """The run's time scale (Settings.time_scale as the run recorded it)."""
        return float(self.settings.get("time_scale", 1.0))

    def slo_results(self) -> list[SloResult]:
        """Every SLO result, one SLO's architectures next to each other, in scenario order."""
        results = [s for a in self.architectures for s in a.slos]
        order = {name: i for i, name in enumerate(dict.fromkeys(s.name for s in results))}
        return sorted(results, key=lambda s: order[s.name])

    def capacity_warnings(self) -> list[str]:
        """One line per architecture whose apps did not have the CPU and memory asked."""
        return [
            f"{a.arch}: {a.capacity.reason}" for a in self.architectures
            if a.capacity is not None and not a.capacity.enforced
        ]

    def generator_warnings(self) -> list[str]:
        """One line per warning on the generator's CPU (competed with the stack, or others did)."""
        return [
            f"{a.arch}: {w}" for a in self.architectures
            if a.generator_cpu is not None for w in a.generator_cpu.warnings
        ]

    def phase_windows(self) -> dict[str, tuple[float, float]]:
        return {p.name: (p.start_s, p.end_s) for p in self.scenario.phases}


def json_schema() -> dict[str, Any]:
    schema = RunRecord.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "harness run.json"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text())
    print(f"wrote {SCHEMA_FILE}")
