"""MariaDB as the stack's RDS / Aurora: private datadir, port and socket per instance.

The harness talks to it with PyMySQL as root over TCP on the *direct* port
(never through the fault proxy), so seeding, replication and invariant checks
see the truth even while faults hit the apps' edge.

Its max_connections is the profile's (`database.max_connections`): the apps meet
"Too many connections" (error 1040) at it, as on RDS. The harness's own connections
are not starved there: root has SUPER, for which MariaDB keeps one connection beyond
max_connections, and the harness's connections are short and one at a time (the
replica's replication connection, opened before any load, takes an ordinary one, on
both stacks); `admin` waits a moment for that slot if another of them holds it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pymysql
from pymysql.connections import Connection

from harness.errors import EnvironmentProblem, StackError
from harness.model.database import RdsSettings
from harness.model.profile import Profile
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK
from harness.runtime.wait import PortOpen

DATABASE = "shop"
APP_USER = "shop"
APP_PASSWORD = "shop-pass"
SCHEMA_SQL = Path(__file__).resolve().parents[3] / "stacks" / "apps" / "schema.sql"


def _tmpdir(workdir: Path) -> Path:
    path = workdir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: the arguments every datadir is made with: its contents depend on these and the binaries
_INSTALL_ARGS = ("--no-defaults", "--user=root", "--auth-root-authentication-method=normal",
                 "--skip-test-db")
#: a scratch copy on its way into the cache older than this was left by a killed harness
_STALE_PARTIAL_S = 3600.0


def install_datadir(datadir: Path, log: Path, install_db: str = "mariadb-install-db", *,
                    cache: Path | None = None) -> None:
    """Create an empty datadir.

    mariadb-install-db takes 1-3 s a run (it bootstraps a server) and makes the same
    system tables every time, and a stack has one datadir per database instance. So
    with a `cache` folder the first one made is kept there (keyed by the installer's
    and the server's files), and later datadirs are copies of it (~0.3 s for its
    110 MB). Still MariaDB's own datadir: nothing is skipped or faked.
    """
    template = cache / f"mariadb-datadir-{_install_key(install_db)}" if cache else None
    if template is not None and template.is_dir():
        datadir.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copytree(template, datadir, symlinks=True)
        except OSError as exc:
            raise StackError(f"copying the datadir {template} to {datadir} failed: {exc}; "
                             f"remove {template} to make it again") from None
        return
    _install(datadir, log, install_db)
    if template is not None:
        _keep(datadir, template)


def _install(datadir: Path, log: Path, install_db: str) -> None:
    """mariadb-install-db into `datadir` (in the stack's work dir, where the watchdog of
    a killed harness finds it by its arguments)."""
    datadir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("ab") as out:
            result = subprocess.run(
                # a private tmpdir: the shared /tmp is cleaned by others mid-install
                [install_db, _INSTALL_ARGS[0], f"--datadir={datadir}", *_INSTALL_ARGS[1:],
                 f"--tmpdir={_tmpdir(datadir.parent)}"],
                stdout=out, stderr=subprocess.STDOUT, check=False, timeout=60,
            )
    except FileNotFoundError:
        raise _not_installed(install_db) from None
    if result.returncode != 0:
        raise StackError(f"{install_db} failed for {datadir} (exit {result.returncode}); see {log}")


def _not_installed(install_db: str) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"{install_db} not found; install MariaDB with `sudo apt-get install mariadb-server` "
        "or run `make setup`"
    )


def _install_key(install_db: str) -> str:
    """What a cached datadir depends on: the installer script and the server binary it
    bootstraps (path, size, modification time), and the arguments."""
    found = shutil.which(install_db)
    if found is None:
        raise _not_installed(install_db)
    server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/bin")
    parts = list(_INSTALL_ARGS)
    for path in (found, server):
        if path is not None:
            st = Path(path).stat()
            parts.append(f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _keep(datadir: Path, template: Path) -> None:
    """Copy a datadir just made into the cache, renamed into place whole (so a reader
    never sees half a copy). Two harnesses making the first one at once: one rename
    wins, the other's copy is dropped. The cache is only a speed-up: a failure here
    leaves the stack's own datadir as it is."""
    cache = template.parent
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for old in cache.glob(".partial-*"):
            if time.time() - old.stat().st_mtime > _STALE_PARTIAL_S:
                shutil.rmtree(old, ignore_errors=True)
        partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache))
    except OSError:
        return
    try:
        shutil.copytree(datadir, partial / "data", symlinks=True)
        (partial / "data").rename(template)
    except OSError:
        pass  # another harness put its copy there first, or the cache's disk is full
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def semi_sync_options(ack_timeout_ms: int) -> tuple[str, ...]:
    """Semi-synchronous replication (built into MariaDB >= 10.3), for an RDS Multi-AZ pair.

    Both instances get both roles, so either can be the primary after a failover.
    AFTER_SYNC: a commit is acknowledged to its client (and visible to others) only once
    the standby has its events in its relay log, so a failover loses no acknowledged write.
    Without a connected standby the primary goes on alone at once (wait-no-slave off); a
    standby that does not answer within `ack_timeout_ms` is left behind until it catches up.
    A semi-sync replica at startup rolls back what it had logged but never had
    acknowledged (MDEV-21117), so a crashed primary can rejoin as the new standby.
    """
    return (
        "--rpl-semi-sync-master-enabled=ON", "--rpl-semi-sync-slave-enabled=ON",
        "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
        f"--rpl-semi-sync-master-timeout={ack_timeout_ms}",
        "--skip-rpl-semi-sync-master-wait-no-slave",
        # crash recovery as a semi-sync replica truncates the binlog tail that no standby
        # acknowledged (MDEV-21117); without it a crashed primary rejoins with a diverged
        # GTID history and never catches up
        "--init-rpl-role=SLAVE",
    )


