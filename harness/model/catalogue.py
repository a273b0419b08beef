"""The metrics the harness records, and the CloudWatch names that stand for them.

One recorded series per idea; each era's CloudWatch name maps onto it, so a legacy
alarm on the CLB's `HTTPCode_Backend_5XX` and a modern one on the ALB's
`HTTPCode_Target_5XX_Count` read the same measurement (5xx answered by a target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: what one recorded series measures
Kind = Literal["gauge", "count", "distribution"]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    kind: Kind
    #: one series per instance/task (dimension InstanceId / TaskId) or one for the group
    per_member: bool
    description: str
    #: published at the era's monitoring resolution (profile `metrics.resolution_s`: EC2
    #: basic monitoring every 5 minutes, detailed every minute; ECS every minute); every
    #: other metric here is published every minute whatever the monitoring (ELB, EC2 status
    #: checks, Auto Scaling group and Aurora metrics)
    follows_monitoring: bool = False


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("CPUUtilization", "Percent", "gauge", True,
           "CPU used by the instance's/task's processes, % of its vCPU size",
           follows_monitoring=True),
    Metric("MemoryUtilization", "Percent", "gauge", True,
           "memory used by the instance/task, % of its memory size"),
    Metric("StatusCheckFailed", "Count", "gauge", True,
           "1 while the instance/task in this slot is not running (crashed, killed, "
           "being replaced), else 0"),
    Metric("RunningTaskCount", "Count", "gauge", False,
           "instances/tasks running (ASG GroupInServiceInstances, ECS RunningTaskCount)"),
    Metric("DesiredTaskCount", "Count", "gauge", False, "instances/tasks desired"),
    Metric("InServiceCount", "Count", "gauge", False,
           "instances/tasks the load balancer holds in service (passed its healthy threshold)"),
    Metric("LaunchingCount", "Count", "gauge", False,
           "instances/tasks auto scaling launched that are not in service yet"),
    Metric("HealthyHostCount", "Count", "gauge", False,
           "registered targets the load balancer's health check holds healthy"),
    Metric("UnHealthyHostCount", "Count", "gauge", False,
           "registered targets the load balancer's health check holds unhealthy"),
    Metric("RequestCount", "Count", "count", True,
           "requests the load balancer sent to a target (per target; Sum over targets = all)"),
    Metric("HTTPCode_Target_5XX_Count", "Count", "count", False,
           "5xx answers a target sent back through the load balancer"),
    Metric("HTTPCode_ELB_5XX_Count", "Count", "count", False,
           "5xx the load balancer made itself (no target, refused, reset, timed out)"),
    Metric("TargetResponseTime", "Seconds", "distribution", False,
           "per request: from the load balancer sending it to the target's answer"),
    Metric("ReplicaLag", "Milliseconds", "gauge", False,
           "the reader's replication lag (Seconds_Behind_Master); no datapoint without a "
           "replicating reader"),
)}

#: CloudWatch names (as each era's console and docs spell them) -> the recorded series
ALIASES: dict[str, str] = {
    "HTTPCode_Backend_5XX": "HTTPCode_Target_5XX_Count",  # CLB
    "HTTPCode_ELB_5XX": "HTTPCode_ELB_5XX_Count",  # CLB
    "Latency": "TargetResponseTime",  # CLB
    "GroupInServiceInstances": "RunningTaskCount",  # ASG group metric
    "AuroraReplicaLag": "ReplicaLag",  # Aurora
}

#: every name an alarm may use
MetricName = Literal[
    "CPUUtilization", "MemoryUtilization", "StatusCheckFailed", "RunningTaskCount",
    "DesiredTaskCount", "InServiceCount", "LaunchingCount", "HealthyHostCount",
    "UnHealthyHostCount", "RequestCount",
    "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "TargetResponseTime", "ReplicaLag",
    "HTTPCode_Backend_5XX", "HTTPCode_ELB_5XX", "Latency", "GroupInServiceInstances",
    "AuroraReplicaLag",
]


def series_of(name: str) -> Metric:
    """The recorded series behind a CloudWatch metric name (KeyError if unknown)."""
    return METRICS[ALIASES.get(name, name)]


def follows_monitoring(name: str) -> bool:
    """Is a CloudWatch metric published at the era's monitoring resolution?

    A name outside the catalogue (a policy's RequestCountPerTarget, from the load balancer)
    is published every minute.
    """
    metric = METRICS.get(ALIASES.get(name, name))
    return metric is not None and metric.follows_monitoring
