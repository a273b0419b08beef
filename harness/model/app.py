"""The app section: the sample service's fleet, sizes, clients and database connection pool.

Request-path client settings (timeouts, attempts) are cited but never scaled by the run's
time scale; `db_pool` is the service's side of the database's max_connections.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from harness.model.cited import Cited, Strict


class PhpSettings(Strict):
    #: php-fpm's fixed pool (pm = static): at most this many requests run at once on an
    #: instance, and each holds at most one database connection
    max_children: Cited[Annotated[int, Field(ge=1, le=256)]]
    nginx_workers: int = Field(default=1, ge=1, le=16)
    request_timeout_s: float = Field(default=30, gt=0)


PositiveSeconds = Annotated[float, Field(gt=0, le=600)]


class ClientSettings(Strict):
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


class DbPool(Strict):
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
    #: Go only: go-sql-driver/mysql's interpolateParams; false (its default) makes every query
    #: with arguments a server-side prepared statement, which pins an RDS Proxy session
    interpolate_params: Cited[bool] | None = None

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
        if self.interpolate_params is not None:
            env["DB_INTERPOLATE_PARAMS"] = "1" if self.interpolate_params.value else "0"
        return env


#: which DbPool settings each sample service honours
_POOL_FIELDS = {"php": ("persistent",),
                "go": ("max_open_conns", "max_idle_conns", "interpolate_params")}


#: a Fargate task's vCPU -> the memory sizes (GiB) it can have (ECS developer guide, Task
#: CPU and memory: 0.25 vCPU 0.5, 1 or 2 GB; 0.5 vCPU 1-4 GB; 1 vCPU 2-8 GB, 2 vCPU 4-16 GB
#: and 4 vCPU 8-30 GB by 1 GB; 8 vCPU 16-60 GB by 4 GB; 16 vCPU 32-120 GB by 8 GB)
FARGATE_MEMORY_GIB: dict[float, tuple[float, ...]] = {
    0.25: (0.5, 1.0, 2.0),
    0.5: (1.0, 2.0, 3.0, 4.0),
    1.0: tuple(float(g) for g in range(2, 9)),
    2.0: tuple(float(g) for g in range(4, 17)),
    4.0: tuple(float(g) for g in range(8, 31)),
    8.0: tuple(float(g) for g in range(16, 61, 4)),
    16.0: tuple(float(g) for g in range(32, 121, 8)),
}


class Size(Strict):
    """One instance's or task's CPU and memory, and the AWS size it stands for.

    Enforced through a cgroup per instance/task (a PHP instance's nginx and php-fpm
    share one); the run records what the kernel actually holds. The AWS size is cited
    as text (`aws_size`) and typed (`instance_type`, or `vcpu` and `memory_gib`, with
    `cpu_factor`): the event's cost is priced by the typed fields.
    """

    #: e.g. "Fargate task 0.5 vCPU / 1 GB", "EC2 t3.small"
    aws_size: Cited[str]
    cpus: Cited[Annotated[float, Field(gt=0, le=64)]]
    memory_mb: Cited[Annotated[int, Field(ge=64)]]
    #: an EC2 member: its instance type as the price list names it ("t3.small")
    instance_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
    #: a Fargate member: the task size (a pair FARGATE_MEMORY_GIB allows)
    vcpu: float | None = Field(default=None, gt=0)
    memory_gib: float | None = Field(default=None, gt=0)
    #: the share of the AWS size's CPU a member runs with here (`cpus` = AWS vCPU x this)
    cpu_factor: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _one_typed_aws_size(self) -> Size:
        fargate = (self.vcpu, self.memory_gib)
        if self.instance_type is not None and fargate != (None, None):
            raise ValueError("give instance_type (EC2) or vcpu and memory_gib (a Fargate "
                             "task), not both")
        if self.instance_type is not None and not re.search(
                rf"(?<![\w.-]){re.escape(self.instance_type)}(?![\w.-])", self.aws_size.value):
            raise ValueError(f"instance_type {self.instance_type} is not the size aws_size "
                             f"names ({self.aws_size.value!r}): make them agree")
        if self.vcpu is None and self.memory_gib is None:
            return self
        if self.vcpu is None or self.memory_gib is None:
            raise ValueError("a Fargate task size needs both vcpu and memory_gib, e.g. "
                             "vcpu: 0.5 and memory_gib: 1")
        allowed = FARGATE_MEMORY_GIB.get(self.vcpu)
        if allowed is None:
            raise ValueError(f"vcpu {self.vcpu:g} is not a Fargate task size; choose one of "
                             + ", ".join(f"{v:g}" for v in FARGATE_MEMORY_GIB))
        if self.memory_gib not in allowed:
            raise ValueError(f"memory_gib {self.memory_gib:g} is not a Fargate size for "
                             f"{self.vcpu:g} vCPU; choose one of "
                             + ", ".join(f"{g:g}" for g in allowed))
        if self.cpu_factor is not None and abs(
                self.vcpu * self.cpu_factor - self.cpus.value) > 1e-6:
            raise ValueError(f"cpus {self.cpus.value:g} is not vcpu {self.vcpu:g} x cpu_factor "
                             f"{self.cpu_factor:g} ({self.vcpu * self.cpu_factor:g}): make "
                             "them agree")
        return self


#: what `app.command`'s arguments may name: the member's port, its listen address, and
#: the harness's own Python (which has PyMySQL and boto3), for a service written in Python
COMMAND_PLACEHOLDERS = ("port", "host", "python")
#: `${DB_HOST}` in an `app.env` value: the harness's variable of that name, so a team's code
#: reads its own names (PAYMENTS_DB_HOST: ${DB_HOST}); filled in when the stack starts
ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


#: the image of a team's service whose command starts with `{python}` under the docker
#: runtime: Debian's python3 with Flask, PyMySQL and boto3 (stacks/docker/python.Dockerfile)
PYTHON_IMAGE = "harness/python:latest"
#: a container image reference, as `docker build -t` and `docker pull` take it:
#: [host[:port]/]path[:tag][@digest], path components in lower case
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    r"(?:(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
    r"[A-Za-z0-9])?)*(?::[0-9]+)?)/)?"
    rf"(?P<path>{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


#: variables the typed settings produce; a raw `app.env` must not set them behind their back
_TYPED_ENV = frozenset(
    {"DB_CONNECT_TIMEOUT_MS", "DB_QUERY_TIMEOUT_MS", "AWS_TIMEOUT_MS", "AWS_MAX_ATTEMPTS",
     "DB_PERSISTENT", "DB_MAX_OPEN_CONNS", "DB_MAX_IDLE_CONNS", "DB_INTERPOLATE_PARAMS"}
)


class App(Strict):
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
    #: are filled in; it also gets APP_LISTEN and PORT) and its image under the docker
    #: runtime
    command: list[str] | None = Field(default=None, min_length=1)
    #: the folder `command` runs in; a profile file (or scenario) that sets a command gets
    #: its own folder, so `./server.py` is the file beside it (harness.model.profile_file)
    workdir: str | None = None
    #: the container image of a team's service under the docker runtime (its `command` runs
    #: in it); default: `docker_image()`
    image: str | None = None
    #: readiness, "can serve traffic" (the sample services: the database answers): what
    #: the stack waits for on each instance/task it starts (a blue/green deploy's green
    #: tasks too) and through client->lb before it counts as up. Not the load balancer's
    #: target health check: that requests its own load_balancer.health_check.path, as on AWS
    health_path: str = Field(default="/ready", pattern=r"^/")
    #: liveness, "the process is alive" (answers without its dependencies): the command of
    #: the ECS container health check in the task definition, and what a deploy polls to
    #: see an instance/task answer as the new release
    liveness_path: str = Field(default="/health", pattern=r"^/")
    #: `file:line` of the setting that picks `docker_image()` (app.image, app.command or
    #: app.kind), set where the profile is read (harness.model.profile_file); None when
    #: the app was not read from a file
    _image_declared_at: str | None = PrivateAttr(default=None)
    #: seconds an instance/task may take to start: to be ready when the stack starts, and
    #: to answer its liveness path before a replacement or a new member is registered
    #: with the load balancer. The harness's patience, no AWS timing: NOT scaled by
    #: `time_scale` (a process does not start faster because the run shortens AWS's)
    start_timeout_s: float = Field(default=20, gt=0, le=600)

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

    @field_validator("command")
    @classmethod
    def _known_placeholders(cls, command: list[str] | None) -> list[str] | None:
        for i, arg in enumerate(command or []):
            try:
                names = [f for _, f, _, _ in string.Formatter().parse(arg) if f is not None]
            except ValueError as exc:
                raise ValueError(f"command[{i}] {arg!r}: {exc}; write {{{{ and }}}} for a "
                                 "literal brace") from None
            unknown = [n for n in names if n not in COMMAND_PLACEHOLDERS]
            if unknown:
                raise ValueError(f"command[{i}] {arg!r}: unknown placeholder {{{unknown[0]}}}; "
                                 f"known: {', '.join(f'{{{n}}}' for n in COMMAND_PLACEHOLDERS)}")
        return command

    @field_validator("image")
    @classmethod
    def _image_reference(cls, image: str | None) -> str | None:
        if image is not None and (len(image) > 255 or not IMAGE_REFERENCE.fullmatch(image)):
            raise ValueError(
                f"{image!r} is not an image reference; write [registry/]name[:tag] in lower "
                "case, e.g. payments:1.4 or registry.example.com/team/payments:1.4")
        return image

    @field_validator("env")
    @classmethod
    def _mapped_names(cls, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            rest = ENV_REFERENCE.sub("", value)
            if "${" in rest:
                raise ValueError(f"env.{key}: {value!r}: write a harness variable as "
                                 "${NAME} (upper case, digits, _), e.g. ${DB_HOST}")
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

    def docker_image(self) -> str:
        """The image the app runs in under the docker runtime.

        `image` when the profile sets one; else, for a team's command that starts with
        `{python}`, the harness's Python image (PYTHON_IMAGE); else the kind's image, as
        `make docker-setup` builds it (harness/php, harness/go).
        """
        if self.image:
            return self.image
        if self.command and self.command[0] == "{python}":
            return PYTHON_IMAGE
        # imported here: the components module reads profiles, which hold an App
        from harness.model.components import IMAGE_OF_KIND

        return f"harness/{IMAGE_OF_KIND[self.kind]}:latest"

    def image_setting(self) -> str:
        """The setting `docker_image()` comes from: app.image, app.command or app.kind."""
        if self.image:
            return "app.image"
        return "app.command" if self.command and self.command[0] == "{python}" else "app.kind"

    @property
    def image_declared_at(self) -> str | None:
        """`file:line` of `image_setting()`, where the profile was read from a file."""
        return self._image_declared_at

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
