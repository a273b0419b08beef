"""A harness part that stops mid-run: named, the run invalid, nothing after it the architecture's.

Synthetic events and data only (harness.analysis.parts is pure); the real kill of
LocalStack and Toxiproxy is tests/integration/test_harness_parts.py.
"""

from __future__ import annotations

from typing import Any

from harness.analysis.parts import IN_FLIGHT_S, measurable, part_failures
from harness.records.events import FaultEvent, StackEvent
from harness.report.assemble import RunHeader, build_record
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

HEADER = RunHeader(run_id="r", scenario="parts", seed=1, phases=[("main", 0.0, 10.0)],
                   settings={"architectures": ["modern"]})


def _stopped(at_s: float, *, part: str = "LocalStack", component: str = "aws",
             component_kind: str = "localstack", **extra: Any) -> dict[str, Any]:
    return {"kind": str(StackEvent.PART_STOPPED), "arch": "modern", "t_s": at_s,
            "component": component, "component_kind": component_kind, "part": part,
            "alive_s": at_s - 0.2, **extra}


def _kill(at_s: float, target: str) -> dict[str, Any]:
    return {"kind": str(FaultEvent.APPLYING), "arch": "modern", "t_s": at_s, "fault": "k",
            "type": "kill", "target": target, "targets": [target]}


def _broken_after(second: int) -> Any:
    """10 s of data whose every request fails from `second` on (the harness's damage)."""
    return synthetic("modern", 10, rate=lambda s: 20,
                     error_rate=lambda s: 1.0 if s >= second else 0.0)


def test_a_part_that_stops_at_5_s_cuts_the_data_and_gives_the_reason() -> None:
    (failure,) = part_failures([_stopped(6.1)], "modern")
    assert failure.reason == "LocalStack stopped at 6 s"
    # last seen alive at 5.9 s; what was sent in the second before may have been in flight
    assert failure.measured_until_s == int(5.9 - IN_FLIGHT_S) == 4
    assert failure.invalid_reason == "not measurable after 4 s: LocalStack stopped at 6 s"
    cut = measurable({"modern": _broken_after(5)}, [_stopped(6.1)])["modern"]
    assert cut.duration_s == 4
    assert cut.stats().errors == 0


def test_a_failure_makes_the_run_invalid_and_counts_no_error_after_it() -> None:
    events = [_stopped(6.1)]
    record = build_record(HEADER, Objectives(), {"modern": _broken_after(5)}, events)
    assert record.verdict is not None
    assert record.verdict.exit_code == 3
    modern = record.arch("modern")
    assert not modern.valid
    assert modern.invalid_reasons == ["not measurable after 4 s: LocalStack stopped at 6 s"]
    assert modern.totals is not None
    assert modern.totals.requests == 4 * 20
    assert modern.totals.error_rate == 0.0
    assert "modern: invalid run: not measurable after 4 s: LocalStack stopped at 6 s" \
        in record.verdict.reasons


def test_a_part_stopped_by_a_scenario_fault_is_not_a_failure() -> None:
    events = [_kill(5.0, "aws"), _stopped(5.3)]
    assert part_failures(events, "modern") == []
    data = {"modern": _broken_after(5)}
    assert measurable(data, events)["modern"] is data["modern"]
    record = build_record(HEADER, Objectives(), data, events)
    assert record.arch("modern").valid


def test_a_fault_aimed_at_another_component_or_after_the_stop_does_not_excuse_it() -> None:
    assert part_failures([_kill(2.0, "app-1"), _stopped(5.3)], "modern") != []
    assert part_failures([_stopped(5.3), _kill(8.0, "aws")], "modern") != []


def test_no_failure_leaves_the_data_unchanged() -> None:
    data = {"modern": _broken_after(5)}
    assert part_failures([_kill(5.0, "app-1")], "modern") == []
    assert measurable(data, [])["modern"] is data["modern"]


def test_the_collector_dying_is_a_failure_with_its_error() -> None:
    died = _stopped(30.4, part="the metrics collector", component="collector",
                    component_kind="collector", error="RuntimeError: boom", alive_s=30.0)
    (failure,) = part_failures([died], "modern")
    assert failure.reason == "the metrics collector stopped at 30 s: RuntimeError: boom"
    assert failure.measured_until_s == 29


def test_only_the_architecture_of_the_failure_is_cut() -> None:
    events = [{**_stopped(6.1), "arch": "legacy"}]
    data = {"modern": _broken_after(5), "legacy": synthetic("legacy", 10)}
    cut = measurable(data, events)
    assert cut["modern"] is data["modern"]
    assert cut["legacy"].duration_s == 4


def test_the_load_relative_time_is_used_when_the_events_were_merged() -> None:
    # merge_events adds load_t_s; alive_s is on t_s's clock and moves with it
    event = {**_stopped(7.1), "load_t_s": 6.1}
    (failure,) = part_failures([event], "modern")
    assert failure.reason == "LocalStack stopped at 6 s"
    assert failure.measured_until_s == 4


def test_a_fault_the_cut_leaves_unjudged_is_not_measurable_rather_than_unrecovered() -> None:
    applied = {"arch": "modern", "fault": "slow-db", "type": "latency", "target": "app->db",
               "targets": ["app->db"]}
    events = [{**applied, "kind": str(FaultEvent.APPLYING), "t_s": 2.0},
              {**applied, "kind": str(FaultEvent.APPLIED), "t_s": 2.01, "took_ms": 10.0},
              _stopped(6.1)]
    # errors from the fault's start to the end: it would never have recovered
    data = {"modern": _broken_after(2)}
    without = build_record(HEADER, Objectives(), data, events[:2])
    assert [r.status for r in without.arch("modern").recoveries] == ["not_recovered"]
    record = build_record(HEADER, Objectives(), data, events)
    (recovery,) = record.arch("modern").recoveries
    assert recovery.status == "not_measurable"
    assert recovery.reason == "not measurable after 4 s: LocalStack stopped at 6 s"
