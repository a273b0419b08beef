"""Toxiproxy: one proxy on every edge, so any connection can be disrupted.

The PyPI client is unmaintained; the HTTP API is small and stable, so this is a
thin typed wrapper over `requests` (https://github.com/Shopify/toxiproxy#http-api).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from harness.errors import FaultError, StackError
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk


def spec(*, api_port: int, binary: str, seed: int) -> ComponentSpec:
    """The toxiproxy-server process, seeded so probabilistic toxics repeat."""
    return ComponentSpec(
        name="toxiproxy", kind="toxiproxy",
        processes=(ProcessSpec(
            name="toxiproxy-server",
            argv=(binary, "-host", LOOPBACK, "-port", str(api_port), "-seed", str(seed)),
            # at info it logs every client connection: hundreds of MB and real CPU taken
            # from the stacks in a high-rate run; warnings and errors are what a log needs
            env={"LOG_LEVEL": "warn"},
        ),),
        ready=HttpOk(f"http://{LOOPBACK}:{api_port}/version"),
        ready_timeout_s=10, stop_grace_s=2,
    )


@dataclass(frozen=True)
class Proxy:
    """One edge's proxy: clients connect to `listen_port`, it forwards to `upstream_port`."""

    name: str
    listen_port: int
    upstream_port: int
    enabled: bool = True


class ToxiproxyClient:
    """The calls harness needs from Toxiproxy's HTTP API."""

    def __init__(self, api_url: str, timeout_s: float = 5.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.api_url}{path}"
        try:
            resp = self._http.request(method, url, json=body, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise FaultError(f"toxiproxy API {url} did not answer: {type(exc).__name__}") from None
        if resp.status_code >= 300:
            try:
                detail = resp.json().get("error", resp.text)
            except ValueError:
                detail = resp.text
            raise FaultError(f"toxiproxy {method} {path}: HTTP {resp.status_code}: {detail}")
        return resp.json() if resp.content else None

    def create(self, name: str, *, listen_port: int, upstream_port: int) -> Proxy:
        try:
            self._call("POST", "/proxies", {
                "name": name,
                "listen": f"{LOOPBACK}:{listen_port}",
                "upstream": f"{LOOPBACK}:{upstream_port}",
                "enabled": True,
            })
        except FaultError as exc:
            raise StackError(f"could not create proxy {name}: {exc}") from None
        return Proxy(name, listen_port, upstream_port)

    def proxies(self) -> dict[str, dict[str, Any]]:
        result = self._call("GET", "/proxies")
        return dict(result) if isinstance(result, dict) else {}

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a proxy ("down": every connection refused and cut)."""
        self._call("POST", f"/proxies/{quote(name)}", {"enabled": enabled})

    def set_upstream(self, name: str, upstream_port: int) -> None:
        """Repoint a proxy (the writer endpoint after a failover)."""
        self._call("POST", f"/proxies/{quote(name)}", {"upstream": f"{LOOPBACK}:{upstream_port}"})

    def add_toxic(
        self, proxy: str, *, name: str, type: str, attributes: dict[str, Any],
        stream: str = "downstream", toxicity: float = 1.0,
    ) -> None:
        self._call("POST", f"/proxies/{quote(proxy)}/toxics", {
            "name": name, "type": type, "stream": stream,
            "toxicity": toxicity, "attributes": attributes,
        })

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{quote(proxy)}/toxics/{quote(name)}")

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        result = self._call("GET", f"/proxies/{quote(proxy)}/toxics")
        return list(result) if isinstance(result, list) else []

    def reset(self) -> None:
        """Remove every toxic and re-enable every proxy (the revert of last resort)."""
        self._call("POST", "/reset")
