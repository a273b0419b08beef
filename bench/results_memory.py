"""A one-hour run at 200 arrivals a second: the memory it takes, the files it leaves.

No stack and no hour: 720,000 synthetic arrivals of blackfriday's journeys (two requests
each, 1.44 million in all, a lognormal latency, 1.5 % errors, a write for every POST: as
many as a real hour of it logs, ~2.9 * 10^5) go through the real code path of a run's
records in three fresh processes, so each figure is getrusage's peak resident memory
of that side alone (the interpreter and imports included):

- generator: one worker's Recorder, drained to its JSON wire every second (as
  harness.load.worker sends it);
- harness: the collector's merge of those wires with the compaction of closed seconds,
  the acknowledged-writes log, load-seconds.* (runner.write_results), the writes read
  back for the invariants, then ArchData, build_record and every results file (write_all);
- report: `harness report` rebuilding report.html, junit.xml and summary.md from the folder.

The issue's limit is 300 MB for the harness and for the generator; the sizes of the
results files and the report are printed beside them. The harness side stops itself
past GUARD_MB (`harness_stopped_over_<GUARD_MB>_mb_in_<stage>`), with what it had
measured until then: the bench must not take a shared machine's memory. Not in these
figures: events and metric samples (a few per second), which a real run adds to
events.jsonl and metrics.jsonl.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.analysis.invariants import DatabaseState
    from harness.load.writes import Write

RATE = 200
#: an hour; BENCH_MEMORY_SECONDS makes a shorter trial of the bench itself
SECONDS = int(os.environ.get("BENCH_MEMORY_SECONDS", "3600"))
LIMIT_MB = 300
#: blackfriday's journeys (harness.load.journeys): share of arrivals, its two requests
#: (endpoint, median latency in s), what its second request writes
MIX = ((0.6, (("GET /products", 0.012), ("GET /products/{id}", 0.008)), ""),
       (0.3, (("GET /products/{id}", 0.008), ("POST /orders", 0.030)), "order"),
       (0.1, (("GET /events/{id}", 0.008), ("POST /events/{id}/reservations", 0.025)),
        "reservation"))
ERRORS = (("http_5xx", 0.01), ("timeout", 0.003), ("connection_reset", 0.002))
ROOT = Path(__file__).resolve().parents[1]
#: idempotency keys start with the run tag: the longest one harness.load.journeys keeps
#: (a run's own tag, h + hex milliseconds, is shorter)
RUN_TAG = "blackfriday-20261207T152338-modern-a1b2c"
PRODUCTS = 50


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def generate(wires: Path) -> dict[str, float]:
    """The generator side: every arrival recorded, one wire a second to `wires`."""
    from harness.load.writes import Write, outcome_of, to_wire
    from harness.records.recorder import Recorder

    rng = random.Random(24)
    recorder = Recorder()
    cumulative = [sum(m[0] for m in MIX[: i + 1]) for i in range(len(MIX))]
    started = time.perf_counter()
    with wires.open("w") as out:
        for second in range(SECONDS):
            for i in range(RATE):
                pick = rng.random()
                _, requests, kind = next(m for m, c in zip(MIX, cumulative, strict=True)
                                         if pick <= c)
                recorder.arrival(second, lag_s=rng.random() * 0.002)
                for endpoint, median in requests:
                    cls, latency = _answer(rng, median)
                    recorder.request(second, endpoint, cls, latency, latency * 0.95)
                if kind:
                    status = {"ok": 201, "http_5xx": 503}.get(cls, 0)
                    sent = 1_800_000_000 + second + i / RATE
                    recorder.writes.append(to_wire(Write(
                        kind=kind, idempotency_key=f"{RUN_TAG}-{second * RATE + i}",
                        outcome=outcome_of(status, cls), id=second * RATE + i if status == 201
                        else None, status=status, error_class=cls, sent_at=sent,
                        done_at=sent + latency, attrs={"product_id": i % PRODUCTS,
                                                         "quantity": 1})))
            recorder.cpu(second, 35.0, 2.0)
            out.write(json.dumps({"type": "data", "wire": recorder.drain()},
                                 separators=(",", ":")) + "\n")
    return {"generator_peak_rss_mb": _rss_mb(),
            "generator_s": round(time.perf_counter() - started, 1)}


def _answer(rng: random.Random, median: float) -> tuple[str, float]:
    """One request's class and latency (s)."""
    roll = rng.random()
    for name, share in ERRORS:
        roll -= share
        if roll < 0:
            return name, 3.0 if name == "timeout" else rng.lognormvariate(math.log(median), 0.5)
    return "ok", rng.lognormvariate(math.log(median), 0.5)


#: the harness side stops itself here: a shared build machine must not run out of memory
GUARD_MB = 1536


def _guard(figures: dict[str, float], stage: list[str]) -> None:
    """Print what was measured and exit once this process's resident memory passes GUARD_MB."""
    import psutil

    me = psutil.Process()
    while True:
        rss = me.memory_info().rss / 2**20
        if rss > GUARD_MB:
            figures["harness_peak_rss_mb"] = round(rss, 1)
            figures[f"harness_stopped_over_{GUARD_MB}_mb_in_{stage[0]}"] = 1
            print(json.dumps(figures), flush=True)
            os._exit(0)
        time.sleep(0.2)


