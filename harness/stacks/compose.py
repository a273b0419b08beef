"""The configs docker-compose.yml's images carry, rendered from the stack profiles.

The compose stacks use the same templates and profile settings as the process runtime;
only the addresses differ (service names on the compose network instead of 127.0.0.1
ports). The files are committed under `stacks/docker/generated/` so that `docker build`
needs no Python; a unit test checks they match what this module renders, and

    python -m harness.stacks.compose

rewrites them after a profile or template change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.model.components import (
    APP_TO_AWS,
    APP_TO_DB,
    APP_TO_READER,
    CLIENT_TO_LB,
    EdgeDecl,
    Role,
    StackDecl,
    declare,
)
from harness.model.profile import Profile
from harness.model.profile_file import load_profile, stacks_root
from harness.stacks.components import haproxy
from harness.stacks.seed import SeedPlan, generate
from harness.stacks.templates import render
from harness.stacks.topology import proxy_name

#: the two compose profiles, named as the stack profiles they render
ARCHITECTURES = ("legacy", "modern")
#: AWS timings of the compose stacks scaled as `harness up --time-scale 0.1` scales them,
#: so a health check runs every 3 s instead of 30 s while exploring by hand
TIME_SCALE = 0.1
#: the port a role's container listens on (each container has its own address)
APP_PORT = 8080
LB_PORT = 80
PORTS: dict[Role, int] = {"app": APP_PORT, "lb": LB_PORT, "database": 3306, "db-proxy": 3306,
                          "aws": 4566}
#: listen ports of the edges on the toxiproxy container (client->lb is the one published);
#: a member's lb->app-N listens on APP_EDGE_BASE_PORT + N
EDGE_PORTS = {CLIENT_TO_LB: 8000, APP_TO_DB: 3306, APP_TO_READER: 3307, APP_TO_AWS: 4566}
APP_EDGE_BASE_PORT = 20000
#: where the haproxy image keeps its runtime files
HAPROXY_RUN = "/run/harness"


def generated_dir() -> Path:
    return stacks_root() / "docker" / "generated"


def edge_port(shape: StackDecl, edge: EdgeDecl) -> int:
    """Where the edge listens on the toxiproxy container."""
    if edge.source == "lb":
        return APP_EDGE_BASE_PORT + shape.get(edge.upstream).ordinal
    if edge.name not in EDGE_PORTS:
        raise KeyError(f"edge {edge.name}: give it a port on the toxiproxy container "
                       "(harness.stacks.compose.EDGE_PORTS)")
    return EDGE_PORTS[edge.name]


def address(shape: StackDecl, name: str) -> str:
    """host:port of a component on the compose network (its name is its host name)."""
    return f"{name}:{PORTS[shape.get(name).role]}"


def fault_proxy(shape: StackDecl) -> str:
    """The fault proxy's host name: every edge's listener."""
    (toxiproxy,) = shape.role("fault-proxy")
    return toxiproxy.name


def edges(profile: Profile) -> list[dict[str, object]]:
    """Toxiproxy's proxies for one architecture (its `-config` file), as the stack's edges.

    An edge goes to its upstream: the compose stacks have no AWS fault point.
    """
    shape = declare(profile)
    return [
        {"name": proxy_name(e.name), "listen": f"0.0.0.0:{edge_port(shape, e)}",
         "upstream": address(shape, e.upstream), "enabled": True}
        for e in shape.edges
    ]


def haproxy_cfg(profile: Profile) -> str:
    """The LB's config: the profile's routing and health checks, targets through their edges."""
    lb, shape = profile.load_balancer, declare(profile)
    scaled = haproxy.TargetGroupSettings.of(profile, TIME_SCALE)
    return render(
        profile.name, "haproxy.cfg.j2",
        port=LB_PORT, bind_host="0.0.0.0",
        admin_socket=f"{HAPROXY_RUN}/haproxy.sock", run_dir=HAPROXY_RUN,
        balance=haproxy._BALANCE[lb.routing.value],
        servers=[
            {"name": e.upstream, "host": fault_proxy(shape), "port": edge_port(shape, e)}
            for e in shape.edges if e.source == "lb"
        ],
        hc=haproxy.health_check_vars(profile, TIME_SCALE),
        idle_timeout_ms=haproxy._ms(lb.idle_timeout_s.at(TIME_SCALE)),
        style=lb.style, fail_open=scaled.fail_open, fail_open_suffix=haproxy.FAIL_OPEN_SUFFIX,
        fault_map=f"{HAPROXY_RUN}/http-errors.map", error_statuses=haproxy.ERROR_STATUSES,
    )


def php_configs(profile: Profile) -> dict[str, str]:
    """nginx.conf and php-fpm.conf of one legacy instance in the php image."""
    php = profile.app.php
    assert php is not None  # a PHP app has its pool (Profile validates it)
    variables = {
        "port": APP_PORT, "listen_host": "0.0.0.0",
        "run_dir": "/run/harness/app", "log_dir": "/var/log/harness", "app_root": "/app",
        "fpm_socket": "/run/harness/app/php-fpm.sock",
        "max_children": php.max_children.value, "nginx_workers": php.nginx_workers,
        "request_timeout_s": int(php.request_timeout_s),
        # the instance's name comes from APP_NAME at run time; nginx's own error pages say
        # "app" (the template's default)
        "app_name": "app",
    }
    return {
        "nginx.conf": render(profile.name, "nginx.conf.j2", **variables),
        "php-fpm.conf": render(profile.name, "php-fpm.conf.j2", **variables),
    }


def seed_sql(plan: SeedPlan) -> str:
    """The shop's data as the harness seeds it (same rows for the same seed)."""
    data = generate(plan)

    def values(rows: list[tuple[int, str, int, int]]) -> str:
        return ",\n".join(f"({a}, '{b}', {c}, {d})" for a, b, c, d in rows)

    return (
        f"-- generated by `python -m harness.stacks.compose` from SeedPlan(seed={plan.seed})\n"
        "DELETE FROM orders; DELETE FROM reservations; DELETE FROM products; DELETE FROM events;\n"
        "INSERT INTO products (id, name, price_cents, stock) VALUES\n"
        f"{values(data.products)};\n"
        "INSERT INTO events (id, name, seats_total, seats_left) VALUES\n"
        f"{values(data.events)};\n"
    )


def files() -> dict[str, str]:
    """Every generated file, by its path under stacks/docker/generated/."""
    out = {
        "http-errors.map": "".join(f"{s} 0\n" for s in haproxy.ERROR_STATUSES),
        "seed.sql": seed_sql(SeedPlan()),
    }
    for arch in ARCHITECTURES:
        profile = load_profile(arch)
        out[f"{arch}/haproxy.cfg"] = haproxy_cfg(profile)
        out[f"{arch}/toxiproxy.json"] = json.dumps(edges(profile), indent=2) + "\n"
        if profile.app.kind == "php":
            out.update({f"{arch}/{name}": text for name, text in php_configs(profile).items()})
    return out


def write(root: Path) -> list[Path]:
    """Write every generated file under root; return the paths written."""
    written = []
    for rel, text in files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def compose_path() -> Path:
    return stacks_root().parent / "docker-compose.yml"


def main() -> None:
    """Rewrite stacks/docker/generated/ and docker-compose.yml."""
    from harness.stacks import compose_file  # it imports this module's constants

    for path in write(generated_dir()):
        print(path, file=sys.stderr)
    compose_path().write_text(compose_file.render())
    print(compose_path(), file=sys.stderr)


if __name__ == "__main__":
    main()
