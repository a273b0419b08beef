"""A results folder whose architectures carry an event cost: the shipped profiles recorded,
a time scale, and legacy's fleet scaling out from 2 to 4 members halfway.

For the tests of `harness compare`'s cost rows, `harness forecast` and the cost chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.analysis.series import ArchData
from harness.model.profile_file import load_profile
from harness.records.events import StackEvent
from harness.report.assemble import RunHeader, build_record, write_all
from harness.report.record import RunRecord
from harness.report.results import ResultsDir
from harness.scenario.slo import Objectives

ARCHS = ("legacy", "modern")
SECONDS = 20
TIME_SCALE = 0.05
SCALE_OUT_AT = 10


def priced_data(arch: str, seconds: int = SECONDS, per_second: int = 10) -> ArchData:
    """`per_second` requests a second, all served (class ok) in 20 ms."""
    data = ArchData(arch)
    for s in range(seconds):
        data.add_samples(s, "GET /products", "ok", [20.0] * per_second)
    return data


def priced_events(seconds: int = SECONDS) -> list[dict[str, Any]]:
    """Legacy's capacity once a second: 2 members, 4 (in service) from SCALE_OUT_AT."""
    return [{"kind": StackEvent.SCALING_CAPACITY, "arch": "legacy", "t_s": float(t),
             "desired": 2 if t < SCALE_OUT_AT else 4, "launching": 0,
             "in_service": 2 if t < SCALE_OUT_AT else 4, "cpu_sum_pct": None}
            for t in range(seconds)]


def priced_record(run_id: str = "r", *, profiles: bool = True,
                  prices: Mapping[str, float] | None = None, per_second: int = 10
                  ) -> RunRecord:
    """The record; without `profiles` no architecture can be priced (cost None)."""
    header = RunHeader(
        run_id=run_id, scenario="priced", seed=1, phases=[("main", 0.0, float(SECONDS))],
        settings={"time_scale": TIME_SCALE},
        definition={"prices": dict(prices)} if prices else {},
        profiles=({a: load_profile(a).model_dump(mode="json") for a in ARCHS}
                  if profiles else {}))
    data = {a: priced_data(a, per_second=per_second) for a in ARCHS}
    return build_record(header, Objectives.model_validate({"slos": []}), data, priced_events())


def write_priced_run(root: Path, *, profiles: bool = True,
                     prices: Mapping[str, float] | None = None, per_second: int = 10) -> Path:
    """A complete results folder under `root`; its path."""
    out = ResultsDir.create(root, "priced")
    data = {a: priced_data(a, per_second=per_second) for a in ARCHS}
    with out:
        record = priced_record(out.run_id, profiles=profiles, prices=prices,
                               per_second=per_second)
        write_all(out, record, data, priced_events())
    return out.path