def harness_side(wires: Path, root: Path) -> dict[str, float]:
    """The harness side: merge, load files, invariants' read-back, analysis, results."""
    import threading

    from harness.analysis.invariants import count_writes, evaluate
    from harness.analysis.series import ArchData
    from harness.load import selfcheck
    from harness.load.command import build_workload
    from harness.load.runner import LoadResult, write_results
    from harness.load.writes import WritesFile, WritesLog
    from harness.records.recorder import Recorder
    from harness.report.assemble import RunHeader, build_record, write_all
    from harness.report.results import ResultsDir
    from harness.scenario.slo import Objectives

    figures: dict[str, float] = {}
    stage = ["merge"]
    threading.Thread(target=_guard, args=(figures, stage), daemon=True).start()
    out = ResultsDir.create(root, "bench", name="one-hour")
    load_dir = out.path / "load" / "modern"
    workload = build_workload(rate=f"{RATE}/s", duration=f"{SECONDS}s", phases_file=None,
                              seed=24, concurrency=1000, timeout="3s")
    horizon = workload.timeouts.connect + workload.timeouts.read + 2
    recorder, writes = Recorder(), WritesLog(load_dir / "writes.jsonl")
    started = time.perf_counter()
    with wires.open() as lines:
        for second, line in enumerate(lines):
            wire = json.loads(line)["wire"]
            recorder.merge_wire(wire)
            writes.extend(wire["writes"])
            recorder.writes.clear()  # as the collector does: the log on disk is the record
            recorder.compact(int(second - horizon))
            if second + 1 in (SECONDS // 4, SECONDS // 2, SECONDS):
                figures[f"harness_rss_after_{(second + 1) // 60}_min_mb"] = _rss_mb()
    recorder.compact(SECONDS)
    check = selfcheck.check(recorder, complete=True)
    result = LoadResult(recorder, workload, 24, "http://127.0.0.1:1", 1, 0.0, True, check,
                        load_dir, finished_at=float(SECONDS))
    write_results(result)
    figures["harness_recorder_peak_rss_mb"] = _rss_mb()
    stage[0] = "invariants"
    logged = WritesFile(load_dir / "writes.jsonl")
    db, initial = _database(logged)
    checks = evaluate(logged, db, initial_stock=initial,
                      queued_order_ids={row.id for row in db.orders})
    checked = count_writes(logged)
    figures["harness_invariants_peak_rss_mb"] = _rss_mb()
    # the writer holds what was acknowledged: a check that fails here is the bench's bug
    figures["invariants_violated"] = sum(not c.ok for c in checks)
    stage[0] = "analysis"
    data = {"modern": ArchData.from_recorder("modern", recorder)}
    header = RunHeader(run_id=out.run_id, scenario="bench", seed=24,
                       phases=[("main", 0.0, float(SECONDS))],
                       settings={"time_scale": 1.0, "architectures": ["modern"]},
                       versions={"harness": "bench"})
    objectives = Objectives.model_validate({"slos": [
        {"name": "p99", "metric": "p99", "threshold": "1s"},
        {"name": "errors", "metric": "error_rate", "window": "60s", "threshold": "5%"},
        {"name": "keeps-up", "metric": "achieved_ratio", "op": ">=", "threshold": 0.95},
    ]})
    record = build_record(header, objectives, data, [], writes_checked={"modern": checked})
    figures["harness_analysis_peak_rss_mb"] = _rss_mb()
    stage[0] = "results_files"
    write_all(out, record, data, [])
    figures["harness_peak_rss_mb"] = _rss_mb()
    figures["harness_s"] = round(time.perf_counter() - started, 1)
    return figures


def _database(logged: Iterable[Write]) -> tuple[DatabaseState, dict[int, int]]:
    """What the writer would hold after the hour: a row for every acknowledged write, as
    harness.readback reads them (its own strings), and the stock and seats that add up."""
    from harness.analysis.invariants import DatabaseState, Row

    db = DatabaseState()
    for w in logged:
        if w.outcome == "acknowledged" and w.id is not None:
            rows = db.orders if w.kind == "order" else db.reservations
            target = w.attrs["product_id"] if w.kind == "order" else 1
            rows.append(Row(w.id, "".join(w.idempotency_key), target, 1))
    initial = dict.fromkeys(range(PRODUCTS), 10**9)
    db.stock = {p: s - sum(1 for r in db.orders if r.target == p) for p, s in initial.items()}
    db.seats_total = {1: 10**9}
    db.seats_left = {1: 10**9 - len(db.reservations)}
    return db, initial


def report(folder: Path) -> dict[str, float]:
    """`harness report` on the folder."""
    from rich.console import Console

    from harness.report.commands import report_command

    started = time.perf_counter()
    report_command(folder, console=Console(file=open("/dev/null", "w")))  # noqa: SIM115
    return {"report_peak_rss_mb": _rss_mb(), "report_s": round(time.perf_counter() - started, 1)}


def _child(step: str, *args: Path) -> dict[str, float]:
    code = ("import json, sys; from pathlib import Path; from bench import results_memory as m; "
            f"print(json.dumps(m.{step}(*map(Path, sys.argv[1:]))))")
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def _sizes(folder: Path) -> dict[str, float]:
    named = {"run.json": "run_json", "timeseries.csv": "timeseries_csv",
             "report.html": "report_html", "load-seconds.jsonl": "load_seconds_jsonl",
             "writes.jsonl": "writes_jsonl"}
    sizes = {f"size_{key}_mb": round((next(folder.rglob(name)).stat().st_size) / 2**20, 3)
             for name, key in named.items()}
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    sizes["size_results_folder_mb"] = round(total / 2**20, 1)
    return sizes


def run() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="hb-memory-", dir="/tmp"))
    try:
        wires = work / "wires.jsonl"
        figures: dict[str, float] = {"arrivals": RATE * SECONDS, "limit_mb": LIMIT_MB}
        figures |= _child("generate", wires)
        figures |= _child("harness_side", wires, work)
        folder = work / "one-hour"
        if (folder / "run.json").exists():
            figures |= _sizes(folder)
            figures |= _child("report", folder)
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
