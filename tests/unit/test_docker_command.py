"""The docker runtime's containers: the spec's processes with the image's programs, logs, mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import docker

from harness.runtime import docker as dockerrt
from harness.runtime.base import ComponentSpec, Limits, ProcessSpec
from harness.runtime.wait import PortOpen


def _runtime(tmp_path: Path) -> dockerrt.DockerRuntime:
    # no engine is asked anything here: building a container's arguments is pure logic
    return dockerrt.DockerRuntime(
        run_id="run-1", images=dockerrt.default_images(), log_dir=tmp_path / "logs",
        mounts=(tmp_path / "work",), client=cast(docker.DockerClient, object()),
    )


def _instance(tmp_path: Path) -> ComponentSpec:
    return ComponentSpec(
        name="app-1", kind="php", zone="a",
        processes=(
            ProcessSpec("php-fpm", ("/usr/sbin/php-fpm8.2", "-F", "-y", "/w/fpm conf"),
                        env={"DB_PORT": "4000"}),
            ProcessSpec("nginx", ("/usr/sbin/nginx", "-c", "/w/nginx.conf")),
        ),
        ready=PortOpen(4001), limits=Limits(cpus=0.5, memory_mb=256),
    )


def test_several_processes_run_side_by_side_the_last_one_as_the_containers_main(
    tmp_path: Path,
) -> None:
    kwargs: dict[str, Any] = _runtime(tmp_path)._container_kwargs(_instance(tmp_path))
    shell, flag, script = kwargs["command"]
    assert (shell, flag, kwargs["entrypoint"]) == ("/bin/sh", "-c", [])
    log = tmp_path / "logs" / "app-1.log"
    assert script.splitlines() == [
        f"( exec php-fpm8.2 -F -y '/w/fpm conf' >>{log} 2>&1 ) &",
        f"exec nginx -c /w/nginx.conf >>{log} 2>&1",
    ]
    assert kwargs["environment"] == {"HARNESS_STACK_ID": "run-1", "DB_PORT": "4000"}
    assert kwargs["network_mode"] == "host"
    assert (kwargs["cpu_period"], kwargs["cpu_quota"]) == (20_000, 10_000)  # 0.5 vCPU
    assert (kwargs["mem_limit"], kwargs["memswap_limit"]) == ("256m", "256m")
    assert kwargs["labels"][dockerrt.LABEL_RUN] == "run-1"
    assert kwargs["labels"][dockerrt.LABEL_COMPONENT] == "app-1"


def test_host_paths_are_mounted_where_the_spec_names_them(tmp_path: Path) -> None:
    volumes = _runtime(tmp_path)._container_kwargs(_instance(tmp_path))["volumes"]
    assert volumes[str(dockerrt.PROJECT_ROOT)] == {"bind": str(dockerrt.PROJECT_ROOT),
                                                   "mode": "ro"}
    for rw in (tmp_path / "work", tmp_path / "logs"):
        assert volumes[str(rw)] == {"bind": str(rw), "mode": "rw"}


def test_a_kind_whose_program_lives_elsewhere_in_its_image_gets_that_one(tmp_path: Path) -> None:
    spec = ComponentSpec(
        name="aws-fault", kind="faultpoint",
        processes=(ProcessSpec("awsfault", ("/host/venv/bin/python3", "-m", "x.y")),),
        ready=PortOpen(4002),
    )
    kwargs = _runtime(tmp_path)._container_kwargs(spec)
    assert kwargs["command"][2].startswith("exec /opt/localstack/bin/python -m x.y >>")
    assert kwargs["environment"]["PYTHONPATH"] == str(dockerrt.PROJECT_ROOT)
    assert "cpu_quota" not in kwargs
    assert dockerrt.default_images()["faultpoint"] == "harness/localstack:latest"
