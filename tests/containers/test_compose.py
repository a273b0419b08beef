"""docker-compose.yml: each architecture comes up healthy and serves through its LB.

The acceptance of the compose file: `docker compose --profile <arch> up --wait`,
then /products through the client->lb edge on 127.0.0.1, an order, and
`docker compose down`, after which nothing of the project is left.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from testcontainers.compose import DockerCompose

from harness.model.profile_file import load_profile
from harness.runtime.ports import PortAllocator

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(600)]


def _project_containers(project: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.split()


@pytest.fixture
def compose_env(docker_engine: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A project name and ports of this test's own, so a user's stack is left alone."""
    project = f"harness-test-{os.getpid()}"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", project)
    ports = PortAllocator()
    monkeypatch.setenv("HARNESS_LB_PORT", str(ports.take()))
    monkeypatch.setenv("HARNESS_TOXIPROXY_PORT", str(ports.take()))
    yield project
    # whatever happened, nothing of the project may stay behind
    subprocess.run(["docker", "compose", "--profile", "legacy", "--profile", "modern",
                    "down", "--volumes", "--timeout", "2"], cwd=ROOT, capture_output=True,
                   check=False)


@pytest.mark.parametrize("arch", ["modern", "legacy"])
def test_compose_profile_comes_up_and_serves_through_the_lb(arch: str, compose_env: str) -> None:
    lb = f"http://127.0.0.1:{os.environ['HARNESS_LB_PORT']}"
    toxiproxy = f"http://127.0.0.1:{os.environ['HARNESS_TOXIPROXY_PORT']}"
    stack = DockerCompose(ROOT, profiles=[arch], wait=True)
    with stack:
        products = requests.get(f"{lb}/products", timeout=10)
        assert products.status_code == 200, products.text
        assert len(products.json()) > 0, "the seed job seeded no products"
        served_by = {requests.get(f"{lb}/products/1", timeout=10).headers["X-Served-By"]
                     for _ in range(12)}
        assert served_by <= set(load_profile(arch).app_names)
        order = requests.post(f"{lb}/orders", json={
            "product_id": 1, "quantity": 1, "idempotency_key": f"compose-{arch}",
        }, timeout=10)
        # 201: the write committed and the order was published to SQS on LocalStack
        assert order.status_code == 201, order.text
        edges = requests.get(f"{toxiproxy}/proxies", timeout=5).json()
        assert {"client_to_lb", "lb_to_app-1", "app_to_db", "app_to_aws"} <= set(edges)
    assert _project_containers(compose_env) == []


def test_setup_names_an_unsupported_distribution_in_one_line(docker_engine: str) -> None:
    # Debian trixie lacks php8.2-fpm: make setup must stop at once, exit 2, one line
    result = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{ROOT / 'scripts'}:/repo/scripts:ro",
         "debian:trixie-slim", "bash", "/repo/scripts/setup.sh"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unsupported distribution: Debian GNU/Linux 13 (trixie)" in lines[0]
    assert "bookworm" in lines[0]
