"""The Docker runtime: every component is one container, from the images stacks/docker/ builds.

A component runs `spec.image` or `images[spec.kind]`, with the spec's processes as the
container's command: each program is the image's own (`PROGRAMS` by kind, else the
host program's name on the image's PATH), with the spec's arguments, and writes to the
component's log file as under the process runtime (several processes, nginx +
php-fpm, run side by side under one shell). Containers share the host's network, so
the 127.0.0.1 ports a spec names and its wait strategy mean what they mean under the
process runtime, and the host paths a spec names (work dir, logs, the project's files)
are mounted at the same path. CPU and memory limits are Docker's (cgroup v1 or v2).

Every container carries the run's id and its owner (harness.runtime.docker_engine):
`close()` removes a run's objects, `cleanup_stale()` those of runs whose owner is gone.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import psutil
from docker.errors import DockerException, NotFound
from docker.models.containers import Container

from harness.errors import EnvironmentProblem, StackError
from harness.model.app import App
from harness.model.components import IMAGE_OF_KIND, declare
from harness.model.profile import Profile
from harness.runtime import process_state, registry, watchdog
from harness.runtime.base import ComponentSpec, InForce, StartsByLaunching
from harness.runtime.cgroups import CFS_PERIOD_US, quota_us
from harness.runtime.docker_engine import (
    ENV_FILE,
    LABEL_COMPONENT,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_RUN,
    cleanup_stale,
    connect,
    engine_host,
    owner_alive,
    owner_labels,
    reachable,
    remove_run,
)
from harness.runtime.wait import log_tail, wait_ready

# the engine's helpers stay reachable here, where the runtime's users look for them
__all__ = [
    "ENV_FILE", "HELPER_ENV", "LABEL_COMPONENT", "LABEL_OWNER_PID", "LABEL_OWNER_START",
    "LABEL_RUN", "PROGRAMS", "PROJECT_ROOT", "DockerRuntime", "RunContainers", "cleanup_stale",
    "connect", "default_images", "engine_host", "exec_helper", "owner_alive", "owner_labels",
    "reachable", "remove_run", "require_images",
]

#: the project's checkout: mounted read-only in every container (the PHP app's code,
#: the AWS fault point's module), at the same path
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: the program a kind's first argument stands for inside its image (else its basename)
PROGRAMS = {
    "localstack": "/opt/localstack/bin/python",
    # the AWS fault point runs on the standard library: LocalStack's image has a Python
    "faultpoint": "/opt/localstack/bin/python",
}


#: set in a helper's environment (with a tag of its own), so it can be found and ended
HELPER_ENV = "HARNESS_HELPER"


def default_images() -> dict[str, str]:
    """Component kind -> image, as `make docker-setup` builds them (harness/<image>:latest)."""
    return {kind: f"harness/{image}:latest" for kind, image in IMAGE_OF_KIND.items()}


class DockerRuntime(StartsByLaunching):
    """Runs components as containers of one run, all labelled with its id."""

    name = "docker"

    def __init__(
        self, *, run_id: str, images: Mapping[str, str], log_dir: Path,
        mounts: Sequence[Path] = (), client: docker.DockerClient | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.run_id = run_id
        #: the stack's work dir (claimed, named by the run id), removed with the run
        self.workdir = workdir
        self.images = dict(images)
        self.log_dir = log_dir
        #: host paths (work dirs, configs) mounted at the same path in every container
        self.mounts = tuple(mounts)
        self.client = client or connect()
        self._containers: dict[str, Container] = {}
        self._specs: dict[str, ComponentSpec] = {}
        self._main: dict[str, psutil.Process | None] = {}
        log_dir.mkdir(parents=True, exist_ok=True)
        # if the harness dies, its watchdog kills the stack's host processes (the
        # datadir installer), removes the run's containers, then the work dir, at once
        if workdir is None:
            watchdog.guard("docker", run_id)
        else:
            watchdog.guard("docker", run_id, workdir=str(workdir))

    def _command(self, spec: ComponentSpec) -> list[str]:
        """One shell running the spec's processes, each with the image's own program."""
        log = shlex.quote(str(self.log_dir / f"{spec.name}.log"))
        lines = []
        for i, process in enumerate(spec.processes):
            # `{python}` in a team's command is the harness's own Python: the image's python3
            program = PROGRAMS.get(spec.kind) or Path(_in_image(list(process.argv))[0]).name
            argv = " ".join(shlex.quote(a) for a in (program, *process.argv[1:]))
            cd = f"cd {shlex.quote(str(process.cwd))} && " if process.cwd else ""
            last = i == len(spec.processes) - 1
            # the last process replaces the shell, so `docker kill`/`stop` signal it first
            lines.append(f"{cd}exec {argv} >>{log} 2>&1" if last
                         else f"( {cd}exec {argv} >>{log} 2>&1 ) &")
        return ["/bin/sh", "-c", "\n".join(lines)]

    def _container_kwargs(self, spec: ComponentSpec) -> dict[str, Any]:
        env: dict[str, str] = {"HARNESS_STACK_ID": self.run_id}
        for process in spec.processes:
            env.update(process.env)
        if spec.kind == "faultpoint":
            env["PYTHONPATH"] = str(PROJECT_ROOT)
        volumes = {str(PROJECT_ROOT): {"bind": str(PROJECT_ROOT), "mode": "ro"}}
        for path in (*self.mounts, self.log_dir):
            volumes[str(path)] = {"bind": str(path), "mode": "rw"}
        # a team's service runs in its own folder (app.workdir), read-only as its code
        # would be in an image; one inside a folder mounted already needs nothing more
        mounted = [PROJECT_ROOT, *self.mounts, self.log_dir]
        for process in spec.processes:
            cwd = process.cwd
            if cwd is not None and not any(cwd.is_relative_to(m) for m in mounted):
                volumes[str(cwd)] = {"bind": str(cwd), "mode": "ro"}
                mounted.append(cwd)
        kwargs: dict[str, Any] = {
            "name": f"harness-{self.run_id}-{spec.name}",
            "labels": {LABEL_RUN: self.run_id, LABEL_COMPONENT: spec.name, **owner_labels()},
            "environment": env,
            "network_mode": "host",
            "volumes": volumes,
            "detach": True,
            # the image's entrypoint would prefix the command; the command is complete
            "entrypoint": [],
            "command": self._command(spec),
        }
        if spec.init:
            # docker's init as PID 1 passes `docker stop`'s SIGTERM on: a Python PID 1
            # without handlers ignores it, and every stop would wait out the grace
            kwargs["init"] = True
        if spec.limits is not None:
            if spec.limits.cpus is not None:
                # the shared period (cgroups.CFS_PERIOD_US), not docker's --cpus at 100 ms
                kwargs["cpu_period"] = CFS_PERIOD_US
                kwargs["cpu_quota"] = quota_us(spec.limits.cpus)
            if spec.limits.memory_mb is not None:
                # no swap on top, as a task's hard memory limit
                kwargs["mem_limit"] = kwargs["memswap_limit"] = f"{spec.limits.memory_mb}m"
        return kwargs

    def launch(self, spec: ComponentSpec) -> None:
        """Create and start the component's container; do not wait for readiness."""
        image = spec.image or self.images.get(spec.kind)
        if image is None:
            raise StackError(
                f"docker runtime: no image for component kind {spec.kind!r} ({spec.name}); "
                f"known kinds: {', '.join(sorted(self.images)) or 'none'}"
            )
        kwargs = self._container_kwargs(spec)
        # a restart after a kill: the old container keeps the name until removed
        with contextlib.suppress(NotFound):
            self.client.containers.get(kwargs["name"]).remove(force=True)
        try:
            self._containers[spec.name] = self.client.containers.run(image, **kwargs)
        except DockerException as exc:
            raise StackError(
                f"docker runtime: {spec.name} ({image}) did not start: {exc}"
            ) from None
        self._specs[spec.name] = spec
        self._main[spec.name] = self._main_process(self._containers[spec.name])

    def wait(self, name: str) -> float:
        spec = self._specs[name]
        try:
            return wait_ready(
                name, spec.ready, timeout_s=spec.ready_timeout_s,
                alive=lambda: self.is_running(name), log=self.log_dir / f"{name}.log",
                exit_code=lambda: self._exit_code(name),
            )
        except StackError as exc:
            # what the engine has (a program not found) goes into the log and the error
            self._engine_log(name)
            raise StackError(str(exc), log_tail=log_tail(self.log_path(name))) from None

    def _exit_code(self, name: str) -> int | None:
        """How the container's main process ended, as `describe_exit` reads a Popen's code.

        The engine reports a death by signal N as exit code 128+N (so does docker's init);
        that is -N here. None when the engine does not say (yet).
        """
        container = self._containers.get(name)
        if container is None:
            return None
        # the main process is gone a moment before the engine records the container's end
        for _ in range(50):
            with contextlib.suppress(DockerException):
                container.reload()
                state = container.attrs.get("State", {})
                if state.get("Status") in ("exited", "dead"):
                    return engine_exit_code(int(state.get("ExitCode", 0)),
                                            oom_killed=bool(state.get("OOMKilled")))
            time.sleep(0.1)
        return None

    def _container(self, name: str) -> Container:
        try:
            return self._containers[name]
        except KeyError:
            raise StackError(
                f"docker runtime: no component {name!r} in run {self.run_id}"
            ) from None

    def stop(self, name: str) -> None:
        container = self._container(name)
        with contextlib.suppress(NotFound):
            container.reload()
            if container.status == "paused":
                container.unpause()
            elif self.stop_state(name) is not None:
                # its main process stopped from outside never acts on SIGTERM: the
                # engine's stop would wait out its whole grace
                with contextlib.suppress(DockerException):
                    container.kill()
            container.stop(timeout=math.ceil(self._specs[name].stop_grace_s))
            self._engine_log(name)
            container.remove(force=True)
        del self._containers[name]

    def kill(self, name: str) -> None:
        """`docker kill` (SIGKILL), then forgotten as the process runtime forgets a killed
        component; the container stays on the engine for its log until `close()`."""
        container = self._container(name)
        with contextlib.suppress(NotFound):
            container.kill()
        del self._containers[name]

    def pause(self, name: str) -> None:
        self._container(name).pause()

    def resume(self, name: str) -> None:
        self._container(name).unpause()

    @staticmethod
    def _main_process(container: Container) -> psutil.Process | None:
        """The container's main process as this host sees it; None for a remote engine."""
        with contextlib.suppress(DockerException, psutil.Error, ValueError):
            container.reload()
            pid = int(container.attrs.get("State", {}).get("Pid") or 0)
            if pid > 0:
                return psutil.Process(pid)
        return None

    def is_running(self, name: str) -> bool:
        """True while the container runs (a paused one is alive, as a SIGSTOPped process).

        Orchestrators ask this every 50 ms per component: on a local engine it is a look
        at the container's main process, not an engine request each time.
        """
        container = self._containers.get(name)
        if container is None:
            return False
        main = self._main.get(name)
        if main is not None:
            try:
                return main.is_running() and main.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                return False
        try:
            container.reload()
        except NotFound:
            return False
        return container.status in ("running", "paused")

    def log_path(self, name: str) -> Path:
        """The component's log: its processes write it through the mounted log folder."""
        return self.log_dir / f"{name}.log"

    def _engine_log(self, name: str) -> None:
        """Append what the engine kept (the shell's own errors) to the component's log."""
        container = self._containers.get(name)
        if container is None:
            return
        # OSError: a results folder that is full or gone must not keep the container
        with contextlib.suppress(DockerException, OSError):
            text = container.logs(stdout=True, stderr=True)
            if text:
                with self.log_path(name).open("ab") as fh:
                    fh.write(text)

    def components(self) -> list[str]:
        return [name for name in self._containers if self.is_running(name)]

    def restart(self, name: str) -> float:
        """A new container from the component's spec (an ECS task replacement); wait until ready."""
        spec = self._specs.get(name)
        if spec is None:
            raise StackError(f"{name} was never started here; nothing to restart")
        return self.start(spec)

    def spec(self, name: str) -> ComponentSpec | None:
        return self._specs.get(name)

    def is_paused(self, name: str) -> bool:
        container = self._containers.get(name)
        if container is None:
            return False
        with contextlib.suppress(NotFound):
            container.reload()
            return bool(container.status == "paused")
        return False

    def exited(self) -> list[str]:
        return [name for name in self._containers if not self.is_running(name)]

    def stop_state(self, name: str) -> str | None:
        """The main process stopped or frozen as this host's /proc says, else a paused
        container as the engine says (a remote engine's PIDs are not this host's)."""
        if name not in self._containers:
            return None
        main = self._main.get(name)
        state = None if main is None else process_state.stop_state(main.pid)
        # an engine that does not answer this once is no hang of the component
        with contextlib.suppress(DockerException):
            if state is None and self.is_paused(name):
                state = process_state.CONTAINER_PAUSED
        return state

    def pids(self, name: str) -> list[int]:
        """The container's main process as the host sees it (the engine shares the host's PIDs)."""
        container = self._containers.get(name)
        main = None if container is None else self._main_process(container)
        return [] if main is None else [main.pid]

    def memory_usage_bytes(self, name: str) -> int | None:
        """Read from the container's memory cgroup (the engine's stats call takes a second)."""
        container = self._containers.get(name)
        if container is None or container.id is None:
            return None
        root = Path("/sys/fs/cgroup")
        for path in (root / "memory" / "docker" / container.id / "memory.usage_in_bytes",
                     root / "docker" / container.id / "memory.current",
                     root / "system.slice" / f"docker-{container.id}.scope" / "memory.current"):
            with contextlib.suppress(OSError, ValueError):
                return int(path.read_text())
        return None

    def limits_enforcement(self) -> tuple[bool, str]:
        return True, (f"docker (--cpu-period {CFS_PERIOD_US} --cpu-quota, --memory; "
                      f"CPU period {CFS_PERIOD_US // 1000} ms)")

    def limits_in_force(self, name: str) -> InForce | None:
        container = self._containers.get(name)
        if container is None:
            return None
        with contextlib.suppress(NotFound):
            container.reload()
            host = container.attrs.get("HostConfig", {})
            memory = int(host.get("Memory") or 0)
            return InForce(
                cpus=_cpus(host),
                memory_mb=memory // 2**20 if memory else None,
                cgroups=(str(container.id),),
            )
        return None

    def run_inside(self, name: str, argv: list[str]) -> _ExecHelper:
        """`docker exec` of the helper: it runs in the container's cgroup, inside its limits."""
        if name not in self._specs:
            raise StackError(f"docker runtime: no component {name!r} in run {self.run_id}")
        return exec_helper(self._container(name), name, argv)

    def close(self) -> None:
        """Stop every container and remove all the run's objects. Idempotent.

        The last one started goes first (in a stack: the load balancer, so no client
        request reaches a half-stopped stack), then the rest together: one after the
        other, each engine stop and remove would add up to seconds per teardown.
        """
        names = list(self._containers)

        def stop(name: str) -> None:
            with contextlib.suppress(DockerException, StackError):
                self.stop(name)

        if names:
            stop(names[-1])
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-stop") as pool:
                list(pool.map(stop, names[:-1]))
        remove_run(self.client, self.run_id)
        self._containers.clear()
        if self.workdir is not None:
            # before the release: a harness killed halfway through leaves it guarded
            registry.remove_stack(self.workdir, self.run_id)
        watchdog.release("docker", self.run_id)


