"""report.html's cost-over-time chart: drawn from the recorded fleet, ending at the totals."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.report.html import render
from tests.support.priced_run import ARCHS, priced_data, priced_events, priced_record


def _traces(html: str, div_id: str) -> list[dict[str, Any]]:
    """The data of the plotly chart in `div_id`, as plotly wrote it into the page."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + '"', html)
    assert call is not None, f"no chart {div_id}"
    start = html.index("[", call.end())
    traces, _ = json.JSONDecoder().raw_decode(html[start:])
    assert isinstance(traces, list)
    return traces


def test_the_cost_chart_ends_at_each_architectures_line_items_total() -> None:
    record = priced_record()
    html = render(record, {a: priced_data(a) for a in ARCHS}, priced_events())
    assert "Cost over time (AWS)" in html
    traces = _traces(html, "cost-over-time")
    assert len(traces) == 2
    for arch, trace in zip(ARCHS, traces, strict=True):
        cost = record.arch(arch).cost
        assert cost is not None
        assert trace["name"].startswith(arch)
        total = sum(li.subtotal_usd for li in cost.lines if li.subtotal_usd is not None)
        assert abs(trace["y"][-1] - total) < 1e-6
        # AWS minutes: the run's 20 s at 0.05 are 400 AWS seconds
        assert trace["x"][-1] == 400 / 60
        assert "≥" in trace["name"]  # some lines are not measurable: a lower bound


def test_legacys_curve_steepens_at_its_scale_out() -> None:
    record = priced_record()
    html = render(record, {a: priced_data(a) for a in ARCHS}, priced_events())
    legacy = _traces(html, "cost-over-time")[0]
    y = legacy["y"]
    # 2 members before run second 10, 4 after: the fleet's share of each second doubles
    assert (y[15] - y[14]) > (y[5] - y[4])


def test_no_cost_no_chart() -> None:
    record = priced_record(profiles=False)
    html = render(record, {a: priced_data(a) for a in ARCHS}, priced_events())
    assert "cost-over-time" not in html
