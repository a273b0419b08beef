"""`harness run` end to end, as CI runs it: real stacks, real load, real faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.scenario.scenario import SCENARIOS_DIR
from tests.support.cli_process import told
from tests.support.exposure import STACK_SECRETS, ListenerWatch, beyond_loopback, secrets_in
from tests.support.processes import processes_under

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "harness" / "report" / "run.schema.json").read_text()
)


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    return {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}


def _run(env: dict[str, str], *args: str, timeout: float = 300
         ) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [HARNESS, "run", *args], env=env, text=True, capture_output=True, timeout=timeout,
        check=False,
    )
    return result, time.monotonic() - started


def _run_watched(env: dict[str, str], *args: str, timeout: float = 300
                 ) -> tuple[subprocess.CompletedProcess[str], float, ListenerWatch]:
    """`_run`, with every socket that the harness and its descendants listen on sampled."""
    started = time.monotonic()
    with subprocess.Popen([HARNESS, "run", *args], env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc, ListenerWatch(pid=proc.pid) as watch:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return result, time.monotonic() - started, watch


def _only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.alone
def test_smoke_in_ci_mode_passes_on_both_architectures(env: dict[str, str], tmp_path: Path
                                                       ) -> None:
    result, took, watch = _run_watched(env, "smoke", "--ci", "--out", str(tmp_path))
    print(f"harness run smoke --ci: {took:.1f} s wall, {watch.samples} listener samples")
    assert result.returncode == 0, told(result)
    run = _only_run(tmp_path)
    for name in ("run.json", "timeseries.csv", "events.jsonl", "report.html", "junit.xml",
                 "summary.md"):
        assert (run / name).stat().st_size > 0, name
    assert not (run / "INCOMPLETE").exists()
    record: dict[str, Any] = json.loads((run / "run.json").read_text())
    jsonschema.validate(record, SCHEMA)
    assert record["status"] == "complete"
    assert [a["arch"] for a in record["architectures"]] == ["legacy", "modern"]
    for arch in record["architectures"]:
        assert arch["valid"], arch["invalid_reasons"]
        assert arch["invariants"], "invariants were not checked"
        assert all(i["ok"] for i in arch["invariants"])
        assert {r["fault"] for r in arch["recoveries"]} == {"kill-app", "slow-db"}
        assert (run / "logs" / arch["arch"]).is_dir()
    kinds = [json.loads(line)["kind"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert kinds.count("fault.applied") == 4  # two faults x two architectures
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []
    # everything listened on loopback only, LocalStack (which bound 0.0.0.0 once) included
    exposed = beyond_loopback(watch.listeners)
    assert exposed == [], "\n".join(map(str, exposed))
    assert any("localstack" in x.command for x in watch.listeners), sorted(watch.listeners)
    assert secrets_in(run, STACK_SECRETS) == []


def _short_scenario(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())
    data["workload"]["phases"] = [
        {"name": "warm", "shape": "constant", "rate": "10/s", "duration": "3s"},
        {"name": "steady", "shape": "constant", "rate": "10/s", "duration": "5s"},
    ]
    data["workload"]["journeys"] = {"checkout": {"weight": 1}}
    data["faults"] = []
    # errors and keeping up only: a latency bound is what a test running beside it
    # (make test runs two at once) could flip
    data["slos"] = [s for s in data["slos"] if s["metric"] in ("error_rate", "achieved_ratio")]
    data.update(changes)
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_planted_bug_fails_the_run_on_invariants(env: dict[str, str], tmp_path: Path) -> None:
    scenario = _short_scenario(tmp_path, bug="ack_before_commit")
    result, _ = _run(env, str(scenario), "--ci", "--out", str(tmp_path / "out"))
    assert result.returncode == 1, told(result)
    record = json.loads((_only_run(tmp_path / "out") / "run.json").read_text())
    for arch in record["architectures"]:
        lost = next(i for i in arch["invariants"] if i["name"] == "orders_lost")
        assert not lost["ok"]
        assert lost["value"] >= 1
    junit = (_only_run(tmp_path / "out") / "junit.xml").read_text()
    assert "orders_lost" in junit
    assert "<failure" in junit


def test_ctrl_c_writes_what_was_measured_marked_incomplete(env: dict[str, str], tmp_path: Path
                                                            ) -> None:
    scenario = _short_scenario(tmp_path, architectures=["modern"])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [HARNESS, "run", str(scenario), "--ci", "--out", str(out)], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    with proc.stdout:
        for line in proc.stdout:
            if "load for" in line:
                break
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 2, rest
    assert "interrupted" in rest
    run = _only_run(out)
    assert "interrupted" in (run / "INCOMPLETE").read_text()
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []


def test_bad_scenario_is_exit_2_before_anything_starts(env: dict[str, str], tmp_path: Path
                                                       ) -> None:
    scenario = _short_scenario(tmp_path, faults=[{"type": "kill", "target": "app-7", "at": "1s"}])
    result, _took = _run(env, str(scenario), "--ci", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"harness: error: {scenario}:")
    assert "faults[0].target" in result.stderr
    assert not (tmp_path / "out").exists()
