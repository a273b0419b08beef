"""LocalStack's twisted gateway on the host of GATEWAY_LISTEN, not on every interface.

Loaded by LocalStack's own Python only: `localstack.spec` puts this folder (which has
no __init__.py and is never imported by the harness) on that process's PYTHONPATH,
ahead of a distribution's own sitecustomize (Debian's only installs apport's hook).

Why: localstack-core 2026.3.0 (checked against that version, the one scripts/setup.sh
and stacks/docker/localstack.Dockerfile pin) builds its IPv4 listener in
`localstack.runtime.server.twisted.TwistedRuntimeServer.register` as
`endpoints.TCP4ServerEndpoint(reactor, port)` ("# TODO: interface = host?"), so
GATEWAY_LISTEN=127.0.0.1:<port> binds 0.0.0.0:<port>; no setting changes that. The
twisted server is kept (rather than GATEWAY_SERVER=hypercorn) because it answers an SQS
call about twice as fast. The patch gives that one module's listener the configured
host (and leaves an interface it already passes alone); if the module no longer looks
as expected, LocalStack fails to start and says why, so a new version is re-checked.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType, SimpleNamespace
from typing import Any

_MODULE = "localstack.runtime.server.twisted"


def _bind_configured_host(module: ModuleType) -> None:
    """Replace the module's `endpoints` by a copy whose TCP4ServerEndpoint binds the
    GATEWAY_LISTEN host of its port; twisted's own module is not touched."""
    endpoints = getattr(module, "endpoints", None)
    if endpoints is None or not hasattr(endpoints, "TCP4ServerEndpoint"):
        raise ImportError(
            f"harness: {_MODULE} has no `endpoints.TCP4ServerEndpoint` any more (this patch "
            "was checked against localstack-core 2026.3.0): re-check how it binds "
            "GATEWAY_LISTEN, then update or drop harness/stacks/components/localstack_site"
        )
    config = module.config  # the module's own `from localstack import config`

    def tcp4_server_endpoint(reactor: Any, port: int, backlog: int = 50,
                             interface: str = "") -> Any:
        hosts = [listen.host for listen in config.GATEWAY_LISTEN if listen.port == port]
        return endpoints.TCP4ServerEndpoint(
            reactor, port, backlog, interface or (hosts[0] if hosts else ""))

    vars(module)["endpoints"] = SimpleNamespace(**{
        **vars(endpoints), "TCP4ServerEndpoint": tcp4_server_endpoint})


class _PatchOnImport:
    """A meta path finder: loads `_MODULE` as usual, then patches it (once)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            _bind_configured_host(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _PatchOnImport())
