"""A cited setting and an AWS timing: the building blocks of every profile section.

`stacks/<arch>/profile.yaml` holds every behaviour that differs between the
architectures (or that AWS documents) as a *cited* setting: `{value: ..., source:
"..."}`, so a user sees where each figure comes from and can change it, and the
report can print "what this run modelled" (`ModelledSetting`). Timings (`Timing`) are
AWS control-plane figures in seconds; a run multiplies them by its `time_scale`. Client
settings on the request path (timeouts of the services' DB and AWS clients) are not
scaled: a query does not get faster because health checks do.

Every section is a strict model: an unknown key is an error with file and line,
never a silent default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Strict(BaseModel):
    """A profile section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Strict, Generic[T]):
    """A modelled behaviour with the document (or stated assumption) it comes from."""

    value: T
    #: where the figure comes from: an AWS document, or "assumption: ..." saying why
    source: str = Field(min_length=8)


class Timing(Strict):
    """An AWS timing in seconds, with its source; a run uses `value * time_scale`."""

    value: float = Field(ge=0)
    source: str = Field(min_length=8)
    #: never below this many seconds at any time scale, with why: a timing that bounds the
    #: request path (an idle timeout) must stay above the services' own timeouts, as on AWS
    floor: Cited[Annotated[float, Field(ge=0)]] | None = None

    def at(self, time_scale: float) -> float:
        """Seconds at this run's time scale (not below the floor, if any)."""
        scaled = self.value * time_scale
        return max(scaled, self.floor.value) if self.floor is not None else scaled


#: the time scales a run accepts: 1000 times faster than AWS to 10 times slower
TIME_SCALE_MIN, TIME_SCALE_MAX = 0.001, 10.0


def check_time_scale(value: float) -> float:
    """The one check of a time scale, wherever it is set (a scenario's `time_scale:`,
    `--time-scale`, HARNESS_TIME_SCALE); ValueError says what is wrong, the caller where."""
    if not TIME_SCALE_MIN <= value <= TIME_SCALE_MAX:  # NaN too
        raise ValueError(f"time scale {value:g} is out of range; "
                         f"use {TIME_SCALE_MIN:g} to {TIME_SCALE_MAX:g} (1 = AWS timings)")
    return value


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


def modelled_settings(model: BaseModel, prefix: str, time_scale: float
                      ) -> Iterator[ModelledSetting]:
    """A row for every cited setting and timing in `model` and its sections."""
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
            yield from modelled_settings(value, f"{path}.", time_scale)

