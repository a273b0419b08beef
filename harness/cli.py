"""The `harness` command line. The only place that turns errors into exit codes."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from harness import doctor as doctor_mod
from harness.analysis.compare import Rule
from harness.capacity.command import capacity as capacity_command
from harness.errors import ConfigError, EnvironmentProblem, HarnessError, StackError
from harness.load import locustcheck
from harness.load.command import load as load_command
from harness.model.profile_file import available_profiles, is_profile_file, load_profile
from harness.records.events import FaultEvent
from harness.records.marker import mark_owner_gone
from harness.rehearsal import RunOptions, rehearse
from harness.repeats import exit_code as repeats_exit_code
from harness.repeats import rehearse_repeated
from harness.replay.command import replay as replay_command
from harness.report.commands import compare_command, report_command
from harness.report.compare_options import parse_rule
from harness.report.forecast import forecast_command
from harness.report.terminal import print_verdict
from harness.runtime import cgroups, registry, select
from harness.runtime.loopback import keep_loopback_local
from harness.scenario import own_starter, starter
from harness.scenario import scenario as scenario_mod
from harness.scenario.labels import profile_of
from harness.settings import Settings
from harness.stacks.seed import SeedPlan
from harness.stacks.stack import Stack
from harness.stacks.topology import StackInfo

app = typer.Typer(
    name="harness",
    help="Rehearse traffic spikes and failures on an EC2-era and a container-era stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# off a terminal (CI logs) Rich would wrap tables at 80 columns
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


class Interrupted(HarnessError):
    """Ctrl-C or SIGTERM."""


def _raise_interrupt(signum: int, _frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt(signal.Signals(signum).name)


RUNTIME_HELP = "how components run: process (local processes) or docker (containers)"


@app.callback()
def _every_command() -> None:
    """Before any command: loopback kept off any HTTP proxy (harness.runtime.loopback), and
    clean-up after harnesses that died (their watchdog, too).

    Their stacks' processes and work dirs, their docker runs, and the INCOMPLETE
    marker of a results folder they left saying "running" or "stopping": it then says
    how the run ended, as far as is known (harness.records.marker.mark_owner_gone).
    """
    def note(line: str) -> None:
        err.print(line, markup=False, highlight=False, soft_wrap=True)

    keep_loopback_local()
    try:
        state_dir: Path | None = _settings().state_dir
    except HarnessError:
        state_dir = None  # a bad HARNESS_* setting: the command itself says so
    if state_dir is not None:
        for stale in registry.reap_stale(state_dir):
            note(f"cleaned up {stale} (its harness had died)")
        for folder in registry.reap_runs(state_dir, mark_owner_gone):
            note(f"{folder}: its harness had died; INCOMPLETE says so")
    for run in select.cleanup_docker_leftovers():
        note(f"removed the containers of {run} (its harness had died)")


def _check_runtime(runtime: str) -> None:
    if runtime not in select.RUNTIMES:
        raise typer.BadParameter(
            f"{runtime!r}: choose one of {', '.join(select.RUNTIMES)}", param_hint="--runtime")


def _settings(time_scale: float | None = None) -> Settings:
    return Settings.from_env(time_scale=time_scale)


@app.command()
def up(
    arch: Annotated[str, typer.Argument(help="architecture: legacy or modern")],
    port: Annotated[int | None, typer.Option(help="client port of the load balancer")] = None,
    time_scale: Annotated[
        float | None, typer.Option(help="multiply every AWS timing (0.1 = ten times faster)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the data set")] = 1,
    bug: Annotated[
        str | None, typer.Option(help="planted bug: ack_before_commit or skip_stock_check")
    ] = None,
    runtime: Annotated[str, typer.Option(help=RUNTIME_HELP)] = "process",
) -> None:
    """Start a stack, print its endpoints, keep it up until Ctrl-C or `harness down`."""
    _check_runtime(runtime)
    if port is not None and not 1 <= port <= 65535:
        raise typer.BadParameter(f"{port} is not a TCP port (1-65535)", param_hint="--port")
    if bug not in (None, "ack_before_commit", "skip_stock_check"):
        raise typer.BadParameter(
            f"{bug!r}: choose ack_before_commit or skip_stock_check", param_hint="--bug"
        )
    settings = _settings(time_scale)
    profile = load_profile(arch)
    doctor_mod.require(settings, profile.name)
    select.check_images(runtime, {arch: profile})
    limits_ok, limits_how = cgroups.probe() if runtime == "process" else (True, "docker")
    if not limits_ok:
        err.print(f"warning: CPU and memory limits cannot be enforced here ({limits_how})",
                  markup=False, highlight=False)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    stack = Stack(profile, settings, seed_plan=SeedPlan(seed=seed), lb_port=port, app_bug=bug,
                  runtime=runtime, command="up")
    started = time.monotonic()
    try:
        with err.status(f"starting the {profile.name} stack ..."):
            info = stack.start()
        _print_stack(info, time.monotonic() - started)
        out.print("[bold]up[/bold]: Ctrl-C or `harness down` stops it")
        reported: set[str] = set()
        while True:
            time.sleep(1)
            # `up` only reports a component that died; reacting is the orchestrators' job
            for name in set(stack.exited()) - reported:
                err.print(f"note: {name} exited; see {info.log_dir}/{name}.log")
                reported.add(name)
    except KeyboardInterrupt:
        if not stack.started:
            stack.stop()
            raise Interrupted(
                "interrupted while starting; everything started was stopped"
            ) from None
    finally:
        stack.stop()
    err.print(f"stopped the {profile.name} stack {stack.stack_id}")


def _print_stack(info: StackInfo, took_s: float) -> None:
    out.print(f"[bold]{info.arch}[/bold] stack [dim]{info.stack_id}[/dim] ready in {took_s:.1f} s")
    out.print(f"load balancer: [bold]{info.lb_url}[/bold]")
    table = Table("component", "kind", "zone", "endpoint", box=None)
    for c in info.components.values():
        table.add_row(c.name, c.kind, c.zone or "-", f"127.0.0.1:{c.port}")
    out.print(table)
    edges = Table("edge", "listens", "to", box=None)
    for e in info.edges.values():
        edges.add_row(e.name, f"127.0.0.1:{e.listen_port}", f"{e.upstream}:{e.upstream_port}")
    out.print(edges)
    out.print(f"toxiproxy API: {info.toxiproxy_api}   haproxy runtime API: {info.haproxy_socket}")
    out.print(f"logs: {info.log_dir}")


@app.command()
def down(
    stacks: Annotated[list[str] | None, typer.Argument(
        metavar="[STACK]...",
        help="stack ids as `harness list` shows them: stop these, whatever holds them")] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="stop every stack, a `harness run` or `capacity` in progress too")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait for a clean stop")] = 30,
) -> None:
    """Stop the stacks of `harness up` (or those named, or --all); clean up after dead runs.

    A `harness run` in progress is stopped only when named or with --all: a clean-up in
    one CI job must not end another job's rehearsal.
    """
    settings = _settings()
    live = {w.name: w for w in registry.live_stacks(settings.state_dir)}
    named = list(dict.fromkeys(stacks or []))
    unknown = [n for n in named if n not in live]
    if unknown:
        raise ConfigError(
            f"no running stack {', '.join(unknown)}; running: {', '.join(live) or 'none'}")
    chosen = [live[n] for n in named] if named and not all_ else [
        w for w in live.values() if all_ or registry.held_by(w) == "up"]
    for workdir in chosen:
        holder = _holder(workdir)
        if registry.stop_owner(workdir, timeout):
            out.print(f"stopped {workdir.name} ({holder})", highlight=False)
    if not named:
        for workdir in live.values():
            if workdir not in chosen:
                out.print(f"left running: {workdir.name} ({_holder(workdir)}); name it or "
                          "pass --all to stop it", highlight=False)
    if not live:
        out.print("no stack was running")


def _holder(workdir: Path) -> str:
    """`harness run, pid 123`: who holds a live stack."""
    owner = registry.read_owner(workdir)
    return f"harness {registry.held_by(workdir)}, pid {owner.get('pid', '?')}"


@app.command("list")
def list_() -> None:
    """Show the scenarios, the architectures (stack profiles) and the running stacks."""
    table = Table("scenario", "what it rehearses", box=None)
    for name in scenario_mod.available():
        table.add_row(name, scenario_mod.describe(name))
    out.print(table)
    table = Table("architecture", "description", box=None)
    for name in available_profiles():
        table.add_row(name, load_profile(name).description)
    out.print(table)
    settings = _settings()
    for workdir in registry.live_stacks(settings.state_dir):
        info_file = workdir / "stack.json"
        url = StackInfo.load(info_file).lb_url if info_file.exists() else "starting"
        out.print(f"running: {workdir.name}  {url}  ({_holder(workdir)})", highlight=False)


@app.command()
def doctor() -> None:
    """Check every system part the stacks need; print the command that installs what is missing."""
    settings = _settings()
    table = Table("", "part", "found", "fix", box=None)
    blocking = False
    for check in doctor_mod.checks(settings):
        mark = "[green]ok[/green]" if check.ok else (
            "[yellow]warn[/yellow]" if check.optional else "[red]missing[/red]"
        )
        blocking |= not check.ok and not check.optional
        table.add_row(mark, check.name, check.detail, "" if check.ok else check.fix)
    out.print(table)
    if blocking:
        raise EnvironmentProblem("some parts are missing: run the commands above, or `make setup`")


@app.command()
def faults() -> None:
    """List the fault types, what they target and their parameters."""
    from harness.faults.base import implemented
    from harness.scenario.faults import FAULT_TYPES, FaultSpec

    ready = implemented()
    common = set(FaultSpec.model_fields)
    table = Table("type", "target", "duration", "parameters (default)", "what it does", box=None)
    for name, cls in sorted(FAULT_TYPES.items()):
        params = []
        for key, fld in cls.model_fields.items():
            if key in common:
                continue
            default = "" if fld.is_required() else f"={fld.get_default(call_default_factory=True)}"
            params.append(f"{key}{default}")
        target = {
            "edge": "edge (app->db, lb->app[*])", "zone": "zone:<z>", "lb": "lb",
            "db": "db-writer, db-reader, db-standby", "app": "app-N, app[*]",
            "component": "component, app[*], zone:<z>",
        }[cls.target_kind]
        if cls.default_target:
            target += f" (default {cls.default_target})"
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        if name not in ready:
            doc += " (no implementation yet)"
        when = "instant" if cls.instant else "until done" if cls.until_done else "optional"
        table.add_row(name, target, when, ", ".join(params), doc)
    out.print(table)
    out.print("starts: `45s` or `<phase>+10s`; durations: `30s`, `500ms`; "
              "leave duration out to last to the end of the run")


@app.command()
def inject(
    fault_type: Annotated[
        str, typer.Argument(metavar="TYPE", help="fault type (see `harness faults`)")
    ],
    target: Annotated[
        str | None, typer.Option(help="component, group (app[*], zone:b) or edge")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(help="how long, e.g. 30s; default: until Ctrl-C")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="parameter key=value, repeatable")
    ] = None,
    stack: Annotated[str | None, typer.Option(help="stack id (when several are running)")] = None,
) -> None:
    """Apply one fault to the stack of `harness up` now; revert it after --duration or on Ctrl-C."""
    from harness.faults import drill

    settings = _settings()
    info = drill.find_stack(settings, stack)
    spec = drill.build_spec(
        fault_type, target=target, duration=duration, params=drill.parse_params(param or []),
        info=info,
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)

    def echo(event: dict[str, object]) -> None:
        keys = ("fault", "targets", "lag_ms", "took_ms", "error")
        detail = " ".join(f"{k}={event[k]}" for k in keys if k in event)
        if event["kind"] != FaultEvent.SUMMARY:
            out.print(f"[dim]{event['ts']}[/dim] {event['kind']} {detail}", highlight=False)

    try:
        drill.inject(info, spec, note=err.print, echo=echo)
    except KeyboardInterrupt:
        err.print("interrupted: the fault was reverted")


app.command(name="load")(load_command)
app.command(name="capacity")(capacity_command)
app.command(name="replay")(replay_command)


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(
        help="scenario name (smoke) or path to a .yaml; a stack profile.yaml is checked too"
    )],
    runtime: Annotated[str | None, typer.Option(
        help="also check what this runtime needs (docker: every image on the engine)")] = None,
) -> None:
    """Check a scenario (or a stack profile) without running it."""
    if runtime is not None:
        _check_runtime(runtime)
    if is_profile_file(Path(scenario)):
        profile = load_profile(scenario)
        select.check_images(runtime or "process", {scenario: profile})
        rows = profile.modelled(1.0)
        out.print(
            f"ok: {scenario}: stack profile {profile.name!r}, {len(rows)} cited settings "
            f"({sum(r.scaled for r in rows)} timings scaled by time_scale)",
            soft_wrap=True, highlight=False,
        )
        return
    found = scenario_mod.load_scenario(scenario)
    locust_info = locustcheck.inspect_workload(found.workload, str(found.path))
    # the variants too: any may be picked with --arch
    select.check_images(runtime or "process",
                        {a: found.profile(a) for a in [*found.architectures, *found.variants]})
    out.print(
        f"ok: {found.path}: {found.name}, {len(found.workload.phase_windows())} phases over "
        f"{found.workload.duration:g} s, {len(found.faults)} faults, "
        f"{len(found.objectives.slos)} SLOs, on {' and '.join(found.architectures)}",
        soft_wrap=True,
    )
    for label, variant in found.variants.items():
        picked = "runs" if label in found.architectures else f"pick with --arch {label}"
        out.print(f"variant {variant.summary()}; {picked}", soft_wrap=True, highlight=False,
                  markup=False)
    if locust_info is not None:
        out.print(f"locustfile: {locust_info.path}: runs {', '.join(locust_info.users)}",
                  soft_wrap=True, highlight=False)
        if locust_info.shape is not None:
            out.print(f"locustfile: {locust_info.shape.describe()}", soft_wrap=True,
                      highlight=False, markup=False)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="scenario name; writes NAME.yaml")] = "my-event",
    locustfile: Annotated[
        bool, typer.Option("--locustfile", help="also write a starter locustfile.py, and use it")
    ] = False,
    directory: Annotated[Path, typer.Option("--dir", help="folder to write to")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
    own_service: Annotated[Path | None, typer.Option(
        "--own-service", help="write a starter folder for your own service into DIR "
        "(scenario, a profile per era, schema, locustfile)")] = None,
) -> None:
    """Write a commented starter scenario (and locustfile) that validates as it is."""
    if own_service is not None:
        written = own_starter.write_own_starter(own_service, force=force)
        for path in written:
            out.print(f"wrote {path}", highlight=False)
        out.print(f"next: fill in the lines marked FILL IN; harness validate {written[0]}; "
                  f"harness run {written[0]}", highlight=False, soft_wrap=True)
        return
    written = starter.write_starter(name, directory, locustfile=locustfile, force=force)
    for path in written:
        out.print(f"wrote {path}", highlight=False)
    out.print(f"next: harness validate {written[0]}; harness run {written[0]} --arch modern",
              highlight=False, soft_wrap=True)


#: the comparison's rule, the same flags on `run --repeat` and `compare`
MinEffectOption = Annotated[list[str] | None, typer.Option(
    help="METRIC=VALUE, repeatable: the smallest change worth a verdict, e.g. p99=10ms, "
         "p99=5% (relative), error_rate=0.5% (absolute), recovery=2s")]
MinRepeatsOption = Annotated[int, typer.Option(
    help="runs a side before any verdict; fewer read 'too few repeats'")]
FamilyAlphaOption = Annotated[str, typer.Option(
    help="chance of any false verdict in one comparison (Holm-Bonferroni)")]


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="scenario name (blackfriday) or a .yaml path")],
    arch: Annotated[
        str, typer.Option(help="legacy, modern, both, or profiles comma-separated "
                          "(modern,modern-no-proxy; modern,modern runs it twice); "
                          "default: the scenario's")
    ] = "scenario",
    runtime: Annotated[str, typer.Option(help=RUNTIME_HELP)] = "process",
    seed: Annotated[int | None, typer.Option(help="seed (default: the scenario's)")] = None,
    time_scale: Annotated[
        float | None, typer.Option(help="multiply every AWS timing (default: the scenario's)")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="parent folder of the results (default results/)")
    ] = None,
    workers: Annotated[int, typer.Option(help="load generator worker processes")] = 1,
    ci: Annotated[bool, typer.Option("--ci", help="no live display; exit 0/1/2/3")] = False,
    repeat: Annotated[
        int, typer.Option(help="run each architecture N times, interleaved; compare with "
                               "intervals (verdicts from 3 repeats)")
    ] = 1,
    allow_unlimited: Annotated[bool, typer.Option(
        "--allow-unlimited",
        help="run even where CPU and memory limits cannot be enforced (the report says so)",
    )] = False,
    min_effect: MinEffectOption = None,
    min_repeats: MinRepeatsOption = 3,
    family_alpha: FamilyAlphaOption = "5%",
) -> None:
    """Rehearse a scenario on each architecture; write results/<run-id>/; exit with the verdict.

    With --repeat, the comparison at the end judges by --min-effect, --min-repeats and
    --family-alpha, as `harness compare` does.
    """
    # a bad comparison flag is an input error before any stack starts
    rule = parse_rule(min_effect=min_effect or [], min_repeats=min_repeats,
                      family_alpha=family_alpha)
    found = scenario_mod.load_scenario(scenario)
    locustcheck.check_workload(found.workload, str(found.path))  # before any stack starts
    archs = _pick_archs(arch, found.architectures, list(found.variants))
    if archs != found.architectures:
        found = scenario_mod.on_architectures(found, archs)
    _check_runtime(runtime)
    select.check_images(runtime, {a: found.profile(a) for a in archs})
    if workers < 1:
        raise typer.BadParameter(f"{workers}: need at least 1 worker", param_hint="--workers")
    if repeat < 1:
        raise typer.BadParameter(f"{repeat}: need at least 1 run", param_hint="--repeat")
    say: Callable[[str], None] = (
        (lambda line: print(line, flush=True)) if ci
        else (lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True))
    )
    if runtime == "process":  # the docker runtime's limits are Docker's, on cgroup v1 or v2
        capacity_gate(ci=ci, allow_unlimited=allow_unlimited, say=say)
    # the run's time scale: --time-scale over HARNESS_TIME_SCALE over the scenario's
    settings = Settings.from_env(time_scale=time_scale, scenario_time_scale=found.time_scale)
    for name in dict.fromkeys(profile_of(a) for a in archs):
        doctor_mod.require(settings, name)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    options = RunOptions(
        architectures=archs, seed=found.seed if seed is None else seed, settings=settings,
        out_root=out_dir or settings.results_dir, workers=workers, runtime=runtime,
    )
    if repeat > 1:
        raise typer.Exit(_run_repeated(found, options, say, repeat=repeat, live=not ci,
                                       rule=rule))
    record, where = rehearse(found, options, say, live=not ci)
    print_verdict(record, where, out)
    if record.status == "interrupted":
        raise Interrupted(f"interrupted; what was measured is in {where} (marked incomplete)")
    raise typer.Exit(record.verdict.exit_code if record.verdict else 1)


def _run_repeated(found: scenario_mod.Scenario, options: RunOptions, say: Callable[[str], None],
                  *, repeat: int, live: bool, rule: Rule) -> int:
    """`run --repeat N`: every repeat's table, then the comparison with intervals.

    The exit code is the worst verdict over the repeats (SLOs and invariants), as
    for one run; the comparison informs, `harness compare` gates on it.
    """
    done, root = rehearse_repeated(
        found, options, say, repeat=repeat, live=live,
        after_each=lambda record, where: print_verdict(record, where, out),
    )
    if done[-1][0].status == "interrupted":
        raise Interrupted(f"interrupted; what was measured is in {root} (marked incomplete)")
    if len(dict.fromkeys(options.architectures)) > 1:
        try:
            compare_command(root, rule=rule, console=out)
        except HarnessError as exc:  # e.g. fewer than two repeats finished
            err.print(f"compare: {exc}", markup=False, highlight=False, soft_wrap=True)
    return repeats_exit_code([r for r, _ in done])
def capacity_gate(*, ci: bool, allow_unlimited: bool, say: Callable[[str], None]) -> None:
    """Refuse (--ci) or flag, as the run's first line, a machine that cannot enforce limits.

    Without limits both architectures share the whole machine, so the comparison no
    longer says what equal, AWS-sized capacity would do.
    """
    available, reason = cgroups.probe()
    if available:
        return
    problem = (
        f"CPU and memory limits cannot be enforced here ({reason}): both architectures would "
        "run without their profile's size, not on equal capacity"
    )
    if ci and not allow_unlimited:
        raise EnvironmentProblem(f"{problem}; pass --allow-unlimited to run anyway")
    say(f"warning: {problem}; run.json and the report say so")


def _pick_archs(arch: str, in_scenario: list[str], variants: list[str] | None = None
                ) -> list[str]:
    """`--arch`: the scenario's own, `both` (legacy and modern) or a comma list of profiles.

    A profile named twice runs twice, labelled `modern` and `modern#2` (an A/A check).
    A label the scenario knows (one of its architectures or `variants:`) is taken as it is.
    """
    if arch == "scenario":
        return in_scenario
    wanted = list(scenario_mod.ARCHS) if arch == "both" else [
        a.strip() for a in arch.split(",") if a.strip()
    ]
    known = available_profiles()
    labelled = [a for a in [*in_scenario, *(variants or [])] if "#" in a]
    unknown = [a for a in wanted if a not in known and a not in labelled]
    if unknown or not wanted:
        raise typer.BadParameter(
            f"{arch!r}: name stack profiles, comma-separated, from "
            f"{', '.join(known)} (or 'both')"
            + (f", or the scenario's labels {', '.join(labelled)}" if labelled else ""),
            param_hint="--arch",
        )
    labels: list[str] = []
    for name in wanted:
        label, copy = name, 1
        while label in labels:
            copy += 1
            label = f"{name}#{copy}"
        labels.append(label)
    return labels


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a results folder, results/<run-id>")],
) -> None:
    """Re-render report.html, junit.xml and summary.md from a run's saved data."""
    raise typer.Exit(report_command(run_dir, console=out))