class RunContainers:
    """Process control of a docker stack that another harness owns (`harness inject`).

    The owner's DockerRuntime holds the containers; this finds them by the run's labels,
    so a kill, a pause or a stressor acts on the very containers the owner's
    orchestrators watch (a killed task is replaced as if the owner had killed it).
    """

    def __init__(self, run_id: str, client: docker.DockerClient | None = None) -> None:
        self.run_id = run_id
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    def _live(self, name: str | None = None) -> list[Container]:
        labels = [f"{LABEL_RUN}={self.run_id}"]
        if name is not None:
            labels.append(f"{LABEL_COMPONENT}={name}")
        found = self.client.containers.list(all=True, filters={"label": labels})
        # a killed task's container stays (for its log) until the owner replaces it
        return [c for c in found if c.status in ("running", "paused")]

    def _container(self, name: str) -> Container:
        live = self._live(name)
        if not live:
            raise StackError(f"{name} has no running container in docker run {self.run_id}")
        return live[0]

    def _act(self, name: str, verb: str, act: Callable[[Container], object]) -> None:
        try:
            act(self._container(name))
        except DockerException as exc:
            raise StackError(f"could not {verb} {name}: {exc}") from None

    def kill(self, name: str) -> None:
        self._act(name, "kill", lambda c: c.kill())

    def pause(self, name: str) -> None:
        self._act(name, "pause", lambda c: c.pause())

    def resume(self, name: str) -> None:
        self._act(name, "resume", lambda c: c.unpause())

    def is_running(self, name: str) -> bool:
        return bool(self._live(name))

    def run_inside(self, name: str, argv: list[str]) -> _ExecHelper:
        return exec_helper(self._container(name), name, argv)

    def resume_all(self) -> None:
        """Unpause every container of the run and end every helper in it: an exec'd helper
        does not die with the harness that started it, as a process runtime's does."""
        for container in self._live():
            with contextlib.suppress(DockerException):
                if container.status == "paused":
                    container.unpause()
                for pid in _helper_pids(container, None):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)


