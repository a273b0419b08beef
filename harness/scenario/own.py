"""A scenario's `own_service:` block: a team's own data and their own checks.

    own_service:
      sample_shop: false            # keep the sample shop's tables, seed and checks beside
                                    # yours; default: false with `schema:`, true without
      schema: [db/schema.sql]       # SQL files (relative to this file), run on the writer
      seed: {command: [./seed.sh], timeout: 2m}   # or a command (cwd: this file's folder)
      queues: [payments, {name: refunds.fifo, env: REFUNDS_QUEUE_URL}]
      buckets: [invoices]
      invariants:
        - name: no_negative_balance
          description: no account's balance below zero
          sql: SELECT id, balance FROM accounts WHERE balance < 0
          expect: no_rows           # or {value: 0}, {value: 100, op: ">="}, {rows: 3}

The schema and seed run on the database writer before any load, schema first, each
once per architecture (the same for both: their data does not depend on the era).
SQL files are split into statements as the `mariadb` client splits them (`DELIMITER`
included) and sent one at a time, so an error names the file and line. A command gets
the writer in the environment variables `MIGRATION_ENV` names, as an account that may
change the schema (the app's account may only read and write rows).

Each queue and bucket is created in LocalStack before the apps start; the apps get a
queue's URL in `SQS_QUEUE_URL_<NAME>` and a bucket's name in `S3_BUCKET_<NAME>`
(`NAME`: the name upper-cased, every other character `_`) unless `env:` names another
variable. Each invariant is one read-only query (SELECT or WITH) run on the writer after
the drain; a query that fails is a failed invariant with the database's message.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from harness.errors import ScenarioError
from harness.model.profile import Profile, harness_reserved
from harness.scenario import sqltext
from harness.scenario.workload import Duration, format_validation_error

#: what a schema or seed command finds in its environment (besides the harness's own):
#: the writer's direct address (no fault proxy), an account allowed to change the schema,
#: the database, the same as a URL, and the run's seed
MIGRATION_ENV = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "DATABASE_URL",
                 "HARNESS_SEED")
#: the built-in checks' names (harness.analysis.invariants): an own check may not take one
BUILTIN_INVARIANTS = frozenset(
    {f"{kind}s_{check}" for kind in ("order", "reservation")
     for check in ("lost", "unexpected", "duplicate_keys", "recovered")}
    | {"orders_missing_from_queue", "stock_below_zero", "stock_conserved", "seats_oversold",
       "seats_conserved"}
)
Op = Literal["==", "!=", "<", "<=", ">", ">="]
_NAME = r"^[A-Za-z][A-Za-z0-9_.-]*$"
_ENV = r"^[A-Z_][A-Z0-9_]*$"
_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z]+)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _command(value: Any) -> Any:
    """`"./migrate --all"` -> ["./migrate", "--all"] (split as a shell splits, never run by one)."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}; quote it as a shell would") from None
    return value


class _Step(_Strict):
    files: list[str] | None = Field(None, min_length=1)
    command: Annotated[list[str] | None, BeforeValidator(_command)] = Field(None, min_length=1)
    timeout: Duration = Field(300.0, gt=0, description="for a command; then it is stopped")

    @model_validator(mode="after")
    def _one_form(self) -> _Step:
        if (self.files is None) == (self.command is None):
            raise ValueError("give either files: [...] (SQL files) or command: [...]")
        if self.files is not None and "timeout" in self.model_fields_set:
            raise ValueError("timeout: only a command has one; SQL files have none")
        return self


def _files_shorthand(value: Any) -> Any:
    if isinstance(value, list):
        return {"files": value}
    if isinstance(value, str):
        raise ValueError(f"{value!r}: write a list of SQL files ([{value}]) or "
                         "{command: [...]} for a command")
    return value


Step = Annotated[_Step, BeforeValidator(_files_shorthand)]


