"""What `harness capacity LABEL --mix MIX` measures: a profile, its traffic, and its set-up.

LABEL is an architecture (`modern`) or a variant of the `--mix` scenario
(`modern#payments`, harness.scenario.variants). MIX is an endpoint path (`/products`)
or a scenario: its journeys are the traffic, and its stack set-up is the one `harness
run` gives it (its own_service schema, seed, queues and buckets, its planted bug and
its data sizes), so a team's own service is measured on its own data.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import ConfigError
from harness.model.profile import Profile
from harness.model.profile_file import available_profiles, load_profile
from harness.scenario.labels import profile_of
from harness.scenario.scenario import Scenario
from harness.stacks.seed import SeedPlan

from .measure import Mix, is_endpoint, mix_of, read_scenario


@dataclass(frozen=True)
class Target:
    label: str
    profile: Profile
    mix: Mix
    #: the `--mix` scenario, whose stack set-up the stack gets; None for an endpoint path
    scenario: Scenario | None

    def seed_plan(self, seed: int) -> SeedPlan:
        """The sample shop's data at the sizes the traffic's ids run over."""
        data = self.mix.data
        return SeedPlan(seed=seed, products=data.get("products", 100),
                        events=data.get("events", 5))


def resolve(label: str, mix: str) -> Target:
    """The label's profile (the scenario's variant when it names one) and the traffic."""
    found = None if is_endpoint(mix) else read_scenario(mix)
    profile = _profile(label, found)
    return Target(label, profile, mix_of(mix, found), found)


def _profile(label: str, found: Scenario | None) -> Profile:
    known = available_profiles()
    variants = sorted(found.variants) if found is not None else []
    if found is not None and found.variant(label) is not None:
        return found.profile(label)
    if label in known:
        # read in the scenario: its app.env may name the scenario's queues and buckets
        return found.profile(label) if found is not None else load_profile(label)
    if "#" in label and profile_of(label) in known:
        where = (f"not a variant of {found.path} (its variants: {', '.join(variants) or 'none'})"
                 if found is not None else
                 "a variant label needs --mix naming the scenario that declares it")
        raise ConfigError(f"{label!r}: {where}")
    raise ConfigError(f"{label!r}: not an architecture; choose "
                      f"{', '.join([*known, *variants])}")
