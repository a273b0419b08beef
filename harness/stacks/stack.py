"""A whole stack on a runtime: start in dependency order, check, seed, tear down.

Order: fault proxy, AWS emulator and databases together; schema, replication
and seed data; the apps behind their edges; the load balancer; the client edge.
Whatever happens during start (error, Ctrl-C), what was started is stopped.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pymysql

from harness.errors import StackError
from harness.model.components import APP_TO_AWS, ComponentDecl, EdgeDecl, Role, declare
from harness.model.database import RdsSettings
from harness.model.orchestrator import EcsSettings
from harness.model.profile import Profile
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.registry import reap_stale, write_json_atomic
from harness.runtime.select import make_runtime
from harness.runtime.wait import HttpOk, wait_ready
from harness.scenario.own import OwnService
from harness.settings import Settings
from harness.stacks import owndata
from harness.stacks import seed as seeding
from harness.stacks.assembly import (
    AppSlot,
    Declared,
    declare_app,
    declare_backing,
    declare_lb,
    declare_proxy,
)
from harness.stacks.capacity import Capacity, read_capacity
from harness.stacks.components import apps, awsfault, haproxy, localstack, mariadb, toxiproxy
from harness.stacks.orchestrators.asg import AsgGroup
from harness.stacks.orchestrators.aurora import AuroraCluster
from harness.stacks.orchestrators.base import Orchestrator, StackHandles
from harness.stacks.orchestrators.ecs import EcsService
from harness.stacks.orchestrators.rds import RdsInstance
from harness.stacks.orchestrators.scaling import ScalingGroup
from harness.stacks.topology import Component, Edge, StackInfo, proxy_name


def new_stack_id(arch: str) -> str:
    return f"{arch}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


class Stack:
    """One architecture's running system under test. Use as a context manager."""

    def __init__(
        self,
        profile: Profile,
        settings: Settings,
        *,
        seed_plan: seeding.SeedPlan | None = None,
        log_dir: Path | None = None,
        lb_port: int | None = None,
        app_bug: str | None = None,
        stack_id: str | None = None,
        events: EventLog | None = None,
        orchestrate: bool = True,
        runtime: str = "process",
        command: str = "run",
        own: OwnService | None = None,
    ) -> None:
        self.profile = profile
        #: a team's own schema, seed, queues and buckets; None: the sample shop's alone
        self.own = own
        #: the stack's components and edges, as the profile declares them
        self._shape = declare(profile)
        self.settings = settings
        self.seed_plan = seed_plan or seeding.SeedPlan()
        self.stack_id = stack_id or new_stack_id(profile.name)
        self.workdir = settings.state_dir / "stacks" / self.stack_id
        # logs outlive the work dir (removed at stop): a run puts them in its results
        self.log_dir = log_dir or settings.state_dir / "logs" / self.stack_id
        self.app_bug = app_bug
        self._lb_port = lb_port
        self._ports = PortAllocator()
        self.runtime_name = runtime
        #: the harness command that holds the stack (up, run, capacity): a plain
        #: `harness down` stops only those of `up`
        self.command = command
        self.runtime: Runtime | None = None
        self._info: StackInfo | None = None
        self.seed_data: seeding.SeedData | None = None
        #: the run's event journal; orchestrator actions go here
        self.events = events or EventLog(self.log_dir / "events.jsonl")
        self.orchestrate = orchestrate
        self.orchestrators: list[Orchestrator] = []
        #: the database orchestrator (failover, reboot), for db faults
        self.database: AuroraCluster | RdsInstance | None = None
        #: the apps' CPU and memory as the kernel held them once the stack was up
        self.capacity: Capacity | None = None
        #: the RDS Proxy's admin endpoint, when the profile has a proxy
        self._proxy_admin: str | None = None
        #: auto scaling (profile `scaling:`), started with the orchestrators
        self.scaling: ScalingGroup | None = None
        self._member_env: dict[str, str] = {}
        self._toxi: toxiproxy.ToxiproxyClient | None = None
        #: while starting: what has started, the edges made, the client->lb edge's port
        self._started: dict[str, Declared] = {}
        self._edges: dict[str, Edge] = {}
        self._entry_port = 0

    @property
    def info(self) -> StackInfo:
        if self._info is None:
            raise RuntimeError("stack not started")
        return self._info

    @property
    def started(self) -> bool:
        return self._info is not None

    def db_roles(self) -> tuple[str, str | None]:
        """The components that are the writer and the reader now (a failover swaps them)."""
        if isinstance(self.database, RdsInstance):
            return self.database.primary, None  # a Multi-AZ standby serves no traffic
        if self.database is not None:
            return self.database.writer, self.database.reader
        return "db-writer", ("db-reader" if self.info.db_reader_port else None)

    def exited(self) -> list[str]:
        """Components whose processes died since they started."""
        return self.runtime.exited() if self.runtime else []

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StackInfo:
        """Bring the whole stack up; on any failure (or Ctrl-C) tear down what started."""
        reap_stale(self.settings.state_dir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        lb_port = (
            self._ports.claim(self._lb_port, "--port") if self._lb_port else self._ports.take()
        )
        self.runtime = make_runtime(
            self.runtime_name, stack_id=self.stack_id, workdir=self.workdir,
            log_dir=self.log_dir, owner={"arch": self.profile.name, "stack_id": self.stack_id,
                                            "command": self.command},
        )
        try:
            self._info = self._start(self.runtime, lb_port)
        except pymysql.MySQLError as exc:
            self.stop()
            raise StackError(f"{self.profile.name} stack: database setup failed: {exc}") from None
        except BaseException:
            self.stop()
            raise
        self._save_info()
        self.capacity = read_capacity(self.profile, self.runtime)
        if self.orchestrate:
            self._start_orchestrators(self.runtime, self._info)
        return self._info

    def _save_info(self) -> None:
        if self._info is not None:
            write_json_atomic(self.workdir / "stack.json", self._info.to_json())

    def _start_orchestrators(self, rt: Runtime, info: StackInfo) -> None:
        handles = StackHandles(
            runtime=rt, info=info, profile=self.profile, time_scale=self.settings.time_scale,
            events=self.events, on_change=self._save_info,
        )
        db = self.profile.database
        self.database = (
            RdsInstance(handles, db) if isinstance(db, RdsSettings) else AuroraCluster(handles, db)
        )
        scheduler = self.profile.orchestrator
        apps: Orchestrator = (
            EcsService(handles, scheduler) if isinstance(scheduler, EcsSettings)
            else AsgGroup(handles, scheduler)
        )
        self.orchestrators = [self.database, apps]
        if self.profile.scaling is not None:
            self.scaling = ScalingGroup(handles, self.profile.scaling, fleet=apps,
                                        launch=self.launch_member)
            self.orchestrators.append(self.scaling)
        for orchestrator in self.orchestrators:
            orchestrator.start()

    def stop(self) -> None:
        """Stop every component. Safe to call twice and after a failed start."""
        # orchestrators first, or they would "replace" what is being stopped
        for orchestrator in self.orchestrators:
            orchestrator.stop()
        self.orchestrators = []
        if self.runtime is not None:
            self.runtime.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
        # after the components: a replacement could still have bound a port until then
        self._ports.close()

    # -- the steps of start ---------------------------------------------------

    def _start(self, rt: Runtime, lb_port: int) -> StackInfo:
        """Every component `declare(profile)` names, in its order, each behind its edges."""
        p, shape = self.profile, self._shape
        self._started, self._edges, self._entry_port = {}, {}, lb_port
        backing = declare_backing(p, self.settings, take=self._ports.take, workdir=self.workdir,
                                  log_dir=self.log_dir, seed=self.seed_plan.seed)
        for d in backing:
            rt.launch(d.spec)
        # LocalStack takes the longest to boot (3-6 s): the database is seeded and the
        # edges made while it does; only the AWS resources wait for it
        slow = [d.name for d in backing if d.decl.kind == "localstack"]
        ready = {d.name: rt.wait(d.name) for d in backing if d.name not in slow}
        writer_port = next(d.port for d in backing if d.name == "db-writer")
        self._database_up(writer_port, [d.port for d in backing if d.decl.role == "database"
                                        and d.name != "db-writer"])
        (toxi,) = [d for d in backing if d.decl.role == "fault-proxy"]
        self._toxi = toxiproxy.ToxiproxyClient(f"http://{LOOPBACK}:{toxi.port}")
        self._connect(backing)
        # with RDS Proxy the tasks' writer endpoint is the proxy, which reaches the writer
        for decl in shape.role("db-proxy"):
            assert decl.target is not None  # a proxy forwards to its target
            self._connect([self._start_proxy(rt, decl, self._started[decl.target].port, ready)])
        ready.update((name, rt.wait(name)) for name in slow)
        (self.workdir / awsfault.PORT_FILE).write_text(str(self._port_of("aws-fault-point")))
        aws_direct = f"http://{LOOPBACK}:{self._port_of('aws')}"
        queue_url = localstack.create_resources(aws_direct, queue=p.aws.queue, bucket=p.aws.bucket)
        own_queues, own_buckets = (
            owndata.create_aws(aws_direct, self.own, existing_bucket=p.aws.bucket)
            if self.own is not None else ({}, {}))
        self._member_env = apps.mapped(self._app_env(queue_url, own_queues) | own_buckets,
                                       self.profile)
        backends, spares = self._start_members(rt, ready)
        for decl in shape.role("lb"):
            self._connect([self._start_lb(rt, decl, backends, spares, ready)])
        missing = [c.name for c in shape.components if c.name not in self._started]
        if missing:
            raise StackError(f"{p.name} stack: declared but never started: {', '.join(missing)}")

        lb_url = f"http://{LOOPBACK}:{lb_port}"
        # the app's readiness path, through the LB (whose own target check is its path)
        ready["end-to-end"] = wait_ready(
            "the stack (through client->lb)", HttpOk(f"{lb_url}{p.app.health_path}"),
            timeout_s=15, log=rt.log_path("lb"),
        )
        reader = self._started.get("db-reader")
        return StackInfo(
            stack_id=self.stack_id, arch=p.name, workdir=str(self.workdir),
            log_dir=str(self.log_dir), lb_url=lb_url, toxiproxy_api=self._toxi.api_url,
            haproxy_socket=str(haproxy.admin_socket(self.workdir)), aws_endpoint=aws_direct,
            queue_url=queue_url, bucket=p.aws.bucket, db_writer_port=writer_port,
            db_reader_port=reader.port if reader else None,
            components={c.name: self._started[c.name].component() for c in shape.listed()},
            edges={e.name: self._edges[e.name] for e in [*shape.edges, *shape.spare_edges()]},
            ready_s=ready, db_proxy_admin=self._proxy_admin, runtime=self.runtime_name,
        )

    def _port_of(self, role: Role) -> int:
        """The port of the one component of `role` (AWS, its fault point)."""
        (decl,) = self._shape.role(role)
        return self._started[decl.name].port

    def _connect(self, started: list[Declared]) -> None:
        """Components just started: noted, and the edges to them made, each through its
        own fault proxy."""
        self._started.update((d.name, d) for d in started)
        ports = {d.name: d.port for d in started}
        for e in self._shape.edges:
            if e.forwards_to in ports:
                # the client->lb edge is the stack's entry: on the port asked for
                listen = self._entry_port if e.source == "client" else None
                self._open_edge(e, ports[e.forwards_to], listen)

    def _open_edge(self, e: EdgeDecl, upstream_port: int, listen_port: int | None = None) -> Edge:
        """Create the edge's fault proxy, on `listen_port` or a port of its own."""
        assert self._toxi is not None
        edge = Edge(e.name, proxy_name(e.name), listen_port or self._ports.take(), e.upstream,
                    upstream_port)
        self._toxi.create(edge.proxy, listen_port=edge.listen_port, upstream_port=upstream_port)
        self._edges[e.name] = edge
        return edge

    def _start_members(self, rt: Runtime, ready: dict[str, float]
                       ) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """The fleet behind its edges, and an edge for every spare slot: the load
        balancer's servers and spare servers, (member, edge port) each."""
        members = [self._declare_app(c.name, self._ports.take()) for c in self._shape.role("app")]
        ready.update(rt.start_many([d.spec for d in members]))
        self._connect(members)
        backends = [(d.name, self._edges[self._shape.member_edge(d.name).name].listen_port)
                    for d in members]
        # auto scaling: an edge and a load balancer slot (in maintenance) for every member
        # the group may grow to; a member launched later gets its own port behind it
        spares = [(e.upstream, self._open_edge(e, self._ports.take()).listen_port)
                  for e in self._shape.spare_edges()]
        return backends, spares

    def _start_proxy(self, rt: Runtime, decl: ComponentDecl, target_port: int,
                     ready: dict[str, float]) -> Declared:
        """RDS Proxy in front of the writer (its own direct port: no fault proxy between)."""
        port, admin_port = self._ports.take(), self._ports.take()
        proxy = declare_proxy(self.profile, self.settings, decl, port=port,
                              admin_port=admin_port, target_port=target_port)
        ready[proxy.name] = rt.start(proxy.spec)
        self._proxy_admin = f"http://{LOOPBACK}:{admin_port}"
        return proxy

    def _database_up(self, writer_port: int, replicas: list[int]) -> None:
        """The writer bootstrapped and seeded; every replica replicating and caught up.

        The sample shop's schema and seed unless the scenario's own data replaces them;
        the team's schema and seed after them (harness.scenario.own).
        """
        shop = self.own is None or self.own.sample_shop
        mariadb.bootstrap(writer_port, shop_schema=shop)
        for port in replicas:
            mariadb.start_replication(reader_port=port, writer_port=writer_port)
        if replicas:
            mariadb.wait_semi_sync(writer_port)
        if shop:
            self.seed_data = seeding.seed(writer_port, self.seed_plan)
        if self.own is not None:
            owndata.prepare_database(writer_port, self.own, log_dir=self.log_dir,
                                     seed=self.seed_plan.seed)
        for port in replicas:
            mariadb.wait_caught_up(reader_port=port, writer_port=writer_port)

    def _start_lb(self, rt: Runtime, decl: ComponentDecl, backends: list[tuple[str, int]],
                  spares: list[tuple[str, int]], ready: dict[str, float]) -> Declared:
        """HAProxy in front of the members' edges, its spare slots in maintenance."""
        lb = declare_lb(self.profile, self.settings, decl, port=self._ports.take(),
                        servers=backends, spares=spares, workdir=self.workdir)
        ready[lb.name] = rt.start(lb.spec)
        admin = haproxy.HaproxyAdmin(haproxy.admin_socket(self.workdir))
        for name, _ in spares:
            admin.set_server_state(name, "maint")  # no member in the slot yet
        return lb

    def _declare_app(self, name: str, port: int) -> Declared:
        """One app instance/task in slot `name` (app-N), listening on port."""
        slot = AppSlot(member=self._shape.get(name), port=port,
                       env={**self._member_env, "APP_NAME": name}, workdir=self.workdir,
                       log_dir=self.log_dir)
        return declare_app(self.profile, self.settings, slot)

    def launch_member(self, name: str) -> Component:
        """Start a new instance/task in a spare slot, behind its edge; not yet registered.

        It gets a fresh port; the slot's `lb->name` edge is pointed at it. The caller
        registers it with the load balancer and adds it to `info.components`.
        """
        assert self.runtime is not None
        assert self._toxi is not None
        port = self._ports.take()
        edge = self.info.edges[self._shape.member_edge(name).name]
        self._toxi.set_upstream(edge.proxy, port)
        member = self._declare_app(name, port)
        self.runtime.launch(member.spec)
        return member.component()

    def _app_env(self, queue_url: str, own_queues: dict[str, str] | None = None
                 ) -> dict[str, str]:
        """The members' environment: their edges' ends on loopback; `own_queues` are the
        scenario's own queue URLs by variable (harness.scenario.own)."""
        ends = {e.name: (LOOPBACK, self._edges[e.name].listen_port)
                for e in self._shape.edges if e.source == "app"}
        aws_port = self._edges[APP_TO_AWS].listen_port
        # The queue URL names LocalStack's own port; the apps must reach it through the edge.
        app_queue_url = urlunsplit(urlsplit(queue_url)._replace(netloc=f"{LOOPBACK}:{aws_port}"))
        env = apps.env(self.profile, edges=ends, queue_url=app_queue_url)
        for variable, url in (own_queues or {}).items():
            env[variable] = urlunsplit(urlsplit(url)._replace(netloc=f"{LOOPBACK}:{aws_port}"))
        if self.app_bug:
            env["APP_BUG"] = self.app_bug
        return env
