"""`harness capacity <arch>`: the highest arrival rate one member and the whole stack sustain.

Starts the architecture's stack (or a `--mix` scenario's variant's, with the scenario's
own data: target.py) on the process runtime with its enforced CPU and memory limits (and
no orchestrator: the fleet stays as it is while it is measured), then searches
(search.py) with short open-model loads (measure.py):

1. one member alone: every other instance/task drained in the load balancer;
2. the whole stack, starting from the member's capacity.

Prints each latency curve and the sentence a team quotes; --json writes it all.
Ctrl-C stops the load, puts the members back and stops the stack.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any

import psutil
import typer
from rich.console import Console

from harness import __version__
from harness import doctor as doctor_mod
from harness.errors import EnvironmentProblem, HarnessError
from harness.interrupts import interrupts
from harness.model.profile import Profile
from harness.runtime import cgroups
from harness.settings import Settings
from harness.stacks.components.haproxy import HaproxyAdmin
from harness.stacks.stack import Stack

from . import members, options
from .measure import Mix, Stepper
from .output import print_search, sentence, write_json
from .search import SearchResult, find_capacity
from .target import Target, resolve

# off a terminal (CI logs) Rich would wrap the curve at 80 columns
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


class Interrupted(HarnessError):
    """Ctrl-C or SIGTERM during a capacity search (exit 2, like `harness run`)."""


def _member_words(profile: Profile) -> tuple[str, str]:
    """("one task", "3 tasks") in the architecture's own words."""
    noun = "task" if profile.app.kind == "go" else "instance"
    return f"one {noun}", f"the stack ({profile.app.instances} {noun}s)"


