"""One member alone behind the load balancer: the others drained through HAProxy's runtime API.

`drain` (weight 0) rather than `maint`: a drained server keeps its health checks
running, so it is back in service the moment it is set `ready` again. In `maint`
the checks stop and a CLB-like backend would need its healthy threshold (10 checks)
before the server took traffic again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from harness.errors import StackError
from harness.stacks.components.haproxy import FAIL_OPEN_SUFFIX, HaproxyAdmin

#: HAProxy's srv_admin_state bits that mean "takes no new traffic" (MAINT and DRAIN flags)
_OUT_OF_SERVICE = 0x7F


def serving(admin: HaproxyAdmin) -> list[str]:
    """Targets of the `app` backend that are up and take new requests.

    An ALB-style backend lists each target twice (its fail-open backup copy, used only
    when no target is healthy): a copy is the same target, not another member.
    """
    return sorted({
        name.removesuffix(FAIL_OPEN_SUFFIX) for name, row in admin.server_states().items()
        if row.get("srv_op_state") == "2"
        and not int(row.get("srv_admin_state", "0")) & _OUT_OF_SERVICE
    })


@contextlib.contextmanager
def only(admin: HaproxyAdmin, keep: str, members: list[str]) -> Iterator[None]:
    """Drain every member but `keep`; put them all back (ready) on exit, whatever happens."""
    drained: list[str] = []
    try:
        for name in members:
            if name != keep:
                admin.set_server_state(name, "drain")
                drained.append(name)
        now = serving(admin)
        if now != [keep]:
            raise StackError(
                f"draining all members but {keep} left {', '.join(now) or 'none'} serving; "
                f"see `show servers state app` on {admin.socket_path}"
            )
        yield
    finally:
        for name in drained:
            with contextlib.suppress(Exception):  # the stack may be going down already
                admin.set_server_state(name, "ready")
