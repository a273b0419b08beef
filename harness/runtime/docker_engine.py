"""The Docker engine around the runtime: finding it, labels, and cleaning up crashed runs.

Every container, network and volume a run makes carries `harness.run=<run id>` and its
owner (PID and start time): `remove_run()` removes a run's, and `cleanup_stale()`
those of runs whose owner is gone, e.g. a `harness run` that was SIGKILLed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import psutil
from docker.errors import APIError, DockerException
from docker.models.containers import Container

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


#: how long remove_run() lists and removes a run's containers before it gives up
REMOVE_TIMEOUT_S = 30.0
#: the engine's answers to a remove that mean another client removes or removed it:
#: 404 (gone) and 409 ("removal of container ... is already in progress")
_REMOVED_BY_ANOTHER = (404, 409)


def remove_run(client: docker.DockerClient, run_id: str,
               timeout_s: float = REMOVE_TIMEOUT_S) -> int:
    """Remove every container, network and volume labelled with this run; return how many
    this call removed.

    A dead run is often cleaned by two at once (its watchdog and the next harness
    command's cleanup_stale()): the engine answers the later of two removes of a
    container 404 or 409. That container counts as the other's, and the run's
    containers are listed again until none is left; after `timeout_s` an
    EnvironmentProblem names those still there.
    """
    flt = {"label": f"{LABEL_RUN}={run_id}"}
    removed = 0
    deadline = time.monotonic() + timeout_s
    errors: dict[str, str] = {}
    while True:
        # sparse: a full listing inspects each container and fails with 404 on one
        # that another client removed in between
        left = client.containers.list(all=True, filters=flt, sparse=True)
        if not left:
            break
        if time.monotonic() >= deadline:
            raise EnvironmentProblem(
                f"docker run {run_id}: {len(left)} containers still there after "
                f"{timeout_s:.0f} s of removal ({_describe(left, errors)}); remove them with "
                f"`docker rm -f $(docker ps -aq --filter label={LABEL_RUN}={run_id})`"
            )
        # side by side: one forced remove after the other adds up to seconds per run
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-rm") as pool:
            outcomes = list(pool.map(_remove_container, left))
        removed += sum(1 for ok, _ in outcomes if ok)
        errors = {str(c.id): why for c, (ok, why) in zip(left, outcomes, strict=True) if why}
        if not all(ok for ok, _ in outcomes):
            time.sleep(0.2)  # another client's removal is under way: list again soon
    for network in client.networks.list(filters=flt):
        removed += _removed(network.remove)
    for volume in client.volumes.list(filters=flt):
        removed += _removed(functools.partial(volume.remove, force=True))
    return removed


def _remove_container(container: Container) -> tuple[bool, str]:
    """(removed by this call, why not when the engine refused for another reason)."""
    try:
        container.remove(force=True, v=True)
    except APIError as exc:
        if exc.status_code in _REMOVED_BY_ANOTHER:
            return False, ""
        return False, str(exc)  # listed again; named if it outlasts the deadline
    return True, ""


def _removed(remove: Callable[[], object]) -> int:
    """1 when `remove()` removed the object, 0 when another client removes or removed it."""
    try:
        remove()
    except APIError as exc:
        if exc.status_code in _REMOVED_BY_ANOTHER:
            return 0
        raise
    return 1


def _describe(containers: list[Container], errors: Mapping[str, str]) -> str:
    """The containers' names (or ids), each with the engine's last refusal if any."""
    parts = []
    for c in containers:
        names = c.attrs.get("Names") or [str(c.id)[:12]]
        why = errors.get(str(c.id))
        parts.append(f"{str(names[0]).lstrip('/')}: {why}" if why else str(names[0]).lstrip("/"))
    return ", ".join(parts)


def cleanup_stale(client: docker.DockerClient) -> list[str]:
    """Remove what runs whose owner is gone left behind; return those runs' ids."""
    flt = {"label": LABEL_RUN}
    labelled: list[dict[str, str]] = [
        # sparse: the listing's own labels; inspecting each container would fail with 404
        # on one another client removed in between
        *(c.attrs.get("Labels") or {} for c in client.containers.list(
            all=True, filters=flt, sparse=True)),
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
