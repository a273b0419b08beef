"""The app's readiness and liveness paths: validated, and carried by every check built from them."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from harness.errors import ProfileError
from harness.model.components import declare
from harness.model.orchestrator import EcsSettings
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk
from harness.settings import Settings
from harness.stacks import compose_file
from harness.stacks.assembly import AppSlot, declare_app
from harness.stacks.orchestrators.ecs import EcsService

SOURCE = "assumption: changed in this test"
#: the sample Go task with its two paths swapped: the harness must use what the profile says
SWAPPED = {"health_path": "/health", "liveness_path": "/ready"}
#: a team's own service with paths of its own, and the ALB checking its readiness path
OWN = {"command": ["my-service", "--port", "{port}"], "health_path": "/status/ready",
       "liveness_path": "/status/alive"}


def _variant(tmp_path: Path, base: str, app: dict[str, Any],
             check: dict[str, Any] | None = None) -> Profile:
    doc: dict[str, Any] = {"extends": base, "app": app}
    if check:
        doc["load_balancer"] = {"health_check": {
            k: {"value": v, "source": SOURCE} for k, v in check.items()}}
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_profile(str(path))


def _ready_of(profile: Profile, tmp_path: Path) -> object:
    settings = Settings(state_dir=tmp_path, tools_dir=tmp_path / "tools", results_dir=tmp_path)
    slot = AppSlot(member=declare(profile).get("app-1"), port=40123, env={}, workdir=tmp_path,
                   log_dir=tmp_path / "logs")
    return declare_app(profile, settings, slot).spec.ready


def test_the_shipped_profiles_keep_ready_for_readiness_and_health_for_liveness() -> None:
    for arch in ("legacy", "modern"):
        app = load_profile(arch).app
        assert (app.health_path, app.liveness_path) == ("/ready", "/health")


@pytest.mark.parametrize("base", ["legacy", "modern"])
def test_each_instance_or_task_is_ready_on_the_profiles_health_path(
    tmp_path: Path, base: str,
) -> None:
    profile = _variant(tmp_path, base, SWAPPED)
    assert (profile.app.health_path, profile.app.liveness_path) == ("/health", "/ready")
    assert _ready_of(profile, tmp_path) == HttpOk(f"http://{LOOPBACK}:40123/health")


def test_a_teams_own_paths_validate_and_reach_the_ready_check(tmp_path: Path) -> None:
    profile = _variant(tmp_path, "modern", OWN, {"path": "/status/ready", "depth": "deep"})
    assert profile.load_balancer.health_check.path is not None
    assert profile.load_balancer.health_check.path.value == "/status/ready"
    assert _ready_of(profile, tmp_path) == HttpOk(f"http://{LOOPBACK}:40123/status/ready")


def test_compose_healthchecks_call_the_profiles_health_path(tmp_path: Path) -> None:
    legacy = load_profile("legacy")
    modern = _variant(tmp_path, "modern", SWAPPED)
    services = compose_file.document([legacy, modern])["services"]
    assert services["lb-modern"]["healthcheck"]["test"][-1] == "http://127.0.0.1:80/health"
    assert services["go-1"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8080/health"
    # the shipped profile's path is the one the sample images' HEALTHCHECK requests
    assert "healthcheck" not in services["php-1"]
    assert services["lb-legacy"]["healthcheck"]["test"][-1] == "http://127.0.0.1:80/ready"


def test_the_ecs_container_health_check_calls_the_liveness_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = _variant(tmp_path, "modern", SWAPPED)
    settings = profile.orchestrator
    assert isinstance(settings, EcsSettings)
    asked: list[str] = []

    def get(url: str, timeout: float) -> SimpleNamespace:
        asked.append(url)
        return SimpleNamespace(status_code=200)

    handles = SimpleNamespace(
        runtime=SimpleNamespace(is_running=lambda name: True),
        info=SimpleNamespace(apps=lambda: ["app-1"],
                             components={"app-1": SimpleNamespace(port=40123)}),
        profile=profile, events=EventLog(None), scaled=lambda timing: 0.0,
    )
    ecs = EcsService(handles, settings)  # type: ignore[arg-type]
    rounds = iter([True, False])  # one round of checks, then the service stops
    monkeypatch.setattr(ecs, "sleep", lambda seconds: next(rounds))
    monkeypatch.setattr("harness.stacks.orchestrators.ecs.requests.get", get)
    ecs._health_checks()
    assert asked == ["http://127.0.0.1:40123/ready"]


@pytest.mark.parametrize(("base", "app", "check", "field", "says"), [
    # the sample services answer only their own paths
    ("modern", {"health_path": "/healthz"}, None, "app.health_path",
     "the go app does not serve /healthz; its paths: /health shallow, /ready deep"),
    ("legacy", {"liveness_path": "/alive"}, None, "app.liveness_path",
     "the php app does not serve /alive"),
    ("modern", {"health_path": "ready"}, None, "app.health_path", "should match pattern"),
    ("modern", {"liveness_path": "health"}, None, "app.liveness_path", "should match pattern"),
    # a team's liveness path proves the process answers: a shallow check
    ("modern", OWN, {"path": "/status/alive", "depth": "deep"},
     "load_balancer.health_check.depth",
     "/status/alive is the service's app.liveness_path (the process is alive), a shallow "
     "check, not deep"),
])
def test_a_path_the_app_does_not_serve_or_of_the_wrong_depth_names_file_line_and_field(
    tmp_path: Path, base: str, app: dict[str, Any], check: dict[str, Any] | None, field: str,
    says: str,
) -> None:
    with pytest.raises(ProfileError) as err:
        _variant(tmp_path, base, app, check)
    text = str(err.value)
    assert re.match(rf"{re.escape(str(tmp_path / 'team.yaml'))}:\d+: {re.escape(field)}: ",
                    text), text
    assert says in text, text


def test_a_teams_own_check_path_keeps_the_depth_the_profile_states(tmp_path: Path) -> None:
    # neither of its declared paths: the harness cannot know what it tests, the profile says
    for depth in ("shallow", "deep"):
        profile = _variant(tmp_path, "modern", OWN, {"path": "/status", "depth": depth})
        assert profile.load_balancer.health_check.depth.value == depth
    shallow = _variant(tmp_path, "modern", OWN, {"path": "/status/alive", "depth": "shallow"})
    assert shallow.load_balancer.health_check.depth.value == "shallow"
