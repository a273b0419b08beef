"""Loopback stays local: a user's HTTP(S)_PROXY never carries a stack's own traffic.

Behind a corporate proxy, HTTP_PROXY is set in most shells. requests and botocore (the
harness's health checks, Toxiproxy's API, LocalStack) and PHP's curl (the legacy app's
SQS client) then send even 127.0.0.1 to the proxy unless NO_PROXY names it: the stack
would look down, or its traffic leave the machine. Go's client already skips loopback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

#: what every stack listens on or calls: never through a proxy
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: both spellings: requests and botocore read either, curl only the lower-case one
_NAMES = ("NO_PROXY", "no_proxy")


def without_proxy(environ: Mapping[str, str]) -> dict[str, str]:
    """The NO_PROXY and no_proxy that keep loopback local, the user's own entries kept."""
    entries: list[str] = []
    for name in _NAMES:
        for entry in environ.get(name, "").split(","):
            if entry.strip() and entry.strip() not in entries:
                entries.append(entry.strip())
    if "*" in entries:  # the user bypasses every proxy already
        return {}
    value = ",".join(entries + [host for host in LOOPBACK if host not in entries])
    return {name: value for name in _NAMES if environ.get(name) != value}


def keep_loopback_local(environ: MutableMapping[str, str] = os.environ) -> None:
    """Add loopback to this process's NO_PROXY: its clients and every child inherit it."""
    environ.update(without_proxy(environ))
