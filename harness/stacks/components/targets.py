"""The load balancer's targets as AWS registers and deregisters them, on HAProxy.

Deregistering (ECS stopping a task, the ASG terminating an instance, the `drain`
fault) follows connection draining / the deregistration delay: the target gets no
new requests at once (HAProxy `drain`), its in-flight requests may finish for up
to the delay, and it is removed (`maint`, remaining sessions closed) when none is
left or the delay is over, whichever comes first (ELB Application guide,
"Deregistration delay"; ELB Classic guide, "Configure connection draining").

Registering is a new registration: the target gets traffic only after passing the
health check `initial_healthy_threshold` times, never at once. HAProxy's `rise` is the
`healthy_threshold` (what a target that went unhealthy needs) and cannot change per
server at run time; when a new target needs fewer checks (the ALB: one, "After your
target is registered, it must pass one health check to be considered healthy"), a
watcher reads HAProxy's health counter, which counts the consecutive passing checks of
a DOWN server from 0 (`set server ... health down`) and drops back to 0 on a failure,
and puts the target in service once it reached the threshold, provided that came
before the target could have failed `unhealthy_threshold` checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from harness.errors import FaultError
from harness.stacks.components.haproxy import FAIL_OPEN_SUFFIX, HaproxyAdmin, TargetGroupSettings

#: how often draining looks at the in-flight count
_POLL_S = 0.05

#: `srv_check_result` of `show servers state` when the last health check failed
CHECK_FAILED = "2"


def passed_first_checks(row: Mapping[str, str], checks: int) -> bool:
    """Has a registered target that is still DOWN passed its last `checks` checks?

    `row` is the server's line of `show servers state`: `srv_check_health` counts the
    passing checks in a row of a server below `rise` (HAProxy's check.c), from 0 after
    `set server ... health down`.
    """
    return (row.get("srv_admin_state") == "0" and row.get("srv_op_state") == "0"
            and int(row.get("srv_check_health") or 0) >= checks)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


class TargetGroup:
    """Register and deregister targets of the stack's load balancer."""

    def __init__(self, admin: HaproxyAdmin, settings: TargetGroupSettings) -> None:
        self.admin = admin
        self.settings = settings

    @classmethod
    def of(cls, socket_path: str | Path) -> TargetGroup:
        """The target group of the stack whose HAProxy listens on this admin socket."""
        path = Path(socket_path)
        return cls(HaproxyAdmin(path), TargetGroupSettings.read(path.parent))

    def deregister(self, target: str, wait: Callable[[float], bool] = _sleep) -> float:
        """Take target out with draining; return the seconds it drained.

        `wait(s)` sleeps and returns False to stop early (the stack is stopping): the
        target is then removed at once.
        """
        started = time.monotonic()
        self.admin.set_server_state(target, "drain")
        deadline = started + self.settings.deregistration_delay_s
        while time.monotonic() < deadline and self.admin.in_flight(target) > 0:
            if not wait(_POLL_S):
                break
        self.remove(target)
        return time.monotonic() - started

    def remove(self, target: str) -> None:
        """The end of a deregistration: no traffic, no health checks, open sessions closed."""
        self.admin.set_server_state(target, "maint")
        names = [target]
        if self.settings.fail_open:
            names.append(target + FAIL_OPEN_SUFFIX)
        self.admin.command("; ".join(f"shutdown sessions server app/{n}" for n in names))

    def register(self, target: str) -> None:
        """Register target anew: health checks start, traffic once it passed the threshold."""
        # From maint through drain (no traffic) to health down, then ready: the target
        # is then DOWN until `rise` checks pass (leaving maint straight to ready would put
        # it UP at once, with the health it had before).
        server = f"app/{target}"
        self.admin.command(
            f"set server {server} state drain; set server {server} health down; "
            f"set server {server} state ready"
        )
        if self.settings.fail_open:
            self.admin.command(f"set server {server}{FAIL_OPEN_SUFFIX} state ready")
        if self.settings.initial_checks is not None:
            threading.Thread(target=self.admit_new, args=(target,), name=f"admit:{target}",
                             daemon=True).start()

    def admit_new(self, target: str, wait: Callable[[float], bool] = _sleep) -> bool:
        """Watch a just registered target; admit it after its initial checks passed.

        True when it was admitted early; False when it was deregistered again, came up
        through `rise`, or did not pass in time (it then needs `rise` checks, as a
        target that went unhealthy does) or the stack is gone.
        """
        checks = self.settings.initial_checks
        if checks is None:
            return False
        deadline = time.monotonic() + self.settings.initial_window_s
        try:
            while time.monotonic() < deadline:
                row = self.admin.server_states().get(target, {})
                if row.get("srv_admin_state") != "0" or row.get("srv_op_state") == "2":
                    return False
                if passed_first_checks(row, checks):
                    self.admin.admit(target)
                    return True
                if not wait(_POLL_S):
                    return False
        except FaultError:  # the stack stopped
            return False
        return False

    def healthy(self, target: str) -> bool:
        """Is the target in service (passed its healthy threshold, not deregistered)?"""
        return self.admin.server_up(target)
