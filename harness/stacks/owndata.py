"""A team's own data on a stack (harness.scenario.own): schema and seed, queues and buckets.

The schema and seed run on the writer's direct port (no fault proxy) before any load,
the same way on both architectures. SQL files go statement by statement over PyMySQL;
a command runs on this machine in the scenario file's folder with the writer's address
and an account that may change the schema in its environment (`MIGRATION_ENV`), its
output in the stack's log folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pymysql

from harness.errors import StackError
from harness.runtime.ports import LOOPBACK
from harness.scenario.own import MIGRATION_ENV, DataStep, OwnService, SqlFile
from harness.scenario.sqltext import Statement
from harness.stacks.components import localstack
from harness.stacks.components.mariadb import DATABASE, admin

#: the account a schema or seed command gets: every privilege on the database, none beyond
OWNER_USER = "owner"
OWNER_PASSWORD = "owner-pass"
#: lines of a failed command's output quoted in its error
TAIL_LINES = 8
_AT_LINE = re.compile(r"at line (\d+)\s*$")


def prepare_database(port: int, own: OwnService, *, log_dir: Path, seed: int) -> None:
    """The team's schema, then their seed, on the writer at `port`; StackError on a failure."""
    steps = [s for s in (own.schema, own.seed) if s is not None]
    if not steps:
        return
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER IF NOT EXISTS '{OWNER_USER}'@'%' "
                    f"IDENTIFIED BY '{OWNER_PASSWORD}'")
        cur.execute(f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{OWNER_USER}'@'%'")
    for step in steps:
        if step.command is not None:
            run_command(step, port, log_dir=log_dir, seed=seed)
        else:
            run_files(step, port)


def run_files(step: DataStep, port: int) -> None:
    """Each statement of each file in turn; the first that fails stops it with file:line."""
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        for sql_file in step.files:
            for statement in sql_file.statements:
                try:
                    cur.execute(statement.text)
                except pymysql.MySQLError as exc:
                    raise StackError(_statement_error(step, sql_file, statement, exc)) from None


def _statement_error(step: DataStep, sql_file: SqlFile, statement: Statement,
                     exc: pymysql.MySQLError) -> str:
    code, message = exc.args[:2] if len(exc.args) >= 2 else ("?", str(exc))
    line = statement.line
    # MariaDB counts lines from the statement's start; the file's line is what one edits
    found = _AT_LINE.search(str(message))
    if found:
        line += int(found.group(1)) - 1
    return (f"own_service.{step.key}: {sql_file.path}:{line}: the database refused the "
            f"statement: {message} (error {code}); fix the file")


def migration_env(port: int, seed: int) -> dict[str, str]:
    """The variables a schema or seed command gets (MIGRATION_ENV), on top of the harness's."""
    env = {
        "DB_HOST": LOOPBACK, "DB_PORT": str(port), "DB_USER": OWNER_USER,
        "DB_PASSWORD": OWNER_PASSWORD, "DB_NAME": DATABASE,
        "DATABASE_URL": f"mysql://{OWNER_USER}:{OWNER_PASSWORD}@{LOOPBACK}:{port}/{DATABASE}",
        "HARNESS_SEED": str(seed),
    }
    assert tuple(env) == MIGRATION_ENV  # the documented list is this one
    return env


def run_command(step: DataStep, port: int, *, log_dir: Path, seed: int) -> None:
    """The step's command to its end (its whole process group stopped at the timeout)."""
    assert step.command is not None
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"own-{step.key}.log"
    shown = shlex.join(step.command)
    where = f"own_service.{step.key}.command"
    with log.open("ab") as out:
        try:
            proc = subprocess.Popen(
                step.command, cwd=step.cwd, env={**os.environ, **migration_env(port, seed)},
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                # its own group: a timeout or Ctrl-C stops what it started, too
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"{where}: {shown} could not start: {exc.strerror} (from "
                             f"{step.cwd}); give a program on PATH or a path from the "
                             "scenario file's folder") from None
        try:
            code = proc.wait(timeout=step.timeout_s)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            raise StackError(f"{where}: {shown} did not finish within {step.timeout_s:g} s; "
                             f"stopped. {_tail(log)}") from None
        except BaseException:
            _stop_group(proc)
            raise
    if code != 0:
        raise StackError(f"{where}: {shown} exited {code}. {_tail(log)}")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
    said = " | ".join(line.strip() for line in lines if line.strip())
    return f"Its last lines: {said} (all of it: {log})" if said else f"It wrote nothing ({log})"


def create_aws(endpoint: str, own: OwnService, *, existing_bucket: str | None = None
               ) -> tuple[dict[str, str], dict[str, str]]:
    """Create the team's queues and buckets in LocalStack at `endpoint`.

    Returns the apps' variables: (queue variable -> queue URL on `endpoint`, bucket
    variable -> bucket name). `existing_bucket` (the profile's) is not created twice.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    queues: dict[str, str] = {}
    buckets: dict[str, str] = {}
    for queue in own.queues:
        try:
            url = localstack.client("sqs", endpoint).create_queue(
                QueueName=queue.name, Attributes={"FifoQueue": "true"} if queue.fifo else {})
        except (BotoCoreError, ClientError) as exc:
            raise StackError(f"own_service.queues: could not create {queue.name} on LocalStack "
                             f"{endpoint}: {exc}") from None
        queues[queue.variable] = str(url["QueueUrl"])
    for bucket in own.buckets:
        if bucket.name != existing_bucket:
            try:
                localstack.client("s3", endpoint).create_bucket(Bucket=bucket.name)
            except (BotoCoreError, ClientError) as exc:
                raise StackError(f"own_service.buckets: could not create {bucket.name} on "
                                 f"LocalStack {endpoint}: {exc}") from None
        buckets[bucket.variable] = bucket.name
    return queues, buckets
