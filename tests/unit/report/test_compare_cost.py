"""`harness compare` shows the event's cost and cost per million beside the latency deltas."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from harness.analysis.compare import Side, cost_deltas
from harness.report.commands import compare_command, comparisons
from harness.report.results import read_record
from tests.support.priced_run import priced_data, write_priced_run


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=400), buf


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_priced_run(tmp_path_factory.mktemp("priced"))


def test_the_cost_delta_is_the_recorded_costs_difference(priced: Path) -> None:
    record = read_record(priced)
    legacy, modern = record.arch("legacy").cost, record.arch("modern").cost
    assert legacy is not None
    assert modern is not None
    [c] = comparisons(priced)
    event, per_million = c.costs
    assert event.metric == "event_cost"
    assert (event.baseline, event.candidate) == (legacy.total_usd, modern.total_usd)
    assert event.delta == pytest.approx(modern.total_usd - legacy.total_usd, abs=1e-6)
    assert per_million.delta == pytest.approx(
        (modern.per_million_usd or 0) - (legacy.per_million_usd or 0), abs=1e-6)
    # the shipped profiles leave items out (e.g. SQS requests): lower bounds, named
    assert "SQS requests" in event.baseline_left_out
    assert event.candidate_left_out == tuple(modern.unmeasured)


def test_compare_prints_the_cost_rows_between_the_error_and_recovery_rows(
        priced: Path, tmp_path: Path) -> None:
    console, buf = _console()
    assert compare_command(priced, console=console, out_dir=tmp_path) == 0
    text = buf.getvalue()
    assert "AWS event cost" in text
    assert "AWS cost/1M served" in text
    assert "of the measured items" in text
    md = (tmp_path / "compare.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    names = [r.split("|")[1].strip() for r in rows]
    assert names.index("error rate") < names.index("AWS event cost")
    cost_row = rows[names.index("AWS event cost")]
    assert "≥ $" in cost_row
    assert "not judged" in cost_row
    assert "leaves out what the run could not measure" in md
    assert "AWS event cost" in (tmp_path / "compare.html").read_text()


def test_a_run_without_a_cost_reads_not_measurable_with_the_reason_never_zero(
        priced: Path, tmp_path: Path) -> None:
    unpriced = write_priced_run(tmp_path / "old", profiles=False)
    assert read_record(unpriced).arch("legacy").cost is None
    console, _ = _console()
    assert compare_command(unpriced, priced, baseline_arch="legacy", console=console,
                           out_dir=tmp_path / "cmp") == 0
    md = (tmp_path / "cmp" / "compare.md").read_text()
    row = next(line for line in md.splitlines() if "AWS event cost" in line)
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == "not measurable"  # the baseline: never $0
    assert cells[2].startswith("≥ $")
    assert cells[3] == "not measurable"
    assert "legacy: no cost in run.json" in cells[6]
    assert "written before costs were priced" in md
    assert "$0.00" not in row


def test_no_request_served_gives_no_cost_per_million(priced: Path, tmp_path: Path) -> None:
    idle = write_priced_run(tmp_path, per_second=0)
    [c] = comparisons(idle)
    event, per_million = c.costs
    assert event.measurable  # the fleet was billed all the same
    assert not per_million.measurable
    assert "no request served" in per_million.note


def test_bare_data_without_costs_gets_no_cost_rows() -> None:
    side = Side("a", [priced_data("legacy")])
    assert cost_deltas(side, side) == []
