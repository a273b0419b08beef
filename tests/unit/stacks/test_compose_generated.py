"""docker-compose.yml and stacks/docker/generated/ are what the profiles render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.model.profile_file import load_profile
from harness.runtime.cgroups import CFS_PERIOD_US
from harness.stacks import compose, compose_file

ROOT = Path(__file__).resolve().parents[3]
REGENERATE = "regenerate with `python -m harness.stacks.compose`"


@pytest.mark.parametrize("rel", sorted(compose.files()))
def test_generated_config_matches_the_profiles(rel: str) -> None:
    path = compose.generated_dir() / rel
    assert path.is_file(), f"{path} is missing; {REGENERATE}"
    assert path.read_text() == compose.files()[rel], f"{path} is stale; {REGENERATE}"


def test_compose_file_matches_the_profiles() -> None:
    assert compose.compose_path().read_text() == compose_file.render(), (
        f"docker-compose.yml is stale; {REGENERATE}"
    )


def _services() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(compose_file.render())
    services: dict[str, dict[str, Any]] = doc["services"]
    return services


def test_every_image_has_a_dockerfile() -> None:
    for name, service in _services().items():
        dockerfile = ROOT / service["build"]["dockerfile"]
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        assert service["image"].startswith("harness/")


def test_only_loopback_ports_are_published() -> None:
    published = [p for s in _services().values() for p in s.get("ports", [])]
    assert published, "the client->lb edge must be published"
    assert all(p.startswith("127.0.0.1:") for p in published)


@pytest.mark.parametrize("arch", compose.ARCHITECTURES)
def test_apps_get_the_profiles_size(arch: str) -> None:
    profile = load_profile(arch)
    kind = profile.app.kind
    apps = {n: s for n, s in _services().items() if n.startswith(f"{kind}-")}
    assert len(apps) == profile.app.instances
    for service in apps.values():
        assert service["profiles"] == [arch]
        # the period both runtimes share, not docker's 100 ms default
        assert service["cpu_period"] == CFS_PERIOD_US
        assert service["cpu_quota"] / service["cpu_period"] == profile.app.size.cpus.value
        assert service["mem_limit"] == f"{profile.app.size.memory_mb.value}m"


def test_modern_apps_reach_the_writer_through_the_proxy_edge() -> None:
    edges = {e["name"]: e["upstream"] for e in compose.edges(load_profile("modern"))}
    assert edges["app_to_db"] == "db-proxy:3306"
    assert edges["app_to_db-reader"] == "db-reader:3306"
    legacy = {e["name"]: e["upstream"] for e in compose.edges(load_profile("legacy"))}
    assert legacy["app_to_db"] == "db-writer:3306"
    assert "app_to_db-reader" not in legacy
