"""The Docker objects a test looks for, listed so that a removal in between cannot fail it.

A full container listing inspects each container it found, and fails with 404 on one
that a watchdog, another test's clean-up or a replacement removed in between; the
sparse listing does not (harness.runtime.docker_engine lists the same way).
"""

from __future__ import annotations

from typing import Any

import docker


def container_names(client: docker.DockerClient, filters: dict[str, Any]) -> list[str]:
    """Names of the containers (running or not) the filters match."""
    return [str(c.attrs["Names"][0]).lstrip("/")
            for c in client.containers.list(all=True, filters=filters, sparse=True)]


def objects(client: docker.DockerClient, filters: dict[str, Any]) -> list[str]:
    """Every container, network and volume the filters match, as `kind name`."""
    return [
        *(f"container {name}" for name in container_names(client, filters)),
        *(f"network {n.name}" for n in client.networks.list(filters=filters)),
        *(f"volume {v.name}" for v in client.volumes.list(filters=filters)),
    ]
