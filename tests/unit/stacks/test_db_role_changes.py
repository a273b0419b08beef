"""Role changes of the database orchestrators do not overlap: a planned one waits for a rejoin.

The database side is faked (ports hold a `read_only` flag; restarts and catch-up
block on an event), so only the orchestrators' locking and ordering are under test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import StackError
from harness.runtime.events import EventLog
from harness.stacks.components import mariadb
from harness.stacks.orchestrators import aurora, rds
from harness.stacks.orchestrators.aurora import AuroraCluster
from harness.stacks.orchestrators.rds import RdsInstance
from harness.stacks.profile import AuroraSettings, RdsSettings, load_profile

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

    def is_running(self, name: str) -> bool:
        return name in self.running

    def restart(self, name: str) -> float:
        self.db.record(f"restart {name}")
        self.restarting.set()
        assert self.let_restart.wait(STUCK_S), "the test never let the restart finish"
        self.running.add(name)
        return 0.0

    def stop(self, name: str) -> None:
        self.db.record(f"stop {name}")
        self.running.discard(name)


class FakeToxiproxy:
    def __init__(self, api: str) -> None:
        pass

    def set_upstream(self, proxy: str, port: int) -> None:
        pass


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
    return fake


def _handles(runtime: FakeRuntime, profile: Any) -> Any:
    info = SimpleNamespace(
        components={name: SimpleNamespace(port=port) for name, port in PORTS.items()},
        edges={"app->db": None, "app->db-reader": None}, toxiproxy_api="http://fake",
        db_proxy_admin=None, db_writer_port=PORTS["db-writer"],
        db_reader_port=PORTS["db-reader"],
    )
    # every profile timing is zero: the fakes' events alone decide the order
    return SimpleNamespace(runtime=runtime, info=info, profile=profile, time_scale=1.0,
                           events=EventLog(None), on_change=lambda: None,
                           scaled=lambda timing: 0.0)


def _aurora(db: FakeDatabase, running: set[str]) -> tuple[AuroraCluster, FakeRuntime]:
    modern = load_profile("modern")
    assert isinstance(modern.database, AuroraSettings)
    runtime = FakeRuntime(db, running)
    return AuroraCluster(_handles(runtime, modern), modern.database), runtime


def _rds(db: FakeDatabase, running: set[str]) -> tuple[RdsInstance, FakeRuntime]:
    legacy = load_profile("legacy")
    assert isinstance(legacy.database, RdsSettings)
    settings = legacy.database.model_copy(update={
        "multi_az": legacy.database.multi_az.model_copy(update={"value": True}),
    })
    runtime = FakeRuntime(db, running)
    return RdsInstance(_handles(runtime, legacy), settings), runtime


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
        "promote db-reader", "restart db-writer", "rejoin db-writer",
        "read_only=1 db-reader", "wait_caught_up db-writer", "promote db-writer",
    ]
    assert (cluster.writer, cluster.reader) == ("db-writer", "db-reader")


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
    called_off = cluster.h.events.of_kind("orchestrator.switchover_called_off")
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
    rejoined = instance.h.events.of_kind("orchestrator.standby_rejoined")
    assert [e["component"] for e in rejoined] == ["db-writer"]
