"""Every request gets one class: ok, or the kind of error an SRE tells apart."""

from __future__ import annotations

CLASSES: tuple[str, ...] = (
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connection_refused",
    "connection_reset",
    "other",
)
ERROR_CLASSES = CLASSES[1:]
#: an arrival the generator could not start because `max_concurrency` requests were in
#: flight: it never reached the service, has no latency, and counts as a failed request in
#: error rates and SLOs unless a scenario excludes it (harness.scenario.slo)
DROPPED = "dropped"
#: every way a request or an arrival can fail, in reports
FAILURE_CLASSES: tuple[str, ...] = (*ERROR_CLASSES, DROPPED)

# Exceptions are matched by name along the MRO so this module needs neither gevent nor
# geventhttpclient (gevent.Timeout is a BaseException, not a TimeoutError).
_BY_NAME = {
    "Timeout": "timeout",
    "TimeoutError": "timeout",
    "ConnectionRefusedError": "connection_refused",
    "ConnectionResetError": "connection_reset",
    "BrokenPipeError": "connection_reset",
    "ConnectionAbortedError": "connection_reset",
    "HTTPConnectionClosed": "connection_reset",
    "IncompleteRead": "connection_reset",
    "RemoteDisconnected": "connection_reset",
}


def classify_exception(exc: BaseException) -> str:
    """The class of a request that got no HTTP answer."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _BY_NAME:
            return _BY_NAME[cls.__name__]
    # Clients wrap the socket error: geventhttpclient in `.original` (RetriesExceeded),
    # requests/urllib3 in the cause or the args; look one level down.
    wrapped = (getattr(exc, "original", None), exc.__cause__, exc.__context__)
    for inner in (*wrapped, *getattr(exc, "args", ())):
        if isinstance(inner, BaseException) and inner is not exc:
            found = classify_exception(inner)
            if found != "other":
                return found
    return "other"


def classify_status(status: int, expected: frozenset[int] = frozenset()) -> str:
    """The class of an HTTP answer; `expected` lists 4xx codes that are business outcomes."""
    if status < 400 or status in expected:
        return "ok" if status > 0 else "other"
    if status < 500:
        return "http_4xx"
    if status < 600:
        return "http_5xx"
    return "other"
