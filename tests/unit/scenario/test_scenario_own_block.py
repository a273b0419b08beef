"""A scenario's `own_service:` block: a team's schema, seed, queues, buckets and SQL checks,
validated before anything starts, with errors naming the scenario's file and line (and the
SQL file's line for a problem inside one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.analysis.invariants import DatabaseState, evaluate
from harness.errors import ScenarioError
from harness.scenario.own import BUILTIN_INVARIANTS
from harness.scenario.scenario import SCENARIOS_DIR, load_scenario, on_architectures

SMOKE = (SCENARIOS_DIR / "smoke.yaml").read_text()
#: a modern variant that runs a team's own app (so the sample shop may go)
OWN_APP = """
variants:
  modern#own:
    description: the team's service instead of the sample one
    profile:
      app: {command: [./server, --port, "{port}"]}
"""


def _write(tmp_path: Path, block: str, *, extra: str = "", archs: str = "") -> Path:
    text = SMOKE + extra + block
    if archs:
        text = text.replace("architectures: [legacy, modern]", f"architectures: {archs}")
    path = tmp_path / "team.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, block: str, **kw: str) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(_write(tmp_path, block, **kw)))
    return str(exc.value)


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_scenario_without_the_block_keeps_the_sample_shop() -> None:
    assert load_scenario("smoke").own is None


def test_files_queues_buckets_and_checks_are_read_with_their_defaults(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "schema.sql").write_text(
        "-- accounts\nCREATE TABLE accounts (id INT, note VARCHAR(9) DEFAULT 'a;b');\n\n"
        "CREATE INDEX accounts_id ON accounts (id);\n")
    block = """
own_service:
  schema: [db/schema.sql]
  seed: {command: "./seed --rows 10", timeout: 2m}
  queues: [payments, {name: refunds.fifo, env: REFUNDS_URL}]
  buckets: [invoices.eu]
  invariants:
    - {name: no_negative, description: no balance below zero,
       sql: "SELECT id FROM accounts WHERE balance < 0", expect: no_rows}
    - {name: three_accounts, description: the seed's accounts,
       sql: "SELECT COUNT(*) FROM accounts", expect: {value: 3, op: ">="}}
    - {name: few_rows, description: rows, sql: "WITH a AS (SELECT 1) SELECT * FROM a",
       expect: {rows: 2, op: "<"}}
"""
    own = load_scenario(str(_write(tmp_path, block, extra=OWN_APP,
                                   archs="[modern#own]"))).own
    assert own is not None
    assert own.sample_shop is False  # a schema of their own replaces the shop's by default
    assert own.schema is not None
    assert own.schema.command is None
    (schema_file,) = own.schema.files
    assert [(s.line, s.text.split()[1]) for s in schema_file.statements] == [
        (2, "TABLE"), (4, "INDEX")]
    assert own.seed is not None
    assert own.seed.command == ("./seed", "--rows", "10")
    assert own.seed.timeout_s == 120
    assert own.seed.cwd == tmp_path
    assert [(q.name, q.variable, q.fifo) for q in own.queues] == [
        ("payments", "SQS_QUEUE_URL_PAYMENTS", False), ("refunds.fifo", "REFUNDS_URL", True)]
    assert [b.variable for b in own.buckets] == ["S3_BUCKET_INVOICES_EU"]
    assert [i.expect.text for i in own.invariants] == ["no rows", "value >= 3", "rows < 2"]


def test_checks_alone_keep_the_sample_shop(tmp_path: Path) -> None:
    block = """
own_service:
  invariants:
    - {name: no_big_orders, description: no order of more than 50,
       sql: "SELECT id FROM orders WHERE quantity > 50", expect: no_rows}