def engine_exit_code(code: int, *, oom_killed: bool = False) -> int:
    """A container's exit code as a Popen's returncode: 128+N (death by signal N) is -N.

    An OOM kill is SIGKILL whatever the engine recorded.
    """
    if oom_killed:
        return -signal.SIGKILL
    return -(code - 128) if 128 < code < 128 + 65 else code


def require_images(profiles: Mapping[str, Profile],
                   client: docker.DockerClient | None = None) -> None:
    """Raise EnvironmentProblem (exit 2) when the engine lacks an image the stacks need.

    Asked before anything starts (`harness run`, `up`, `validate --runtime docker`); the
    app's image is named with the profile line that picks it (`App.docker_image`).
    """
    own = client is None
    client = client or connect()
    try:
        for label, profile in profiles.items():
            app = profile.app
            if not _has_image(client, app.docker_image()):
                raise EnvironmentProblem(_missing_app_image(label, app))
            kinds = {c.kind for c in declare(profile).components if c.role != "app"}
            for image, kind in sorted({(default_images()[k], k) for k in kinds}):
                if not _has_image(client, image):
                    raise EnvironmentProblem(
                        f"{label}: the docker engine has no image {image} (the stack's "
                        f"{kind}); run `make docker-setup`, which builds the stack's images")
    finally:
        if own:
            client.close()


