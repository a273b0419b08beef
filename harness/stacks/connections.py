"""Database-side connection counts, sampled once a second from the harness during a run.

Each sample is one `db.connections` event: `Threads_connected` of the instance that
is the writer now and of the one that is the reader (they swap in a failover), read
with PyMySQL on their direct ports, and, with RDS Proxy, the proxy's client and
database connection counts. An instance that does not answer is recorded as None
("not measurable"), never as 0. The counts include the sampler's own connection and,
on the writer, the replica's replication connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pymysql

from harness.errors import FaultError
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.stacks.components.rdsproxy import RdsProxyAdmin
from harness.stacks.topology import StackInfo

KIND = "db.connections"
#: the proxy's counters each sample keeps (its /stats has more)
PROXY_KEYS = (
    "client_connections", "backend_open", "backend_in_use", "backend_idle", "pool_limit",
    "pinned_sessions", "borrow_waits", "borrow_timeouts", "transactions_lost",
)


def threads_connected(port: int, timeout_s: float = 0.5) -> int | None:
    """`Threads_connected` of the MariaDB on this port; None if it does not answer."""
    try:
        conn = pymysql.connect(
            host=LOOPBACK, port=port, user="root", password="", connect_timeout=timeout_s,
            read_timeout=timeout_s, write_timeout=timeout_s,
        )
    except pymysql.MySQLError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            row = cur.fetchone()
        return int(row[1]) if row else None
    except pymysql.MySQLError:
        return None
    finally:
        conn.close()


class ConnectionSampler:
    """A plain thread that emits a `db.connections` event every `interval_s`.

    `roles()` names the writer and reader components now (the database orchestrator
    knows; they change in a failover).
    """

    def __init__(
        self, info: StackInfo, events: EventLog, roles: Callable[[], tuple[str, str | None]],
        *, interval_s: float = 1.0,
    ) -> None:
        self.info = info
        self.events = events
        self.roles = roles
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="db-connections", daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(5)

    def sample(self) -> dict[str, Any]:
        """One sample's fields (also what the event carries)."""
        writer, reader = self.roles()
        fields: dict[str, Any] = {"writer": writer, "writer_threads": self._threads(writer)}
        if reader is not None:
            fields |= {"reader": reader, "reader_threads": self._threads(reader)}
        if self.info.db_proxy_admin:
            try:
                stats = RdsProxyAdmin(self.info.db_proxy_admin, timeout_s=0.5).stats()
            except FaultError:
                stats = {}
            fields["proxy"] = {k: stats.get(k) for k in PROXY_KEYS}
        return fields

    def _threads(self, name: str) -> int | None:
        component = self.info.components.get(name)
        return threads_connected(component.port) if component else None

    def _loop(self) -> None:
        # on a fixed beat: a slow sample (an instance not answering) must not shift the rest
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.events.emit(KIND, **self.sample())
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))