@app.command()
def compare(
    baseline: Annotated[
        Path, typer.Argument(help="results folder of the baseline run or repeat set")
    ],
    candidate: Annotated[
        Path | None, typer.Argument(help="results folder to compare (default: baseline's)")
    ] = None,
    baseline_arch: Annotated[str | None, typer.Option(help="default legacy")] = None,
    candidate_arch: Annotated[str | None, typer.Option(help="default modern")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="where compare.md/.html go")] = None,
    min_effect: MinEffectOption = None,
    min_repeats: MinRepeatsOption = 3,
    family_alpha: FamilyAlphaOption = "5%",
) -> None:
    """Run-level deltas with confidence intervals (t over repeats, else a bootstrap); exit 1
    on a significant regression (Holm-corrected, at least --min-repeats runs a side)."""
    rule = parse_rule(min_effect=min_effect or [], min_repeats=min_repeats,
                      family_alpha=family_alpha)
    raise typer.Exit(compare_command(
        baseline, candidate, baseline_arch=baseline_arch, candidate_arch=candidate_arch,
        out_dir=out_dir, rule=rule, console=out,
    ))


@app.command()
def forecast(
    run_dir: Annotated[Path, typer.Argument(help="a results folder, results/<run-id>")],
    hours: Annotated[float, typer.Option(
        help="the longer event's length in AWS hours, e.g. 6 for a 6-hour sale")],
) -> None:
    """What a longer event shaped like this rehearsal would cost on AWS: the run's line
    items scaled to --hours, an estimate, with its assumptions."""
    raise typer.Exit(forecast_command(run_dir, hours, console=out))


