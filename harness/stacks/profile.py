"""Stack profiles: what each architecture is made of and how it behaves, as data.

`stacks/<arch>/profile.yaml` holds every default timing with the AWS document
it comes from, so users can change them. Times are real AWS figures in seconds;
the stack multiplies them by the run's `time_scale`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness import yamlfile
from harness.errors import ProfileError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthCheck(_Strict):
    """Load balancer target health check (AWS field names, seconds)."""

    path: str = "/ready"
    interval_s: float = Field(gt=0)
    timeout_s: float = Field(gt=0)
    healthy_threshold: int = Field(ge=1)
    unhealthy_threshold: int = Field(ge=1)


class LoadBalancer(_Strict):
    style: Literal["clb", "alb"]
    #: roundrobin (CLB) or leastconn (ALB "least outstanding requests")
    balance: Literal["roundrobin", "leastconn"]
    health_check: HealthCheck
    idle_timeout_s: float = Field(default=60, gt=0)
    #: connection draining / deregistration delay
    deregistration_delay_s: float = Field(default=0, ge=0)
    #: retries of a request whose connection to a target failed
    retries_on_connect_failure: int = Field(default=0, ge=0)


class PhpSettings(_Strict):
    max_children: int = Field(default=8, ge=1, le=256)
    nginx_workers: int = Field(default=1, ge=1, le=16)
    request_timeout_s: float = Field(default=30, gt=0)


class TaskLimits(_Strict):
    cpus: float | None = Field(default=None, gt=0)
    memory_mb: int | None = Field(default=None, ge=32)


class App(_Strict):
    kind: Literal["php", "go"]
    instances: int = Field(ge=1, le=16)
    #: availability zones the instances are spread over, round robin
    zones: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)
    php: PhpSettings = PhpSettings()
    limits: TaskLimits | None = None
    env: dict[str, str] = Field(default_factory=dict)


class Database(_Strict):
    #: a second MariaDB replicating from the writer (Aurora reader)
    reader: bool = False
    zones: list[str] = Field(default_factory=lambda: ["a", "b"], min_length=1)


class Aws(_Strict):
    queue: str = "orders"
    #: bucket for order receipts; None = no S3
    bucket: str | None = None


class Profile(_Strict):
    """One architecture's stack profile."""

    name: str
    description: str
    load_balancer: LoadBalancer
    app: App
    database: Database = Database()
    aws: Aws = Aws()
    #: free-form orchestrator timings (ASG, ECS, failover), read by the orchestrators
    orchestrator: dict[str, float | int | bool | str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_choices(self) -> Profile:
        kind = self.orchestrator.get("asg_health_check_type", "ELB")
        if kind not in ("ELB", "EC2"):
            raise ValueError(f"orchestrator.asg_health_check_type: {kind!r}: choose ELB or EC2")
        return self

    @property
    def app_names(self) -> list[str]:
        return [f"app-{i}" for i in range(1, self.app.instances + 1)]

    def zone_of(self, index: int) -> str:
        """Zone of the app instance with this 0-based index."""
        return self.app.zones[index % len(self.app.zones)]


def stacks_root() -> Path:
    """The `stacks/` directory of the project (profiles, templates, apps)."""
    return Path(__file__).resolve().parents[2] / "stacks"


def available_profiles() -> list[str]:
    return sorted(p.parent.name for p in stacks_root().glob("*/profile.yaml"))


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by architecture name (`legacy`) or path; raise ProfileError if bad."""
    path = Path(name_or_path)
    if not path.suffix:
        path = stacks_root() / name_or_path / "profile.yaml"
        if not path.exists():
            raise ProfileError(
                f"unknown architecture {name_or_path!r}; choose one of: "
                + ", ".join(available_profiles())
            )
    raw, _root = yamlfile.read(path, "stack profile", ProfileError)
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: a stack profile must be a mapping, got {type(raw).__name__}")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ProfileError(f"{path}: {field}: {first['msg']}{more}") from None
