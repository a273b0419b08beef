"""At the database's max_connections: "Too many connections" as a 5xx, unless RDS Proxy pools.

Each stack runs with max_connections 10 (a custom parameter group of 67, x 0.15) and more
app connections than that: legacy's 2 x 8 php-fpm children, each opening its own
connection per request; modern's 3 tasks with a database/sql pool of 8. Concurrent
requests that reach the writer (GET /orders/{id}) over an app->db edge slowed by 100 ms
hold their connections long enough to need them all at once. Legacy and modern without
the proxy get MySQL error 1040, which the services answer 503 (http_5xx to the harness)
and MariaDB counts as refused; behind RDS Proxy the tasks' connections end at the proxy,
whose pool to the writer stays within the limit, and nothing fails.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import running_stack

from harness.model.profile import Profile
from harness.model.profile_file import profile_with
from harness.records.classify import classify_status
from harness.stacks.components.rdsproxy import RdsProxyAdmin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.connections import instance_connections
from harness.stacks.topology import proxy_name

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]

WHY = "assumption: the integration test's small limit"
#: 67 x 0.15 = 10, the least MariaDB accepts
SMALL_LIMIT = {"max_connections": {"parameter_group": {"value": 67, "source": WHY}}}
#: a Go pool larger than the limit on three tasks, as legacy's 8 children on two instances
BIG_POOL = {"db_pool": {"max_open_conns": {"value": 8, "source": WHY},
                        "max_idle_conns": {"value": 8, "source": WHY}}}
THREADS = 24
LOAD_S = 4.0


def _profile(arch: str) -> Profile:
    overrides: dict[str, Any] = {"database": SMALL_LIMIT}
    if arch != "legacy":
        overrides["app"] = BIG_POOL
    return profile_with(arch, overrides, file="test_connection_limit_real.py", node=None,
                        at="profile")


def _hammer(url: str) -> list[tuple[int, str]]:
    """THREADS clients asking the writer for an order, for LOAD_S: (status, body) each."""
    deadline = time.monotonic() + LOAD_S

    def client(_: int) -> list[tuple[int, str]]:
        answers = []
        with requests.Session() as session:
            while time.monotonic() < deadline:
                try:
                    r = session.get(f"{url}/orders/999999", timeout=10)
                    answers.append((r.status_code, r.text))
                except requests.RequestException as exc:
                    answers.append((0, str(exc)))
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        return [a for answers in pool.map(client, range(THREADS)) for a in answers]


@pytest.mark.parametrize(("arch", "refused"), [
    ("legacy", True), ("modern-no-proxy", True), ("modern", False),
])
def test_too_many_connections_is_a_5xx_unless_rds_proxy_pools(
        arch: str, refused: bool, short_tmp: Path) -> None:
    profile = _profile(arch)
    assert profile.database.connection_limit().used == 10
    with running_stack(arch, short_tmp, profile=profile) as stack:
        info = stack.info
        writer_port = info.db_writer_port
        before = instance_connections(writer_port)
        assert before is not None
        assert before.max_connections == 10
        ToxiproxyClient(info.toxiproxy_api).add_toxic(
            proxy_name("app->db"), name="slow-db", type="latency",
            attributes={"latency": 100, "jitter": 0})
        answers = _hammer(info.lb_url)
        after = instance_connections(writer_port, timeout_s=5)
        assert after is not None
        proxy = RdsProxyAdmin(info.db_proxy_admin).stats() if info.db_proxy_admin else None

    statuses = [s for s, _ in answers]
    too_many = [(s, body) for s, body in answers if "Too many connections" in body]
    summary = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"{arch}: {len(answers)} answers {summary}; {len(too_many)} 'Too many connections'; "
          f"refused by the writer: {after.refused - before.refused}; proxy: {proxy}; "
          f"5xx: {[b for s, b in answers if s >= 500][:2]}")
    if refused:
        assert too_many, f"{arch}: no request met the limit: {summary}"
        # the service answers 503; the harness counts it as a 5xx
        assert {s for s, _ in too_many} == {503}
        assert classify_status(503) == "http_5xx"
        assert after.refused > before.refused
    else:
        assert not too_many, too_many[:3]
        assert proxy is not None
        # the proxy's pool to the writer stayed within max_connections (the reader's
        # replication connection holds one slot: 9 of 10), waiting for its own connections
        # when the writer refused more rather than passing the refusal on
        assert (proxy["pool_limit"], proxy["backend_open"]) == (10, 9)
        assert proxy["borrow_timeouts"] == 0
        # what does fail: the Go driver prepares its statements, which pins each client
        # session to a database connection (RDS Proxy's pinning), so 24 pooled client
        # connections share 9 connections only as they close; the rest wait out their
        # query timeout (3 s, app.client.db_query_timeout_s) and answer 503
        assert proxy["pin_reasons"] == {"prepared statement": 9}
        timeouts = [b for s, b in answers if s >= 500 or s == 0]
        assert all("context deadline exceeded" in b for b in timeouts), timeouts[:3]


def test_without_prepared_statements_rds_proxy_multiplexes_the_pooled_connections(
        short_tmp: Path) -> None:
    # the same stack and load as modern above, with the Go driver's interpolateParams on
    unpinned = {**BIG_POOL["db_pool"], "interpolate_params": {"value": True, "source": WHY}}
    profile = profile_with("modern", {"database": SMALL_LIMIT, "app": {"db_pool": unpinned}},
                           file="test_connection_limit_real.py", node=None, at="profile")
    with running_stack("modern", short_tmp, profile=profile) as stack:
        info = stack.info
        ToxiproxyClient(info.toxiproxy_api).add_toxic(
            proxy_name("app->db"), name="slow-db", type="latency",
            attributes={"latency": 100, "jitter": 0})
        answers = _hammer(info.lb_url)
        assert info.db_proxy_admin
        proxy = RdsProxyAdmin(info.db_proxy_admin).stats()
    statuses = [s for s, _ in answers]
    print(f"modern, interpolateParams: {len(answers)} answers "
          f"{ {s: statuses.count(s) for s in sorted(set(statuses))} }; proxy: {proxy}")
    # nothing pins: each transaction borrows one of the proxy's connections and gives it back
    assert proxy["pin_reasons"] == {}
    assert proxy["pinned_sessions"] == 0
    assert proxy["borrow_timeouts"] == 0
    assert [b for s, b in answers if s >= 500 or s == 0] == []


def test_persistent_php_connections_stay_open_between_requests(short_tmp: Path) -> None:
    persistent = {"db_pool": {"persistent": {"value": True, "source": WHY}}}
    profile = profile_with("legacy", {"app": persistent}, file="test_connection_limit_real.py",
                           node=None, at="profile")
    with running_stack("legacy", short_tmp, profile=profile) as stack:
        port = stack.info.db_writer_port
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: requests.get(f"{stack.info.lb_url}/orders/999999",
                                                 timeout=10), range(64)))
        time.sleep(1)
        after = instance_connections(port)
    assert after is not None
    # each php-fpm child that served a request keeps its connection (PDO::ATTR_PERSISTENT);
    # without it the count is back to the standby's and the sampler's once requests end
    print(f"writer connections after the requests: {after.threads}")
    # (2: the standby's replication connection and the sampler's own)
    assert after.threads - 2 >= 6
