"""Faults on a docker stack from another harness: found by the stack's runtime, helpers by exec.

No engine here: the containers are stand-ins that record what the engine was asked.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import docker
import pytest
from docker.models.containers import Container

from harness.errors import StackError
from harness.faults.base import RecordedProcesses, recorded_control
from harness.runtime import docker as dockerrt
from harness.stacks.topology import StackInfo


@dataclass
class _Exec:
    exit_code: int


@dataclass
class _Container:
    """What exec_helper and RunContainers ask of a container."""

    status: str = "running"
    nano_cpus: int = 150_000_000
    programs: tuple[str, ...] = ("python3",)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def attrs(self) -> dict[str, Any]:
        return {"HostConfig": {"NanoCpus": self.nano_cpus, "Memory": 0},
                "Config": {"Image": "harness/go:latest"}}

    def reload(self) -> None:
        pass

    def exec_run(self, cmd: list[str], **kwargs: Any) -> _Exec:
        self.calls.append(("exec", (cmd, kwargs)))
        if cmd[:2] == ["/bin/sh", "-c"]:  # the "is the program there" probe
            return _Exec(0 if cmd[-1] in self.programs else 127)
        return _Exec(0)

    def top(self, ps_args: str) -> dict[str, Any]:
        return {"Processes": []}

    def unpause(self) -> None:
        self.calls.append(("unpause", None))
        self.status = "running"

    def kill(self) -> None:
        self.calls.append(("kill", None))


class _Containers:
    def __init__(self, by_component: dict[str, _Container]) -> None:
        self.by_component = by_component
        self.filters: list[dict[str, Any]] = []

    def list(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[_Container]:
        self.filters.append(filters or {})
        wanted = [v.partition("=")[2] for v in (filters or {}).get("label", [])
                  if v.startswith(f"{dockerrt.LABEL_COMPONENT}=")]
        return [c for name, c in self.by_component.items() if not wanted or name in wanted]


class _Client:
    def __init__(self, by_component: dict[str, _Container]) -> None:
        self.containers = _Containers(by_component)


def _info(tmp_path: Path, **extra: Any) -> StackInfo:
    return StackInfo.from_json({
        "stack_id": "s-1", "arch": "modern", "workdir": str(tmp_path), "log_dir": str(tmp_path),
        "lb_url": "http://127.0.0.1:1", "toxiproxy_api": "http://127.0.0.1:2",
        "haproxy_socket": "/x", "aws_endpoint": "http://127.0.0.1:3", "queue_url": "q",
        "bucket": None, "db_writer_port": 4, "db_reader_port": None, **extra,
    })


def test_a_stack_json_without_a_runtime_is_a_process_stack(tmp_path: Path) -> None:
    # stack.json files written before the field existed
    assert _info(tmp_path).runtime == "process"
    assert isinstance(recorded_control(_info(tmp_path)), RecordedProcesses)


def test_a_docker_stack_is_reached_through_its_runs_containers(tmp_path: Path) -> None:
    info = _info(tmp_path, runtime="docker")
    assert StackInfo.from_json(info.to_json()).runtime == "docker"
    control = recorded_control(info)
    assert isinstance(control, dockerrt.RunContainers)
    assert control.run_id == "s-1"


def _exec_calls(container: _Container) -> list[Any]:
    return [args for kind, args in container.calls if kind == "exec"]


def test_a_python_helper_runs_on_the_images_python_inside_the_container() -> None:
    container = _Container()
    dockerrt.exec_helper(cast(Container, container), "app-1",
                         [sys.executable, "-c", "while True: pass"])
    (probe, _), (argv, kwargs) = _exec_calls(container)
    assert probe[-1] == "python3"
    assert argv == ["python3", "-c", "while True: pass"]
    assert kwargs["detach"] is True
    assert kwargs["environment"][dockerrt.HELPER_ENV].startswith("harness-helper-")


def test_a_helper_missing_from_the_image_is_an_error_not_a_silent_no_op() -> None:
    container = _Container(programs=())
    with pytest.raises(StackError, match=r"app-1: python3 is not in its image \(harness/go"):
        dockerrt.exec_helper(cast(Container, container), "app-1", [sys.executable, "-c", "1"])
    assert len(_exec_calls(container)) == 1  # the probe only, nothing started


def test_a_container_without_limits_gets_no_helper() -> None:
    container = _Container(nano_cpus=0)
    with pytest.raises(StackError, match="app-1 has no CPU or memory limits"):
        dockerrt.exec_helper(cast(Container, container), "app-1", [sys.executable, "-c", "1"])
    assert _exec_calls(container) == []


def test_run_containers_act_on_the_runs_live_container_of_the_component() -> None:
    app1, app2 = _Container(), _Container(status="paused")
    client = _Client({"app-1": app1, "app-2": app2, "gone": _Container(status="exited")})
    control = dockerrt.RunContainers("s-1", client=cast(docker.DockerClient, client))
    control.kill("app-1")
    assert app1.calls == [("kill", None)]
    assert client.containers.filters[-1] == {"label": [
        f"{dockerrt.LABEL_RUN}=s-1", f"{dockerrt.LABEL_COMPONENT}=app-1"]}
    assert control.is_running("app-2")  # paused is alive
    with pytest.raises(StackError, match="gone has no running container in docker run s-1"):
        control.kill("gone")
    control.resume_all()
    assert app2.status == "running"
    assert ("unpause", None) not in app1.calls
