"""A shipped `prescaled-*` scenario is its base scenario plus a schedule: the same night.

The two files repeat their workload, faults and SLOs (a scenario has no `extends`); a
comparison of pre-scaled and not is only fair while those stay equal.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from harness.scenario.scenario import SCENARIOS_DIR

#: what a pre-scaled copy may set apart from its base (its variants are what-ifs of the same
#: night, not a different night)
OWN_KEYS = {"name", "description", "architectures", "scaling", "variants"}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / f"{name}.yaml").read_text())
    return data


@pytest.mark.parametrize("base", ["blackfriday", "surge"])
def test_the_prescaled_copy_differs_from_its_base_only_by_its_schedule(base: str) -> None:
    plain, prescaled = _load(base), _load(f"prescaled-{base}")
    assert prescaled.get("scaling", {}).get("schedule"), f"prescaled-{base} has no schedule"
    shared = (set(plain) | set(prescaled)) - OWN_KEYS
    differ = sorted(k for k in shared if plain.get(k) != prescaled.get(k))
    assert differ == [], f"prescaled-{base}.yaml and {base}.yaml differ in {differ}"
