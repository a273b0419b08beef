"""How far ahead of a known event a scheduled action must run for its members to serve.

AWS's own pre-scaling runs ahead of the time capacity is needed by the time resources
take to be provisioned (EC2 Auto Scaling API, PredictiveScalingConfiguration
SchedulingBufferTime: "The intention is to give resources time to be provisioned. It can
take a few minutes to launch an EC2 instance"). A scheduled action is the same promise
made by hand: a member it adds serves only after the orchestrator's launch time (an EC2
instance's `launch_s`, a task's `task_replacement_s`) and the checks the load balancer
wants from a newly registered target (`initial_healthy_threshold`: the CLB's 10, the
ALB's one). The lead is the profile's own figures at the run's time
scale, so a scenario can be checked against each architecture's cited timings.
"""

from __future__ import annotations

from harness.model.orchestrator import AsgSettings
from harness.model.profile import Profile


def time_to_serve_s(profile: Profile, time_scale: float) -> float:
    """Run seconds from a scale-out request to the new member getting traffic."""
    orchestrator = profile.orchestrator
    launch = (orchestrator.launch_s if isinstance(orchestrator, AsgSettings)
              else orchestrator.task_replacement_s)
    return launch.at(time_scale) + profile.load_balancer.health_check.admission_s(time_scale)
