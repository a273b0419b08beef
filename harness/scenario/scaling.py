"""A scenario's `scaling:` block: scheduled actions, the pre-scaling AWS advises before an event.

    scaling:
      target_value: 20                 # optional: the policies' target, on every architecture
      schedule:
        - at: doors-open-10s           # an offset (30s) or a phase plus an offset
          min: {legacy: 4, modern: 6}  # per architecture, or one number for all
        - at: cool-down
          min: {legacy: 2, modern: 3}

A count keyed by an architecture's label (`legacy#prescaled`) applies to that run only,
one keyed by a profile (`legacy`) to every run of it that has no label of its own in the
entry; so `architectures: [legacy, legacy#prescaled]` with `min: {legacy#prescaled: 4}`
shows what pre-scaling changes in one run, on the same machine.

Each entry is a scheduled action (EC2 Auto Scaling PutScheduledUpdateGroupAction,
Application Auto Scaling PutScheduledAction) with a new `min`, `max` and/or `desired`
count; a desired count outside the new bounds moves inside them. Times are the run's
own (seconds of the load, not AWS seconds): the scenario's timeline is already scaled.
An architecture whose profile has no `scaling:` section cannot be scheduled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ScenarioError
from harness.model.cited import Cited
from harness.model.profile import Profile
from harness.model.scaling import MAX_MEMBERS, ScheduledAction
from harness.scenario.faults import Start
from harness.scenario.labels import profile_of
from harness.scenario.workload import format_validation_error

Count = int | dict[str, int]


class ScheduleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    at: Start
    min: Count | None = None
    max: Count | None = None
    desired: Count | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _start(cls, value: object) -> Start:
        return value if isinstance(value, Start) else Start.parse(value)

    @field_validator("min", "max", "desired")
    @classmethod
    def _counts(cls, value: Count | None) -> Count | None:
        for n in ([value] if isinstance(value, int) else (value or {}).values()):
            if not 0 <= n <= MAX_MEMBERS:
                raise ValueError(f"{n} is not a count from 0 to {MAX_MEMBERS}")
        return value


class ScenarioScaling(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: list[ScheduleEntry] = Field(default_factory=list)
    #: the target tracking policy's target value on every architecture (the same for all:
    #: a team's own choice, e.g. a target a shared test machine can reach); None = profile's
    target_value: float | None = Field(None, gt=0)

    def applied(self, profile: Profile, source: str) -> Profile:
        """The profile with this scenario's target value (unchanged without one)."""
        scaling = profile.scaling
        if self.target_value is None or scaling is None or scaling.target_tracking is None:
            return profile
        tt = scaling.target_tracking
        target = Cited[float](value=self.target_value,
                              source=f"scenario {source}: scaling.target_value (the profile "
                              f"has {tt.target_value.value:g}: {tt.target_value.source})")
        tracking = tt.model_copy(update={"target_value": target})
        return profile.model_copy(update={
            "scaling": scaling.model_copy(update={"target_tracking": tracking})})

    def actions(self, arch: str, phases: Mapping[str, float]) -> list[ScheduledAction]:
        """The scheduled actions for one architecture (its label), in run seconds."""
        out = []
        for entry in self.schedule:
            counts = [_for(entry.min, arch), _for(entry.max, arch), _for(entry.desired, arch)]
            if all(c is None for c in counts):
                continue
            out.append(ScheduledAction(entry.at.resolve(phases), *counts))
        return out


def _for(count: Count | None, arch: str) -> int | None:
    if not isinstance(count, dict):
        return count
    return count.get(arch, count.get(profile_of(arch)))


def parse_scaling(raw: dict[str, Any], source: str) -> ScenarioScaling | None:
    """The `scaling:` block, or None when the scenario has none."""
    if not raw:
        return None
    try:
        return ScenarioScaling.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc, prefix="scaling")) from None


def check_scaling(scaling: ScenarioScaling, *, source: str, profiles: Mapping[str, Profile],
                  phases: Mapping[str, float], run_s: float) -> None:
    """Every entry names known phases and architectures that can scale, within the run."""
    for i, entry in enumerate(scaling.schedule):
        where = f"{source}: scaling.schedule[{i}]"
        if entry.at.phase is not None and entry.at.phase not in phases:
            raise ScenarioError(f"{where}.at: no phase {entry.at.phase!r}; phases: "
                                f"{', '.join(phases) or '-'}")
        at = entry.at.resolve(phases)
        if not 0 <= at < run_s:
            raise ScenarioError(f"{where}.at: {entry.at} ({at:g} s) is not within the run "
                                f"(0 to {run_s:g} s)")
        for key in ("min", "max", "desired"):
            named = getattr(entry, key)
            if isinstance(named, dict):
                known = set(profiles) | {profile_of(a) for a in profiles}
                unknown = sorted(set(named) - known)
                if unknown:
                    raise ScenarioError(f"{where}.{key}: {', '.join(unknown)} not among the "
                                        f"architectures ({', '.join(profiles)})")
        for arch, profile in profiles.items():
            if profile.scaling is None and scaling.actions(arch, phases):
                raise ScenarioError(f"{where}: the {arch} profile has no scaling: section, so "
                                    "nothing can be scheduled for it; add one or leave it out")
