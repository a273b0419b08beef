"""The Docker engine around the runtime: finding it, labels, and cleaning up crashed runs.

Every container, network and volume a run makes carries `harness.run=<run id>` and its
owner (PID and start time): `remove_run()` removes a run's, and `cleanup_stale()`
those of runs whose owner is gone, e.g. a `harness run` that was SIGKILLed.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from pathlib import Path

import docker
import psutil
from docker.errors import DockerException, NotFound

from harness.errors import EnvironmentProblem

LABEL_RUN = "harness.run"
LABEL_COMPONENT = "harness.component"
LABEL_OWNER_PID = "harness.owner.pid"
LABEL_OWNER_START = "harness.owner.start"


#: where `make docker-setup` writes the DOCKER_HOST of the engine it started
ENV_FILE = Path(__file__).resolve().parents[2] / ".work" / "docker" / "env"


def engine_host() -> str | None:
    """DOCKER_HOST from the environment, else the one `make docker-setup` wrote, else None."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    with contextlib.suppress(OSError):
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("DOCKER_HOST="):
                return line.partition("=")[2].strip() or None
    return None


def reachable() -> docker.DockerClient | None:
    """A client when an engine answers at once, else None (no Docker here: nothing to do)."""
    host = engine_host()
    if host is None and not Path("/var/run/docker.sock").exists():
        return None
    if not _socket_answers(host or "unix:///var/run/docker.sock"):
        return None
    try:
        client = docker.DockerClient(base_url=host, timeout=5) if host else docker.from_env(
            timeout=5)
    except DockerException:
        return None
    try:
        client.ping()
    except DockerException:
        # an engine socket with no engine behind it (dockerd stopped): the client's
        # connection pool must not outlive the answer
        client.close()
        return None
    return client


def _socket_answers(host: str) -> bool:
    """Does something accept connections on a unix:// engine socket (other schemes: assume so)?

    Asked first because docker-py's client asks the engine's version in its constructor
    and, when that fails, leaves the socket it opened unclosed: a stale socket file of a
    stopped dockerd would leak one on every command.
    """
    if not host.startswith("unix://"):
        return True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(host.removeprefix("unix://"))
        except OSError:
            return False
    return True


def connect() -> docker.DockerClient:
    """A client of the engine DOCKER_HOST (or `make docker-setup`'s, or the default) names."""
    client: docker.DockerClient | None = None
    try:
        host = engine_host()
        client = docker.DockerClient(base_url=host) if host else docker.from_env()
        client.ping()
    except DockerException as exc:
        if client is not None:
            client.close()
        raise EnvironmentProblem(
            f"no Docker engine answers ({exc}); run `make docker-setup` and export the "
            "DOCKER_HOST it prints"
        ) from None
    return client


def owner_labels() -> dict[str, str]:
    """This process as the owner of what it creates (the start time tells a reused PID)."""
    me = psutil.Process()
    return {LABEL_OWNER_PID: str(me.pid), LABEL_OWNER_START: f"{me.create_time():.3f}"}


def owner_alive(labels: Mapping[str, str]) -> bool:
    """Is the process that created an object with these labels still running?"""
    try:
        pid, start = int(labels[LABEL_OWNER_PID]), float(labels[LABEL_OWNER_START])
        proc = psutil.Process(pid)
        return abs(proc.create_time() - start) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except (KeyError, ValueError, psutil.Error):
        return False


def remove_run(client: docker.DockerClient, run_id: str) -> int:
    """Remove every container, network and volume labelled with this run; return how many."""
    flt = {"label": f"{LABEL_RUN}={run_id}"}
    removed = 0
    for container in client.containers.list(all=True, filters=flt):
        with contextlib.suppress(NotFound):
            container.remove(force=True, v=True)
            removed += 1
    for network in client.networks.list(filters=flt):
        with contextlib.suppress(NotFound):
            network.remove()
            removed += 1
    for volume in client.volumes.list(filters=flt):
        with contextlib.suppress(NotFound):
            volume.remove(force=True)
            removed += 1
    return removed


def cleanup_stale(client: docker.DockerClient) -> list[str]:
    """Remove what runs whose owner is gone left behind; return those runs' ids."""
    flt = {"label": LABEL_RUN}
    labelled: list[dict[str, str]] = [
        *(c.labels for c in client.containers.list(all=True, filters=flt)),
        *(n.attrs.get("Labels") or {} for n in client.networks.list(filters=flt)),
        *(v.attrs.get("Labels") or {} for v in client.volumes.list(filters=flt)),
    ]
    runs: dict[str, bool] = {}
    for labels in labelled:
        run = labels[LABEL_RUN]
        runs[run] = runs.get(run, False) or owner_alive(labels)
    stale = sorted(run for run, alive in runs.items() if not alive)
    for run in stale:
        remove_run(client, run)
    return stale