def _has_image(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except NotFound:
        return False
    except DockerException as exc:
        raise EnvironmentProblem(f"the docker engine did not say whether it has {image}: "
                                 f"{exc}; check it with `docker image ls`") from None
    return True


def _missing_app_image(label: str, app: App) -> str:
    """The error for an app image the engine lacks: where it is chosen, what to do."""
    image, setting = app.docker_image(), app.image_setting()
    where = f"{app.image_declared_at}: " if app.image_declared_at else ""
    head = f"{where}{setting} ({label}): "
    if setting == "app.image":
        return (f"{head}the docker engine has no image {image}; build it "
                f"(`docker build -t {image} <your service's folder>`) or pull it "
                f"(`docker pull {image}`), or leave app.image out")
    if setting == "app.command":
        return (f"{head}{{python}} runs in {image}, which the docker engine does not "
                "have; run `make docker-setup` (it builds stacks/docker/python.Dockerfile), "
                "or set app.image to an image of your own")
    return (f"{head}the {app.kind} service runs in {image}, which the docker engine does "
            "not have; run `make docker-setup`, which builds the stack's images")


def _in_image(argv: list[str]) -> list[str]:
    """The helper's command inside an image: the host's Python is not there, the image's is.

    The resource faults' stressors are Python run by the harness's own interpreter; the app
    images carry Debian's python3-minimal for them (stacks/docker/{go,php}.Dockerfile).
    """
    if argv and argv[0] == sys.executable:
        return ["python3", *argv[1:]]
    return argv


def _cpus(host: Mapping[str, Any]) -> float | None:
    """The CPU limit a container's HostConfig holds (a period and quota, or --cpus)."""
    quota, period = int(host.get("CpuQuota") or 0), int(host.get("CpuPeriod") or 0)
    if quota > 0 and period > 0:
        return round(quota / period, 4)
    nano = int(host.get("NanoCpus") or 0)
    return round(nano / 1e9, 4) if nano else None


def exec_helper(container: Container, name: str, argv: list[str]) -> _ExecHelper:
    """Start a helper in the container with `docker exec`, so it shares the container's
    cgroup (its CPU quota, its memory limit); refuse a container without limits."""
    argv = _in_image(argv)
    try:
        container.reload()
        host = container.attrs.get("HostConfig", {})
        if not (_cpus(host) or host.get("Memory")):
            raise StackError(f"{name} has no CPU or memory limits; give the profile's app.size")
        # a detached exec of a missing program fails silently: a fault doing nothing
        found = container.exec_run(["/bin/sh", "-c", 'command -v "$1"', "sh", argv[0]])
        if found.exit_code != 0:
            raise StackError(f"{name}: {argv[0]} is not in its image "
                             f"({container.attrs.get('Config', {}).get('Image')}); "
                             "this helper cannot run inside the container")
        tag = f"harness-helper-{uuid.uuid4().hex[:12]}"
        # the tag in the environment lets stop() find the helper's processes
        container.exec_run(argv, detach=True, environment={HELPER_ENV: tag})
    except DockerException as exc:
        raise StackError(f"{name}: helper did not start: {exc}") from None
    return _ExecHelper(container, tag)


def _helper_pids(container: Container, tag: str | None) -> list[int]:
    """Host PIDs of the container's helpers (those with `tag`, or every one when None)."""
    pids = []
    for row in container.top(ps_args="-eo pid").get("Processes") or []:
        pid = int(row[0])
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if any(var.startswith(f"{HELPER_ENV}=".encode()) and (
                    tag is None or var == f"{HELPER_ENV}={tag}".encode()) for var in environ):
                pids.append(pid)
    return pids


class _ExecHelper:
    """A helper started with `docker exec`; stopped by killing what carries its tag."""

    def __init__(self, container: Container, tag: str) -> None:
        self._container: Container | None = container
        self._tag = tag

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        with contextlib.suppress(DockerException):
            for pid in _helper_pids(container, self._tag):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
