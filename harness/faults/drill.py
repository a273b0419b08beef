"""Manual drills: one fault on a stack brought up by `harness up` (`harness inject`).

The stack belongs to another harness process, so process faults go through its
PID registry (a docker stack's: its containers, by label), and the active fault is
journaled in the stack's work dir: if this harness dies mid-fault, the next
`harness inject` (or `harness down`) undoes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness.errors import FaultError, ScenarioError
from harness.faults.base import FaultContext, recorded_control, revert_leftovers
from harness.faults.executor import FaultExecutor, plan
from harness.runtime import registry
from harness.runtime.events import EventLog
from harness.scenario.faults import (
    FAULT_TYPES,
    FaultSpec,
    Topology,
    check_timeline,
    parse_timeline,
)
from harness.settings import Settings
from harness.stacks.topology import StackInfo

SOURCE = "harness inject"


def find_stack(settings: Settings, stack_id: str | None) -> StackInfo:
    """The running stack to drill on: the one given, or the only one running."""
    live = [w for w in registry.live_stacks(settings.state_dir) if (w / "stack.json").exists()]
    if stack_id is not None:
        live = [w for w in live if w.name == stack_id]
        if not live:
            raise FaultError(f"--stack {stack_id}: no such running stack; see `harness list`")
    if not live:
        raise FaultError("no stack is running; start one with `harness up modern`")
    if len(live) > 1:
        names = ", ".join(w.name for w in live)
        raise FaultError(f"several stacks are running ({names}); choose one with --stack")
    return StackInfo.load(live[0] / "stack.json")


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are YAML (`50`, `[sqs]`, `true`)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ScenarioError(f"{SOURCE}: --param {pair!r}: write key=value, e.g. latency_ms=200")
        params[key.strip()] = yaml.safe_load(value)
    return params


def build_spec(
    fault_type: str, *, target: str | None, duration: str | None, params: dict[str, Any],
    info: StackInfo,
) -> FaultSpec:
    """One fault starting now, validated against the running stack."""
    if fault_type not in FAULT_TYPES:
        raise ScenarioError(
            f"{SOURCE}: TYPE: unknown fault type {fault_type!r}; "
            f"choose one of {', '.join(sorted(FAULT_TYPES))}"
        )
    raw: dict[str, Any] = {"type": fault_type, "at": 0, **params}
    if target is not None:
        raw["target"] = target
    if duration is not None:
        raw["duration"] = duration
    spec = parse_timeline([raw], source=SOURCE, key="fault")[0]
    check_timeline([spec], source=SOURCE, topology=Topology.from_stack(info), key="fault")
    return spec


def inject(
    info: StackInfo, spec: FaultSpec, *, note: Callable[[str], None],
    echo: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Apply the fault now; revert it after its duration or on Ctrl-C/SIGTERM; return a summary."""
    workdir = Path(info.workdir)
    events = EventLog(Path(info.log_dir) / "events.jsonl", echo=echo)
    ctx = FaultContext(info, recorded_control(info), events)
    revert_leftovers(ctx, note)
    planned = plan([spec], ctx)
    executor = FaultExecutor(planned, ctx, journal_dir=workdir)
    try:
        executor.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            planned[0].apply_future is not None and planned[0].apply_future.done()
        ):
            time.sleep(0.01)
        if executor.errors:
            raise executor.errors[0]
        if spec.instant:
            pass
        elif spec.duration_s is not None:
            note(f"{spec.type} in place for {spec.duration_s:g} s; Ctrl-C reverts it now")
            executor.wait()
        else:
            note(f"{spec.type} in place; Ctrl-C reverts it")
            while True:
                time.sleep(0.5)
    finally:
        executor.close()
    if executor.errors:
        raise executor.errors[0]
    return executor.summary()
