"""Load balancer faults through HAProxy's runtime API: http_errors, drain/deregister."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultType, register
from harness.records.events import StackEvent
from harness.stacks.components.targets import TargetGroup


@register
class HttpErrors(FaultType):
    """A share of requests answered 5xx by the load balancer itself (a map the frontend reads)."""

    types = ("http_errors",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set = False

    def apply(self) -> None:
        p = self.spec.params()
        self._set = True
        self.ctx.haproxy.set_error_share(self.ctx.haproxy_map, p["status"], p["percent"])

    def revert(self) -> None:
        if self._set:
            self.ctx.haproxy.set_error_share(self.ctx.haproxy_map, self.spec.params()["status"], 0)
            self._set = False


@register
class Drain(FaultType):
    """Deregister app instances from the load balancer; register them again on revert.

    `drain`: connection draining / deregistration delay as the profile says (scaled):
    no new requests at once, in-flight ones finish, removed when none is left or the
    delay is over. `maint`: removed at once. On revert a target is a new registration:
    it gets traffic once it passed the health check's healthy threshold.
    """

    types = ("drain",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out: list[str] = []
        self._reverting = threading.Event()
        self._draining: list[threading.Thread] = []

    def apply(self) -> None:
        mode = self.spec.params()["mode"]
        group = TargetGroup.of(self.ctx.info.haproxy_socket)
        for app in self.targets:
            self._out.append(app)
            if mode == "maint":
                group.remove(app)
                continue
            group.admin.set_server_state(app, "drain")  # no new requests from now on
            thread = threading.Thread(
                target=self._finish_draining, args=(group, app), name=f"drain:{app}", daemon=True
            )
            self._draining.append(thread)
            thread.start()

    def _finish_draining(self, group: TargetGroup, app: str) -> None:
        # the target is already draining; deregister waits for in-flight requests
        with contextlib.suppress(FaultError):
            drained_s = group.deregister(app, wait=lambda s: not self._reverting.wait(s))
            if not self._reverting.is_set():
                self.ctx.events.emit(StackEvent.LB_TARGET_DEREGISTERED, component=app,
                                     drained_s=round(drained_s, 3), fault=self.name)

    def revert(self) -> None:
        self._reverting.set()
        for thread in self._draining:
            thread.join(timeout=10)
        self._draining.clear()
        self._reverting.clear()
        group = TargetGroup.of(self.ctx.info.haproxy_socket)
        failed: list[str] = []
        for app in list(self._out):
            try:
                group.register(app)
            except FaultError as exc:
                failed.append(str(exc))
                continue
            self._out.remove(app)
        if failed:
            raise FaultError("; ".join(failed))
