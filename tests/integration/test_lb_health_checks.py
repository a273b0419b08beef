"""Health checks on the real HAProxy and nginx: a new ALB target's admission after one
check, TCP and HTTP checks the installed HAProxy accepts, the static page nginx serves
without php-fpm.

Small and fast: HAProxy in front of in-process HTTP servers, nginx alone; no stack.
"""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.runtime.ports import LOOPBACK, PortAllocator, is_listening
from harness.stacks.components import apps, haproxy
from harness.stacks.components.haproxy import HaproxyAdmin
from harness.stacks.components.targets import TargetGroup
from tests.integration.faults.fault_support import poll

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

#: a 30 s AWS interval becomes 1 s: the ALB's healthy threshold (5) takes ~5 s
TIME_SCALE = 1 / 30


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("X-Served-By", self.server.name)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a TCP check connects and closes without a request


@contextlib.contextmanager
def _target(name: str, port: int) -> Iterator[None]:
    """A target that passes every check and names itself in X-Served-By."""
    server = _Server((LOOPBACK, port), _Answer)
    server.name = name  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def _haproxy(profile: Profile, workdir: Path) -> Iterator[tuple[str, TargetGroup]]:
    """HAProxy for `profile` with app-1 registered and a spare slot app-2 in maintenance."""
    ports = PortAllocator()
    lb, one, two = ports.take(), ports.take(), ports.take()
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(haproxy.config(profile, port=lb, servers=[("app-1", one)], workdir=workdir,
                                  time_scale=TIME_SCALE, spares=[("app-2", two)]))
    with _target("app-1", one), _target("app-2", two):
        proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            poll(lambda: is_listening(lb) and (workdir / "haproxy.sock").exists(), 10,
                 "HAProxy listens")
            admin = HaproxyAdmin(workdir / "haproxy.sock")
            admin.set_server_state("app-2", "maint")
            yield f"http://{LOOPBACK}:{lb}", TargetGroup.of(workdir / "haproxy.sock")
        finally:
            proc.terminate()
            proc.wait(10)


def _variant(tmp: Path, base: str, **check: object) -> Profile:
    cited = {k: None if v is None else {"value": v, "source": "test: a check a team may pick"}
             for k, v in check.items()}
    path = tmp / "variant.yaml"
    path.write_text(yaml.safe_dump({"extends": base, "load_balancer": {"health_check": cited}}))
    return load_profile(str(path))


def _registered_until_served(url: str, group: TargetGroup) -> float:
    """Register app-2; the seconds until HAProxy has it in service and it answers."""
    started = time.monotonic()
    group.register("app-2")
    poll(lambda: group.healthy("app-2"), 30, "app-2 in service", every_s=0.02)
    admitted = time.monotonic() - started
    served = {requests.get(url, timeout=5).headers["X-Served-By"] for _ in range(6)}
    assert served == {"app-1", "app-2"}, served
    return admitted


def test_a_new_alb_target_takes_traffic_after_one_check_not_five(short_tmp: Path) -> None:
    profile = load_profile("modern")
    hc = profile.load_balancer.health_check
    interval = hc.interval_s.at(TIME_SCALE)
    assert (hc.initial_healthy_threshold.value, hc.healthy_threshold.value) == (1, 5)
    with _haproxy(profile, short_tmp) as (url, group):
        admitted = _registered_until_served(url, group)
    # the first check comes within an interval of registering; rise (5) would take 4 more
    print(f"\nnew ALB target in service {admitted:.2f} s after registering "
          f"(interval {interval:.2f} s)")
    assert admitted < 2 * interval, f"admitted after {admitted:.2f} s"


def test_without_the_initial_rule_a_new_target_waits_for_the_healthy_threshold(
    short_tmp: Path,
) -> None:
    # the CLB's rule (and the old behaviour here): a new target needs every one of the checks
    profile = _variant(short_tmp, "modern", initial_healthy_threshold=5)
    interval = profile.load_balancer.health_check.interval_s.at(TIME_SCALE)
    with _haproxy(profile, short_tmp) as (url, group):
        admitted = _registered_until_served(url, group)
    print(f"\nnew target with the healthy threshold in service {admitted:.2f} s after "
          f"registering (interval {interval:.2f} s)")
    assert admitted >= 4 * interval * 0.9, f"admitted after {admitted:.2f} s"


@pytest.mark.parametrize("check", [
    {"protocol": "TCP", "path": None, "depth": "shallow"},
    {"path": "/index.html", "depth": "static"},
    {"path": "/health", "depth": "shallow"},
])
def test_the_installed_haproxy_accepts_every_check_the_profiles_allow(
    short_tmp: Path, check: dict[str, object],
) -> None:
    cited = {k: v if v is None else {"value": v, "source": "test: a check a team may pick"}
             for k, v in check.items()}
    path = short_tmp / "variant.yaml"
    path.write_text(yaml.safe_dump({"extends": "legacy",
                                    "load_balancer": {"health_check": cited}}))
    cfg = short_tmp / "haproxy.cfg"
    cfg.write_text(haproxy.config(load_profile(str(path)), port=9000,
                                  servers=[("app-1", 9001)], workdir=short_tmp,
                                  time_scale=0.1))
    checked = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_tcp_check_passes_a_target_that_accepts_connections(short_tmp: Path) -> None:
    profile = _variant(short_tmp, "legacy", protocol="TCP", path=None, depth="shallow")
    assert profile.load_balancer.health_check.path is None
    with _haproxy(profile, short_tmp) as (url, _group):
        admin = HaproxyAdmin(short_tmp / "haproxy.sock")
        poll(lambda: admin.server_states()["app-1"].get("srv_check_status") == "6", 10,
             "a passed layer-4 check (L4OK)")
        assert requests.get(url, timeout=5).status_code == 200


def test_nginx_serves_the_static_check_page_without_php_fpm(short_tmp: Path) -> None:
    port = PortAllocator().take()
    spec = apps.php_instance(
        "app-9", profile=load_profile("legacy"), port=port, workdir=short_tmp / "app-9",
        log_dir=short_tmp / "logs", env={}, zone="a",
    )
    nginx = next(p for p in spec.processes if p.name == "nginx")
    # php-fpm is never started: its socket does not exist
    proc = subprocess.Popen(list(nginx.argv), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        poll(lambda: is_listening(port), 10, "nginx listens")
        page = requests.get(f"http://{LOOPBACK}:{port}/index.html", timeout=5)
        app = requests.get(f"http://{LOOPBACK}:{port}/health", timeout=5)
    finally:
        proc.terminate()
        proc.wait(10)
    assert page.status_code == 200
    assert page.headers["X-Served-By"] == "app-9"
    assert "served by nginx alone" in page.text
    # everything else needs php-fpm
    assert app.status_code == 502
