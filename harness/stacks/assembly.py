"""The stack's components as they run, built from their one declaration.

`harness.model.components.declare` says which components a profile's stack has and
where; each service has its module under harness/stacks/components (as testcontainers
has one module per service) that builds its `ComponentSpec`. This module turns a
declaration into a `Declared` (the spec to run and the port the topology knows it by),
by kind, so `Stack` never picks components out of a list by position. The app is built
through `APP_KINDS`: a profile's `app.command` / `app.image` point the same slot at
another command or image without code changes (every builder checks readiness on
`app.health_path`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StackError
from harness.model.components import ComponentDecl, StackDecl, declare
from harness.model.profile import Profile
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.settings import Settings
from harness.stacks.components import (
    apps,
    awsfault,
    haproxy,
    localstack,
    mariadb,
    rdsproxy,
    toxiproxy,
)
from harness.stacks.topology import Component


@dataclass(frozen=True)
class Declared:
    """One component as the stack runs it: its declaration, what to run, and its port."""

    decl: ComponentDecl
    spec: ComponentSpec
    port: int

    def __post_init__(self) -> None:
        runs = (self.spec.name, self.spec.kind, self.spec.zone)
        said = (self.decl.name, self.decl.kind, self.decl.zone)
        if runs != said:
            raise StackError(f"{self.decl.name}: its spec runs (name, kind, zone) {runs}; "
                             f"its declaration says {said}")

    @property
    def name(self) -> str:
        return self.decl.name

    def component(self) -> Component:
        return Component(self.decl.name, self.decl.kind, self.port, self.decl.zone)


@dataclass(frozen=True)
class _Backing:
    """What a backing component's builder gets: the stack's, and every backing port."""

    shape: StackDecl
    profile: Profile
    settings: Settings
    workdir: Path
    log_dir: Path
    seed: int
    ports: dict[str, int]


def _toxiproxy(c: ComponentDecl, b: _Backing) -> ComponentSpec:
    return toxiproxy.spec(api_port=b.ports[c.name], binary=b.settings.tool("toxiproxy-server"),
                          seed=b.seed)


def _localstack(c: ComponentDecl, b: _Backing) -> ComponentSpec:
    return localstack.spec(port=b.ports[c.name], python=b.settings.localstack_python,
                           workdir=b.workdir / "localstack", services=["sqs", "s3"])


def _faultpoint(c: ComponentDecl, b: _Backing) -> ComponentSpec:
    return awsfault.spec(port=b.ports[c.name], upstream_port=b.ports[b.shape.behind(c.name)],
                         seed=b.seed)


def _mariadb(c: ComponentDecl, b: _Backing) -> ComponentSpec:
    dbdir = b.workdir / c.name
    b.log_dir.mkdir(parents=True, exist_ok=True)
    mariadb.install_datadir(dbdir / "data", b.log_dir / f"{c.name}.log",
                            cache=b.settings.cache_dir)
    return mariadb.spec(c.name, port=b.ports[c.name], workdir=dbdir, zone=c.zone,
                        options=mariadb.instance_options(b.profile, c.ordinal))


#: how each kind that needs nothing else ready (`StackDecl.backing`) is built
BACKING_KINDS: dict[str, Callable[[ComponentDecl, _Backing], ComponentSpec]] = {
    "toxiproxy": _toxiproxy, "localstack": _localstack, "faultpoint": _faultpoint,
    "mariadb": _mariadb,
}


def declare_backing(
    profile: Profile, settings: Settings, *, take: Callable[[], int], workdir: Path,
    log_dir: Path, seed: int,
) -> list[Declared]:
    """The components that start first, together: fault proxy, AWS and its fault point,
    every database instance."""
    shape = declare(profile)
    ports = {c.name: take() for c in shape.backing()}
    ctx = _Backing(shape, profile, settings, workdir, log_dir, seed, ports)
    return [Declared(c, BACKING_KINDS[c.kind](c, ctx), ports[c.name]) for c in shape.backing()]


def declare_proxy(profile: Profile, settings: Settings, decl: ComponentDecl, *, port: int,
                  admin_port: int, target_port: int) -> Declared:
    """RDS Proxy in front of its target (its own direct port: no fault proxy between)."""
    assert profile.proxy is not None  # a db-proxy is declared for a profile with a proxy
    return Declared(decl, rdsproxy.spec(
        decl.name, port=port, admin_port=admin_port, target_port=target_port,
        settings=profile.proxy, time_scale=settings.time_scale, binary=settings.rdsproxy_binary,
    ), port)


def declare_lb(profile: Profile, settings: Settings, decl: ComponentDecl, *, port: int,
               servers: list[tuple[str, int]], spares: list[tuple[str, int]], workdir: Path,
               ) -> Declared:
    """HAProxy in front of the members' edges, with its config written to the work dir."""
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(haproxy.config(profile, port=port, servers=servers, workdir=workdir,
                                  time_scale=settings.time_scale, spares=spares))
    return Declared(decl, haproxy.spec(cfg_path=cfg, port=port,
                                       admin_socket=haproxy.admin_socket(workdir),
                                       binary=settings.tool("haproxy")), port)


@dataclass(frozen=True)
class AppSlot:
    """What an app builder gets: the member's declaration, its port and environment."""

    member: ComponentDecl
    port: int
    env: dict[str, str]
    workdir: Path
    log_dir: Path

    @property
    def name(self) -> str:
        return self.member.name

    @property
    def zone(self) -> str | None:
        return self.member.zone


AppBuilder = Callable[[Profile, Settings, AppSlot], ComponentSpec]


def _php(profile: Profile, settings: Settings, slot: AppSlot) -> ComponentSpec:
    return apps.php_instance(
        slot.name, profile=profile, port=slot.port, workdir=slot.workdir / slot.name,
        log_dir=slot.log_dir, env=slot.env, zone=slot.zone,
        php_fpm=settings.tool("php-fpm8.2"), nginx=settings.tool("nginx"),
    )


def _go(profile: Profile, settings: Settings, slot: AppSlot) -> ComponentSpec:
    return apps.go_task(slot.name, profile=profile, port=slot.port,
                        binary=settings.go_app_binary, env=slot.env, zone=slot.zone)


#: the sample services by `app.kind`; a team's own service is `app.command` / `app.image`
APP_KINDS: dict[str, AppBuilder] = {"php": _php, "go": _go}


def declare_app(profile: Profile, settings: Settings, slot: AppSlot) -> Declared:
    """One app instance/task in `slot`, as the profile's `app:` declares it."""
    app = profile.app
    spec = APP_KINDS[app.kind](profile, settings, slot)
    if app.command:
        # a team's own service: its command, with the port and listen address it is given
        argv = tuple(arg.format(port=slot.port, host=LOOPBACK, python=sys.executable)
                     for arg in app.command)
        env = {**slot.env, "APP_LISTEN": f"{LOOPBACK}:{slot.port}", "PORT": str(slot.port)}
        cwd = Path(app.workdir) if app.workdir else None
        spec = dataclasses.replace(
            spec, processes=(ProcessSpec("app", argv, env=env, cwd=cwd),))
    if app.command or app.image:
        # a team's service: its image under the docker runtime, with docker's init
        spec = dataclasses.replace(spec, image=app.docker_image(), init=True)
    return Declared(slot.member, spec, slot.port)
