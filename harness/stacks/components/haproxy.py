"""HAProxy as the load balancer, configured like a Classic LB, an ALB or an NLB."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.errors import FaultError
from harness.model.profile import Profile
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import AllOf, PortOpen, SocketOpen
from harness.stacks.templates import render

# HAProxy refuses check intervals it cannot keep; below 100 ms checks swamp the apps.
_MIN_INTERVAL_MS = 100

#: the profile's routing (AWS names) as HAProxy balance algorithms: least outstanding
#: requests is HAProxy's leastconn (fewest requests in flight on the server); the NLB's
#: flow hash hashes each connection's source address and port (the template sets
#: `sess.flow`), so a connection, and every request on it, stays on one target
_BALANCE = {"round_robin": "roundrobin", "least_outstanding_requests": "leastconn",
            "flow_hash": "hash var(sess.flow)"}


def admin_socket(workdir: Path) -> Path:
    """Where a stack's HAProxy keeps its runtime API socket (under either runtime)."""
    return workdir / "haproxy.sock"


def _ms(seconds: float) -> int:
    return max(_MIN_INTERVAL_MS, int(seconds * 1000))


#: name suffix of a target's unchecked backup copy (ALB fail-open)
FAIL_OPEN_SUFFIX = ".failopen"


def config(
    profile: Profile, *, port: int, servers: list[tuple[str, int]], workdir: Path,
    time_scale: float, spares: list[tuple[str, int]] | None = None,
) -> str:
    """The haproxy.cfg for this profile with AWS timings scaled by time_scale.

    `spares` are server slots for members auto scaling may launch; the stack puts them in
    maintenance (no traffic, no checks) through the runtime API as soon as HAProxy runs,
    until a member is registered in one (`TargetGroup.register`). (A `disabled` keyword
    would leave a configured-maintenance flag in `srv_admin_state` after registration.)

    Also writes the target group's settings next to the admin socket
    (`TargetGroup.of` reads them), for whoever takes targets out.
    """
    lb = profile.load_balancer
    target_group = TargetGroupSettings.of(profile, time_scale)
    target_group.write(workdir)
    return render(
        profile.name, "haproxy.cfg.j2",
        port=port,
        admin_socket=str(admin_socket(workdir)),
        run_dir=str(workdir),
        balance=_BALANCE[lb.routing.value],
        servers=[{"name": name, "port": p} for name, p in [*servers, *(spares or [])]],
        hc=health_check_vars(profile, time_scale),
        idle_timeout_ms=_ms(lb.idle_timeout_s.at(time_scale)),
        style=lb.style, fail_open=target_group.fail_open, fail_open_suffix=FAIL_OPEN_SUFFIX,
        fault_map=str(write_fault_map(workdir)),
        error_statuses=ERROR_STATUSES,
    )


def health_check_vars(profile: Profile, time_scale: float) -> dict[str, object]:
    """The template's `hc`: the profile's health check at the run's time scale.

    `rise` is the healthy threshold of a target that went unhealthy; a newly registered
    one is admitted sooner when the profile says so (`TargetGroup.register`).
    """
    hc = profile.load_balancer.health_check
    return {
        "protocol": hc.protocol.value,
        "path": hc.path.value if hc.path is not None else None,
        "interval_ms": _ms(hc.interval_s.at(time_scale)),
        "timeout_ms": _ms(hc.timeout_s.at(time_scale)),
        "rise": hc.healthy_threshold.value,
        "fall": hc.unhealthy_threshold.value,
    }


def args(cfg_path: str) -> tuple[str, ...]:
    """Its command line after `haproxy -db` (in the foreground: the image's entrypoint)."""
    return ("-f", cfg_path)


def spec(*, cfg_path: Path, port: int, admin_socket: Path, binary: str = "haproxy"
         ) -> ComponentSpec:
    """HAProxy in the foreground; ready once both its port and its admin socket answer.

    The port alone is not enough: HAProxy listens on its TCP port a moment before it
    makes the admin socket, and the stack's next step is a runtime API call (spare slots
    into maintenance). On a busy machine a start read "ready" on the port then found no
    socket (`No such file or directory; is the stack up?`) in CI.
    """
    return ComponentSpec(
        name="lb", kind="haproxy",
        processes=(ProcessSpec(name="haproxy", argv=(binary, "-db", *args(str(cfg_path)))),),
        ready=AllOf((PortOpen(port, LOOPBACK), SocketOpen(admin_socket))),
        ready_timeout_s=10, stop_grace_s=3,
    )


