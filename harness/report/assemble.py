"""From recorded data to the judged run: analyse, build run.json, write every results file.

What `harness run` calls once both architectures have run:

    data = {"legacy": ArchData.from_recorder("legacy", load_result.recorder), ...}
    record = build_record(header, scenario.objectives, data, events,
                          invariants={...}, invalid={"legacy": load_result.check.reasons},
                          errors={...}, status="complete")
    write_all(out, record, data, events)   # and out.finish() unless finish=False
    return record.verdict.exit_code        # 0 pass, 1 failed, 3 invalid
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.analysis.boots import count_boots_once
from harness.analysis.deploys import DeploySummary
from harness.analysis.deploys import summarize as summarize_deploys
from harness.analysis.detection import (
    FalseAlarm,
    FaultDetection,
    OverloadAlarm,
    changes_from_events,
    detect,
    repairs_from_events,
)
from harness.analysis.invariants import Invariant
from harness.analysis.orderings import ClockOrdering, recorded_profile, withhold_estimates
from harness.analysis.orderings import from_record as clock_orderings
from harness.analysis.parts import PartFailure, measurable, part_failures, unmeasured_after
from harness.analysis.recovery import (
    FaultRecovery,
    FaultWindow,
    detect_all,
    faults_from_events,
    merge_events,
)
from harness.analysis.replayed import ReplayFigures
from harness.analysis.replayed import figures as replay_figures
from harness.analysis.series import ArchData
from harness.analysis.slo import SloResult, evaluate
from harness.analysis.verdict import FAIL, INVALID, PASS, STOPPED, Verdict, verdict
from harness.model.alarmdef import AlarmDef
from harness.model.profile import Profile
from harness.report.cost import arch_cost
from harness.report.html import render
from harness.report.junit import junit_xml
from harness.report.record import (
    ArchRecord,
    CapacityRecord,
    GeneratorCpuRecord,
    ModelledRow,
    Phase,
    RunRecord,
    ScenarioRecord,
    Totals,
    VariantRecord,
)
from harness.report.results import JUNIT, REPORT, SUMMARY, ResultsDir
from harness.report.scaling import overload_episodes, scaling_record
from harness.report.summary import summary_md
from harness.scenario.replayed import ReplayedNight
from harness.scenario.slo import Objectives

__all__ = ["RunHeader", "build_record", "merge_events", "write_all", "write_reports"]


@dataclass
class RunHeader:
    """What describes the run rather than its measurements."""

    run_id: str
    scenario: str
    seed: int
    #: (name, start s, end s) from the start of the load: Workload.phase_windows()
    phases: list[tuple[str, float, float]]
    scenario_file: str | None = None
    started_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    definition: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    #: the stack profile of each architecture, as JSON
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: each architecture's cited settings as the run used them (Profile.modelled)
    modelled: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: the scenario's variant each label ran, if any: record.VariantRecord's fields
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: this run's place in a repeated rehearsal: record.Repeat's fields
    repeat: dict[str, Any] | None = None
    #: each architecture's app limits in force (Capacity.to_json), when its stack started
    capacity: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: each architecture's CloudWatch alarms as evaluated (AlarmDef.to_json)
    alarms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: each architecture's generator CPU share (GeneratorCpu.to_json), when its load ran
    generator_cpu: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the original night the scenario replays (ReplayedNight's JSON); None: no replay
    replay: dict[str, Any] | None = None

    @property
    def time_scale(self) -> float:
        """The run's time scale (Settings.time_scale, which the run records in `settings`)."""
        return float(self.settings.get("time_scale", 1.0))


