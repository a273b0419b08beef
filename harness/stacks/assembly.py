"""The stack's components, declared once and assembled from the profile.

Each service has its module under harness/stacks/components (as testcontainers has one
module per service) that builds its `ComponentSpec`; this module says which ones a
profile's stack has, on which ports, and how the topology names them, so `Stack`
never picks components out of a list by position. The app is declared through
`APP_KINDS`: a profile's `app.command` / `app.image` / `app.health_path` point the
same slot at another command, image or health check without code changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.model.database import RdsSettings
from harness.model.profile import Profile
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import HttpOk
from harness.settings import Settings
from harness.stacks.components import apps, awsfault, localstack, mariadb, toxiproxy
from harness.stacks.topology import Component


@dataclass(frozen=True)
class Declared:
    """One component of the stack: what to run, and the port the topology knows it by."""

    spec: ComponentSpec
    port: int
    #: part of the stack's topology (a fault target, in the report); the AWS fault point
    #: is plumbing behind the app->aws edge, not a component of the architecture
    listed: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    def component(self) -> Component:
        return Component(self.spec.name, self.spec.kind, self.port, self.spec.zone)


@dataclass(frozen=True)
class Backing:
    """The components that start first, together: fault proxy, AWS, databases."""

    toxiproxy: Declared
    aws: Declared
    aws_fault: Declared
    databases: tuple[Declared, ...]

    def all(self) -> list[Declared]:
        return [self.toxiproxy, self.aws, self.aws_fault, *self.databases]

    def port(self, name: str) -> int | None:
        return next((d.port for d in self.databases if d.name == name), None)


def declare_backing(
    profile: Profile, settings: Settings, *, take: Callable[[], int], workdir: Path,
    log_dir: Path, seed: int,
) -> Backing:
    """Declare the fault proxy, LocalStack, the AWS fault point and every DB instance."""
    toxi_port, aws_port, aws_fault_port = take(), take(), take()
    toxi = Declared(toxiproxy.spec(
        api_port=toxi_port, binary=settings.tool("toxiproxy-server"), seed=seed), toxi_port)
    aws = Declared(localstack.spec(
        port=aws_port, python=settings.localstack_python, workdir=workdir / "localstack",
        services=["sqs", "s3"]), aws_port)
    # the AWS fault point sits behind the app->aws edge, in front of LocalStack
    fault = Declared(awsfault.spec(port=aws_fault_port, upstream_port=aws_port, seed=seed),
                     aws_fault_port, listed=False)
    db = profile.database
    # an RDS Multi-AZ pair, or an Aurora writer and reader (standing for shared storage):
    # both instances semi-synchronous, either can be the writer, so an acknowledged
    # commit survives a failover on both architectures and costs each one round trip
    ack_timeout_ms = (db.standby_ack_timeout_ms.value if isinstance(db, RdsSettings)
                      else db.storage_ack_timeout_ms.value)
    semi_sync = mariadb.semi_sync_options(ack_timeout_ms) if len(profile.db_instances) > 1 else ()
    # every instance of the database has the class's limit (a reader or standby as well)
    max_connections = db.connection_limit().used
    databases = []
    for server_id, (name, zone) in enumerate(profile.db_instances, start=1):
        port, dbdir = take(), workdir / name
        log_dir.mkdir(parents=True, exist_ok=True)
        mariadb.install_datadir(dbdir / "data", log_dir / f"{name}.log")
        databases.append(Declared(mariadb.spec(
            name, port=port, workdir=dbdir, server_id=server_id, zone=zone, extra=semi_sync,
            max_connections=max_connections,
        ), port))
    return Backing(toxi, aws, fault, tuple(databases))


@dataclass(frozen=True)
class AppSlot:
    """What an app builder gets: the slot, its port, environment and zone."""

    name: str
    port: int
    env: dict[str, str]
    zone: str
    workdir: Path
    log_dir: Path


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
        argv = tuple(arg.format(port=slot.port, host=LOOPBACK) for arg in app.command)
        env = {**slot.env, "APP_LISTEN": f"{LOOPBACK}:{slot.port}", "PORT": str(slot.port)}
        spec = dataclasses.replace(spec, processes=(ProcessSpec("app", argv, env=env),))
    if app.image:
        spec = dataclasses.replace(spec, image=app.image)
    if app.health_path != "/ready" or app.command:
        spec = dataclasses.replace(
            spec, ready=HttpOk(f"http://{LOOPBACK}:{slot.port}{app.health_path}"))
    return Declared(spec, slot.port)
