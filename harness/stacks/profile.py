"""Stack profiles: what each architecture is made of and how it behaves, as data.

`stacks/<arch>/profile.yaml` holds every behaviour that differs between the
architectures (or that AWS documents) as a *cited* setting: `{value: ..., source:
"..."}`, so a user sees where each figure comes from and can change it, and the
report can print "what this run modelled". Timings (`Timing`) are AWS control-plane
figures in seconds; a run multiplies them by its `time_scale`. Client settings on
the request path (timeouts of the services' DB and AWS clients) are not scaled: a
query does not get faster because health checks do.

Every section is a strict model: an unknown key is an error with file and line,
never a silent default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness import yamlfile
from harness.errors import ProfileError
from harness.metrics.alarmdef import AlarmDef, Comparison, MissingData
from harness.metrics.catalogue import MetricName, follows_monitoring, series_of
from harness.metrics.periods import valid_statistic
from harness.scaling.settings import ScalingSettings
from harness.stacks import dbclass
from harness.stacks.cited import Cited as Cited
from harness.stacks.cited import Strict as _Strict
from harness.stacks.cited import Timing as Timing

# -- load balancer -------------------------------------------------------------------


#: what a passing check proves: `shallow` the process answers; `deep` it reaches its
#: dependencies (the database), so a shared dependency's failure fails every target at
#: once; `static` a file the web server serves without the app (legacy nginx only)
Depth = Literal["shallow", "deep", "static"]

#: each sample service's health check paths and their depth (stacks/apps/README.md)
HEALTH_PATHS: dict[str, dict[str, Depth]] = {
    "php": {"/health": "shallow", "/ready": "deep", "/index.html": "static"},
    "go": {"/health": "shallow", "/ready": "deep"},
}


class HealthCheck(_Strict):
    """Load balancer target health check (AWS field names)."""

    #: HTTP: a GET of `path` must answer 200; TCP: the target must accept a connection
    protocol: Cited[Literal["HTTP", "TCP"]]
    #: the path an HTTP check requests (a TCP check has none)
    path: Cited[Annotated[str, Field(pattern=r"^/")]] | None = None
    #: what a passing check proves (the team's choice, not an AWS default); checked
    #: against the app's paths (HEALTH_PATHS)
    depth: Cited[Depth]
    interval_s: Timing
    timeout_s: Timing
    healthy_threshold: Cited[Annotated[int, Field(ge=1)]]
    unhealthy_threshold: Cited[Annotated[int, Field(ge=1)]]
    #: passing checks a newly registered target (a replacement, a scale-out, a green task)
    #: needs before it gets traffic: the ALB's 1; a target that went unhealthy needs
    #: `healthy_threshold` again
    initial_healthy_threshold: Cited[Annotated[int, Field(ge=1)]]

    @model_validator(mode="after")
    def _consistent(self) -> HealthCheck:
        if self.protocol.value == "TCP":
            if self.path is not None:
                raise ValueError("path: a TCP check only opens a connection; remove path "
                                 "(or use protocol HTTP)")
            if self.depth.value != "shallow":
                raise ValueError(f"depth: a TCP check only sees the listener accept a "
                                 f"connection (nginx on a PHP instance), so it is shallow, "
                                 f"not {self.depth.value}")
        elif self.path is None:
            raise ValueError("path: an HTTP check needs the path it requests")
        if self.initial_healthy_threshold.value > self.healthy_threshold.value:
            raise ValueError(
                f"initial_healthy_threshold {self.initial_healthy_threshold.value} is more "
                f"than healthy_threshold {self.healthy_threshold.value}: a new target is "
                "admitted after at most as many checks as one that went unhealthy")
        return self

    def admission_s(self, time_scale: float, *, new: bool = True) -> float:
        """Run seconds from registration to traffic when every check passes.

        A new target needs `initial_healthy_threshold` checks, one that went unhealthy
        `healthy_threshold`; the first comes within an interval of registering.
        """
        checks = self.initial_healthy_threshold if new else self.healthy_threshold
        return checks.value * self.interval_s.at(time_scale)


class LoadBalancer(_Strict):
    style: Literal["clb", "alb"]
    #: how a request picks a target (CLB HTTP: least outstanding requests; ALB: round robin)
    routing: Cited[Literal["round_robin", "least_outstanding_requests"]]
    health_check: HealthCheck
    #: a connection idle this long is closed by the LB; a silent target gives 504
    idle_timeout_s: Timing
    #: connection draining (CLB) / deregistration delay (ALB): a target taken out gets no
    #: new requests; its in-flight ones may finish for up to this long, then the rest are
    #: closed (sooner when none is left); 0 = cut at once
    deregistration_delay_s: Timing
    #: what the LB does when no target is healthy: `reject` answers 503 (CLB);
    #: `fail_open` routes to every registered target anyway (ALB)
    when_all_unhealthy: Cited[Literal["reject", "fail_open"]]

    @model_validator(mode="after")
    def _alb_checks_http(self) -> LoadBalancer:
        if self.style == "alb" and self.health_check.protocol.value == "TCP":
            # ELB Application guide, Health checks for your target groups, HealthCheckProtocol
            raise ValueError("health_check.protocol: an ALB's HTTP target group checks over "
                             "HTTP or HTTPS; TCP checks are for Network Load Balancers")
        return self


# -- app -----------------------------------------------------------------------------


class PhpSettings(_Strict):
    #: php-fpm's fixed pool (pm = static): at most this many requests run at once on an
    #: instance, and each holds at most one database connection
    max_children: Cited[Annotated[int, Field(ge=1, le=256)]]
    nginx_workers: int = Field(default=1, ge=1, le=16)
    request_timeout_s: float = Field(default=30, gt=0)


PositiveSeconds = Annotated[float, Field(gt=0, le=600)]


class ClientSettings(_Strict):
    """The sample service's DB and AWS clients: the same in both architectures.

    Request-path settings, NOT scaled by `time_scale`: a query or an SQS call does not
    get faster because the run shortens AWS's control-plane timings.
    """

    db_connect_timeout_s: Cited[PositiveSeconds]
    #: one statement (lock waits included); the whole transaction of a write uses it per step
    db_query_timeout_s: Cited[PositiveSeconds]
    #: one HTTP attempt of an AWS call; the SDK's retries and back-off come on top
    aws_timeout_s: Cited[PositiveSeconds]
    #: attempts of one AWS call (first + retries), as the service's AWS SDK does by default
    aws_max_attempts: Cited[Annotated[int, Field(ge=1, le=10)]]

    def env(self) -> dict[str, str]:
        """The variables both sample services read (stacks/apps/README.md)."""
        return {
            "DB_CONNECT_TIMEOUT_MS": _ms(self.db_connect_timeout_s.value),
            "DB_QUERY_TIMEOUT_MS": _ms(self.db_query_timeout_s.value),
            "AWS_TIMEOUT_MS": _ms(self.aws_timeout_s.value),
            # the name every AWS SDK reads for this setting
            "AWS_MAX_ATTEMPTS": str(self.aws_max_attempts.value),
        }


def _ms(seconds: float) -> str:
    return str(round(seconds * 1000))


ConnectionCount = Annotated[int, Field(ge=0, le=10000)]


class DbPool(_Strict):
    """How the service holds its database connections: its side of max_connections.

    PHP (`persistent`): a php-fpm child opens a connection per request and closes it at
    the end (PDO's default), or keeps one for its lifetime (PDO::ATTR_PERSISTENT); at most
    `app.php.max_children` per instance either way. Go (`max_open_conns`,
    `max_idle_conns`): database/sql's pool, one per endpoint (writer, reader) per task.
    """

    #: PHP only: PDO::ATTR_PERSISTENT, a child keeps its connection across requests
    persistent: Cited[bool] | None = None
    #: Go only: database/sql SetMaxOpenConns per pool; 0 = unlimited (database/sql's default)
    max_open_conns: Cited[ConnectionCount] | None = None
    #: Go only: SetMaxIdleConns per pool; 0 = none kept, a new connection per query (the
    #: service "without a pool"); database/sql's default is 2
    max_idle_conns: Cited[ConnectionCount] | None = None

    @model_validator(mode="after")
    def _idle_within_open(self) -> DbPool:
        if (self.max_open_conns is not None and self.max_idle_conns is not None
                and 0 < self.max_open_conns.value < self.max_idle_conns.value):
            raise ValueError(
                f"max_idle_conns {self.max_idle_conns.value} is more than max_open_conns "
                f"{self.max_open_conns.value}: database/sql keeps at most max_open_conns idle")
        return self

    def env(self) -> dict[str, str]:
        """The variables the sample services read (stacks/apps/README.md)."""
        env = {}
        if self.persistent is not None:
            env["DB_PERSISTENT"] = "1" if self.persistent.value else "0"
        if self.max_open_conns is not None:
            env["DB_MAX_OPEN_CONNS"] = str(self.max_open_conns.value)
        if self.max_idle_conns is not None:
            env["DB_MAX_IDLE_CONNS"] = str(self.max_idle_conns.value)
        return env


#: which DbPool settings each sample service honours
_POOL_FIELDS = {"php": ("persistent",), "go": ("max_open_conns", "max_idle_conns")}


class Size(_Strict):
    """One instance's or task's CPU and memory, and the AWS size it stands for.

    Enforced through a cgroup per instance/task (a PHP instance's nginx and php-fpm
    share one); the run records what the kernel actually holds.
    """

    #: e.g. "Fargate task 0.5 vCPU / 1 GB", "EC2 t3.small"
    aws_size: Cited[str]
    cpus: Cited[Annotated[float, Field(gt=0, le=64)]]
    memory_mb: Cited[Annotated[int, Field(ge=64)]]


#: variables the typed settings produce; a raw `app.env` must not set them behind their back
_TYPED_ENV = frozenset(
    {"DB_CONNECT_TIMEOUT_MS", "DB_QUERY_TIMEOUT_MS", "AWS_TIMEOUT_MS", "AWS_MAX_ATTEMPTS",
     "DB_PERSISTENT", "DB_MAX_OPEN_CONNS", "DB_MAX_IDLE_CONNS"}
)


class App(_Strict):
    kind: Literal["php", "go"]
    instances: int = Field(ge=1, le=16)
    #: availability zones the instances are spread over, round robin
    zones: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)
    #: the PHP instance's php-fpm pool (a PHP app needs one)
    php: PhpSettings | None = None
    #: every instance's/task's size; instances x size is the architecture's budget
    size: Size
    client: ClientSettings
    #: how the service holds its database connections (the sample services need one)
    db_pool: DbPool | None = None
    #: implementation settings that are no AWS behaviour (shutdown grace)
    env: dict[str, str] = Field(default_factory=dict)
    #: a team's own service instead of the sample one: its command (`{port}`, `{host}`
    #: are filled in; it also gets APP_LISTEN and PORT), its image under the docker
    #: runtime, and the path the stack calls for readiness (the LB's check calls
    #: load_balancer.health_check.path)
    command: list[str] | None = Field(default=None, min_length=1)
    image: str | None = None
    health_path: str = Field(default="/ready", pattern=r"^/")

    @field_validator("env")
    @classmethod
    def _no_typed_settings(cls, env: dict[str, str]) -> dict[str, str]:
        clash = sorted(_TYPED_ENV & env.keys())
        if clash:
            raise ValueError(
                f"{', '.join(clash)} come from app.client or app.db_pool (cited settings); "
                "remove them from env"
            )
        return env

    @model_validator(mode="after")
    def _settings_fit_the_kind(self) -> App:
        if self.kind == "php" and self.php is None:
            raise ValueError("php: a PHP app needs its php-fpm pool (php.max_children)")
        if self.command:
            return self  # a team's own service: it reads what it reads
        wanted = _POOL_FIELDS[self.kind]
        if self.db_pool is None:
            raise ValueError(f"db_pool: the {self.kind} service needs {', '.join(wanted)}")
        given = {f for f in DbPool.model_fields if getattr(self.db_pool, f) is not None}
        missing = [f for f in wanted if f not in given]
        foreign = sorted(given - set(wanted))
        if missing:
            raise ValueError(f"db_pool.{missing[0]}: the {self.kind} service needs it")
        if foreign:
            raise ValueError(f"db_pool.{foreign[0]}: the {self.kind} service has no such "
                             f"setting (it honours {', '.join(wanted)})")
        return self

    def connections_per_member(self) -> int | None:
        """Most database connections one instance/task opens to the writer; None = no bound.

        PHP: one per php-fpm child, persistent or not. Go: its writer pool's max_open_conns
        (0 = unlimited). A team's own service: unknown (None).
        """
        if self.command or self.db_pool is None:
            return None
        if self.kind == "php":
            assert self.php is not None
            return self.php.max_children.value
        pool = self.db_pool.max_open_conns
        if pool is None or pool.value == 0:
            return None
        return pool.value

    @property
    def total_cpus(self) -> float:
        return round(self.instances * self.size.cpus.value, 4)

    @property
    def total_memory_mb(self) -> int:
        return self.instances * self.size.memory_mb.value


# -- orchestrators -------------------------------------------------------------------


class AsgSettings(_Strict):
    """EC2 Auto Scaling group: replaces instances that fail their health check."""

    kind: Literal["asg"]
    #: EC2 (the AWS default): replace only instances whose status check fails (gone);
    #: ELB: also replace instances the load balancer marks unhealthy
    health_check_type: Cited[Literal["EC2", "ELB"]]
    #: from an instance failing to its EC2 status check failing (both types use it)
    status_check_notice_s: Timing
    health_check_grace_s: Timing
    #: from the launch request to the instance serving (boot, bootstrap, app start)
    launch_s: Timing


class EcsHealthCheck(_Strict):
    interval_s: Timing
    timeout_s: Timing
    retries: Cited[Annotated[int, Field(ge=1)]]


class EcsSettings(_Strict):
    """ECS service scheduler: replaces stopped and unhealthy tasks."""

    kind: Literal["ecs"]
    #: from a task's process dying to ECS marking it stopped and deregistering it
    task_stopped_notice_s: Timing
    #: the container health check in the task definition
    container_health_check: EcsHealthCheck
    #: the service ignores the LB's verdict on a new task for this long
    health_check_grace_s: Timing
    #: from the replacement request to the new task running
    task_replacement_s: Timing


Orchestrator = Annotated[AsgSettings | EcsSettings, Field(discriminator="kind")]


# -- deploys (harness.deploys) -------------------------------------------------------


class OpsWorksDeploy(_Strict):
    """An in-place rolling deploy as OpsWorks Stacks ran it: instance by instance."""

    kind: Literal["opsworks"]
    #: instances updated at once (1 = one by one)
    batch_size: Cited[Annotated[int, Field(ge=1)]]
    #: the Deploy recipes' work on an instance before its app server picks up the release
    prepare_s: Timing
    #: how the app server picks up the release: reload = php-fpm's SIGUSR2
    php_fpm: Cited[Literal["reload"]]


class CodeDeployEcs(_Strict):
    """An ECS blue/green deploy as CodeDeploy runs it: green task set, shift, wait, stop."""

    kind: Literal["codedeploy_ecs"]
    #: from the green task set's creation to its tasks running
    green_start_s: Timing
    #: CodeDeployDefault.ECSCanary10Percent5Minutes: from 10 % to 100 %
    canary_interval_s: Timing
    #: CodeDeployDefault.ECSLinear10PercentEvery1Minutes: between +10 % steps
    linear_interval_s: Timing
    #: from all traffic on green to the blue task set's termination
    termination_wait_s: Timing


Deploy = Annotated[OpsWorksDeploy | CodeDeployEcs, Field(discriminator="kind")]


# -- database ------------------------------------------------------------------------


class MaxConnections(_Strict):
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


class _DbInstances(_Strict):
    """What every instance of the database has (writer, standby, reader alike)."""

    #: the DB instance class; its memory decides the default max_connections
    #: (harness.stacks.dbclass)
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


class RdsProxySettings(_Strict):
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


class Aws(_Strict):
    queue: str = "orders"
    #: bucket for order receipts; None = no S3
    bucket: str | None = None


# -- metrics and alarms (CloudWatch) -------------------------------------------------


#: CloudWatch has a datapoint every minute of every metric modelled here but the compute's
#: own (ELB Classic guide: every 60 s; ELB Application guide: 60-second periods; EC2 User
#: Guide: status checks every minute; Aurora User Guide: 1-minute metrics)
EVERY_MINUTE_S = 60.0
#: EC2 User Guide, Monitor your instances using CloudWatch: basic monitoring publishes
#: instance metrics every 5 minutes, detailed monitoring (extra cost) every minute
MONITORING_RESOLUTIONS_S = {300.0: "basic", 60.0: "detailed"}


class MetricsSettings(_Strict):
    """How often the era's metrics reach CloudWatch, and how late alarms see them."""

    #: the period of the era's compute metrics (EC2 instance CPU: basic monitoring 300 s,
    #: detailed 60 s; ECS service CPU 60 s). The scaling policy and an alarm without their
    #: own period_s use it; no period may be finer than its metric is published at
    resolution_s: Timing
    #: from a period's end to its datapoint being visible to alarms
    publication_delay_s: Timing

    @field_validator("resolution_s")
    @classmethod
    def _resolution(cls, value: Timing) -> Timing:
        if value.value not in MONITORING_RESOLUTIONS_S:
            raise ValueError(f"{value.value:g}: CloudWatch publishes EC2 instance metrics every "
                             "300 s (basic monitoring) or every 60 s (detailed monitoring, "
                             "and ECS service metrics)")
        return value

    def published_s(self, metric: str) -> float:
        """How often CloudWatch has a datapoint of this metric (AWS seconds)."""
        return self.resolution_s.value if follows_monitoring(metric) else EVERY_MINUTE_S

    def too_fine(self, metric: str, period_s: float) -> str | None:
        """Why a period is finer than the metric is published at, or None if it is not."""
        published = self.published_s(metric)
        if period_s >= published:
            return None
        why = (f"metrics.resolution_s, {MONITORING_RESOLUTIONS_S[published]} monitoring"
               if follows_monitoring(metric) else "CloudWatch has one datapoint a minute")
        return (f"period_s {period_s:g} is finer than {metric} is published at "
                f"({published:g} s: {why}); a period holds at least one datapoint")


class AlarmSpec(_Strict):
    """One CloudWatch alarm the era typically had (PutMetricAlarm's fields)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    #: a CloudWatch metric name (harness.metrics.catalogue: METRICS and ALIASES)
    metric: MetricName
    #: Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99
    statistic: str
    period_s: Timing
    evaluation_periods: int = Field(ge=1, le=100)
    datapoints_to_alarm: int = Field(ge=1, le=100)
    #: in the metric's unit; a Sum or SampleCount threshold is per AWS period, and a run
    #: scales it with the period (the same rate of errors breaches at any time scale)
    threshold: float
    comparison: Comparison
    treat_missing_data: MissingData = "missing"
    #: one alarm per instance/task (InstanceId dimension), else one over the group
    per_member: bool = False
    #: metric math `metric - minus` (both with `statistic`), the threshold relative to
    #: it: RunningTaskCount minus DesiredTaskCount below 0 follows the desired count
    minus: MetricName | None = None
    #: why the era typically had this alarm, and where its settings come from
    source: str = Field(min_length=8)

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if not valid_statistic(value):
            raise ValueError(f"{value!r} is no CloudWatch statistic; use Sum, Average, Maximum, "
                             "Minimum, SampleCount or a percentile such as p99")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AlarmSpec:
        period = self.period_s.value
        if period not in (10, 30) and (period < 60 or period % 60):
            raise ValueError(f"period_s {period:g}: CloudWatch alarm periods are 10 s, 30 s or "
                             "a multiple of 60 s")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(f"datapoints_to_alarm {self.datapoints_to_alarm} is more than "
                             f"evaluation_periods {self.evaluation_periods} (M of N needs M <= N)")
        if self.per_member and not series_of(self.metric).per_member:
            raise ValueError(f"per_member: {self.metric} has one series for the whole group")
        if self.minus is not None and self.per_member and not series_of(self.minus).per_member:
            raise ValueError(f"minus: {self.minus} has one series for the whole group; "
                             "a per-member alarm can only subtract a per-member metric")
        return self

    def scaled_threshold(self, time_scale: float) -> float:
        counted = self.statistic in ("Sum", "SampleCount") and (
            series_of(self.metric).kind != "gauge")
        return self.threshold * time_scale if counted else self.threshold

    def definitions(self, time_scale: float, delay: Timing, members: list[str]
                    ) -> list[AlarmDef]:
        """The alarm(s) a run evaluates: one, or one per member, at the run's time scale."""
        # CloudWatch evaluates every minute, or every 10 s for a 10 s or 30 s period
        every = 10.0 if self.period_s.value < 60 else 60.0
        base = AlarmDef(
            name=self.name, metric=series_of(self.metric).name, statistic=self.statistic,
            period_s=self.period_s.at(time_scale), evaluation_periods=self.evaluation_periods,
            datapoints_to_alarm=self.datapoints_to_alarm,
            threshold=self.scaled_threshold(time_scale), comparison=self.comparison,
            treat_missing_data=self.treat_missing_data, delay_s=delay.at(time_scale),
            every_s=every * time_scale,
            minus_metric=series_of(self.minus).name if self.minus is not None else None,
        )
        if not self.per_member:
            return [base]
        return [replace(base, name=f"{self.name}[{m}]", member=m) for m in members]

    def modelled(self, time_scale: float) -> list[ModelledSetting]:
        at = f"alarms.{self.name}"
        what = (f"{self.metric}" + (f" - {self.minus}" if self.minus else "")
                + f" {self.statistic} {self.comparison}, {self.datapoints_to_alarm} "
                f"of {self.evaluation_periods}, missing data {self.treat_missing_data}"
                + (", per instance/task" if self.per_member else ""))
        used = self.scaled_threshold(time_scale)
        return [
            ModelledSetting(at, what, what, False, self.source),
            ModelledSetting(f"{at}.period_s", self.period_s.value,
                            round(self.period_s.at(time_scale), 3), True, self.period_s.source),
            ModelledSetting(f"{at}.threshold", self.threshold, round(used, 6),
                            used != self.threshold,
                            "a count over a period scales with the period" if used != self.threshold
                            else self.source),
        ]


class Profile(_Strict):
    """One architecture's stack profile."""

    name: str
    description: str
    load_balancer: LoadBalancer
    app: App
    orchestrator: Orchestrator
    database: Database
    aws: Aws = Aws()
    metrics: MetricsSettings | None = None
    #: the CloudWatch alarms the era typically had (a scenario can override them)
    alarms: list[AlarmSpec] = Field(default_factory=list)
    #: how the era shipped a release (`type: deploy` in a scenario's timeline)
    deploy: Deploy | None = None
    #: auto scaling (harness.scaling); None = a fixed fleet of app.instances
    scaling: ScalingSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _periods_of_the_era(cls, data: Any) -> Any:
        """An alarm or scaling policy without a period_s takes the era's metrics.resolution_s."""
        if not isinstance(data, dict):
            return data
        metrics = data.get("metrics")
        resolution = metrics.get("resolution_s") if isinstance(metrics, dict) else None
        if not isinstance(resolution, dict) or "value" not in resolution:
            return data
        default = {"value": resolution["value"],
                   "source": f"metrics.resolution_s: {resolution.get('source', '')}"}
        data = dict(data)
        alarms = data.get("alarms")
        if isinstance(alarms, list):
            data["alarms"] = [{**a, "period_s": default} if isinstance(a, dict)
                              and "period_s" not in a else a for a in alarms]
        scaling = data.get("scaling")
        tracking = scaling.get("target_tracking") if isinstance(scaling, dict) else None
        if isinstance(tracking, dict) and "period_s" not in tracking:
            data["scaling"] = {**scaling, "target_tracking": {**tracking, "period_s": default}}
        return data

    @model_validator(mode="after")
    def _one_resolution(self) -> Profile:
        if self.metrics is None:
            return self
        for i, alarm in enumerate(self.alarms):
            problem = self.metrics.too_fine(alarm.metric, alarm.period_s.value)
            if problem is not None:
                raise ValueError(f"alarms[{i}] ({alarm.name}): {problem}")
        tracking = self.scaling.target_tracking if self.scaling is not None else None
        if tracking is not None:
            problem = self.metrics.too_fine(tracking.metric.value, tracking.period_s.value)
            if problem is not None:
                raise ValueError(f"scaling.target_tracking: {problem}")
        return self

    @model_validator(mode="after")
    def _alarms_need_metrics(self) -> Profile:
        if self.alarms and self.metrics is None:
            raise ValueError("alarms need a metrics: section (publication_delay_s)")
        names = [a.name for a in self.alarms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"alarms: the names {', '.join(dupes)} are used twice")
        if self.scaling is not None and not (
            self.scaling.min_capacity.value <= self.app.instances
            <= self.scaling.max_capacity.value
        ):
            raise ValueError(f"app.instances {self.app.instances} (the initial desired count) "
                             "is outside scaling.min_capacity..max_capacity")
        return self

    @model_validator(mode="after")
    def _health_check_fits_the_app(self) -> Profile:
        hc, app = self.load_balancer.health_check, self.app
        at = "load_balancer.health_check"
        served = HEALTH_PATHS[app.kind]
        paths = ", ".join(f"{p} {d}" for p, d in served.items())
        if hc.depth.value == "static" and (app.kind != "php" or app.command):
            raise ValueError(f"{at}.depth: static needs a page nginx serves without the app; "
                             f"only the sample PHP instance has one (this app's paths: {paths})")
        if hc.path is None or app.command:
            return self  # a TCP check; a team's own service, whose paths are its own
        path, depth = hc.path.value, hc.depth.value
        if path not in served:
            raise ValueError(f"{at}.path: the {app.kind} app does not serve {path}; "
                             f"its check paths: {paths}")
        if served[path] != depth:
            right = next(p for p, d in served.items() if d == depth)
            raise ValueError(f"{at}.depth: {path} on the {app.kind} app is a {served[path]} "
                             f"check, not {depth} (a {depth} check requests {right})")
        return self

    def alarm_definitions(self, time_scale: float) -> list[AlarmDef]:
        """Every alarm the run evaluates (per-member alarms expanded over app_names)."""
        if self.metrics is None:
            return []
        delay = self.metrics.publication_delay_s
        return [d for a in self.alarms for d in a.definitions(time_scale, delay, self.app_names)]

    @property
    def app_names(self) -> list[str]:
        return [f"app-{i}" for i in range(1, self.app.instances + 1)]

    @property
    def proxy(self) -> RdsProxySettings | None:
        """The RDS Proxy in front of the writer, if the profile has one."""
        return self.database.proxy if isinstance(self.database, AuroraSettings) else None

    @property
    def has_reader(self) -> bool:
        """Does the database have a reader replica (Aurora with a reader)?"""
        return isinstance(self.database, AuroraSettings) and self.database.reader.value

    @property
    def has_standby(self) -> bool:
        """Does the database have a Multi-AZ standby (RDS with multi_az)?"""
        return isinstance(self.database, RdsSettings) and self.database.multi_az.value

    @property
    def db_instances(self) -> list[tuple[str, str]]:
        """The database instances `Stack` starts, with their zones: (name, zone)."""
        names = ["db-writer"]
        if self.has_reader:
            names.append("db-reader")
        if self.has_standby:
            names.append("db-standby")
        zones = self.database.zones
        return [(name, zones[i % len(zones)]) for i, name in enumerate(names)]

    def zone_of(self, index: int) -> str:
        """Zone of the app instance with this 0-based index."""
        return self.app.zones[index % len(self.app.zones)]

    def modelled(self, time_scale: float) -> list[ModelledSetting]:
        """Every cited setting: its AWS value, the value this run uses, and its source."""
        rows = list(_walk(self, "", time_scale))
        limit = self.database.connection_limit()
        # derived, not cited in the file: the engine's rule for the instance class, scaled
        rows.append(ModelledSetting(MAX_CONNECTIONS_SETTING, limit.aws, limit.used, False,
                                    limit.source))
        return rows + [row for a in self.alarms for row in a.modelled(time_scale)]

    def app_connections(self, members: int) -> int | None:
        """Most connections `members` instances/tasks open to the writer; None = no bound."""
        each = self.app.connections_per_member()
        return None if each is None else each * members


#: the "what this run modelled" row of the database's connection limit (the report reads it)
MAX_CONNECTIONS_SETTING = "database.max_connections"


@dataclass(frozen=True)
class ModelledSetting:
    """One row of the report's "what this run modelled" table."""

    setting: str
    aws_value: float | int | bool | str
    used_value: float | int | bool | str
    #: True when the run multiplied the AWS value by its time scale
    scaled: bool
    source: str

    def to_json(self) -> dict[str, object]:
        return {
            "setting": self.setting, "aws_value": self.aws_value, "used_value": self.used_value,
            "scaled": self.scaled, "source": self.source,
        }


def _walk(model: BaseModel, prefix: str, time_scale: float) -> Iterator[ModelledSetting]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, Timing):
            yield ModelledSetting(
                path, value.value, round(value.at(time_scale), 3), True, value.source
            )
            if value.floor is not None:
                floor = value.floor
                yield ModelledSetting(
                    f"{path}.floor", floor.value, floor.value, False, floor.source
                )
        elif isinstance(value, Cited):
            yield ModelledSetting(path, value.value, value.value, False, value.source)
        elif isinstance(value, BaseModel):
            yield from _walk(value, f"{path}.", time_scale)


