"""On a real modern stack, a killed task shows in the recorded metrics and fires the alarm."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from harness.model.profile_file import load_profile
from harness.records.events import StackEvent
from harness.records.samples import METRICS_FILE, MetricsLog, read_samples
from harness.runtime.events import EventLog
from harness.stacks.collector import Collector
from tests.integration.conftest import running_stack

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

#: the ECS task replacement (30 s) takes 1.5 s; periods of 60 s are 3 s
TIME_SCALE = 0.05


def test_a_killed_task_is_recorded_and_alarms(short_tmp: Path) -> None:
    alarms = {a.name: a for a in load_profile("modern").alarm_definitions(TIME_SCALE)}
    tasks_low = alarms["ecs-running-tasks-low"]
    log = MetricsLog(short_tmp / METRICS_FILE, "modern")
    with running_stack("modern", short_tmp / "state", time_scale=TIME_SCALE) as stack:
        events = EventLog(None)  # the clock starts with the stack up, as a run's load does
        with Collector(stack, log, events, [tasks_low]):
            url = stack.info.lb_url
            # some traffic so that the LB has requests to count, then the kill
            for _ in range(20):
                requests.get(f"{url}/products", timeout=5)
            time.sleep(2 * tasks_low.period_s)
            assert stack.runtime is not None
            killed_at = events.elapsed()
            stack.runtime.kill("app-1")
            deadline = time.monotonic() + 3 * tasks_low.lag_s
            while time.monotonic() < deadline and not any(
                    e["new"] == "ALARM" and e["at_s"] > killed_at
                    for e in events.of_kind(StackEvent.ALARM_STATE_CHANGE)):
                requests.get(f"{url}/products", timeout=5)
                time.sleep(0.2)

    recorded = read_samples(short_tmp / METRICS_FILE)["modern"]
    running = [s for s in recorded if s.metric == "RunningTaskCount"]
    assert min(s.value or 0 for s in running if s.t_s > killed_at) < 3
    requests_per_target = {s.member for s in recorded if s.metric == "RequestCount"}
    assert requests_per_target >= {"app-2", "app-3"}
    assert any(s.metric == "CPUUtilization" for s in recorded)
    assert any(s.metric == "TargetResponseTime" and s.values for s in recorded)
    changes = events.of_kind(StackEvent.ALARM_STATE_CHANGE)
    # before the kill: every task running, the alarm OK
    assert [e["new"] for e in changes if e["at_s"] <= killed_at] == ["OK"]
    fired = [e for e in changes if e["new"] == "ALARM"]
    assert fired, f"no alarm fired; changes: {changes}"
    # it fired on data from after the kill, no sooner than the data could be published
    assert fired[0]["at_s"] >= killed_at + tasks_low.delay_s
