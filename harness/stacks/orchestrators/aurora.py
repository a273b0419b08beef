"""Aurora-like cluster: when the writer dies, the reader is promoted and the endpoint moves.

Real replication, real promotion. Aurora MySQL restarts the reader it fails over to
(`failover_restarts_reader`): it applies what it received, turns writable and is stopped
at once, so it serves nothing, reads included, until it is back as the writer
`failover_s - dns_ttl_s` (scaled) after the failure. `failover_s` is AWS's figure to the
cluster endpoint working again, its DNS flip included, so the writer endpoint (the
app->db edge, which the apps keep as their address) moves `dns_ttl_s` after the
promotion, at `failover_s`: the TTL is counted once. With RDS Proxy (`database.proxy`)
the apps' endpoint is the proxy, repointed at the promotion: no DNS wait. With no
replica left the reader endpoint connects to the writer (the promoted instance, which
it already led to). The failed writer comes back as the reader after
`replica_restart_s`, as the failed primary of a Multi-AZ instance rejoins after RDS's
`restart_s`; the reader endpoint then moves to it.
When the reader dies (an AZ outage, a crash), the reader endpoint points at the
writer until Aurora has restarted the replica (`replica_restart_s`).
A planned failover (FailoverDBCluster) makes the writer read-only, waits for the
reader to catch up, so no acknowledged write is lost (if the reader does not catch
up, it is called off and the writer takes writes again), then shuts the writer down
and fails over as after a crash: Aurora MySQL restarts "only the writer DB instance
and the failover target during failover" (Aurora User Guide, Fault tolerance for an
Aurora DB cluster, 2.10 and later), a manual failover included, and AWS gives it no
shorter figure than `failover_s`, so it takes that long, as RDS's reboot with
failover takes `multi_az_failover_s`. The old writer, restarted not crashed, rejoins
as the reader at once, as RDS's rebooted primary does. One asked for while a failed
instance rejoins waits until it has rejoined.
"""

from __future__ import annotations

import time

from harness.errors import FaultError
from harness.model.database import AuroraSettings
from harness.records.events import OrchestratorEvent
from harness.stacks.components import mariadb
from harness.stacks.components.rdsproxy import RdsProxyAdmin
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.orchestrators.base import DatabaseOrchestrator, StackHandles
from harness.stacks.topology import proxy_name


