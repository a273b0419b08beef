"""A harness part killed mid-run: named, the run invalid (exit 3), no error counted after it.

`harness run` on a short modern-only scenario (8 s of load at 10 arrivals a second,
orders included, so the apps publish to the queue); 3.5 s into the load the test
SIGKILLs LocalStack's or Toxiproxy's process, as a crash of our own stand-in would.
Without the harness noticing, every order after it (LocalStack) or every request
(Toxiproxy carries client->lb) would fail and be counted as the architecture's errors.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    found = re.search(rf"not measurable after (\d+) s: {part} stopped at (\d+) s", output)
    assert found, output[-3000:]
    until, stopped = int(found.group(1)), int(found.group(2))
    assert abs(stopped - KILL_AT_S) <= 2, output[-3000:]
    assert until <= stopped

    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "complete"
    assert record["verdict"]["exit_code"] == 3
    (modern,) = record["architectures"]
    assert not modern["valid"]
    assert modern["invalid_reasons"] == [f"not measurable after {until} s: {part} stopped at "
                                         f"{stopped} s"]
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
