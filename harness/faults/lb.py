"""Load balancer faults through HAProxy's runtime API: http_errors, drain/deregister."""

from __future__ import annotations

from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultType, register


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
    """Take app instances out of the backend (drain or maint); put them back on revert."""

    types = ("drain",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out: list[str] = []

    def apply(self) -> None:
        mode = self.spec.params()["mode"]
        for app in self.targets:
            self._out.append(app)
            self.ctx.haproxy.set_server_state(app, mode)

    def revert(self) -> None:
        failed: list[str] = []
        for app in list(self._out):
            try:
                self.ctx.haproxy.set_server_state(app, "ready")
            except FaultError as exc:
                failed.append(str(exc))
                continue
            self._out.remove(app)
        if failed:
            raise FaultError("; ".join(failed))