def main() -> None:
    """Entry point: run the app, map HarnessError to its exit code and one line."""
    try:
        # without standalone mode, click returns typer.Exit's code instead of exiting
        code = app(standalone_mode=False)
    except HarnessError as exc:
        # soft_wrap: the error stays one line whatever the terminal width, for logs and CI
        # emoji=False: rich would show `profile.yaml:100:` as `profile.yaml💯`
        err.print(f"harness: error: {exc}", markup=False, highlight=False, soft_wrap=True,
                  emoji=False)
        if isinstance(exc, StackError) and exc.log_tail:
            err.print(exc.log_tail, style="dim", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("harness: interrupted", markup=False)
        sys.exit(2)
    except typer.Abort:
        err.print("harness: interrupted", markup=False)
        sys.exit(2)
    except Exception as exc:  # click's usage errors
        import click
        from typer.exceptions import TyperException

        # typer >= 0.20 raises its own vendored click's exceptions (TyperException subclasses)
        show = getattr(exc, "show", None)
        if isinstance(exc, click.ClickException | TyperException) and callable(show):
            if type(exc).__name__ == "NoArgsIsHelpError":  # `harness` alone: the help
                show()
                sys.exit(2)
            # one line, as for every other bad input, instead of click's usage block
            ctx = getattr(exc, "ctx", None)
            hint = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
            err.print(f"harness: error: {exc.format_message().rstrip('.')}{hint}", markup=False,
                      highlight=False, soft_wrap=True, emoji=False)
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