@dataclass(frozen=True)
class TargetGroupSettings:
    """What taking a target out needs from the profile, at the run's time scale."""

    deregistration_delay_s: float
    #: targets have fail-open backup copies that follow their state
    fail_open: bool
    #: passing checks that admit a newly registered target when fewer than HAProxy's
    #: `rise` (the ALB's one); None: a new target waits for `rise` checks (the CLB)
    initial_checks: int | None = None
    #: how long after registering a target's first checks can admit it (its passes must
    #: come before it failed `unhealthy_threshold` checks), in run seconds
    initial_window_s: float = 0.0

    FILE = "target-group.json"

    @classmethod
    def of(cls, profile: Profile, time_scale: float) -> TargetGroupSettings:
        lb = profile.load_balancer
        hc = lb.health_check
        initial = hc.initial_healthy_threshold.value
        early = initial < hc.healthy_threshold.value
        return cls(
            deregistration_delay_s=lb.deregistration_delay_s.at(time_scale),
            fail_open=lb.when_all_unhealthy.value == "fail_open",
            initial_checks=initial if early else None,
            initial_window_s=(
                (hc.unhealthy_threshold.value + initial) * hc.interval_s.at(time_scale)
                + hc.timeout_s.at(time_scale)) if early else 0.0,
        )

    def write(self, workdir: Path) -> None:
        (workdir / self.FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, workdir: Path) -> TargetGroupSettings:
        """The settings of the stack in workdir; FaultError if the stack has none."""
        path = workdir / cls.FILE
        try:
            data = json.loads(path.read_text())
            initial = data["initial_checks"]
            return cls(float(data["deregistration_delay_s"]), bool(data["fail_open"]),
                       None if initial is None else int(initial),
                       float(data["initial_window_s"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FaultError(
                f"{path}: target group settings unreadable ({exc}); is the stack up?"
            ) from None


#: HTTP statuses the http_errors fault can answer with; one map key each
ERROR_STATUSES = (500, 502, 503, 504)


def fault_map_path(workdir: Path) -> Path:
    return workdir / "http-errors.map"


def write_fault_map(workdir: Path) -> Path:
    """The map the http_errors rules read: status -> share in 1/100 %, all 0 at start."""
    path = fault_map_path(workdir)
    path.write_text("".join(f"{s} 0\n" for s in ERROR_STATUSES))
    return path


class HaproxyAdmin:
    """HAProxy's runtime API over its admin socket (one command per connection)."""

    def __init__(self, socket_path: str | Path, timeout_s: float = 5.0) -> None:
        self.socket_path = str(socket_path)
        self.timeout_s = timeout_s

    def command(self, cmd: str) -> str:
        """Send one command; return HAProxy's answer. FaultError if it cannot be sent."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(self.socket_path)
                sock.sendall(cmd.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise FaultError(
                f"haproxy runtime API {self.socket_path}: {cmd!r} failed: {exc}; is the stack up?"
            ) from None
        answer = b"".join(chunks).decode(errors="replace").strip()
        lowered = answer.lower()
        if lowered.startswith(("unknown", "no such", "require")) or "not found" in lowered:
            raise FaultError(f"haproxy runtime API: {cmd!r}: {answer}")
        return answer

    def set_server_state(self, server: str, state: str, backend: str = "app") -> None:
        """ready, drain or maint (a deregistered target); its fail-open copy follows."""
        names = [server]
        copy = server + FAIL_OPEN_SUFFIX
        if copy in self.server_states(backend):
            names.append(copy)
        self.command("; ".join(f"set server {backend}/{n} state {state}" for n in names))

    def in_flight(self, server: str, backend: str = "app") -> int:
        """Requests in flight or queued on the server (and its fail-open copy)."""
        # `show stat` is CSV: a `# pxname,svname,qcur,qmax,scur,...` header, one row per server
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",") if lines else []
        total = 0
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == backend and row.get("svname") in (
                server, server + FAIL_OPEN_SUFFIX
            ):
                total += int(row.get("scur") or 0) + int(row.get("qcur") or 0)
        return total

    def server_states(self, backend: str = "app") -> dict[str, dict[str, str]]:
        """Per server of the backend: its operational and admin state, from `show servers state`."""
        text = self.command(f"show servers state {backend}")
        # the first line is the format version, then a `# ...` header, then one row per server
        lines = [ln for ln in text.splitlines()[1:] if ln.strip()]
        header: list[str] = []
        result: dict[str, dict[str, str]] = {}
        for line in lines:
            if line.startswith("#"):
                header = line.lstrip("# ").split()
                continue
            row = dict(zip(header, line.split(), strict=False))
            if "srv_name" in row:
                result[row["srv_name"]] = row
        return result

    def admit(self, server: str, backend: str = "app") -> None:
        """Put a target in service now, as if it had passed `rise` checks."""
        self.command(f"set server {backend}/{server} health up")

    def server_up(self, server: str, backend: str = "app") -> bool:
        """True when the server is in service (operational state 2, not in maintenance)."""
        row = self.server_states(backend).get(server, {})
        return row.get("srv_op_state") == "2" and row.get("srv_admin_state") == "0"

    def set_error_share(self, map_file: Path, status: int, percent: float) -> None:
        """Answer `percent` % of requests with `status` at the frontend (0 = off)."""
        self.command(f"set map {map_file} {status} {round(percent * 100)}")