def capacity(
    arch: Annotated[str, typer.Argument(
        help="architecture (legacy, modern) or a variant of the --mix scenario (modern#x)")],
    mix: Annotated[str, typer.Option(
        help="a path (/products: one GET per arrival) or a scenario whose journeys to send")
    ] = "/products",
    p99: Annotated[str, typer.Option(help="SLO: p99 latency at most this")] = "500ms",
    max_error_rate: Annotated[str, typer.Option(help="SLO: error rate at most this")] = "1%",
    min_achieved: Annotated[
        str, typer.Option(help="SLO: achieved/offered arrivals at least this")] = "99%",
    start: Annotated[str, typer.Option(help="first rate tried")] = "50/s",
    max_rate: Annotated[str, typer.Option(help="highest rate tried")] = "5000/s",
    factor: Annotated[float, typer.Option(help="step search: rate x this while passing")] = 2.0,
    tolerance: Annotated[
        str, typer.Option(help="bisect until last pass and first fail are this close")] = "5%",
    max_steps: Annotated[int, typer.Option(help="steps per search at most")] = 12,
    step: Annotated[str, typer.Option(help="measured length of each step")] = "8s",
    warmup: Annotated[str, typer.Option(help="discarded warm-up before each step")] = "3s",
    timeout: Annotated[str, typer.Option(help="read timeout of one request")] = "2s",
    concurrency: Annotated[
        int, typer.Option(help="requests in flight at most; arrivals beyond are dropped")] = 1000,
    workers: Annotated[int, typer.Option(help="load generator worker processes")] = 1,
    seed: Annotated[int, typer.Option(help="seed of the data and the arrivals")] = 1,
    scope: Annotated[str, typer.Option(help="member, stack or both")] = "both",
    confirm: Annotated[bool, typer.Option(
        "--confirm/--no-confirm", help="measure the capacity found once more")] = True,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="write the curves and results here")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="per-step load data (default results/capacity-<arch>-<time>/)")] = None,
    allow_unlimited: Annotated[bool, typer.Option(
        "--allow-unlimited", help="measure even where CPU and memory limits cannot be enforced")
    ] = False,
) -> None:
    """Find the highest open-model arrival rate one member and the whole stack sustain
    within the SLOs; print the latency curves.

    Example: harness capacity modern --mix blackfriday --p99 300ms --json cap.json

    With a scenario as --mix, the stack gets the scenario's own_service data (schema,
    seed, queues, buckets) as `harness run` gives it, and ARCH may be one of its variants.
    """
    opts = options.parse(
        p99=p99, max_error_rate=max_error_rate, min_achieved=min_achieved, start=start,
        max_rate=max_rate, factor=factor, tolerance=tolerance, max_steps=max_steps, step=step,
        warmup=warmup, timeout=timeout, concurrency=concurrency, workers=workers, seed=seed,
        scope=scope, confirm=confirm,
    )
    target = resolve(arch, mix)
    profile, the_mix = target.profile, target.mix
    settings = Settings.from_env()
    doctor_mod.require(settings, profile.name)
    limited, how = cgroups.probe()
    if not limited and not allow_unlimited:
        raise EnvironmentProblem(
            f"CPU and memory limits cannot be enforced here ({how}): a capacity without the "
            "profile's size says nothing about an AWS instance or task; pass --allow-unlimited "
            "to measure the machine instead"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    # a variant's `#` would end a file:// URL to the folder
    out_dir = out_dir or settings.results_dir / f"capacity-{arch.replace('#', '-')}-{stamp}"
    report: dict[str, Any] = {
        "kind": "capacity", "arch": arch, "status": "running", "started_at": stamp,
        "harness": __version__, "mix": the_mix.to_json(), "slos": asdict(opts.slos),
        "search": asdict(opts.search), "step": asdict(opts.plan), "machine": _machine(),
        "results_dir": str(out_dir), **_set_up(target),
    }
    try:
        _measure(profile, settings, opts, the_mix, out_dir, report, target)
        report["status"] = "complete"
    except KeyboardInterrupt:
        report["status"] = "interrupted"
        # typer would turn a KeyboardInterrupt into exit 130 without a word
        raise Interrupted(
            "interrupted; the stack was stopped"
            + (f"; what was measured is in {json_file}" if json_file else "")
        ) from None
    finally:
        report["machine"]["loadavg_end"] = list(os.getloadavg())
        if json_file is not None:
            write_json(json_file, report)
    if json_file is not None:
        out.print(f"written: {json_file}", highlight=False)


def _machine() -> dict[str, Any]:
    return {"cores": psutil.cpu_count() or 1, "loadavg_start": list(os.getloadavg())}


def _set_up(target: Target) -> dict[str, Any]:
    """What the report says of the stack's set-up: the scenario and its own data."""
    found = target.scenario
    own = found.own if found is not None else None
    return {
        "scenario": str(found.path) if found is not None else None,
        "own_service": None if own is None else {
            "schema": own.schema is not None, "seed": own.seed is not None,
            "queues": [q.name for q in own.queues], "buckets": [b.name for b in own.buckets]},
        "app_command": target.profile.app.command,
    }


def _measure(profile: Profile, settings: Settings, opts: options.CapacityOptions, mix: Mix,
             out_dir: Path, report: dict[str, Any], target: Target) -> None:
    one, whole = _member_words(profile)
    found = target.scenario
    with interrupts() as interrupted:
        # the scenario's own data and planted bug, as `harness run` starts its stacks
        stack = Stack(profile, settings, seed_plan=target.seed_plan(opts.plan.seed),
                      log_dir=out_dir / "logs", orchestrate=False, command="capacity",
                      app_bug=found.bug if found is not None else None,
                      own=found.own if found is not None else None)
        err.print(f"starting the {profile.name} stack ...", highlight=False)
        with stack:
            info = stack.info
            assert stack.capacity is not None  # read once the stack is up
            cap = stack.capacity.to_json()
            report["capacity"] = cap
            if not stack.capacity.enforced:
                err.print(f"warning: {stack.capacity.reason}", markup=False, highlight=False)
            size = f"{profile.app.size.aws_size.value}, {profile.app.size.cpus.value:g} vCPU"
            member_result: SearchResult | None = None
            if opts.scope in ("both", "member"):
                keep = profile.app_names[0]
                err.print(f"measuring {one} ({keep}, {size}) alone; the others drained",
                          highlight=False)
                stepper = Stepper(info.lb_url, mix, opts.plan, out_dir / "member",
                                  stack_cpus=cap["components"][0]["cpus"],
                                  interrupted=interrupted, tag="m")
                with members.only(HaproxyAdmin(info.haproxy_socket), keep, profile.app_names):
                    member_result = find_capacity(stepper, opts.slos, opts.search)
                report["member"] = {"component": keep, "size": size,
                                    "sentence": sentence(one, member_result, opts.slos,
                                                         mix.label),
                                    **member_result.to_json()}
                print_search(out, f"{profile.name}: {one} ({keep}, {size}), {mix.label}",
                             one, member_result, opts.slos, mix.label)
            if opts.scope in ("both", "stack"):
                search = opts.search
                if member_result is not None and member_result.capacity:
                    # the whole stack takes at least about one member's rate: start there
                    search = replace(search, start=min(member_result.capacity, search.max_rate))
                err.print(f"measuring {whole}", highlight=False)
                stepper = Stepper(info.lb_url, mix, opts.plan, out_dir / "stack",
                                  stack_cpus=cap["total_cpus"], interrupted=interrupted,
                                  tag="s")
                stack_result = find_capacity(stepper, opts.slos, search)
                report["stack"] = {"members": profile.app.instances,
                                   "sentence": sentence(whole, stack_result, opts.slos,
                                                        mix.label),
                                   **stack_result.to_json()}
                print_search(out, f"{profile.name}: {whole}, {mix.label}", whole,
                             stack_result, opts.slos, mix.label)
                _scaling_note(member_result, stack_result, profile.app.instances)
        err.print(f"stopped the {profile.name} stack {stack.stack_id}", highlight=False)


def _scaling_note(member: SearchResult | None, stack: SearchResult, count: int) -> None:
    """How close the stack comes to `count` times one member (shared DB and LB cost some)."""
    if member is None or not member.capacity or not stack.capacity:
        return
    if member.bound != "slo" or stack.bound != "slo":
        return  # a lower bound on either side makes the ratio meaningless
    ideal = member.capacity * count
    out.print(f"the stack takes {stack.capacity / member.capacity:.2f} x one member's rate "
              f"({stack.capacity / ideal:.0%} of {count} x {member.capacity:g}/s)",
              highlight=False)
