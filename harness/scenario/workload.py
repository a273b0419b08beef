"""The workload part of a scenario: journeys, load phases in arrivals per second, seed, limits.

A scenario is data: these models know no processes. The top-level Scenario
model embeds `Workload`; `load_workload_file()` is for the places that read a
workload on its own (`harness load --phases FILE`).

Durations are written like "30s", "2m", "500ms" (a bare number is seconds);
rates like "200/s" or "6000/m" (a bare number is per second).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from harness import yamlfile
from harness.errors import ScenarioError
from harness.scenario.ratefile import read_rates
from harness.scenario.units import DURATION_PATTERN, parse_duration

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|m|h))?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_rate(value: Any) -> float:
    """'200/s' / '6000/m' / 50 -> arrivals per second; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("a rate is a number of arrivals per second or a string like '200/s'")
    if isinstance(value, int | float):
        rate = float(value)
    elif isinstance(value, str) and (m := _RATE.match(value)):
        rate = float(m.group(1)) / _UNIT_S[m.group(2)]
    elif isinstance(value, str) and value.strip().startswith("-"):
        raise ValueError(f"{value!r}: a rate cannot be negative")
    else:
        raise ValueError(f"{value!r} is not a rate; write e.g. '200/s', '6000/m' or a number")
    if not math.isfinite(rate):  # .nan, .inf, or hundreds of digits
        raise ValueError(f"{value!r:.24} is not a rate; write e.g. '200/s', '6000/m' or a number")
    if rate < 0:
        raise ValueError(f"{value!r}: a rate cannot be negative")
    return rate


#: seconds, parsed from "30s" / "2m" / "500ms" / a number
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": DURATION_PATTERN},
            ],
            "examples": ["30s", "2m", "500ms"],
        }
    ),
]
#: arrivals per second, parsed from "200/s" / "6000/m" / a number
Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _RATE.pattern},
            ],
            "examples": ["200/s", "6000/m"],
        }
    ),
]

