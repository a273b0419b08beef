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
from harness.model.database import RdsSettings
from harness.model.orchestrator import EcsSettings
from harness.model.profile import Profile
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.registry import reap_stale, write_json_atomic
from harness.runtime.select import make_runtime
from harness.runtime.wait import HttpOk, wait_ready
from harness.settings import Settings
from harness.stacks import seed as seeding
from harness.stacks.assembly import AppSlot, Declared, declare_app, declare_backing
from harness.stacks.capacity import Capacity, read_capacity
from harness.stacks.components import awsfault, haproxy, localstack, mariadb, rdsproxy, toxiproxy
from harness.stacks.orchestrators.asg import AsgGroup
from harness.stacks.orchestrators.aurora import AuroraCluster
from harness.stacks.orchestrators.base import Orchestrator, StackHandles
from harness.stacks.orchestrators.ecs import EcsService
from harness.stacks.orchestrators.rds import RdsInstance
from harness.stacks.orchestrators.scaling import ScalingGroup
from harness.stacks.slots import member_slots
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
    ) -> None:
        self.profile = profile
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
            log_dir=self.log_dir, owner={"arch": self.profile.name, "stack_id": self.stack_id},
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

    # -- the steps of start ---------------------------------------------------

    def _start(self, rt: Runtime, lb_port: int) -> StackInfo:
        p, s, take = self.profile, self.settings, self._ports.take
        backing = declare_backing(p, s, take=take, workdir=self.workdir, log_dir=self.log_dir,
                                  seed=self.seed_plan.seed)
        writer_port = backing.port("db-writer")
        assert writer_port is not None  # every profile has a writer
        reader_port, standby_port = backing.port("db-reader"), backing.port("db-standby")
        ready = rt.start_many([d.spec for d in backing.all()])
        self._database_up(writer_port, [port for port in (reader_port, standby_port)
                                        if port is not None])

        toxi = toxiproxy.ToxiproxyClient(f"http://{LOOPBACK}:{backing.toxiproxy.port}")
        edges: dict[str, Edge] = {}

        def edge(name: str, upstream: str, upstream_port: int) -> Edge:
            e = Edge(name, proxy_name(name), take(), upstream, upstream_port)
            toxi.create(e.proxy, listen_port=e.listen_port, upstream_port=upstream_port)
            edges[name] = e
            return e

        # with RDS Proxy the tasks' writer endpoint is the proxy, which reaches the writer
        proxy = self._start_proxy(rt, writer_port, ready) if p.proxy is not None else None
        db_edge = (edge("app->db", rdsproxy.NAME, proxy.port) if proxy is not None
                   else edge("app->db", "db-writer", writer_port))
        reader_edge = edge("app->db-reader", "db-reader", reader_port) if reader_port else None
        aws_edge = edge("app->aws", "aws", backing.aws_fault.port)
        (self.workdir / awsfault.PORT_FILE).write_text(str(backing.aws_fault.port))

        aws_direct = f"http://{LOOPBACK}:{backing.aws.port}"
        queue_url = localstack.create_resources(aws_direct, queue=p.aws.queue, bucket=p.aws.bucket)
        self._member_env = self._app_env(db_edge, reader_edge, aws_edge, queue_url)
        app_decls = [self._declare_app(name, take()) for name in p.app_names]
        ready.update(rt.start_many([d.spec for d in app_decls]))

        backends = [(d.name, edge(f"lb->{d.name}", d.name, d.port).listen_port)
                    for d in app_decls]
        # auto scaling: an edge and a load balancer slot (in maintenance) for every member
        # the group may grow to; a member launched later gets its own port behind it
        spares = [(name, edge(f"lb->{name}", name, take()).listen_port)
                  for name in member_slots(p)[len(p.app_names):]]
        self._toxi = toxi
        lb = self._start_lb(rt, backends, spares, ready)

        client = Edge("client->lb", proxy_name("client->lb"), lb_port, "lb", lb.port)
        toxi.create(client.proxy, listen_port=lb_port, upstream_port=lb.port)
        edges[client.name] = client
        lb_url = f"http://{LOOPBACK}:{lb_port}"
        ready["end-to-end"] = wait_ready(
            "the stack (through client->lb)", HttpOk(f"{lb_url}/ready"), timeout_s=15,
            log=rt.log_path("lb"),
        )

        declared = [*backing.all(), *app_decls, lb, *([proxy] if proxy is not None else [])]
        components = {d.name: d.component() for d in declared if d.listed}
        return StackInfo(
            stack_id=self.stack_id, arch=p.name, workdir=str(self.workdir),
            log_dir=str(self.log_dir), lb_url=lb_url, toxiproxy_api=toxi.api_url,
            haproxy_socket=str(self.workdir / "haproxy.sock"), aws_endpoint=aws_direct,
            queue_url=queue_url, bucket=p.aws.bucket, db_writer_port=writer_port,
            db_reader_port=reader_port, components=components, edges=edges, ready_s=ready,
            db_proxy_admin=self._proxy_admin, runtime=self.runtime_name,
        )

    def _start_proxy(self, rt: Runtime, writer_port: int, ready: dict[str, float]
                     ) -> Declared:
        """RDS Proxy in front of the writer (its own direct port: no fault proxy between)."""
        settings = self.profile.proxy
        assert settings is not None
        port, admin_port = self._ports.take(), self._ports.take()
        proxy = Declared(rdsproxy.spec(
            port=port, admin_port=admin_port, target_port=writer_port, settings=settings,
            time_scale=self.settings.time_scale, binary=self.settings.rdsproxy_binary,
            user=mariadb.APP_USER, password=mariadb.APP_PASSWORD, database=mariadb.DATABASE,
        ), port)
        ready[proxy.name] = rt.start(proxy.spec)
        self._proxy_admin = f"http://{LOOPBACK}:{admin_port}"
        return proxy

    def _database_up(self, writer_port: int, replicas: list[int]) -> None:
        """The writer bootstrapped and seeded; every replica replicating and caught up."""
        mariadb.bootstrap(writer_port)
        for port in replicas:
            mariadb.start_replication(reader_port=port, writer_port=writer_port)
        if replicas:
            mariadb.wait_semi_sync(writer_port)
        self.seed_data = seeding.seed(writer_port, self.seed_plan)
        for port in replicas:
            mariadb.wait_caught_up(reader_port=port, writer_port=writer_port)

    def _start_lb(self, rt: Runtime, backends: list[tuple[str, int]],
                  spares: list[tuple[str, int]], ready: dict[str, float]) -> Declared:
        """HAProxy in front of the members' edges, its spare slots in maintenance."""
        lb_inner = self._ports.take()
        cfg = self.workdir / "haproxy.cfg"
        cfg.write_text(haproxy.config(
            self.profile, port=lb_inner, servers=backends, workdir=self.workdir,
            time_scale=self.settings.time_scale, spares=spares,
        ))
        lb = Declared(haproxy.spec(cfg_path=cfg, port=lb_inner,
                                   binary=self.settings.tool("haproxy")), lb_inner)
        ready[lb.name] = rt.start(lb.spec)
        admin = haproxy.HaproxyAdmin(self.workdir / "haproxy.sock")
        for name, _ in spares:
            admin.set_server_state(name, "maint")  # no member in the slot yet
        return lb

    def _declare_app(self, name: str, port: int) -> Declared:
        """One app instance/task in slot `name` (app-N), listening on port."""
        p = self.profile
        slot = AppSlot(name=name, port=port, env={**self._member_env, "APP_NAME": name},
                       zone=p.zone_of(member_slots(p).index(name)), workdir=self.workdir,
                       log_dir=self.log_dir)
        return declare_app(p, self.settings, slot)

    def launch_member(self, name: str) -> Component:
        """Start a new instance/task in a spare slot, behind its edge; not yet registered.

        It gets a fresh port; the slot's `lb->name` edge is pointed at it. The caller
        registers it with the load balancer and adds it to `info.components`.
        """
        assert self.runtime is not None
        assert self._toxi is not None
        port = self._ports.take()
        self._toxi.set_upstream(self.info.edges[f"lb->{name}"].proxy, port)
        member = self._declare_app(name, port)
        self.runtime.launch(member.spec)
        return member.component()

    def _app_env(
        self, db: Edge, reader: Edge | None, aws: Edge, queue_url: str
    ) -> dict[str, str]:
        p = self.profile
        aws_via_edge = f"http://{LOOPBACK}:{aws.listen_port}"
        parts = urlsplit(queue_url)
        # The queue URL names LocalStack's own port; the apps must reach it through the edge.
        app_queue_url = urlunsplit(parts._replace(netloc=f"{LOOPBACK}:{aws.listen_port}"))
        env = {
            "DB_HOST": LOOPBACK, "DB_PORT": str(db.listen_port), "DB_NAME": mariadb.DATABASE,
            "DB_USER": mariadb.APP_USER, "DB_PASSWORD": mariadb.APP_PASSWORD,
            "AWS_ENDPOINT_URL": aws_via_edge, "AWS_REGION": localstack.REGION,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "SQS_QUEUE_URL": app_queue_url,
            **p.app.client.env(),
            **(p.app.db_pool.env() if p.app.db_pool else {}),
            **p.app.env,
        }
        if reader is not None:
            env |= {"DB_READER_HOST": LOOPBACK, "DB_READER_PORT": str(reader.listen_port)}
        if p.aws.bucket:
            env["S3_BUCKET"] = p.aws.bucket
        if self.app_bug:
            env["APP_BUG"] = self.app_bug
        return env
