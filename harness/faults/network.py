"""Network faults on an edge, through the edge's Toxiproxy proxy.

A toxic is added under the fault's name and removed on revert; `down` is the
proxy's `enabled=false` (Toxiproxy has no toxic for a partition).
"""

from __future__ import annotations

from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultType, register


def _attributes(params: dict[str, Any], fault_type: str) -> dict[str, Any]:
    # scenario names carry units; Toxiproxy's attribute names do not
    mapping = {
        "latency": {"latency_ms": "latency", "jitter_ms": "jitter"},
        "bandwidth": {"rate_kb_s": "rate"},
        "timeout": {"timeout_ms": "timeout"},
        "reset_peer": {"timeout_ms": "timeout"},
        "slow_close": {"delay_ms": "delay"},
        "limit_data": {"bytes": "bytes"},
    }[fault_type]
    return {toxi: params[ours] for ours, toxi in mapping.items()}


@register
class Toxic(FaultType):
    """latency, bandwidth, timeout (blackhole), reset_peer, slow_close, limit_data."""

    types = ("latency", "bandwidth", "timeout", "reset_peer", "slow_close", "limit_data")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._added: list[str] = []

    @property
    def toxic_name(self) -> str:
        return f"harness-{self.name}"

    def apply(self) -> None:
        params = self.spec.params()
        attributes = _attributes(params, self.spec.type)
        for edge in self.targets:
            proxy = self.ctx.info.edges[edge].proxy
            self.ctx.toxiproxy.add_toxic(
                proxy, name=self.toxic_name, type=self.spec.type, attributes=attributes,
                stream=params["stream"], toxicity=params["toxicity"],
            )
            self._added.append(proxy)

    def revert(self) -> None:
        failed: list[str] = []
        for proxy in list(self._added):
            try:
                self.ctx.toxiproxy.remove_toxic(proxy, self.toxic_name)
            except FaultError as exc:
                if "404" not in str(exc):
                    failed.append(f"{proxy}: {exc}")
                    continue
            self._added.remove(proxy)
        if failed:
            raise FaultError(f"could not remove toxic {self.toxic_name}: {'; '.join(failed)}")


@register
class Down(FaultType):
    """Partition: the edge's proxy is disabled (refuses and cuts connections)."""

    types = ("down",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._disabled: list[str] = []

    def apply(self) -> None:
        for edge in self.targets:
            proxy = self.ctx.info.edges[edge].proxy
            self._disabled.append(proxy)
            self.ctx.toxiproxy.set_enabled(proxy, False)

    def revert(self) -> None:
        for proxy in list(self._disabled):
            self.ctx.toxiproxy.set_enabled(proxy, True)
            self._disabled.remove(proxy)
