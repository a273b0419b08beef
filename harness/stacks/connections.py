"""Database-side connection counts, sampled once a second from the harness during a run.

Each sample is one `db.connections` event: `Threads_connected` of the instance that
is the writer now and of the one that is the reader (they swap in a failover), read
with PyMySQL on their direct ports, with each instance's `max_connections` and the
connections it has refused since it started; and, with RDS Proxy, the proxy's client
and database connection counts. An instance that does not answer is recorded as None
("not measurable"), never as 0. The counts include the sampler's own connection and,
on the writer, the replica's replication connection.

Refused connections: MariaDB turns a client away at max_connections after its login
(error 1040), which it counts in `Aborted_connects` but not in
`Connection_errors_max_connections` (that one counts only connections turned away
before login, past the one extra connection kept for SUPER). So refused =
`Aborted_connects - Aborted_connects_preauth`: logins that failed once made; the
stacks' logins fail for no other reason (their users and passwords are the harness's).

At the limit the sampler's own root connection takes the one extra slot MariaDB keeps
for SUPER; while clients storm the instance, logins still in progress count against
that slot too, and the sampler may be refused as well: it retries within its timeout,
and if still refused records the instance as at its limit (`<role>_at_limit`), not as
unanswered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pymysql

from harness.errors import FaultError
from harness.records.events import StackEvent
from harness.runtime.events import EventLog
from harness.runtime.ports import LOOPBACK
from harness.stacks.components.rdsproxy import RdsProxyAdmin
from harness.stacks.topology import StackInfo

#: the proxy's counters each sample keeps (its /stats has more)
PROXY_KEYS = (
    "client_connections", "backend_open", "backend_in_use", "backend_idle", "pool_limit",
    "pinned_sessions", "borrow_waits", "borrow_timeouts", "transactions_lost",
)


@dataclass(frozen=True)
class InstanceConnections:
    """One MariaDB instance's connections at one moment."""

    #: `Threads_connected`: client connections open now (the sampler's own included)
    threads: int
    #: `@@GLOBAL.max_connections`: the limit the apps meet (root has one more)
    max_connections: int
    #: connections refused after login since the server started (module docstring)
    refused: int


_STATUS = ("Threads_connected", "Aborted_connects", "Aborted_connects_preauth")
#: MySQL's "Too many connections"
TOO_MANY_CONNECTIONS = 1040


class AtLimit(Exception):
    """The instance refused even root's extra connection: it is at its max_connections."""


def instance_connections(port: int, timeout_s: float = 0.5) -> InstanceConnections | None:
    """The connections of the MariaDB on this port; None if it does not answer.

    Raises AtLimit if it refuses the sampler with "Too many connections" until `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = pymysql.connect(
                host=LOOPBACK, port=port, user="root", password="", connect_timeout=timeout_s,
                read_timeout=timeout_s, write_timeout=timeout_s,
            )
            break
        except pymysql.MySQLError as exc:
            if not exc.args or exc.args[0] != TOO_MANY_CONNECTIONS:
                return None
            if time.monotonic() > deadline:
                raise AtLimit(str(exc)) from None
            time.sleep(0.02)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s, %s, %s)", _STATUS)
            status = {str(k): int(v) for k, v in cur.fetchall()}
            cur.execute("SELECT @@GLOBAL.max_connections")
            row = cur.fetchone()
    except pymysql.MySQLError:
        return None
    finally:
        conn.close()
    if row is None or "Threads_connected" not in status:
        return None
    refused = status.get("Aborted_connects", 0) - status.get("Aborted_connects_preauth", 0)
    return InstanceConnections(status["Threads_connected"], int(row[0]), max(0, refused))


def threads_connected(port: int, timeout_s: float = 0.5) -> int | None:
    """`Threads_connected` of the MariaDB on this port; None if it does not answer (or is full)."""
    try:
        found = instance_connections(port, timeout_s)
    except AtLimit:
        return None
    return found.threads if found else None


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
        fields: dict[str, Any] = {"writer": writer, **self._instance("writer", writer)}
        if reader is not None:
            fields |= {"reader": reader, **self._instance("reader", reader)}
        if self.info.db_proxy_admin:
            try:
                stats = RdsProxyAdmin(self.info.db_proxy_admin, timeout_s=0.5).stats()
            except FaultError:
                stats = {}
            fields["proxy"] = {k: stats.get(k) for k in PROXY_KEYS}
        return fields

    def _instance(self, role: str, name: str) -> dict[str, int | bool | None]:
        """`<role>_threads`, `<role>_max_connections`, `<role>_refused` of one instance.

        An instance that refused the sampler at its limit adds `<role>_at_limit: True`.
        """
        component = self.info.components.get(name)
        try:
            found = instance_connections(component.port) if component else None
        except AtLimit:
            return {f"{role}_threads": None, f"{role}_max_connections": None,
                    f"{role}_refused": None, f"{role}_at_limit": True}
        return {
            f"{role}_threads": found.threads if found else None,
            f"{role}_max_connections": found.max_connections if found else None,
            f"{role}_refused": found.refused if found else None,
        }

    def _loop(self) -> None:
        # on a fixed beat: a slow sample (an instance not answering) must not shift the rest
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.events.emit(StackEvent.DB_CONNECTIONS, **self.sample())
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))
