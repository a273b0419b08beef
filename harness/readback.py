"""The stack's final state, read back after the drain for the invariants.

The live half of the lost-data check: the shop's tables on the writer (PyMySQL) and
every order published to the queue (boto3 against LocalStack), and what a scenario's
own invariant queries find (harness.scenario.own). The rehearsal reads them and hands
plain data to `harness.analysis.invariants` and `harness.analysis.queries`, which stay
pure.
"""

from __future__ import annotations

import datetime
import decimal
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pymysql

from harness.analysis.invariants import EXAMPLES, Cell, DatabaseState, QueryCheck, Row
from harness.analysis.queries import KeyLookup
from harness.errors import StackError
from harness.load.acked import IDENTIFIER
from harness.model.cited import Timing
from harness.model.profile import Profile
from harness.scenario.own import SqlInvariant
from harness.stacks.components import localstack
from harness.stacks.components.mariadb import DATABASE, admin
from harness.stacks.topology import StackInfo


def read_database(port: int) -> DatabaseState:
    """The shop's tables on the writer at `port` (127.0.0.1)."""
    state = DatabaseState()
    with admin(port, DATABASE) as conn:
        # an hour's orders stream from the server as they are read: never a second copy
        # of the table in PyMySQL's buffer beside the rows
        with conn.cursor(pymysql.cursors.SSCursor) as rows:
            rows.execute("SELECT id, idempotency_key, product_id, quantity FROM orders")
            state.orders = [Row(int(a), str(b), int(c), int(d)) for a, b, c, d in rows]
            rows.execute("SELECT id, idempotency_key, event_id, seats FROM reservations")
            state.reservations = [Row(int(a), str(b), int(c), int(d)) for a, b, c, d in rows]
        cur = conn.cursor()
        cur.execute("SELECT id, stock FROM products")
        state.stock = {int(i): int(s) for i, s in cur.fetchall()}
        cur.execute("SELECT id, seats_left, seats_total FROM events")
        for i, left, total in cur.fetchall():
            state.seats_left[int(i)] = int(left)
            state.seats_total[int(i)] = int(total)
    return state


#: an hour at 200/s leaves ~1.3 * 10^5 orders, read ten a call: a few minutes
DRAIN_TIMEOUT_S = 900.0


def drain_queue(endpoint: str, queue_url: str, *, quiet_s: float = 1.0,
                timeout_s: float = DRAIN_TIMEOUT_S) -> set[int]:
    """Every order id published to the queue (replays publish again: ids are de-duplicated).

    A queue that does not answer (LocalStack stopped) is a StackError of one line, not
    botocore's traceback: the run still ends, and says why the invariants were not checked.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = localstack.client("sqs", endpoint)

    def receive() -> list[dict[str, Any]]:
        try:
            got: list[dict[str, Any]] = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                VisibilityTimeout=int(timeout_s) + 30,
            ).get("Messages", [])
        except (BotoCoreError, ClientError) as exc:
            raise StackError(
                f"invariants not checked: the queue ({endpoint}) could not be read: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        return got

    return drain(receive, quiet_s=quiet_s, timeout_s=timeout_s)


def drain(receive: Callable[[], list[dict[str, Any]]], *, quiet_s: float, timeout_s: float
          ) -> set[int]:
    """The order ids of every message `receive` gives until it stays empty for `quiet_s`.

    A queue still giving messages at `timeout_s` is a StackError: the ids not yet read
    would count as orders never published, against the architecture.
    """
    ids: set[int] = set()
    started = time.monotonic()
    quiet_until = started + quiet_s
    while time.monotonic() < quiet_until:
        if time.monotonic() - started > timeout_s:
            raise StackError(
                f"invariants not checked: the queue still gave messages after {timeout_s:.0f} s "
                f"of reading it back ({len(ids)} orders read); the rest would have counted "
                "as never published"
            )
        got = receive()
        if got:
            quiet_until = time.monotonic() + quiet_s
        for message in got:
            ids.add(int(json.loads(message["Body"])["order_id"]))
    return ids


def database_settle_s(profile: Profile, time_scale: float) -> float:
    """How long the database may still be failing over or restarting after the drain.

    Every timing of the database section at the run's scale, added up (failover, DNS,
    restart): a bound, not an estimate, plus a margin for promotion's own work.
    """
    timings = (getattr(profile.database, name) for name in type(profile.database).model_fields)
    return sum(t.at(time_scale) for t in timings if isinstance(t, Timing)) + SETTLE_MARGIN_S


#: on top of the database's own timings: promotion, replication catch-up, a slow machine
SETTLE_MARGIN_S = 15.0


def read_writer(info: StackInfo, settle_s: float) -> DatabaseState:
    """The writer's tables, waiting out a failover or restart the load ended in.

    A run at AWS's own timings can end while the writer is still down (RDS Multi-AZ
    takes 60-120 s): the invariants are read once the orchestrator has a writer
    again, within `settle_s`; after that the run says why they were not checked.
    """
    return on_writer(info, settle_s, read_database)


def read_queries(info: StackInfo, settle_s: float, invariants: Sequence[SqlInvariant]
                 ) -> list[QueryCheck]:
    """What a scenario's own invariants' queries find on the writer (as `read_writer` waits)."""
    return on_writer(info, settle_s, lambda port: run_queries(port, invariants))


#: a query of the team's may take this long on the writer before MariaDB stops it
QUERY_TIMEOUT_S = 60
#: PyMySQL's own errors (CR_*: no connection, lost connection) are 2000 and up; below
#: are the server's answers to the query itself (syntax, unknown table or column)
_CLIENT_ERRORS = 2000


def run_queries(port: int, invariants: Sequence[SqlInvariant]) -> list[QueryCheck]:
    """Each query in a read-only transaction of its own, as root on the writer at `port`.

    A query the server refuses is recorded with its message; a lost connection raises
    (OperationalError), so that `on_writer` waits for the writer and tries again.
    """
    found = []
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute(f"SET SESSION max_statement_time = {QUERY_TIMEOUT_S}")
        for inv in invariants:
            found.append(_run_query(cur, inv))
    return found


def _run_query(cur: pymysql.cursors.Cursor, inv: SqlInvariant) -> QueryCheck:
    # read only: an invariant looks, it never changes what later checks see
    cur.execute("START TRANSACTION READ ONLY")
    try:
        cur.execute(inv.sql)
        columns = tuple(str(d[0]) for d in cur.description or ())
        rows = cur.fetchall()
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if isinstance(exc, pymysql.err.OperationalError) and code >= _CLIENT_ERRORS:
            raise
        message = exc.args[1] if len(exc.args) > 1 else str(exc)
        return QueryCheck(inv.sql, inv.expect.text, error=f"{message} (error {code})")
    finally:
        cur.execute("ROLLBACK")
    return QueryCheck(inv.sql, inv.expect.text, columns=columns,
                      rows=tuple(tuple(_cell(v) for v in row) for row in rows[:EXAMPLES]),
                      row_count=len(rows))


def read_keys(info: StackInfo, settle_s: float, wanted: dict[tuple[str, str], set[str]]
              ) -> list[KeyLookup]:
    """Which keys of a locustfile's writes (harness.load.acked) are on the writer."""
    return on_writer(info, settle_s, lambda port: look_up_keys(port, wanted))


