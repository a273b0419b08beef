"""The one place that picks a runtime by name (`--runtime process|docker`).

Everything else holds the `Runtime` protocol; this module alone names the classes.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import EnvironmentProblem
from harness.runtime.base import Runtime

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
        return DockerRuntime(
            run_id=stack_id, images=default_images(), log_dir=log_dir, mounts=(workdir,),
        )
    raise EnvironmentProblem(
        f"--runtime {name!r}: unknown runtime; choose one of {', '.join(RUNTIMES)}"
    )
