"""A small payments service (Python, Flask) written for the harness's worked example.

    POST /payments {idempotency_key, account_id, amount_cents}
        -> 201 {payment_id}: one transaction debits the account (never below zero) and
           inserts the payment; the same key again -> 200 and the same payment, never two.
           Then the payment is published to an SQS queue (after the commit).
        -> 409 when the account has too little money (nothing written).
    GET /payments/<id>    -> 200 the payment, 404
    GET /healthz          -> 200: liveness, the process answers (no dependency checked)
    GET /readyz           -> 200 when the database answers, else 503: readiness

It reads its settings under its own names (PAYMENTS_DB_HOST, ...); the example's profiles
map the harness's variables onto them in `app.env` (PAYMENTS_DB_HOST: ${DB_HOST}).

The planted bug, BUG=ack_before_commit: the service answers 201 before it writes, then
writes in the background a moment later, and (as if the process died in between) never
writes every 10th payment. The example's lost-write check catches it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import threading
import time
from typing import Any

import boto3
import pymysql
from botocore.config import Config
from flask import Flask, jsonify, request

app = Flask(__name__)
BUG = os.environ.get("BUG", "")
_sqs: Any = None
_acked_without_commit = 0
_lock = threading.Lock()


_pool: queue.LifoQueue[pymysql.connections.Connection] = queue.LifoQueue(maxsize=4)


class pooled:
    """A connection from a small pool (a new one when it is empty); one that failed is
    closed rather than put back, so a restarted or failed-over database is reconnected."""

    def __enter__(self) -> pymysql.connections.Connection:
        try:
            self.conn = _pool.get_nowait()
        except queue.Empty:
            self.conn = connect()
        return self.conn

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            with contextlib.suppress(pymysql.MySQLError):
                self.conn.close()  # already closed when the server went away
            return
        try:
            _pool.put_nowait(self.conn)
        except queue.Full:
            self.conn.close()


def connect() -> pymysql.connections.Connection:
    return pymysql.connect(
        host=os.environ["PAYMENTS_DB_HOST"], port=int(os.environ["PAYMENTS_DB_PORT"]),
        user=os.environ["PAYMENTS_DB_USER"], password=os.environ["PAYMENTS_DB_PASSWORD"],
        database=os.environ["PAYMENTS_DB_NAME"], connect_timeout=2, read_timeout=5,
        write_timeout=5, autocommit=False)


def sqs() -> Any:
    global _sqs
    if _sqs is None:
        # credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as boto3 reads them
        _sqs = boto3.client("sqs", region_name=os.environ["PAYMENTS_AWS_REGION"],
                            endpoint_url=os.environ["PAYMENTS_AWS_ENDPOINT"],
                            config=Config(connect_timeout=2, read_timeout=3,
                                          retries={"max_attempts": 2}))
    return _sqs


def charge(key: str, account: int, amount: int) -> tuple[int, dict[str, Any]]:
    """The write: debit and insert in one transaction; (status, body)."""
    with pooled() as conn, conn.cursor() as cur:
        conn.begin()
        cur.execute("SELECT id FROM payments WHERE idempotency_key = %s", (key,))
        row = cur.fetchone()
        if row is not None:
            return 200, {"payment_id": row[0], "replayed": True}
        debited = cur.execute(
            "UPDATE accounts SET balance_cents = balance_cents - %s "
            "WHERE id = %s AND balance_cents >= %s", (amount, account, amount))
        if not debited:
            conn.rollback()
            return 409, {"error": "insufficient funds or no such account"}
        try:
            cur.execute("INSERT INTO payments (idempotency_key, account_id, amount_cents) "
                        "VALUES (%s, %s, %s)", (key, account, amount))
        except pymysql.err.IntegrityError:
            # the same key raced in: that payment stands, this debit is undone
            conn.rollback()
            cur.execute("SELECT id FROM payments WHERE idempotency_key = %s", (key,))
            found = cur.fetchone()
            return 200, {"payment_id": found[0] if found else None, "replayed": True}
        payment_id = cur.lastrowid
        conn.commit()
    return 201, {"payment_id": payment_id}


def publish(key: str, body: dict[str, Any]) -> None:
    url = os.environ.get("PAYMENTS_EVENTS_QUEUE")
    if not url:
        return
    try:
        sqs().send_message(QueueUrl=url, MessageBody=str({"key": key, **body}))
    except Exception as exc:  # the payment is committed; a lost event is logged, not failed
        app.logger.warning("publish %s failed: %s", key, exc)


@app.post("/payments")
def create_payment() -> Any:
    data = request.get_json(silent=True) or {}
    try:
        key = str(data["idempotency_key"])
        account, amount = int(data["account_id"]), int(data["amount_cents"])
    except (KeyError, TypeError, ValueError):
        return jsonify(error="idempotency_key, account_id and amount_cents"), 400
    if amount <= 0 or not key:
        return jsonify(error="amount_cents > 0 and a key"), 400
    if BUG == "ack_before_commit":
        return _ack_before_commit(key, account, amount)
    try:
        status, body = charge(key, account, amount)
    except pymysql.MySQLError as exc:
        return jsonify(error=str(exc)), 503
    if status == 201:
        publish(key, body)
    return jsonify(body), status


def _ack_before_commit(key: str, account: int, amount: int) -> Any:
    """The planted bug: 201 first, the write later, and every 10th write never."""
    global _acked_without_commit
    with _lock:
        _acked_without_commit += 1
        dropped = _acked_without_commit % 10 == 0

    def later() -> None:
        time.sleep(0.05)
        if not dropped:
            try:
                charge(key, account, amount)
            except pymysql.MySQLError as exc:
                app.logger.warning("late write %s failed: %s", key, exc)

    threading.Thread(target=later, daemon=True).start()
    return jsonify(payment_id=None), 201


@app.get("/payments/<int:payment_id>")
def get_payment(payment_id: int) -> Any:
    try:
        with pooled() as conn, conn.cursor() as cur:
            conn.begin()
            cur.execute("SELECT id, idempotency_key, account_id, amount_cents "
                        "FROM payments WHERE id = %s", (payment_id,))
            row = cur.fetchone()
            conn.commit()
    except pymysql.MySQLError as exc:
        return jsonify(error=str(exc)), 503
    if row is None:
        return jsonify(error="no such payment"), 404
    return jsonify(id=row[0], idempotency_key=row[1], account_id=row[2], amount_cents=row[3])


@app.get("/healthz")
def healthz() -> Any:
    return jsonify(status="alive")


@app.get("/readyz")
def readyz() -> Any:
    try:
        # a pooled connection's ping: the check costs a round trip, not a new login
        with pooled() as conn:
            conn.ping(reconnect=False)
    except pymysql.MySQLError as exc:
        return jsonify(status="not ready", error=str(exc)), 503
    return jsonify(status="ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    if os.environ.get("PAYMENTS_EVENTS_QUEUE"):
        sqs()  # built before serving: the first payment does not pay for it
    print(f"payments: listening on {args.host}:{args.port} (bug: {BUG or 'none'})", flush=True)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
