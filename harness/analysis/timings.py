"""The pairs of timings that decide what each kind of fault does (harness.analysis.orderings).

One rule per kind of damage: a database outage (failover, restart, a cut edge), an app
gone (kill), an app hung (pause, a blackholed edge), AWS calls failing (throttling, 5xx),
a deploy watched by an alarm, and auto scaling. Each side of a pair is a `Term`: its name
(the profile setting, or how it is made of settings) and its seconds at AWS (time scale 1)
and in the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from harness.model.cited import Timing
from harness.model.database import AuroraSettings
from harness.model.deploy import CodeDeployEcs
from harness.model.monitoring import AlarmSpec
from harness.model.orchestrator import AsgSettings, EcsSettings
from harness.model.profile import Profile
from harness.scenario.faults import DbFailover, FaultSpec, Topology
from harness.scenario.faults import Deploy as DeployFault

#: the figures of a fault an ordering decides
Figure = Literal["errors", "recovery", "detection", "latency", "scaling"]

#: the AWS SDKs' retry back-off: 1 s before the first retry, doubling (the profiles cite it at
#: app.client.aws_max_attempts: AWS SDK for Go v2 "exponential back-off with full jitter from
#: 1 s"; AsyncAws "back-off 1 s x 2^n"); the upper bound is taken, jitter only shortens it
SDK_BACKOFF_BASE_S = 1.0
_WRITER = "db-writer"


@dataclass(frozen=True)
class Term:
    """One side of a pair: its name, seconds at AWS and seconds in the run."""

    name: str
    aws_s: float
    run_s: float

    def __add__(self, other: Term) -> Term:
        return Term(f"{self.name} + {other.name}", self.aws_s + other.aws_s,
                    self.run_s + other.run_s)

    def less(self, other: Term) -> Term:
        """The part of this term before `other` (never below 0): `a - b`."""
        return Term(f"{self.name} - {other.name}", max(0.0, self.aws_s - other.aws_s),
                    max(0.0, self.run_s - other.run_s))

    def times(self, n: int) -> Term:
        return Term(f"{n} x {self.name}", n * self.aws_s, n * self.run_s)

    def named(self, label: str) -> Term:
        """The same seconds under a name that says what they are: `label (how)`."""
        return Term(f"{label} ({self.name})", self.aws_s, self.run_s)


def _least(a: Term, b: Term) -> Term:
    return Term(f"min({a.name}, {b.name})", min(a.aws_s, b.aws_s), min(a.run_s, b.run_s))


@dataclass(frozen=True)
class Pair:
    """Two terms whose order decides `touches` of a fault, and what it decides."""

    a: Term
    b: Term
    touches: tuple[Figure, ...]
    decides: str


class Clock:
    """The profile's timings as terms at AWS and at the run's time scale."""

    def __init__(self, profile: Profile, time_scale: float) -> None:
        self.profile = profile
        self.scale = time_scale
        self.hc = profile.load_balancer.health_check

    def timing(self, name: str, timing: Timing) -> Term:
        return Term(name, timing.value, timing.at(self.scale))

    @staticmethod
    def fixed(name: str, seconds: float) -> Term:
        """A request-path figure: not scaled."""
        return Term(name, seconds, seconds)

    def run_time(self, name: str, run_s: float) -> Term:
        """Scenario time (a fault's duration): the run's seconds stand for run / scale at AWS."""
        return Term(name, run_s / self.scale, run_s)

    @property
    def interval(self) -> Term:
        return self.timing("load_balancer.health_check.interval_s", self.hc.interval_s)

    @property
    def eject(self) -> Term:
        return self.interval.times(self.hc.unhealthy_threshold.value).named("LB eject")

    @property
    def readmit(self) -> Term:
        return self.interval.times(self.hc.healthy_threshold.value).named("LB re-admit")

    @property
    def admit_new(self) -> Term:
        return self.interval.times(self.hc.initial_healthy_threshold.value).named(
            "LB admits a new target")

    @property
    def check_timeout(self) -> Term:
        return self.timing("load_balancer.health_check.timeout_s", self.hc.timeout_s)

    @property
    def deep_check(self) -> bool:
        """Does the LB's check reach the database (so a database outage fails every target)?"""
        return self.hc.depth.value == "deep"


# -- the rules, one per kind of damage --------------------------------------------------


def _failover(failover: Term, dns: Term, *, proxy: bool) -> Term:
    """A failover's outage: AWS's figure runs to the endpoint working again, its DNS change
    included, so the TTL is its last part (counted once, as the orchestrators do: the promotion
    at `failover - dns`, DNS clients at `failover`); RDS Proxy waits for no DNS record."""
    promoted = failover.less(dns)
    if proxy:
        return promoted
    # `failover` itself, unless a floor on the TTL outlasts it in the run
    return Term(failover.name, promoted.aws_s + dns.aws_s, promoted.run_s + dns.run_s)


def _db_outage(clock: Clock, *, planned: bool, target_down: bool) -> Term | None:
    """How long clients cannot reach the writer when it fails (None: no profile timing says).

    `target_down`: the instance it would fail over to is down too (restart in place).
    """
    db = clock.profile.database
    dns = clock.timing("database.dns_ttl_s", db.dns_ttl_s)
    if isinstance(db, AuroraSettings):
        if not db.reader.value or target_down:
            return None if planned else clock.timing("database.replica_restart_s",
                                                     db.replica_restart_s)
        # a planned failover restarts the same instances as a crash's (harness.stacks.
        # orchestrators.aurora), so it takes as long; with RDS Proxy the clients keep
        # their endpoint: no DNS record to wait for
        return _failover(clock.timing("database.failover_s", db.failover_s), dns,
                         proxy=clock.profile.proxy is not None)
    if not db.multi_az.value or target_down:
        return None if planned else clock.timing("database.restart_s", db.restart_s)
    return _failover(clock.timing("database.multi_az_failover_s", db.multi_az_failover_s),
                     dns, proxy=False)


def _read_outage_pairs(clock: Clock) -> list[Pair]:
    """Aurora restarts the reader it promotes: the reads it served fail until the promotion
    (`failover_s - dns_ttl_s`, harness.stacks.orchestrators.aurora); then the reader
    endpoint leads to the writer."""
    db = clock.profile.database
    if not (isinstance(db, AuroraSettings) and db.reader.value
            and db.failover_restarts_reader.value):
        return []
    restart = clock.timing("database.failover_s", db.failover_s).less(
        clock.timing("database.dns_ttl_s", db.dns_ttl_s)).named("the promoted reader restarts")
    query = clock.fixed("app.client.db_query_timeout_s",
                        clock.profile.app.client.db_query_timeout_s.value)
    return [Pair(restart, query, ("errors", "latency"),
                 "a read sent to the reader while it restarts for its promotion fails "
                 "(restart longer than the query timeout) or succeeds late")]


def _db_pairs(clock: Clock, outage: Term, *, writer: bool = True, proxy: bool = True
              ) -> list[Pair]:
    client = clock.profile.app.client
    query = clock.fixed("app.client.db_query_timeout_s", client.db_query_timeout_s.value)
    pairs = [
        Pair(outage, query, ("errors", "recovery"),
             "a query waiting on the database through the outage fails (outage longer than "
             "the query timeout) or succeeds late"),
        Pair(outage, clock.fixed("app.client.db_connect_timeout_s",
                                 client.db_connect_timeout_s.value), ("errors", "recovery"),
             "a connection opened during the outage times out (outage longer than the "
             "connect timeout) or is made late"),
    ]
    if writer and clock.deep_check:
        pairs += [
            Pair(outage, clock.eject, ("errors", "recovery", "detection"),
                 "the deep health check fails on every target while the database is out: "
                 "the load balancer ejects them all (outage longer than its eject window; "
                 "a CLB then answers 503, an ALB fails open) or none"),
            Pair(outage, clock.readmit, ("recovery",),
                 "ejected targets serve again only after the re-admit window: recovery waits "
                 "on the database (outage longer) or on the load balancer"),
        ]
    settings = clock.profile.proxy
    if writer and proxy and settings is not None:
        borrow = clock.timing("database.proxy.connection_borrow_timeout_s",
                              settings.connection_borrow_timeout_s)
        pairs += [
            Pair(outage, borrow, ("errors", "recovery"),
                 "RDS Proxy holds the queries waiting for the new writer (borrow timeout "
                 "longer than the outage) or fails them"),
            Pair(borrow, query, ("errors",),
                 "who gives up first on a query waiting for a pooled connection: RDS Proxy "
                 "(borrow timeout) or the client (query timeout)"),
        ]
    return pairs


def _kill_pairs(clock: Clock) -> list[Pair]:
    orch = clock.profile.orchestrator
    eject = clock.eject
    if isinstance(orch, EcsSettings):
        notice = clock.timing("orchestrator.task_stopped_notice_s", orch.task_stopped_notice_s)
        replaced = notice + clock.timing("orchestrator.task_replacement_s",
                                         orch.task_replacement_s)
        return [
            Pair(notice, eject, ("errors", "recovery"),
                 "the dead task leaves the load balancer when ECS has noticed it and "
                 "deregisters it, or earlier when the health checks eject it; until then "
                 "requests to it fail"),
            Pair(replaced, eject, ("recovery",),
                 "the replacement runs before the load balancer has ejected the dead target "
                 "or after it"),
        ]
    assert isinstance(orch, AsgSettings)
    notice = clock.timing("orchestrator.status_check_notice_s", orch.status_check_notice_s)
    # with ELB health checks the ASG also replaces what the load balancer ejects
    noticed = notice if orch.health_check_type.value == "EC2" else _least(notice, eject)
    launch = clock.timing("orchestrator.launch_s", orch.launch_s)
    pairs = [
        Pair(notice, eject, ("errors", "recovery"),
             "the dead instance leaves the load balancer when its health checks eject it, "
             "or earlier when the ASG notices its failed status check and deregisters it; "
             "until then requests to it fail"),
        Pair(noticed + launch, eject, ("recovery",),
             "the replacement runs before the load balancer has ejected the dead target "
             "or after it"),
    ]
    if orch.health_check_type.value == "ELB":
        pairs.append(Pair(
            clock.timing("orchestrator.health_check_grace_s", orch.health_check_grace_s),
            launch + clock.admit_new, ("recovery",),
            "with ELB health checks the ASG ignores a new instance's checks for the grace "
            "period: it covers the launch and the admission (grace longer), or the ASG "
            "replaces the replacement"))
    return pairs


def _hung_pairs(clock: Clock, duration: Term | None) -> list[Pair]:
    lb = clock.profile.load_balancer
    pairs = [
        Pair(clock.eject, clock.timing("load_balancer.idle_timeout_s", lb.idle_timeout_s),
             ("errors", "latency"),
             "the first requests sent to the hung target are still waiting when the load "
             "balancer ejects it (eject window shorter than the idle timeout), or have already "
             "failed with 504"),
        # AWS refuses a timeout of an interval or more; a floor on the timeout can outlast a
        # scaled interval, and HAProxy starts the next check only after the last one ended
        Pair(clock.check_timeout, clock.interval, ("detection", "recovery", "errors"),
             "a check of the hung target times out before the next one is due (timeout "
             "shorter than the interval, as AWS requires) or delays it, so the eject comes "
             "later than unhealthy_threshold x interval"),
    ]
    if duration is not None:
        pairs.append(Pair(duration, clock.eject, ("errors", "recovery"),
                          "the hung target is ejected (and must be re-admitted) or the hang "
                          "ends first"))
        orch = clock.profile.orchestrator
        if isinstance(orch, EcsSettings):
            check = orch.container_health_check
            give_up = clock.timing("orchestrator.container_health_check.interval_s",
                                   check.interval_s).times(check.retries.value).named(
                                       "ECS replaces an unhealthy task")
            pairs.append(Pair(duration, give_up, ("recovery",),
                              "ECS replaces the hung task (hang longer than its container "
                              "check's retries) or the task comes back by itself"))
    return pairs


def _aws_pairs(clock: Clock, duration: Term, *, blackhole: bool) -> list[Pair]:
    client = clock.profile.app.client
    attempts = client.aws_max_attempts.value
    backoff = SDK_BACKOFF_BASE_S * (2 ** (attempts - 1) - 1)
    name = f"SDK back-off over {attempts} attempts (from {SDK_BACKOFF_BASE_S:g} s, doubling)"
    sdk = clock.fixed(name, backoff)
    if blackhole:
        sdk = clock.fixed(f"{attempts} x app.client.aws_timeout_s",
                          attempts * client.aws_timeout_s.value) + sdk
    return [Pair(duration, sdk, ("errors", "latency"),
                 "the SDK retries a failed AWS call: a fault shorter than its retries is "
                 "ridden out (slow successes), a longer one fails calls")]


def _quickest_alarm(profile: Profile, name: str | None) -> AlarmSpec | None:
    alarms = [a for a in profile.alarms if name is None or a.name == name]
    if not alarms:
        return None
    return min(alarms, key=lambda a: a.period_s.value * a.datapoints_to_alarm)


def _alarm_term(clock: Clock, alarm: AlarmSpec) -> Term | None:
    metrics = clock.profile.metrics
    if metrics is None:
        return None
    period = clock.timing("period_s", alarm.period_s)
    return (period.times(alarm.datapoints_to_alarm) + clock.timing(
        "metrics.publication_delay_s", metrics.publication_delay_s)).named(
            f"alarm {alarm.name} goes off")


def _deploy_pairs(clock: Clock, spec: DeployFault) -> list[Pair]:
    deploy = clock.profile.deploy
    alarm = _quickest_alarm(clock.profile, spec.rollback_alarm)
    fires = _alarm_term(clock, alarm) if alarm is not None else None
    if deploy is None or fires is None:
        return []
    if isinstance(deploy, CodeDeployEcs):
        pairs = []
        step = {"Canary10Percent5Minutes": ("deploy.canary_interval_s", deploy.canary_interval_s),
                "Linear10PercentEvery1Minute": ("deploy.linear_interval_s",
                                                deploy.linear_interval_s)}.get(spec.config)
        if step is not None:
            pairs.append(Pair(fires, clock.timing(*step), ("errors", "detection"),
                              "the alarm goes off while only the first 10 % of traffic is on "
                              "the release (alarm quicker than the step) or after more has "
                              "shifted"))
        pairs.append(Pair(fires, clock.timing("deploy.termination_wait_s",
                                              deploy.termination_wait_s),
                          ("errors", "detection"),
                          "the alarm can still roll the deploy back before the old task set "
                          "is terminated, or cannot"))
        return pairs
    batches = math.ceil(clock.profile.app.instances / deploy.batch_size.value)
    rollout = clock.timing("deploy.prepare_s", deploy.prepare_s).times(batches).named(
        "in-place deploy of every instance")
    return [Pair(fires, rollout, ("errors", "detection"),
                 "an alarm goes off before every instance has the release (someone paged can "
                 "stop it) or after")]


def scaling_pairs(clock: Clock) -> list[Pair]:
    scaling = clock.profile.scaling
    if scaling is None or scaling.target_tracking is None:
        return []
    orch = clock.profile.orchestrator
    launch = (clock.timing("orchestrator.launch_s", orch.launch_s)
              if isinstance(orch, AsgSettings)
              else clock.timing("orchestrator.task_replacement_s", orch.task_replacement_s))
    cooldown = clock.timing("scaling.target_tracking.scale_out_cooldown_s",
                            scaling.target_tracking.scale_out_cooldown_s)
    return [Pair(launch + clock.admit_new, cooldown, ("scaling",),
                 "a scale-out's members serve before its cooldown ends (the next decision "
                 "sees their effect) or after it")]


def fault_pairs(clock: Clock, spec: FaultSpec, topology: Topology) -> list[Pair]:
    """The pairs that decide what one fault does (the latency pair aside)."""
    try:
        targets = topology.resolve(spec)
    except ValueError:
        return []
    duration = (None if spec.duration_s is None
                else clock.run_time("the fault's duration", spec.duration_s))
    apps = [t for t in targets if t.startswith("app-")]
    kind = spec.type
    pairs: list[Pair] = []
    if isinstance(spec, DbFailover):
        outage = _db_outage(clock, planned=spec.mode == "planned", target_down=False)
        pairs += _db_pairs(clock, outage) if outage is not None else []
        pairs += _read_outage_pairs(clock)
    elif kind in ("kill", "az_outage"):
        if _WRITER in targets:
            standby = {n for n, _ in clock.profile.db_instances} - {_WRITER}
            target_down = bool(standby & set(targets))
            outage = _db_outage(clock, planned=False, target_down=target_down)
            pairs += _db_pairs(clock, outage) if outage is not None else []
            pairs += [] if target_down else _read_outage_pairs(clock)
        pairs += _kill_pairs(clock) if apps else []
    elif kind == "pause":
        if _WRITER in targets and duration is not None:
            pairs += _db_pairs(clock, duration)
        pairs += _hung_pairs(clock, duration) if apps else []
    elif kind in ("down", "timeout") and duration is not None:
        edges = set(targets)
        if edges & {"app->db", "app->db-reader"}:
            # through the edge: the apps lose the writer (or the proxy) or the reader
            pairs += _db_pairs(clock, duration, writer="app->db" in edges, proxy=False)
        if any(e.startswith("lb->") for e in edges):
            pairs += (_hung_pairs(clock, duration) if kind == "timeout" else
                      [Pair(duration, clock.eject, ("errors", "recovery"),
                            "the unreachable target is ejected (and must be re-admitted) or "
                            "the fault ends first")])
        if "app->aws" in edges:
            pairs += _aws_pairs(clock, duration, blackhole=kind == "timeout")
    elif kind in ("aws_throttle", "aws_errors") and duration is not None:
        pairs += _aws_pairs(clock, duration, blackhole=False)
    elif isinstance(spec, DeployFault):
        pairs += _deploy_pairs(clock, spec)
    return pairs