def _named(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def env_name(prefix: str, name: str) -> str:
    """A queue's or bucket's default variable: `refunds.fifo` -> SQS_QUEUE_URL_REFUNDS_FIFO."""
    return prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Queue(_Strict):
    #: SQS: up to 80 letters, digits, - and _; a FIFO queue's name ends in .fifo
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+(\.fifo)?$", max_length=80)
    env: str | None = Field(None, pattern=_ENV)

    @property
    def variable(self) -> str:
        return self.env or env_name("SQS_QUEUE_URL_", self.name)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


class Bucket(_Strict):
    #: S3: 3-63 lower-case letters, digits, dots and hyphens
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    env: str | None = Field(None, pattern=_ENV)

    @property
    def variable(self) -> str:
        return self.env or env_name("S3_BUCKET_", self.name)


class Expect(_Strict):
    """What an invariant's query must give: a number of rows, or one value."""

    rows: int | None = Field(None, ge=0)
    value: float | None = None
    op: Op = "=="

    @model_validator(mode="after")
    def _one_kind(self) -> Expect:
        if (self.rows is None) == (self.value is None):
            raise ValueError("give either rows: N (how many rows) or value: N (the one value "
                             "the query selects)")
        return self

    @property
    def text(self) -> str:
        """'no rows', 'rows >= 3', 'value == 0'."""
        if self.rows is not None:
            return "no rows" if (self.rows, self.op) == (0, "==") else f"rows {self.op} {self.rows}"
        return f"value {self.op} {self.value:g}"

    def holds(self, measured: float) -> bool:
        """Does a row count or value meet the expectation?"""
        target = float(self.rows if self.rows is not None else self.value or 0.0)
        return {"==": measured == target, "!=": measured != target, "<": measured < target,
                "<=": measured <= target, ">": measured > target, ">=": measured >= target}[self.op]


def _expect(value: Any) -> Any:
    if value == "no_rows":
        return {"rows": 0}
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} is not an expectation; write no_rows, {{value: N}} or "
                         "{rows: N}, with op: ==, !=, <, <=, > or >= when not ==")
    if isinstance(value, dict) and isinstance(value.get("value"), bool):
        raise ValueError("value: a number, not true/false")
    return value


class SqlInvariant(_Strict):
    """One named query run on the writer after the drain, and what it must give."""

    name: str = Field(pattern=_NAME, max_length=64)
    description: str = Field(min_length=1, description="one line, shown in the report")
    sql: str = Field(min_length=1, description="one SELECT (or WITH ... SELECT)")
    expect: Annotated[Expect, BeforeValidator(_expect)]


class _Block(_Strict):
    sample_shop: bool | None = None
    schema_: Step | None = Field(None, alias="schema")
    seed: Step | None = None
    queues: list[Annotated[Queue, BeforeValidator(_named)]] = Field(default_factory=list)
    buckets: list[Annotated[Bucket, BeforeValidator(_named)]] = Field(default_factory=list)
    invariants: list[SqlInvariant] = Field(default_factory=list)


@dataclass(frozen=True)
class SqlFile:
    path: Path
    statements: tuple[sqltext.Statement, ...]


@dataclass(frozen=True)
class DataStep:
    """A schema or seed step: SQL files (read when validated) or a command."""

    #: `schema` or `seed`, for errors and log file names
    key: str
    files: tuple[SqlFile, ...] = ()
    command: tuple[str, ...] | None = None
    #: a command's working directory: the scenario file's folder
    cwd: Path = Path(".")
    timeout_s: float = 300.0


