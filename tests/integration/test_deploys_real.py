"""Deploys on the real stacks: modern's blue/green shift and alarm rollback, legacy's reloads.

Time scale 0.05: the green task set starts in 1.5 s, passes the ALB's 5 checks in
~7.5 s, the canary holds 15 s; a 60 s alarm period is 3 s (5 of 5 plus 3 s of
publication delay: the target-5xx alarm sees a steady error rate after ~18 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from harness.faults.base import FaultContext, build
from harness.model.profile_file import load_profile
from harness.records.events import DeployEvent, Source
from harness.records.samples import METRICS_FILE, MetricsLog
from harness.runtime.events import EventLog
from harness.scenario.faults import parse_timeline
from harness.stacks.collector import Collector
from harness.stacks.stack import Stack
from tests.integration.conftest import running_stack

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

TIME_SCALE = 0.05
#: requests a second from the test's client (light: the machine is shared)
RATE = 25


@dataclass
class Answer:
    at_s: float
    status: int
    served_by: str
    version: str


@dataclass
class Load:
    """A steady stream of GET /products through the load balancer, every answer kept."""

    url: str
    events: EventLog
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _one(self, session: requests.Session) -> None:
        at = self.events.elapsed()
        try:
            r = session.get(f"{self.url}/products", timeout=5)
            self.answers.append(Answer(at, r.status_code, r.headers.get("X-Served-By", ""),
                                       r.headers.get("X-App-Version", "")))
        except requests.RequestException:
            self.answers.append(Answer(at, 0, "", ""))

    def _loop(self, offset: float) -> None:
        session = requests.Session()
        n = 0
        start = time.monotonic() + offset
        while not self._stop.is_set():
            n += 1
            time.sleep(max(0.0, start + n * 4 / RATE - time.monotonic()))
            self._one(session)

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [threading.Thread(target=self._loop, args=(i / RATE,), daemon=True)
                   for i in range(4)]
        for t in threads:
            t.start()
        try:
            yield self
        finally:
            self._stop.set()
            for t in threads:
                t.join(10)

    def between(self, lo: float, hi: float) -> list[Answer]:
        return [a for a in self.answers if lo <= a.at_s < hi]


def _deploy(stack: Stack, events: EventLog, **params: object) -> None:
    spec = parse_timeline([{"type": "deploy", "at": "0s", **params}], source="test")[0]
    assert stack.runtime is not None
    ctx = FaultContext(stack.info, stack.runtime, events, stack=stack)
    fault = build(spec, "release", ctx)
    fault.apply()
    return None


def _wait_for(events: EventLog, kind: DeployEvent, timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = events.of_kind(kind)
        if found:
            return found[0]
        time.sleep(0.1)
    kinds = [e["kind"] for e in events.events if str(e["kind"]).startswith(Source.DEPLOY)]
    raise AssertionError(f"no {kind} within {timeout_s} s; deploy events: {kinds}")


def test_blue_green_canary_shifts_then_the_target_5xx_alarm_rolls_it_back(short_tmp: Path
                                                                          ) -> None:
    alarms = [a for a in load_profile("modern").alarm_definitions(TIME_SCALE)
              if a.name == "alb-target-5xx"]
    with running_stack("modern", short_tmp / "state", time_scale=TIME_SCALE) as stack:
        events = EventLog(None)
        load = Load(stack.info.lb_url, events)
        with Collector(stack, MetricsLog(short_tmp / METRICS_FILE, "modern"), events, alarms), \
                load.running():
            time.sleep(2)
            _deploy(stack, events, version="bad-errors", error_percent=50,
                    config="Canary10Percent5Minutes", rollback_alarm="alb-target-5xx")
            canary = _wait_for(events, DeployEvent.SHIFT, 30)
            done = _wait_for(events, DeployEvent.DONE, 60)
            time.sleep(2)
        assert stack.runtime is not None
        green_running = [g for g in ("green-1", "green-2", "green-3")
                         if stack.runtime.is_running(g)]

    assert canary["percent"] == 10
    # green tasks are new targets: one passing check each (ELB Application guide), not 5
    hc = load_profile("modern").load_balancer.health_check
    started = events.of_kind(DeployEvent.GREEN_STARTED)[0]
    healthy = events.of_kind(DeployEvent.GREEN_HEALTHY)[0]
    assert float(healthy["t_s"]) - float(started["t_s"]) < (
        (hc.initial_healthy_threshold.value + 1) * hc.interval_s.at(TIME_SCALE) + 0.5)
    rollback = events.of_kind(DeployEvent.ROLLBACK)[0]
    assert rollback["alarm"] == "alb-target-5xx"
    assert done["outcome"] == "rolled_back"
    assert green_running == []
    alarm_at = float(rollback["alarm_at_s"])
    # the alarm went to ALARM on the canary's errors, and the rollback followed at once
    assert float(canary["t_s"]) < alarm_at <= float(rollback["t_s"]) < alarm_at + 1
    shifted = load.between(float(canary["t_s"]) + 1, float(rollback["t_s"]))
    on_green = [a for a in shifted if a.served_by.startswith("green-")]
    assert on_green
    assert all(a.version == "bad-errors" for a in on_green)
    assert any(a.status == 500 for a in on_green)
    before = load.between(0, float(canary["t_s"]))
    assert before
    assert all(a.status == 200 and a.served_by.startswith("app-") for a in before)
    after = load.between(float(done["t_s"]) + 0.5, float("inf"))
    assert after
    assert all(a.status == 200 and a.served_by.startswith("app-") for a in after)


def test_legacy_rolling_deploy_reloads_in_place_cutting_only_requests_in_flight(
        short_tmp: Path) -> None:
    """A release that answers slowly is deployed first; the hotfix then reloads php-fpm
    with slow requests in flight on each instance, still registered with the CLB.

    Measured (php-fpm 8.2, process_control_timeout 0): requests in flight at the reload
    are cut (nginx: connection reset by peer, 502); requests arriving during it wait in
    the socket's backlog and are served.
    """
    slow_s = 0.8
    with running_stack("legacy", short_tmp / "state", time_scale=TIME_SCALE) as stack:
        first = EventLog(None)
        _deploy(stack, first, version="bad-latency", latency_ms=int(slow_s * 1000))
        assert _wait_for(first, DeployEvent.DONE, 40)["outcome"] == "succeeded"
        events = EventLog(None)
        load = Load(stack.info.lb_url, events)
        with load.running():
            time.sleep(2)
            _deploy(stack, events, version="good")
            done = _wait_for(events, DeployEvent.DONE, 40)
            time.sleep(2)

    updated = events.of_kind(DeployEvent.INSTANCE_UPDATED)
    reloads = [float(e["t_s"]) for e in events.of_kind(DeployEvent.INSTANCE_RELOADING)]
    assert done["outcome"] == "succeeded"
    # one by one: the second instance reloads after the first answered as the release
    assert [e["component"] for e in updated] == ["app-1", "app-2"]
    assert reloads[1] > float(updated[0]["t_s"])
    after = load.between(float(done["t_s"]) + 0.5, float("inf"))
    assert after
    assert all(a.version == "good" and a.status == 200 for a in after)
    failed = [a for a in load.answers if a.status != 200]
    assert failed, "no request in flight was cut by the reloads"
    assert {a.status for a in failed} == {502}
    # every failure was a request sent before a reload and still running at it
    for a in failed:
        assert any(r - slow_s - 0.5 <= a.at_s <= r + 0.05 for r in reloads), a
    print(f"legacy rolling deploy: {len(failed)} of {len(load.answers)} requests failed, "
          f"reloads took {[e['reload_s'] for e in updated]} s")
