"""Fixtures of the Docker tests: a reachable engine, or a skip (a failure in CI).

The engine is the one DOCKER_HOST names, else the project's own that
`make docker-setup` started (.work/docker/env), else /var/run/docker.sock.
Where no engine is reachable the tests are skipped, unless
HARNESS_REQUIRE_DOCKER=1 (set by .ci/run), where that is a failure.
testcontainers' Ryuk reaper image cannot be pulled without a registry: it is
disabled, and every test removes what it made itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / ".work" / "docker" / "env"


def _engine_host() -> str | None:
    """DOCKER_HOST to use ("" = the default socket), or None when there is no engine."""
    candidates = []
    if "DOCKER_HOST" in os.environ:
        candidates.append(os.environ["DOCKER_HOST"])
    if ENV_FILE.is_file():
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("DOCKER_HOST="):
                candidates.append(line.partition("=")[2])
    candidates.append("")
    for host in candidates:
        env = {**os.environ, "DOCKER_HOST": host} if host else {
            k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        try:
            ok = subprocess.run(["docker", "info"], env=env, capture_output=True,
                                timeout=15, check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return host
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("HARNESS_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason} (HARNESS_REQUIRE_DOCKER=1; run `make docker-setup`)")
    pytest.skip(f"{reason}; run `make docker-setup` to have one")


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """Point this process (and the docker/compose CLIs it runs) at a working engine."""
    if shutil.which("docker") is None:
        _unavailable("no docker CLI")
    host = _engine_host()
    if host is None:
        _unavailable("no reachable Docker engine")
    assert host is not None
    if host:
        os.environ["DOCKER_HOST"] = host
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    if subprocess.run(["docker", "compose", "version"], capture_output=True,
                      check=False).returncode != 0:
        _unavailable("`docker compose` (Compose v2) is not installed")
    return host
