"""Faults the stack reacts to, at time scale 0.05: ECS replaces killed tasks, Aurora fails over.

Seen from outside: errors through the load balancer while the fault bites,
then success again once the orchestrator has acted; the orchestrator's
actions are events with timestamps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import running_stack

from harness.faults.base import FaultContext
from harness.faults.executor import FaultExecutor, plan
from harness.runtime.events import EventLog
from harness.scenario.faults import Topology, load_timeline
from harness.stacks.components import mariadb
from harness.stacks.components.mariadb import DATABASE, admin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.stack import Stack
from harness.stacks.topology import proxy_name

from .fault_support import order, poll, timed

pytestmark = pytest.mark.integration

#: ECS replacement 30 s -> 1.5 s, Aurora failover 30 s -> 1.5 s, health checks every 1.5 s
TIME_SCALE = 0.05


@pytest.fixture(scope="module")
def fast(state_dir: Path) -> Iterator[Stack]:
    with running_stack("modern", state_dir, time_scale=TIME_SCALE, seed=7) as running:
        yield running


@pytest.fixture
def fctx(fast: Stack, tmp_path: Path) -> FaultContext:
    assert fast.runtime is not None
    return FaultContext(
        fast.info, fast.runtime, EventLog(tmp_path / "events.jsonl", t0=fast.events.t0),
        database=fast.database,
    )


def _run(ctx: FaultContext, faults: list[dict[str, object]]) -> FaultExecutor:
    specs = load_timeline(faults, source="test", topology=Topology.from_stack(ctx.info))
    at = ctx.events.elapsed()
    for f in faults:
        f["at"] = at
    ex = FaultExecutor(plan(specs, ctx, phases={}), ctx)
    # the faults are due now on the shared clock
    for p in ex.planned:
        p.start_s = at
    ex.start()
    return ex


def _ok(url: str) -> bool:
    return timed(lambda: requests.get(f"{url}/products/1", timeout=2))[1] == 200


def test_killed_tasks_give_errors_until_ecs_has_replaced_them(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    assert fast.runtime is not None
    before = {a: fast.runtime.pids(a) for a in fast.info.apps()}
    poll(lambda: _ok(url), 30, "the stack serves before the fault")
    killed_at = time.monotonic()
    ex = _run(fctx, [{"type": "kill", "at": "0s", "target": "app[*]"}])
    try:
        poll(lambda: not _ok(url), 10, "errors through the LB once every task is killed")
        recovered = poll(lambda: _ok(url), 60, "requests succeed once ECS replaced the tasks")
    finally:
        ex.close()
    assert ex.errors == []

    def in_service() -> set[str]:
        return {e["component"] for e in fast.events.of_kind("orchestrator.task_in_service")
                if e["t_s"] >= killed_at - fast.events.t0}

    # the LB serves again once one task is back; every task is replaced soon after
    poll(lambda: in_service() >= set(fast.info.apps()), 60, "every task in service again")
    assert all(fast.runtime.pids(a) != before[a] for a in before)
    print(f"\ntask kill: recovered through the LB {time.monotonic() - killed_at:.1f} s "
          f"after the kill (poll {recovered:.1f} s)")


def test_db_failover_promotes_the_reader_and_orders_succeed_on_it(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    poll(lambda: order(url).status_code == 201, 30, "orders succeed before the failover")
    reader_port = fast.info.components["db-reader"].port
    moved_before = len(fast.events.of_kind("orchestrator.writer_endpoint_moved"))
    failed_at = time.monotonic()
    ex = _run(fctx, [{"type": "db_failover", "at": "0s"}])
    try:
        if fast.info.db_proxy_admin is None:
            poll(lambda: timed(lambda: order(url, timeout_s=3))[1] != 201, 10, "orders fail")
        else:
            # behind RDS Proxy an order may wait for the new writer instead of failing
            poll(lambda: len(fast.events.of_kind("orchestrator.writer_endpoint_moved"))
                 > moved_before, 30, "the proxy follows the new writer")
        poll(lambda: timed(lambda: order(url, timeout_s=3))[1] == 201, 90,
             "orders succeed on the new writer")
    finally:
        ex.close()
    took = time.monotonic() - failed_at
    assert ex.errors == []
    kinds = [e["kind"] for e in fast.events.of_kind("orchestrator.")]
    assert "orchestrator.reader_promoted" in kinds
    assert "orchestrator.writer_endpoint_moved" in kinds
    assert fast.info.db_writer_port == reader_port
    key = f"after-failover-{time.time_ns()}"
    resp = requests.post(f"{url}/orders", json={"product_id": 2, "quantity": 1,
                                                 "idempotency_key": key}, timeout=10)
    assert resp.status_code == 201
    with admin(reader_port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.read_only")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT COUNT(*) FROM orders WHERE idempotency_key = %s", (key,))
        assert cur.fetchone() == (1,)
    print(f"\ndb failover: orders succeed again {took:.1f} s after the writer was killed")


def test_planned_failover_switches_writer_without_losing_orders(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    poll(lambda: order(url).status_code == 201, 60, "orders succeed before the switchover")
    old_writer = fast.info.db_writer_port
    ex = _run(fctx, [{"type": "db_failover", "at": "0s", "mode": "planned"}])
    try:
        poll(lambda: bool(fctx.events.of_kind("fault.applied")), 60, "switchover done")
    finally:
        ex.close()
    assert ex.errors == []
    assert fast.info.db_writer_port != old_writer
    poll(lambda: timed(lambda: order(url, timeout_s=3))[1] == 201, 60, "orders on the new writer")
    with admin(old_writer) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.read_only")
        assert cur.fetchone() == (1,)


@pytest.fixture(scope="module")
def legacy(state_dir: Path) -> Iterator[Stack]:
    with running_stack("legacy", state_dir, time_scale=TIME_SCALE, seed=3, products=10,
                       events=1) as running:
        yield running


def test_legacy_asg_replaces_an_instance_the_clb_took_out(legacy: Stack, tmp_path: Path) -> None:
    assert legacy.runtime is not None
    url = legacy.info.lb_url
    ctx = FaultContext(legacy.info, legacy.runtime, EventLog(None, t0=legacy.events.t0))
    poll(lambda: _ok(url), 30, "the legacy stack serves")
    killed_at = legacy.events.elapsed()
    ex = _run(ctx, [{"type": "kill", "at": "0s", "target": "app-1"}])
    try:
        # a CLB does not retry: while app-1 is still in service, some requests fail
        poll(lambda: not _ok(url), 20, "errors through the CLB")
        poll(
            lambda: any(e["t_s"] > killed_at for e in
                        legacy.events.of_kind("orchestrator.instance_in_service")),
            120, "the ASG's replacement back in service",
        )
    finally:
        ex.close()
    kinds = [e["kind"] for e in legacy.events.of_kind("orchestrator.") if e["t_s"] > killed_at]
    for step in ("instance_out_of_service", "instance_terminating", "instance_launched",
                 "instance_in_service"):
        assert f"orchestrator.{step}" in kinds, kinds
    assert all(_ok(url) for _ in range(10))
    back = next(e for e in legacy.events.of_kind("orchestrator.instance_in_service")
            if e["t_s"] > killed_at)
    print(f"\nlegacy instance kill: back in service {back['t_s'] - killed_at:.1f} s after")


def test_legacy_rds_is_down_until_restarted_in_place(legacy: Stack) -> None:
    assert legacy.runtime is not None
    url = legacy.info.lb_url
    ctx = FaultContext(legacy.info, legacy.runtime, EventLog(None, t0=legacy.events.t0),
                       database=legacy.database)
    poll(lambda: order(url).status_code == 201, 60, "orders succeed before")
    writer_port = legacy.info.db_writer_port
    failed_at = legacy.events.elapsed()
    ex = _run(ctx, [{"type": "db_failover", "at": "0s"}])
    try:
        poll(lambda: timed(lambda: order(url, timeout_s=5))[1] != 201, 20, "orders fail")
        poll(lambda: timed(lambda: order(url, timeout_s=5))[1] == 201, 120,
             "orders succeed once RDS restarted the instance")
    finally:
        ex.close()
    restarted = [e for e in legacy.events.of_kind("orchestrator.writer_restarted")
                 if e["t_s"] > failed_at]
    assert restarted, legacy.events.of_kind("orchestrator.")
    # single-AZ: no failover, the same instance (and port) is back
    assert legacy.info.db_writer_port == writer_port
    print(f"\nlegacy RDS crash: writer back after {restarted[0]['down_s']:.1f} s")


def test_db_reboot_of_the_reader_resumes_replication(fast: Stack, fctx: FaultContext) -> None:
    assert fast.database is not None
    reader = fast.database.reader
    assert reader is not None
    ex = _run(fctx, [{"type": "db_reboot", "at": "0s", "target": reader}])
    try:
        poll(lambda: bool(fctx.events.of_kind("fault.applied")), 60, "reboot done")
    finally:
        ex.close()
    assert ex.errors == []
    url = fast.info.lb_url
    poll(lambda: timed(lambda: order(url, timeout_s=3))[1] == 201, 60, "orders succeed")
    mariadb.wait_caught_up(
        reader_port=fast.info.components[reader].port, writer_port=fast.info.db_writer_port
    )


def test_a_lost_reader_sends_reads_to_the_writer_until_aurora_restarts_it(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    poll(lambda: _ok(url), 30, "reads succeed before")
    reader_port = fast.info.components["db-reader"].port
    lost_at = fast.events.elapsed()
    ex = _run(fctx, [{"type": "kill", "at": "0s", "target": "db-reader"}])
    try:
        poll(lambda: any(e["t_s"] > lost_at for e in
                         fast.events.of_kind("orchestrator.reader_endpoint_to_writer")),
             20, "the reader endpoint moved to the writer")
        poll(lambda: all(_ok(url) for _ in range(5)), 20, "reads served by the writer")
        poll(lambda: any(e["t_s"] > lost_at for e in
                         fast.events.of_kind("orchestrator.reader_rejoined")),
             60, "Aurora restarted the replica")
    finally:
        ex.close()
    proxies = ToxiproxyClient(fast.info.toxiproxy_api).proxies()
    assert proxies[proxy_name("app->db-reader")]["upstream"].endswith(f":{reader_port}")
    assert fast.info.db_reader_port == reader_port
    assert all(_ok(url) for _ in range(5))
