"""RDS for MySQL: one DB instance, restarted in place; with Multi-AZ, a standby takes over.

Single-AZ: a failed instance is down until RDS has restarted it (`restart_s`).

Multi-AZ: `db-standby` lives in another zone and serves no traffic; semi-synchronous
replication (see `mariadb.semi_sync_options`) puts every acknowledged commit on it.
When the primary fails (a kill, its zone's outage, a db_failover), clients reach the
standby `multi_az_failover_s` later: AWS's figure runs to the endpoint working again,
its DNS change included, so the standby is promoted (after applying everything it
received) `dns_ttl_s` before that and clients find it when their cached record expires,
which here is when the app->db edge moves. The DNS TTL is counted once, as on Aurora
(`DatabaseOrchestrator._promotion_s`). The failed instance is restarted (`restart_s`)
and rejoins as the new standby. A planned failover is RDS's "reboot with failover":
the primary shuts down cleanly, the standby takes over the same way, and the rebooted
instance rejoins at once. When the standby fails, the primary goes on alone (asynchronously: the
one window where a crash of the primary could lose acknowledged writes) until
RDS has restarted the standby and it has caught up; the same holds while a
standby that stopped answering is left behind (`standby_ack_timeout_ms`).
Known gap: db_reboot with force=true of the primary (no failover) may roll back
a commit the standby already received but the client never saw acknowledged;
the standby then holds a transaction the primary lacks and stops replicating.
"""

from __future__ import annotations

import time

from harness.errors import FaultError
from harness.model.database import RdsSettings
from harness.records.events import OrchestratorEvent
from harness.stacks.components import mariadb
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.orchestrators.base import DatabaseOrchestrator, StackHandles
from harness.stacks.topology import proxy_name


