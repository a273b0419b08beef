"""modern-nlb: the NLB's rules in the profile model and its TCP-mode HAProxy config."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.model.balancer import LoadBalancer
from harness.model.profile_file import load_profile
from harness.scenario import faults as fault_schema
from harness.stacks.components import haproxy

SERVERS = [("app-1", 9001), ("app-2", 9002)]
SRC = "a test's own setting"


def _lb(arch: str, **changes: Any) -> dict[str, Any]:
    data = load_profile(arch).load_balancer.model_dump(exclude_none=True)
    data.update(changes)
    return data


def _config(arch: str, tmp_path: Path, time_scale: float = 0.1) -> str:
    return haproxy.config(load_profile(arch), port=9000, servers=SERVERS, workdir=tmp_path,
                          time_scale=time_scale)


def test_the_profile_is_modern_behind_an_nlb() -> None:
    nlb, alb = load_profile("modern-nlb"), load_profile("modern")
    lb = nlb.load_balancer
    assert (lb.style, lb.routing.value, lb.when_all_unhealthy.value) == (
        "nlb", "flow_hash", "fail_open")
    hc = lb.health_check
    # the NLB's own defaults; the check's path and depth stay the team's, as on modern
    assert (hc.timeout_s.value, hc.interval_s.value, hc.healthy_threshold.value,
            hc.unhealthy_threshold.value) == (6, 30, 5, 2)
    assert (hc.path, hc.depth) == (alb.load_balancer.health_check.path,
                                   alb.load_balancer.health_check.depth)
    assert (lb.idle_timeout_s.value, lb.deregistration_delay_s.value) == (350, 300)
    # recorded, not modelled: each says so in its source
    for setting in (lb.connection_termination, lb.cross_zone, lb.client_ip_preservation):
        assert setting is not None
        assert setting.value is False
        assert "Not modelled" in setting.source
    # everything past the load balancer is modern's
    assert nlb.app == alb.app
    assert nlb.database == alb.database
    assert nlb.orchestrator == alb.orchestrator
    assert nlb.scaling == alb.scaling
    # no HTTP metrics on an NLB: the ALB's 5xx and response-time alarms are gone
    assert {a.name for a in alb.alarms} - {a.name for a in nlb.alarms} == {
        "alb-target-5xx", "alb-target-response-time-p99"}


@pytest.mark.parametrize(("arch", "changes", "message"), [
    ("modern-nlb", {"routing": {"value": "round_robin", "source": SRC}}, "flow hash"),
    ("modern", {"routing": {"value": "flow_hash", "source": SRC}}, "flow hash"),
    ("modern-nlb", {"when_all_unhealthy": {"value": "reject", "source": SRC}}, "fails open"),
    ("modern", {"cross_zone": {"value": True, "source": SRC}}, "NLB target group attributes"),
    ("legacy", {"client_ip_preservation": {"value": True, "source": SRC}}, "NLB target group"),
])
def test_the_nlb_rules_are_enforced(arch: str, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LoadBalancer.model_validate(_lb(arch, **changes))


def test_an_nlb_may_check_over_tcp_and_the_check_is_shallow() -> None:
    data = _lb("modern-nlb")
    hc = {k: v for k, v in data["health_check"].items() if k != "path"}
    hc["protocol"] = {"value": "TCP", "source": SRC}
    hc["depth"] = {"value": "shallow", "source": SRC}
    assert LoadBalancer.model_validate({**data, "health_check": hc}).style == "nlb"


def test_the_nlb_is_a_tcp_listener_with_a_flow_hash(tmp_path: Path) -> None:
    cfg = _config("modern-nlb", tmp_path)
    assert re.search(r"^defaults\n    mode tcp\n    log global\n    option tcplog$", cfg, re.M)
    assert "balance hash var(sess.flow)" in cfg
    assert "hash-type consistent" in cfg
    assert "set-var(sess.flow) src,concat(:,sess.sport)" in cfg
    # no HTTP of its own: no fault rules, no 502/503 rewriting; no target: a refused connection
    assert "http-request" not in cfg
    assert "http-after-response" not in cfg
    assert "tcp-request connection reject if { nbsrv(app) eq 0 }" in cfg
    assert "retries 0" in cfg
    # the NLB fails open through the same unchecked backup copies as the ALB
    assert "option allbackups" in cfg
    assert "server app-1.failopen 127.0.0.1:9001 backup" in cfg
    # the deep check over HTTP, the NLB's HTTP timeout at the floor (6 s x 0.1 < 2 s)
    assert "option httpchk GET /ready" in cfg
    assert "timeout check 2000ms" in cfg
    # the NLB's 350 s idle timeout, scaled (35 s): above the 30 s floor the ALB sits on
    assert "timeout client 35000ms" in cfg
    assert "timeout server 35000ms" in cfg


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_http_load_balancers_keep_their_http_mode(arch: str, tmp_path: Path) -> None:
    cfg = _config(arch, tmp_path)
    assert "    mode http\n" in cfg
    assert "option httplog" in cfg
    assert "balance hash" not in cfg
    assert "tcp-request" not in cfg


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_haproxy_accepts_the_nlb_config(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(_config("modern-nlb", tmp_path))
    check = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_http_errors_is_refused_on_an_nlb_in_one_line() -> None:
    timeline = fault_schema.parse_timeline(
        [{"type": "http_errors", "at": "10s", "duration": "5s", "percent": 10}], source="s.yaml")
    for arch in ("legacy", "modern"):
        fault_schema.check_timeline(timeline, source="s.yaml",
                                    topology=fault_schema.Topology.from_profile(load_profile(arch)))
    with pytest.raises(ScenarioError) as err:
        fault_schema.check_timeline(
            timeline, source="s.yaml",
            topology=fault_schema.Topology.from_profile(load_profile("modern-nlb")))
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("s.yaml: faults[0].type: http_errors needs an HTTP load "
                                     "balancer")
