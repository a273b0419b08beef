"""Every fault type a scenario can name has exactly one implementation."""

from __future__ import annotations

import pytest

from harness.faults.base import REGISTRY, FaultType, implemented, register
from harness.scenario.faults import FAULT_TYPES


def test_every_scenario_fault_type_is_implemented() -> None:
    missing = sorted(set(FAULT_TYPES) - implemented())
    assert not missing, f"scenario fault types without an implementation: {missing}"


def test_no_implementation_of_a_type_scenarios_cannot_name() -> None:
    extra = sorted(implemented() - set(FAULT_TYPES))
    assert not extra, f"implemented fault types no scenario can name: {extra}"


def test_each_type_is_implemented_by_the_class_that_declares_it() -> None:
    implemented()
    for name, cls in REGISTRY.items():
        assert name in cls.types, f"{name} registered to {cls.__name__}, which does not declare it"


def test_a_second_implementation_of_a_type_is_refused() -> None:
    implemented()

    class AnotherKill(FaultType):
        types = ("kill",)

    with pytest.raises(TypeError, match="'kill' is implemented twice"):
        register(AnotherKill)
    assert REGISTRY["kill"].__name__ == "Kill"
