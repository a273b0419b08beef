"""The names of the app members a stack may have: app-1 .. app-<max>."""

from __future__ import annotations

from harness.model.profile import Profile


def member_slots(profile: Profile) -> list[str]:
    """Every member slot: the initial fleet, then the spares auto scaling may fill."""
    most = profile.app.instances
    if profile.scaling is not None:
        most = max(most, profile.scaling.max_capacity.value)
    return [f"app-{i}" for i in range(1, most + 1)]
