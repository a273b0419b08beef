"""A scenario's own data and checks (harness.scenario.own), end to end with `harness run`.

A schema file adds a table beside the sample shop's, a seed file fills it, a queue and
a bucket of the team's are created, and two SQL invariants run after the drain: one that holds and
one built to fail (it expects no rows from the table the seed filled). The run fails
through that one alone, named in run.json with the rows it found.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_run import _only_run, _run

from tests.support.cli_process import told

pytestmark = pytest.mark.integration

def _scenario(folder: Path) -> Path:
    (folder / "db").mkdir()
    (folder / "db" / "schema.sql").write_text(
        "-- the team's table, beside the shop's\n"
        "CREATE TABLE ledger (\n"
        "  id INT PRIMARY KEY,\n"
        "  note VARCHAR(40) NOT NULL,  -- may hold a ';'\n"
        "  amount INT NOT NULL\n"
        ");\n")
    (folder / "db" / "seed.sql").write_text(
        "INSERT INTO ledger (id, note, amount) VALUES (1, 'opening; balance', 10);\n"
        "INSERT INTO ledger (id, note, amount) VALUES (2, 'it''s fine', 20),\n"
        "  (3, 'three', 5);\n")
    data: dict[str, Any] = {
        "name": "own-data",
        "description": "the sample shop plus a team's table, seed, queue and two checks",
        "architectures": ["modern"],
        "seed": 3,
        "time_scale": 0.05,
        "drain": "1s",
        "workload": {
            "journeys": {"browse": {"weight": 1}},
            "data": {"products": 5, "events": 1},
            "phases": [{"name": "steady", "shape": "constant", "rate": "5/s",
                        "duration": "3s"}],
            "timeouts": {"connect": "2s", "read": "10s"},
        },
        "own_service": {
            "sample_shop": True,
            "schema": ["db/schema.sql"],
            "seed": ["db/seed.sql"],
            "queues": ["ledger-events"],
            "buckets": ["ledger-exports"],
            "invariants": [
                {"name": "ledger_total", "description": "the seed's three rows add up to 35",
                 "sql": "SELECT SUM(amount) FROM ledger", "expect": {"value": 35}},
                {"name": "ledger_empty", "description": "built to fail: the seed filled it",
                 "sql": "SELECT id, note FROM ledger ORDER BY id", "expect": "no_rows"},
            ],
        },
    }
    path = folder / "own-data.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_own_schema_seed_and_checks_judge_the_run(short_tmp: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    scenario = _scenario(tmp_path)
    result, took = _run(env, str(scenario), "--ci", "--out", str(tmp_path / "out"),
                        timeout=600)
    print(f"harness run own-data: {took:.1f} s wall")
    output = told(result)
    run = _only_run(tmp_path / "out")
    record: dict[str, Any] = json.loads((run / "run.json").read_text())
    (arch,) = record["architectures"]
    assert arch["error"] is None, arch["error"]
    assert arch["valid"], arch["invalid_reasons"]
    checks = {i["name"]: i for i in arch["invariants"]}
    # the shop's own checks still ran, beside the team's
    assert "orders_lost" in checks
    total, empty = checks["ledger_total"], checks["ledger_empty"]
    assert total["ok"], total
    assert total["query"]["measured"] == 35
    assert not empty["ok"], empty
    assert empty["value"] == 3
    assert empty["query"]["row_count"] == 3
    assert empty["query"]["columns"] == ["id", "note"]
    assert empty["query"]["rows"] == [[1, "opening; balance"], [2, "it's fine"], [3, "three"]]
    # the run fails because of the failing check, and only because of it
    assert result.returncode == 1, output
    assert record["verdict"]["reasons"] == ["modern: invariant ledger_empty violated"], output
    assert "ledger_empty" in (run / "report.html").read_text()
    assert "ledger_empty" in (run / "junit.xml").read_text()
