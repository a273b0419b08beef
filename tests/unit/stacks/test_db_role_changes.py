"""Role changes of the database orchestrators: in order, timed as cited, never overlapping.

The database side is faked (ports hold a `read_only` flag; restarts and catch-up
block on an event), so only the orchestrators' locking, ordering and timing are under
test: a planned role change waits for a rejoin; an Aurora failover restarts the reader it
promotes and sends reads to the writer until the failed writer is back; the DNS TTL is a
part of each failover figure, not added to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from harness.errors import StackError
from harness.model.database import AuroraSettings, RdsSettings
from harness.model.profile_file import load_profile
from harness.records.events import OrchestratorEvent, Source
from harness.runtime.events import EventLog
from harness.stacks.components import mariadb
from harness.stacks.orchestrators import aurora, rds
from harness.stacks.orchestrators.aurora import AuroraCluster
from harness.stacks.orchestrators.rds import RdsInstance
from harness.stacks.topology import proxy_name

PORTS = {"db-writer": 3301, "db-reader": 3302, "db-standby": 3303}
#: how long a planned role change is given to (wrongly) run before the rejoin is let go
OVERLAP_WINDOW_S = 0.5
#: no step here waits on anything but the test's events: beyond this, it is stuck
STUCK_S = 10


class FakeDatabase:
    """Instances by port with their `read_only` flag, and one ordered log of what ran."""

    def __init__(self) -> None:
        self.read_only = dict.fromkeys(PORTS.values(), 0)
        self.log: list[str] = []
        self._lock = threading.Lock()

    def record(self, step: str) -> None:
        with self._lock:
            self.log.append(step)

    def name(self, port: int) -> str:
        return next(name for name, p in PORTS.items() if p == port)

    @contextmanager
    def admin(self, port: int, database: str | None = None) -> Iterator[Any]:
        db = self

        class Cursor:
            def __enter__(self) -> Cursor:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

            def execute(self, sql: str) -> None:
                prefix = "SET GLOBAL read_only = "
                assert sql.startswith(prefix), sql
                db.read_only[port] = int(sql.removeprefix(prefix))
                db.record(f"read_only={db.read_only[port]} {db.name(port)}")

        yield SimpleNamespace(cursor=Cursor)


class FakeRuntime:
    def __init__(self, db: FakeDatabase, running: set[str]) -> None:
        self.db = db
        self.running = set(running)
        self.restarting = threading.Event()
        self.let_restart = threading.Event()
        self.let_restart.set()
        #: the restarts that wait for `let_restart` (None: every one)
        self.held: set[str] | None = None

    def is_running(self, name: str) -> bool:
        return name in self.running

    def restart(self, name: str) -> float:
        self.db.record(f"restart {name}")
        if self.held is None or name in self.held:
            self.restarting.set()
            assert self.let_restart.wait(STUCK_S), "the test never let the restart finish"
        self.running.add(name)
        return 0.0

    def stop(self, name: str) -> None:
        self.db.record(f"stop {name}")
        self.running.discard(name)


class FakeToxiproxy:
    #: (proxy, upstream port) in the order they were set, over all instances
    upstreams: ClassVar[list[tuple[str, int]]] = []

    def __init__(self, api: str) -> None:
        pass

    def set_upstream(self, proxy: str, port: int) -> None:
        self.upstreams.append((proxy, port))


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> FakeDatabase:
    fake = FakeDatabase()

    def promote(port: int, **_: Any) -> dict[str, str]:
        fake.read_only[port] = 0
        fake.record(f"promote {fake.name(port)}")
        return {}

    def rejoin_as_replica(*, replica_port: int, writer_port: int) -> None:
        fake.read_only[replica_port] = 1
        fake.record(f"rejoin {fake.name(replica_port)}")

    def wait_caught_up(*, reader_port: int, writer_port: int, **_: Any) -> None:
        fake.record(f"wait_caught_up {fake.name(reader_port)}")

    monkeypatch.setattr(mariadb, "admin", fake.admin)
    monkeypatch.setattr(mariadb, "promote", promote)
    monkeypatch.setattr(mariadb, "rejoin_as_replica", rejoin_as_replica)
    monkeypatch.setattr(mariadb, "wait_caught_up", wait_caught_up)
    monkeypatch.setattr(mariadb, "start_replication", lambda **_: None)
    monkeypatch.setattr(mariadb, "gtid_position", lambda port: "0-1-10")
    monkeypatch.setattr(mariadb, "semi_sync_clients", lambda port: 1)
    monkeypatch.setattr(aurora, "ToxiproxyClient", FakeToxiproxy)
    monkeypatch.setattr(rds, "ToxiproxyClient", FakeToxiproxy)
    monkeypatch.setattr(FakeToxiproxy, "upstreams", [])
    return fake


def _handles(runtime: FakeRuntime, profile: Any, scale: float | None = None) -> Any:
    info = SimpleNamespace(
        components={name: SimpleNamespace(port=port) for name, port in PORTS.items()},
        edges={"app->db": None, "app->db-reader": None}, toxiproxy_api="http://fake",
        db_proxy_admin=None, db_writer_port=PORTS["db-writer"],
        db_reader_port=PORTS["db-reader"],
    )
    # without a scale every profile timing is zero: the fakes' events alone decide the order
    return SimpleNamespace(
        runtime=runtime, info=info, profile=profile, time_scale=scale or 1.0,
        events=EventLog(None), on_change=lambda: None,
        scaled=(lambda timing: 0.0) if scale is None else (lambda timing: timing.at(scale)))


def _aurora(db: FakeDatabase, running: set[str], scale: float | None = None
            ) -> tuple[AuroraCluster, FakeRuntime]:
    modern = load_profile("modern")
    assert isinstance(modern.database, AuroraSettings)
    runtime = FakeRuntime(db, running)
    return AuroraCluster(_handles(runtime, modern, scale), modern.database), runtime


def _rds(db: FakeDatabase, running: set[str], scale: float | None = None
         ) -> tuple[RdsInstance, FakeRuntime]:
    legacy = load_profile("legacy")
    assert isinstance(legacy.database, RdsSettings)
    settings = legacy.database.model_copy(update={
        "multi_az": legacy.database.multi_az.model_copy(update={"value": True}),
    })
    runtime = FakeRuntime(db, running)
    return RdsInstance(_handles(runtime, legacy, scale), settings), runtime


class Worker(threading.Thread):
    """A role change in its own thread, as the watch loop and the fault executor run them."""

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.action = target
        self.errors: list[BaseException] = []
        self.start()

    def run(self) -> None:
        try:
            self.action()
        except BaseException as exc:
            self.errors.append(exc)

    def finished(self) -> None:
        self.join(STUCK_S)
        assert not self.is_alive(), "deadlock: a role change never ended"
        assert self.errors == []


def test_an_aurora_switchover_waits_until_the_failed_writer_has_rejoined(
    db: FakeDatabase,
) -> None:
    cluster, runtime = _aurora(db, running={"db-reader"})
    runtime.let_restart.clear()
    runtime.held = {"db-writer"}
    failover = Worker(cluster._unplanned)
    assert runtime.restarting.wait(STUCK_S)
    # the reader took over; the old writer is restarting to rejoin as the reader
    switchover = Worker(cluster.switchover)
    switchover.join(OVERLAP_WINDOW_S)
    assert switchover.is_alive(), f"the switchover ran during the rejoin: {db.log}"
    runtime.let_restart.set()
    failover.finished()
    switchover.finished()
    assert db.log == [
        "promote db-reader", "stop db-reader", "restart db-reader",
        "restart db-writer", "rejoin db-writer",
        "read_only=1 db-reader", "wait_caught_up db-writer", "stop db-reader",
    ]


def test_an_aurora_planned_failover_restarts_both_instances_and_loses_nothing(
    db: FakeDatabase,
) -> None:
    """FailoverDBCluster restarts the writer and the failover target (Aurora MySQL 2.10+),
    as a crash's failover does: the old switchover promoted at once and restarted nothing."""
    cluster, runtime = _aurora(db, running={"db-writer", "db-reader"})
    cluster.switchover()
    # caught up before the writer goes: no acknowledged write is lost
    assert db.log == ["read_only=1 db-writer", "wait_caught_up db-reader", "stop db-writer"]
    assert not runtime.is_running("db-writer")
    cluster._unplanned()  # what the watch loop runs once it sees the writer gone
    assert db.log[3:] == [
        "promote db-reader", "stop db-reader", "restart db-reader",
        "restart db-writer", "rejoin db-writer",
    ]
    assert (cluster.writer, cluster.reader) == ("db-reader", "db-writer")
    assert [e["planned"] for e in cluster.h.events.of_kind(OrchestratorEvent.WRITER_DOWN)] == [True]