"""
    own = load_scenario(str(_write(tmp_path, block))).own
    assert own is not None
    assert own.sample_shop is True


@pytest.mark.parametrize(("block", "where", "says"), [
    ("own_service:\n  shema: [a.sql]\n", "own_service.shema", "unknown key"),
    ("own_service:\n  schema: a.sql\n", "own_service.schema", "a list of SQL files"),
    ("own_service:\n  sample_shop: true\n  seed: {files: [a.sql], command: [x]}\n",
     "own_service.seed", "either files"),
    ("own_service:\n  sample_shop: true\n  seed: [missing.sql]\n", "own_service.seed[0]",
     "is not a file"),
    ("own_service:\n  queues: [bad name]\n", "own_service.queues[0].name", "pattern"),
    ("own_service:\n  buckets: [Upper]\n", "own_service.buckets[0].name", "pattern"),
    ("own_service:\n  queues: [a, {name: b, env: SQS_QUEUE_URL_A}]\n",
     "own_service.queues[1]", "variable SQS_QUEUE_URL_A appears twice"),
    ("own_service:\n  queues: [{name: a, env: DB_HOST}]\n", "own_service.queues[0].env",
     "the harness sets itself"),
    ("own_service:\n  invariants:\n    - {name: x, description: d, sql: SELECT 1, "
     "expect: nothing}\n", "own_service.invariants[0].expect", "not an expectation"),
    ("own_service:\n  invariants:\n    - {name: x, description: d, sql: SELECT 1, "
     "expect: {value: 1, rows: 2}}\n", "own_service.invariants[0].expect", "either rows"),
    ("own_service:\n  invariants:\n    - {name: x, description: d, sql: SELECT 1, "
     "expect: {value: 1, op: '=~'}}\n", "own_service.invariants[0].expect.op", "=="),
    ("own_service:\n  invariants:\n    - {name: x, description: d, "
     "sql: DELETE FROM orders, expect: no_rows}\n", "own_service.invariants[0].sql",
     "only reads"),
    ("own_service:\n  invariants:\n    - {name: x, description: d, "
     "sql: 'SELECT 1; SELECT 2', expect: no_rows}\n", "own_service.invariants[0].sql",
     "one statement, not 2"),
    ("own_service:\n  invariants:\n    - {name: x, description: d, "
     "sql: \"SELECT 'open\", expect: no_rows}\n", "own_service.invariants[0].sql",
     "never closed"),
    ("own_service:\n  invariants:\n    - {name: orders_lost, description: d, "
     "sql: SELECT 1, expect: no_rows}\n", "own_service.invariants[0].name", "built-in"),
    ("own_service:\n  invariants:\n    - {name: a, description: d, sql: SELECT 1, "
     "expect: no_rows}\n    - {name: a, description: e, sql: SELECT 2, expect: no_rows}\n",
     "own_service.invariants[1].name", "appears twice"),
    ("own_service:\n  invariants:\n    - {name: a, sql: SELECT 1, expect: no_rows}\n",
     "own_service.invariants[0].description", "required"),
])
def test_a_bad_block_is_one_error_with_the_scenario_line(
    tmp_path: Path, block: str, where: str, says: str
) -> None:
    message = _error(tmp_path, block)
    path = tmp_path / "team.yaml"
    assert f": {where}: " in message, message
    assert says in message, message
    # a line within the block, never a bare file name
    reported = int(message.split(f"{path}:")[1].split(":")[0])
    assert _line_of(path, "own_service:") <= reported <= len(path.read_text().splitlines())


def test_the_line_is_that_of_the_bad_entry(tmp_path: Path) -> None:
    block = ("own_service:\n  invariants:\n    - {name: a, description: d, sql: SELECT 1, "
             "expect: no_rows}\n    - {name: b, description: e, sql: UPDATE t SET x = 1,\n"
             "       expect: no_rows}\n")
    message = _error(tmp_path, block)
    path = tmp_path / "team.yaml"
    assert message.startswith(f"{path}:{_line_of(path, 'UPDATE')}: own_service.invariants[1]"
                              ".sql: "), message


def test_a_problem_inside_an_sql_file_names_that_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "seed.sql").write_text("INSERT INTO t VALUES (1);\n\nINSERT INTO t VALUES ('x);\n")
    message = _error(tmp_path, "own_service:\n  sample_shop: true\n  seed: [seed.sql]\n")
    assert f"{tmp_path / 'team.yaml'}:" in message
    assert f"{tmp_path / 'seed.sql'}:3: a string opened with ' is never closed" in message


def test_the_sample_services_need_the_sample_shop(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id INT);\n")
    message = _error(tmp_path, "own_service:\n  schema: [schema.sql]\n")
    assert "own_service" in message
    assert "legacy runs the sample service" in message
    assert "sample_shop: true" in message
    # kept beside the team's tables, the shop is there for them
    own = load_scenario(str(_write(tmp_path, "own_service:\n  sample_shop: true\n"
                                             "  schema: [schema.sql]\n"))).own
    assert own is not None
    assert own.sample_shop


def test_a_planted_bug_needs_the_sample_shop(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id INT);\n")
    message = _error(tmp_path, "own_service:\n  schema: [schema.sql]\n",
                     extra=OWN_APP + "bug: ack_before_commit\n", archs="[modern#own]")
    assert ": bug: " in message


def test_another_architecture_on_the_command_line_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id INT);\n")
    scenario = load_scenario(str(_write(tmp_path, "own_service:\n  schema: [schema.sql]\n",
                                        extra=OWN_APP, archs="[modern#own]")))
    with pytest.raises(ScenarioError, match="legacy runs the sample service"):
        on_architectures(scenario, ["legacy"])


def test_the_reserved_names_are_the_built_in_checks() -> None:
    built_in = evaluate([], DatabaseState(), initial_stock={}, queued_order_ids=set())
    assert {i.name for i in built_in} == BUILTIN_INVARIANTS


def test_the_block_is_recorded_as_written(tmp_path: Path) -> None:
    block = ("own_service:\n  invariants:\n    - {name: a, description: d, sql: SELECT 1, "
             "expect: {value: 1}}\n")
    scenario = load_scenario(str(_write(tmp_path, block)))
    assert scenario.definition["own_service"] == yaml.safe_load(block)["own_service"]
