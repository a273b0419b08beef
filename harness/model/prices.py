"""AWS list prices, each cited: what `harness.analysis.cost` turns a run's timeline into money with.

The table is `stacks/prices/us-east-1.yaml`: per price its value (or a value per
instance type or DB instance class: `by_size`), its unit, the AWS pricing page it
comes from, the date it was read and a note on how it was checked. A scenario
overrides prices by name (`prices: {ec2_instance_hour: 0.05}`: a discount, a Savings
Plan, another region); an override replaces the value for every size, and the report
marks the price overridden. Unknown names are errors that list the known ones.

A leaf like the rest of `model`: it reads YAML through `harness.yamlfile` and nothing
of the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from harness import yamlfile
from harness.errors import ProfileError
from harness.model.cited import Strict
from harness.model.profile_file import stacks_root

#: vCPUs of the DB instance classes (RDS User Guide, Hardware specifications for DB
#: instance classes): RDS Proxy charges per vCPU of the instances it fronts
DB_VCPUS: dict[str, int] = {
    "db.t3.small": 2, "db.t3.medium": 2, "db.t3.large": 2, "db.t4g.medium": 2,
    "db.t4g.large": 2, "db.m5.large": 2, "db.m5.xlarge": 4, "db.m5.2xlarge": 8,
    "db.r5.large": 2, "db.r5.xlarge": 4, "db.r5.2xlarge": 8,
    "db.r6g.large": 2, "db.r6g.xlarge": 4, "db.r6g.2xlarge": 8,
}

PRICES_FILE = "prices/us-east-1.yaml"

Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class PriceDef(Strict):
    """One price as the table file writes it."""

    unit: str = Field(min_length=1)
    #: one price for everything it applies to ...
    value: Money | None = None
    #: ... or one per instance type / DB instance class
    by_size: dict[str, Money] | None = None
    source: str = Field(pattern=r"^https://")
    #: when the figure was read (YYYY-MM-DD), or the year it is known as published
    read_on: str = Field(pattern=r"^\d{4}(-\d{2}-\d{2})?$")
    note: str = Field(min_length=8)

    @model_validator(mode="after")
    def _one_value(self) -> PriceDef:
        if (self.value is None) == (self.by_size is None):
            raise ValueError("give either value or by_size (a value per size), not both")
        return self


class PriceFile(Strict):
    region: str
    currency: str
    prices: dict[str, PriceDef]


@dataclass(frozen=True)
class Price:
    """One price as a figure uses it: the value for one size, and where it comes from."""

    name: str
    value: float
    unit: str
    source: str
    region: str
    read_on: str
    note: str
    #: the scenario's `prices:` set it; `note` then says what it replaced
    overridden: bool = False


@dataclass(frozen=True)
class PriceTable:
    """Every price of one region, with the scenario's overrides."""

    region: str
    currency: str
    defs: Mapping[str, PriceDef]
    overrides: Mapping[str, float]

    @property
    def names(self) -> list[str]:
        return sorted(self.defs)

    def price(self, name: str, size: str | None = None) -> Price | None:
        """The price `name` (for `size` when it is priced by size); None: not in the table."""
        d = self.defs.get(name)
        if d is None:
            return None
        listed = d.value if d.by_size is None else d.by_size.get(size or "")
        if name in self.overrides:
            was = "" if listed is None else f" (list price {listed:g})"
            return Price(name, self.overrides[name], d.unit, d.source, self.region, d.read_on,
                         f"overridden by the scenario's prices.{name}{was}; {d.note}", True)
        if listed is None:
            return None
        return Price(name, listed, d.unit, d.source, self.region, d.read_on, d.note)

    def sizes(self, name: str) -> list[str]:
        d = self.defs.get(name)
        return sorted(d.by_size) if d is not None and d.by_size else []

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceTable:
        """This table with `overrides` (checked: `check_overrides`) in force."""
        return PriceTable(self.region, self.currency, self.defs, dict(overrides))


def load_prices(path: Path | None = None) -> PriceTable:
    """The shipped price table (or the file at `path`); ProfileError names file and line."""
    path = path or stacks_root() / PRICES_FILE
    raw, root = yamlfile.read(path, "price table", ProfileError)
    try:
        parsed = PriceFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"]) or "<top>"
        raise ProfileError(yamlfile.add_lines(f"{path}: {at}: {first['msg']}", str(path),
                                              root)) from None
    return PriceTable(parsed.region, parsed.currency, parsed.prices, {})


def check_overrides(raw: Any, known: list[str], source: str) -> dict[str, float]:
    """A scenario's `prices:` block as {name: value}; ValueError `source: prices.x: what`.

    The message has the form `yamlfile.add_lines` turns into `file:line: prices.x: what`.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: prices: a mapping of price name to USD value, e.g. "
                         f"{{ec2_instance_hour: 0.05}}; known prices: {', '.join(known)}")
    checked: dict[str, float] = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"{source}: prices.{name}: no such price; known prices: "
                             f"{', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"{source}: prices.{name}: {value!r} is not a price; give a "
                             "number of USD per unit, 0 or more (the unit is the table's: "
                             f"{PRICES_FILE})")
        checked[str(name)] = float(value)
    return checked
