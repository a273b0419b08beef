"""A team's own service, data and acknowledged writes, end to end with `harness run`.

No sample shop at all: the app is a small payments service of the test's own (Python,
as `app.command`), the schema and seed are the team's SQL files, and the team's
locustfile marks each payment it sends with `record_write` (harness.load.acked). After
the drain the harness looks every key up in `payments.id`: the service's real payments
are all there, and one acknowledgement the locustfile planted for a payment never sent
is reported lost and fails the run, by its name and key, with the team's SQL checks.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_run import _only_run, _run

from tests.support.cli_process import told

pytestmark = pytest.mark.integration

SERVER = '''
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import pymysql

def connect():
    return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                           user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"],
                           database=os.environ["DB_NAME"], autocommit=True, connect_timeout=2,
                           read_timeout=5, write_timeout=5)

class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            try:
                connect().close()
            except pymysql.MySQLError as exc:
                return self.answer(503, {"error": str(exc)})
        self.answer(200, {"ok": True})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO payments (id, amount) VALUES (%s, %s)",
                            (body["id"], body["amount"]))
        finally:
            conn.close()
        self.answer(201, {"id": body["id"]})

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''

LOCUSTFILE = '''
import uuid
from locust import HttpUser, constant, task
from harness.load.acked import record_write

planted = False

class Payer(HttpUser):
    wait_time = constant(0.2)

    @task
    def pay(self):
        global planted
        key = uuid.uuid4().hex
        response = self.client.post("/payments", json={"id": key, "amount": 5})
        record_write(response, table="payments", column="id", key=key)
        if not planted:
            # an acknowledgement for a payment that was never sent: it must be found lost
            planted = True
            record_write(response, table="payments", column="id", key="planted-lost",
                         outcome="acknowledged")
'''


def _scenario(folder: Path) -> Path:
    (folder / "server.py").write_text(SERVER)
    (folder / "locustfile.py").write_text(LOCUSTFILE)
    (folder / "schema.sql").write_text(
        "CREATE TABLE payments (\n  id VARCHAR(40) PRIMARY KEY,\n  amount INT NOT NULL\n);\n")
    (folder / "seed.sql").write_text("INSERT INTO payments (id, amount) VALUES ('opening', 0);\n")
    data: dict[str, Any] = {
        "name": "own-writes",
        "description": "a team's payments service, its data, checks and acknowledged writes",
        "architectures": ["modern#own"],
        "seed": 5,
        "time_scale": 0.05,
        "drain": "1s",
        "variants": {"modern#own": {
            "description": "the team's payments service instead of the sample one",
            "profile": {"app": {"command": [sys.executable, str(folder / "server.py"),
                                            "{port}"]}},
        }},
        "workload": {"locustfile": {"path": "locustfile.py", "users": 4, "spawn_rate": 4,
                                    "duration": "4s"}},
        "own_service": {
            "schema": ["schema.sql"],
            "seed": ["seed.sql"],
            "invariants": [
                {"name": "no_free_payments", "description": "every payment has an amount",
                 "sql": "SELECT id FROM payments WHERE amount <= 0 AND id <> 'opening'",
                 "expect": "no_rows"},
                {"name": "opening_row", "description": "the seed's row is there",
                 "sql": "SELECT COUNT(*) FROM payments WHERE id = 'opening'",
                 "expect": {"value": 1}},
            ],
        },
    }
    path = folder / "own-writes.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_teams_lost_write_fails_the_run_and_its_real_writes_are_found(
    short_tmp: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    scenario = _scenario(tmp_path)
    result, took = _run(env, str(scenario), "--ci", "--out", str(tmp_path / "out"),
                        timeout=600)
    print(f"harness run own-writes: {took:.1f} s wall")
    output = told(result)
    record: dict[str, Any] = json.loads((_only_run(tmp_path / "out") / "run.json").read_text())
    (arch,) = record["architectures"]
    assert arch["error"] is None, arch["error"]
    checks = {i["name"]: i for i in arch["invariants"]}
    # no sample shop: none of its checks ran
    assert "orders_lost" not in checks, sorted(checks)
    assert checks["no_free_payments"]["ok"], checks["no_free_payments"]
    assert checks["opening_row"]["ok"], checks["opening_row"]
    acked = arch["writes_checked"]["payments.id"]["acknowledged"]
    assert acked > 10, arch["writes_checked"]  # 4 users, a payment each 0.2 s, for 4 s
    lost = checks["payments.id_lost"]
    assert not lost["ok"]
    assert lost["value"] == 1, lost  # the planted one alone: every real payment was found
    assert lost["examples"] == ["key planted-lost"]
    assert checks["payments.id_unexpected"]["ok"]
    assert result.returncode == 1, output
    assert record["verdict"]["reasons"] == ["modern#own: invariant payments.id_lost violated"]