def server_options(server_id: int, max_connections: int = 151,
                   replication: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What sets one instance apart: its server id, connection limit and replication.

    151 is MariaDB's own max_connections, for a server outside a stack.
    """
    return (f"--server-id={server_id}", f"--max-connections={max_connections}", *replication)


def instance_options(profile: Profile, server_id: int) -> tuple[str, ...]:
    """`server_options` of one instance of the profile's database, on every runtime.

    Every instance has the class's limit (a reader or standby as well). An RDS Multi-AZ
    pair, or an Aurora writer and reader (standing for shared storage), is
    semi-synchronous both ways, either can be the writer, so an acknowledged commit
    survives a failover on both architectures and costs each one round trip.
    """
    db = profile.database
    ack_timeout_ms = (db.standby_ack_timeout_ms.value if isinstance(db, RdsSettings)
                      else db.storage_ack_timeout_ms.value)
    semi_sync = semi_sync_options(ack_timeout_ms) if len(profile.db_instances) > 1 else ()
    return server_options(server_id, db.connection_limit().used, semi_sync)


def spec(
    name: str, *, port: int, workdir: Path, zone: str | None, options: tuple[str, ...],
    mariadbd: str = "mariadbd",
) -> ComponentSpec:
    """A MariaDB server with binary logs and GTIDs, so any instance can be promoted.

    `options`: the instance's `server_options` (`instance_options` in a stack).
    """
    argv = (
        mariadbd, "--no-defaults", "--user=root",
        f"--datadir={workdir / 'data'}", f"--socket={workdir / 'mysqld.sock'}",
        f"--pid-file={workdir / 'mysqld.pid'}", f"--tmpdir={_tmpdir(workdir)}",
        f"--port={port}", f"--bind-address={LOOPBACK}", "--skip-name-resolve",
        "--log-bin=binlog", "--log-slave-updates",
        "--binlog-format=ROW", "--gtid-strict-mode=1", "--innodb-buffer-pool-size=64M",
        # one transaction = one fsync, as RDS does: lost writes must be real losses
        "--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1",
        *options,
    )
    return ComponentSpec(
        name=name, kind="mariadb", zone=zone,
        processes=(ProcessSpec(name="mariadbd", argv=argv),),
        ready=PortOpen(port), ready_timeout_s=30, stop_grace_s=10,
    )


#: MySQL's "Too many connections"
TOO_MANY_CONNECTIONS = 1040


@contextmanager
def admin(port: int, database: str | None = None, *, slot_wait_s: float = 5
          ) -> Iterator[Connection[pymysql.cursors.Cursor]]:
    """A root connection over TCP on the direct port, autocommit.

    At max_connections root gets MariaDB's one SUPER slot; while another of the harness's
    connections holds it (the sampler's, for a few milliseconds) this retries for up to
    `slot_wait_s` rather than fail the harness's own work.
    """
    deadline = time.monotonic() + slot_wait_s
    while True:
        try:
            conn = pymysql.connect(
                host=LOOPBACK, port=port, user="root", password="", database=database,
                autocommit=True, connect_timeout=5, read_timeout=30, write_timeout=30,
            )
            break
        except pymysql.err.OperationalError as exc:
            if exc.args[0] != TOO_MANY_CONNECTIONS or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield conn
    finally:
        conn.close()


def bootstrap(port: int, *, shop_schema: bool = True) -> None:
    """Create the shop database and the app's user on a writer, and the shop's schema unless
    a scenario brings its own (`shop_schema=False`: harness.scenario.own)."""
    sql = "\n".join(
        line for line in SCHEMA_SQL.read_text().splitlines() if not line.strip().startswith("--")
    ) if shop_schema else ""
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        cur.execute(f"CREATE USER IF NOT EXISTS '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}'")
        cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {DATABASE}.* TO '{APP_USER}'@'%'")
        cur.execute(f"USE {DATABASE}")
        for stmt in sql.split(";"):
            if stmt.strip():
                cur.execute(stmt)


def start_replication(*, reader_port: int, writer_port: int, use_gtid: str = "slave_pos") -> None:
    """Make the reader a GTID replica of the writer, read-only as an Aurora reader is.

    `use_gtid="current_pos"` for a former writer rejoining: it continues from what
    it wrote itself, not from an empty replica position.
    """
    if use_gtid not in ("slave_pos", "current_pos"):
        raise ValueError(f"use_gtid must be slave_pos or current_pos, not {use_gtid!r}")
    with admin(reader_port) as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL read_only = 1")
        # a restarted replica resumes replicating on its own; CHANGE MASTER needs it stopped
        cur.execute("STOP SLAVE")
        cur.execute(
            "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER='root', "
            f"MASTER_PASSWORD='', MASTER_USE_GTID={use_gtid}, MASTER_CONNECT_RETRY=1",
            (LOOPBACK, writer_port),
        )
        cur.execute("START SLAVE")


def rejoin_as_replica(*, replica_port: int, writer_port: int) -> None:
    """Make a former writer (or a restarted replica) a read-only GTID replica of the writer.

    Its own transactions are in its binlog but not in its replica position; taking the
    binlog position as the replica position makes `wait_caught_up` mean "has every
    transaction the writer has", as for any replica.
    """
    with admin(replica_port) as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL read_only = 1")
        cur.execute("STOP SLAVE")
        cur.execute("SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos")
    start_replication(reader_port=replica_port, writer_port=writer_port)


def gtid_position(port: int) -> str:
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        row = cur.fetchone()
    return str(row[0]) if row else ""


def caught_up(port: int, target: str, wait_s: float = 1) -> bool:
    """Has the replica on `port` applied GTID position `target`? Waits up to `wait_s`."""
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (target, wait_s))
        row = cur.fetchone()
    return row is not None and int(row[0]) == 0


def wait_caught_up(*, reader_port: int, writer_port: int, timeout_s: float = 20) -> None:
    """Wait until the reader has applied everything the writer has logged."""
    target = gtid_position(writer_port)
    with admin(reader_port) as conn, conn.cursor() as cur:
        cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (target, timeout_s))
        row = cur.fetchone()
    if not row or int(row[0]) != 0:
        raise StackError(
            f"db-reader on port {reader_port} did not catch up with the writer (GTID {target}) "
            f"within {timeout_s:g} s; see its log"
        )


def _slave_status(cur: pymysql.cursors.Cursor) -> dict[str, object]:
    cur.execute("SHOW SLAVE STATUS")
    row = cur.fetchone()
    if row is None:
        return {}
    return {d[0]: v for d, v in zip(cur.description or (), row, strict=True)}


def promote(port: int, *, apply_timeout_s: float = 60) -> dict[str, str]:
    """Make a replica the writer, after it has applied every transaction it received.

    `RESET SLAVE ALL` drops the relay log: a transaction the standby has acknowledged
    but not yet applied would be lost, so the IO thread stops first and the SQL thread
    applies what was received; if it cannot within `apply_timeout_s`, promotion fails
    (StackError) rather than drop acknowledged writes. Returns the GTID positions.
    """
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE IO_THREAD")
        received = str(_slave_status(cur).get("Gtid_IO_Pos") or "")
        if received:
            cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (received, apply_timeout_s))
            row = cur.fetchone()
            if not row or int(row[0]) != 0:
                raise StackError(
                    f"the standby on port {port} did not apply the transactions it received "
                    f"(GTID {received}) within {apply_timeout_s:g} s; not promoted; see its log"
                )
        cur.execute("SELECT @@GLOBAL.gtid_slave_pos")
        row = cur.fetchone()
        applied = str(row[0]) if row else ""
        cur.execute("STOP SLAVE")
        cur.execute("RESET SLAVE ALL")
        cur.execute("SET GLOBAL read_only = 0")
    return {"received_gtid": received, "applied_gtid": applied}


def semi_sync_clients(port: int) -> int:
    """How many semi-synchronous replicas the writer on `port` waits for (0: it is alone)."""
    with admin(port) as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'")
        row = cur.fetchone()
    return int(row[1]) if row else 0


def wait_semi_sync(port: int, timeout_s: float = 10) -> None:
    """Wait until the writer on `port` has a semi-synchronous standby connected."""
    deadline = time.monotonic() + timeout_s
    while semi_sync_clients(port) < 1:
        if time.monotonic() > deadline:
            raise StackError(
                f"the writer on port {port} has no semi-synchronous standby after "
                f"{timeout_s:g} s; see db-standby's log"
            )
        time.sleep(0.05)
