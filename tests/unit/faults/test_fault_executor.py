"""The fault executor against fake fault types: schedule, lag, events, teardown."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import ClassVar

import pytest

from harness.analysis.recovery import faults_from_events
from harness.errors import FaultError
from harness.faults.base import FaultContext, FaultType, journal_path
from harness.faults.executor import FaultExecutor, Planned
from harness.records.events import FaultEvent
from harness.runtime.events import EventLog
from harness.scenario.faults import FaultSpec, parse_timeline
from harness.stacks.topology import Component, StackInfo


class _NoProcesses:
    def kill(self, name: str) -> None: ...
    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def is_running(self, name: str) -> bool:
        return True


class Recording(FaultType):
    log: ClassVar[list[tuple[str, str, float]]] = []
    fail_apply = False

    def apply(self) -> None:
        if self.fail_apply:
            raise FaultError("the proxy said no")
        self.log.append(("apply", self.name, time.monotonic()))

    def revert(self) -> None:
        self.log.append(("revert", self.name, time.monotonic()))


def _ctx(tmp_path: Path) -> FaultContext:
    info = StackInfo(
        stack_id="s", arch="modern", workdir=str(tmp_path), log_dir=str(tmp_path),
        lb_url="", toxiproxy_api="http://127.0.0.1:1", haproxy_socket="", aws_endpoint="",
        queue_url="", bucket=None, db_writer_port=1, db_reader_port=None,
        components={"app-1": Component("app-1", "go", 1, "a")},
    )
    return FaultContext(info, _NoProcesses(), EventLog(tmp_path / "events.jsonl"))


def _spec(**raw: object) -> FaultSpec:
    return parse_timeline([{"type": "pause", "target": "app-1", **raw}], source="t")[0]


def _planned(ctx: FaultContext, name: str, start: float, end: float | None) -> Planned:
    Recording.log = []
    spec = _spec(at=start, **({"duration": end - start} if end is not None else {}))
    return Planned(Recording(spec, name, ["app-1"], ctx), start, end)


#: how late a fault may start on a machine busy with the rest of the suite
LATE_S = 0.25


def test_faults_apply_and_revert_on_schedule_and_log_events(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    a = _planned(ctx, "a", 0.2, 0.5)
    b = Planned(Recording(_spec(at=0.3), "b", ["app-1"], ctx), 0.3, None)
    with FaultExecutor([a, b], ctx, journal_dir=tmp_path) as ex:
        assert ex.wait(timeout_s=5)
        assert [p.name for p in ex.active] == ["b"]
        assert json.loads(journal_path(tmp_path).read_text())["active"][0]["name"] == "b"
    t0 = ctx.events.t0
    got = [(kind, name, t - t0) for kind, name, t in Recording.log]
    assert [(kind, name) for kind, name, _ in got] == [
        ("apply", "a"), ("apply", "b"), ("revert", "a"), ("revert", "b")]
    # never early; late only by what a busy test machine's scheduler takes (this test
    # shares two cores with the rest of the suite)
    for (_, _, at), scheduled in zip(got, (0.2, 0.3, 0.5), strict=False):
        assert scheduled - 0.01 <= at < scheduled + LATE_S
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in lines]
    assert kinds.count("fault.applied") == 2
    assert kinds.count("fault.reverted") == 2
    assert lines[-1]["kind"] == "fault.summary"
    assert lines[-1]["lag_p99_ms"] < LATE_S * 1000
    assert all({"ts", "wall", "t_s"} <= e.keys() for e in lines)
    teardown = [e for e in lines if e["kind"] == "fault.reverted" and e["fault"] == "b"]
    assert teardown[0]["at_teardown"] is True
    assert not journal_path(tmp_path).exists()


def test_close_before_the_end_reverts_what_is_active(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    a = _planned(ctx, "a", 0.0, 60.0)
    ex = FaultExecutor([a], ctx)
    ex.start()
    deadline = time.monotonic() + 5
    while not a.applied and time.monotonic() < deadline:
        time.sleep(0.01)
    ex.close()
    assert [k for k, _, _ in Recording.log] == ["apply", "revert"]
    assert ex.summary()["still_active"] == []


def test_a_fault_that_fails_to_apply_is_an_error_and_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(tmp_path)
    monkeypatch.setattr(Recording, "fail_apply", True)
    a = _planned(ctx, "a", 0.0, 1.0)
    with FaultExecutor([a], ctx) as ex:
        ex.wait(timeout_s=5)
    assert len(ex.errors) == 1
    assert "the proxy said no" in str(ex.errors[0])
    assert len(ctx.events.of_kind(FaultEvent.APPLY_FAILED)) == 1
    assert ex.summary()["errors"]


class SlowApply(Recording):
    def apply(self) -> None:
        time.sleep(0.3)  # a planned failover: the outage begins while apply() still runs
        super().apply()


def test_a_fault_starts_when_its_apply_begins_and_records_how_long_it_took(
    tmp_path: Path,
) -> None:
    ctx = _ctx(tmp_path)
    Recording.log = []
    slow = Planned(SlowApply(_spec(at=0.1), "failover", ["app-1"], ctx), 0.1, None)
    with FaultExecutor([slow], ctx) as ex:
        assert ex.wait(timeout_s=5)
    applying, applied = (e for e in ctx.events.events
                         if e["kind"] in ("fault.applying", "fault.applied"))
    assert (applying["kind"], applied["kind"]) == ("fault.applying", "fault.applied")
    assert applied["took_ms"] >= 300
    (window,) = faults_from_events(ctx.events.events)
    assert window.start_s == applying["t_s"]
    assert window.apply_s == applied["took_ms"] / 1000
