"""A replayed scenario's `replayed_from:` block: what the original night was, for the report.

`harness replay` writes it beside the `series` phase that replays the log:

    replayed_from:
      phase: replay                 # the series phase that replays the log
      window: {start: "2025-11-28T20:00:00Z", end: "2025-11-28T20:10:00Z",
               chosen: the busiest 10m}
      scale: 3                      # the log's rates x 3
      compress: 1                   # N log seconds replayed in one, at their mean rate
      requests_per_journey: 2.3     # the series is journeys/s; x this = the log's requests/s
      files: 12
      lines: 1000000                # read; skipped: unreadable lines left out
      skipped: 3
      requests: 600000              # in the window, as logged (before scaling)
      status: {2xx: 590000, 3xx: 1000, 4xx: 8000, 5xx: 1000, other: 0}

Only counts, times and factors: no client address, user agent, query string or cookie.
The run records it with the log's requests per second as replayed (`ReplayedNight`), so
the report can set the original night beside the rehearsal without the rate file.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ScenarioError
from harness.scenario.workload import SeriesPhase, Workload, format_validation_error

StatusClass = Literal["2xx", "3xx", "4xx", "5xx", "other"]
#: the status classes of an access log, as `harness replay` counts them
STATUS_CLASSES: tuple[StatusClass, ...] = ("2xx", "3xx", "4xx", "5xx", "other")
KEY = "replayed_from"


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("give a finite number")
    return value


def _utc(value: datetime) -> datetime:
    # the load balancers log UTC; a time without a zone is taken as UTC, as `--from` does
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Utc = Annotated[datetime, AfterValidator(_utc)]


class ReplayWindow(_Model):
    """The stretch of the logs replayed: [start, end), and how it was chosen."""

    start: Utc
    end: Utc
    chosen: str = Field("", description='e.g. "the busiest 10m", "--from/--to"')

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


class ReplaySource(_Model):
    """Where a replayed scenario's traffic came from (`replayed_from:`)."""

    phase: str = Field(min_length=1, description="the series phase that replays the log")
    window: ReplayWindow
    scale: Annotated[float, AfterValidator(_finite)] = Field(
        gt=0, description="the log's rates were multiplied by this")
    compress: int = Field(1, ge=1, description="log seconds replayed in one, at their mean rate")
    requests_per_journey: Annotated[float, AfterValidator(_finite)] = Field(
        gt=0, description="the series is journeys per second; x this = requests per second")
    files: int = Field(ge=0, description="log files read")
    lines: int = Field(ge=0, description="log lines read")
    skipped: int = Field(0, ge=0, description="unreadable lines left out")
    requests: int = Field(ge=0, description="requests in the window, as logged (not scaled)")
    status: dict[StatusClass, Annotated[int, Field(ge=0)]] = Field(
        description="the window's requests by the status class the load balancer answered")

    def status_counts(self) -> dict[str, int]:
        """Every class, in order, 0 when the block leaves it out."""
        return {c: self.status.get(c, 0) for c in STATUS_CLASSES}

    def status_shares(self) -> dict[str, float]:
        """Each class's share of the window's requests with a status class (all 0: none)."""
        counts = self.status_counts()
        total = sum(counts.values())
        return {c: (n / total if total else 0.0) for c, n in counts.items()}


def parse_source(raw: Any, workload: Workload, source: str) -> ReplaySource | None:
    """The `replayed_from:` block checked against the workload; ScenarioError `file: key: what`."""
    if raw is None:
        return None
    try:
        block = ReplaySource.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc, KEY)) from None
    if block.window.end <= block.window.start:
        raise ScenarioError(f"{source}: {KEY}.window.end: {block.window.end:%Y-%m-%dT%H:%M:%SZ} "
                            f"is not after window.start; the window is [start, end)")
    phases = {p.name: p for p in workload.phases}
    phase = phases.get(block.phase)
    if not isinstance(phase, SeriesPhase):
        what = (f"phase {block.phase!r} is a {phase.shape} phase, not a series"
                if phase is not None else f"no phase named {block.phase!r}")
        series = [p.name for p in workload.phases if isinstance(p, SeriesPhase)]
        raise ScenarioError(f"{source}: {KEY}.phase: {what}; name the series phase that "
                            f"replays the log ({', '.join(series) or 'the workload has none'})")
    replayed = math.ceil(block.window.seconds / block.compress - 1e-9)
    if abs(phase.duration - replayed) > max(phase.bucket, 1.0) + 1e-9:
        raise ScenarioError(
            f"{source}: {KEY}.window: {block.window.seconds:g} s of log at compress "
            f"{block.compress} replay in {replayed} s, but phase {block.phase!r} lasts "
            f"{phase.duration:g} s; the block and the rate file come from different replays "
            "(run `harness replay` again, or remove the block)")
    return block


class ReplayedNight(_Model):
    """What run.json keeps of the original night: the block, and the log's rate as replayed."""

    source: ReplaySource
    start_s: float = Field(description="the series phase's start, from the start of the load")
    bucket_s: float = Field(gt=0, description="each rate's length in the run")
    requests_per_s: list[float] = Field(
        description="the log's requests per second x scale, one per bucket, as replayed "
        "(the series' journeys/s x requests_per_journey)")
    status_shares: dict[str, float] = Field(description="the original night's status mix")

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.requests_per_s) * self.bucket_s


def replayed_night(block: ReplaySource | None, workload: Workload) -> ReplayedNight | None:
    """The record of a scenario's replay source (None: the scenario replays no log)."""
    if block is None:
        return None
    windows = {name: start for name, start, _end in workload.phase_windows()}
    phase = next(p for p in workload.phases if p.name == block.phase)
    assert isinstance(phase, SeriesPhase)  # parse_source checked it
    per = block.requests_per_journey
    return ReplayedNight(
        source=block, start_s=windows[block.phase], bucket_s=phase.bucket,
        requests_per_s=[round(r * per, 4) for r in phase.rates],
        status_shares=block.status_shares())
