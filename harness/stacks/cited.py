"""A cited setting and an AWS timing: the building blocks of every stack profile section.

Kept apart from `profile.py` so that sections defined elsewhere (auto scaling in
`harness.scaling.settings`) use the same types without importing the whole profile.
"""

from __future__ import annotations

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
