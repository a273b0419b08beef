"""The table `harness run` prints: what it says about an architecture that sent no load."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.analysis.series import ArchData
from harness.records.recorder import Recorder
from harness.report.assemble import RunHeader, build_record
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives

HEADER = RunHeader(run_id="r", scenario="byo", seed=1, phases=[("main", 0.0, 20.0)])
P99 = Objectives.model_validate({"slos": [{"name": "p99", "metric": "p99", "threshold": "1s"}]})


def test_a_run_without_load_reads_not_measured_and_not_valid() -> None:
    record = build_record(HEADER, P99, {}, [], errors={"modern": "lb did not start"},
                          status="incomplete")
    console = Console(record=True, width=200)
    print_verdict(record, Path("/tmp/r"), console)
    text = console.export_text()
    assert "not measured" in text
    assert "0/0" not in text
    assert "NO: no load was produced: lb did not start" in text
    assert "no load (exit 2, status incomplete)" in text


def test_zero_requests_show_no_rates_or_percentiles() -> None:
    rec = Recorder()
    rec.arrival(0, lag_s=0.0)
    record = build_record(HEADER, P99, {"modern": ArchData.from_recorder("modern", rec)}, [])
    console = Console(record=True, width=200)
    print_verdict(record, Path("/tmp/r"), console)
    text = console.export_text()
    assert "0.0 ms" not in text
    assert "100.0 %" not in text
    assert "0.00 %" not in text
    assert "not measured" in text
