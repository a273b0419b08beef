"""The event's cost in run.json, the terminal table and the HTML report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.analysis.series import ArchData
from harness.model.profile_file import load_profile
from harness.records.events import StackEvent
from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.record import RunRecord
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives

NO_SLOS = Objectives.model_validate({"slos": []})


def _data(arch: str, seconds: int = 20) -> ArchData:
    data = ArchData(arch)
    for s in range(seconds):
        data.add_samples(s, "GET /products", "ok", [20.0] * 10)
    return data


def _record(prices: dict[str, float] | None = None) -> RunRecord:
    header = RunHeader(
        run_id="r", scenario="s", seed=1, phases=[("main", 0.0, 20.0)],
        settings={"time_scale": 0.05},
        definition={"prices": prices} if prices else {},
        profiles={a: load_profile(a).model_dump(mode="json") for a in ("legacy", "modern")})
    # legacy scales out from 2 to 4 at 10 s
    events = [{"kind": StackEvent.SCALING_CAPACITY, "arch": "legacy", "t_s": float(t),
               "desired": 2 if t < 10 else 4, "launching": 0, "in_service": 2 if t < 10 else 4,
               "cpu_sum_pct": None} for t in range(20)]
    return build_record(header, NO_SLOS, {a: _data(a) for a in ("legacy", "modern")}, events)


def test_every_architecture_gets_a_cost_with_line_items() -> None:
    record = _record()
    legacy = record.arch("legacy").cost
    assert legacy is not None
    ec2 = next(li for li in legacy.lines if li.price == "ec2_instance_hour")
    # 2 x 10 + 4 x 10 member-seconds / 0.05 = 1200 s = 1/3 instance-hour
    assert ec2.quantity == round(60 / 0.05 / 3600, 6)
    assert legacy.scaling_added_usd is not None
    assert legacy.scaling_added_usd > 0
    assert record.arch("modern").cost is not None


def test_run_json_with_a_cost_reads_back_and_one_without_still_reads() -> None:
    record = _record()
    again = RunRecord.model_validate_json(record.model_dump_json())
    assert again.arch("legacy").cost == record.arch("legacy").cost
    old = record.model_dump(mode="json")
    for a in old["architectures"]:
        del a["cost"]
    assert RunRecord.model_validate(old).arch("legacy").cost is None


def test_an_overridden_price_changes_the_total_and_the_report_says_so() -> None:
    listed, cheap = _record(), _record({"ec2_instance_hour": 0.001})
    before, after = listed.arch("legacy").cost, cheap.arch("legacy").cost
    assert before is not None
    assert after is not None
    assert after.total_usd < before.total_usd
    html = render(cheap, {a: _data(a) for a in ("legacy", "modern")}, [])
    assert "(overridden)" in html
    assert "How the quantity follows from the run".lower() in html.lower()
    assert "not measurable" in html


def test_the_terminal_table_shows_the_cost_and_per_million() -> None:
    console = Console(record=True, width=240)
    print_verdict(_record(), Path("/tmp/r"), console)
    text = console.export_text()
    assert "AWS cost of the event" in text
    assert "AWS cost per million requests served" in text
    assert "≥ $" in text  # some items are not measurable: the total is a lower bound
