"""build_record: from what `harness run` has (data, invariants, validity, events) to a verdict."""

from __future__ import annotations

from harness.analysis.invariants import Invariant
from harness.analysis.series import ArchData
from harness.analysis.synthetic import synthetic
from harness.load.recorder import Recorder
from harness.report.assemble import RunHeader, build_record
from harness.scenario.slo import Objectives

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
