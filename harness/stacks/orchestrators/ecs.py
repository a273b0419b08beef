"""ECS-like service scheduler: a task that stopped is replaced after the launch time.

The stopped task is deregistered from the target group at once (ECS does so
when the task stops), a replacement is started after `task_replacement_s`
(scaled), and it is registered again only once its own /ready answers, so the
load balancer never routes to a task that is still starting. A task that hangs
(alive but not answering) fails its container health check
(`container_health_check` interval x retries) and is stopped,
then replaced the same way.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time

import requests

from harness.errors import FaultError, StackError
from harness.stacks.orchestrators.base import Orchestrator, StackHandles
from harness.stacks.profile import EcsSettings

# a health check shorter than this fails on a busy 2-core machine for no reason
_MIN_CHECK_TIMEOUT_S = 0.5


class EcsService(Orchestrator):
    name = "ecs"

    def __init__(self, handles: StackHandles, settings: EcsSettings) -> None:
        super().__init__(handles)
        self.settings = settings
        self._failures: dict[str, int] = {}
        self._checker = threading.Thread(target=self._health_checks, name="ecs-health", daemon=True)

    def start(self) -> None:
        super().start()
        self._checker.start()

    def stop(self, timeout_s: float = 30) -> None:
        super().stop(timeout_s)
        if self._checker.is_alive():
            self._checker.join(timeout_s)

    def tick(self) -> None:
        for app in self.h.info.apps():
            if not self.busy(app) and not self.h.runtime.is_running(app):
                self.react(app, functools.partial(self._replace, app))

    def _health_checks(self) -> None:
        check = self.settings.container_health_check
        interval = self.h.scaled(check.interval_s)
        timeout = max(_MIN_CHECK_TIMEOUT_S, self.h.scaled(check.timeout_s))
        retries = check.retries.value
        while self.sleep(interval):
            for app in self.h.info.apps():
                if self.busy(app) or not self.h.runtime.is_running(app):
                    self._failures.pop(app, None)
                    continue
                url = f"http://127.0.0.1:{self.h.info.components[app].port}/health"
                try:
                    healthy = requests.get(url, timeout=timeout).status_code == 200
                except requests.RequestException:
                    healthy = False
                failures = 0 if healthy else self._failures.get(app, 0) + 1
                self._failures[app] = failures
                if failures >= retries and not self.stopping:
                    self._failures.pop(app, None)
                    self.emit("task_unhealthy", component=app, failed_checks=failures)
                    with contextlib.suppress(StackError):
                        self.h.runtime.kill(app)

    def _replace(self, app: str) -> None:
        stopped_at = time.monotonic()
        self.emit("task_stopped", component=app)
        with contextlib.suppress(FaultError):
            self.h.haproxy.set_server_state(app, "maint")
        self.emit("target_deregistered", component=app)
        if not self.sleep(self.h.scaled(self.settings.task_replacement_s)):
            return
        self.emit("task_launched", component=app)
        ready_s = self.h.runtime.restart(app)
        if self.stopping:
            return
        self.h.haproxy.set_server_state(app, "ready")
        self.emit(
            "task_in_service", component=app, ready_s=round(ready_s, 3),
            replaced_after_s=round(time.monotonic() - stopped_at, 3),
        )
