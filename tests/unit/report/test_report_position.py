"""run.json records the place each architecture ran in, so a position effect can be read."""

from __future__ import annotations

from harness.analysis.series import ArchData
from harness.records.recorder import Recorder
from harness.repeats import order_of
from harness.report.assemble import RunHeader, build_record
from harness.scenario.slo import Objectives

NO_SLOS = Objectives.model_validate({"slos": []})


def _data(arch: str) -> ArchData:
    rec = Recorder()
    for s in range(3):
        rec.arrival(s, lag_s=0.001)
        rec.request(s, "GET /products", "ok", 0.02, 0.02)
    return ArchData.from_recorder(arch, rec)


def _positions(order: list[str]) -> dict[str, int | None]:
    header = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 3.0)],
                       settings={"time_scale": 0.1, "architectures": order})
    # the data arrive in another order than the run's: the position follows the run
    record = build_record(header, NO_SLOS, {a: _data(a) for a in sorted(order)}, [])
    return {a.arch: a.position for a in record.architectures}


def test_a_single_run_records_the_listed_order() -> None:
    assert _positions(["modern", "legacy"]) == {"legacy": 2, "modern": 1}


def test_an_even_repeat_records_the_reversed_order() -> None:
    assert _positions(order_of(2, ["legacy", "modern"])) == {"legacy": 2, "modern": 1}
    assert _positions(order_of(3, ["legacy", "modern"])) == {"legacy": 1, "modern": 2}


def test_no_recorded_order_gives_no_position() -> None:
    header = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 3.0)])
    record = build_record(header, NO_SLOS, {"modern": _data("modern")}, [])
    assert record.architectures[0].position is None
