"""Endpoints as templates: `GET /products/123?ref=x` -> `GET /products/{id}`.

A night of logs names thousands of distinct paths; a replay needs the few endpoints
behind them. A path segment is an id (written `{id}`, the API's own spelling in
stacks/api.yaml) when it is

- a number (`123`), a UUID (`0b7e...-...`), or hex of 8+ characters with a digit
  (`5f3c9a1e`, a Mongo id, a hash);
- a long token: 16+ characters of letters, digits, `-` and `_` with a digit in it
  (`ord_9F8a7B6c5D4e3F2a`, a base64 session or order reference);
- anything with an `@` in it (an email address in a path is personal data).

Query strings and fragments are cut off before anything is kept, so no parameter,
token or tracking id in a URL reaches the counters.
"""

from __future__ import annotations

import re

ID = "{id}"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{8,}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}$")
_DIGIT = re.compile(r"\d")
#: templated paths kept per parse, so a repeated path costs one dict lookup
_CACHE_MAX = 100_000
_cache: dict[str, str] = {}


def request_path(target: str) -> str | None:
    """The path of a request target: `http://host:80/a?b` -> `/a`; None if it is none."""
    if target.startswith("/"):
        path = target
    elif "://" in target:  # the ELB logs write the absolute URL the client sent
        slash = target.find("/", target.index("://") + 3)
        path = "/" if slash < 0 else target[slash:]
    elif target == "*":  # OPTIONS *
        return "*"
    else:
        return None
    for cut in ("?", "#"):
        end = path.find(cut)
        if end >= 0:
            path = path[:end]
    return path


def is_id(segment: str) -> bool:
    """True when a path segment names one thing (see the module docstring)."""
    if segment.isdigit() or "@" in segment:
        return True
    if _UUID.match(segment):
        return True
    if _HEX.match(segment) and _DIGIT.search(segment):
        return True
    return bool(_TOKEN.match(segment) and _DIGIT.search(segment))


def template(path: str) -> str:
    """`/products/123/reviews/5f3c9a1e` -> `/products/{id}/reviews/{id}`."""
    cached = _cache.get(path)
    if cached is not None:
        return cached
    # control characters would break the one-line comments the scenario is written with
    clean = "".join(c if c.isprintable() else "?" for c in path)
    result = "/".join(ID if s and is_id(s) else s for s in clean.split("/"))
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[path] = result
    return result
