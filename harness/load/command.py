"""`harness load`: the generator and recorder aimed at any loopback URL, without a stack.

Like `vegeta attack | vegeta report`: prints the percentile table, writes the
per-second data, and with --json the summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harness import yamlfile
from harness.errors import ConfigError, InvalidRun, LoadError, ScenarioError
from harness.load.progress import ProgressLine
from harness.load.runner import LoadResult, check_target, run_load
from harness.records.classify import ERROR_CLASSES
from harness.records.files import atomic_write
from harness.runtime.ports import PortAllocator
from harness.scenario.units import parse_duration
from harness.scenario.workload import Workload, load_workload, parse_rate
from harness.settings import Settings

out = Console()
err = Console(stderr=True)


def _rate(value: str) -> float:
    try:
        return parse_rate(value)
    except ValueError as exc:
        raise ConfigError(f"--rate: {exc}") from None


def _duration(value: str) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"--duration: {exc}") from None
    if seconds <= 0:
        raise ConfigError(f"--duration: {value!r}: must be longer than 0 s")
    return seconds


def build_workload(
    *,
    rate: str | None,
    duration: str | None,
    phases_file: Path | None,
    seed: int,
    concurrency: int,
    timeout: str,
) -> Workload:
    """A workload from the flags, or from a phases file (its journeys default to `get`)."""
    try:
        read_s = parse_duration(timeout)
    except ValueError as exc:
        raise ConfigError(f"--timeout: {exc}") from None
    timeouts = {"connect": min(read_s, 2.0), "read": read_s}
    base: dict[str, Any] = {
        "seed": seed,
        "max_concurrency": concurrency,
        "timeouts": timeouts,
        "journeys": {"get": {}},
        "arrivals": "uniform",
    }
    if phases_file is None:
        if rate is None:
            raise ConfigError("--rate: missing; give --rate (e.g. 200/s) or --phases FILE")
        _rate(rate)
        seconds = _duration(duration or "10s")
        base["phases"] = [{"name": "main", "shape": "constant", "rate": rate, "duration": seconds}]
        return load_workload(base, "command line")
    if rate is not None or duration is not None:
        raise ConfigError("--phases gives the rates and durations; drop --rate/--duration")
    data, _root = yamlfile.read(phases_file, "phases file", ScenarioError)
    if isinstance(data, dict) and "workload" in data:
        data = data["workload"]
    if isinstance(data, list):
        data = {"phases": data}
    if not isinstance(data, dict):
        raise ScenarioError(f"{phases_file}: expected a list of phases or a mapping with `phases`")
    if isinstance(data.get("locustfile"), dict):
        # A team's locustfile brings its own users: no journeys, and its path is relative
        # to the file that names it.
        del base["journeys"]
        path = Path(str(data["locustfile"].get("path", "")))
        if not path.is_absolute():
            path = (phases_file.parent / path).resolve()
        data = {**data, "locustfile": {**data["locustfile"], "path": str(path)}}
    return load_workload({**base, **data}, str(phases_file), base_dir=phases_file.parent)


def load(
    url: Annotated[str, typer.Argument(help="target URL, e.g. http://127.0.0.1:8080/")],
    rate: Annotated[str | None, typer.Option(help="arrivals per second, e.g. 200/s")] = None,
    duration: Annotated[str | None, typer.Option(help="e.g. 30s, 2m (default 10s)")] = None,
    phases: Annotated[
        Path | None, typer.Option("--phases", help="YAML file with phases (and journeys)")
    ] = None,
    workers: Annotated[int, typer.Option(help="generator worker processes")] = 1,
    seed: Annotated[int, typer.Option(help="seed of the arrival schedule")] = 1,
    concurrency: Annotated[
        int, typer.Option(help="requests in flight at most; arrivals beyond are dropped")
    ] = 1000,
    timeout: Annotated[
        str, typer.Option(help="read timeout of one request (connect: at most 2 s)")
    ] = "10s",
    json_file: Annotated[Path | None, typer.Option("--json", help="write the summary here")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="per-second data (default results/load-<time>/)")
    ] = None,
    allow_remote: Annotated[
        bool, typer.Option(help="allow a target that is not on loopback")
    ] = False,
    remote_workers: Annotated[
        int, typer.Option(help="also wait for this many workers started on other machines")
    ] = 0,
    master_bind: Annotated[
        str, typer.Option(help="with --remote-workers: the address the master listens on")
    ] = "127.0.0.1",
    master_port: Annotated[
        int | None, typer.Option(help="with --remote-workers: the master's port")
    ] = None,
) -> None:
    """Send open-model load to a URL and report latency percentiles and errors.

    Arrivals start on schedule whether earlier requests finished or not; latency
    counts from each request's intended start. Per-second data goes to --out.
    Exit 3 when the generator itself could not keep the schedule.

    Example: harness load http://127.0.0.1:8080/ --rate 200/s --duration 30s --json s.json
    """
    check_target(url, allow_remote=allow_remote)
    if workers < 1:
        raise ConfigError(f"--workers {workers}: need at least 1")
    workload = build_workload(
        rate=rate,
        duration=duration,
        phases_file=phases,
        seed=seed,
        concurrency=concurrency,
        timeout=timeout,
    )
    if out_dir is None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out_dir = Settings.from_env().results_dir / f"load-{stamp}"
    # the port told to the remote workers stays reserved until the master has it
    with PortAllocator() as ports:
        if remote_workers:
            master_port = master_port or ports.take()
            err.print(
                f"waiting for {remote_workers} remote worker(s); on each machine run:\n"
                f"  python -m harness.load.worker --master-host <this host's address> "
                f"--master-port {master_port}",
                highlight=False,
            )
        with ProgressLine(err) as progress:
            result = run_load(
                url,
                workload,
                out_dir=out_dir,
                workers=workers,
                on_second=progress,
                remote_workers=remote_workers,
                master_bind=master_bind,
                master_port=master_port,
            )
    print_report(result)
    if json_file is not None:
        atomic_write(json_file, json.dumps(result.summary(), indent=2) + "\n")
    if not result.complete:
        raise LoadError("the load was stopped early; the figures above cover what ran")
    if not result.valid:
        raise InvalidRun("; ".join(result.check.reasons))


def print_report(result: LoadResult) -> None:
    """The percentile table per endpoint and in total, then counts and where the data is."""
    s = result.summary()
    table = Table(
        "endpoint",
        "requests",
        "ok",
        "errors",
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "max",
        title="latency from intended start, ms",
        box=None,
    )
    rows = [*s["endpoints"].items(), ("total", s)]
    for name, ep in rows:
        errors = sum(ep["errors"][c] if "errors" in ep else ep[c] for c in ERROR_CLASSES)
        requests = ep.get("requests", errors + ep["ok"])
        table.add_row(
            name,
            str(requests),
            str(ep["ok"]),
            str(errors),
            *(f"{ep[k]:.2f}" for k in ("p50", "p90", "p95", "p99", "p999", "max")),
        )
    out.print(table)
    svc = s["service"]
    out.print(
        f"service time p50 {svc['p50']:.2f} ms, p99 {svc['p99']:.2f} ms, max {svc['max']:.2f} ms"
    )
    out.print(
        f"arrivals: offered {s['offered']}, started {s['started']}, late {s['late']}, "
        f"dropped {s['dropped']}, missed {s['missed']}"
    )
    errors = ", ".join(f"{c} {n}" for c, n in s["errors"].items() if n) or "none"
    out.print(f"errors: {errors}")
    gen = result.generator_cpu
    if gen is not None:
        out.print(
            f"generator CPU: {gen.generator_cpu_s:.1f} s over {gen.wall_s:.0f} s = "
            f"{gen.generator_share:.0%} of {gen.cores} cores "
            f"(peak {gen.generator_peak_share:.0%}); machine busy {gen.machine_share:.0%}"
        )
        for warning in gen.warnings:
            out.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    if not result.complete:
        out.print("[yellow]incomplete[/yellow]: the load was stopped early")
    out.print(f"per-second data: {result.out_dir}")
