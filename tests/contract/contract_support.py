"""What the contract tests share: the running parts, an HTTP client, the checkers.

The checkers (`check_claims`, `check_published`) work like the harness's
invariant checks: from what clients were told (acknowledged or not) and what
the database and the queue hold, they list violations. The tests assert an
empty list against the correct apps, and a non-empty one against the apps with
a planted bug, so a checker that cannot fail is noticed.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import jsonschema
import requests
import yaml

from harness.runtime.base import Runtime
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.settings import PROJECT_ROOT, Settings
from harness.stacks.components import localstack, mariadb
from harness.stacks.components.toxiproxy import ToxiproxyClient

API_YAML = PROJECT_ROOT / "stacks" / "api.yaml"
HTTP_TIMEOUT_S = 30.0

Json = Any


@dataclass
class Backends:
    """The session's MariaDB, LocalStack and Toxiproxy."""

    runtime: Runtime
    #: the runtime's id of this session (the docker runtime labels its containers with it)
    stack_id: str
    ports: PortAllocator
    settings: Settings
    root: Path
    db_port: int
    aws_port: int
    #: LocalStack reached directly, as the checks read it (the apps go through a proxy)
    aws_endpoint: str
    toxi: ToxiproxyClient
    #: the AWS fault point between the apps' AWS proxies and LocalStack
    aws_fault_port: int
    _clients: dict[str, Any] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.aws_endpoint, region_name=localstack.REGION,
                **localstack.CREDENTIALS,
            )
        return self._clients[service]

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Read the truth as root on the direct port (never through a proxy)."""
        with mariadb.admin(self.db_port, mariadb.DATABASE) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def execute(self, sql: str, args: Sequence[object] = ()) -> None:
        with mariadb.admin(self.db_port, mariadb.DATABASE) as conn, conn.cursor() as cur:
            cur.execute(sql, args)

    def scalar(self, sql: str, args: Sequence[object] = ()) -> Any:
        rows = self.query(sql, args)
        return rows[0][0] if rows else None

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Json:
        return json.loads(self.text)


@dataclass
class AppUnderTest:
    """One running app instance, reached directly on its port."""

    name: str
    kind: str
    bug: str | None
    url: str
    app_name: str
    #: the queue as the checks read it, directly on LocalStack
    queue_url: str
    bucket: str | None
    db_proxy: str
    aws_proxy: str
    backends: Backends
    log: Path
    #: every message read back from the app's queue so far, by order id
    published: dict[int, list[Json]] = field(default_factory=dict)
    _session: requests.Session = field(default_factory=requests.Session)

    def request(
        self, method: str, path: str, *, json_body: Json = None, data: str | bytes | None = None,
        headers: dict[str, str] | None = None, fresh: bool = False,
    ) -> Reply:
        """One HTTP request; `fresh` uses its own connection (safe from any thread)."""
        kwargs: dict[str, Any] = {"timeout": HTTP_TIMEOUT_S, "headers": headers}
        if data is not None:
            kwargs["data"] = data
        elif json_body is not None:
            kwargs["json"] = json_body
        if fresh:
            with requests.Session() as session:
                resp = session.request(method, self.url + path, **kwargs)
        else:
            resp = self._session.request(method, self.url + path, **kwargs)
        with resp:
            return Reply(resp.status_code, dict(resp.headers), resp.text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Json = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kwargs)

    def read_queue(self, order_ids: set[int], timeout_s: float = 15) -> set[int]:
        """Drain the queue until every order id has been seen; return those still missing."""
        sqs = self.backends.aws("sqs")
        deadline = time.monotonic() + timeout_s
        while True:
            missing = order_ids - self.published.keys()
            if not missing or time.monotonic() > deadline:
                return missing
            got = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            ).get("Messages", [])
            for msg in got:
                body = json.loads(msg["Body"])
                self.published.setdefault(int(body["order_id"]), []).append(body)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])

    def close(self) -> None:
        self._session.close()


# -- the OpenAPI contract -----------------------------------------------------

@cache
def api() -> dict[str, Any]:
    return dict(yaml.safe_load(API_YAML.read_text()))


def schema_errors(value: Json, schema_name: str) -> list[str]:
    """Check a JSON value against a component schema of api.yaml (jsonschema does the work)."""
    # the components travel along so that "#/components/schemas/..." refs resolve
    schema = {"components": api()["components"], "$ref": f"#/components/schemas/{schema_name}"}
    return [
        f"{schema_name}{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
        for error in jsonschema.Draft202012Validator(schema).iter_errors(value)
    ]


# -- concurrency --------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """One write as its client saw it."""

    key: str
    status: int
    body: Json


def run_together(app: AppUnderTest, path: str, bodies: Sequence[Json]) -> list[Attempt]:
    """POST each body to `path` at the same moment, one connection each.

    Last-byte synchronisation: every thread connects and sends its request but
    for the final byte, waits on a barrier, then sends that byte, so the app
    receives all requests within a fraction of a millisecond instead of the
    spread that connection set-up and the GIL would give them.
    """
    host, port = urlsplit(app.url).hostname or LOOPBACK, urlsplit(app.url).port or 80
    barrier = threading.Barrier(len(bodies))

    def one(body: Json) -> Attempt:
        payload = json.dumps(body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + payload
        with socket.create_connection((host, port), timeout=HTTP_TIMEOUT_S) as sock:
            # no Nagle: the last byte must leave at once, not wait for an ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request[:-1])
            barrier.wait(timeout=60)
            sock.sendall(request[-1:])
            resp = http.client.HTTPResponse(sock)
            try:
                resp.begin()
                text = resp.read().decode()
            finally:
                resp.close()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = text
        return Attempt(str(body["idempotency_key"]), resp.status, answer)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


@dataclass(frozen=True)
class Claims:
    """What the database holds for one counted row after a burst of writes."""

    left: int
    #: (idempotency_key, amount) of every order / reservation row of that product / event
    rows: list[tuple[str, int]]


def read_orders(b: Backends, product_id: int) -> Claims:
    return Claims(
        left=int(b.scalar("SELECT stock FROM products WHERE id = %s", (product_id,))),
        rows=[(str(k), int(q)) for k, q in b.query(
            "SELECT idempotency_key, quantity FROM orders WHERE product_id = %s", (product_id,))],
    )


def read_reservations(b: Backends, event_id: int) -> Claims:
    return Claims(
        left=int(b.scalar("SELECT seats_left FROM events WHERE id = %s", (event_id,))),
        rows=[(str(k), int(s)) for k, s in b.query(
            "SELECT idempotency_key, seats FROM reservations WHERE event_id = %s", (event_id,))],
    )


def check_claims(
    attempts: Sequence[Attempt], claims: Claims, *, available: int, amount: int,
) -> list[str]:
    """Violations of "never oversell, never lose, never duplicate" after a burst of writes.

    `available` is what was left before the burst, each attempt asked for `amount`.
    """
    violations: list[str] = []
    acked = {a.key for a in attempts if a.status in (200, 201)}
    created = sum(1 for a in attempts if a.status == 201)
    taken = sum(q for _, q in claims.rows)
    if claims.left < 0:
        violations.append(f"oversold: {claims.left} left (below zero)")
    if taken > available:
        violations.append(f"oversold: {taken} taken of {available} available")
    if created * amount > available:
        violations.append(f"oversold: {created} acknowledged creations of {amount} "
                          f"with {available} available")
    if claims.left != available - taken:
        violations.append(f"counter drift: {claims.left} left, expected {available - taken}")
    stored = Counter(k for k, _ in claims.rows)
    if lost := acked - stored.keys():
        violations.append(f"lost: {len(lost)} acknowledged but not in the database")
    if dupes := [k for k, n in stored.items() if n > 1]:
        violations.append(f"duplicates: {len(dupes)} keys stored more than once")
    if unexpected := stored.keys() - {a.key for a in attempts}:
        violations.append(f"unexpected: {len(unexpected)} rows never attempted")
    statuses = Counter(a.status for a in attempts)
    if odd := {s: n for s, n in statuses.items() if s not in (200, 201, 409)}:
        violations.append(f"unexpected answers: {odd}")
    return violations


def check_published(app: AppUnderTest, attempts: Sequence[Attempt]) -> list[str]:
    """Every acknowledged order is on the app's queue and in the database."""
    acked = {int(a.body["order_id"]) for a in attempts if a.status in (200, 201)}
    if not acked:
        return []
    in_db = {int(r[0]) for r in app.backends.query(
        "SELECT id FROM orders WHERE id IN (" + ",".join(["%s"] * len(acked)) + ")",
        sorted(acked),
    )}
    violations = []
    if missing_db := acked - in_db:
        violations.append(f"lost: orders {sorted(missing_db)} acknowledged but not in the database")
    if missing_queue := app.read_queue(acked):
        violations.append(f"lost: orders {sorted(missing_queue)} acknowledged but not on the queue")
    return violations