class AuroraCluster(DatabaseOrchestrator):
    name = "aurora"

    def __init__(self, handles: StackHandles, settings: AuroraSettings) -> None:
        super().__init__(handles)
        self.settings = settings
        #: the component that is the writer now (it changes with each failover)
        self.writer = "db-writer"
        self.reader: str | None = "db-reader" if handles.info.db_reader_port else None
        #: set by a planned failover: the writer was shut down, not lost
        self._planned = False

    def tick(self) -> None:
        if self._switching.locked() or self.busy("failover"):
            return
        if not self.h.runtime.is_running(self.writer):
            self.react("failover", self._unplanned)
        elif (self.reader is not None and not self.busy("reader")
              and not self.h.runtime.is_running(self.reader)):
            self.react("reader", self._reader_lost)

    def _reader_lost(self) -> None:
        lost = self.reader
        if lost is None:
            return
        down_at = time.monotonic()
        self.emit(OrchestratorEvent.READER_DOWN, component=lost)
        if not self.sleep(self.h.scaled(self.settings.dns_ttl_s)):
            return
        if "app->db-reader" in self.h.info.edges:
            ToxiproxyClient(self.h.info.toxiproxy_api).set_upstream(
                proxy_name("app->db-reader"), self._port(self.writer)
            )
            self.emit(OrchestratorEvent.READER_ENDPOINT_TO_WRITER, component=self.writer,
                      since_reader_down_s=round(time.monotonic() - down_at, 3))
        if not self.sleep(self.h.scaled(self.settings.replica_restart_s)):
            return
        with self._switching:
            if self.reader == lost and not self.h.runtime.is_running(lost):
                self._rejoin(lost)

    # -- unplanned ---------------------------------------------------------------------

    def _unplanned(self) -> None:
        failed, planned = self.writer, self._planned
        self._planned = False
        down_at = time.monotonic()
        self.emit(OrchestratorEvent.WRITER_DOWN, component=failed, planned=planned)
        if self.reader is None or not self.h.runtime.is_running(self.reader):
            self._restart_in_place(failed, down_at)
            return
        # One role change from the promotion to the rejoin: a switchover in between
        # would wait for a reader that is still restarting, and MariaDB holds back the
        # rejoin's `SET GLOBAL gtid_slave_pos` while that MASTER_GTID_WAIT is pending.
        # Aurora refuses a failover while the failed instance recovers; here a planned
        # one waits for the rejoin instead.
        with self._switching:
            promoted = self.reader
            if not self._fail_over_to(promoted, down_at):
                return
            # no replica until the failed writer is back: reads go to the writer
            self.writer, self.reader = promoted, None
            self._reader_endpoint_to_writer(down_at)
            self._move_endpoint(down_at)
            # Aurora restarts the failed writer too; it serves again as a reader, at once
            # when it was shut down for a planned failover
            if not planned and not self.sleep(self.h.scaled(self.settings.replica_restart_s)):
                return
            self._rejoin(failed, since=down_at)

    def _fail_over_to(self, name: str, down_at: float) -> bool:
        """Promote the reader; it is the writer `failover_s - dns_ttl_s` after the failure.

        Promoted first (it applies what it received: an acknowledged commit is never
        dropped), then restarted when the profile says Aurora restarts it: stopped at once
        and back at the promotion time, so it serves nothing in between (AWS does not say
        when in the failover the restart begins; the Multi-AZ standby, likewise, serves
        nothing until its failover ends). False if the stack is being stopped.
        """
        settings = self.settings
        positions = mariadb.promote(self._port(name))
        restarts = settings.failover_restarts_reader.value
        if restarts:
            self.h.runtime.stop(name)
            self.emit(OrchestratorEvent.READER_RESTARTING, component=name)
        deadline = down_at + self._promotion_s(settings.failover_s, settings.dns_ttl_s)
        if not self.sleep(max(0.0, deadline - time.monotonic())):
            return False
        if restarts:
            self.h.runtime.restart(name)
        self.emit(OrchestratorEvent.READER_PROMOTED, component=name, restarted=restarts,
                  since_writer_down_s=round(time.monotonic() - down_at, 3), **positions)
        return True

    def _reader_endpoint_to_writer(self, since: float) -> None:
        """No replica: the reader endpoint connects to the writer (Aurora User Guide, Reader
        endpoints). It led to the promoted instance already, so no DNS record changes."""
        port = self._port(self.writer)
        if "app->db-reader" in self.h.info.edges:
            ToxiproxyClient(self.h.info.toxiproxy_api).set_upstream(
                proxy_name("app->db-reader"), port)
        self.h.info.db_reader_port = port
        self.h.on_change()
        self.emit(OrchestratorEvent.READER_ENDPOINT_TO_WRITER, component=self.writer,
                  since_writer_down_s=round(time.monotonic() - since, 3))

    def _restart_in_place(self, name: str, down_at: float) -> None:
        # no replica to promote: Aurora restarts the writer where it was
        if not self.sleep(self.h.scaled(self.settings.replica_restart_s)):
            return
        self.h.runtime.restart(name)
        self.emit(OrchestratorEvent.WRITER_RESTARTED,
                  component=name, down_s=round(time.monotonic() - down_at, 3))

    def _move_endpoint(self, since: float) -> None:
        """Repoint the apps' writer endpoint at the current writer (set by the caller)."""
        new_writer = self.writer
        if self.h.info.db_proxy_admin:
            # RDS Proxy follows the cluster itself: its clients keep their connections and
            # their next transaction goes to the new writer, no DNS record to wait for
            RdsProxyAdmin(self.h.info.db_proxy_admin).repoint(self._port(new_writer))
            via = "rds_proxy"
        else:
            # clients resolve the cluster endpoint again only after the DNS TTL (an
            # unplanned failover's last dns_ttl_s)
            if not self.sleep(self.h.scaled(self.settings.dns_ttl_s)):
                return
            toxi = ToxiproxyClient(self.h.info.toxiproxy_api)
            toxi.set_upstream(proxy_name("app->db"), self._port(new_writer))
            via = "dns"
        self.h.info.db_writer_port = self._port(new_writer)
        self.h.on_change()
        self.emit(
            OrchestratorEvent.WRITER_ENDPOINT_MOVED, component=new_writer,
            port=self._port(new_writer), via=via,
            since_writer_down_s=round(time.monotonic() - since, 3),
        )

    def _rejoin(self, name: str, since: float | None = None) -> None:
        """Restart the failed instance as a read-only replica of the new writer.

        The caller holds `_switching`, so no switchover runs against a half-rejoined reader.
        """
        if self.stopping:
            return
        # the reader from now on, also if this attempt fails (the watch loop tries again)
        self.reader = name
        try:
            self.h.runtime.restart(name)
            mariadb.rejoin_as_replica(
                replica_port=self._port(name), writer_port=self._port(self.writer)
            )
        except Exception as exc:
            self.emit(OrchestratorEvent.READER_REJOIN_FAILED, component=name, error=str(exc))
            return
        toxi = ToxiproxyClient(self.h.info.toxiproxy_api)
        if "app->db-reader" in self.h.info.edges:
            toxi.set_upstream(proxy_name("app->db-reader"), self._port(name))
        self.h.info.db_reader_port = self._port(name)
        self.h.on_change()
        took = {} if since is None else {"since_writer_down_s": round(time.monotonic() - since, 3)}
        self.emit(OrchestratorEvent.READER_REJOINED, component=name, **took)

    # -- planned -----------------------------------------------------------------------

    def switchover(self) -> None:
        """Planned failover: no write is lost; then the failover path, restarts included."""
        with self._switching:
            # checked under the lock: after a failover there is no reader until the
            # failed writer has rejoined, and the switchover waits for that
            if self.reader is None:
                raise FaultError("a planned db_failover needs a reader; this stack has none")
            old, new = self.writer, self.reader
            self.emit(OrchestratorEvent.SWITCHOVER_STARTED, component=old)
            self._set_read_only(old, True)
            try:
                mariadb.wait_caught_up(reader_port=self._port(new), writer_port=self._port(old))
            except Exception as exc:
                # called off: nothing was promoted, so the old writer is still the only one
                # and must take writes again, or the cluster is left without a writer
                self._set_read_only(old, False)
                self.emit(OrchestratorEvent.SWITCHOVER_CALLED_OFF, component=old,
                          error=f"{type(exc).__name__}: {exc}")
                raise
            self._planned = True
            # the watch loop sees the writer gone and fails over as it would after a crash
            self.h.runtime.stop(old)

    def _set_read_only(self, name: str, read_only: bool) -> None:
        with mariadb.admin(self._port(name)) as conn, conn.cursor() as cur:
            cur.execute(f"SET GLOBAL read_only = {int(read_only)}")

    def current_writer(self) -> str:
        return self.writer

    def current_replica(self) -> str | None:
        return self.reader
