"""On a real modern stack, a scheduled scale-out adds a task that serves behind the ALB,
and a scheduled scale-in drains and stops it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from harness.model.scaling import ScheduledAction
from harness.records.events import OrchestratorEvent
from harness.records.samples import METRICS_FILE, MetricsLog, read_samples
from harness.stacks.collector import Collector
from tests.integration.conftest import running_stack

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

#: task start 30 s -> 1.5 s, the one ALB check a new target needs 30 s -> 1.5 s
TIME_SCALE = 0.05


def _kinds(events: list[dict[str, object]], component: str) -> list[str]:
    return [str(e["kind"]) for e in events
            if str(e["kind"]).startswith("orchestrator.scaling.")
            and e.get("component") == component]


def test_scheduled_scale_out_adds_a_serving_task_and_scale_in_removes_it(
        short_tmp: Path) -> None:
    log = MetricsLog(short_tmp / METRICS_FILE, "modern")
    with running_stack("modern", short_tmp / "state", time_scale=TIME_SCALE) as stack:
        group = stack.scaling
        assert group is not None
        assert group.counts() == (3, 0, 3)
        events = stack.events
        group.schedule([ScheduledAction(at_s=events.elapsed() + 1, min_capacity=4),
                        ScheduledAction(at_s=events.elapsed() + 60, max_capacity=3)])
        with Collector(stack, log, events, []):
            url = stack.info.lb_url
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and ("app-4" not in {
                    s.member for s in log.snapshot() if s.metric == "RequestCount"}
                    or group.counts()[2] < 4):
                requests.get(f"{url}/products", timeout=5)
                time.sleep(0.05)
            served = {s.member for s in log.snapshot() if s.metric == "RequestCount"}
            in_service = group.counts()
            # the scale-in: the maximum back to 3 terminates the newest task
            group.schedule([ScheduledAction(at_s=events.elapsed(), max_capacity=3)])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "app-4" in stack.info.apps():
                time.sleep(0.2)
            time.sleep(0.5)
            after = group.counts()
            assert stack.runtime is not None
            still_running = stack.runtime.is_running("app-4")

    assert "app-4" in served, f"no request reached app-4; targets seen: {sorted(served)}"
    assert in_service == (4, 0, 4)
    assert _kinds(events.events, "app-4") == [
        OrchestratorEvent.SCALING_LAUNCHING, OrchestratorEvent.SCALING_REGISTERED,
        OrchestratorEvent.SCALING_IN_SERVICE, OrchestratorEvent.SCALING_TERMINATING,
        OrchestratorEvent.SCALING_TERMINATED,
    ]
    changes = [(e["old"], e["new"])
               for e in events.of_kind(OrchestratorEvent.SCALING_DESIRED_CHANGED)]
    assert changes == [(3, 4), (4, 3)]
    assert after == (3, 0, 3)
    assert not still_running
    desired = [s.value for s in read_samples(short_tmp / METRICS_FILE)["modern"]
               if s.metric == "DesiredTaskCount"]
    assert 4.0 in desired
