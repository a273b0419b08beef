"""The load balancers as AWS documents them: the HAProxy config and the target group's moves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest

from harness.model.profile_file import load_profile
from harness.stacks.components import haproxy
from harness.stacks.components.haproxy import HaproxyAdmin, TargetGroupSettings
from harness.stacks.components.targets import TargetGroup

SERVERS = [("app-1", 9001), ("app-2", 9002)]


def _config(arch: str, tmp_path: Path, time_scale: float = 0.05) -> str:
    return haproxy.config(
        load_profile(arch), port=9000, servers=SERVERS, workdir=tmp_path, time_scale=time_scale
    )


def test_only_the_alb_fails_open_through_unchecked_backup_copies(tmp_path: Path) -> None:
    alb, clb = _config("modern", tmp_path), _config("legacy", tmp_path)
    assert "option allbackups" in alb
    assert "server app-1.failopen 127.0.0.1:9001 backup" in alb
    assert not re.search(r"^\s*server .* backup$", clb, re.MULTILINE)
    assert "allbackups" not in clb


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_refused_targets_give_502_and_no_target_gives_503(arch: str, tmp_path: Path) -> None:
    cfg = _config(arch, tmp_path)
    assert "retries 0" in cfg
    assert "http-request return status 503" in cfg
    assert re.search(r"http-after-response set-status 502 if \{ status 503 \}", cfg)


@pytest.mark.parametrize(("time_scale", "idle_ms"), [(0.05, 30000), (0.5, 30000), (1.0, 60000)])
def test_the_idle_timeout_is_scaled_but_stays_above_the_services_timeouts(
    tmp_path: Path, time_scale: float, idle_ms: int
) -> None:
    cfg = _config("modern", tmp_path, time_scale)
    assert f"timeout server {idle_ms}ms" in cfg
    assert f"timeout client {idle_ms}ms" in cfg


def test_the_deregistration_delay_is_scaled_for_whoever_takes_a_target_out(
    tmp_path: Path,
) -> None:
    _config("modern", tmp_path, 0.05)
    # a new ALB target is admitted after one check if it passes before it could have failed
    # the unhealthy threshold: (2 + 1) checks of 1.5 s and the 2 s timeout floor
    assert json.loads((tmp_path / TargetGroupSettings.FILE).read_text()) == {
        "deregistration_delay_s": pytest.approx(15.0), "fail_open": True,
        "initial_checks": 1, "initial_window_s": pytest.approx(6.5),
    }
    assert TargetGroupSettings.read(tmp_path) == TargetGroupSettings(15.0, True, 1, 6.5)
    _config("legacy", tmp_path, 0.05)
    # the CLB has no shorter rule for a new instance: HAProxy's rise alone
    assert TargetGroupSettings.read(tmp_path).initial_checks is None


class FakeAdmin:
    """HaproxyAdmin's calls, recorded; in-flight counts played from a list."""

    def __init__(self, in_flight: list[int]) -> None:
        self.calls: list[str] = []
        self._in_flight = in_flight

    def set_server_state(self, server: str, state: str) -> None:
        self.calls.append(f"state {server} {state}")

    def in_flight(self, server: str) -> int:
        return self._in_flight.pop(0) if len(self._in_flight) > 1 else self._in_flight[0]

    def command(self, cmd: str) -> str:
        self.calls.append(cmd)
        return ""


def _group(in_flight: list[int], delay_s: float, fail_open: bool = True) -> tuple[
    TargetGroup, FakeAdmin
]:
    admin = FakeAdmin(in_flight)
    settings = TargetGroupSettings(deregistration_delay_s=delay_s, fail_open=fail_open)
    return TargetGroup(cast(HaproxyAdmin, admin), settings), admin


def test_deregistering_drains_until_nothing_is_in_flight_then_removes() -> None:
    group, admin = _group([2, 1, 0], delay_s=60)
    waits: list[float] = []

    def wait(s: float) -> bool:
        waits.append(s)
        return True

    group.deregister("app-1", wait=wait)
    assert len(waits) == 2  # in flight: 2, 1, then none
    assert admin.calls == [
        "state app-1 drain", "state app-1 maint",
        "shutdown sessions server app/app-1; shutdown sessions server app/app-1.failopen",
    ]


def test_deregistering_cuts_what_is_still_in_flight_after_the_delay() -> None:
    group, admin = _group([5], delay_s=0, fail_open=False)
    group.deregister("app-1", wait=lambda s: pytest.fail("no waiting with a 0 s delay"))
    assert admin.calls == [
        "state app-1 drain", "state app-1 maint", "shutdown sessions server app/app-1",
    ]


def test_a_stopping_stack_ends_the_drain_at_once() -> None:
    group, admin = _group([5], delay_s=60)
    group.deregister("app-1", wait=lambda s: False)
    assert admin.calls[1] == "state app-1 maint"


def test_a_registered_target_waits_for_its_healthy_threshold() -> None:
    group, admin = _group([0], delay_s=60)
    group.register("app-2")
    # drain, health down, then ready: DOWN until `rise` checks pass; the fail-open copy is
    # ready at once (it is used only when no target is healthy)
    assert admin.calls == [
        "set server app/app-2 state drain; set server app/app-2 health down; "
        "set server app/app-2 state ready",
        "set server app/app-2.failopen state ready",
    ]


def test_a_target_state_moves_its_fail_open_copy_too(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    admin = HaproxyAdmin("/nonexistent.sock")
    states: dict[str, Any] = {"app-1": {}, "app-1.failopen": {}}
    monkeypatch.setattr(admin, "server_states", lambda backend="app": states)
    monkeypatch.setattr(admin, "command", lambda cmd: sent.append(cmd) or "")
    admin.set_server_state("app-1", "maint")
    assert sent == ["set server app/app-1 state maint; set server app/app-1.failopen state maint"]