def build_record(
    header: RunHeader,
    objectives: Objectives,
    data: Mapping[str, ArchData],
    events: Sequence[Mapping[str, Any]],
    *,
    invariants: Mapping[str, Sequence[Invariant]] | None = None,
    writes_checked: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None,
    invalid: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    status: str = "complete",
    interrupted_by: str = "",
) -> RunRecord:
    """Analyse every architecture's data and judge the run.

    `events` are events.jsonl's dicts; each needs `arch` and a time from the start of
    that architecture's load: `t_s` when the EventLog's t0 is the load's start, or
    `load_t_s` as merge_events() adds. `invalid` holds the generator's self-check
    reasons per architecture (non-empty = invalid run, exit 3); `writes_checked` how many
    writes per kind and outcome the invariants looked at (invariants.count_writes); `errors` why an
    architecture stopped early. `status` is one of record.Status; an interrupted run's
    verdict is `interrupted` (exit 2) whatever it measured, its reasons say what it
    measured, and `interrupted_by` names the signal.

    A harness part that stopped on its own (harness.analysis.parts) makes its
    architecture invalid too, and its data is judged only up to the failure: the
    harness's damage is never counted as the architecture's errors.
    """
    invariants = invariants or {}
    invalid_reasons: dict[str, list[str]] = {a: list(r) for a, r in (invalid or {}).items() if r}
    errors = errors or {}
    recorded, data = data, measurable(data, events)
    failures = {a: found for a in dict.fromkeys([*data, *errors, *invariants])
                if (found := part_failures(events, a))}
    for arch, found in failures.items():
        invalid_reasons.setdefault(arch, []).extend(f.invalid_reason for f in found)
    writes_checked = writes_checked or {}
    time_scale = header.time_scale
    alarms = {a: [AlarmDef.from_json(d) for d in defs] for a, defs in header.alarms.items()}
    analysed = {
        arch: _analyse(arch, d, header, objectives, events, alarms.get(arch, []), time_scale,
                       failures.get(arch, [None])[0])
        for arch, d in data.items()
    }
    # an architecture that produced no data at all still gets its row (and its error)
    names = list(dict.fromkeys([*data, *errors, *invariants]))
    # what the generator sent at all, not what is left of it before a harness failure
    no_load = {a: _no_load_reason(a, recorded, errors) for a in names
               if a not in recorded or recorded[a].stats().requests == 0}
    # nothing was sent, so nothing was measured: an SLO "met" on no requests would lie
    windows = {name: (lo, hi) for name, lo, hi in header.phases}
    recoveries = {arch: a.recoveries for arch, a in analysed.items()}
    slos = [s for s in evaluate(objectives.slos, data, windows, recoveries)
            if s.arch not in no_load]
    night = ReplayedNight.model_validate(header.replay) if header.replay else None
    # the original night beside each architecture's run of it, up to a harness failure
    replays = {} if night is None else {
        arch: replay_figures(night, d, failures[arch][0].measured_until_s
                             if arch in failures else None)
        for arch, d in data.items() if arch not in no_load}
    archs = [
        _arch_record(
            arch, header, data.get(arch), analysed.get(arch), events,
            slos=[s for s in slos if s.arch == arch], alarms=alarms.get(arch, []),
            invariants=list(invariants.get(arch, [])), writes_checked=writes_checked.get(arch),
            invalid=[*([no_load[arch]] if arch in no_load else []),
                     *invalid_reasons.get(arch, [])],
            error=errors.get(arch), time_scale=time_scale, replay=replays.get(arch),
        )
        for arch in names
    ]
    finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    judged = _judge(verdict(slos, invariants, invalid_reasons), errors, no_load,
                    nothing_ran=bool(no_load) and len(no_load) == len(names))
    if status == "interrupted":
        judged = _interrupted(header, names, data, by=interrupted_by, at=finished_at)
    return RunRecord.model_validate({
        "run_id": header.run_id, "status": status, "started_at": header.started_at,
        "finished_at": finished_at,
        "scenario": ScenarioRecord(
            name=header.scenario, file=header.scenario_file, seed=header.seed,
            phases=[Phase(name=n, start_s=lo, end_s=hi) for n, lo, hi in header.phases],
            definition=header.definition, replayed_from=night,
        ),
        "architectures": archs, "settings": header.settings, "versions": header.versions,
        "verdict": judged, "repeat": header.repeat,
    })