@dataclass(frozen=True)
class OwnService:
    """The validated block."""

    #: the sample shop's schema, seed and built-in checks are kept beside the team's
    sample_shop: bool
    schema: DataStep | None = None
    seed: DataStep | None = None
    queues: tuple[Queue, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    invariants: tuple[SqlInvariant, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the apps get besides the harness's: each queue's and bucket's."""
        return (*(q.variable for q in self.queues), *(b.variable for b in self.buckets))


def parse_own(raw: Any, source: str, *, base_dir: Path) -> OwnService | None:
    """The scenario's `own_service:` block, validated, its SQL files read and split.

    Errors are ScenarioError lines `source: own_service.<path>: what`; a problem inside an
    SQL file adds the file and its line.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: own_service: a mapping (schema:, seed:, queues:, "
                            "buckets:, invariants:)")
    try:
        block = _Block.model_validate(raw)
    except ValidationError as exc:
        # the shared hint names the workload's schema, which says nothing of this block
        raise ScenarioError(format_validation_error(source, exc, prefix="own_service").replace(
            " (see scenarios/workload.schema.json)", "")) from None
    steps = {key: _step(key, getattr(block, attr), raw.get(key), source, base_dir)
             for key, attr in (("schema", "schema_"), ("seed", "seed"))}
    _unique(source, "queues", [q.name for q in block.queues], [q.variable for q in block.queues])
    _unique(source, "buckets", [b.name for b in block.buckets],
            [b.variable for b in block.buckets])
    clash = {q.variable for q in block.queues} & {b.variable for b in block.buckets}
    if clash:
        raise ScenarioError(f"{source}: own_service.buckets: variable {sorted(clash)[0]} is a "
                            "queue's too; give one of them another env:")
    names: set[str] = set()
    for i, inv in enumerate(block.invariants):
        where = f"{source}: own_service.invariants[{i}]"
        if inv.name in names:
            raise ScenarioError(f"{where}.name: {inv.name!r} appears twice; names are unique")
        if inv.name in BUILTIN_INVARIANTS:
            raise ScenarioError(f"{where}.name: {inv.name!r} is a built-in invariant's name; "
                                "choose another")
        names.add(inv.name)
        _check_query(inv.sql, f"{where}.sql")
    return OwnService(
        sample_shop=block.sample_shop if block.sample_shop is not None else steps["schema"] is None,
        schema=steps["schema"], seed=steps["seed"], queues=tuple(block.queues),
        buckets=tuple(block.buckets), invariants=tuple(block.invariants),
    )


def _step(key: str, step: _Step | None, raw: Any, source: str, base_dir: Path
          ) -> DataStep | None:
    if step is None:
        return None
    if step.command is not None:
        return DataStep(key, command=tuple(step.command), cwd=base_dir, timeout_s=step.timeout)
    assert step.files is not None
    at = f"own_service.{key}" if isinstance(raw, list) else f"own_service.{key}.files"
    files = []
    for i, name in enumerate(step.files):
        path = base_dir / name
        if not path.is_file():
            raise ScenarioError(f"{source}: {at}[{i}]: {path} is not a file; a relative path "
                                "is taken from the scenario file's folder")
        try:
            files.append(SqlFile(path, tuple(sqltext.read(path))))
        except ValueError as exc:
            raise ScenarioError(f"{source}: {at}[{i}]: {exc}") from None
    return DataStep(key, files=tuple(files), cwd=base_dir)


def _unique(source: str, key: str, names: list[str], variables: list[str]) -> None:
    for what, values in (("name", names), ("variable", variables)):
        for i, value in enumerate(values):
            if value in values[:i]:
                raise ScenarioError(f"{source}: own_service.{key}[{i}]: {what} {value} appears "
                                    "twice" + ("; give one of them env:" if what == "variable"
                                               else ""))
        if what == "variable":
            for i, value in enumerate(values):
                if harness_reserved(value):
                    raise ScenarioError(f"{source}: own_service.{key}[{i}].env: {value} is one "
                                        "the harness sets itself; choose another name")


def _check_query(sql: str, where: str) -> None:
    try:
        statements = sqltext.split(sql)
    except sqltext.SqlTextError as exc:
        raise ScenarioError(f"{where}: line {exc.line} of the query: {exc.message}") from None
    if len(statements) != 1:
        raise ScenarioError(f"{where}: one statement, not {len(statements)}; an invariant is "
                            "one SELECT")
    first = _FIRST_WORD.match(_strip_comments(statements[0].text))
    if first is None or first.group(1).upper() not in ("SELECT", "WITH"):
        raise ScenarioError(f"{where}: an invariant only reads: write a SELECT (or WITH ... "
                            "SELECT)")


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/|--[ \t][^\n]*|#[^\n]*", " ", text, flags=re.DOTALL)


def check_own(own: OwnService | None, *, profiles: dict[str, Profile], bug: str | None,
              source: str) -> None:
    """The block against the architectures it runs on: the sample services need the shop."""
    if own is None or own.sample_shop:
        return
    if bug is not None:
        raise ScenarioError(f"{source}: bug: a planted bug is the sample services', which "
                            "need the sample shop; remove bug: or set own_service.sample_shop: "
                            "true")
    for arch, profile in profiles.items():
        if profile.app.command is None:
            raise ScenarioError(
                f"{source}: own_service.sample_shop: {arch} runs the sample service (its "
                "profile has no app.command), which needs the sample shop's tables; set "
                "own_service.sample_shop: true to keep them beside yours, or run your app")
