"""The watch over the harness's own parts (harness.stacks.parts_watch), on a fake runtime.

Deaths, held stops (the 1 s hold), silence (15 s without an answer and 3 misses in a
row) on an injected clock, and the event's wording as the verdict gives it.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest

from harness.analysis.parts import part_failures
from harness.model.components import HARNESS_PARTS, declare
from harness.model.profile_file import load_profile
from harness.records.events import FaultEvent, StackEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.stacks.parts_watch import (
    HOLD_S,
    MISSES,
    PROBE_TIMEOUT_S,
    SILENCE_S,
    PartsWatch,
    Silence,
    StopHold,
    http_answers,
    probe_urls,
)
from harness.stacks.topology import StackInfo


class _Runtime:
    def __init__(self, names: list[str]) -> None:
        self.alive = set(names)
        self.names = names
        self.stopped: dict[str, str] = {}

    def stop_state(self, name: str) -> str | None:
        return self.stopped.get(name)

    def components(self) -> list[str]:
        return list(self.names)

    def is_running(self, name: str) -> bool:
        return name in self.alive


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _watch(names: list[str], clock: _Clock | None = None, urls: dict[str, str] | None = None
           ) -> tuple[PartsWatch, _Runtime, EventLog]:
    parts = declare(load_profile("modern")).harness_parts()
    rt = _Runtime(names)
    events = EventLog(None)
    return PartsWatch(cast(Runtime, rt), parts, events, clock=clock, urls=urls), rt, events


def _stops(events: EventLog) -> list[dict[str, Any]]:
    return events.of_kind(StackEvent.PART_STOPPED)


def test_the_modern_stack_declares_four_harness_parts() -> None:
    parts = declare(load_profile("modern")).harness_parts()
    assert {p.name: HARNESS_PARTS[p.kind] for p in parts} == {
        "toxiproxy": "Toxiproxy", "aws": "LocalStack", "aws-fault": "the AWS fault point",
        "db-proxy": "the RDS Proxy stand-in",
    }


def test_a_part_that_stops_is_recorded_once_with_its_name() -> None:
    watch, rt, events = _watch(["toxiproxy", "aws", "aws-fault", "db-proxy", "app-1"])
    watch.check()
    assert _stops(events) == []
    rt.alive.discard("aws")
    rt.alive.discard("app-1")  # the architecture's: the orchestrators' business
    watch.check()
    watch.check()
    (stop,) = _stops(events)
    assert (stop["component"], stop["component_kind"], stop["part"]) == (
        "aws", "localstack", "LocalStack")
    assert stop["alive_s"] <= stop["t_s"]


def test_a_part_a_scenario_fault_stopped_is_not_recorded() -> None:
    watch, rt, events = _watch(["toxiproxy", "aws", "aws-fault", "db-proxy"])
    events.emit(FaultEvent.APPLYING, fault="kill-proxy", type="kill", target="db-proxy",
                targets=["db-proxy"])
    rt.alive.discard("db-proxy")
    watch.check()
    assert _stops(events) == []


def test_a_part_the_runtime_never_started_is_not_watched() -> None:
    watch, _rt, events = _watch(["toxiproxy", "aws"])  # a stack without its fault point
    watch.check()
    assert [p.name for p in watch.parts] == ["toxiproxy", "aws"]
    assert _stops(events) == []


ALL = ["toxiproxy", "aws", "aws-fault", "db-proxy"]


def test_a_stop_counts_only_once_it_held_for_a_second() -> None:
    hold = StopHold()
    assert hold.see(None, 0.0) is None
    assert hold.see("process stopped", 0.5) is None
    assert hold.see("process stopped", 0.5 + HOLD_S - 0.01) is None
    assert hold.see("process stopped", 0.5 + HOLD_S) == ("process stopped", 0.5)


def test_a_stop_that_ends_in_between_starts_the_hold_again() -> None:
    hold = StopHold()
    assert hold.see("process stopped", 1.0) is None
    assert hold.see(None, 1.5) is None  # a blink: continued again
    assert hold.see("process stopped", 2.0) is None
    assert hold.see("process stopped", 2.9) is None
    assert hold.see("process stopped", 3.0) == ("process stopped", 2.0)


def test_a_held_stop_is_one_event_with_the_hang_and_since() -> None:
    clock = _Clock()
    watch, rt, events = _watch(ALL, clock)
    clock.t = 2.75
    watch.check()  # last seen fine
    rt.stopped["aws"] = "process stopped"
    for t in (3.0, 3.25, 3.5, 3.75):
        clock.t = t
        watch.check()
    assert _stops(events) == []  # 0.75 s: not yet
    clock.t = 4.0
    watch.check()
    clock.t = 5.0
    watch.check()
    (stop,) = _stops(events)
    assert (stop["component"], stop["part"], stop["hang"]) == ("aws", "LocalStack",
                                                               "process stopped")
    assert (stop["alive_s"], stop["since_s"]) == (2.75, 3.0)


def test_a_held_stop_after_a_pause_fault_aimed_at_the_part_is_not_recorded() -> None:
    clock = _Clock()
    watch, rt, events = _watch(ALL, clock)
    events.emit(FaultEvent.APPLYING, fault="hang-aws", type="pause", target="aws",
                targets=["aws"])
    rt.stopped["aws"] = "process stopped"
    for t in (1.0, 2.0, 3.0):
        clock.t = t
        watch.check()
    assert _stops(events) == []


def test_silence_needs_15_s_without_an_answer_and_3_misses_in_a_row() -> None:
    quiet = Silence(0.0)
    quiet.answered(1.0, 1.2)
    # slow misses: 15 s pass with only two attempts (each waited out its timeout)
    quiet.missed(2.0)
    quiet.missed(9.0)
    assert quiet.hung(1.2 + SILENCE_S + 5) is None
    quiet.missed(16.0)
    assert quiet.failed == MISSES
    assert quiet.hung(1.2 + SILENCE_S - 0.1) is None
    assert quiet.hung(1.2 + SILENCE_S) == (1.0, 2.0)  # alive when sent at 1 s; silent from 2 s
    # fast misses (connection refused) but not yet 15 s: not hung
    fast = Silence(0.0)
    for t in range(10):
        fast.missed(float(t))
    assert fast.hung(10.0) is None
    # one answer in between starts the count again
    fast.answered(10.0, 10.5)
    fast.missed(11.0)
    fast.missed(12.0)
    assert fast.hung(40.0) is None


def test_a_silent_part_is_one_event_that_reads_as_stopped_answering() -> None:
    clock = _Clock()
    watch, _rt, events = _watch(ALL, clock, urls={"aws": "http://x/_localstack/health"})
    silence = watch.silence["aws"]
    silence.answered(2.0, 2.1)
    for sent in (3.0, 8.0, 13.0):
        silence.missed(sent)
    clock.t = 2.1 + SILENCE_S - 0.5
    watch.check()
    assert _stops(events) == []
    clock.t = 2.1 + SILENCE_S
    watch.check()
    watch.check()
    (stop,) = _stops(events)
    assert (stop["hang"], stop["alive_s"], stop["since_s"]) == ("no answer for 15 s", 2.0, 3.0)
    # as the verdict gives it: from when it began, not when it was judged a hang
    # t_s as the EventLog would have it on the clock the watch read
    (failure,) = part_failures([{**stop, "arch": "modern", "t_s": clock.t}], "modern")
    assert failure.reason == "LocalStack stopped answering (no answer for 15 s) at 3 s"
    assert failure.invalid_reason == ("not measurable after 1 s: LocalStack stopped "
                                      "answering (no answer for 15 s) at 3 s")


def test_a_held_stop_reads_as_stopped_answering_with_what_was_seen() -> None:
    clock = _Clock()
    watch, rt, events = _watch(ALL, clock)
    clock.t = 3.4
    watch.check()
    rt.stopped["aws"] = "process stopped"
    for t in (3.5, 4.0, 4.5):
        clock.t = t
        watch.check()
    (stop,) = _stops(events)
    # t_s as the EventLog would have it on the clock the watch read
    (failure,) = part_failures([{**stop, "arch": "modern", "t_s": clock.t}], "modern")
    assert failure.reason == "LocalStack stopped answering (process stopped) at 3 s"
    assert failure.measured_until_s == 2  # last seen fine at 3.4 s, less 1 s in flight


def test_a_part_without_a_probe_is_never_judged_silent() -> None:
    clock = _Clock()
    watch, _rt, events = _watch(ALL, clock, urls={"aws": "http://x/"})
    assert set(watch.silence) == {"aws"}
    clock.t = 100.0
    watch.check()  # aws never missed an attempt; the fault point has no probe at all
    assert _stops(events) == []


def test_the_probe_urls_are_each_parts_own_endpoint() -> None:
    parts = declare(load_profile("modern")).harness_parts()
    info = StackInfo(stack_id="s", arch="modern", workdir="/w", log_dir="/l",
                     lb_url="http://127.0.0.1:1", toxiproxy_api="http://127.0.0.1:2",
                     haproxy_socket="/s", aws_endpoint="http://127.0.0.1:3", queue_url="q",
                     bucket=None, db_writer_port=4, db_reader_port=None,
                     db_proxy_admin="http://127.0.0.1:5")
    assert probe_urls(info, parts) == {
        "toxiproxy": "http://127.0.0.1:2/version", "aws": "http://127.0.0.1:3/_localstack/health",
        "db-proxy": "http://127.0.0.1:5/stats"}


class _Answers500(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_500() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Answers500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_any_http_status_is_an_answer_and_a_closed_port_is_not(server_500: str) -> None:
    assert http_answers(server_500, 5.0)
    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind((LOOPBACK, 0))
        closed = sock.getsockname()[1]
    assert not http_answers(f"http://{LOOPBACK}:{closed}/", 5.0)


def test_the_threads_probe_each_url_and_stop_without_waiting_for_a_hung_probe() -> None:
    asked: list[tuple[str, float]] = []
    release = threading.Event()

    def hangs(url: str, timeout_s: float) -> bool:
        asked.append((url, timeout_s))
        release.wait(30)  # a part that never answers
        return False

    watch, _rt, events = _watch(ALL, urls={"aws": "http://x/_localstack/health"})
    watch.answers = hangs
    errors: list[Exception] = []
    watch.start(errors.append)
    try:
        deadline = time.monotonic() + 20
        while not asked and time.monotonic() < deadline:
            time.sleep(0.05)
        assert asked == [("http://x/_localstack/health", PROBE_TIMEOUT_S)]
        began = time.monotonic()
        watch.stop()
        assert time.monotonic() - began < 10
    finally:
        release.set()
    assert errors == []
    assert _stops(events) == []


def test_a_watch_that_fails_says_so_through_on_error() -> None:
    watch, rt, _events = _watch(ALL)

    def broken(name: str) -> bool:
        raise RuntimeError("runtime gone")

    rt.is_running = broken  # type: ignore[method-assign]
    errors: list[Exception] = []
    watch.start(errors.append)
    deadline = time.monotonic() + 20
    while not errors and time.monotonic() < deadline:
        time.sleep(0.05)
    watch.stop()
    assert [str(e) for e in errors] == ["runtime gone"]
