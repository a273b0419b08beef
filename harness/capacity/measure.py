"""One capacity step: a short open-model load at one rate, its warm-up discarded.

The traffic mix is an endpoint (`/products`: every arrival one GET) or a
scenario's journeys (their weights and think times, as the rehearsal sends them).
Each step is a fresh generator run (run_load) with two constant phases at the same
rate, `warm-up` and `measure`; only seconds of the `measure` phase are judged,
by the arrivals' intended start.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.analysis.series import ArchData
from harness.errors import ConfigError, HarnessError
from harness.load.runner import LoadResult, run_load
from harness.scenario import scenario as scenario_mod
from harness.scenario.scenario import Scenario
from harness.scenario.workload import Workload, load_workload

from .search import StepResult


@dataclass(frozen=True)
class Mix:
    """What each arrival does."""

    label: str
    journeys: dict[str, Any]
    #: product and event ids the journeys use (ShopData)
    data: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "journeys": self.journeys, "data": self.data}


def is_endpoint(value: str) -> bool:
    """Is `--mix` an endpoint path (`/products`) rather than a scenario (`/abs/s.yaml`)?"""
    return (value.startswith("/") and Path(value).suffix not in (".yaml", ".yml")
            and not Path(value).is_file())


def read_scenario(value: str) -> Scenario:
    """The `--mix` scenario, validated as `harness run` reads it; ConfigError if it is not."""
    try:
        return scenario_mod.load_scenario(value)
    except HarnessError as exc:
        raise ConfigError(
            f"--mix {value!r}: neither a path such as /products nor a readable scenario: {exc}"
        ) from None


def mix_of(value: str, found: Scenario | None) -> Mix:
    """What each arrival does: one GET of the path `value`, or the scenario's journeys."""
    if found is None:
        return Mix(f"GET {value}", {"get": {"path": value}}, {})
    workload = found.workload
    if workload.locustfile is not None:
        # a capacity is a rate of arrivals; a locustfile's users wait for their answers (a
        # closed model), and a health path's rate would be no capacity of the service
        raise ConfigError(
            f"--mix {value!r}: {found.path} runs a locustfile (a closed model); capacity "
            "sends open-model journeys: use a scenario with `journeys` (a team's own "
            "endpoint is `get: {path: /your/path}`), or a path such as /products")
    data = workload.data.model_dump(mode="json")
    journeys: dict[str, Any] = {str(k): v.model_dump(mode="json", exclude_none=True)
                                for k, v in workload.journeys.items()}
    weights = ", ".join(f"{k} {v.weight:g}" for k, v in workload.journeys.items())
    return Mix(f"scenario {found.name} ({weights})", journeys, data)


@dataclass(frozen=True)
class StepPlan:
    """How every step runs."""

    warmup_s: float
    measure_s: float
    seed: int = 1
    max_concurrency: int = 1000
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 2.0
    workers: int = 1


def step_workload(mix: Mix, rate: float, plan: StepPlan) -> Workload:
    phases = [
        {"name": "warm-up", "shape": "constant", "rate": rate, "duration": plan.warmup_s},
        {"name": "measure", "shape": "constant", "rate": rate, "duration": plan.measure_s},
    ]
    if plan.warmup_s <= 0:
        phases = phases[1:]
    data: dict[str, Any] = {
        "seed": plan.seed, "arrivals": "poisson", "journeys": mix.journeys, "phases": phases,
        "max_concurrency": plan.max_concurrency,
        "timeouts": {"connect": plan.connect_timeout_s, "read": plan.read_timeout_s},
    }
    if mix.data:
        data["data"] = mix.data
    return load_workload(data, "capacity step")


def result_of(rate: float, load: LoadResult, plan: StepPlan) -> StepResult:
    """Judge-ready figures over the `measure` phase; the self-check decides validity."""
    start = math.ceil(plan.warmup_s - 1e-9)
    end = start + math.ceil(plan.measure_s - 1e-9)
    st = ArchData.from_recorder("capacity", load.recorder).stats(start, end)
    finished = st.requests > 0
    gen = load.generator_cpu
    notes = list(load.check.reasons)
    if gen is not None and gen.competed:
        notes.append(
            f"generator competed for CPU ({gen.generator_share:.0%} of the machine, "
            f"machine {gen.machine_share:.0%} busy): a fail may be the generator's"
        )
    return StepResult(
        rate=rate, offered=st.offered, achieved_ratio=st.achieved_ratio,
        error_rate=st.error_rate,
        p50_ms=st.latency_ms["p50"] if finished else None,
        p95_ms=st.latency_ms["p95"] if finished else None,
        p99_ms=st.latency_ms["p99"] if finished else None,
        requests_per_s=round(st.requests / max(end - start, 1), 1),
        valid=load.valid and load.complete, competed=bool(gen and gen.competed),
        generator_share=round(gen.generator_share, 4) if gen else None, notes=notes,
    )


class Stepper:
    """Measures steps against one target URL; each step's files go under out_dir/step-NN."""

    def __init__(self, target: str, mix: Mix, plan: StepPlan, out_dir: Path, *,
                 stack_cpus: float | None, interrupted: threading.Event, tag: str) -> None:
        self.target, self.mix, self.plan, self.out_dir = target, mix, plan, out_dir
        #: unique per search within a stack: idempotency keys are `<tag><step>-<seq>`
        self.tag = tag
        self.stack_cpus = stack_cpus
        self.interrupted = interrupted
        self.count = 0

    def __call__(self, rate: float) -> StepResult:
        self.count += 1
        load = run_load(
            self.target, step_workload(self.mix, rate, self.plan),
            out_dir=self.out_dir / f"step-{self.count:02d}-{rate:g}",
            workers=self.plan.workers, stack_cpus=self.stack_cpus,
            run_tag=f"{self.tag}{self.count}",
        )
        if self.interrupted.is_set():
            # run_load turns Ctrl-C into an incomplete result; the search must stop too
            raise KeyboardInterrupt
        return result_of(rate, load, self.plan)
