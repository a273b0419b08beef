"""What a running stack is made of, as plain data: components, edges, endpoints.

This is what the load side aims at, what faults target and what `harness up`
prints; it is saved as `stack.json` in the stack's work dir.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    port: int
    zone: str | None = None


@dataclass(frozen=True)
class Edge:
    """A connection between components through its own Toxiproxy proxy."""

    name: str
    proxy: str
    listen_port: int
    upstream: str
    upstream_port: int


def proxy_name(edge: str) -> str:
    """Toxiproxy proxy name of an edge: `app->db` -> `app_to_db` (safe in URLs)."""
    return edge.replace("->", "_to_")


@dataclass
class StackInfo:
    stack_id: str
    arch: str
    workdir: str
    log_dir: str
    lb_url: str
    toxiproxy_api: str
    haproxy_socket: str
    aws_endpoint: str
    queue_url: str
    bucket: str | None
    db_writer_port: int
    db_reader_port: int | None
    components: dict[str, Component] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    ready_s: dict[str, float] = field(default_factory=dict)
    #: the RDS Proxy's admin URL (repoint, stats); None = no proxy, apps use the endpoint
    db_proxy_admin: str | None = None
    #: the runtime the components run on (`process` or `docker`): how another harness
    #: (`harness inject`) reaches them
    runtime: str = "process"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackInfo:
        data = dict(data)
        data["components"] = {k: Component(**v) for k, v in data.get("components", {}).items()}
        data["edges"] = {k: Edge(**v) for k, v in data.get("edges", {}).items()}
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> StackInfo:
        return cls.from_json(json.loads(path.read_text()))

    def apps(self) -> list[str]:
        # a copy first: auto scaling adds and removes members while others iterate
        return [c.name for c in list(self.components.values()) if c.name.startswith("app-")]
