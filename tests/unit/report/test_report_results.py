"""The results folder: atomic files, the INCOMPLETE marker, exact CSV round trip."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.analysis.series import ArchData
from harness.errors import ConfigError, ResultsError
from harness.records.recorder import Recorder
from harness.report.results import (
    MARKER,
    ResultsDir,
    atomic_write,
    is_complete,
    read_events,
    read_record,
    read_timeseries,
    run_id,
    timeseries_csv,
)
from tests.support.synthetic import synthetic

NOW = datetime(2026, 11, 23, 10, 5, 1, tzinfo=UTC)


def test_run_id_is_utc_timestamp_and_scenario() -> None:
    assert run_id("blackfriday", NOW) == "20261123T100501Z-blackfriday"


def test_new_folder_is_incomplete_until_finished(tmp_path: Path) -> None:
    out = ResultsDir.create(tmp_path, "smoke", now=NOW)
    assert out.path == tmp_path / "20261123T100501Z-smoke"
    assert (out.path / MARKER).read_text().startswith("running since")
    assert (out.path / "logs").is_dir()
    out.write_text("run.json", "{}")
    assert not out.complete
    out.finish()
    assert out.complete
    assert is_complete(out.path)


def test_same_second_twice_is_refused(tmp_path: Path) -> None:
    ResultsDir.create(tmp_path, "smoke", now=NOW)
    with pytest.raises(ConfigError, match="already exists"):
        ResultsDir.create(tmp_path, "smoke", now=NOW)


def test_interrupted_run_says_why(tmp_path: Path) -> None:
    out = ResultsDir.create(tmp_path, "smoke", now=NOW)
    with pytest.raises(KeyboardInterrupt), out:
        raise KeyboardInterrupt
    assert (out.path / MARKER).read_text().startswith("interrupted at")
    assert "KeyboardInterrupt" in (out.path / MARKER).read_text()
    assert not out.complete


def test_a_crashed_run_says_so_and_the_error(tmp_path: Path) -> None:
    out = ResultsDir.create(tmp_path, "smoke", now=NOW)
    with pytest.raises(RuntimeError), out:
        raise RuntimeError("boom")
    text = (out.path / MARKER).read_text()
    assert text.startswith("crashed at ")
    assert text.rstrip().endswith(": RuntimeError: boom")


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    atomic_write(target, "old")
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "run.json"
    atomic_write(target, "old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ResultsError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_timeseries_round_trip_is_exact(tmp_path: Path) -> None:
    data = {
        "legacy": synthetic("legacy", 20, error_rate=lambda s: 0.1, achieved_ratio=lambda s: 0.9),
        "modern": synthetic("modern", 20, latency_ms=lambda s: 5.0 + s),
    }
    path = tmp_path / "timeseries.csv"
    path.write_text(timeseries_csv(data))
    back = read_timeseries(path)
    assert list(back) == ["legacy", "modern"]
    for arch in data:
        assert back[arch].rows() == data[arch].rows()
        assert back[arch].stats(3, 17, "POST /orders") == data[arch].stats(3, 17, "POST /orders")
    assert back["legacy"].stats(3, 17, "POST /orders").dropped == 14 * 2  # 5 a second, 2 here


def test_totals_rows_are_readable_without_histograms(tmp_path: Path) -> None:
    text = timeseries_csv({"modern": synthetic("modern", 2)})
    header, first = text.splitlines()[:2]
    assert header.startswith("arch,second,endpoint,class,count,offered")
    assert first.startswith("modern,0,*,*,50,50,50,50")


def test_reading_something_that_is_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is this a results folder"):
        read_record(tmp_path)
    (tmp_path / "run.json").write_text('{"schema_version": 99}')
    with pytest.raises(ConfigError, match=r"not a valid run\.json"):
        read_record(tmp_path)


def test_events_skip_a_half_written_last_line(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"kind": "fault.applied", "t_s": 1}\n{"kind": "fa')
    assert read_events(tmp_path) == [{"kind": "fault.applied", "t_s": 1}]


def test_demo_folder_has_every_file(demo_dir: Path) -> None:
    names = {p.name for p in demo_dir.iterdir()}
    assert names == {"run.json", "timeseries.csv", "events.jsonl", "report.html", "junit.xml",
                     "summary.md", "logs"}
    assert is_complete(demo_dir)


def test_recorder_data_survives_the_csv_exactly(tmp_path: Path) -> None:
    rec = Recorder()
    for i in range(300):
        second = i // 100
        rec.arrival(second, lag_s=0.001 * (i % 3), late=i % 50 == 0)
        cls = "timeout" if i % 37 == 0 else "ok"
        rec.request(second, "POST /orders" if i % 2 else "GET /products", cls,
                    0.005 + (i % 17) / 1000, 0.004)
    for _ in range(3):
        rec.arrival(2, lag_s=None, endpoint="GET /products")
    data = {"legacy": ArchData.from_recorder("legacy", rec)}
    path = tmp_path / "timeseries.csv"
    path.write_text(timeseries_csv(data))
    back = read_timeseries(path)["legacy"]
    assert back.rows() == data["legacy"].rows()
    assert back.stats().classes["timeout"] == 9
    assert back.counts[0].late == 2
    assert back.stats(2, 3, "GET /products").dropped == 3
    assert back.stats(2, 3, "POST /orders").dropped == 0
    assert back.stats().dropped == 3
