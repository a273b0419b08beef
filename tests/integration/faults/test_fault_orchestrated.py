"""Faults the stack reacts to, at time scale 0.05: ECS replaces killed and unhealthy tasks,
the load balancers answer 502/503 as AWS documents, Aurora fails over.

Seen from outside: errors through the load balancer while the fault bites,
then success again once the orchestrator has acted; the orchestrator's
actions are events with timestamps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import running_stack

from harness.faults.base import FaultContext
from harness.faults.executor import FaultExecutor, plan
from harness.model.cited import Timing
from harness.model.database import AuroraSettings
from harness.model.orchestrator import EcsSettings
from harness.records.events import FaultEvent, OrchestratorEvent, Source, StackEvent
from harness.runtime.events import EventLog
from harness.scenario.faults import Topology, load_timeline
from harness.stacks.components import mariadb
from harness.stacks.components.haproxy import HaproxyAdmin
from harness.stacks.components.mariadb import DATABASE, admin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.orchestrators.ecs import EcsService
from harness.stacks.stack import Stack
from harness.stacks.topology import proxy_name

from .fault_support import order, poll, single_az_legacy, timed

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

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


def _status(url: str, path: str = "/products/1") -> int:
    return timed(lambda: requests.get(f"{url}{path}", timeout=2))[1]


def _events_after(stack: Stack, kind: OrchestratorEvent, t_s: float, **match: str
                  ) -> list[dict[str, Any]]:
    return [e for e in stack.events.of_kind(kind)
            if e["t_s"] >= t_s and all(e.get(k) == v for k, v in match.items())]


def _interval_s(stack: Stack) -> float:
    return stack.profile.load_balancer.health_check.interval_s.at(TIME_SCALE)


def test_a_killed_task_gives_502s_until_ecs_deregisters_it(fast: Stack, fctx: FaultContext) -> None:
    url = fast.info.lb_url
    poll(lambda: all(_ok(url) for _ in range(6)), 60, "every task serves before the fault")
    killed_at = fast.events.elapsed()
    ex = _run(fctx, [{"type": "kill", "at": "0s", "target": "app-1"}])
    seen: list[tuple[float, int]] = []
    try:
        # round robin: every third request goes to the dead task until ECS takes it out
        def deregistered() -> bool:
            seen.append((fast.events.elapsed(), _status(url)))
            return bool(_events_after(fast, OrchestratorEvent.TARGET_DEREGISTERED,
                                      killed_at, component="app-1"))

        poll(deregistered, 20, "ECS deregisters the dead task", every_s=0.005)
        out_at = _events_after(fast, OrchestratorEvent.TARGET_DEREGISTERED,
                               killed_at, component="app-1")[0]["t_s"]
        after = [_status(url) for _ in range(30)]
        poll(lambda: bool(_events_after(fast, OrchestratorEvent.TASK_IN_SERVICE,
                                        killed_at, component="app-1")),
             60, "the replacement in service")
    finally:
        ex.close()
    assert ex.errors == []
    before_out = [status for t, status in seen if t < out_at]
    assert before_out.count(502) > 0, before_out
    assert set(before_out) <= {200, 502}, before_out
    assert after == [200] * 30, after
    stopped = _events_after(fast, OrchestratorEvent.TASK_STOPPED, killed_at, component="app-1")[0]
    ecs = fast.profile.orchestrator
    assert isinstance(ecs, EcsSettings)
    notice = ecs.task_stopped_notice_s.at(TIME_SCALE)
    assert stopped["noticed_after_s"] >= notice * 0.9
    # the replacement got traffic after the one passing check a newly registered ALB target
    # needs, not the healthy threshold (5) a target that went unhealthy needs
    registered = _events_after(fast, OrchestratorEvent.TASK_REGISTERED,
                               killed_at, component="app-1")[0]
    in_service = _events_after(fast, OrchestratorEvent.TASK_IN_SERVICE,
                               killed_at, component="app-1")[0]
    hc = fast.profile.load_balancer.health_check
    assert hc.initial_healthy_threshold.value < hc.healthy_threshold.value
    admitted_s = in_service["t_s"] - registered["t_s"]
    assert admitted_s < (hc.initial_healthy_threshold.value + 1) * _interval_s(fast) + 0.5
    print(f"\ntask kill: {before_out.count(502)} 502s of {len(before_out)} requests until "
          f"ECS deregistered the task {out_at - killed_at:.2f} s after the kill; "
          f"replacement in service {in_service['t_s'] - killed_at:.1f} s after")


def test_killed_tasks_give_errors_until_ecs_has_replaced_them(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    assert fast.runtime is not None
    before = {a: fast.runtime.pids(a) for a in fast.info.apps()}
    poll(lambda: _ok(url), 30, "the stack serves before the fault")
    killed_at = time.monotonic()
    ex = _run(fctx, [{"type": "kill", "at": "0s", "target": "app[*]"}])
    statuses: set[int] = set()
    try:
        def serving() -> bool:
            status = _status(url)
            statuses.add(status)
            return status == 200 and len(statuses) > 1

        recovered = poll(serving, 60, "requests succeed once ECS replaced the tasks", every_s=0.02)
    finally:
        ex.close()
    assert ex.errors == []
    # 502 while the dead tasks are still registered, 503 once none is registered
    assert {502, 503} <= statuses, statuses

    def in_service() -> set[str]:
        return {e["component"] for e in fast.events.of_kind(OrchestratorEvent.TASK_IN_SERVICE)
                if e["t_s"] >= killed_at - fast.events.t0}

    # the ALB fails open to the new tasks before they pass their healthy threshold;
    # every task is in service soon after
    poll(lambda: in_service() >= set(fast.info.apps()), 60, "every task in service again")
    assert all(fast.runtime.pids(a) != before[a] for a in before)
    print(f"\ntask kill: recovered through the LB {time.monotonic() - killed_at:.1f} s "
          f"after the kill (poll {recovered:.1f} s); statuses seen {sorted(statuses)}")


@contextmanager
def _edge_down(stack: Stack, edge: str) -> Iterator[None]:
    toxi = ToxiproxyClient(stack.info.toxiproxy_api)
    toxi.set_enabled(proxy_name(edge), False)
    try:
        yield
    finally:
        toxi.set_enabled(proxy_name(edge), True)


def _all_down(stack: Stack) -> bool:
    states = HaproxyAdmin(stack.info.haproxy_socket).server_states()
    return all(states[a]["srv_op_state"] == "0" for a in stack.info.apps())


def test_the_alb_fails_open_when_every_target_is_unhealthy(fast: Stack) -> None:
    url = fast.info.lb_url
    (ecs,) = [o for o in fast.orchestrators if isinstance(o, EcsService)]
    settings = ecs.settings
    poll(lambda: all(_ok(url) for _ in range(6)), 60, "every task serves before")
    # a long service grace period, so that ECS leaves the unhealthy tasks alone here
    ecs.settings = settings.model_copy(update={"health_check_grace_s": Timing(
        value=100_000, source="test: ECS must not replace the tasks during this test",
    )})
    try:
        # the writer is unreachable: the deep /ready check fails on every task, reads
        # (from the reader) still work
        with _edge_down(fast, "app->db"):
            poll(lambda: _all_down(fast), 30, "the ALB marks every target unhealthy")
            statuses = [_status(url) for _ in range(30)]
    finally:
        ecs.settings = settings
    assert statuses == [200] * 30, statuses
    poll(lambda: not _all_down(fast), 60, "targets healthy again")


def test_ecs_replaces_a_task_the_alb_marks_unhealthy(fast: Stack) -> None:
    url = fast.info.lb_url
    assert fast.runtime is not None
    poll(lambda: all(_ok(url) for _ in range(6)), 60, "every task serves before")
    pids = fast.runtime.pids("app-2")
    started = fast.events.elapsed()
    # the ALB cannot reach app-2 (its health checks fail); the task itself is fine
    with _edge_down(fast, "lb->app-2"):
        poll(lambda: bool(_events_after(fast, OrchestratorEvent.TASK_REGISTERED,
                                        started, component="app-2")),
             30, "ECS replaced the task")
    unhealthy = _events_after(fast, OrchestratorEvent.TASK_UNHEALTHY, started, component="app-2")
    assert [e["by"] for e in unhealthy][:1] == ["alb_health_check"], unhealthy
    assert fast.runtime.pids("app-2") != pids
    poll(lambda: bool(_events_after(fast, OrchestratorEvent.TASK_IN_SERVICE,
                                    started, component="app-2")),
         60, "the replacement in service")
    assert all(_ok(url) for _ in range(6))


def test_a_drained_task_finishes_its_in_flight_requests_then_leaves(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    poll(lambda: all(_ok(url) for _ in range(6)), 60, "every task serves before")
    toxi = ToxiproxyClient(fast.info.toxiproxy_api)
    edge = proxy_name("lb->app-3")
    # app-3 answers 1 s late: a request is in flight on it when the drain starts
    toxi.add_toxic(edge, name="slow", type="latency", attributes={"latency": 1000})
    try:
        with ThreadPoolExecutor(3) as pool:
            slow = [pool.submit(requests.get, f"{url}/products/1", timeout=5) for _ in range(3)]
            time.sleep(0.3)
            ex = _run(fctx, [{"type": "drain", "at": "0s", "target": "app-3", "mode": "drain"}])
            try:
                poll(lambda: bool(fctx.events.of_kind(FaultEvent.APPLIED)), 10, "drain applied")
                served = [_served_by(url) for _ in range(12)]
                answers = [f.result() for f in slow]
                poll(lambda: bool(fctx.events.of_kind(StackEvent.LB_TARGET_DEREGISTERED)), 10,
                     "deregistered once nothing is in flight")
            finally:
                ex.close()
    finally:
        toxi.remove_toxic(edge, "slow")
    assert ex.errors == []
    assert "app-3" not in served, served
    assert [a.status_code for a in answers] == [200] * 3
    assert "app-3" in {a.headers.get("X-Served-By") for a in answers}
    drained = fctx.events.of_kind(StackEvent.LB_TARGET_DEREGISTERED)[0]["drained_s"]
    delay = fast.profile.load_balancer.deregistration_delay_s.at(TIME_SCALE)
    assert 0.3 < drained < delay, drained
    # back as a new registration, after its healthy threshold
    poll(lambda: "app-3" in {_served_by(url) for _ in range(6)}, 30, "app-3 serves again")


def _served_by(url: str) -> str:
    return requests.get(f"{url}/health", timeout=5).headers.get("X-Served-By", "?")


def test_db_failover_promotes_the_reader_and_orders_succeed_on_it(
    fast: Stack, fctx: FaultContext
) -> None:
    """Aurora restarts the reader it promotes: reads fail until it is back as the writer,
    then the writer serves them (no replica) until the failed writer rejoins as the reader
    `replica_restart_s` later; orders succeed on the new writer."""
    url = fast.info.lb_url
    aurora = fast.profile.database
    assert isinstance(aurora, AuroraSettings)
    poll(lambda: order(url).status_code == 201, 30, "orders succeed before the failover")
    poll(lambda: all(_ok(url) for _ in range(6)), 30, "reads succeed before the failover")
    reader_port = fast.info.components["db-reader"].port
    writer_port = fast.info.components["db-writer"].port
    start = fast.events.elapsed()
    failed_at = time.monotonic()
    ex = _run(fctx, [{"type": "db_failover", "at": "0s"}])
    reads: list[int] = []
    try:
        def promoted() -> bool:
            reads.append(_status(url))
            return bool(_events_after(fast, OrchestratorEvent.READER_PROMOTED,
                                      start, component="db-reader"))

        poll(promoted, 30, "Aurora promotes the restarted reader", every_s=0.01)
        # no replica: the reader endpoint leads to the writer, the promoted instance
        assert fast.database is not None
        assert fast.database.current_replica() is None
        upstream = ToxiproxyClient(fast.info.toxiproxy_api).proxies()[
            proxy_name("app->db-reader")]["upstream"]
        assert upstream.endswith(f":{reader_port}"), upstream
        poll(lambda: all(_ok(url) for _ in range(5)), 20, "reads served by the writer")
        poll(lambda: timed(lambda: order(url, timeout_s=3))[1] == 201, 90,
             "orders succeed on the new writer")
        took = time.monotonic() - failed_at
        assert not _events_after(fast, OrchestratorEvent.READER_REJOINED,
                                 start), "rejoined before its restart"
        poll(lambda: bool(_events_after(fast, OrchestratorEvent.READER_REJOINED,
                                        start, component="db-writer")),
             60, "the failed writer back as the reader")
    finally:
        ex.close()
    assert ex.errors == []
    # the promoted reader restarted: reads failed until it was back as the writer
    assert [s for s in reads if s != 200], reads
    kinds = [e["kind"] for e in fast.events.of_kind(Source.ORCHESTRATOR) if e["t_s"] >= start]
    assert kinds == [
        OrchestratorEvent.WRITER_DOWN, OrchestratorEvent.READER_RESTARTING,
        OrchestratorEvent.READER_PROMOTED, OrchestratorEvent.READER_ENDPOINT_TO_WRITER,
        OrchestratorEvent.WRITER_ENDPOINT_MOVED, OrchestratorEvent.READER_REJOINED]
    down = _events_after(fast, OrchestratorEvent.WRITER_DOWN, start)[0]["t_s"]
    up = _events_after(fast, OrchestratorEvent.READER_PROMOTED, start)[0]
    promotion_s = aurora.failover_s.at(TIME_SCALE) - aurora.dns_ttl_s.at(TIME_SCALE)
    assert up["since_writer_down_s"] >= promotion_s
    rejoined = _events_after(fast, OrchestratorEvent.READER_REJOINED, start)[0]["t_s"]
    assert rejoined - down >= promotion_s + aurora.replica_restart_s.at(TIME_SCALE)
    upstream = ToxiproxyClient(fast.info.toxiproxy_api).proxies()[
        proxy_name("app->db-reader")]["upstream"]
    assert upstream.endswith(f":{writer_port}"), upstream
    assert fast.info.db_reader_port == writer_port
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
    print(f"\ndb failover: reader back as the writer {up['since_writer_down_s']:.2f} s after the "
          f"kill ({promotion_s:.2f} s modelled), {len(reads) - reads.count(200)} of {len(reads)} "
          f"reads failed meanwhile; orders succeed again {took:.1f} s after; the failed writer "
          f"rejoined {rejoined - down:.1f} s after")


def test_planned_failover_switches_writer_without_losing_orders(
    fast: Stack, fctx: FaultContext
) -> None:
    url = fast.info.lb_url
    poll(lambda: order(url).status_code == 201, 60, "orders succeed before the switchover")
    old_writer = fast.info.db_writer_port
    t_s = fast.events.elapsed()
    ex = _run(fctx, [{"type": "db_failover", "at": "0s", "mode": "planned"}])
    try:
        poll(lambda: bool(fctx.events.of_kind(FaultEvent.APPLIED)), 60, "switchover done")
    finally:
        ex.close()
    assert ex.errors == []
    # the writer is shut down once the reader caught up; the failover that follows (both
    # instances restarted, as Aurora's FailoverDBCluster does) moves the endpoint
    poll(lambda: fast.info.db_writer_port != old_writer, 60, "the endpoint on the new writer")
    assert [e["planned"] for e in _events_after(fast, OrchestratorEvent.WRITER_DOWN, t_s)] == [True]
    poll(lambda: timed(lambda: order(url, timeout_s=3))[1] == 201, 60, "orders on the new writer")
    poll(lambda: bool(_events_after(fast, OrchestratorEvent.READER_REJOINED, t_s)), 60,
         "the old writer back as the reader")
    with admin(old_writer) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.read_only")
        assert cur.fetchone() == (1,)


@pytest.fixture(scope="module")
def legacy(state_dir: Path) -> Iterator[Stack]:
    # single-AZ RDS: the Multi-AZ default has its own tests (test_rds_multi_az.py)
    with running_stack("legacy", state_dir, time_scale=TIME_SCALE, seed=3, products=10,
                       events=1, profile=single_az_legacy()) as running:
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
                        legacy.events.of_kind(OrchestratorEvent.INSTANCE_IN_SERVICE)),
            120, "the ASG's replacement back in service",
        )
    finally:
        ex.close()
    kinds = [e["kind"] for e in legacy.events.of_kind(Source.ORCHESTRATOR) if e["t_s"] > killed_at]
    for step in (OrchestratorEvent.INSTANCE_TERMINATING, OrchestratorEvent.INSTANCE_DEREGISTERED,
                 OrchestratorEvent.INSTANCE_LAUNCHED, OrchestratorEvent.INSTANCE_OUT_OF_SERVICE,
                 OrchestratorEvent.INSTANCE_IN_SERVICE):
        assert step in kinds, kinds
    assert all(_ok(url) for _ in range(10))
    back = next(e for e in legacy.events.of_kind(OrchestratorEvent.INSTANCE_IN_SERVICE)
            if e["t_s"] > killed_at)
    # the replacement registered with the CLB and passed its healthy threshold first (the
    # CLB has no shorter rule for a new instance)
    launched = _events_after(legacy, OrchestratorEvent.INSTANCE_LAUNCHED,
                             killed_at, component="app-1")[0]
    rise = legacy.profile.load_balancer.health_check.initial_healthy_threshold.value
    assert back["t_s"] - launched["t_s"] >= (rise - 1) * _interval_s(legacy)
    print(f"\nlegacy instance kill: back in service {back['t_s'] - killed_at:.1f} s after")


def test_a_clb_with_no_healthy_instance_answers_503(legacy: Stack) -> None:
    url = legacy.info.lb_url
    poll(lambda: all(_ok(url) for _ in range(4)), 60, "every instance serves before")
    # the database is unreachable: the deep health check fails on every instance
    with _edge_down(legacy, "app->db"):
        poll(lambda: _all_down(legacy), 30, "the CLB marks every instance unhealthy")
        answers = [requests.get(f"{url}/products/1", timeout=2) for _ in range(10)]
    assert [a.status_code for a in answers] == [503] * 10
    assert all("no healthy target" in a.text for a in answers), answers[0].text
    # the ASG checks EC2 status (the default): the instances are left alone
    rise = legacy.profile.load_balancer.health_check.healthy_threshold.value
    poll(lambda: _ok(url), (rise + 4) * _interval_s(legacy), "back after the healthy threshold")


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
    restarted = [e for e in legacy.events.of_kind(OrchestratorEvent.WRITER_RESTARTED)
                 if e["t_s"] > failed_at]
    assert restarted, legacy.events.of_kind(Source.ORCHESTRATOR)
    # single-AZ: no failover, the same instance (and port) is back
    assert legacy.info.db_writer_port == writer_port
    print(f"\nlegacy RDS crash: writer back after {restarted[0]['down_s']:.1f} s")


def test_db_reboot_of_the_reader_resumes_replication(fast: Stack, fctx: FaultContext) -> None:
    assert fast.database is not None
    reader = fast.database.reader
    assert reader is not None
    ex = _run(fctx, [{"type": "db_reboot", "at": "0s", "target": reader}])
    try:
        poll(lambda: bool(fctx.events.of_kind(FaultEvent.APPLIED)), 60, "reboot done")
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
                         fast.events.of_kind(OrchestratorEvent.READER_ENDPOINT_TO_WRITER)),
             20, "the reader endpoint moved to the writer")
        poll(lambda: all(_ok(url) for _ in range(5)), 20, "reads served by the writer")
        poll(lambda: any(e["t_s"] > lost_at for e in
                         fast.events.of_kind(OrchestratorEvent.READER_REJOINED)),
             60, "Aurora restarted the replica")
    finally:
        ex.close()
    proxies = ToxiproxyClient(fast.info.toxiproxy_api).proxies()
    assert proxies[proxy_name("app->db-reader")]["upstream"].endswith(f":{reader_port}")
    assert fast.info.db_reader_port == reader_port
    assert all(_ok(url) for _ in range(5))
