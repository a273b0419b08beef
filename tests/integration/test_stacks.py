"""Each stack, started for real, answers through its load balancer and is wired as profiled."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from harness.stacks.components import localstack
from harness.stacks.components.mariadb import DATABASE, admin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.stack import Stack
from tests.support.exposure import ListenerWatch, beyond_loopback

pytestmark = pytest.mark.integration


def _order(url: str, product_id: int, quantity: int = 1) -> requests.Response:
    body = {"product_id": product_id, "quantity": quantity, "idempotency_key": uuid.uuid4().hex}
    return requests.post(f"{url}/orders", json=body, timeout=10)


def _stock(port: int, product_id: int) -> int:
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute("SELECT stock FROM products WHERE id = %s", (product_id,))
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def test_lb_url_is_loopback_and_every_component_listens(stack: Stack) -> None:
    info = stack.info
    assert info.lb_url.startswith("http://127.0.0.1:")
    expected = {"lb", "toxiproxy", "aws", "db-writer", *stack.profile.app_names}
    if stack.profile.has_reader:
        expected.add("db-reader")
    if stack.profile.has_standby:
        expected.add("db-standby")
    if stack.profile.proxy is not None:
        expected.add("db-proxy")
    assert set(info.components) == expected
    for component in info.components.values():
        with socket.create_connection(("127.0.0.1", component.port), timeout=2):
            pass


def test_every_component_listens_on_loopback_only(stack: Stack) -> None:
    # the stack's processes are this test process's children
    listeners = ListenerWatch(pid=os.getpid()).sample()
    exposed = beyond_loopback(listeners)
    assert exposed == [], "\n".join(map(str, exposed))
    assert {c.port for c in stack.info.components.values()} <= {x.port for x in listeners}


def test_reads_through_the_load_balancer_return_the_seeded_data(stack: Stack) -> None:
    url = stack.info.lb_url
    assert requests.get(f"{url}/ready", timeout=10).status_code == 200
    products = requests.get(f"{url}/products", timeout=10)
    assert products.status_code == 200
    assert stack.seed_data is not None
    seeded = {p[0]: p for p in stack.seed_data.products}
    assert {p["id"] for p in products.json()} == set(seeded)
    one = requests.get(f"{url}/products/3", timeout=10).json()
    assert (one["name"], one["stock"]) == (seeded[3][1], seeded[3][3])
    assert requests.get(f"{url}/products/99999", timeout=10).status_code == 404


def test_requests_are_spread_over_every_app_instance(stack: Stack) -> None:
    served = Counter(
        requests.get(f"{stack.info.lb_url}/health", timeout=10).headers["X-Served-By"]
        for _ in range(30)
    )
    assert set(served) == set(stack.profile.app_names), served


def test_an_order_through_the_lb_commits_and_is_published(stack: Stack) -> None:
    info = stack.info
    before = _stock(info.db_writer_port, 5)
    created = _order(info.lb_url, 5, quantity=2)
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    assert _stock(info.db_writer_port, 5) == before - 2

    sqs = localstack.client("sqs", info.aws_endpoint)
    published: set[int] = set()
    deadline = time.monotonic() + 20
    while order_id not in published and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=info.queue_url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=1)
        published |= {int(json.loads(m["Body"])["order_id"]) for m in got.get("Messages", [])}
    assert order_id in published

    if info.bucket:  # modern: a receipt per order in S3
        s3 = localstack.client("s3", info.aws_endpoint)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=info.bucket).get("Contents", [])]
        assert f"receipts/{order_id}.json" in keys


def test_every_edge_passes_through_its_own_fault_proxy(stack: Stack) -> None:
    info = stack.info
    proxies = ToxiproxyClient(info.toxiproxy_api).proxies()
    # every member slot has its edge, the spares auto scaling may fill included
    slots = stack.profile.member_slots
    assert set(stack.profile.app_names) <= set(slots)
    edges = {"client->lb", "app->db", "app->aws", *(f"lb->{a}" for a in slots)}
    if stack.profile.has_reader:
        edges.add("app->db-reader")
    assert set(info.edges) == edges
    for edge in info.edges.values():
        proxy = proxies[edge.proxy]
        assert proxy["enabled"]
        assert proxy["listen"].endswith(f":{edge.listen_port}")
        assert proxy["upstream"].endswith(f":{edge.upstream_port}")
    # the load balancer URL is the client->lb proxy, not HAProxy itself
    assert info.lb_url.endswith(f":{info.edges['client->lb'].listen_port}")


def test_haproxy_runtime_api_lists_every_app_as_a_server(stack: Stack) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(stack.info.haproxy_socket)
        sock.sendall(b"show servers state\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    for app in stack.profile.app_names:
        assert f" {app} ".encode() in answer


def test_modern_reader_replicates_the_writer(stack: Stack) -> None:
    if not stack.profile.has_reader:
        pytest.skip("legacy has no reader replica (its Multi-AZ standby serves no traffic)")
    info = stack.info
    created = _order(info.lb_url, 7)
    assert created.status_code == 201
    assert info.db_reader_port is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _stock(info.db_reader_port, 7) == _stock(info.db_writer_port, 7):
            break
        time.sleep(0.2)
    assert _stock(info.db_reader_port, 7) == _stock(info.db_writer_port, 7)
    with admin(info.db_reader_port) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.read_only")
        row = cur.fetchone()
    assert row is not None
    assert int(row[0]) == 1


def test_instances_and_tasks_run_inside_their_cgroup_limits(stack: Stack) -> None:
    assert stack.runtime is not None
    limiter = stack.runtime.cgroups
    if not limiter.available:
        pytest.skip(f"cgroups not enforceable here: {limiter.reason}")
    size = stack.profile.app.size
    for app in stack.profile.app_names:
        in_force = limiter.in_force(app)
        assert (in_force.cpus, in_force.memory_mb) == (size.cpus.value, size.memory_mb.value)
        # a PHP instance's nginx and php-fpm share the instance's cgroup
        for pid in stack.runtime.pids(app):
            lines = Path(f"/proc/{pid}/cgroup").read_text()
            assert f"/harness/{stack.stack_id}/{app}" in lines
