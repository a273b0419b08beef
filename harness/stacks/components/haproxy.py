"""HAProxy as the load balancer, configured like a Classic LB or an ALB."""

from __future__ import annotations

from pathlib import Path

from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import PortOpen
from harness.stacks.profile import Profile
from harness.stacks.templates import render

# HAProxy refuses check intervals it cannot keep; below 100 ms checks swamp the apps.
_MIN_INTERVAL_MS = 100


def config(
    profile: Profile, *, port: int, servers: list[tuple[str, int]], workdir: Path,
    time_scale: float,
) -> str:
    """The haproxy.cfg for this profile with AWS timings scaled by time_scale."""
    lb = profile.load_balancer
    hc = lb.health_check
    return render(
        profile.name, "haproxy.cfg.j2",
        port=port,
        admin_socket=str(workdir / "haproxy.sock"),
        run_dir=str(workdir),
        balance=lb.balance,
        servers=[{"name": name, "port": p} for name, p in servers],
        hc={
            "path": hc.path,
            "interval_ms": max(_MIN_INTERVAL_MS, int(hc.interval_s * 1000 * time_scale)),
            "timeout_ms": max(_MIN_INTERVAL_MS, int(hc.timeout_s * 1000 * time_scale)),
            "rise": hc.healthy_threshold,
            "fall": hc.unhealthy_threshold,
        },
        idle_timeout_ms=int(lb.idle_timeout_s * 1000),
        retries=lb.retries_on_connect_failure,
    )


def spec(*, cfg_path: Path, port: int, binary: str = "haproxy") -> ComponentSpec:
    return ComponentSpec(
        name="lb", kind="haproxy",
        processes=(ProcessSpec(name="haproxy", argv=(binary, "-db", "-f", str(cfg_path))),),
        ready=PortOpen(port, LOOPBACK), ready_timeout_s=10, stop_grace_s=3,
    )
