"""The database section: RDS (Multi-AZ) or Aurora (+ RDS Proxy), failover and max_connections.

The connection limit is AWS's rule for the instance class (harness.model.dbclass),
scaled like the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, model_validator

from harness.model import dbclass
from harness.model.cited import Cited, Strict, Timing


class MaxConnections(Strict):
    """The database's connection limit: AWS's figure for the instance class, at the run's scale."""

    #: the factor AWS's max_connections is multiplied by: the one the fleet's CPU is
    #: (app.size), which the apps' connection counts (app.php.max_children, app.db_pool)
    #: follow too, so that app connections : max_connections is AWS's ratio
    scale: Cited[Annotated[float, Field(gt=0, le=1)]]
    #: a custom DB parameter group's max_connections (an AWS figure, scaled like the
    #: default); None = the default parameter group's rule for the instance class
    parameter_group: Cited[Annotated[int, Field(ge=1, le=100000)]] | None = None


@dataclass(frozen=True)
class ConnectionLimit:
    """max_connections of every instance of the database: AWS's figure and the run's."""

    aws: int
    used: int
    source: str


class _DbInstances(Strict):
    """What every instance of the database has (writer, standby, reader alike)."""

    #: the DB instance class; its memory decides the default max_connections
    #: (harness.model.dbclass)
    instance_class: Cited[str]
    max_connections: MaxConnections

    @model_validator(mode="after")
    def _known_class(self) -> _DbInstances:
        self.connection_limit()
        return self

    def connection_limit(self) -> ConnectionLimit:
        """max_connections as AWS sets it for this class, and as MariaDB gets it here."""
        engine = str(getattr(self, "engine", ""))
        try:
            default = dbclass.default_max_connections(engine, self.instance_class.value)
        except ValueError as exc:
            raise ValueError(f"instance_class: {exc}") from None
        mc = self.max_connections
        aws, source = default.value, f"the default parameter group: {default.source}"
        if mc.parameter_group is not None:
            aws = mc.parameter_group.value
            source = f"a custom parameter group: {mc.parameter_group.source}"
        used = dbclass.scaled(aws, mc.scale.value)
        if used < dbclass.MARIADB_MIN_CONNECTIONS:
            raise ValueError(
                f"max_connections: {aws} x scale {mc.scale.value:g} = {used}, below the "
                f"{dbclass.MARIADB_MIN_CONNECTIONS} MariaDB accepts (it would run with "
                f"{dbclass.MARIADB_MIN_CONNECTIONS}); choose a larger class or parameter_group")
        return ConnectionLimit(aws, used, f"{source}; x max_connections.scale "
                                          f"{mc.scale.value:g} = {used}")


class RdsSettings(_DbInstances):
    """RDS for MySQL: one DB instance, optionally Multi-AZ with a standby."""

    engine: Literal["rds_mysql"]
    #: the primary's zone first; a Multi-AZ standby lives in the next one
    zones: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)
    #: a synchronous standby in another zone (`db-standby`), promoted when the primary fails
    multi_az: Cited[bool]
    #: Multi-AZ: from the primary's failure to its endpoint working again on the standby,
    #: the DNS record's change included (the AWS figure): the standby takes writes
    #: `dns_ttl_s` before that, and clients find it when their cached record expires
    multi_az_failover_s: Timing
    #: a crashed instance is down until RDS has restarted it: single-AZ the primary, Multi-AZ
    #: the failed instance before it rejoins as the standby
    restart_s: Timing
    #: clients find the moved endpoint after its DNS record's TTL (inside multi_az_failover_s)
    dns_ttl_s: Timing
    #: Multi-AZ: how long a commit waits for the standby's acknowledgement before the primary
    #: goes on alone (asynchronous until the standby has caught up); a request-path figure,
    #: not scaled
    standby_ack_timeout_ms: Cited[Annotated[int, Field(ge=1)]]

    @model_validator(mode="after")
    def _dns_inside_the_failover(self) -> RdsSettings:
        _check_dns_inside("multi_az_failover_s", self.multi_az_failover_s, self.dns_ttl_s)
        return self


def _check_dns_inside(name: str, failover: Timing, dns_ttl: Timing) -> None:
    """AWS's failover figures run to the endpoint working again: the DNS TTL is a part of them."""
    if dns_ttl.value > failover.value:
        raise ValueError(
            f"dns_ttl_s {dns_ttl.value:g} is longer than {name} {failover.value:g}: the "
            "failover figure runs to the endpoint working again, its DNS change included, "
            "so the TTL is a part of it (the promotion takes the rest)")


class RdsProxySettings(Strict):
    """RDS Proxy between the app tasks and the writer (RDS User Guide, "RDS Proxy concepts").

    A pool of connections to the current writer shared by all clients; a client's
    transaction borrows one. On a failover the proxy sends clients to the new writer
    itself, so they keep their connections and wait for no DNS record.
    """

    #: the pool's size as a share of the writer's max_connections
    max_connections_percent: Cited[Annotated[int, Field(ge=1, le=100)]]
    #: how long a query waits for a free pooled connection before it fails
    connection_borrow_timeout_s: Timing
    #: a client connection idle this long is closed
    idle_client_timeout_s: Timing


class AuroraSettings(_DbInstances):
    """Aurora MySQL: a writer and a reader replica on shared storage."""

    engine: Literal["aurora_mysql"]
    zones: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)
    #: a reader replica (the failover target)
    reader: Cited[bool]
    #: from the writer's failure to the cluster endpoint working again on the promoted
    #: reader, the DNS flip included (the AWS figure): the reader takes writes `dns_ttl_s`
    #: before that (RDS Proxy sends clients to it then), DNS clients find it after the TTL
    failover_s: Timing
    #: the reader a failover promotes is restarted in it: it serves nothing (reads
    #: included) from the writer's failure until it is back as the writer
    failover_restarts_reader: Cited[bool]
    dns_ttl_s: Timing
    #: a failed instance is back (the old writer as a reader, a lost reader) after this long
    replica_restart_s: Timing
    #: Aurora acknowledges a commit once it is durable in other AZs (shared storage), so a
    #: failover loses no acknowledged write; emulated by a semi-synchronous reader that waits
    #: this long for the reader's acknowledgement (a request-path figure, not scaled)
    storage_ack_timeout_ms: Cited[Annotated[int, Field(ge=1)]]
    #: RDS Proxy in front of the writer; absent = the apps connect to the cluster endpoint
    proxy: RdsProxySettings | None = None

    @model_validator(mode="after")
    def _dns_inside_the_failover(self) -> AuroraSettings:
        _check_dns_inside("failover_s", self.failover_s, self.dns_ttl_s)
        return self


Database = Annotated[RdsSettings | AuroraSettings, Field(discriminator="engine")]
