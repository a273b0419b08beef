"""The parts of one architecture's stack, declared once from its profile.

`declare(profile)` is the one place that says which components a stack has (name, what
runs in it, role, zone, number) and which edges the fault proxy sits on, from what to
what. Everything that names a stack's parts derives them from here: the stack starts
them (harness.stacks.stack; each kind's command line and environment in
harness.stacks.assembly and harness.stacks.components), docker-compose.yml lists them
(harness.stacks.compose_file) and a scenario's fault targets are checked against them
(harness.scenario.faults.Topology). A new component or profile variant is a change here
and in its own module, not in each of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.model.profile import Profile

#: what a component is for; `declare` lists them in the order the stack starts them
Role = Literal["fault-proxy", "aws", "aws-fault-point", "database", "db-proxy", "app", "lb"]
#: whose connections take an edge: every component of a role, or the load generator
Source = Literal["client", "app", "lb"]

#: the edges the apps' environment and the stack's entry name
CLIENT_TO_LB = "client->lb"
APP_TO_DB = "app->db"
APP_TO_READER = "app->db-reader"
APP_TO_AWS = "app->aws"

#: each kind a stack may run, by the image it runs in (stacks/docker/<image>.Dockerfile,
#: tagged harness/<image>:latest); the AWS fault point runs on LocalStack's Python
IMAGE_OF_KIND = {
    "toxiproxy": "toxiproxy", "localstack": "localstack", "faultpoint": "localstack",
    "mariadb": "mariadb", "rdsproxy": "rdsproxy", "haproxy": "haproxy", "php": "php", "go": "go",
}

#: the kinds that are the harness's own parts, not the architecture under test, each with
#: the name a run's verdict gives it: the fault proxies on every edge, the AWS emulator
#: and its fault point, and the RDS Proxy stand-in (on AWS a managed service that does
#: not crash on its own; a scenario fault aimed at it makes its stop the architecture's)
HARNESS_PARTS: dict[str, str] = {
    "toxiproxy": "Toxiproxy", "localstack": "LocalStack", "faultpoint": "the AWS fault point",
    "rdsproxy": "the RDS Proxy stand-in",
}


@dataclass(frozen=True)
class ComponentDecl:
    """One component of a stack: what runs in it, what for, and where."""

    name: str
    #: what runs: the runtime's kind (its image: IMAGE_OF_KIND), as stack.json and faults see it
    kind: str
    role: Role
    zone: str | None = None
    #: its number among its role's components, from 1: app-N's N, a database's server id
    ordinal: int = 1
    #: a part of the architecture (a fault target, in stack.json and the report); False:
    #: the harness's own plumbing (the AWS fault point behind app->aws), which the compose
    #: stacks leave out
    listed: bool = True
    #: the one component a proxy forwards to, ready before it starts (RDS Proxy: the writer)
    target: str | None = None


@dataclass(frozen=True)
class EdgeDecl:
    """One edge: connections from `source` to a component, through a fault proxy of its own."""

    name: str
    source: Source
    #: the component it reaches (stack.json's `upstream`)
    upstream: str
    #: the component the fault proxy forwards to in front of `upstream` (the AWS fault
    #: point before LocalStack); None: the upstream itself
    via: str | None = None

    @property
    def forwards_to(self) -> str:
        return self.via or self.upstream


@dataclass(frozen=True)
class StackDecl:
    """One architecture's components (in start order) and edges."""

    arch: str
    components: tuple[ComponentDecl, ...]
    edges: tuple[EdgeDecl, ...]
    #: member slots auto scaling may fill later, each behind its lb->app-N edge from the start
    spares: tuple[ComponentDecl, ...] = ()

    def role(self, role: Role) -> list[ComponentDecl]:
        return [c for c in self.components if c.role == role]

    def get(self, name: str) -> ComponentDecl:
        try:
            return next(c for c in (*self.components, *self.spares) if c.name == name)
        except StopIteration:
            raise KeyError(f"{self.arch} declares no component {name!r}") from None

    def listed(self) -> list[ComponentDecl]:
        """The components of the architecture: fault targets, in stack.json."""
        return [c for c in self.components if c.listed]

    def harness_parts(self) -> list[ComponentDecl]:
        """The components that are the harness's own parts (HARNESS_PARTS): a stop of one
        that no scenario fault asked for is the harness failing, not the architecture."""
        return [c for c in self.components if c.kind in HARNESS_PARTS]

    def backing(self) -> list[ComponentDecl]:
        """What needs nothing else: started first, together, and seeded before the rest."""
        return [c for c in self.components if not self.after(c)]

    def after(self, component: ComponentDecl) -> list[str]:
        """What must be ready before `component` starts: what its edges reach, its target."""
        reached = [e.upstream for e in self.edges if e.source == component.role]
        return list(dict.fromkeys([*reached, *([component.target] if component.target else [])]))

    def behind(self, via: str) -> str:
        """The component `via` stands in front of, on the edge it is the `via` of."""
        return next(e.upstream for e in self.edges if e.via == via)

    def spare_edges(self) -> list[EdgeDecl]:
        return [_member_edge(c.name) for c in self.spares]

    def member_edge(self, member: str) -> EdgeDecl:
        """The lb->app-N edge of a member slot (a spare's too)."""
        return next(e for e in (*self.edges, *self.spare_edges()) if e.upstream == member)


def _member_edge(member: str) -> EdgeDecl:
    return EdgeDecl(f"lb->{member}", "lb", member)


def declare(profile: Profile) -> StackDecl:
    """The components and edges of `profile`'s stack."""
    components = [
        ComponentDecl("toxiproxy", "toxiproxy", "fault-proxy"),
        ComponentDecl("aws", "localstack", "aws"),
        # the `via` of the app->aws edge, in front of LocalStack: throttling and errors
        ComponentDecl("aws-fault", "faultpoint", "aws-fault-point", listed=False),
    ]
    # db-writer, and db-reader (Aurora) or db-standby (RDS Multi-AZ)
    components += [ComponentDecl(name, "mariadb", "database", zone, ordinal)
                   for ordinal, (name, zone) in enumerate(profile.db_instances, start=1)]
    if profile.proxy is not None:
        # RDS Proxy runs in several AZs: no single zone takes it down
        components.append(ComponentDecl("db-proxy", "rdsproxy", "db-proxy", target="db-writer"))
    members = [ComponentDecl(name, profile.app.kind, "app", profile.zone_of(i), i + 1)
               for i, name in enumerate(profile.member_slots)]
    fleet, spares = members[:profile.app.instances], members[profile.app.instances:]
    components += [*fleet, ComponentDecl("lb", "haproxy", "lb")]

    edges = [EdgeDecl(CLIENT_TO_LB, "client", "lb"), *(_member_edge(m.name) for m in fleet)]
    # with RDS Proxy the apps' writer endpoint is the proxy, which reaches the writer
    edges.append(EdgeDecl(APP_TO_DB, "app", "db-proxy" if profile.proxy else "db-writer"))
    if profile.has_reader:
        edges.append(EdgeDecl(APP_TO_READER, "app", "db-reader"))
    edges.append(EdgeDecl(APP_TO_AWS, "app", "aws", via="aws-fault"))
    return StackDecl(profile.name, tuple(components), tuple(edges), tuple(spares))
