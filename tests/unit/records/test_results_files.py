"""Writing into a results folder: atomic files, append-only logs, a watch on the folder."""

from __future__ import annotations

import errno
import gc
import io
import json
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.errors import ConfigError, ResultsError
from harness.load.writes import WritesLog
from harness.records.events import FaultEvent
from harness.records.files import AppendLog, atomic_open, atomic_write, read_jsonl, watch
from harness.records.marker import MARKER, mark_running
from harness.records.recorder import Recorder
from harness.records.samples import MetricsLog, Sample, read_samples
from harness.report.commands import report_command
from harness.report.results import (
    ResultsDir,
    read_events,
    read_record,
    read_timeseries,
    timeseries_csv,
)
from harness.runtime.events import EventLog
from tests.support.demo import write_demo
from tests.support.synthetic import synthetic


def _disk_full(*_args: Any, **_kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_one_error_naming_the_folder_and_the_old_file_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run.json"
    atomic_write(target, '{"old": true}\n')
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(ResultsError) as caught:
        atomic_write(target, '{"new": true}\n')
    message = str(caught.value)
    assert message.startswith(f"results folder {tmp_path}: cannot write run.json: ")
    assert "no space left on device" in message
    assert "\n" not in message
    assert caught.value.exit_code == 2
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary left


def test_a_streamed_file_that_fails_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "load-seconds.jsonl"
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(ResultsError, match="no space left on device"), atomic_open(target) as f:
        f.write("{}\n" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_writing_into_a_removed_folder_says_it_was_removed(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.rmtree(folder)
    with pytest.raises(ResultsError, match=f"results folder {folder}: removed while the run"):
        atomic_write(folder / "run.json", "{}")


def test_an_append_log_remembers_a_full_disk_instead_of_raising(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AppendLog(tmp_path / "metrics.jsonl")
    assert log.append(['{"a": 1}\n'])
    with watch(tmp_path) as seen:
        monkeypatch.setattr(Path, "open", _disk_full)
        assert not log.append(['{"a": 2}\n'])
        monkeypatch.undo()
        assert not log.append(['{"a": 3}\n'])  # stopped: no line after a torn one
        assert seen.is_set()
    assert log.error is not None
    assert "no space left on device" in str(log.error)
    assert seen.error is log.error
    assert (tmp_path / "metrics.jsonl").read_text() == '{"a": 1}\n'


def test_the_event_journal_keeps_events_in_memory_when_its_folder_goes(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    mark_running(folder)
    events = EventLog(folder / "events-modern.jsonl")
    events.emit(FaultEvent.APPLIED, fault="kill-app")
    with watch(folder, sentinel=MARKER, poll_s=60) as seen:
        shutil.rmtree(folder)
        events.emit(FaultEvent.REVERTED, fault="kill-app")  # no exception in the emitter
        assert seen.is_set()
        assert seen.error is not None
        assert "removed while the run" in str(seen.error)
    assert [e["kind"] for e in events.events] == ["fault.applied", "fault.reverted"]


def test_metric_samples_stop_on_a_full_disk_and_the_collector_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = MetricsLog(tmp_path / "metrics.jsonl", "modern")
    log.add([Sample(t_s=0.0, metric="CPUUtilization", value=10.0)])
    monkeypatch.setattr(Path, "open", _disk_full)
    log.add([Sample(t_s=1.0, metric="CPUUtilization", value=20.0)])
    monkeypatch.undo()
    assert len(log.snapshot()) == 2
    assert [s.value for s in read_samples(tmp_path / "metrics.jsonl")["modern"]] == [10.0]


def test_the_writes_log_raises_because_the_invariants_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = WritesLog(tmp_path / "writes.jsonl")
    monkeypatch.setattr(Path, "open", _disk_full)
    with pytest.raises(ResultsError, match=r"cannot write writes\.jsonl: no space left"):
        log.extend([{"kind": "order"}])


def test_a_watch_sees_its_folder_removed_while_nothing_writes(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    with watch(folder, poll_s=0.05) as seen:
        shutil.rmtree(folder)
        assert seen.wait(timeout=30)
    assert seen.error is not None
    assert "removed while the run" in str(seen.error)


def test_a_watch_sees_a_folder_made_anew_under_the_same_name(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    mark_running(folder)
    with watch(folder, sentinel=MARKER, poll_s=60) as seen:
        assert not seen.look()
        shutil.rmtree(folder)
        folder.mkdir()  # what a log's mkdir(parents=True) would do
        with pytest.raises(ResultsError, match="removed while the run"):
            seen.check()


def test_a_watch_explains_an_os_error_under_its_folder_only(tmp_path: Path) -> None:
    with watch(tmp_path, poll_s=60) as seen:
        elsewhere = OSError(errno.ENOSPC, "No space left on device", "/elsewhere/x.log")
        assert seen.explain(elsewhere) is None
        assert seen.explain(RuntimeError("boom")) is None
        mine = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "logs" / "a.log"))
        error = seen.explain(mine)
    assert error is not None
    assert str(error).startswith(f"results folder {tmp_path}: cannot write logs/a.log: no space")


def test_jsonl_reading_leaves_out_a_cut_last_line_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "events-modern.jsonl"
    path.write_text('{"kind": "fault.applied"}\n{"kind": "fault.rev')
    notes: list[str] = []
    assert list(read_jsonl(path, notes)) == [{"kind": "fault.applied"}]
    assert notes == [f"{path}: line 2 was cut off mid-write; left out"]


def test_jsonl_reading_names_a_damaged_line_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    notes: list[str] = []
    assert list(read_jsonl(path, notes)) == [{"a": 1}, {"a": 2}]
    assert notes == [f"{path}: line 2 is not a JSON object; left out"]


def test_events_of_a_run_cut_mid_write_are_read_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"kind": "fault.applied", "t_s": 1}\n{"ki')
    notes: list[str] = []
    assert read_events(tmp_path, notes) == [{"kind": "fault.applied", "t_s": 1}]
    assert len(notes) == 1


def test_a_timeseries_cut_short_loses_only_its_last_row(tmp_path: Path) -> None:
    whole = timeseries_csv({"modern": synthetic("modern", 10)})
    cut = tmp_path / "timeseries.csv"
    cut.write_text(whole[: len(whole) - 40])
    notes: list[str] = []
    data = read_timeseries(cut, notes)
    assert sorted(data["modern"].counts) == list(range(10))
    assert len(notes) == 1
    assert "was cut off" in notes[0]
    lines = whole.splitlines()
    damaged = tmp_path / "damaged" / "timeseries.csv"
    damaged.parent.mkdir()
    damaged.write_text("\n".join([*lines[:3], "legacy,x", *lines[3:]]) + "\n")
    with pytest.raises(ConfigError, match=rf"{damaged}:4: a damaged row"):
        read_timeseries(damaged)


def test_a_folder_without_run_json_says_how_the_run_ended_and_what_is_left(
    tmp_path: Path
) -> None:
    (tmp_path / MARKER).write_text("stopped at 2026-01-01T00:00:00+00:00: disk full\n")
    (tmp_path / "metrics.jsonl").write_text("")
    (tmp_path / "events-modern.jsonl").write_text("")
    with pytest.raises(ConfigError) as caught:
        read_record(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'run.json'}: missing; INCOMPLETE says: stopped at ")
    assert "metrics.jsonl (metric samples), events-modern.jsonl (events)" in message
    assert message.endswith("a report needs run.json")


def test_a_crash_in_a_removed_folder_is_not_hidden_by_the_marker(tmp_path: Path) -> None:
    out = ResultsDir.create(tmp_path, "smoke")
    shutil.rmtree(out.path)
    error = ResultsError(f"results folder {out.path}: removed while the run was writing it")
    out.__exit__(ResultsError, error, None)  # what `with out:` does on the way out
    assert not out.path.exists()  # nor made anew by the marker


def test_report_rebuilds_a_folder_cut_mid_write_and_says_what_it_left_out(
    tmp_path: Path
) -> None:
    folder = write_demo(tmp_path).path
    (folder / "timeseries.csv").unlink()
    (folder / "report.html").unlink()
    events = folder / "events.jsonl"
    events.write_text(events.read_text() + '{"kind": "fault.app')
    console = Console(file=io.StringIO(), width=400)
    assert report_command(folder, console=console) == 1  # the demo's recorded verdict
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"{folder / 'timeseries.csv'}: missing" in printed
    assert f"{events}: line " in printed
    assert "cut off mid-write" in printed
    assert (folder / "report.html").stat().st_size > 0


def test_compacting_frees_the_histograms_of_closed_seconds_without_the_cyclic_gc() -> None:
    recorder = Recorder()
    recorder.arrival(0, lag_s=0.001)
    recorder.request(0, "GET /products", "ok", 0.010, 0.009)
    live = [weakref.ref(h) for h in [*recorder._hists.values(), *recorder._lag.values()]]
    assert len(live) == 3
    gc.disable()  # a long run's collector held its garbage until the cyclic GC came round
    try:
        recorder.compact(1)
        assert [ref() for ref in live] == [None, None, None]
    finally:
        gc.enable()
    assert recorder.summary()["requests"] == 1  # what was encoded still reads back
