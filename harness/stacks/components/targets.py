"""The load balancer's targets as AWS registers and deregisters them, on HAProxy.

Deregistering (ECS stopping a task, the ASG terminating an instance, the `drain`
fault) follows connection draining / the deregistration delay: the target gets no
new requests at once (HAProxy `drain`), its in-flight requests may finish for up
to the delay, and it is removed (`maint`, remaining sessions closed) when none is
left or the delay is over, whichever comes first (ELB Application guide,
"Deregistration delay"; ELB Classic guide, "Configure connection draining").

Registering is a new registration: the target gets traffic only after passing the
health check `healthy_threshold` times (HAProxy `rise`), never at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.stacks.components.haproxy import FAIL_OPEN_SUFFIX, HaproxyAdmin, TargetGroupSettings

#: how often draining looks at the in-flight count
_POLL_S = 0.05

#: `srv_check_result` of `show servers state` when the last health check failed
CHECK_FAILED = "2"


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

    def healthy(self, target: str) -> bool:
        """Is the target in service (passed its healthy threshold, not deregistered)?"""
        return self.admin.server_up(target)
