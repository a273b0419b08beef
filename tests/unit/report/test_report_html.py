"""report.html and summary.md: self-contained, headline first, tables with the verdicts."""

from __future__ import annotations

import re
from pathlib import Path

from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.summary import summary_md
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic


def test_report_is_self_contained(demo_dir: Path) -> None:
    html = (demo_dir / "report.html").read_text()
    # plotly.js itself is inlined: no script or stylesheet from the network
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    assert "Plotly.newPlot" in html
    assert len(html) > 1_000_000


def test_report_answers_first_then_shows_tables(demo_dir: Path) -> None:
    html = (demo_dir / "report.html").read_text()
    headline = html.index('id="headline"')
    assert headline < html.index('id="charts"') < html.index('id="recovery"')
    assert "modern came through better" in html
    assert "after kill-app it recovered in 4.0 s vs 55.0 s" in html
    for table in ("recovery", "slos", "invariants", "totals", "settings"):
        assert f'id="{table}"' in html


def test_charts_hold_both_architectures_faults_and_events(demo_dir: Path) -> None:
    html = (demo_dir / "report.html").read_text()
    for trace in ("legacy achieved", "modern achieved", "legacy p99", "modern p95",
                  "legacy http_5xx", "modern connection_refused", "legacy events"):
        assert f'"name":"{trace}"' in html
    assert "kill-app" in html
    assert "phase peak" in html
    assert "orchestrator.instance_launched" in html


def test_summary_md_has_verdict_and_reasons(demo_dir: Path) -> None:
    md = (demo_dir / "summary.md").read_text()
    assert md.startswith("# harness demo: FAILED (exit 1)")
    assert "- legacy: invariant orders_lost violated" in md
    assert "| kill-recovery | modern | recovery_s <= 30s | * | 4.0 s | pass |" in md


def test_single_architecture_without_faults_or_slos_renders() -> None:
    data = {"modern": synthetic("modern", 10)}
    header = RunHeader(run_id="r", scenario="smoke", seed=1, phases=[("main", 0.0, 10.0)])
    record = build_record(header, Objectives(), data, [],
                          errors={"legacy": "stack did not start"}, status="incomplete")
    html = render(record, data, [])
    assert "No faults in this run." in html
    assert "The scenario has no SLOs." in html
    assert "stack did not start" in html
    assert "modern: passed" in summary_md(record)
    assert "legacy stopped early (stack did not start)" in html
