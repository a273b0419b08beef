"""The deploy section: how an era shipped a release (OpsWorks in place, CodeDeploy blue/green).

The deploy itself runs in harness.deploys; a scenario's deploy names a CodeDeploy
traffic-shifting configuration (`ShiftConfig`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from harness.model.cited import Cited, Strict, Timing

#: CodeDeploy's predefined ECS traffic-shifting configurations (harness.deploys.schedule)
ShiftConfig = Literal["AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery1Minute"]


class OpsWorksDeploy(Strict):
    """An in-place rolling deploy as OpsWorks Stacks ran it: instance by instance."""

    kind: Literal["opsworks"]
    #: instances updated at once (1 = one by one)
    batch_size: Cited[Annotated[int, Field(ge=1)]]
    #: the Deploy recipes' work on an instance before its app server picks up the release
    prepare_s: Timing
    #: how the app server picks up the release: reload = php-fpm's SIGUSR2
    php_fpm: Cited[Literal["reload"]]


class CodeDeployEcs(Strict):
    """An ECS blue/green deploy as CodeDeploy runs it: green task set, shift, wait, stop."""

    kind: Literal["codedeploy_ecs"]
    #: from the green task set's creation to its tasks running
    green_start_s: Timing
    #: CodeDeployDefault.ECSCanary10Percent5Minutes: from 10 % to 100 %
    canary_interval_s: Timing
    #: CodeDeployDefault.ECSLinear10PercentEvery1Minutes: between +10 % steps
    linear_interval_s: Timing
    #: from all traffic on green to the blue task set's termination
    termination_wait_s: Timing


Deploy = Annotated[OpsWorksDeploy | CodeDeployEcs, Field(discriminator="kind")]