def test_an_aurora_planned_failover_takes_the_failover_time_and_rejoins_at_once(
    db: FakeDatabase,
) -> None:
    scale = 0.01
    cluster, _ = _aurora(db, running={"db-writer", "db-reader"}, scale=scale)
    settings = cluster.settings
    cluster.switchover()
    started = time.monotonic()
    cluster._unplanned()
    took = time.monotonic() - started
    # the promotion waits failover_s - dns_ttl_s, the endpoint dns_ttl_s more; no
    # replica_restart_s before the rejoin (a shut-down writer, not a crashed one)
    assert settings.failover_s.at(scale) <= took < (
        settings.failover_s.at(scale) + settings.replica_restart_s.at(scale))


def test_a_called_off_aurora_switchover_leaves_the_writer_writable(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never_caught_up(*, reader_port: int, writer_port: int, **_: Any) -> None:
        raise StackError("db-reader did not catch up within 20 s")

    monkeypatch.setattr(mariadb, "wait_caught_up", never_caught_up)
    cluster, _ = _aurora(db, running={"db-writer", "db-reader"})
    with pytest.raises(StackError, match="did not catch up"):
        cluster.switchover()
    assert db.read_only[PORTS["db-writer"]] == 0
    assert (cluster.writer, cluster.reader) == ("db-writer", "db-reader")
    assert not cluster._switching.locked()
    called_off = cluster.h.events.of_kind(OrchestratorEvent.SWITCHOVER_CALLED_OFF)
    assert [e["component"] for e in called_off] == ["db-writer"]


def test_an_rds_planned_failover_waits_until_the_standby_has_caught_up(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    catching_up = threading.Event()
    let_catch_up = threading.Event()

    def caught_up(port: int, target: str, wait_s: float = 1) -> bool:
        # the restarted instance runs (a planned failover finds it up) but lags behind
        catching_up.set()
        assert let_catch_up.wait(STUCK_S), "the test never let the standby catch up"
        db.record(f"caught_up {db.name(port)}")
        return True

    monkeypatch.setattr(mariadb, "caught_up", caught_up)
    instance, _ = _rds(db, running={"db-standby"})
    failover = Worker(instance._primary_lost)
    assert catching_up.wait(STUCK_S)
    planned = Worker(instance.switchover)
    planned.join(OVERLAP_WINDOW_S)
    assert planned.is_alive(), f"the planned failover ran during the rejoin: {db.log}"
    let_catch_up.set()
    failover.finished()
    planned.finished()
    assert db.log == [
        "promote db-standby", "restart db-writer", "rejoin db-writer", "caught_up db-writer",
        "stop db-standby",
    ]
    rejoined = instance.h.events.of_kind(OrchestratorEvent.STANDBY_REJOINED)
    assert [e["component"] for e in rejoined] == ["db-writer"]


# -- timed as cited: a fake clock that each sleep advances ------------------------------

#: the run's time scale in the timed tests (profile timings x 0.1)
SCALE = 0.1


class FakeClock:
    """time.monotonic for the orchestrators: it moves only when they sleep."""

    def __init__(self, db: FakeDatabase) -> None:
        self.now = 1000.0
        self.db = db

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.db.record(f"sleep {seconds:g}")
        self.now += seconds
        return True


def _timed(orchestrator: AuroraCluster | RdsInstance, db: FakeDatabase,
           monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(db)
    monkeypatch.setattr(orchestrator, "sleep", clock.sleep)
    # the orchestrators read time.monotonic (restored after the test)
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    return clock


def _moved_after_s(orchestrator: AuroraCluster | RdsInstance) -> float:
    (moved,) = orchestrator.h.events.of_kind(OrchestratorEvent.WRITER_ENDPOINT_MOVED)
    return float(moved["since_writer_down_s"])


def test_an_aurora_failover_restarts_the_reader_it_promotes_and_the_failed_writer_rejoins_later(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster, _ = _aurora(db, running={"db-reader"}, scale=SCALE)
    _timed(cluster, db, monkeypatch)
    roles: list[tuple[str, str | None]] = []
    sleep = cluster.sleep

    def sleep_noting_roles(seconds: float) -> bool:
        roles.append((cluster.writer, cluster.reader))
        return sleep(seconds)

    monkeypatch.setattr(cluster, "sleep", sleep_noting_roles)
    cluster._unplanned()
    settings = cluster.settings
    promotion = settings.failover_s.at(SCALE) - settings.dns_ttl_s.at(SCALE)
    assert db.log == [
        # applied and writable, then restarted: down from the failure to the promotion
        "promote db-reader", "stop db-reader", f"sleep {promotion:g}", "restart db-reader",
        # the cluster endpoint's DNS record, the last part of failover_s
        f"sleep {settings.dns_ttl_s.at(SCALE):g}",
        # the failed writer is back as the reader only after replica_restart_s
        f"sleep {settings.replica_restart_s.at(SCALE):g}", "restart db-writer",
        "rejoin db-writer",
    ]
    # no replica between the promotion and the rejoin: no reader to switch over to
    assert roles == [("db-writer", "db-reader"), ("db-reader", None), ("db-reader", None)]
    assert (cluster.writer, cluster.reader) == ("db-reader", "db-writer")
    # reads: the reader endpoint goes to the writer (the promoted instance), then to the
    # rejoined reader
    assert [(proxy, port) for proxy, port in FakeToxiproxy.upstreams
            if proxy == proxy_name("app->db-reader")] == [
        (proxy_name("app->db-reader"), PORTS["db-reader"]),
        (proxy_name("app->db-reader"), PORTS["db-writer"]),
    ]
    kinds = [e["kind"] for e in cluster.h.events.of_kind(Source.ORCHESTRATOR)]
    assert kinds == [
        OrchestratorEvent.WRITER_DOWN, OrchestratorEvent.READER_RESTARTING,
        OrchestratorEvent.READER_PROMOTED, OrchestratorEvent.READER_ENDPOINT_TO_WRITER,
        OrchestratorEvent.WRITER_ENDPOINT_MOVED, OrchestratorEvent.READER_REJOINED]
    (rejoined,) = cluster.h.events.of_kind(OrchestratorEvent.READER_REJOINED)
    assert rejoined["since_writer_down_s"] == pytest.approx(
        settings.failover_s.at(SCALE) + settings.replica_restart_s.at(SCALE))


def test_the_aurora_failover_figure_includes_the_dns_flip(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster, _ = _aurora(db, running={"db-reader"}, scale=SCALE)
    _timed(cluster, db, monkeypatch)
    cluster._unplanned()
    # the apps resolve the cluster endpoint: they reach the new writer at failover_s
    assert _moved_after_s(cluster) == pytest.approx(cluster.settings.failover_s.at(SCALE))


def test_rds_proxy_reaches_the_promoted_writer_a_dns_ttl_before_the_failover_figure(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repointed: list[int] = []

    class FakeProxyAdmin:
        def __init__(self, url: str) -> None:
            pass

        def repoint(self, writer_port: int) -> dict[str, Any]:
            repointed.append(writer_port)
            return {}

    monkeypatch.setattr(aurora, "RdsProxyAdmin", FakeProxyAdmin)
    cluster, _ = _aurora(db, running={"db-reader"}, scale=SCALE)
    cluster.h.info.db_proxy_admin = "http://fake-proxy"
    _timed(cluster, db, monkeypatch)
    cluster._unplanned()
    settings = cluster.settings
    assert repointed == [PORTS["db-reader"]]
    assert _moved_after_s(cluster) == pytest.approx(
        settings.failover_s.at(SCALE) - settings.dns_ttl_s.at(SCALE))


def test_the_rds_multi_az_failover_figure_includes_the_dns_change(
    db: FakeDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mariadb, "caught_up", lambda port, target, wait_s=1: True)
    instance, _ = _rds(db, running={"db-standby"}, scale=SCALE)
    _timed(instance, db, monkeypatch)
    instance._primary_lost()
    settings = instance.settings
    failover, ttl = settings.multi_az_failover_s.at(SCALE), settings.dns_ttl_s.at(SCALE)
    assert db.log[:3] == [f"sleep {failover - ttl:g}", "promote db-standby", f"sleep {ttl:g}"]
    assert _moved_after_s(instance) == pytest.approx(failover)
