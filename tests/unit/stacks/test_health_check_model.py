"""The load balancer's health check as cited settings: protocol, path, depth, admission."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness.errors import ProfileError
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.stacks.components import haproxy

SOURCE = "assumption: changed in this test"


def _variant(tmp_path: Path, base: str, check: dict[str, object],
             app: dict[str, object] | None = None) -> Profile:
    """`base` with these health check keys (each value cited) and app keys on top."""
    cited = {k: v if v is None or isinstance(v, dict) else {"value": v, "source": SOURCE}
             for k, v in check.items()}
    doc: dict[str, object] = {"extends": base, "load_balancer": {"health_check": cited}}
    if app:
        doc["app"] = app
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_profile(str(path))


@pytest.mark.parametrize("arch", ["legacy", "modern", "modern-no-proxy"])
def test_both_stacks_ship_the_same_deep_http_check(arch: str) -> None:
    hc = load_profile(arch).load_balancer.health_check
    assert (hc.protocol.value, hc.path and hc.path.value, hc.depth.value) == (
        "HTTP", "/ready", "deep")
    assert hc.depth.source.startswith("assumption: ")
    assert "same on both stacks" in hc.depth.source


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_modelled_table_shows_protocol_path_depth_and_admission_with_sources(
    arch: str,
) -> None:
    rows = {r.setting: r for r in load_profile(arch).modelled(0.1)}
    at = "load_balancer.health_check"
    assert rows[f"{at}.protocol"].used_value == "HTTP"
    assert rows[f"{at}.path"].used_value == "/ready"
    assert rows[f"{at}.depth"].used_value == "deep"
    assert "Implementing health checks" in rows[f"{at}.depth"].source
    assert rows[f"{at}.initial_healthy_threshold"].used_value == (1 if arch == "modern" else 10)
    # 5 s x 0.1 would be 0.5 s, below legacy's /ready under load: the floor keeps 2 s
    assert rows[f"{at}.timeout_s"].used_value == pytest.approx(2.0)
    assert rows[f"{at}.timeout_s.floor"].aws_value == 2
    assert all(len(rows[f"{at}.{k}"].source) >= 8
               for k in ("protocol", "path", "depth", "initial_healthy_threshold"))


def test_the_timeout_floor_is_the_same_on_both_sides() -> None:
    legacy, modern = (load_profile(a).load_balancer.health_check.timeout_s
                      for a in ("legacy", "modern"))
    assert legacy.floor is not None
    assert modern.floor is not None
    assert legacy.floor.value == modern.floor.value
    for scale in (0.05, 0.1, 1.0):
        assert legacy.at(scale) == modern.at(scale) == max(2.0, 5 * scale)


def test_a_tcp_check_on_the_clb_needs_no_path_and_is_shallow(tmp_path: Path) -> None:
    # the README's variant: the CLB's API default target, TCP:80
    profile = _variant(tmp_path, "legacy", {"protocol": "TCP", "path": None, "depth": "shallow"})
    hc = profile.load_balancer.health_check
    assert hc.path is None
    rows = {r.setting for r in profile.modelled(1.0)}
    assert "load_balancer.health_check.path" not in rows
    assert "load_balancer.health_check.protocol" in rows


def test_a_static_check_on_the_legacy_nginx_is_valid(tmp_path: Path) -> None:
    profile = _variant(tmp_path, "legacy", {"path": "/index.html", "depth": "static"})
    assert profile.load_balancer.health_check.depth.value == "static"


def test_a_shallow_check_on_either_app(tmp_path: Path) -> None:
    for arch in ("legacy", "modern"):
        profile = _variant(tmp_path, arch, {"path": "/health", "depth": "shallow"})
        assert profile.load_balancer.health_check.depth.value == "shallow"


@pytest.mark.parametrize(("base", "check", "field", "says"), [
    # a static page exists only on the legacy nginx
    ("modern", {"depth": "static"}, "load_balancer.health_check.depth",
     "only the sample PHP instance"),
    ("modern", {"path": "/index.html", "depth": "static"}, "load_balancer.health_check.depth",
     "only the sample PHP instance"),
    # the path and the depth disagree
    ("legacy", {"path": "/health"}, "load_balancer.health_check.depth",
     "/health on the php app is a shallow check, not deep"),
    ("modern", {"depth": "shallow"}, "load_balancer.health_check.depth",
     "/ready on the go app is a deep check, not shallow (a shallow check requests /health)"),
    ("legacy", {"path": "/index.html"}, "load_balancer.health_check.depth", "static check"),
    ("legacy", {"path": "/healthz"}, "load_balancer.health_check.path", "does not serve"),
    # a TCP check has no path and proves only that the listener accepts
    ("legacy", {"protocol": "TCP"}, "load_balancer.health_check", "path: a TCP check"),
    ("legacy", {"protocol": "TCP", "path": None}, "load_balancer.health_check",
     "depth: a TCP check"),
    ("legacy", {"protocol": "HTTP", "path": None}, "load_balancer.health_check",
     "path: an HTTP check needs"),
    # an ALB target group checks over HTTP
    ("modern", {"protocol": "TCP", "path": None, "depth": "shallow"}, "load_balancer",
     "health_check.protocol: an ALB"),
    ("legacy", {"initial_healthy_threshold": 11}, "load_balancer.health_check",
     "initial_healthy_threshold 11 is more than healthy_threshold 10"),
])
def test_an_inconsistent_health_check_is_an_error_naming_the_field(
    tmp_path: Path, base: str, check: dict[str, object], field: str, says: str,
) -> None:
    with pytest.raises(ProfileError) as err:
        _variant(tmp_path, base, check)
    text = str(err.value)
    assert re.search(rf"(: {re.escape(field)}: |, {re.escape(field)}: )", text), text
    assert says in text, text


def test_a_teams_own_service_states_the_depth_of_its_own_path(tmp_path: Path) -> None:
    own = {"command": ["my-service", "--port", "{port}"], "health_path": "/healthz"}
    profile = _variant(tmp_path, "modern", {"path": "/healthz", "depth": "shallow"}, app=own)
    assert profile.load_balancer.health_check.path is not None
    with pytest.raises(ProfileError, match=r"load_balancer\.health_check\.depth: static"):
        _variant(tmp_path, "legacy", {"path": "/index.html", "depth": "static"}, app=own)


def _hc(profile: Profile) -> dict[str, object]:
    return haproxy.health_check_vars(profile, 0.1)


def test_the_template_renders_an_http_or_a_tcp_check(tmp_path: Path) -> None:
    servers = [("app-1", 9001)]
    http = haproxy.config(load_profile("legacy"), port=9000, servers=servers, workdir=tmp_path,
                          time_scale=0.1)
    assert "option httpchk GET /ready" in http
    assert "http-check expect status 200" in http
    assert "tcp-check" not in http
    assert "timeout check 2000ms" in http
    tcp_profile = _variant(tmp_path, "legacy", {"protocol": "TCP", "path": None,
                                                "depth": "shallow"})
    tcp = haproxy.config(tcp_profile, port=9000, servers=servers, workdir=tmp_path,
                         time_scale=0.1)
    assert "option tcp-check" in tcp
    assert "httpchk" not in tcp
    assert "http-check" not in tcp
    assert _hc(tcp_profile)["path"] is None
    static = _variant(tmp_path, "legacy", {"path": "/index.html", "depth": "static"})
    assert "option httpchk GET /index.html" in haproxy.config(
        static, port=9000, servers=servers, workdir=tmp_path, time_scale=0.1)
