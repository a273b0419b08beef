"""build_record: from what `harness run` has (data, invariants, validity, events) to a verdict."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from harness.analysis.invariants import Invariant
from harness.analysis.series import ArchData
from harness.records.recorder import Recorder
from harness.report.assemble import RunHeader, build_record
from harness.report.headline import data_line, headline
from harness.report.html import render
from harness.report.junit import junit_xml
from harness.report.record import RunRecord
from harness.report.summary import summary_md
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

HEADER = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 30.0)])
P99 = Objectives.model_validate({"slos": [{"name": "p99", "metric": "p99", "threshold": "1s"}]})


def _from_recorder() -> ArchData:
    rec = Recorder()
    for s in range(5):
        rec.arrival(s, lag_s=0.001)
        rec.request(s, "GET /products", "ok", 0.02, 0.02)
    return ArchData.from_recorder("modern", rec)


def test_recorded_data_that_meets_its_slo_passes() -> None:
    record = build_record(HEADER, P99, {"modern": _from_recorder()}, [])
    assert record.verdict is not None
    assert record.verdict.exit_code == 0
    totals = record.arch("modern").totals
    assert totals is not None
    assert totals.requests == 5
    assert record.arch("modern").slos[0].measured is not None


def test_generator_behind_makes_the_run_invalid() -> None:
    record = build_record(HEADER, P99, {"modern": _from_recorder()}, [],
                          invalid={"modern": ["behind in 3 seconds"], "legacy": []})
    assert record.verdict is not None
    assert record.verdict.exit_code == 3
    assert not record.arch("modern").valid
    assert record.arch("modern").invalid_reasons == ["behind in 3 seconds"]


def test_lost_order_fails_the_run() -> None:
    lost = Invariant("orders_lost", False, 1, "lost", ("order key k",))
    record = build_record(HEADER, P99, {"legacy": synthetic("legacy", 10)}, [],
                          invariants={"legacy": [lost]})
    assert record.verdict is not None
    assert record.verdict.exit_code == 1


def test_an_architecture_that_crashed_fails_the_run_and_keeps_its_row() -> None:
    record = build_record(HEADER, Objectives(), {"modern": synthetic("modern", 10)}, [],
                          errors={"legacy": "db-writer did not start"}, status="incomplete")
    assert record.verdict is not None
    assert record.verdict.exit_code == 1
    assert record.verdict.reasons == ["legacy: db-writer did not start"]
    assert record.arch_names == ["modern", "legacy"]
    assert record.arch("legacy").totals is None
    assert record.status == "incomplete"


def test_fault_events_become_recoveries() -> None:
    data = {"modern": synthetic("modern", 60, error_rate=lambda s: 0.5 if 30 <= s < 33 else 0)}
    events = [{"arch": "modern", "t_s": 30.0, "kind": "fault.applied", "fault": "kill-app",
               "type": "kill", "target": "app-1"}]
    record = build_record(HEADER, Objectives(), data, events)
    (rec,) = record.arch("modern").recoveries
    assert (rec.fault, rec.impact_s, rec.recovery_s) == ("kill-app", 0.0, 3.0)


def test_a_run_where_no_stack_started_is_no_load_exit_2_not_valid() -> None:
    record = build_record(HEADER, P99, {}, [], errors={"modern": "lb did not start"},
                          status="incomplete")
    assert record.verdict is not None
    assert (record.verdict.exit_code, record.verdict.status) == (2, "no load")
    assert record.verdict.reasons == ["modern: no load was produced: lb did not start"]
    modern = record.arch("modern")
    assert not modern.valid
    assert modern.invalid_reasons == ["no load was produced: lb did not start"]
    assert modern.slos == []


def test_a_generator_that_sent_nothing_is_no_load_exit_3_without_slo_verdicts() -> None:
    rec = Recorder()
    rec.arrival(0, lag_s=0.0)
    record = build_record(HEADER, P99, {"modern": ArchData.from_recorder("modern", rec)}, [])
    assert record.verdict is not None
    assert (record.verdict.exit_code, record.verdict.status) == (3, "no load")
    assert record.arch("modern").slos == []  # not "met" on zero requests
    assert not record.arch("modern").valid


def test_a_crashed_architecture_beside_a_measured_one_is_marked_as_without_load() -> None:
    record = build_record(HEADER, P99, {"modern": _from_recorder()}, [],
                          errors={"legacy": "db-writer did not start"})
    assert record.verdict is not None
    assert record.verdict.exit_code == 1
    assert not record.arch("legacy").valid
    assert record.arch("modern").valid

def _statuses_record() -> RunRecord:
    """legacy: a failover it never recovers from, then a throttle; modern: both harmless."""
    data = {
        "legacy": synthetic("legacy", 90, error_rate=lambda s: 1.0 if s >= 30 else 0.0),
        "modern": synthetic("modern", 90),
    }
    events = [
        {"arch": arch, "t_s": t, "kind": "fault.applied", "fault": name, "type": kind,
         "target": "db"}
        for arch in data
        for t, name, kind in ((30.0, "db-failover", "db_failover"),
                              (60.0, "sqs-throttle", "aws_throttle"))
    ]
    header = RunHeader(run_id="r", scenario="blackfriday", seed=1,
                       phases=[("main", 0.0, 90.0)], settings={"time_scale": 0.1})
    return build_record(header, Objectives.model_validate({"recovery": {"baseline": "10s"}}),
                        data, events)


def test_no_impact_and_not_measurable_never_read_as_zero_seconds() -> None:
    record = _statuses_record()
    legacy = {r.fault: r for r in record.arch("legacy").recoveries}
    assert legacy["db-failover"].status == "not_recovered"
    assert legacy["sqs-throttle"].status == "not_measurable"
    assert legacy["sqs-throttle"].reason == "legacy had not recovered from db-failover"
    assert [r.status for r in record.arch("modern").recoveries] == ["no_impact", "no_impact"]
    md = summary_md(record)
    header = next(line for line in md.splitlines() if line.startswith("| fault | arch"))
    columns = [c.strip() for c in header.split("|")]

    def row(fault: str, arch: str) -> dict[str, str]:
        line = next(x for x in md.splitlines() if x.startswith(f"| {fault} | {arch}"))
        return dict(zip(columns, (c.strip() for c in line.split("|")), strict=True))

    throttle = row("sqs-throttle", "legacy")
    assert throttle["status"] == "*not measurable*"
    assert throttle["why"] == "legacy had not recovered from db-failover"
    assert (throttle["impact after"], throttle["recovered after"]) == ("—", "—")
    harmless = row("sqs-throttle", "modern")
    assert harmless["status"] == "no impact"
    assert (harmless["impact after"], harmless["recovered after"]) == ("—", "—")
    lines = headline(record)
    legacy_line = next(line for line in lines if line.startswith("legacy:"))
    assert "sqs-throttle not measurable (legacy had not recovered from db-failover)" in legacy_line
    assert "db-failover NOT recovered" in legacy_line
    modern_line = next(line for line in lines if line.startswith("modern:"))
    assert "db-failover no impact" in modern_line
    html = render(record, {}, [])
    assert "not measurable" in html
    assert 'class="noimpact">no impact' in html


def test_terminal_table_tells_no_impact_from_a_figure() -> None:
    record = _statuses_record()
    console = Console(record=True, width=200)
    print_verdict(record, Path("out"), console)
    text = console.export_text()
    assert "sqs-throttle not measurable" in text
    assert "db-failover no impact" in text
    assert "recovery not measurable: legacy had not recovered from db-failover" in text


def test_recovery_at_aws_timings_is_labelled_an_estimate() -> None:
    data = {"modern": synthetic("modern", 60, error_rate=lambda s: 0.5 if 30 <= s < 33 else 0)}
    events = [{"arch": "modern", "t_s": 30.0, "kind": "fault.applied", "fault": "kill-app",
               "type": "kill", "target": "app-1"}]
    header = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 60.0)],
                       settings={"time_scale": 0.05})
    record = build_record(header, Objectives(), data, events)
    (rec,) = record.arch("modern").recoveries
    assert rec.recovery_aws_s == 60.0
    assert "kill-app 3.0 s (≈ 60.0 s at AWS timings, an estimate)" in headline(record)[0]
    console = Console(record=True, width=200)
    print_verdict(record, Path("out"), console)
    assert "kill-app ≈ 60.0 s" in console.export_text()


_OK = [Invariant("orders_lost", True, 0, "lost"),
       Invariant("reservations_lost", True, 0, "lost")]


def _checked(orders: int, reservations: int) -> RunRecord:
    counts = {
        "order": {"acknowledged": orders, "failed": 2, "indeterminate": 1},
        "reservation": {"acknowledged": reservations, "failed": 0, "indeterminate": 0},
    }
    return build_record(HEADER, Objectives(), {"modern": synthetic("modern", 10)}, [],
                        invariants={"modern": _OK}, writes_checked={"modern": counts})


def test_no_data_lost_is_claimed_only_for_acknowledged_writes() -> None:
    nothing = _checked(0, 0)
    assert nothing.arch("modern").writes_checked == {
        "order": {"acknowledged": 0, "failed": 2, "indeterminate": 1},
        "reservation": {"acknowledged": 0, "failed": 0, "indeterminate": 0},
    }
    line = data_line(nothing.arch("modern"))
    assert "no data lost" not in line
    assert "lost data not checked (no write was acknowledged)" in line
    assert "no data lost" not in summary_md(nothing)
    assert "not checked (no acknowledged order)" in summary_md(nothing)
    orders_only = data_line(_checked(12, 0).arch("modern"))
    assert orders_only == ("no data lost (12 acknowledged orders checked; reservations not "
                           "checked: none acknowledged), no invariant violated")


def test_writes_checked_are_in_run_json_and_the_reports() -> None:
    record = _checked(12, 3)
    doc = json.loads(record.model_dump_json())
    assert doc["architectures"][0]["writes_checked"]["order"]["acknowledged"] == 12
    assert "| orders | modern | 12 | 2 | 1 |" in summary_md(record)
    assert "12 / 2 / 1" in render(record, {}, [])


def test_an_interrupted_run_is_never_passed_and_says_what_it_measured() -> None:
    """Ctrl-C 5 s into modern's load, legacy never started: verdict `interrupted`, exit 2."""
    header = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 30.0)],
                       settings={"architectures": ["modern", "legacy"]})
    record = build_record(header, P99, {"modern": _from_recorder()}, [],
                          invariants={"modern": []}, status="interrupted",
                          interrupted_by="SIGTERM")
    verdict = record.verdict
    assert verdict is not None
    assert (verdict.status, verdict.exit_code) == ("interrupted", 2)
    assert verdict.reasons[0].startswith("interrupted by SIGTERM at ")
    assert verdict.reasons[1:] == ["modern: 5 of 30 s of load measured", "legacy: not started"]

    console = Console(record=True, width=200)
    print_verdict(record, Path("results/r"), console)
    shown = console.export_text()
    assert "passed" not in shown
    assert "interrupted (exit 2, status interrupted)" in shown
    assert "modern: 5 of 30 s of load measured" in shown
    lines = headline(record)
    assert lines[0].startswith("Interrupted by SIGTERM at ")
    assert lines[1].startswith("modern: interrupted;")
    assert "INTERRUPTED (exit 2)" in summary_md(record)


def test_an_interrupted_run_is_an_error_in_junit() -> None:
    record = build_record(HEADER, P99, {"modern": _from_recorder()}, [],
                          invariants={"modern": []}, status="interrupted")
    xml = junit_xml(record)
    assert 'errors="1"' in xml
    assert '<error type="interrupted" message="interrupted at ' in xml
