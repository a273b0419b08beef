"""A team's slow-starting service, killed mid-run, is replaced and stays in service.

The team's app (a tiny Python server written here) sleeps ~4 s on every start before it
listens, as a Python service at a small CPU share does. At time scale 0.05 the ALB judges
a target unhealthy after 2 x 1.5 s: registered at its launch, the replacement would be
replaced again before it ever answered, over and over, where AWS's 2 x 30 s outlast its
start. ECS registers it once it answers its liveness path (Orchestrator.await_boot): it
reaches service and stays UP past the unhealthy window.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import running_stack

from harness.records.events import OrchestratorEvent
from harness.stacks.components.haproxy import HaproxyAdmin
from harness.stacks.stack import Stack
from tests.support.team_profile import team_profile

# alone: a start time and an unhealthy window must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

#: the payments example's time scale: the ALB's 30 s interval is 1.5 s
TIME_SCALE = 0.05
#: seconds the team's app sleeps on every start before it listens
BOOT_S = 4.0

SERVER = f'''
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

time.sleep({BOOT_S})  # a slow start: imports, configuration, a warm-up

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''


def _poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.1)


def _after(stack: Stack, kind: OrchestratorEvent, t_s: float) -> list[dict[str, Any]]:
    return [e for e in stack.events.of_kind(kind)
            if e["t_s"] >= t_s and e.get("component") == "app-1"]


def _up(stack: Stack, app: str) -> bool:
    """Is the target registered and UP at the load balancer (in service)?"""
    row = HaproxyAdmin(stack.info.haproxy_socket).server_states().get(app, {})
    return row.get("srv_op_state") == "2" and row.get("srv_admin_state") == "0"


def test_a_slow_starting_replacement_reaches_service_and_stays_up(
    tmp_path: Path, short_tmp: Path,
) -> None:
    (tmp_path / "server.py").write_text(SERVER)
    profile = team_profile(tmp_path, {
        "command": [sys.executable, str(tmp_path / "server.py"), "{port}"]})
    hc = profile.load_balancer.health_check
    unhealthy_window_s = hc.unhealthy_threshold.value * hc.interval_s.at(TIME_SCALE)
    # the case this test is about: the app's start outlasts the scaled unhealthy window
    assert unhealthy_window_s < BOOT_S
    with running_stack("modern", short_tmp, time_scale=TIME_SCALE, profile=profile,
                       products=5, events=1) as stack:
        assert stack.runtime is not None
        _poll(lambda: all(_up(stack, a) for a in stack.info.apps()), 60,
              "every task in service before the kill")
        killed_at = stack.events.elapsed()
        stack.runtime.kill("app-1")
        # the replacement answers ~4 s after its launch, then passes the ALB's one check
        _poll(lambda: bool(_after(stack, OrchestratorEvent.TASK_IN_SERVICE, killed_at)), 90,
              "the replacement of app-1 in service")
        in_service_at = stack.events.elapsed()
        # ... and stays there well past the window that would have judged its boot
        watch_s = 3 * unhealthy_window_s + 2
        down: list[float] = []
        while stack.events.elapsed() < in_service_at + watch_s:
            if not _up(stack, "app-1"):
                down.append(round(stack.events.elapsed() - in_service_at, 2))
            time.sleep(0.2)
        assert down == [], f"app-1 left service {down} s after it was in service"
        registered = _after(stack, OrchestratorEvent.TASK_REGISTERED, killed_at)
        unhealthy = _after(stack, OrchestratorEvent.TASK_UNHEALTHY, killed_at)
    # one replacement, registered once it answered, never judged unhealthy
    assert len(registered) == 1, registered
    assert registered[0]["boot"] == "answered", registered
    assert registered[0]["boot_s"] >= BOOT_S * 0.9, registered
    assert unhealthy == [], unhealthy
    print(f"\nreplacement of app-1: booted in {registered[0]['boot_s']:.1f} s, in service "
          f"{in_service_at - killed_at:.1f} s after the kill, up for the {watch_s:.1f} s after")
