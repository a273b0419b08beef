"""The generator's CPU share in run.json, and its warning in the terminal table and summary.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Console

from harness.analysis.series import ArchData
from harness.load.cpushare import Interval, judge
from harness.records.recorder import Recorder
from harness.report.assemble import RunHeader, build_record
from harness.report.record import RunRecord
from harness.report.summary import summary_md
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives

HEADER = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 5.0)])
NO_SLOS = Objectives.model_validate({"slos": []})


def _data() -> ArchData:
    rec = Recorder()
    for s in range(5):
        rec.arrival(s, lag_s=0.001)
        rec.request(s, "GET /products", "ok", 0.02, 0.02)
    return ArchData.from_recorder("modern", rec)


def _record(generator: float, machine: float) -> RunRecord:
    intervals = [Interval(float(i), i + 1.0, generator * 2, machine * 2) for i in range(5)]
    judged = judge(intervals, cores=2, stack_cpus=1.5)
    assert judged is not None
    header = dataclasses.replace(HEADER, generator_cpu={"modern": judged.to_json()})
    return build_record(header, NO_SLOS, {"modern": _data()}, [])


def test_generator_cpu_round_trips_through_run_json() -> None:
    record = _record(0.1, 0.5)
    again = RunRecord.model_validate_json(record.model_dump_json())
    cpu = again.arch("modern").generator_cpu
    assert cpu is not None
    assert cpu.generator_share == 0.1
    assert cpu.stack_cpus == 1.5
    assert not cpu.competed
    assert again.generator_warnings() == []


def test_a_run_where_the_generator_competed_is_flagged(tmp_path: Path) -> None:
    record = _record(0.45, 0.98)
    warnings = record.generator_warnings()
    assert len(warnings) == 1
    assert warnings[0].startswith("modern: the load generator competed")
    console = Console(record=True, width=300)
    print_verdict(record, tmp_path, console)
    assert "the load generator competed with the stack for CPU" in console.export_text()
    assert "the load generator competed" in summary_md(record)
