"""The load balancer section: routing, draining, and the target health check that admits a target.

CLB-style (legacy), ALB-style (modern) or NLB-style (modern-nlb: a TCP listener that
parses no HTTP), with AWS's field names; what a health check proves (its depth) is
checked against the sample services' paths.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from harness.model.cited import Cited, Strict, Timing

#: what a passing check proves: `shallow` the process answers; `deep` it reaches its
#: dependencies (the database), so a shared dependency's failure fails every target at
#: once; `static` a file the web server serves without the app (legacy nginx only)
Depth = Literal["shallow", "deep", "static"]

#: each sample service's health check paths and their depth (stacks/apps/README.md); a
#: team's own service (`app.command`) has its own paths: only its liveness path's depth
#: is known (harness.model.profile.own_paths), any other is the profile's stated choice
HEALTH_PATHS: dict[str, dict[str, Depth]] = {
    "php": {"/health": "shallow", "/ready": "deep", "/index.html": "static"},
    "go": {"/health": "shallow", "/ready": "deep"},
}


class HealthCheck(Strict):
    """Load balancer target health check (AWS field names)."""

    #: HTTP: a GET of `path` must answer 200; TCP: the target must accept a connection
    protocol: Cited[Literal["HTTP", "TCP"]]
    #: the path an HTTP check requests (a TCP check has none)
    path: Cited[Annotated[str, Field(pattern=r"^/")]] | None = None
    #: what a passing check proves (the team's choice, not an AWS default); checked
    #: against the app's paths (HEALTH_PATHS; a team's own service: its liveness path)
    depth: Cited[Depth]
    interval_s: Timing
    timeout_s: Timing
    healthy_threshold: Cited[Annotated[int, Field(ge=1)]]
    unhealthy_threshold: Cited[Annotated[int, Field(ge=1)]]
    #: passing checks a newly registered target (a replacement, a scale-out, a green task)
    #: needs before it gets traffic: the ALB's 1; a target that went unhealthy needs
    #: `healthy_threshold` again
    initial_healthy_threshold: Cited[Annotated[int, Field(ge=1)]]

    @model_validator(mode="after")
    def _consistent(self) -> HealthCheck:
        if self.protocol.value == "TCP":
            if self.path is not None:
                raise ValueError("path: a TCP check only opens a connection; remove path "
                                 "(or use protocol HTTP)")
            if self.depth.value != "shallow":
                raise ValueError(f"depth: a TCP check only sees the listener accept a "
                                 f"connection (nginx on a PHP instance), so it is shallow, "
                                 f"not {self.depth.value}")
        elif self.path is None:
            raise ValueError("path: an HTTP check needs the path it requests")
        if self.initial_healthy_threshold.value > self.healthy_threshold.value:
            raise ValueError(
                f"initial_healthy_threshold {self.initial_healthy_threshold.value} is more "
                f"than healthy_threshold {self.healthy_threshold.value}: a new target is "
                "admitted after at most as many checks as one that went unhealthy")
        return self

    def admission_s(self, time_scale: float, *, new: bool = True) -> float:
        """Run seconds from registration to traffic when every check passes.

        A new target needs `initial_healthy_threshold` checks, one that went unhealthy
        `healthy_threshold`; the first comes within an interval of registering.
        """
        checks = self.initial_healthy_threshold if new else self.healthy_threshold
        return checks.value * self.interval_s.at(time_scale)


class LoadBalancer(Strict):
    #: `nlb`: a TCP listener, so the LB answers nothing of its own (no 502/503/504): a
    #: target that refuses or dies resets the client's connection
    style: Literal["clb", "alb", "nlb"]
    #: how a request picks a target (CLB HTTP: least outstanding requests; ALB: round
    #: robin); how a connection does (NLB: a flow hash, the connection stays on its target)
    routing: Cited[Literal["round_robin", "least_outstanding_requests", "flow_hash"]]
    health_check: HealthCheck
    #: a connection idle this long is closed by the LB; a silent target gives 504
    idle_timeout_s: Timing
    #: connection draining (CLB) / deregistration delay (ALB): a target taken out gets no
    #: new requests; its in-flight ones may finish for up to this long, then the rest are
    #: closed (sooner when none is left); 0 = cut at once
    deregistration_delay_s: Timing
    #: what the LB does when no target is healthy: `reject` answers 503 (CLB);
    #: `fail_open` routes to every registered target anyway (ALB)
    when_all_unhealthy: Cited[Literal["reject", "fail_open"]]
    #: NLB target group attributes the stand-in records but does not model (the report
    #: lists them with their sources): closing the connections left at the end of the
    #: deregistration delay, cross-zone load balancing, client IP preservation
    connection_termination: Cited[bool] | None = None
    cross_zone: Cited[bool] | None = None
    client_ip_preservation: Cited[bool] | None = None

    @model_validator(mode="after")
    def _style_rules(self) -> LoadBalancer:
        if self.style == "alb" and self.health_check.protocol.value == "TCP":
            # ELB Application guide, Health checks for your target groups, HealthCheckProtocol
            raise ValueError("health_check.protocol: an ALB's HTTP target group checks over "
                             "HTTP or HTTPS; TCP checks are for Network Load Balancers")
        flow_hash = self.routing.value == "flow_hash"
        if (self.style == "nlb") != flow_hash:
            # ELB Network guide, How a Network Load Balancer works: a flow hash for TCP
            raise ValueError(
                f"routing: an NLB routes each TCP connection by a flow hash (flow_hash), an "
                f"HTTP load balancer each request (round_robin, least_outstanding_requests); "
                f"style {self.style} with routing {self.routing.value}")
        if self.style == "nlb" and self.when_all_unhealthy.value != "fail_open":
            raise ValueError("when_all_unhealthy: an NLB fails open when every target is "
                             "unhealthy (ELB Network guide, Health checks for Network Load "
                             "Balancer target groups); it has no 503 of its own to answer")
        nlb_only = [name for name in ("connection_termination", "cross_zone",
                                      "client_ip_preservation") if getattr(self, name) is not None]
        if self.style != "nlb" and nlb_only:
            raise ValueError(f"{', '.join(nlb_only)}: NLB target group attributes; "
                             f"style {self.style} has none")
        return self