@dataclass(frozen=True)
class _Analysis:
    """One architecture's faults as analysed: recovery, clock orderings, alarms, deploys."""

    faults: list[FaultWindow]
    recoveries: list[FaultRecovery]
    orderings: list[ClockOrdering]
    unjudged: str | None
    detections: list[FaultDetection]
    false_alarms: list[FalseAlarm]
    overload_alarms: list[OverloadAlarm]
    deploys: list[DeploySummary]
    #: the recorded profile read back (None: not recorded, or it does not read back)
    profile: Profile | None


def _analyse(arch: str, data: ArchData, header: RunHeader, objectives: Objectives,
             events: Sequence[Mapping[str, Any]], alarms: Sequence[AlarmDef],
             time_scale: float, failure: PartFailure | None = None) -> _Analysis:
    """Recovery, clock orderings, alarm detection and deploys of one architecture's run.

    After a harness `failure` the data is cut: a fault the cut leaves unjudged is not
    measurable rather than unrecovered, and alarms that changed from then on are the
    harness's doing, not detections or false alarms of the architecture.
    """
    profile = recorded_profile(header.profiles.get(arch, {}))
    typed = profile if isinstance(profile, Profile) else None  # why not: `unjudged` says
    faults = faults_from_events(events, arch)
    # recovery figures are also given at AWS's timings: run seconds / time_scale (an estimate)
    recoveries = detect_all(data, faults, objectives.recovery, time_scale=time_scale)
    # orderings of timings the compressed clock may invert; a recovery that hangs on an
    # inverted one gets no AWS estimate
    orderings, unjudged = clock_orderings(profile, header.definition, time_scale, recoveries,
                                          data)
    # a replacement's own start is not scaled: its AWS estimate counts it once
    recoveries = count_boots_once(recoveries, events, arch)
    recoveries = unmeasured_after(withhold_estimates(recoveries, orderings), failure)
    changes = changes_from_events(events, arch)
    if failure is not None:
        changes = [c for c in changes if c.at_s < failure.measured_until_s]
    end = max([float(data.duration_s), *(c.at_s for c in changes)])
    detections, false_alarms, overload_alarms = detect(
        faults, recoveries, changes, {d.name: d for d in alarms}, end,
        repairs_from_events(events, arch, end), overload_episodes(events, arch, typed))
    return _Analysis(faults, recoveries, orderings, unjudged, detections, false_alarms,
                     overload_alarms, summarize_deploys(events, data, detections, arch),
                     typed)


def _arch_record(
    arch: str, header: RunHeader, data: ArchData | None, analysis: _Analysis | None,
    events: Sequence[Mapping[str, Any]], *, slos: list[SloResult], alarms: list[AlarmDef],
    invariants: list[Invariant], writes_checked: Mapping[str, Mapping[str, int]] | None,
    invalid: list[str], error: str | None, time_scale: float,
    replay: ReplayFigures | None = None,
) -> ArchRecord:
    """One architecture's row of run.json: the header's parts, its analysis and its judgement."""
    return ArchRecord(
        arch=arch, position=_position(header.settings, arch),
        profile=header.profiles.get(arch, {}),
        modelled=[ModelledRow.model_validate(m) for m in header.modelled.get(arch, [])],
        variant=(VariantRecord.model_validate(header.variants[arch])
                 if arch in header.variants else None),
        capacity=(
            CapacityRecord.model_validate(header.capacity[arch])
            if arch in header.capacity else None
        ),
        generator_cpu=(
            GeneratorCpuRecord.model_validate(header.generator_cpu[arch])
            if arch in header.generator_cpu else None
        ),
        valid=not invalid, invalid_reasons=invalid, error=error,
        totals=Totals.of(data) if data is not None else None,
        faults=analysis.faults if analysis else [],
        recoveries=analysis.recoveries if analysis else [],
        clock_orderings=analysis.orderings if analysis else [],
        clock_unjudged=analysis.unjudged if analysis else None,
        slos=slos, invariants=invariants,
        writes_checked=(
            {k: dict(v) for k, v in writes_checked.items()} if writes_checked is not None
            else None
        ),
        alarms=alarms,
        detections=analysis.detections if analysis else [],
        false_alarms=analysis.false_alarms if analysis else [],
        overload_alarms=analysis.overload_alarms if analysis else [],
        deploys=analysis.deploys if analysis else [],
        scaling=scaling_record(
            events, arch, analysis.profile if analysis else _typed_profile(header, arch), data,
            time_scale),
        cost=arch_cost(header.definition,
                       analysis.profile if analysis else _typed_profile(header, arch), data,
                       events, arch, time_scale),
        replay=replay,
    )


