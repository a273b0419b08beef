"""The rehearsal's live view: time left across architectures, what runs now, events."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from harness.live import RunView, clock_text, event_text, fault_states

ROW = {"second": 9, "phase": "peak", "offered": 60, "achieved": 58, "ok": 57, "http_5xx": 3,
       "p95": 4.66}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _view(clock: Clock, said: list[str]) -> RunView:
    return RunView(["legacy", "modern"], load_s=100, drain_s=5, lead_in_s=1.5, say=said.append,
                   live=False, title="blackfriday", clock=clock)


def test_total_counts_every_architecture_and_shrinks_as_time_passes() -> None:
    clock, said = Clock(), []
    view = _view(clock, said)
    view.arch("legacy")
    _elapsed, total, left = view.times()
    # two architectures of a 12 s start guess + 1.5 s lead-in + 100 s load + 5 s drain + 3 s end
    assert total == 2 * (12 + 1.5 + 100 + 5 + 3)
    clock.now += 13.5
    view.stage("load", load_t0=clock.now)
    clock.now += 40
    elapsed, total, left = view.times()
    assert elapsed == 53.5
    assert left == 60 + 5 + 3 + (12 + 1.5 + 100 + 5 + 3)


def test_the_second_architecture_is_estimated_from_what_the_first_took() -> None:
    clock, said = Clock(), []
    view = _view(clock, said)
    view.arch("legacy")
    clock.now += 20
    view.stage("load", load_t0=clock.now)
    clock.now += 110
    view.finish_arch()  # legacy took 130 s in all
    view.arch("modern")
    _elapsed, total, _left = view.times()
    assert total == 130 + 20 + 100 + 5 + 3  # start measured at 20 s


def test_the_status_says_architecture_k_of_n_phase_load_and_faults() -> None:
    clock, said = Clock(), []
    view = _view(clock, said)
    view.arch("legacy")
    view.finish_arch()
    view.arch("modern")
    view.stage("load", load_t0=clock.now)
    clock.now += 41
    view.second(ROW)
    view.watch_faults(lambda: fault_states(_planned(), 41.0))
    line = view.plain_line()
    assert "modern (2 of 2), load, phase peak, 0:41 of 1:40" in line
    assert "offered 60/s  achieved 58/s  p95 4.7 ms  errors 3 (5.0%)" in line
    assert "kill-app on app-1, 0:12 left" in line
    assert "next: db-failover on db-writer in 0:19" in line
    assert re.search(r"total ~\d+:\d\d, ~\d+:\d\d left", line)


def test_plain_output_is_ascii_without_control_characters() -> None:
    clock, said = Clock(), []
    view = _view(clock, said)
    view.arch("modern")
    view.stage("load", load_t0=clock.now)
    view.second(ROW)
    view.event({"kind": "orchestrator.reader_promoted", "orchestrator": "aurora",
                "component": "db-reader", "t_s": 12.25})
    for text in [view.plain_line(), *said]:
        assert text.isascii()
        assert not re.search(r"[\x00-\x1f\x7f]", text)
    assert said == ["modern: +12.2s  Aurora: promoted db-reader to writer"]


def test_orchestrator_and_fault_events_read_as_sentences() -> None:
    assert event_text({"kind": "orchestrator.task_in_service", "orchestrator": "ecs",
                       "component": "app-1", "replaced_after_s": 3.14}) == (
        "ECS: app-1 back in service, replaced in 3.1 s")
    # a field the phrase wants is missing: the event still shows, plainly
    assert event_text({"kind": "orchestrator.task_in_service", "orchestrator": "ecs",
                       "component": "app-1"}) == "ECS: task in service app-1"
    assert event_text({"kind": "fault.applied", "fault": "kill-app", "type": "kill",
                       "targets": ["app-1"]}) == "fault kill-app (kill) applied on app-1"
    assert event_text({"kind": "fault.summary"}) is None
    assert event_text({"kind": "scaling.capacity", "desired": 3}) is None


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0, 41.4, 362, 3723)] == ["0:00", "0:41", "6:02", "1:02:03"]


def _planned() -> list[Any]:
    def p(name: str, target: str, start: float, end: float | None, applied: bool) -> Any:
        return SimpleNamespace(name=name, fault=SimpleNamespace(targets=[target]), start_s=start,
                               end_s=end, applied=applied, reverted=False)

    return [p("kill-app", "app-1", 30, 53, True), p("db-failover", "db-writer", 60, None, False),
            p("later", "app-2", 90, None, False)]
