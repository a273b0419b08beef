"""One architecture's stack profile: every section together, checked against each other.

The sections live in their own modules (balancer, app, orchestrator, database, deploy,
monitoring, scaling); reading a profile file is harness.model.profile_file.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import Field, model_validator

from harness.model.alarmdef import AlarmDef
from harness.model.app import App
from harness.model.balancer import HEALTH_PATHS, Depth, LoadBalancer
from harness.model.cited import ModelledSetting, Strict, modelled_settings
from harness.model.database import AuroraSettings, Database, RdsProxySettings, RdsSettings
from harness.model.deploy import Deploy
from harness.model.monitoring import AlarmSpec, MetricsSettings
from harness.model.orchestrator import Orchestrator
from harness.model.scaling import ScalingSettings

#: the variables the harness sets on every app member whatever the profile, in the order the
#: stack fills them (harness.stacks.components.apps.env); `Profile.harness_env` adds the
#: typed settings' and those of the profile's reader and bucket
BASE_ENV = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "AWS_ENDPOINT_URL",
            "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SQS_QUEUE_URL")
READER_ENV = ("DB_READER_HOST", "DB_READER_PORT")
BUCKET_ENV = "S3_BUCKET"
#: set on each member after `app.env` is filled (its name, its listen address and port), so
#: the same for no two members: an `app.env` value cannot name them
MEMBER_ENV = ("APP_NAME", "APP_LISTEN", "PORT")


def harness_reserved(name: str) -> bool:
    """Is `name` in the harness's own space, which a scenario's queue or bucket may not take?"""
    return name in ("SQS_QUEUE_URL", BUCKET_ENV) or name.startswith(("DB_", "AWS_"))


class Aws(Strict):
    """The AWS services the app uses besides its database (LocalStack here)."""

    queue: str = "orders"
    #: bucket for order receipts; None = no S3
    bucket: str | None = None


class Profile(Strict):
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
    def _paths_fit_the_app(self) -> Profile:
        """The app's readiness and liveness paths, and the LB check's path and depth.

        A sample service serves the paths of HEALTH_PATHS, each of a known depth. A team's
        own service (`app.command`) serves its own: its liveness path is shallow by what
        liveness means; any other path's depth is the profile's stated (cited) choice.
        """
        hc, app = self.load_balancer.health_check, self.app
        at = "load_balancer.health_check"
        served = own_paths(app) if app.command else HEALTH_PATHS[app.kind]
        paths = ", ".join(f"{p} {d}" for p, d in served.items()) or "none known"
        if hc.depth.value == "static" and (app.kind != "php" or app.command):
            raise ValueError(f"{at}.depth: static needs a page nginx serves without the app; "
                             f"only the sample PHP instance has one (this app's paths: {paths})")
        if not app.command:
            for name in ("health_path", "liveness_path"):
                path = getattr(app, name)
                if path not in served:
                    raise ValueError(
                        f"app.{name}: the {app.kind} app does not serve {path}; its paths: "
                        f"{paths} (a team's own service sets app.command)")
        if hc.path is None:
            return self  # a TCP check
        path, depth = hc.path.value, hc.depth.value
        if path not in served:
            if app.command:
                return self  # a path of the team's own, of the depth the profile states
            raise ValueError(f"{at}.path: the {app.kind} app does not serve {path}; "
                             f"its check paths: {paths}")
        if served[path] == depth:
            return self
        if app.command:
            raise ValueError(f"{at}.depth: {path} is the service's app.liveness_path (the "
                             f"process is alive), a {served[path]} check, not {depth}")
        right = next(p for p, d in served.items() if d == depth)
        raise ValueError(f"{at}.depth: {path} on the {app.kind} app is a {served[path]} "
                         f"check, not {depth} (a {depth} check requests {right})")

    def harness_env(self) -> tuple[str, ...]:
        """The variables the harness sets on every app member of this profile before
        `app.env` is filled: what `${NAME}` in an `app.env` value may name, besides the
        scenario's own queues and buckets (harness.scenario.own)."""
        app = self.app
        return (*BASE_ENV, *app.client.env(), *(app.db_pool.env() if app.db_pool else ()),
                *(READER_ENV if self.has_reader else ()),
                *((BUCKET_ENV,) if self.aws.bucket else ()))

    def env_reference_problem(self, name: str, own: Collection[str] | None) -> str | None:
        """What is wrong with `${name}` in an `app.env` value; None if it is known.

        `own`: the scenario's queue and bucket variables; None when the profile is read
        without its scenario, when only names in the harness's own space can be judged.
        """
        harness = self.harness_env()
        if name in harness or (own is not None and name in own):
            return None
        if name in MEMBER_ENV:
            return (f"${{{name}}} is set on each member after app.env is filled, so it cannot "
                    f"be mapped; read {name} itself in the service")
        if own is None and not harness_reserved(name):
            return None  # perhaps a scenario's queue or bucket: its scenario checks it
        known = ", ".join(sorted(harness))
        if own is not None:
            known += "; the scenario's own_service queues and buckets: " + (
                ", ".join(sorted(own)) or "none")
        fix = ("fix the name" if harness_reserved(name) else
               "fix the name, or give the scenario's own_service a queue or bucket of it")
        return (f"${{{name}}} is not a variable the harness sets on this stack; {fix}; "
                f"known: {known}")

    def alarm_definitions(self, time_scale: float) -> list[AlarmDef]:
        """Every alarm the run evaluates (per-member alarms expanded over app_names)."""
        if self.metrics is None:
            return []
        delay = self.metrics.publication_delay_s
        return [d for a in self.alarms for d in a.definitions(time_scale, delay, self.app_names)]

    @property
    def app_names(self) -> list[str]:
        """The initial fleet's members: app-1 .. app-<instances>."""
        return self.member_slots[: self.app.instances]

    @property
    def member_slots(self) -> list[str]:
        """Every member slot: the initial fleet, then the spares auto scaling may fill."""
        most = self.app.instances
        if self.scaling is not None:
            most = max(most, self.scaling.max_capacity.value)
        return [f"app-{i}" for i in range(1, most + 1)]

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
        rows = list(modelled_settings(self, "", time_scale))
        limit = self.database.connection_limit()
        # derived, not cited in the file: the engine's rule for the instance class, scaled
        rows.append(ModelledSetting(MAX_CONNECTIONS_SETTING, limit.aws, limit.used, False,
                                    limit.source))
        return rows + [row for a in self.alarms for row in a.modelled(time_scale)]

    def app_connections(self, members: int) -> int | None:
        """Most connections `members` instances/tasks open to the writer; None = no bound."""
        each = self.app.connections_per_member()
        return None if each is None else each * members


def own_paths(app: App) -> dict[str, Depth]:
    """The paths of a team's own service whose depth is known: its liveness path, shallow
    (the process answers, whatever its dependencies do), unless it is its readiness too."""
    if app.liveness_path == app.health_path:
        return {}
    return {app.liveness_path: "shallow"}


#: the "what this run modelled" row of the database's connection limit (the report reads it)
MAX_CONNECTIONS_SETTING = "database.max_connections"
