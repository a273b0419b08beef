"""One test per fault family on a real modern stack, seen from outside (through the LB).

Each test applies a fault through the executor, measures its effect through the
load balancer, lets it revert, and checks the return to normal and that nothing
is left behind (no toxic, no disabled proxy, no stopped process).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import requests

from harness.faults.base import FaultContext
from harness.faults.executor import FaultExecutor, plan
from harness.records.events import FaultEvent
from harness.runtime import cgroups
from harness.scenario.faults import Topology, load_timeline
from harness.stacks.components import awsfault
from harness.stacks.stack import Stack

from .fault_support import no_toxics_left, order, poll, stopped_processes, timed

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]


def _executor(ctx: FaultContext, faults: list[dict[str, object]]) -> FaultExecutor:
    specs = load_timeline(faults, source="test", topology=Topology.from_stack(ctx.info))
    ctx.events.t0 = ctx.events.t0 - ctx.events.elapsed()  # the run starts now
    return FaultExecutor(plan(specs, ctx), ctx)


def _order_latency(url: str, n: int = 5) -> float:
    return statistics.median(timed(lambda: order(url))[0] for _ in range(n))


def _all_pids(modern: Stack) -> list[int]:
    assert modern.runtime is not None
    return [pid for name in modern.runtime.components() for pid in modern.runtime.pids(name)]


def test_latency_on_app_to_db_slows_orders_by_at_least_the_toxic(
    modern: Stack, ctx: FaultContext
) -> None:
    url = modern.info.lb_url
    before = _order_latency(url)
    ex = _executor(ctx, [{"type": "latency", "at": "0s", "duration": "60s", "target": "app->db",
                          "latency_ms": 200}])
    with ex:
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "latency applied")
        during = _order_latency(url)
    after = _order_latency(url)
    assert during >= before + 0.2, (before, during)
    assert after < during - 0.15, (during, after)
    assert ex.errors == []
    assert no_toxics_left(modern.info.toxiproxy_api) == []


def test_down_on_app_to_db_fails_orders_until_reverted(modern: Stack, ctx: FaultContext) -> None:
    url = modern.info.lb_url
    with _executor(ctx, [{"type": "down", "at": "0s", "target": "app->db"}]) as ex:
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "down applied")
        statuses = [timed(lambda: order(url))[1] for _ in range(5)]
    assert all(s != 201 for s in statuses), statuses
    poll(lambda: order(url).status_code == 201, 30, "orders succeed after the partition")
    assert ex.errors == []
    assert no_toxics_left(modern.info.toxiproxy_api) == []


def test_http_errors_at_50_percent_gives_about_half_5xx(modern: Stack, ctx: FaultContext) -> None:
    url = modern.info.lb_url
    with _executor(ctx, [{"type": "http_errors", "at": "0s", "percent": 50, "status": 503}]):
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "http_errors applied")
        during = Counter(requests.get(f"{url}/health", timeout=5).status_code for _ in range(300))
    after = Counter(requests.get(f"{url}/health", timeout=5).status_code for _ in range(50))
    assert set(during) == {200, 503}
    # binomial(300, 0.5): 3.5 sigma is about +-30
    assert 120 <= during[503] <= 180, during
    assert after == Counter({200: 50})


def test_drain_takes_an_instance_out_and_puts_it_back(modern: Stack, ctx: FaultContext) -> None:
    url = modern.info.lb_url

    def served_by(n: int) -> Counter[str]:
        return Counter(
            requests.get(f"{url}/health", timeout=5).headers.get("X-Served-By", "?")
            for _ in range(n)
        )

    with _executor(ctx, [{"type": "drain", "at": "0s", "target": "app-1", "mode": "maint"}]):
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "drain applied")
        during = served_by(60)
    assert "app-1" not in during, during
    assert sum(during.values()) == 60, during
    # back once it passed one health check as a newly registered ALB target (3 s at time
    # scale 0.1; the healthy threshold, 5 x 3 s, at most)
    poll(lambda: "app-1" in served_by(12), 40, "app-1 serves again")


def test_pause_all_tasks_hangs_requests_until_resumed(modern: Stack, ctx: FaultContext) -> None:
    url = modern.info.lb_url
    pids = _all_pids(modern)
    pause = {"type": "pause", "at": "0s", "duration": "3s", "target": "app[*]"}
    with _executor(ctx, [pause]) as ex:
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "pause applied")
        took, status = timed(lambda: requests.get(f"{url}/products/1", timeout=1))
        assert status == 0, (took, status)
        assert took >= 0.9, (took, status)
        ex.wait(timeout_s=20)
    assert stopped_processes(pids) == []
    poll(lambda: requests.get(f"{url}/products/1", timeout=2).status_code == 200, 30, "reads back")


def test_timeline_keeps_its_schedule(modern: Stack, ctx: FaultContext) -> None:
    faults: list[dict[str, object]] = []
    for i in range(10):
        faults.append({"type": "latency", "at": f"{0.2 + i * 0.15:.2f}s", "duration": "100ms",
                       "target": "lb->app[*]", "latency_ms": 1, "name": f"l{i}"})
    with _executor(ctx, faults) as ex:
        assert ex.wait(timeout_s=30)
    summary = ctx.events.of_kind(FaultEvent.SUMMARY)[0]
    print(f"\nfault schedule: {summary['actions']} actions, lag p50 {summary['lag_p50_ms']} ms, "
          f"p99 {summary['lag_p99_ms']} ms, max {summary['lag_max_ms']} ms")
    assert summary["actions"] == 20
    # the schedule is kept: most actions within 50 ms of their time. The slowest of 20 is
    # one descheduling of the executor: 103 ms once with another alone test beside it on
    # 2 cores (the alone pass runs two at a time), so it is held to 150 ms, not 50
    assert summary["lag_p50_ms"] <= 50, summary
    assert summary["lag_p99_ms"] <= 150, summary
    assert no_toxics_left(modern.info.toxiproxy_api) == []


def test_aws_throttle_fails_publishes_after_sdk_retries_then_recovers(
    modern: Stack, ctx: FaultContext
) -> None:
    url = modern.info.lb_url
    port = awsfault.read_port(Path(modern.info.workdir))
    assert port is not None
    assert order(url).status_code == 201
    before = awsfault.stats(port)["stats"].get("sqs.throttle", 0)
    fault = {"type": "aws_throttle", "at": "0s", "percent": 100, "services": ["sqs"]}
    with _executor(ctx, [fault]):
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "aws_throttle applied")
        during = order(url, timeout_s=20)
        throttled = awsfault.stats(port)["stats"].get("sqs.throttle", 0) - before
    assert during.status_code == 503, during.text
    assert "not published" in during.text
    # the SDK saw a throttling answer it retries, so one order met more than one
    assert throttled >= 2, throttled
    assert order(url).status_code == 201
    assert awsfault.stats(port)["rules"] == {}


def test_aws_errors_on_s3_at_100_percent_fail_receipts_until_reverted(
    modern: Stack, ctx: FaultContext
) -> None:
    url = modern.info.lb_url
    fault = {"type": "aws_errors", "at": "0s", "percent": 100, "status": 503, "services": ["s3"]}
    with _executor(ctx, [fault]):
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "aws_errors applied")
        during = order(url, timeout_s=20)
    assert during.status_code == 503, during.text
    assert "s3 receipt" in during.text
    assert order(url).status_code == 201


def _throttled(modern: Stack, app: str) -> int:
    stat = cgroups.ROOT / "cpu" / "harness" / modern.stack_id / app / "cpu.stat"
    return int(dict(line.split() for line in stat.read_text().splitlines())["nr_throttled"])


def _direct_mean_ms(modern: Stack, app: str, for_s: float = 2.0) -> float:
    url = f"http://127.0.0.1:{modern.info.components[app].port}/products"
    took: list[float] = []
    until = time.monotonic() + for_s
    while time.monotonic() < until:
        took.append(timed(lambda: requests.get(url, timeout=10))[0])
    return 1000 * statistics.mean(took)


def test_cpu_stress_throttles_the_task_inside_its_quota(modern: Stack, ctx: FaultContext) -> None:
    assert modern.runtime is not None
    available, why = modern.runtime.limits_enforcement()
    if not available:
        pytest.skip(why)
    before_ms = _direct_mean_ms(modern, "app-1")
    throttled_before = _throttled(modern, "app-1")
    fault = {"type": "cpu_stress", "at": "0s", "target": "app-1", "workers": 2}
    with _executor(ctx, [fault]) as ex:
        poll(lambda: bool(ctx.events.of_kind(FaultEvent.APPLIED)), 10, "cpu_stress applied")
        during_ms = _direct_mean_ms(modern, "app-1")
        throttled = _throttled(modern, "app-1") - throttled_before
        helpers = [h.pid for p in ex.planned for h in p.fault._helpers]  # type: ignore[attr-defined]
    assert throttled >= 10, throttled
    # the quota is shared with the stress workers: requests wait for CPU (seen: 0.9 -> 4.8 ms
    # on a quiet machine, 20+ ms on a busy one); a relative slowdown, not a fixed one
    assert during_ms > max(2 * before_ms, before_ms + 2), (before_ms, during_ms)
    assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
               for pid in helpers)
    assert requests.get(f"{modern.info.lb_url}/products/1", timeout=5).status_code == 200


def test_memory_pressure_counts_against_the_task_limit(modern: Stack, ctx: FaultContext) -> None:
    assert modern.runtime is not None
    available, why = modern.runtime.limits_enforcement()
    if not available:
        pytest.skip(why)
    usage = modern.runtime.memory_usage_bytes
    before = usage("app-2") or 0
    fault = {"type": "memory_pressure", "at": "0s", "target": "app-2", "memory_mb": 150}
    with _executor(ctx, [fault]):
        poll(lambda: (usage("app-2") or 0) - before >= 140 * 2**20, 20, "150 MiB held in app-2")
        assert requests.get(f"{modern.info.lb_url}/products/1", timeout=5).status_code == 200
    poll(lambda: (usage("app-2") or 0) - before < 50 * 2**20, 20, "memory released")
