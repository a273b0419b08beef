"""RDS Proxy (`db-proxy`): our stand-in in stacks/apps/rdsproxy, between app->db and the writer.

The Go program pools connections to the current writer (MaxConnectionsPercent of
its max_connections), makes a query wait up to ConnectionBorrowTimeout for one,
keeps client connections open across a failover and counts pinned sessions. The
harness repoints it at a new writer on its admin endpoint (loopback only), which
is how the real proxy follows a failover without waiting for DNS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from harness.errors import FaultError
from harness.model.database import RdsProxySettings
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk
from harness.stacks.components import mariadb

#: its admin endpoint's port in a container of docker-compose.yml (the image's health check)
CONTAINER_ADMIN_PORT = 8081


def args(*, listen: str, admin_port: int, target: str, settings: RdsProxySettings,
         time_scale: float) -> tuple[str, ...]:
    """Its command line after the program, on every runtime: the profile's pool, AWS timings
    scaled. The password comes from $DB_PASSWORD (`ENV`), out of the process list."""
    return (
        "--listen", listen, "--admin-port", str(admin_port), "--target", target,
        "--user", mariadb.APP_USER, "--database", mariadb.DATABASE,
        "--max-connections-percent", str(settings.max_connections_percent.value),
        "--borrow-timeout-s", f"{settings.connection_borrow_timeout_s.at(time_scale):g}",
        "--idle-client-timeout-s", f"{settings.idle_client_timeout_s.at(time_scale):g}",
    )


#: its environment on every runtime
ENV = {"DB_PASSWORD": mariadb.APP_PASSWORD}


def spec(
    name: str, *, port: int, admin_port: int, target_port: int, settings: RdsProxySettings,
    time_scale: float, binary: Path,
) -> ComponentSpec:
    """The proxy process on loopback, in front of the writer on `target_port`."""
    return ComponentSpec(
        name=name, kind="rdsproxy",
        processes=(ProcessSpec(
            name="rdsproxy",
            argv=(str(binary), *args(
                listen=f"{LOOPBACK}:{port}", admin_port=admin_port,
                target=f"{LOOPBACK}:{target_port}", settings=settings, time_scale=time_scale,
            )),
            env=dict(ENV),
        ),),
        ready=HttpOk(f"http://{LOOPBACK}:{admin_port}/stats"),
        ready_timeout_s=10, stop_grace_s=2,
    )


class RdsProxyAdmin:
    """The proxy's admin endpoint: repoint it, read its pool and session counts."""

    def __init__(self, url: str, timeout_s: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def repoint(self, writer_port: int) -> dict[str, Any]:
        """Send every later transaction to the writer on this port."""
        return self._call("POST", "/target", {"target": f"{LOOPBACK}:{writer_port}"})

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = requests.request(method, self.url + path, json=body, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise FaultError(f"RDS Proxy admin {self.url}{path} did not answer: {exc}") from None
        if resp.status_code != 200:
            raise FaultError(f"RDS Proxy admin {method} {path}: HTTP {resp.status_code}: "
                             f"{resp.text.strip()}")
        data: dict[str, Any] = resp.json()
        return data
