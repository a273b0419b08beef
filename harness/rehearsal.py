"""One rehearsal: the only place where stacks, load, faults and analysis meet.

For each architecture in turn (never at once: they would share the CPU): start
the stack, run the load and the fault timeline on one clock, stop the load, let
the system drain, check the invariants, tear down. Then analyse everything and
write the results folder. Ctrl-C at any point still tears down what started,
reverts every fault and writes what was measured, marked incomplete.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.analysis.invariants import Invariant, count_writes, evaluate
from harness.analysis.parts import part_failures
from harness.analysis.queries import judge_all, write_checks, write_keys
from harness.analysis.series import ArchData
from harness.errors import HarnessError, ResultsError
from harness.faults.base import FaultContext
from harness.faults.executor import FaultExecutor, plan
from harness.interrupts import Seen, interrupts
from harness.live import RunView, fault_states
from harness.load.runner import LoadResult, run_load
from harness.load.writes import WritesFile
from harness.model.profile import Profile
from harness.readback import (
    database_settle_s,
    drain_queue,
    read_keys,
    read_queries,
    read_writer,
)
from harness.records.files import Watch, watch
from harness.records.marker import MARKER, mark_stopping
from harness.records.samples import METRICS_FILE, MetricsLog
from harness.report.assemble import RunHeader, build_record, write_all
from harness.report.record import Repeat, RunRecord
from harness.report.results import REPEAT_PREFIX, ResultsDir
from harness.runtime.events import EventLog
from harness.runtime.watchdog import guarding_results
from harness.scenario.replayed import replayed_night
from harness.scenario.scenario import Scenario
from harness.scenario.variants import modelled_rows
from harness.settings import Settings
from harness.stacks.capacity import largest_fleet_cpus
from harness.stacks.collector import Collector
from harness.stacks.connections import ConnectionSampler
from harness.stacks.seed import SeedPlan
from harness.stacks.stack import Stack

#: the load and the fault clock start together this long after the stack is ready
LEAD_IN_S = 1.5

Say = Callable[[str], None]


@dataclass
class ArchOutcome:
    """What one architecture's part of the run produced."""

    arch: str
    data: ArchData | None = None
    invariants: list[Invariant] = field(default_factory=list)
    #: kind -> outcome -> writes the invariants checked; None until they ran
    writes_checked: dict[str, dict[str, int]] | None = None
    invalid: list[str] = field(default_factory=list)
    error: str | None = None
    #: the stack profile the architecture ran with, for run.json
    profile: dict[str, Any] = field(default_factory=dict)
    #: its cited settings at the run's time scale ("what this run modelled")
    modelled: list[dict[str, Any]] = field(default_factory=list)
    #: the scenario's what-if variant it ran (Variant.to_json); None = the profile as it is
    variant: dict[str, Any] | None = None
    #: the apps' CPU and memory limits as read back from the kernel (Capacity.to_json)
    capacity: dict[str, Any] | None = None
    #: the CloudWatch alarms evaluated during the run (AlarmDef.to_json)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    #: the generator's own CPU share over the load (GeneratorCpu.to_json)
    generator_cpu: dict[str, Any] | None = None
    fault_errors: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False


@dataclass
class RunOptions:
    architectures: list[str]
    seed: int
    settings: Settings
    out_root: Path
    workers: int = 1
    #: how components run: "process" or "docker" (harness.runtime.select)
    runtime: str = "process"
    #: set when this run is one of a repeated rehearsal's; out_root is then the set's folder
    repeat: Repeat | None = None


def rehearse(scenario: Scenario, options: RunOptions, say: Say, *, live: bool = False
             ) -> tuple[RunRecord, Path]:
    """Run the scenario on each architecture, analyse, write results; return the record.

    `live` shows a Rich live view on a terminal (harness.live); without it, or off a
    terminal, a plain status line every few seconds and one line per orchestrator event.
    A KeyboardInterrupt (Ctrl-C, or SIGTERM mapped to it) ends the run early: the
    record's status is then "interrupted" and the folder stays marked incomplete.
    """
    repeat = options.repeat
    results = ResultsDir.create(options.out_root, scenario.name,
                                name=f"{REPEAT_PREFIX}{repeat.index}" if repeat else None)
    # a crash marks INCOMPLETE with the error (ResultsDir.__exit__); a kill -9 is noted
    # by the watchdog, or by the next harness command
    with results, guarding_results(options.settings.state_dir, results.path):
        record = _rehearse(scenario, options, results, say, live=live)
    return record, results.path


