"""Modern: ECS blue/green through CodeDeploy, traffic shifted by the ALB's weights.

As CodeDeploy runs an ECS deployment (CodeDeploy User Guide, "What happens during an
Amazon ECS deployment"), with every timing a profile setting (scaled):

1. the green (replacement) task set starts: one new task per blue task, each a new
   process on its own port running the release, `deploy.green_start_s` after the
   deploy began;
2. its tasks join the load balancer as extra targets with weight 0 (the replacement
   target group) and must pass the ALB's health check `initial_healthy_threshold`
   times (one: a newly registered target), `healthy_threshold` if they failed first;
3. traffic shifts by weights per the configuration (harness.deploys.schedule):
   all at once, canary 10 % then 100 % after `canary_interval_s`, or +10 % every
   `linear_interval_s`;
4. blue keeps running for `termination_wait_s`, then leaves the load balancer.

If the rollback alarm is in ALARM at any point until then, CodeDeploy rolls back:
all traffic back to blue at once, green removed and stopped. A green task set that
never becomes healthy fails the deploy the same way.

Deviations, said here so nobody reads more into the figures: green targets are
reached directly, not through a fault-proxy edge, and have no fail-open copy; the
emulated ECS service (harness.stacks.orchestrators.ecs) keeps managing the blue
slots only, so terminated blue tasks leave the load balancer but their idle
processes run until the stack stops (they get no request).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Any

from harness.deploys.base import POLL_S, DeployRun, release_env
from harness.deploys.schedule import AlarmWatch, shift_steps, weights
from harness.errors import FaultError, StackError
from harness.model.deploy import CodeDeployEcs
from harness.model.profile import Profile
from harness.records.events import DeployEvent, StackEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.wait import HttpOk
from harness.scenario.faults import Deploy
from harness.stacks.components.haproxy import HaproxyAdmin, TargetGroupSettings
from harness.stacks.components.targets import passed_first_checks

_BACKEND = "app"
#: margin over the healthy threshold's own time before green counts as never healthy
_HEALTH_MARGIN_S = 10.0


class BlueGreenDeploy(DeployRun):
    strategy = "codedeploy_blue_green"

    def __init__(self, spec: Deploy, name: str, *, settings: CodeDeployEcs, profile: Profile,
                 runtime: Runtime, admin: HaproxyAdmin, blue: list[str],
                 events: EventLog, time_scale: float) -> None:
        super().__init__(spec, name, events=events, time_scale=time_scale)
        self.settings = settings
        self.profile = profile
        self.runtime = runtime
        self.admin = admin
        self.blue = blue
        self.green = [f"green-{i}" for i in range(1, len(blue) + 1)]
        self._added: list[str] = []
        self.percent = 0
        self.watch = AlarmWatch(spec.rollback_alarm) if spec.rollback_alarm else None

    def describe(self) -> dict[str, Any]:
        return {"config": self.spec.config, "rollback_alarm": self.spec.rollback_alarm,
                "blue": self.blue, "green": self.green}

    # -- the deploy ----------------------------------------------------------------------

    def run(self) -> None:
        started = time.monotonic()
        if not self._wait_watching(self.scaled(self.settings.green_start_s)):
            return self._end_early()
        # the green tasks' ports stay reserved until they answer (PortAllocator)
        with PortAllocator() as ports:
            self._start_green(ports)
            healthy = self._green_healthy()
        if not healthy:
            return self._end_early()
        steps = shift_steps(
            self.spec.config,
            canary_interval_s=self.scaled(self.settings.canary_interval_s),
            linear_interval_s=self.scaled(self.settings.linear_interval_s),
        )
        shifting = time.monotonic()
        for step in steps:
            if not self._wait_watching(shifting + step.at_s - time.monotonic()):
                return self._end_early()
            self._shift(step.percent)
        self.emit(DeployEvent.TRAFFIC_SHIFTED, took_s=round(time.monotonic() - started, 3))
        if not self._wait_watching(self.scaled(self.settings.termination_wait_s)):
            return self._end_early()
        for app in self.blue:
            self.admin.set_server_state(app, "maint")
        self.outcome = "succeeded"
        self.emit(DeployEvent.BLUE_TERMINATED, components=self.blue)
        self.emit(DeployEvent.DONE,
                  outcome="succeeded", took_s=round(time.monotonic() - started, 3))

    def _end_early(self) -> None:
        """The alarm tripped (roll back) or the run ended (leave it where it stands)."""
        if self.watch is not None and self.watch.tripped_at_s is not None:
            self.rollback(f"alarm {self.watch.alarm} in ALARM", self.watch.tripped_at_s)

    def _wait_watching(self, seconds: float) -> bool:
        """Wait, watching the rollback alarm; False when it tripped or the run ended."""
        deadline = time.monotonic() + seconds
        while True:
            if self.watch is not None and self.watch.feed(
                    self.events.of_kind(StackEvent.ALARM_STATE_CHANGE)):
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if not self.sleep(min(POLL_S, left)):
                return False

    def _start_green(self, ports: PortAllocator) -> None:
        hc = self.profile.load_balancer.health_check
        check = (f"check inter {_ms(hc.interval_s.at(self.time_scale))} "
                 f"fall {hc.unhealthy_threshold.value} rise {hc.healthy_threshold.value}")
        for blue, green in zip(self.blue, self.green, strict=True):
            spec = self.runtime.spec(blue)
            if spec is None:
                raise FaultError(f"{blue} was never started; no task definition to deploy from")
            port = ports.take()
            procs = tuple(dataclasses.replace(p, env={
                **p.env, **release_env(self.spec), "APP_NAME": green,
                "APP_LISTEN": f"{LOOPBACK}:{port}"}) for p in spec.processes)
            self.runtime.launch(dataclasses.replace(
                spec, name=green, processes=procs,
                ready=HttpOk(f"http://{LOOPBACK}:{port}{self.profile.app.health_path}")))
            # the replacement target group: weight 0 until traffic shifts, and DOWN until
            # the ALB's checks pass, as a new target is (harness.stacks.components.
            # targets.TargetGroup.register; `_green_healthy` admits it)
            server = f"{_BACKEND}/{green}"
            self.admin.command(f"add server {server} {LOOPBACK}:{port} weight 0 {check}")
            self._added.append(green)
            self.admin.command(f"enable health {server}")
            self.admin.command(f"set server {server} state drain; set server {server} health "
                               f"down; set server {server} state ready")
        self.emit(DeployEvent.GREEN_STARTED, components=self.green)

    def _green_healthy(self) -> bool:
        hc = self.profile.load_balancer.health_check
        started = time.monotonic()
        # a green task that failed its first checks needs the full healthy threshold
        limit = (hc.healthy_threshold.value + 1) * hc.interval_s.at(self.time_scale)
        deadline = started + limit + _HEALTH_MARGIN_S
        group = TargetGroupSettings.of(self.profile, self.time_scale)
        while not self._admitted(group, started):
            if time.monotonic() > deadline:
                self.rollback("the green task set did not pass the ALB's health checks", None)
                return False
            if not self._wait_watching(POLL_S):
                return False
        self.emit(DeployEvent.GREEN_HEALTHY, components=self.green)
        return True

    def _admitted(self, group: TargetGroupSettings, started: float) -> bool:
        """Is every green task in service? Admits those past their initial checks."""
        states = self.admin.server_states(_BACKEND)
        early = (group.initial_checks is not None
                 and time.monotonic() - started <= group.initial_window_s)
        up = 0
        for green in self.green:
            row = states.get(green, {})
            if early and group.initial_checks and passed_first_checks(row, group.initial_checks):
                self.admin.admit(green, _BACKEND)
                row = {**row, "srv_op_state": "2"}
            up += row.get("srv_op_state") == "2" and row.get("srv_admin_state") == "0"
        return up == len(self.green)

    def _shift(self, percent: int) -> None:
        blue_w, green_w = weights(percent, len(self.blue), len(self.green))
        commands = [f"set server {_BACKEND}/{a} weight {blue_w}" for a in self.blue]
        commands += [f"set server {_BACKEND}/{g} weight {green_w}" for g in self.green]
        self.admin.command("; ".join(commands))
        self.percent = percent
        self.emit(DeployEvent.SHIFT, percent=percent, blue_weight=blue_w, green_weight=green_w)

    def rollback(self, reason: str, alarm_at_s: float | None) -> None:
        """All traffic back on blue at once, green out of the LB and stopped."""
        began = self.events.elapsed()
        self.emit(DeployEvent.ROLLBACK, reason=reason,
                  alarm=self.watch.alarm if self.watch else None, alarm_at_s=alarm_at_s,
                  percent_on_green=self.percent)
        with contextlib.suppress(FaultError):
            self.admin.command("; ".join(f"set server {_BACKEND}/{a} weight 1"
                                         for a in self.blue))
        self.percent = 0
        self._remove_green()
        self.outcome = "rolled_back"
        self.emit(DeployEvent.DONE,
                  outcome="rolled_back", rollback_s=round(self.events.elapsed() - began, 3))

    def _remove_green(self) -> None:
        for green in self._added:
            server = f"{_BACKEND}/{green}"
            with contextlib.suppress(FaultError):
                self.admin.command(f"set server {server} state maint; "
                                   f"shutdown sessions server {server}; del server {server}")
        for green in self.green:
            with contextlib.suppress(StackError):
                self.runtime.stop(green)
        self._added = []


def _ms(seconds: float) -> str:
    # HAProxy refuses check intervals it cannot keep (as haproxy.config does)
    return f"{max(100, int(seconds * 1000))}ms"
