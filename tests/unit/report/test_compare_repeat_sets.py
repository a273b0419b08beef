"""`harness compare` and `harness report` on repeat sets (`harness run --repeat N`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import typer
from rich.console import Console

from harness.analysis.verdict import INVALID, Verdict
from harness.cli import _pick_archs
from harness.errors import ConfigError
from harness.repeats import exit_code, order_of
from harness.report.commands import compare_command, load, report_command
from harness.report.record import SCHEMA_FILE
from harness.report.results import read_record, repeat_runs
from harness.scenario.labels import profile_of
from tests.support.repeat_data import noisy_runs, write_repeat_set


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200), buf


def test_repeats_alternate_the_order_of_the_architectures() -> None:
    assert [order_of(i, ["legacy", "modern"]) for i in (1, 2, 3, 4)] == [
        ["legacy", "modern"], ["modern", "legacy"], ["legacy", "modern"], ["modern", "legacy"],
    ]


def test_an_architecture_named_twice_runs_as_two_labelled_copies() -> None:
    labels = _pick_archs("modern,modern", ["legacy", "modern"])
    assert labels == ["modern", "modern#2"]
    assert [profile_of(label) for label in labels] == ["modern", "modern"]
    assert _pick_archs("both", ["legacy", "modern"]) == ["legacy", "modern"]
    with pytest.raises(typer.BadParameter, match="name stack profiles, comma-separated"):
        _pick_archs("modern,cloud", ["legacy", "modern"])


def test_each_repeat_is_a_run_folder_whose_run_json_says_where_it_belongs(tmp_path: Path
                                                                         ) -> None:
    set_dir = write_repeat_set(tmp_path, {"legacy": noisy_runs("legacy", 2, seed=1),
                                          "modern": noisy_runs("modern", 2, seed=2)})
    runs = repeat_runs(set_dir)
    assert [r.name for r in runs] == ["repeat-1", "repeat-2"]
    schema = json.loads(SCHEMA_FILE.read_text())
    for index, run in enumerate(runs, start=1):
        raw = json.loads((run / "run.json").read_text())
        jsonschema.validate(raw, schema)
        assert raw["repeat"] == {"set_id": set_dir.name, "index": index, "of": 2,
                                 "order": order_of(index, ["legacy", "modern"])}
        assert read_record(run).run_id == f"{set_dir.name}/repeat-{index}"
    assert repeat_runs(runs[0]) == []  # a run folder is not a set


def test_compare_of_a_repeat_set_prints_intervals_and_no_significant_difference(
    tmp_path: Path
) -> None:
    set_dir = write_repeat_set(tmp_path, {"legacy": noisy_runs("legacy", 3, seed=1),
                                          "modern": noisy_runs("modern", 3, seed=2)})
    console, buf = _console()
    assert compare_command(set_dir, console=console) == 0
    text = buf.getvalue()
    assert "modern vs legacy" in text
    assert "paired t-interval over 3 interleaved repeats" in text
    assert "no significant difference" in text
    assert " ms to " in text  # an interval, e.g. "-2.1 ms to +1.9 ms"
    md = (set_dir / "compare.md").read_text()
    assert "| 95% CI |" in md


def test_a_regression_over_repeats_exits_1(tmp_path: Path) -> None:
    set_dir = write_repeat_set(
        tmp_path, {"legacy": noisy_runs("legacy", 3, seed=1, between_runs=0.02),
                   "modern": noisy_runs("modern", 3, seed=2, between_runs=0.02, latency_ms=40)},
        recoveries={"legacy": [10.0, 11.0, 12.0], "modern": [10.5, 11.0, 11.5]},
    )
    console, buf = _console()
    assert compare_command(set_dir, console=console) == 1
    assert "regressions: modern: p50" in buf.getvalue()
    assert "recovery kill-app" in buf.getvalue()


def test_a_recovery_missing_from_one_repeat_names_the_run_and_its_status(tmp_path: Path) -> None:
    set_dir = write_repeat_set(
        tmp_path, {"legacy": noisy_runs("legacy", 3, seed=1),
                   "modern": noisy_runs("modern", 3, seed=2)},
        recoveries={"legacy": [3.0, 3.0, 3.0], "modern": [1.0, None, 1.0]},
    )
    console, buf = _console()
    compare_command(set_dir, console=console)
    out = " ".join(buf.getvalue().split())
    assert "no recovery figure in 1 of 6 runs" in out
    assert "modern run 2: not recovered" in out


def test_unfinished_repeats_are_left_out_and_named(tmp_path: Path) -> None:
    set_dir = write_repeat_set(tmp_path, {"legacy": noisy_runs("legacy", 3, seed=1),
                                          "modern": noisy_runs("modern", 3, seed=2)},
                               incomplete=[3])
    assert len(load(set_dir).runs) == 2
    console, buf = _console()
    compare_command(set_dir, console=console)
    assert "left out unfinished repeats: repeat-3 (interrupted)" in buf.getvalue()
    assert "over 2 interleaved repeats" in buf.getvalue()


def test_two_repeat_sets_compare_unpaired(tmp_path: Path) -> None:
    before = write_repeat_set(tmp_path / "a", {"modern": noisy_runs("modern", 3, seed=1)})
    after = write_repeat_set(tmp_path / "b", {"modern": noisy_runs("modern", 4, seed=2)})
    console, buf = _console()
    assert compare_command(before, after, console=console, out_dir=tmp_path) == 0
    assert "Welch t-interval over 3 and 4 runs" in buf.getvalue()


def test_a_repeat_set_against_one_run_is_a_clear_error(tmp_path: Path) -> None:
    many = write_repeat_set(tmp_path / "a", {"modern": noisy_runs("modern", 3, seed=1)})
    one = write_repeat_set(tmp_path / "b", {"modern": noisy_runs("modern", 1, seed=2)})
    with pytest.raises(ConfigError, match="a repeat set with a repeat set"):
        compare_command(many, one)


def test_report_of_a_repeat_set_renders_every_repeat(tmp_path: Path) -> None:
    set_dir = write_repeat_set(tmp_path, {"modern": noisy_runs("modern", 2, seed=1)})
    for run in repeat_runs(set_dir):
        (run / "summary.md").unlink()
    console, _ = _console()
    assert report_command(set_dir, console=console) == 0
    assert all((run / "summary.md").exists() for run in repeat_runs(set_dir))


def test_the_worst_repeat_decides_the_exit_code(tmp_path: Path) -> None:
    set_dir = write_repeat_set(tmp_path, {"modern": noisy_runs("modern", 2, seed=1)})
    records = [read_record(r) for r in repeat_runs(set_dir)]
    assert exit_code(records) == 0
    records[1].verdict = Verdict(INVALID, "invalid", ["modern: invalid run: fell behind"])
    assert exit_code(records) == 3
    records[1].verdict = None  # a run that never got judged has not passed
    assert exit_code(records) == 1
