"""A team's schema and seed steps: a command gets the writer in its environment and fails
with its last lines; a statement the database refuses is named by its file and line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pymysql
import pytest

from harness.errors import StackError
from harness.scenario.own import MIGRATION_ENV, DataStep, SqlFile
from harness.scenario.sqltext import Statement
from harness.stacks import owndata


def _step(tmp_path: Path, script: str, *, timeout_s: float = 30) -> DataStep:
    (tmp_path / "step.py").write_text(script)
    return DataStep("seed", command=(sys.executable, "step.py"), cwd=tmp_path,
                    timeout_s=timeout_s)


def test_a_command_runs_in_the_scenario_folder_with_the_documented_variables(
    tmp_path: Path
) -> None:
    step = _step(tmp_path, "import json, os\n"
                 f"json.dump({{k: os.environ[k] for k in {list(MIGRATION_ENV)!r}}}, "
                 "open('env.json', 'w'))\nprint('seeded')\n")
    owndata.run_command(step, 3306, log_dir=tmp_path / "logs", seed=42)
    env = json.loads((tmp_path / "env.json").read_text())
    assert env == owndata.migration_env(3306, 42)
    assert env["DB_HOST"] == "127.0.0.1"
    assert env["DB_PORT"] == "3306"
    assert env["DATABASE_URL"] == f"mysql://owner:{env['DB_PASSWORD']}@127.0.0.1:3306/shop"
    assert env["HARNESS_SEED"] == "42"
    assert "seeded" in (tmp_path / "logs" / "own-seed.log").read_text()


def test_a_failing_command_is_a_stack_error_with_its_exit_code_and_last_lines(
    tmp_path: Path
) -> None:
    step = _step(tmp_path, "import sys\nprint('table ledger exists')\nsys.exit(3)\n")
    with pytest.raises(StackError) as exc:
        owndata.run_command(step, 3306, log_dir=tmp_path / "logs", seed=1)
    message = str(exc.value)
    assert message.startswith("own_service.seed.command: ")
    assert "exited 3" in message
    assert "table ledger exists" in message
    assert str(tmp_path / "logs" / "own-seed.log") in message


def test_a_command_past_its_timeout_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    # the command starts a child of its own; the timeout stops both (its process group)
    step = _step(tmp_path, "import subprocess, sys, time\n"
                 "child = subprocess.Popen([sys.executable, '-c', 'import time; "
                 "time.sleep(60)'])\nopen('child.pid', 'w').write(str(child.pid))\n"
                 "print('waiting', flush=True)\ntime.sleep(60)\n", timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(StackError, match=r"did not finish within 1.5 s; stopped"):
        owndata.run_command(step, 3306, log_dir=tmp_path / "logs", seed=1)
    assert time.monotonic() - started < 30
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for whoever adopted it to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_command_that_is_not_there_says_where_it_was_looked_for(tmp_path: Path) -> None:
    step = DataStep("schema", command=("./migrate-nope",), cwd=tmp_path)
    with pytest.raises(StackError, match=r"own_service.schema.command: ./migrate-nope could "
                       r"not start: No such file"):
        owndata.run_command(step, 3306, log_dir=tmp_path, seed=1)


def test_a_refused_statement_names_its_file_and_the_line_of_the_error(tmp_path: Path) -> None:
    sql_file = SqlFile(tmp_path / "schema.sql", (Statement(7, "CREATE TABLE t (\n  id INTT\n)"),))
    exc = pymysql.err.ProgrammingError(
        1064, "You have an error in your SQL syntax; check the manual near 'INTT\n)' at line 2")
    message = owndata._statement_error(DataStep("schema"), sql_file, sql_file.statements[0], exc)
    assert message.startswith(f"own_service.schema: {tmp_path / 'schema.sql'}:8: the database "
                              "refused the statement: You have an error")
    assert "(error 1064)" in message
    other = pymysql.err.OperationalError(1050, "Table 't' already exists")
    message = owndata._statement_error(DataStep("schema"), sql_file, sql_file.statements[0],
                                       other)
    assert f"{tmp_path / 'schema.sql'}:7: " in message