def _rehearse(scenario: Scenario, options: RunOptions, results: ResultsDir, say: Say, *,
              live: bool) -> RunRecord:
    outcomes: dict[str, ArchOutcome] = {}
    status, interrupted_by = "complete", ""
    view = RunView(options.architectures, load_s=scenario.workload.duration,
                   drain_s=scenario.drain_s, lead_in_s=LEAD_IN_S, say=say, live=live,
                   title=scenario.name)
    plain_say, say = say, view.say
    stopping = functools.partial(_mark_stopping, results)
    try:
        with interrupts(on_signal=stopping) as interrupted, view, \
                watch(results.path, sentinel=MARKER) as broken:
            try:
                for arch in options.architectures:
                    broken.check()
                    view.arch(arch)
                    say(f"{arch}: starting the stack")
                    outcomes[arch] = ArchOutcome(arch)
                    _one_arch(scenario, outcomes[arch], options, results, view,
                              (interrupted, broken))
                    view.finish_arch()
                    if not outcomes[arch].complete:
                        status = "incomplete"
            except Exception as exc:
                # a full disk or a removed folder surfaces as whatever failed first (a log
                # a component opens, a mkdir): the folder is the cause, said once, and
                # nothing is left to write what was measured into
                failure = broken.explain(exc)
                if failure is None:
                    raise
                raise ResultsError(f"{failure}; the run stopped there and its stacks are "
                                   "torn down") from None
    except KeyboardInterrupt as exc:
        status = "interrupted"
        # interrupts() names the signal; a bare KeyboardInterrupt is Python's own Ctrl-C
        interrupted_by = str(exc.args[0]) if exc.args else "SIGINT"
        say(f"interrupted by {interrupted_by}: writing what was measured")
    written = time.monotonic()
    record = _write(scenario, options, results, outcomes, status, interrupted_by)
    plain_say(f"analysis and report: took {time.monotonic() - written:.1f} s")
    return record


def _mark_stopping(results: ResultsDir, by: str) -> None:
    """At a caught signal, before the stacks come down: `stopping since <time> by SIGTERM`.

    A kill during the teardown and the analysis then reads "killed before it had written
    what was measured", not as a kill in the middle of the run.
    """
    # best effort: a full disk is found and said by the run's own writes
    with contextlib.suppress(ResultsError):
        mark_stopping(results.path, by)