def stacks_root() -> Path:
    """The `stacks/` directory of the project (profiles, templates, apps)."""
    return Path(__file__).resolve().parents[2] / "stacks"


def available_profiles() -> list[str]:
    return sorted(p.parent.name for p in stacks_root().glob("*/profile.yaml"))


def profile_path(name_or_path: str) -> Path:
    """The profile file of an architecture name (`legacy`) or a path to a profile."""
    path = Path(name_or_path)
    if path.suffix:
        return path
    path = stacks_root() / name_or_path / "profile.yaml"
    if not path.exists():
        raise ProfileError(
            f"unknown architecture {name_or_path!r}; choose one of: "
            + ", ".join(available_profiles())
        )
    return path


def is_profile_file(path: Path) -> bool:
    """Does this YAML file look like a stack profile (rather than a scenario)?"""
    if path.name == "profile.yaml":
        return True
    try:
        head = path.read_text()[:4096]
    except OSError:
        return False
    head = f"\n{head}"
    return ("\nload_balancer:" in head and "\norchestrator:" in head) or "\nextends:" in head


def _read(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    raw, root = yamlfile.read(path, "stack profile", ProfileError)
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: a stack profile must be a mapping, got {type(raw).__name__}")
    return raw, root


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _has(raw: Any, loc: list[str]) -> bool:
    for key in loc:
        if not isinstance(raw, dict) or key not in raw:
            return False
        raw = raw[key]
    return True


@dataclass(frozen=True)
class _Source:
    """One YAML document that sets a profile's keys, for the line of an error."""

    file: str
    raw: dict[str, Any]
    node: yaml.Node | None
    #: where the profile sits inside the document: "" for a profile file,
    #: `variants.legacy#x.profile` for a scenario's variant
    at: str = ""

    def shown(self, field: str) -> str:
        """The field's path as this document spells it."""
        if not self.at:
            return field
        return self.at if field == "<top>" else f"{self.at}.{field}"


def _raw_profile(name_or_path: str) -> tuple[dict[str, Any], list[_Source]]:
    """A profile file's keys with its `extends:` base merged under them, and their sources."""
    path = profile_path(name_or_path)
    raw, root = _read(path)
    sources = [_Source(str(path), raw, root)]
    base_name = raw.pop("extends", None)
    if base_name is not None:
        if not isinstance(base_name, str) or Path(base_name).suffix:
            raise ProfileError(
                f"{path}:{yamlfile.line_of(root, 'extends')}: extends: name an architecture "
                f"({', '.join(available_profiles())}), not {base_name!r}"
            )
        base_path = profile_path(base_name)
        base, base_root = _read(base_path)
        if "extends" in base:
            raise ProfileError(
                f"{path}: extends: {base_name} extends another profile itself; "
                "extend a profile that stands alone"
            )
        _check_cited(raw, sources[0])
        sources.append(_Source(str(base_path), base, base_root))
        raw = _merge(base, raw)
    return raw, sources


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by architecture name (`legacy`) or path; raise ProfileError if bad.

    A profile may say `extends: <architecture>`: it is then that profile with this
    file's keys on top (mappings merged key by key), so a variant such as
    `modern-no-proxy` stays identical to its base except where it says otherwise.
    """
    raw, sources = _raw_profile(name_or_path)
    return _validated(raw, sources)


def profile_with(base: str, overrides: dict[str, Any], *, file: str, node: yaml.Node | None,
                 at: str) -> Profile:
    """The profile `base` with `overrides` (already read from another YAML file) on top.

    Merged key by key as `extends:` does, validated as a profile file is; an error names
    `file:line` through `node` (the file's node tree) and the field as `at.<path>`, e.g.
    `scenario.yaml:14: variants.legacy#x.profile.load_balancer.routing: ...`.
    """
    raw, sources = _raw_profile(base)
    own = _Source(file, overrides, node, at)
    _check_cited(overrides, own)
    return _validated(_merge(raw, overrides), [own, *sources])


def _check_cited(over: dict[str, Any], source: _Source, prefix: str = "") -> None:
    """A new `value` of a cited setting comes with its own source.

    Merged key by key, `{value: 3}` would keep the base's source, which cites the old figure.
    """
    for key, value in over.items():
        if not isinstance(value, dict):
            continue
        field = f"{prefix}{key}"
        if "value" in value and "source" not in value:
            shown = source.shown(field)
            line = yamlfile.line_of(source.node, shown)
            where = f"{source.file}:{line}" if line is not None else source.file
            raise ProfileError(
                f"{where}: {shown}: a new value needs its own source "
                '({value: ..., source: "where the figure comes from"}); '
                "the base profile's source cites its old value"
            )
        _check_cited(value, source, f"{field}.")


def _validated(raw: dict[str, Any], sources: list[_Source]) -> Profile:
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        # a misspelt key gives "extra" and "missing" errors: the misspelling says more
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        # the discriminated unions add the chosen member's tag to the path: drop it
        loc = [str(p) for p in first["loc"] if p not in _UNION_TAGS]
        field = ".".join(loc) or "<top>"
        # the document that sets the field (the variant's own keys first, then its base)
        source = next((s for s in sources if _has(s.raw, loc)), sources[0])
        shown = source.shown(field)
        line = yamlfile.line_of(source.node, shown)
        where = f"{source.file}:{line}" if line is not None else source.file
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = ("unknown key; check the spelling against stacks/legacy or stacks/modern"
                   if first["type"] == "extra_forbidden" else first["msg"])
        raise ProfileError(f"{where}: {shown}: {message}{more}") from None


_UNION_TAGS = {"asg", "ecs", "rds_mysql", "aurora_mysql"}
