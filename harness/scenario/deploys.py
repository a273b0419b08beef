"""Checks of a scenario's deploys against an architecture, before anything starts."""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import ScenarioError
from harness.model.profile import Profile
from harness.scenario.faults import Deploy, FaultSpec


def check_deploys(faults: Sequence[FaultSpec], *, profile: Profile, arch: str,
                  alarm_names: Sequence[str], source: str) -> None:
    """Every deploy needs the profile's `deploy:` section; a rollback alarm must exist.

    The rollback alarm is CodeDeploy's (modern); an OpsWorks deploy (legacy) has no
    automatic rollback and ignores it, so there it need not name one of its alarms.
    """
    problems: list[str] = []
    for i, fault in enumerate(faults):
        if not isinstance(fault, Deploy):
            continue
        where = f"{source}: faults[{i}]"
        if profile.deploy is None:
            problems.append(f"{where}.type: the {arch} profile has no `deploy:` section to "
                            "deploy with; add one (see stacks/legacy/profile.yaml)")
            continue
        alarm = fault.rollback_alarm
        if alarm is not None and profile.deploy.kind == "codedeploy_ecs" and (
                alarm not in alarm_names):
            problems.append(
                f"{where}.rollback_alarm: {arch} has no alarm {alarm!r}; name one of its "
                f"alarms ({', '.join(alarm_names) or 'none'}) or add it under `alarms:`")
    if problems:
        raise ScenarioError("; ".join(problems))