def _one_arch(scenario: Scenario, outcome: ArchOutcome, options: RunOptions,
              results: ResultsDir, view: RunView, stops: tuple[Seen, Watch]) -> None:
    """One architecture's part: stack up, load and faults on one clock, drain, invariants.

    What the load measured lands on `outcome` even when an error or Ctrl-C ends it early.
    A results folder that stops taking writes (`broken`) stops the load and raises its
    ResultsError once the stack is down.
    """
    interrupted, broken = stops
    arch = outcome.arch
    say = view.say
    events = EventLog(results.path / f"events-{arch}.jsonl", echo=view.event)
    profile = _arch_profile(scenario, outcome, options.settings.time_scale)
    alarms = profile.alarm_definitions(options.settings.time_scale)
    outcome.alarms = [a.to_json() for a in alarms]
    stack = _stack(scenario, options, profile, events, log_dir=results.logs_dir / arch)
    load: LoadResult | None = None
    took = _Stages()
    try:
        with stack:
            took.mark("stack start")
            info = stack.info
            assert stack.runtime is not None  # started
            _note_capacity(stack, outcome, say)
            say(f"{arch}: stack ready at {info.lb_url}; load for {scenario.workload.duration:g} s")
            # one clock for both: the load's second 0 is the fault timeline's 0 s
            start_at = time.time() + LEAD_IN_S
            events.t0 = time.monotonic() + LEAD_IN_S
            ctx = FaultContext(info=info, processes=stack.runtime, events=events,
                               database=stack.database, stack=stack)
            planned = plan(scenario.faults, ctx, phases=scenario.phase_starts)
            metrics = MetricsLog(results.path / METRICS_FILE, arch)
            if stack.scaling is not None and scenario.scaling is not None:
                stack.scaling.schedule(
                    scenario.scaling.actions(arch, scenario.phase_starts))
            # metrics and alarms run from before the load until the end of the drain
            with Collector(stack, metrics, events, alarms):
                # DB-side connection counts once a second, from here (not from the generator)
                with ConnectionSampler(info, events, stack.db_roles), \
                        FaultExecutor(planned, ctx, journal_dir=stack.workdir) as executor:
                    view.stage("load", load_t0=events.t0)
                    view.watch_faults(
                        lambda: fault_states(executor.planned, events.elapsed()))
                    load = run_load(
                        info.lb_url, scenario.workload, out_dir=results.path / "load" / arch,
                        seed=options.seed, workers=options.workers, on_second=view.second,
                        start_at=start_at, stop=broken,
                        stack_cpus=(largest_fleet_cpus(stack.capacity, profile)
                                    if stack.capacity else None),
                    )
                    # a fault that did not apply makes the run fail: it did not rehearse
                    # what it said
                    outcome.fault_errors += [str(e) for e in executor.errors]
                took.mark("load")
                view.watch_faults(list)
                if interrupted.is_set():
                    raise KeyboardInterrupt(interrupted.signal)
                broken.check()
                say(f"{arch}: load done; draining {scenario.drain_s:g} s")
                view.stage("draining")
                broken.wait(scenario.drain_s)
                broken.check()
                took.mark("drain")
            view.stage("checking invariants")
            stopped = part_failures(events.events)
            if stopped:
                # the queue or the edges the checks read may be gone with the part, and
                # nothing after its failure is judged: the run is invalid (report.assemble)
                say(f"{arch}: invariants not checked: {stopped[0].reason}")
            else:
                outcome.invariants, outcome.writes_checked = _invariants(
                    stack, load,
                    settle_s=database_settle_s(profile, options.settings.time_scale))
            outcome.complete = load.complete
            took.mark("invariants")
            view.stage("tearing down")
        took.mark("teardown")
        say(f"{arch}: took {took}")
    except HarnessError as exc:
        if broken.explain(exc) is not None:
            raise  # the run stops: _rehearse says why
        outcome.error = str(exc)
        say(f"{arch}: error: {exc}")
    finally:
        if load is not None:
            _note_load(load, outcome, say)
        outcome.events = [{**e, "arch": arch} for e in events.events]


def _arch_profile(scenario: Scenario, outcome: ArchOutcome, time_scale: float) -> Profile:
    """The profile the architecture runs: its variant, the scenario's alarms and scaling."""
    arch = outcome.arch
    # the scenario's variant of the profile when the label names one (legacy#tcp-check)
    profile = scenario.profile(arch)
    variant = scenario.variant(arch)
    outcome.variant = variant.to_json() if variant is not None else None
    # the profile's alarms with the scenario's changes: run.json and "modelled" show these
    profile = profile.model_copy(update={"alarms": scenario.alarm_specs(profile, arch)})
    if scenario.scaling is not None:
        profile = scenario.scaling.applied(profile, str(scenario.path))
    outcome.profile = profile.model_dump(mode="json")
    outcome.modelled = modelled_rows(profile, variant, time_scale)
    return profile


def _stack(scenario: Scenario, options: RunOptions, profile: Profile, events: EventLog, *,
           log_dir: Path) -> Stack:
    """The architecture's stack (not started yet) at the run's time scale and seed data."""
    return Stack(
        profile, options.settings,
        seed_plan=SeedPlan(seed=options.seed, products=scenario.workload.data.products,
                           events=scenario.workload.data.events),
        log_dir=log_dir, app_bug=scenario.bug, events=events, runtime=options.runtime,
        own=scenario.own,
    )


def _note_capacity(stack: Stack, outcome: ArchOutcome, say: Say) -> None:
    """The apps' limits in force onto the outcome; a warning when they are not enforced."""
    if stack.capacity is not None:
        outcome.capacity = stack.capacity.to_json()
        if not stack.capacity.enforced:
            say(f"{outcome.arch}: warning: {stack.capacity.reason}")


def _note_load(load: LoadResult, outcome: ArchOutcome, say: Say) -> None:
    """What the load measured onto the outcome: its data, self-check and generator CPU."""
    outcome.data = ArchData.from_recorder(outcome.arch, load.recorder)
    outcome.invalid += list(load.check.reasons)
    if load.generator_cpu is not None:
        outcome.generator_cpu = load.generator_cpu.to_json()
        for warning in load.generator_cpu.warnings:
            say(f"{outcome.arch}: warning: {warning}")


