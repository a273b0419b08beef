"""DB instance classes and the max_connections AWS derives from them.

RDS and Aurora do not let a team pick max_connections up front: the default DB
parameter group computes it from the instance class, and each engine does it its own
way. This module holds the two rules, with their sources, and nothing else (a leaf:
the profile model and the report read it, it reads neither).

- RDS for MySQL: `{DBInstanceClassMemory/12582880}` in the default parameter group
  (RDS User Guide, Quotas and constraints for Amazon RDS, "Maximum number of database
  connections"). DBInstanceClassMemory is the class's memory less what RDS reserves
  for the OS and its own processes (RDS User Guide, "DB parameter formula variables"),
  a reserve AWS does not publish: the class's whole memory is used here, an upper
  bound a few percent above what a running instance reports.
- Aurora MySQL: the per-class defaults the Aurora User Guide tabulates ("Maximum
  connections to an Aurora MySQL DB instance"), from its own formula on
  DBInstanceClassMemory; 1000 for a 16 GiB db.r5.large where RDS for MySQL gives ~1365.
"""

from __future__ import annotations

from dataclasses import dataclass

#: memory of each DB instance class, GiB (RDS User Guide, "Hardware specifications for DB
#: instance classes"; the Aurora User Guide's table for the classes Aurora offers)
MEMORY_GIB: dict[str, int] = {
    "db.t3.small": 2, "db.t3.medium": 4, "db.t3.large": 8,
    "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.m5.large": 8, "db.m5.xlarge": 16, "db.m5.2xlarge": 32,
    "db.r5.large": 16, "db.r5.xlarge": 32, "db.r5.2xlarge": 64,
    "db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64,
}

#: Aurora MySQL's default max_connections per class (Aurora User Guide, Managing
#: performance and scaling for Aurora MySQL, "Maximum connections to an Aurora MySQL DB
#: instance"); Aurora offers no db.m5 classes
AURORA_MYSQL_DEFAULT: dict[str, int] = {
    "db.t3.small": 45, "db.t3.medium": 90, "db.t3.large": 135,
    "db.t4g.medium": 90, "db.t4g.large": 135,
    "db.r5.large": 1000, "db.r5.xlarge": 2000, "db.r5.2xlarge": 3000,
    "db.r6g.large": 1000, "db.r6g.xlarge": 2000, "db.r6g.2xlarge": 3000,
}

#: the divisor of RDS for MySQL's default: one connection per 12 MiB of instance memory
RDS_MYSQL_BYTES_PER_CONNECTION = 12582880

#: MariaDB refuses a lower max_connections (it raises the value to 10 with a warning)
MARIADB_MIN_CONNECTIONS = 10

RDS_MYSQL_SOURCE = (
    "RDS User Guide, Quotas and constraints for Amazon RDS, Maximum number of database "
    "connections: the MySQL default parameter group sets {DBInstanceClassMemory/12582880}; "
    "DBInstanceClassMemory is the class's memory less an unpublished reserve for the OS and "
    "RDS's processes (RDS User Guide, DB parameter formula variables), taken here as the "
    "whole memory (RDS User Guide, Hardware specifications for DB instance classes): an "
    "upper bound a few percent above what a running instance reports"
)
AURORA_MYSQL_SOURCE = (
    "Aurora User Guide, Managing performance and scaling for Aurora MySQL, Maximum "
    "connections to an Aurora MySQL DB instance: the default max_connections of each DB "
    "instance class (from Aurora's own formula on DBInstanceClassMemory)"
)


@dataclass(frozen=True)
class Default:
    """The default parameter group's max_connections for one engine and instance class."""

    value: int
    #: how it was derived, with the documents it comes from
    source: str


def classes(engine: str) -> list[str]:
    """The instance classes this module knows for the engine."""
    known = AURORA_MYSQL_DEFAULT if engine == "aurora_mysql" else MEMORY_GIB
    return sorted(known)


def default_max_connections(engine: str, instance_class: str) -> Default:
    """max_connections of the engine's default parameter group on this instance class.

    Raises ValueError (a one-line message naming the known classes) for a class the
    engine does not offer or this module does not know.
    """
    if engine == "rds_mysql":
        if instance_class not in MEMORY_GIB:
            raise ValueError(_unknown(engine, instance_class))
        gib = MEMORY_GIB[instance_class]
        value = gib * 2**30 // RDS_MYSQL_BYTES_PER_CONNECTION
        return Default(value, f"{RDS_MYSQL_SOURCE}; {instance_class} has {gib} GiB: "
                              f"{gib} x 2^30 / 12582880 = {value}")
    if engine == "aurora_mysql":
        if instance_class not in AURORA_MYSQL_DEFAULT:
            raise ValueError(_unknown(engine, instance_class))
        value = AURORA_MYSQL_DEFAULT[instance_class]
        return Default(value, f"{AURORA_MYSQL_SOURCE}: {instance_class} {value}")
    raise ValueError(f"no max_connections rule for engine {engine!r}")


def scaled(value: int, factor: float) -> int:
    """`value x factor`, rounded half up (a count of connections, or of workers)."""
    return int(value * factor + 0.5)


def _unknown(engine: str, instance_class: str) -> str:
    return (f"{instance_class!r} is not a DB instance class {engine} offers here; "
            f"choose one of {', '.join(classes(engine))}")