def _typed_profile(header: RunHeader, arch: str) -> Profile | None:
    profile = recorded_profile(header.profiles.get(arch, {}))
    return profile if isinstance(profile, Profile) else None


def _judge(judged: Verdict, errors: Mapping[str, str], no_load: Mapping[str, str], *,
           nothing_ran: bool) -> Verdict:
    """The SLOs' and invariants' verdict, overruled when no load ran or a run stopped early."""
    if nothing_ran:
        # exit 2 when an error (a stack that did not start, a generator that could not
        # run) stopped it: bad input or environment; 3 when it ran and sent nothing
        return Verdict(STOPPED if errors else INVALID, "no load",
                       [f"{a}: {why}" for a, why in no_load.items()])
    crashed = [f"{a}: {e}" for a, e in errors.items()]
    if crashed and judged.exit_code == PASS:
        # an architecture that stopped early has not shown that its SLOs hold
        return Verdict(FAIL, "failed", crashed)
    return judged


def _interrupted(header: RunHeader, names: Sequence[str], data: Mapping[str, ArchData], *,
                 by: str, at: str) -> Verdict:
    """An interrupted run is not judged: it says when, and what it measured until then."""
    load_s = max((hi for _, _, hi in header.phases), default=0.0)
    reasons = [f"interrupted{f' by {by}' if by else ''} at {at}: not judged"]
    for arch in dict.fromkeys([*(header.settings.get("architectures") or []), *names]):
        measured = data[arch].duration_s if arch in data else 0
        if measured:
            reasons.append(f"{arch}: {measured} of {load_s:g} s of load measured")
        elif arch in names:
            reasons.append(f"{arch}: interrupted before its load measured anything")
        else:
            reasons.append(f"{arch}: not started")
    return Verdict(STOPPED, "interrupted", reasons)


def _position(settings: Mapping[str, Any], arch: str) -> int | None:
    """1-based place of the architecture in the order the run went through them."""
    order = list(settings.get("architectures") or [])
    return order.index(arch) + 1 if arch in order else None


def _no_load_reason(arch: str, data: Mapping[str, ArchData], errors: Mapping[str, str]) -> str:
    if arch in errors:
        return f"no load was produced: {errors[arch]}"
    if arch in data:
        return "no load was produced: the generator sent no request"
    return "no load was produced"


def write_reports(out: ResultsDir, record: RunRecord, data: Mapping[str, ArchData],
                  events: Sequence[Mapping[str, Any]]) -> None:
    """report.html, junit.xml and summary.md from the record and the data."""
    # the charts end where the record's figures do: at a harness failure, if any
    out.write_text(REPORT, render(record, measurable(data, events), events))
    out.write_text(JUNIT, junit_xml(record))
    out.write_text(SUMMARY, summary_md(record))


def write_all(out: ResultsDir, record: RunRecord, data: Mapping[str, ArchData],
              events: Sequence[Mapping[str, Any]], *, finish: bool = True) -> None:
    """Every results file, then (with `finish`) the folder is marked complete.

    timeseries.csv holds the seconds the record judged: none after a harness failure,
    whose figures measure the harness, not the architecture. The records come before
    the reports rendered from them: a disk that fills on the way leaves what
    `harness report` rebuilds the rest from.
    """
    out.write_timeseries(measurable(data, events))
    if not out.events_path.exists():
        out.write_events([dict(e) for e in events])
    out.write_record(record)
    write_reports(out, record, data, events)
    if finish:
        out.finish()
