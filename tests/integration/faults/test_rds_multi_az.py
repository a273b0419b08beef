"""Legacy RDS Multi-AZ at time scale 0.05: a semi-synchronous standby takes over.

Orders are written straight through the app->db edge (the instance endpoint as
the apps see it), so what is measured is the database's failover and not the
load balancer's health checks. Failover 90 s -> 4.5 s, DNS TTL 5 s -> 0.25 s,
instance restart 120 s -> 6 s. The crash test kills the primary's process and
cuts its (slowed) replication link at once, as a host failure would; the lost
standby and the planned failover go through the fault executor.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import pytest
from conftest import running_stack

from harness.faults.base import FaultContext
from harness.faults.executor import FaultExecutor, plan
from harness.model.database import RdsSettings
from harness.records.events import OrchestratorEvent, Source
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.scenario.faults import Topology, load_timeline
from harness.stacks.components import mariadb
from harness.stacks.components.mariadb import APP_PASSWORD, APP_USER, DATABASE, admin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.orchestrators.rds import RdsInstance
from harness.stacks.stack import Stack

from .fault_support import poll

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

TIME_SCALE = 0.05


@pytest.fixture(scope="module")
def legacy(state_dir: Path) -> Iterator[Stack]:
    with running_stack("legacy", state_dir, time_scale=TIME_SCALE, seed=5, products=10,
                       events=1) as running:
        yield running


def _settings(stack: Stack) -> RdsSettings:
    db = stack.profile.database
    assert isinstance(db, RdsSettings)
    return db


def _rds(stack: Stack) -> RdsInstance:
    assert isinstance(stack.database, RdsInstance)
    return stack.database


def _inject(stack: Stack, fault: dict[str, object]) -> FaultExecutor:
    assert stack.runtime is not None
    ctx = FaultContext(stack.info, stack.runtime, EventLog(None, t0=stack.events.t0),
                       database=stack.database)
    specs = load_timeline([fault], source="test", topology=Topology.from_stack(stack.info))
    ex = FaultExecutor(plan(specs, ctx, phases={}), ctx)
    at = ctx.events.elapsed()
    for p in ex.planned:
        p.start_s = at
    ex.start()
    return ex


@dataclass
class OrderStream:
    """Writers inserting orders through the app->db edge; an order is acknowledged at COMMIT."""

    port: int
    prefix: str = field(default_factory=lambda: f"maz-{uuid.uuid4().hex[:8]}")
    acked: dict[str, float] = field(default_factory=dict)
    failed_at: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, writers: int = 4) -> OrderStream:
        for w in range(writers):
            thread = threading.Thread(target=self._write, args=(w,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _write(self, writer: int) -> None:
        conn: pymysql.connections.Connection[pymysql.cursors.Cursor] | None = None
        n = 0
        while not self._stop.is_set():
            key = f"{self.prefix}-{writer}-{n}"
            n += 1
            try:
                if conn is None:
                    conn = pymysql.connect(
                        host=LOOPBACK, port=self.port, user=APP_USER, password=APP_PASSWORD,
                        database=DATABASE, connect_timeout=1, read_timeout=3, write_timeout=3,
                    )
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO orders (idempotency_key, product_id, quantity) "
                                "VALUES (%s, 1, 1)", (key,))
                conn.commit()
                with self._lock:
                    self.acked[key] = time.monotonic()
                # ~50 orders/s per writer: a busy shop, not more than a replica can apply
                time.sleep(0.02)
            except pymysql.MySQLError:
                with self._lock:
                    self.failed_at.append(time.monotonic())
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def acked_after(self, t: float) -> list[float]:
        with self._lock:
            return sorted(at for at in self.acked.values() if at > t)


def _stored(port: int, prefix: str) -> set[str]:
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute("SELECT idempotency_key FROM orders WHERE idempotency_key LIKE %s",
                    (prefix + "-%",))
        return {str(row[0]) for row in cur.fetchall()}


def _status(port: int, name: str) -> str:
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
        row = cur.fetchone()
    return str(row[1]) if row else ""


def _read_only(port: int) -> int:
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.read_only")
        row = cur.fetchone()
    return int(row[0]) if row else -1


def _events_since(stack: Stack, kind: OrchestratorEvent, t_s: float) -> list[dict[str, object]]:
    return [e for e in stack.events.of_kind(kind) if e["t_s"] >= t_s]


def _slow_link_to_standby(stack: Stack, latency_ms: int) -> str:
    """Replicate to the standby through a proxy with latency, as between two zones.

    Cut when the primary dies, the link drops what was in flight: an asynchronous
    standby would then miss the last commits the primary had acknowledged (seen: 4 of
    ~6000 lost with replication made asynchronous), a semi-synchronous one has them all.
    The orchestrator connects a rejoining standby directly again. Returns the proxy.
    """
    rds = _rds(stack)
    assert rds.standby is not None
    primary_port = stack.info.components[rds.primary].port
    toxi = ToxiproxyClient(stack.info.toxiproxy_api)
    link = toxi.create("test_primary_to_standby", listen_port=PortAllocator().take(),
                       upstream_port=primary_port)
    toxi.add_toxic(link.name, name="zones", type="latency", attributes={"latency": latency_ms})
    with admin(stack.info.components[rds.standby].port) as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("CHANGE MASTER TO MASTER_PORT=%s", (link.listen_port,))
        cur.execute("START SLAVE")
    mariadb.wait_semi_sync(primary_port)
    return link.name


def _wait_event(stack: Stack, kind: OrchestratorEvent, t_s: float, timeout_s: float, what: str
                ) -> None:
    try:
        poll(lambda: bool(_events_since(stack, kind, t_s)), timeout_s, what)
    except pytest.fail.Exception:
        journal = [(e["kind"], e.get("component"), e.get("error")) for e in
                   stack.events.of_kind(Source.ORCHESTRATOR) if e["t_s"] >= t_s]
        pytest.fail(f"{what}: not within {timeout_s:g} s; orchestrator journal: {journal}")


def test_the_standby_is_a_semi_sync_replica_in_another_zone_that_serves_no_traffic(
    legacy: Stack,
) -> None:
    info = legacy.info
    writer, standby = info.components["db-writer"], info.components["db-standby"]
    assert writer.zone != standby.zone
    # the apps' only database edge leads to the primary; nothing leads to the standby
    assert [e.upstream for e in info.edges.values() if e.upstream.startswith("db-")] == [
        "db-writer"
    ]
    assert _read_only(standby.port) == 1
    assert _status(writer.port, "Rpl_semi_sync_master_status") == "ON"
    assert mariadb.semi_sync_clients(writer.port) == 1
    assert "db-standby" in Topology.from_stack(info).components


def test_a_killed_primary_fails_over_to_the_standby_without_losing_an_acknowledged_order(
    legacy: Stack,
) -> None:
    db, rds = _settings(legacy), _rds(legacy)
    old_primary, old_standby = rds.primary, rds.standby
    assert old_standby is not None
    primary_port = legacy.info.components[old_primary].port
    standby_port = legacy.info.components[old_standby].port
    link = _slow_link_to_standby(legacy, latency_ms=30)
    yes_tx_before = int(_status(primary_port, "Rpl_semi_sync_master_yes_tx"))
    stream = OrderStream(legacy.info.edges["app->db"].listen_port).start()
    try:
        poll(lambda: len(stream.acked) >= 20, 20, "orders acknowledged before the kill")
        # the primary waited for the standby's acknowledgement of those commits
        assert int(_status(primary_port, "Rpl_semi_sync_master_yes_tx")) > yes_tx_before
        killed_at, t_s = time.monotonic(), legacy.events.elapsed()
        # the primary's host dies, and what it had sent but not delivered with it
        assert legacy.runtime is not None
        legacy.runtime.kill(old_primary)
        ToxiproxyClient(legacy.info.toxiproxy_api).set_enabled(link, False)
        poll(lambda: bool(stream.acked_after(killed_at + 0.5)), 30,
             "orders acknowledged again after the failover")
        resumed_s = stream.acked_after(killed_at + 0.5)[0] - killed_at
        _wait_event(legacy, OrchestratorEvent.STANDBY_REJOINED,
                    t_s, 30, "the old primary back as the standby")
        stream_acked_late = len(stream.acked_after(killed_at + resumed_s))
    finally:
        stream.stop()

    # the endpoint moved after the failover time, which includes the DNS TTL, not sooner
    expected_s = db.multi_az_failover_s.at(TIME_SCALE)
    assert expected_s - 0.1 <= resumed_s <= expected_s + 3, (resumed_s, expected_s)
    moved = _events_since(legacy, OrchestratorEvent.WRITER_ENDPOINT_MOVED, t_s)
    assert [e["component"] for e in moved] == [old_standby]
    assert expected_s - 0.1 <= float(moved[0]["since_writer_down_s"]) <= expected_s + 1.5
    promoted = _events_since(legacy, OrchestratorEvent.STANDBY_PROMOTED, t_s)[0]
    assert promoted["received_gtid"] == promoted["applied_gtid"]
    assert (rds.primary, rds.standby) == (old_standby, old_primary)
    assert legacy.info.db_writer_port == standby_port
    assert stream.failed_at, "the kill must have failed some writes"
    assert stream_acked_late > 0, "writes succeed after the failover"

    # no acknowledged order is lost: every one is on the new primary
    lost = set(stream.acked) - _stored(standby_port, stream.prefix)
    assert not lost, f"{len(lost)} of {len(stream.acked)} acknowledged orders lost"

    # the old primary is the new standby: read-only, semi-sync, with every order
    assert _read_only(primary_port) == 1
    assert mariadb.semi_sync_clients(standby_port) == 1
    mariadb.wait_caught_up(reader_port=primary_port, writer_port=standby_port)
    assert _stored(primary_port, stream.prefix) == _stored(standby_port, stream.prefix)
    print(f"\nRDS Multi-AZ kill: {len(stream.acked)} orders acknowledged, 0 lost; writes "
          f"again {resumed_s:.2f} s after the kill (failover, DNS included: {expected_s:.2f} s)")


def test_a_lost_standby_leaves_the_primary_taking_writes_until_rds_restarts_it(
    legacy: Stack,
) -> None:
    rds = _rds(legacy)
    standby = rds.standby
    assert standby is not None
    primary_port = legacy.info.components[rds.primary].port
    t_s = legacy.events.elapsed()
    stream = OrderStream(legacy.info.edges["app->db"].listen_port).start(writers=2)
    try:
        ex = _inject(legacy, {"type": "kill", "at": "0s", "target": standby})
        try:
            _wait_event(legacy, OrchestratorEvent.STANDBY_DOWN, t_s, 10, "standby down")
            down_at = time.monotonic()
            time.sleep(1)
            # no standby connected: the primary commits alone at once, not after a timeout
            assert len(stream.acked_after(down_at)) > 5
            _wait_event(legacy, OrchestratorEvent.STANDBY_REJOINED,
                        t_s, 30, "RDS restarted the standby")
        finally:
            ex.close()
    finally:
        stream.stop()
    assert not stream.failed_at
    assert not _events_since(legacy, OrchestratorEvent.WRITER_ENDPOINT_MOVED, t_s)
    assert mariadb.semi_sync_clients(primary_port) == 1
    mariadb.wait_caught_up(reader_port=legacy.info.components[standby].port,
                           writer_port=primary_port)


def test_a_planned_failover_reboots_the_primary_onto_the_standby(legacy: Stack) -> None:
    rds = _rds(legacy)
    old_primary, old_standby = rds.primary, rds.standby
    assert old_standby is not None
    t_s = legacy.events.elapsed()
    ex = _inject(legacy, {"type": "db_failover", "at": "0s", "mode": "planned"})
    try:
        _wait_event(legacy, OrchestratorEvent.STANDBY_REJOINED, t_s, 30,
                    "the rebooted primary back as the standby")
    finally:
        ex.close()
    assert ex.errors == []
    assert (rds.primary, rds.standby) == (old_standby, old_primary)
    assert _events_since(legacy, OrchestratorEvent.WRITER_DOWN, t_s)[0]["planned"] is True
    # a reboot: the old primary rejoins at once, without RDS's restart time
    moved = _events_since(legacy, OrchestratorEvent.WRITER_ENDPOINT_MOVED, t_s)[0]
    rejoined = _events_since(legacy, OrchestratorEvent.STANDBY_REJOINED, t_s)[0]
    restart_s = _settings(legacy).restart_s.at(TIME_SCALE)
    assert float(rejoined["t_s"]) - float(moved["t_s"]) < restart_s
    assert _read_only(legacy.info.components[old_primary].port) == 1
