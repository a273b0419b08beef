"""A harness part killed or hung mid-run: named, the run invalid (exit 3), no error after it.

`harness run` on a short modern-only scenario (8 s of load at 10 arrivals a second,
orders included, so the apps publish to the queue); 3.5 s into the load the test
SIGKILLs LocalStack's or Toxiproxy's process, as a crash of our own stand-in would.
Without the harness noticing, every order after it (LocalStack) or every request
(Toxiproxy carries client->lb) would fail and be counted as the architecture's errors.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.process import ProcessRuntime
from harness.runtime.wait import PortOpen
from tests.support.cli_process import KilledOnClose

pytestmark = pytest.mark.integration

#: the load starts this long after the run says "load for" (rehearsal.LEAD_IN_S)
LEAD_IN_S = 1.5
KILL_AT_S = 3.5

SCENARIO: dict[str, Any] = {
    "name": "parts",
    "description": "a short modern-only load with orders; the test kills a harness part",
    "architectures": ["modern"],
    "seed": 5,
    "time_scale": 0.1,
    "drain": "1s",
    "workload": {
        "journeys": {"browse": {"weight": 1}, "checkout": {"weight": 1}},
        "phases": [{"name": "main", "shape": "constant", "rate": "10/s", "duration": "8s"}],
        "timeouts": {"connect": "1s", "read": "3s"},
    },
}


def _pid_of(state: Path, component: str) -> int:
    """The main process of `component` in the one stack under `state` (its pids.json)."""
    (workdir,) = (state / "stacks").iterdir()
    rows = json.loads((workdir / "pids.json").read_text())
    pids = [r["pid"] for r in rows if r["component"] == component]
    assert pids, f"no {component} in {workdir}/pids.json: {rows}"
    return int(pids[0])


#: how far the part's stop may land from KILL_AT_S: the test's sleep after "load for"
#: and the load's own start drift apart on a busy machine (make test runs two at once)
DRIFT_S = 4


def _cut_at(output: str, out: Path, reason: str) -> tuple[Path, dict[str, Any], int]:
    """The run stopped counting where `reason` (a regex naming the part; its group is when
    it stopped) says: exit 3's record and per-second files hold nothing after it.

    Returns the run's folder, its modern record and the second the data was cut at.
    """
    found = re.search(rf"not measurable after (\d+) s: {reason}", output)
    assert found, output[-3000:]
    until, stopped = int(found.group(1)), int(found.group(2))
    assert abs(stopped - KILL_AT_S) <= DRIFT_S, output[-3000:]
    assert until <= stopped
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    record = json.loads((folder / "run.json").read_text())
    assert record["verdict"]["exit_code"] == 3
    (modern,) = record["architectures"]
    assert not modern["valid"]
    assert modern["invalid_reasons"] == [found.group(0)]
    # what was measured before it counts; no error of the harness's damage does
    assert modern["totals"]["requests"] > 0
    assert modern["totals"]["error_rate"] == 0.0, modern["totals"]
    with (folder / "timeseries.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert max(int(r["second"]) for r in rows) < until
    # one row per second's totals ("*") and per endpoint x class: no failed class at all
    assert [(r["second"], r["endpoint"], r["class"]) for r in rows
            if r["class"] not in ("*", "ok")] == []
    return folder, record, until


@pytest.mark.parametrize(("component", "part"), [("aws", "LocalStack"),
                                                 ("toxiproxy", "Toxiproxy")])
def test_a_killed_harness_part_makes_the_run_invalid_and_counts_nothing_after_it(
    component: str, part: str, short_tmp: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "parts.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    out = tmp_path / "out"
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    started = time.monotonic()
    run = KilledOnClose(["run", str(scenario), "--ci", "--out", str(out)], env)
    try:
        run.wait_for("load for")
        time.sleep(LEAD_IN_S + KILL_AT_S)
        os.kill(_pid_of(short_tmp, component), signal.SIGKILL)
        code = run.proc.wait(timeout=120)
    finally:
        run.close()
    took = time.monotonic() - started
    print(f"harness run with {part} killed at {KILL_AT_S} s: {took:.1f} s wall")
    output = run.output
    assert code == 3, output[-3000:]

    # the output names the part and when it stopped, and what is not measured after it
    folder, record, until = _cut_at(output, out, rf"{part} stopped at (\d+) s")
    assert record["status"] == "complete"
    # ... and there was damage to leave out: the generator's own recording has the failed
    # requests (orders that could not publish; every request once client->lb was gone)
    with (folder / "load" / "modern" / "load-seconds.csv").open() as fh:
        raw = list(csv.DictReader(fh))
    assert sum(int(r["count"]) for r in raw
               if r["class"] != "ok" and int(r["second"]) >= until) > 0, raw
    # the event that says so is in the journal, for `harness report` to cut the same
    stops = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()
             if '"harness.part_stopped"' in line]
    assert [(e["component"], e["part"]) for e in stops] == [(component, part)]


def test_a_sigstopped_localstack_is_a_hang_named_in_the_verdict_and_counts_nothing_after_it(
    short_tmp: Path, tmp_path: Path
) -> None:
    """LocalStack still runs but answers nothing (SIGSTOP, as a hung emulator): after the
    1 s hold the run names it, is invalid (exit 3), and no error after it is counted."""
    scenario = tmp_path / "parts.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    out = tmp_path / "out"
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    started = time.monotonic()
    run = KilledOnClose(["run", str(scenario), "--ci", "--out", str(out)], env)
    group: int | None = None
    try:
        run.wait_for("load for")
        time.sleep(LEAD_IN_S + KILL_AT_S)
        group = _pid_of(short_tmp, "aws")  # it leads its own process group
        os.killpg(group, signal.SIGSTOP)
        code = run.proc.wait(timeout=180)
    finally:
        if group is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGCONT)
        run.close()
    took = time.monotonic() - started
    print(f"harness run with LocalStack SIGSTOPped at {KILL_AT_S} s: {took:.1f} s wall")
    output = run.output
    assert code == 3, output[-3000:]
    folder, _record, _until = _cut_at(
        output, out, r"LocalStack stopped answering \(process stopped\) at (\d+) s")
    stops = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()
             if '"harness.part_stopped"' in line]
    assert [(e["component"], e["part"], e["hang"]) for e in stops] == [
        ("aws", "LocalStack", "process stopped")]
    assert stops[0]["alive_s"] <= stops[0]["since_s"] < stops[0]["t_s"]


def test_teardown_kills_a_component_stopped_from_outside_without_waiting_its_grace(
    short_tmp: Path,
) -> None:
    """A SIGSTOPped process never acts on SIGTERM: `stop` must not wait out its grace."""
    grace_s = 60.0
    rt = ProcessRuntime(stack_id="hung1", workdir=short_tmp / "w", log_dir=short_tmp / "l")
    spec = ComponentSpec(
        name="hung", kind="test",
        processes=(ProcessSpec("sleep", (sys.executable, "-c", "import time; time.sleep(300)")),),
        ready=PortOpen(1), stop_grace_s=grace_s)
    try:
        rt.launch(spec)
        (pid,) = rt.pids("hung")
        assert rt.stop_state("hung") is None
        os.killpg(pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while rt.stop_state("hung") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.stop_state("hung") == "process stopped"
        assert rt.is_running("hung")  # a hang, not a death
        began = time.monotonic()
        rt.stop("hung")
        took = time.monotonic() - began
        assert took < grace_s / 2, f"stop took {took:.1f} s: it waited for SIGTERM"
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
    finally:
        rt.close()