#: keys per look-up statement: well under any packet or placeholder limit
KEYS_PER_QUERY = 500


def look_up_keys(port: int, wanted: dict[tuple[str, str], set[str]]) -> list[KeyLookup]:
    """Each (table, column)'s keys looked up on the writer at `port`, read only."""
    found = []
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute(f"SET SESSION max_statement_time = {QUERY_TIMEOUT_S}")
        for (table, column), keys in wanted.items():
            found.append(_look_up(cur, table, column, sorted(keys)))
    return found


def _look_up(cur: pymysql.cursors.Cursor, table: str, column: str, keys: list[str]
             ) -> KeyLookup:
    names = [*table.split("."), column]
    if len(names) > 3 or not all(IDENTIFIER.match(n) for n in names):
        return KeyLookup(table, column, error="not a plain SQL table or column name")
    # the names were checked above; the keys go as parameters
    source = ".".join(f"`{n}`" for n in names[:-1])
    returned: set[str] = set()
    cur.execute("START TRANSACTION READ ONLY")
    try:
        for i in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[i:i + KEYS_PER_QUERY]
            cur.execute(f"SELECT `{column}` FROM {source} WHERE `{column}` IN "
                        f"({', '.join(['%s'] * len(chunk))})", chunk)
            returned.update(str(_cell(row[0])) for row in cur.fetchall())
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if isinstance(exc, pymysql.err.OperationalError) and code >= _CLIENT_ERRORS:
            raise
        message = exc.args[1] if len(exc.args) > 1 else str(exc)
        return KeyLookup(table, column, error=f"{message} (error {code})")
    finally:
        cur.execute("ROLLBACK")
    # the database matched by the column's collation (case, trailing spaces): a value it
    # returned that no key spells exactly stands for a key spelled otherwise
    asked = set(keys)
    folded = {_fold(v) for v in returned if v not in asked}
    return KeyLookup(table, column, frozenset(
        k for k in keys if k in returned or _fold(k) in folded))


def _fold(key: str) -> str:
    return key.casefold().rstrip(" ")


def _cell(value: Any) -> Cell:
    """A database value as run.json can hold it, exact where it can be."""
    if value is None or isinstance(value, str | float):
        return value
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


T = TypeVar("T")


def on_writer(info: StackInfo, settle_s: float, read: Callable[[int], T]) -> T:
    """`read(port)` of the writer, retried while it does not answer, for up to `settle_s`."""
    deadline = time.monotonic() + settle_s
    while True:
        # after a failover the orchestrator has repointed db_writer_port at the new writer
        port = info.db_writer_port
        try:
            return read(port)
        except pymysql.err.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise StackError(
                    f"invariants not checked: the database writer (127.0.0.1:{port}) did not "
                    f"answer within {settle_s:.0f} s after the drain (a failover or restart "
                    f"still under way?): {exc.args[-1] if exc.args else exc}"
                ) from None
            time.sleep(1.0)
