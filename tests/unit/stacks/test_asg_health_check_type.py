"""Which instances the ASG replaces depends on its health-check type, as on AWS."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from harness.model.orchestrator import AsgSettings
from harness.model.profile_file import load_profile
from harness.runtime.events import EventLog
from harness.stacks.orchestrators.asg import AsgGroup

#: app-1 fails the CLB's health checks (e.g. its database is down); app-2 passes them
CLB_STATES = {
    "app-1": {"srv_op_state": "0", "srv_admin_state": "0"},
    "app-2": {"srv_op_state": "2", "srv_admin_state": "0"},
}


class Recording(AsgGroup):
    def __init__(self, handles: Any, settings: AsgSettings) -> None:
        super().__init__(handles, settings)
        self.replaced: list[str] = []

    def react(self, key: str, action: Callable[[], None]) -> None:
        self.replaced.append(key)


def _asg(kind: str, running: set[str], time_scale: float = 0.0) -> Recording:
    legacy = load_profile("legacy")
    settings = legacy.orchestrator
    assert isinstance(settings, AsgSettings)
    check_type = settings.health_check_type.model_copy(update={"value": kind})
    settings = settings.model_copy(update={"health_check_type": check_type})
    handles = SimpleNamespace(
        haproxy=SimpleNamespace(server_states=lambda: CLB_STATES),
        runtime=SimpleNamespace(is_running=lambda name: name in running),
        info=SimpleNamespace(apps=lambda: ["app-1", "app-2"]),
        profile=legacy, events=EventLog(None), scaled=lambda timing: timing.at(time_scale),
    )
    return Recording(handles, settings)


@pytest.mark.parametrize(("kind", "running", "replaced"), [
    ("ELB", {"app-1", "app-2"}, ["app-1"]),   # unhealthy behind the CLB: recycled
    ("EC2", {"app-1", "app-2"}, []),          # still running: left alone
    ("EC2", {"app-1"}, ["app-2"]),            # gone: replaced, whatever the CLB thinks
])
def test_replacement_follows_the_health_check_type(
    kind: str, running: set[str], replaced: list[str]
) -> None:
    asg = _asg(kind, running)
    asg.tick()
    assert asg.replaced == replaced


@pytest.mark.parametrize("kind", ["EC2", "ELB"])
def test_a_gone_instance_is_replaced_only_once_its_status_check_has_failed(kind: str) -> None:
    # AWS timings: the next EC2 status check is up to 60 s away, so the first tick waits
    asg = _asg(kind, {"app-1"}, time_scale=1.0)
    asg.tick()
    assert "app-2" not in asg.replaced
    asg._gone_since["app-2"] -= 61  # a minute later
    asg.tick()
    assert "app-2" in asg.replaced
