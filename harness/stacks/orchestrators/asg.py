"""EC2 Auto Scaling group behind a Classic LB: health-check-based instance replacement.

The CLB's own health checks (HAProxy's, with the profile's interval and
thresholds) take a failing instance out of service. With `health_check_type:
ELB` the ASG then terminates it and launches a replacement; with `EC2` (the AWS
default) it replaces only an instance that is gone (its process died), and leaves
one that merely fails the CLB's checks alone. Either way a gone instance is noticed
only when its EC2 status check fails (`status_check_notice_s`: checks run every
minute); until then the CLB keeps routing to it. A replacement takes `launch_s`
(scaled) and is not judged before `health_check_grace_s` has passed.

Termination waits for the CLB's connection draining (EC2 Auto Scaling guide,
"Elastic Load Balancing health checks / connection draining": the ASG waits for
in-flight requests to complete, or for the timeout, before terminating): the
instance is deregistered, drains up to `deregistration_delay_s`, then stops. The
replacement registers with the CLB once its process answers its liveness path
(`await_boot`, at most `app.start_timeout_s`: the scaled checks must not judge a
slow process's boot) and is back in service when the CLB's checks pass
`initial_healthy_threshold` times (the CLB's healthy threshold), as on AWS.
"""

from __future__ import annotations

import contextlib
import functools
import time

from harness.errors import FaultError, StackError
from harness.model.orchestrator import AsgSettings
from harness.records.events import OrchestratorEvent
from harness.stacks.orchestrators.base import Orchestrator, StackHandles


class AsgGroup(Orchestrator):
    name = "asg"
    poll_s = 0.2

    def __init__(self, handles: StackHandles, settings: AsgSettings) -> None:
        super().__init__(handles)
        self.settings = settings
        #: instance -> monotonic time before which its health is not judged (grace period)
        self._grace_until: dict[str, float] = {}
        self._out_of_service: set[str] = set()
        #: instance -> monotonic time it was first seen gone (its status check fails later)
        self._gone_since: dict[str, float] = {}

    def tick(self) -> None:
        try:
            states = self.h.haproxy.server_states()
        except FaultError:
            return
        now = time.monotonic()
        elb_checks = self.settings.health_check_type.value == "ELB"
        for app in self.h.info.apps():
            if self.busy(app):
                continue
            row = states.get(app, {})
            down = row.get("srv_op_state") == "0" and row.get("srv_admin_state") == "0"
            if down and app not in self._out_of_service:
                self._out_of_service.add(app)
                self.emit(OrchestratorEvent.INSTANCE_OUT_OF_SERVICE,
                          component=app, by="clb_health_check")
            elif not down and app in self._out_of_service:
                self._out_of_service.discard(app)
                self.emit(OrchestratorEvent.INSTANCE_IN_SERVICE, component=app)
            if self.h.runtime.is_running(app):
                self._gone_since.pop(app, None)
                status_failed = False
            else:
                # EC2 checks every minute: the ASG learns of a dead instance at its next check
                gone_s = now - self._gone_since.setdefault(app, now)
                status_failed = gone_s >= self.h.scaled(self.settings.status_check_notice_s)
            reason = ("EC2 status check failed" if status_failed
                      else "ELB health check failed" if elb_checks and down else None)
            if reason and now >= self._grace_until.get(app, 0.0):
                self.react(app, functools.partial(self._replace, app, reason))

    def adopt(self, name: str) -> None:
        """A scaled-out instance: judged only after the grace period, as a replacement is."""
        self._grace_until[name] = time.monotonic() + self._grace_s()

    def _grace_s(self) -> float:
        hc = self.h.profile.load_balancer.health_check
        settle = (hc.admission_s(self.h.time_scale)
                  + hc.unhealthy_threshold.value * self.h.scaled(hc.interval_s))
        return max(self.h.scaled(self.settings.health_check_grace_s), settle)

    def _replace(self, app: str, reason: str) -> None:
        started = time.monotonic()
        self._gone_since.pop(app, None)
        self.emit(OrchestratorEvent.INSTANCE_TERMINATING, component=app, reason=reason)
        drained_s = self.h.targets.deregister(app, wait=self.sleep)
        self.emit(OrchestratorEvent.INSTANCE_DEREGISTERED,
                  component=app, drained_s=round(drained_s, 3))
        with contextlib.suppress(StackError):
            self.h.runtime.stop(app)
        self.emit(OrchestratorEvent.INSTANCE_LAUNCHING, component=app)
        if not self.sleep(self.h.scaled(self.settings.launch_s)) or self.stopping:
            return
        self.relaunch(app)
        # registered once its process answers: the scaled checks must not judge its boot
        boot = self.await_boot(app)
        if self.stopping:
            return
        self.h.targets.register(app)
        # A new instance is judged only after the grace period, and never before the CLB
        # could have seen it healthy (its initial checks), else a short grace would replace
        # it again.
        self._grace_until[app] = time.monotonic() + self._grace_s()
        self.emit(
            OrchestratorEvent.INSTANCE_LAUNCHED, component=app,
            since_terminated_s=round(time.monotonic() - started, 3), **boot.fields(),
        )
