"""Pre-scaling ahead of a known event: each architecture's time to serve, from its cited
timings, and the shipped pre-scaled scenario scheduling each one at least that early."""

from __future__ import annotations

import pytest

from harness.model.profile_file import load_profile
from harness.scaling.lead import time_to_serve_s
from harness.scenario.scenario import load_scenario


def test_time_to_serve_is_the_launch_plus_the_checks_a_new_target_needs() -> None:
    # legacy: EC2 launch 150 s + 10 CLB checks x 30 s; modern: task 30 s + the one check a
    # newly registered ALB target needs (not the healthy threshold's 5)
    assert time_to_serve_s(load_profile("legacy"), 1.0) == pytest.approx(450.0)
    assert time_to_serve_s(load_profile("modern"), 1.0) == pytest.approx(60.0)
    assert time_to_serve_s(load_profile("legacy"), 0.1) == pytest.approx(45.0)
    assert time_to_serve_s(load_profile("modern"), 0.1) == pytest.approx(6.0)


def test_a_target_that_went_unhealthy_needs_the_full_healthy_threshold() -> None:
    check = load_profile("modern").load_balancer.health_check
    assert check.admission_s(1.0) == pytest.approx(30.0)
    assert check.admission_s(1.0, new=False) == pytest.approx(150.0)
    legacy = load_profile("legacy").load_balancer.health_check
    assert legacy.admission_s(0.1) == legacy.admission_s(0.1, new=False) == pytest.approx(30.0)


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_prescaled_surge_raises_each_minimum_early_enough_to_serve_the_surge(arch: str) -> None:
    scenario = load_scenario("prescaled-surge")
    assert scenario.scaling is not None
    phases = scenario.phase_starts
    profile = load_profile(arch)
    base = profile.app.instances
    raises = [a for a in scenario.scaling.actions(arch, phases)
              if a.min_capacity is not None and a.min_capacity > base]
    assert raises, f"no scheduled action raises the {arch} minimum above {base}"
    lead = phases["surge"] - min(a.at_s for a in raises)
    assert lead >= time_to_serve_s(profile, scenario.time_scale)


def test_prescaled_surge_adds_the_same_vcpu_on_both_sides() -> None:
    scenario = load_scenario("prescaled-surge")
    assert scenario.scaling is not None
    added = {}
    for arch in ("legacy", "modern"):
        profile = load_profile(arch)
        top = max(a.min_capacity or 0 for a in scenario.scaling.actions(arch,
                                                                        scenario.phase_starts))
        added[arch] = round((top - profile.app.instances) * profile.app.size.cpus.value, 4)
    assert added["legacy"] == added["modern"] > 0


@pytest.mark.parametrize("name", ["surge", "prescaled-surge"])
def test_the_surge_scenarios_track_the_profiles_cited_target(name: str) -> None:
    scaling = load_scenario(name).scaling
    assert scaling is None or scaling.target_value is None