class _Stages:
    """Wall-clock seconds of each stage of an architecture's part, for the run's log."""

    def __init__(self) -> None:
        self._at = time.monotonic()
        self._took: list[tuple[str, float]] = []

    def mark(self, stage: str) -> None:
        now = time.monotonic()
        self._took.append((stage, now - self._at))
        self._at = now

    def __str__(self) -> str:
        return ", ".join(f"{stage} {s:.1f} s" for stage, s in self._took)


def _invariants(stack: Stack, load: LoadResult, *, settle_s: float
                ) -> tuple[list[Invariant], dict[str, dict[str, int]] | None]:
    """The sample shop's checks (unless the scenario's own data replaced the shop), the
    scenario's own queries (harness.scenario.own) and the locustfile's acknowledged writes
    (harness.load.acked); and how many writes of each kind they checked."""
    info = stack.info
    own = stack.own
    shop = own is None or own.sample_shop
    writes = WritesFile(load.out_dir / "writes.jsonl")
    marked = write_keys(writes)
    checks: list[Invariant] = []
    if shop:
        assert stack.seed_data is not None
        initial = {p[0]: p[3] for p in stack.seed_data.products}
        checks = evaluate(
            writes, read_writer(stack.info, settle_s), initial_stock=initial,
            queued_order_ids=drain_queue(info.aws_endpoint, info.queue_url),
        )
    if own is not None and own.invariants:
        checks += judge_all(own.invariants, read_queries(info, settle_s, own.invariants))
    if marked:
        checks += write_checks(writes, read_keys(info, settle_s, marked))
    return checks, count_writes(writes) if shop or marked else None


def _write(scenario: Scenario, options: RunOptions, results: ResultsDir,
           outcomes: dict[str, ArchOutcome], status: str, interrupted_by: str = ""
           ) -> RunRecord:
    events = [e for o in outcomes.values() for e in o.events]
    repeat = options.repeat
    header = RunHeader(
        run_id=f"{repeat.set_id}/{results.run_id}" if repeat else results.run_id,
        scenario=scenario.name, seed=options.seed,
        phases=scenario.workload.phase_windows(), scenario_file=str(scenario.path),
        definition=scenario.definition,
        settings={"time_scale": options.settings.time_scale, "workers": options.workers,
                  "architectures": options.architectures, "drain_s": scenario.drain_s,
                  "bug": scenario.bug},
        versions={"harness": __version__, "python": platform.python_version()},
        profiles={a: o.profile for a, o in outcomes.items()},
        modelled={a: o.modelled for a, o in outcomes.items()},
        variants={a: o.variant for a, o in outcomes.items() if o.variant is not None},
        repeat=repeat.model_dump() if repeat else None,
        capacity={a: o.capacity for a, o in outcomes.items() if o.capacity is not None},
        alarms={a: o.alarms for a, o in outcomes.items()},
        generator_cpu={a: o.generator_cpu for a, o in outcomes.items()
                       if o.generator_cpu is not None},
        replay=(night.model_dump(mode="json")
                if (night := replayed_night(scenario.replayed_from, scenario.workload))
                else None),
    )
    data = {a: o.data for a, o in outcomes.items() if o.data is not None}
    record = build_record(
        header, scenario.objectives, data, events,
        invariants={a: o.invariants for a, o in outcomes.items()},
        writes_checked={a: o.writes_checked for a, o in outcomes.items()
                        if o.writes_checked is not None},
        invalid={a: o.invalid for a, o in outcomes.items() if o.invalid},
        errors={
            a: "; ".join([*([o.error] if o.error else []), *o.fault_errors])
            for a, o in outcomes.items() if o.error or o.fault_errors
        },
        status=status, interrupted_by=interrupted_by,
    )
    results.write_events(events)
    for arch in outcomes:
        with contextlib.suppress(FileNotFoundError):
            (results.path / f"events-{arch}.jsonl").unlink()
    if status == "interrupted":
        # "interrupted at <time> by SIGTERM: legacy: 23 of 60 s of load measured; ..."
        measured = record.verdict.reasons[1:] if record.verdict else []
        results.mark_interrupted("; ".join(measured) or "nothing measured", by=interrupted_by)
    elif status != "complete":
        results.mark_ended("incomplete", "the load stopped early or a generator process died")
    write_all(results, record, data, events, finish=status == "complete")
    return record