JourneyName = Literal["browse", "checkout", "ticket_rush", "get"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Journey(_Model):
    """How often a journey is chosen and how long its user thinks between requests."""

    weight: float = Field(1.0, gt=0, description="relative share of arrivals")
    think_time: Duration = Field(0.0, description="pause between the journey's requests")
    path: str | None = Field(
        None, description="only for `get`: the path requested (default: the target URL's path)"
    )


class _Phase(_Model):
    #: True: each segment gets exactly its arrivals (rounded), not a Poisson count of them
    exact_counts: ClassVar[bool] = False

    name: str = Field(min_length=1, description="how SLOs and reports refer to this phase")
    duration: Duration = Field(description="length of the phase")
    at: Duration | None = Field(
        None,
        description="start offset from the start of the load; default: the previous phase's end",
    )

    def segments(self) -> list[tuple[float, float, float]]:
        """(length s, rate at start, rate at end) pieces, linear in between."""
        raise NotImplementedError


class ConstantPhase(_Phase):
    """The same arrival rate for the whole phase."""

    shape: Literal["constant"]
    rate: Rate

    def segments(self) -> list[tuple[float, float, float]]:
        return [(self.duration, self.rate, self.rate)]


class RampPhase(_Phase):
    """Arrival rate changes linearly from `from` to `to`."""

    shape: Literal["ramp"]
    from_rate: Rate = Field(alias="from")
    to_rate: Rate = Field(alias="to")

    def segments(self) -> list[tuple[float, float, float]]:
        return [(self.duration, self.from_rate, self.to_rate)]


class SpikePhase(_Phase):
    """`base` rate, jumping at once to `peak` at `peak_at` for `peak_for`, then back to `base`."""

    shape: Literal["spike"]
    base: Rate
    peak: Rate
    peak_at: Duration = Field(0.0, description="offset of the jump within the phase")
    peak_for: Duration = Field(description="how long the peak lasts")

    @model_validator(mode="after")
    def _peak_inside(self) -> SpikePhase:
        if self.peak_at + self.peak_for > self.duration + 1e-9:
            raise ValueError(
                f"peak_at + peak_for ({self.peak_at + self.peak_for:g} s) is longer than "
                f"the phase ({self.duration:g} s); shorten the peak or lengthen the phase"
            )
        return self

    def segments(self) -> list[tuple[float, float, float]]:
        after = self.duration - self.peak_at - self.peak_for
        pieces = [
            (self.peak_at, self.base, self.base),
            (self.peak_for, self.peak, self.peak),
            (after, self.base, self.base),
        ]
        return [p for p in pieces if p[0] > 0]


class StepPhase(_Phase):
    """`steps` equal plateaus from `from` to `to` (both included)."""

    shape: Literal["step"]
    from_rate: Rate = Field(alias="from")
    to_rate: Rate = Field(alias="to")
    steps: int = Field(
        ge=2, description="number of plateaus, the first at `from`, the last at `to`"
    )

    def segments(self) -> list[tuple[float, float, float]]:
        length = self.duration / self.steps
        delta = (self.to_rate - self.from_rate) / (self.steps - 1)
        return [
            (length, self.from_rate + i * delta, self.from_rate + i * delta)
            for i in range(self.steps)
        ]


class SeriesPhase(_Phase):
    """A recorded rate series replayed bucket by bucket (`harness replay` writes one).

    Each bucket gets exactly its arrivals (rate x bucket; fractions carried over so the
    running total never drifts by a whole arrival), so both architectures are offered
    the recorded shape second by second; where they fall inside the bucket follows the
    workload's `arrivals` (poisson: seeded random times, uniform: even gaps).
    """

    exact_counts: ClassVar[bool] = True

    shape: Literal["series"]
    rates: list[Rate] = Field(
        min_length=1, description="arrivals per second in each bucket, in order"
    )
    file: Path | None = Field(
        None, exclude=True,
        description="instead of `rates`: a file with one rate a line (`#` lines skipped), "
        "relative to the scenario file",
    )
    bucket: Duration = Field(1.0, gt=0, description="length of each rate's bucket")
    duration: Duration = Field(
        0.0, description="may be left out: the number of rates x bucket"
    )

    @model_validator(mode="before")
    @classmethod
    def _rates_and_length(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("file") is not None:
            if data.get("rates") is not None:
                raise ValueError("give `rates` or `file`, not both")
            base = (info.context or {}).get("base_dir")
            path = Path(str(data["file"]))
            data["rates"] = read_rates(path if base is None else Path(base) / path)
        elif data.get("rates") is None:
            raise ValueError("a series needs `rates: [...]` (arrivals per second of each "
                             "bucket) or `file:` (one rate a line)")
        if "duration" not in data and isinstance(data["rates"], list):
            try:
                bucket = parse_duration(data.get("bucket", 1.0))
            except ValueError:
                return data  # the field's own check names the problem
            data["duration"] = len(data["rates"]) * bucket
        return data

    @model_validator(mode="after")
    def _length_matches(self) -> SeriesPhase:
        length = len(self.rates) * self.bucket
        if abs(self.duration - length) > 1e-6 * max(1.0, length):
            raise ValueError(
                f"duration ({self.duration:g} s) is not the series' length ({len(self.rates)} "
                f"rates x {self.bucket:g} s = {length:g} s); leave `duration` out"
            )
        return self

    def segments(self) -> list[tuple[float, float, float]]:
        return [(self.bucket, rate, rate) for rate in self.rates]


Phase = Annotated[
    ConstantPhase | RampPhase | SpikePhase | StepPhase | SeriesPhase,
    Field(discriminator="shape"),
]


class Timeouts(_Model):
    """Per-request client timeouts."""

    connect: Duration = Field(2.0, description="TCP connect timeout")
    read: Duration = Field(10.0, description="time to wait for the response")

    @model_validator(mode="after")
    def _positive(self) -> Timeouts:
        if self.connect <= 0 or self.read <= 0:
            raise ValueError("timeouts must be longer than 0 s")
        return self


class ShopData(_Model):
    """The ids the journeys use; the defaults match harness.stacks.seed.SeedPlan."""

    products: int = Field(100, ge=1, description="product ids are 1..products")
    events: int = Field(5, ge=1, description="event ids are 1..events")


class Locustfile(_Model):
    """A team's own locustfile, run as written (closed model) and recorded like our journeys.

    With a `LoadTestShape` class in the file, the shape sets the users and spawn rate
    over time as in Locust: its run time (`get_run_time()`) starts with the load, so
    second N of the shape is second N of the load, of the fault timeline and of the
    SLO windows. `users` and `spawn_rate` are then left out (Locust ignores -u and -r
    with a shape). `duration` is the load's planned length, the window fault times
    and SLOs are checked against: a shape whose tick() returns None ends the load
    then (`harness validate` refuses a duration longer than a shape it can follow to
    its end), and one still running at `duration` is stopped there, as Locust's
    --run-time stops a shape.
    """

    path: Path = Field(description="relative to the scenario file")
    user_classes: list[str] = Field(default_factory=list, description="default: every User in it")
    users: int | None = Field(
        None, ge=1,
        description="concurrent users; required unless the locustfile has a LoadTestShape "
        "class, which sets them over time (then leave it out)",
    )
    spawn_rate: float = Field(
        10.0, gt=0,
        description="users started per second; leave out with a LoadTestShape, whose tick() "
        "gives it",
    )
    duration: Duration = Field(
        gt=0,
        description="how long the users run, from the start of the load: the window fault "
        "times and SLOs refer to; a LoadTestShape's tick() returning None ends the load "
        "(it must not end before this), and a shape still running here is stopped",
    )
    # Locust's own default (0) kills users mid-request: the server saw those requests and
    # the record would not; k6's gracefulStop makes the same choice the other way
    stop_timeout: Duration = Field(
        10.0, ge=0,
        description="at the end, how long a user may finish its task in flight before it is "
        "killed (Locust's --stop-timeout); a request killed unanswered is not recorded",
    )


class Workload(_Model):
    """What traffic a rehearsal sends: seeded open-model arrivals, or a team's locustfile."""

    seed: int = Field(1, description="same seed -> same arrival times and journey choices")
    arrivals: Literal["poisson", "uniform"] = Field(
        "poisson", description="poisson: random gaps at the phase's rate; uniform: even gaps"
    )
    journeys: dict[JourneyName, Journey] = Field(default_factory=dict)
    phases: list[Phase] = Field(default_factory=list)
    max_concurrency: int = Field(
        1000, ge=1, description="journeys in flight at once; arrivals beyond it are dropped"
    )
    late_after: Duration = Field(
        0.05, description="an arrival started later than this after its time counts as late"
    )
    timeouts: Timeouts = Timeouts.model_validate({})
    data: ShopData = ShopData.model_validate({})
    locustfile: Locustfile | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        if self.locustfile is not None:
            if self.phases or self.journeys:
                raise ValueError(
                    "a workload with a locustfile runs its users as written; "
                    "remove `phases` and `journeys` (or remove `locustfile`)"
                )
            return self
        if not self.phases:
            raise ValueError("no phases: add at least one, e.g. {name: main, shape: constant, ...}")
        if not self.journeys:
            raise ValueError("no journeys: add e.g. journeys: {browse: {weight: 1}}")
        for name, journey in self.journeys.items():
            if journey.path is not None and name != "get":
                raise ValueError(f"journeys.{name}.path: only the `get` journey takes a path")
        self._check_phase_times()
        return self

    def _check_phase_times(self) -> None:
        names: set[str] = set()
        end = 0.0
        previous = ""
        for phase in self.phases:
            if phase.name in names:
                raise ValueError(f"phase name {phase.name!r} is used twice; names must be unique")
            names.add(phase.name)
            start = end if phase.at is None else phase.at
            if start < end - 1e-9:
                raise ValueError(
                    f"phase {phase.name!r} starts at {start:g} s, before phase {previous!r} "
                    f"ends ({end:g} s): phases overlap; move `at` or shorten {previous!r}"
                )
            end = start + phase.duration
            previous = phase.name

    def phase_windows(self) -> list[tuple[str, float, float]]:
        """(name, start s, end s) of every phase, offsets from the start of the load."""
        if self.locustfile is not None:
            return [("main", 0.0, self.locustfile.duration)]
        windows = []
        end = 0.0
        for phase in self.phases:
            start = end if phase.at is None else phase.at
            end = start + phase.duration
            windows.append((phase.name, start, end))
        return windows

    @property
    def duration(self) -> float:
        """Seconds from the first arrival window to the end of the last phase."""
        return self.phase_windows()[-1][2]


def format_validation_error(source: str, exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: `file: key.path: message`."""
    lines = []
    for problem in exc.errors():
        path = _key_path(prefix, problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        given = problem.get("input")
        if problem["type"] == "extra_forbidden":
            message = "unknown key; check the spelling (see scenarios/workload.schema.json)"
        elif problem["type"] == "literal_error" and "[key]" in problem["loc"]:
            message = "unknown name; " + message.replace("Input should be", "expected")
        elif problem["type"] == "literal_error" and isinstance(given, str):
            message = f"{given!r}: {message}"
        lines.append(f"{source}: {path or '<top>'}: {message}")
    return "; ".join(lines)


def _key_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """('phases', 0, 'constant', 'rate') -> 'phases[0].rate' (the union's tag is noise)."""
    path = prefix
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]" or (i > 0 and isinstance(loc[i - 1], int) and part in _SHAPES):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


_SHAPES = ("constant", "ramp", "spike", "step", "series")


def load_workload(
    data: Any, source: str, prefix: str = "", base_dir: Path | None = None
) -> Workload:
    """Validate parsed YAML into a Workload; ScenarioError (exit 2) naming file and field.

    `base_dir` is the folder of the file `data` came from: a series phase's `file:` is
    read from there (and inlined as `rates`).
    """
    try:
        return Workload.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc, prefix)) from None


def load_workload_file(path: Path) -> Workload:
    """Read a workload from a YAML file (a top-level `workload:` key is accepted too)."""
    data, _root = yamlfile.read(path, "workload", ScenarioError)
    prefix = ""
    if isinstance(data, dict) and "workload" in data:
        data, prefix = data["workload"], "workload"
    return with_locustfile_from(
        load_workload(data, str(path), prefix, base_dir=path.parent), path.parent
    )


def with_locustfile_from(workload: Workload, base_dir: Path) -> Workload:
    """The workload with its locustfile path made absolute, relative to `base_dir`.

    Done once, where the file naming the locustfile is read: the path then travels
    as it is to the generator processes, whatever their working directory.
    """
    if workload.locustfile is None:
        return workload
    resolved = (base_dir / workload.locustfile.path).resolve()
    return workload.model_copy(
        update={"locustfile": workload.locustfile.model_copy(update={"path": resolved})}
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a workload, as written to scenarios/workload.schema.json."""
    schema = Workload.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "harness workload"
    return schema


SCHEMA_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "workload.schema.json"


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    # `python -m harness.scenario.workload` regenerates the schema; a unit test checks it.
    SCHEMA_FILE.write_text(schema_text())
    print(f"wrote {SCHEMA_FILE}")