class RdsInstance(DatabaseOrchestrator):
    name = "rds"

    def __init__(self, handles: StackHandles, settings: RdsSettings) -> None:
        super().__init__(handles)
        self.settings = settings
        #: the instance the endpoint points at now (it changes with each failover)
        self.primary = "db-writer"
        self.standby: str | None = "db-standby" if settings.multi_az.value else None
        #: set by a planned failover: the primary was shut down, not lost
        self._planned = False

    def tick(self) -> None:
        if self._switching.locked() or self.busy("failover"):
            return
        if not self.h.runtime.is_running(self.primary):
            self.react("failover", self._primary_lost)
        elif (self.standby is not None and not self.busy("standby")
              and not self.h.runtime.is_running(self.standby)):
            self.react("standby", self._standby_lost)

    # -- the primary fails -------------------------------------------------------------

    def _primary_lost(self) -> None:
        failed, planned = self.primary, self._planned
        self._planned = False
        down_at = time.monotonic()
        self.emit(OrchestratorEvent.WRITER_DOWN, component=failed, planned=planned)
        if self.standby is None or self.busy("standby"):
            # single-AZ, or the standby is itself being replaced: nothing to promote
            self._restart_in_place(failed, down_at)
            return
        settings = self.settings
        if not self.sleep(self._promotion_s(settings.multi_az_failover_s, settings.dns_ttl_s)):
            return
        with self._switching:
            standby = self.standby
            if not self.h.runtime.is_running(standby):
                self.emit(OrchestratorEvent.STANDBY_UNAVAILABLE, component=standby)
            else:
                positions = mariadb.promote(self._port(standby))
                self.emit(OrchestratorEvent.STANDBY_PROMOTED, component=standby,
                          since_writer_down_s=round(time.monotonic() - down_at, 3), **positions)
                self.primary, self.standby = standby, failed
                self._move_endpoint(down_at)
        if self.primary == failed:
            self._restart_in_place(failed, down_at)
            return
        # a rebooted primary is back at once; a crashed one when RDS has restarted it
        if not planned and not self.sleep(self.h.scaled(self.settings.restart_s)):
            return
        # RDS refuses a failover while the failed instance recovers; here a planned one
        # waits until the rejoin is done, instead of shutting the new primary down under
        # a standby that is still catching up
        with self._switching:
            if self.standby == failed and not self.h.runtime.is_running(failed):
                self._rejoin(failed)

    def _restart_in_place(self, name: str, down_at: float) -> None:
        if not self.sleep(self.h.scaled(self.settings.restart_s)):
            return
        with self._switching:
            self.h.runtime.restart(name)
        self.emit(OrchestratorEvent.WRITER_RESTARTED,
                  component=name, down_s=round(time.monotonic() - down_at, 3))

    def _move_endpoint(self, since: float) -> None:
        # clients resolve the instance endpoint again only after the DNS TTL (the last part
        # of multi_az_failover_s)
        if not self.sleep(self.h.scaled(self.settings.dns_ttl_s)):
            return
        port = self._port(self.primary)
        ToxiproxyClient(self.h.info.toxiproxy_api).set_upstream(proxy_name("app->db"), port)
        self.h.info.db_writer_port = port
        self.h.on_change()
        self.emit(OrchestratorEvent.WRITER_ENDPOINT_MOVED, component=self.primary, port=port,
                  since_writer_down_s=round(time.monotonic() - since, 3))

    # -- the standby ---------------------------------------------------------------------

    def _standby_lost(self) -> None:
        lost = self.standby
        if lost is None:
            return
        down_at = time.monotonic()
        self.emit(OrchestratorEvent.STANDBY_DOWN, component=lost)
        if not self.sleep(self.h.scaled(self.settings.restart_s)):
            return
        with self._switching:
            if self.standby == lost and not self.h.runtime.is_running(lost):
                self._rejoin(lost, down_at)

    def _rejoin(self, name: str, since: float | None = None) -> None:
        """Restart an instance and make it the standby of the primary (semi-sync again).

        The caller holds `_switching`: no planned failover runs until it has caught up.
        """
        if self.stopping:
            return
        started = time.monotonic()
        port, primary_port = self._port(name), self._port(self.primary)
        try:
            self.h.runtime.restart(name)
            mariadb.rejoin_as_replica(replica_port=port, writer_port=primary_port)
            self.emit(OrchestratorEvent.STANDBY_REPLICATING, component=name, primary=self.primary)
            # until it has caught up, the primary commits without waiting for it
            target = mariadb.gtid_position(primary_port)
            while not mariadb.caught_up(port, target):
                if self.stopping:
                    return
        except Exception as exc:
            self.emit(OrchestratorEvent.STANDBY_REJOIN_FAILED, component=name,
                      error=f"{type(exc).__name__}: {exc}")
            return
        self.emit(OrchestratorEvent.STANDBY_REJOINED, component=name, primary=self.primary,
                  took_s=round(time.monotonic() - (since or started), 3),
                  semi_sync_clients=mariadb.semi_sync_clients(primary_port))

    # -- asked for by faults -----------------------------------------------------------

    def switchover(self) -> None:
        """Planned failover, RDS's reboot with failover: the primary shuts down cleanly."""
        if self.standby is None:
            raise FaultError(
                "a planned db_failover needs a Multi-AZ standby; this RDS instance is single-AZ "
                "(database.multi_az in the profile)"
            )
        with self._switching:
            # checked under the lock: a failover that just ended may have made the
            # standby the instance that has not rejoined yet
            if not self.h.runtime.is_running(self.standby):
                raise FaultError(
                    f"a planned db_failover needs the standby; {self.standby} is down"
                )
            self._planned = True
            self.emit(OrchestratorEvent.SWITCHOVER_STARTED, component=self.primary)
            # the watch loop sees the primary gone and fails over as it would after a crash
            self.h.runtime.stop(self.primary)

    def current_writer(self) -> str:
        return self.primary

    def current_replica(self) -> str | None:
        return self.standby
