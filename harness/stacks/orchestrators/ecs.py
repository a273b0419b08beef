"""ECS-like service scheduler behind an ALB: replaces stopped and unhealthy tasks.

As ECS documents it, with every timing from the profile (scaled):

- a task whose process dies stays registered until ECS has noticed
  (`task_stopped_notice_s`); meanwhile the ALB keeps routing to it and clients
  get 502s. ECS then deregisters it (the deregistration delay lets in-flight
  requests finish; a dead task has none) and asks for a replacement;
- the service also stops tasks that fail their container health check
  (`container_health_check`, a GET of `app.liveness_path`) and tasks the ALB
  marks unhealthy, once
  `health_check_grace_s` has passed since the task started: deregistration
  (draining up to the delay), SIGTERM, replacement. So a deep health check
  failing on every task (a database outage) recycles every task, as the ASG
  does with ELB health checks;
- the replacement runs `task_replacement_s` after the request, registers with
  the target group and gets traffic only once the ALB's checks passed
  `initial_healthy_threshold` times (one: "After your target is registered, it
  must pass one health check to be considered healthy"). It registers once its
  process answers its liveness path (`await_boot`, at most `app.start_timeout_s`):
  the scaled checks would otherwise judge a slow process's boot, which AWS's
  unscaled ones outlast; its grace period counts from the registration.

One deviation: a replacement reuses its predecessor's slot (name and port), so it
cannot start before the old task has drained; with a dead task that is at once.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time

import requests

from harness.errors import FaultError, StackError
from harness.model.orchestrator import EcsSettings
from harness.records.events import OrchestratorEvent
from harness.stacks.components.targets import CHECK_FAILED
from harness.stacks.orchestrators.base import Orchestrator, StackHandles

# a health check shorter than this fails on a busy 2-core machine for no reason
_MIN_CHECK_TIMEOUT_S = 0.5


class EcsService(Orchestrator):
    name = "ecs"
    poll_s = 0.1

    def __init__(self, handles: StackHandles, settings: EcsSettings) -> None:
        super().__init__(handles)
        self.settings = settings
        self._failures: dict[str, int] = {}
        self._checker = threading.Thread(target=self._health_checks, name="ecs-health", daemon=True)
        #: task -> monotonic time it started (for the grace period and the ALB's verdict)
        self._started_at: dict[str, float] = {}
        #: replacement task -> monotonic time its predecessor failed, until it is in service
        self._awaiting: dict[str, float] = {}

    def start(self) -> None:
        now = time.monotonic()
        self._started_at = dict.fromkeys(self.h.info.apps(), now)
        super().start()
        self._checker.start()

    def stop(self, timeout_s: float = 30) -> None:
        super().stop(timeout_s)
        if self._checker.is_alive():
            self._checker.join(timeout_s)

    def adopt(self, name: str) -> None:
        """A scaled-out task: its grace period and the ALB's verdict count from now."""
        self._started_at[name] = time.monotonic()

    def tick(self) -> None:
        try:
            states = self.h.haproxy.server_states()
        except FaultError:
            states = {}
        now = time.monotonic()
        for app in self.h.info.apps():
            if self.busy(app):
                continue
            row = states.get(app, {})
            if not self.h.runtime.is_running(app):
                self.react(app, functools.partial(self._exited, app))
            elif self.alb_unhealthy(app, row, now):
                self.react(app, functools.partial(
                    self._stop_unhealthy, app, "alb_health_check", now
                ))
            elif app in self._awaiting and _in_service(row):
                failed_at = self._awaiting.pop(app)
                self.emit(
                    OrchestratorEvent.TASK_IN_SERVICE, component=app,
                    since_started_s=round(now - self._started_at.get(app, now), 3),
                    replaced_after_s=round(now - failed_at, 3),
                )

    def alb_unhealthy(self, app: str, row: dict[str, str], now: float) -> bool:
        """Has the ALB marked this task unhealthy, and is the service's grace period over?

        HAProxy shows a target that has not passed its healthy threshold yet as DOWN,
        like one that failed; AWS calls the first `initial` and only the second
        `unhealthy`. A target counts as unhealthy when its last check failed and it
        has been registered long enough to fail `unhealthy_threshold` checks.
        """
        if row.get("srv_op_state") != "0" or row.get("srv_admin_state") != "0":
            return False
        if row.get("srv_check_result") != CHECK_FAILED:
            return False
        hc = self.h.profile.load_balancer.health_check
        judged_after = max(
            self.h.scaled(self.settings.health_check_grace_s),
            hc.unhealthy_threshold.value * self.h.scaled(hc.interval_s),
        )
        return now - self._started_at.get(app, now) >= judged_after

    def _health_checks(self) -> None:
        check = self.settings.container_health_check
        interval = self.h.scaled(check.interval_s)
        timeout = max(_MIN_CHECK_TIMEOUT_S, self.h.scaled(check.timeout_s))
        retries = check.retries.value
        # the task definition's health check command runs the service's liveness check
        path = self.h.profile.app.liveness_path
        while self.sleep(interval):
            for app in self.h.info.apps():
                if self.busy(app) or not self.h.runtime.is_running(app):
                    self._failures.pop(app, None)
                    continue
                url = f"http://127.0.0.1:{self.h.info.components[app].port}{path}"
                try:
                    healthy = requests.get(url, timeout=timeout).status_code == 200
                except requests.RequestException:
                    healthy = False
                failures = 0 if healthy else self._failures.get(app, 0) + 1
                self._failures[app] = failures
                if failures >= retries and not self.stopping:
                    self._failures.pop(app, None)
                    self.react(app, functools.partial(
                        self._stop_unhealthy, app, "container_health_check", time.monotonic(),
                        failed_checks=failures,
                    ))

    def _exited(self, app: str) -> None:
        """The task's process died: ECS notices after a while, then replaces the task."""
        exited_at = time.monotonic()
        self.emit(OrchestratorEvent.TASK_EXITED, component=app)
        # until ECS has noticed, the task stays registered: the ALB keeps routing to it
        if not self.sleep(self.h.scaled(self.settings.task_stopped_notice_s)):
            return
        self.emit(OrchestratorEvent.TASK_STOPPED, component=app,
                  reason="essential container exited",
                  noticed_after_s=round(time.monotonic() - exited_at, 3))
        self._replace(app, exited_at)

    def _stop_unhealthy(self, app: str, by: str, failed_at: float, **fields: int) -> None:
        """ECS stops a task that failed a health check, then replaces it."""
        self.emit(OrchestratorEvent.TASK_UNHEALTHY, component=app, by=by, **fields)
        self._replace(app, failed_at)

    def _replace(self, app: str, failed_at: float) -> None:
        requested = time.monotonic()
        self.emit(OrchestratorEvent.TARGET_DRAINING, component=app)
        drained_s = self.h.targets.deregister(app, wait=self.sleep)
        self.emit(OrchestratorEvent.TARGET_DEREGISTERED,
                  component=app, drained_s=round(drained_s, 3))
        # SIGTERM, then SIGKILL after the task's stop timeout (a dead task: nothing to do)
        with contextlib.suppress(StackError):
            self.h.runtime.stop(app)
        remaining = self.h.scaled(self.settings.task_replacement_s) - (
            time.monotonic() - requested
        )
        if not self.sleep(max(0.0, remaining)) or self.stopping:
            return
        self.relaunch(app)
        # registered once its process answers: the scaled checks must not judge its boot
        boot = self.await_boot(app)
        if self.stopping:
            return
        self.h.targets.register(app)
        # the grace period and the ALB's verdict count from the registration
        self._started_at[app] = time.monotonic()
        # a replacement that fails too keeps the first failure as the start of the outage
        self._awaiting.setdefault(app, failed_at)
        self.emit(OrchestratorEvent.TASK_REGISTERED, component=app,
                  since_failed_s=round(time.monotonic() - failed_at, 3), **boot.fields())


def _in_service(row: dict[str, str]) -> bool:
    return row.get("srv_op_state") == "2" and row.get("srv_admin_state") == "0"
