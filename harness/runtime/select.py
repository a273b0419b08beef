"""The one place that picks a runtime by name (`--runtime process|docker`).

Everything else holds the `Runtime` protocol; this module alone names the classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import EnvironmentProblem
from harness.runtime.base import Runtime
from harness.runtime.registry import Registry

if TYPE_CHECKING:
    from harness.model.profile import Profile
    from harness.runtime.docker import RunContainers

RUNTIMES = ("process", "docker")


def make_runtime(
    name: str, *, stack_id: str, workdir: Path, log_dir: Path,
    owner: dict[str, object] | None = None,
) -> Runtime:
    """A fresh runtime for one stack (or one test target) under `workdir`.

    `owner` (arch, stack id) marks this harness as the work dir's owner, so another
    harness command can tell a live stack from a crashed run's leftovers.
    """
    if name == "process":
        from harness.runtime.process import ProcessRuntime

        runtime = ProcessRuntime(stack_id=stack_id, workdir=workdir, log_dir=log_dir)
        if owner is not None:
            runtime.claim(owner)
        return runtime
    if name == "docker":
        from harness.runtime.docker import DockerRuntime, default_images

        workdir.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            # `harness down` and `list` find a docker stack by its work dir's owner, too
            Registry(workdir).claim(owner)
        return DockerRuntime(
            run_id=stack_id, images=default_images(), log_dir=log_dir, mounts=(workdir,),
            workdir=workdir,
        )
    raise EnvironmentProblem(
        f"--runtime {name!r}: unknown runtime; choose one of {', '.join(RUNTIMES)}"
    )


def check_images(name: str, profiles: Mapping[str, Profile]) -> None:
    """Before anything starts: the docker engine has every image the stacks need.

    Raises EnvironmentProblem (exit 2) naming the profile line that picks a missing app
    image and what builds it; the process runtime needs no image.
    """
    if name != "docker":
        return
    from harness.runtime.docker import require_images

    require_images(profiles)


def run_containers(stack_id: str) -> RunContainers:
    """The containers of a docker stack another harness owns, for `harness inject`."""
    from harness.runtime.docker import RunContainers

    return RunContainers(stack_id)


def cleanup_docker_leftovers() -> list[str]:
    """Remove the containers, networks and volumes of docker runs whose harness died.

    Called at the start of every harness command and by `harness down`; does nothing
    (and costs nothing) where no Docker engine is reachable. Returns the runs cleaned.
    """
    from harness.runtime import docker as docker_runtime

    client = docker_runtime.reachable()
    if client is None:
        return []
    try:
        return docker_runtime.cleanup_stale(client)
    finally:
        client.close()
