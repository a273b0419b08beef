"""The stack's final state, read back after the drain for the invariants.

The live half of the lost-data check: the shop's tables on the writer (PyMySQL) and
every order published to the queue (boto3 against LocalStack). The rehearsal reads
them and hands plain data to `harness.analysis.invariants`, which stays pure.
"""

from __future__ import annotations

import json
import time

import pymysql

from harness.analysis.invariants import DatabaseState, Row
from harness.errors import StackError
from harness.model.cited import Timing
from harness.model.profile import Profile
from harness.stacks.components import localstack
from harness.stacks.components.mariadb import DATABASE, admin
from harness.stacks.topology import StackInfo


def read_database(port: int) -> DatabaseState:
    """The shop's tables on the writer at `port` (127.0.0.1)."""
    state = DatabaseState()
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, idempotency_key, product_id, quantity FROM orders")
        state.orders = [Row(int(a), str(b), int(c), int(d)) for a, b, c, d in cur.fetchall()]
        cur.execute("SELECT id, idempotency_key, event_id, seats FROM reservations")
        state.reservations = [
            Row(int(a), str(b), int(c), int(d)) for a, b, c, d in cur.fetchall()
        ]
        cur.execute("SELECT id, stock FROM products")
        state.stock = {int(i): int(s) for i, s in cur.fetchall()}
        cur.execute("SELECT id, seats_left, seats_total FROM events")
        for i, left, total in cur.fetchall():
            state.seats_left[int(i)] = int(left)
            state.seats_total[int(i)] = int(total)
    return state


def drain_queue(endpoint: str, queue_url: str, *, quiet_s: float = 1.0,
                timeout_s: float = 60.0) -> set[int]:
    """Every order id published to the queue (replays publish again: ids are de-duplicated).

    A queue that does not answer (LocalStack stopped) is a StackError of one line, not
    botocore's traceback: the run still ends, and says why the invariants were not checked.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = localstack.client("sqs", endpoint)
    ids: set[int] = set()
    deadline = time.monotonic() + timeout_s
    quiet_until = time.monotonic() + quiet_s
    while time.monotonic() < min(deadline, quiet_until):
        try:
            got = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                VisibilityTimeout=int(timeout_s) + 30,
            ).get("Messages", [])
        except (BotoCoreError, ClientError) as exc:
            raise StackError(
                f"invariants not checked: the queue ({endpoint}) could not be read: "
                f"{type(exc).__name__}: {exc}"
            ) from None
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
    deadline = time.monotonic() + settle_s
    while True:
        # after a failover the orchestrator has repointed db_writer_port at the new writer
        port = info.db_writer_port
        try:
            return read_database(port)
        except pymysql.err.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise StackError(
                    f"invariants not checked: the database writer (127.0.0.1:{port}) did not "
                    f"answer within {settle_s:.0f} s after the drain (a failover or restart "
                    f"still under way?): {exc.args[-1] if exc.args else exc}"
                ) from None
            time.sleep(1.0)
