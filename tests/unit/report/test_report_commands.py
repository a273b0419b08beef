"""`harness report` re-renders from a results folder; `harness compare` flags regressions."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from harness.analysis.compare import Rule
from harness.errors import ConfigError
from harness.report.assemble import RunHeader, build_record, write_all
from harness.report.commands import compare_command, report_command
from harness.report.results import ResultsDir
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=160), buf


def test_report_rebuilds_the_files_from_saved_data(demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / demo_dir.name
    shutil.copytree(demo_dir, copy)
    original = (copy / "summary.md").read_text()
    for name in ("report.html", "junit.xml", "summary.md"):
        (copy / name).unlink()
    console, _ = _console()
    assert report_command(copy, console=console) == 1
    assert (copy / "summary.md").read_text() == original
    assert (copy / "report.html").stat().st_size > 1_000_000


def test_report_of_a_folder_without_run_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run\.json"):
        report_command(tmp_path)


def _run(root: Path, name: str, latency: float) -> Path:
    data = {"modern": synthetic("modern", 60, latency_ms=lambda s: latency)}
    out = ResultsDir.create(root / name, "smoke")
    header = RunHeader(run_id=out.run_id, scenario="smoke", seed=1, phases=[("main", 0, 60)])
    write_all(out, build_record(header, Objectives(), data, []), data, [])
    return out.path


def test_compare_two_runs_flags_a_slower_candidate(tmp_path: Path) -> None:
    before = _run(tmp_path, "a", 20.0)
    after = _run(tmp_path, "b", 60.0)
    console, buf = _console()
    one_run = Rule(min_repeats=1)  # one run a side: verdicts only when asked for
    assert compare_command(before, after, console=console, out_dir=tmp_path / "cmp",
                           rule=one_run) == 1
    assert "REGRESSION" in buf.getvalue()
    assert "**REGRESSION**" in (tmp_path / "cmp" / "compare.md").read_text()
    assert "REGRESSION" in (tmp_path / "cmp" / "compare.html").read_text()
    console, buf = _console()
    assert compare_command(after, before, console=console, out_dir=tmp_path / "cmp",
                           rule=one_run) == 0
    assert "improvement" in buf.getvalue()
    console, buf = _console()
    assert compare_command(before, after, console=console, out_dir=tmp_path / "cmp") == 0
    assert "too few repeats" in buf.getvalue()
    assert "REGRESSION" not in buf.getvalue()
    assert "no verdicts, 1 run a side and 3 needed" in buf.getvalue()


def test_compare_architectures_of_one_run(demo_dir: Path, tmp_path: Path) -> None:
    console, buf = _console()
    assert compare_command(demo_dir, console=console, out_dir=tmp_path) == 0
    assert "modern vs legacy" in buf.getvalue()
    console, buf = _console()
    code = compare_command(demo_dir, baseline_arch="modern", candidate_arch="legacy",
                           console=console, out_dir=tmp_path, rule=Rule(min_repeats=1))
    assert code == 1
    assert "legacy vs modern" in buf.getvalue()


def test_compare_names_a_missing_architecture(demo_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no architecture 'cloud'"):
        compare_command(demo_dir, baseline_arch="cloud", candidate_arch="modern")
