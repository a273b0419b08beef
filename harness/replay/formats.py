"""Access log formats: one line -> (epoch second, method, path, status class), or why not.

Only what a replay needs is taken from a line: when the request arrived, its method,
its path without the query string, and the class of the status the client got.
Client addresses, user agents, query strings, cookies and everything else on the
line are never kept.

- `alb`: Application Load Balancer access logs (ELB guide, "Access log entries"):
  `type time elb client:port target:port request_processing_time
  target_processing_time response_processing_time elb_status_code
  target_status_code received_bytes sent_bytes "request" "user_agent" ssl_cipher
  ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
  matched_rule_priority request_creation_time ...` (fields are only ever added at
  the end). `time` is when the response went out; the arrival is
  `request_creation_time` when the line has it.
- `clb`: Classic Load Balancer access logs: `timestamp elb client:port
  backend:port request_processing_time backend_processing_time
  response_processing_time elb_status_code backend_status_code received_bytes
  sent_bytes "request" "user_agent" ssl_cipher ssl_protocol`; `timestamp` is when
  the request was received. TCP/SSL listener entries (`"- - - "`) are no HTTP
  requests and are skipped.
- `combined`: the nginx/Apache combined (or common) format, `host ident user
  [10/Oct/2000:13:55:36 -0700] "GET /path HTTP/1.1" status bytes ...`. Apache's `%t`
  is when the request was received; nginx's `$time_local` when it was logged (its
  end): a second's difference for most requests.

The status is the one the load balancer (or server) answered: `elb_status_code`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from typing import Literal, NamedTuple

from harness.replay.endpoints import request_path

FormatName = Literal["alb", "clb", "combined"]
FORMATS: tuple[FormatName, ...] = ("alb", "clb", "combined")

#: status classes, in the order the counters keep them
CLASSES = ("2xx", "3xx", "4xx", "5xx", "other")


class Entry(NamedTuple):
    """What one access log line says about one request."""

    second: int
    method: str
    #: the path as requested, without scheme, host, query string or fragment
    path: str
    #: index into CLASSES
    status_class: int


class Unreadable(NamedTuple):
    """A line that is no request of the format, and why (never the line itself)."""

    reason: str


Parsed = Entry | Unreadable
Parser = Callable[[str], Parsed]

_ALB = re.compile(
    r'([a-z0-9]+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S+ \S+ \S+ \S+ \S+ \S+ '
    r'(\d{3}|-) \S+ \S+ \S+ '
    r'"([^"]*)" "[^"\\]*(?:\\.[^"\\]*)*"'
    # ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
    # matched_rule_priority request_creation_time: absent from the oldest ALB logs
    r'(?: \S+ \S+ \S+ "[^"]*" "[^"]*" "[^"]*" \S+ (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*))?'
)
_CLB = re.compile(
    r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S+ \S+ \S+ \S+ \S+ \S+ (\d{3}|-) \S+ \S+ \S+ "([^"]*)"'
)
_COMBINED = re.compile(
    r'\S+ \S+ \S+ \[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] '
    r'"([^"\\]*(?:\\.[^"\\]*)*)" (\d{3})(?: |$)'
)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_ALB_TYPES = ("http ", "https ", "h2 ", "grpcs ", "ws ", "wss ")


_CLASS_OF = {"2": 0, "3": 1, "4": 2, "5": 3}


def status_class(status: str) -> int:
    """'204' -> 0 (2xx) ... '503' -> 3 (5xx); '-', 1xx and anything else -> 4 (other)."""
    return _CLASS_OF.get(status[:1], 4) if len(status) == 3 else 4


#: epoch seconds by their text: a night repeats each second's text many times
_SECONDS: dict[str, int] = {}
_SECONDS_MAX = 100_000


def _epoch(key: str, fields: tuple[int, int, int, int, int, int]) -> int:
    """Epoch second of UTC (year, month, day, hour, minute, second); ValueError if no date."""
    y, mo, d, h, mi, s = fields
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]
            and h < 24 and mi < 60 and s < 61):
        raise ValueError(key)
    if len(_SECONDS) >= _SECONDS_MAX:
        _SECONDS.clear()
    second = _SECONDS[key] = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    return second


def iso_second(text: str) -> int:
    """'2018-07-02T22:22:48.364000Z' -> epoch second (UTC, as the ELB logs write it)."""
    key = text[:19]
    second = _SECONDS.get(key)
    if second is not None:
        return second
    return _epoch(key, (int(text[0:4]), int(text[5:7]), int(text[8:10]),
                        int(text[11:13]), int(text[14:16]), int(text[17:19])))


def _request(request: str, second: int, status: str) -> Parsed:
    parts = request.split(" ")
    if len(parts) < 2 or parts[0] == "-":
        return Unreadable("no HTTP request line (a TCP/SSL listener entry or a malformed request)")
    method = parts[0]
    if not (method.isalpha() and method.isupper()):
        return Unreadable("the request line does not start with an HTTP method")
    path = request_path(parts[1])
    if path is None:
        return Unreadable("the request target is not a path or URL")
    return Entry(second, method, path, status_class(status))


def parse_alb(line: str) -> Parsed:
    m = _ALB.match(line)
    if m is None:
        return Unreadable("not an ALB access log entry")
    kind, time, status, request, created = m.groups()
    try:
        second = iso_second(created or time)
    except ValueError:
        return Unreadable("its time is not an ISO 8601 time")
    del kind  # http, https, h2, grpcs, ws, wss: all one request each
    return _request(request, second, status)


def parse_clb(line: str) -> Parsed:
    m = _CLB.match(line)
    if m is None:
        return Unreadable("not a Classic Load Balancer access log entry")
    time, status, request = m.groups()
    try:
        second = iso_second(time)
    except ValueError:
        return Unreadable("its time is not an ISO 8601 time")
    return _request(request, second, status)


def parse_combined(line: str) -> Parsed:
    m = _COMBINED.match(line)
    if m is None:
        return Unreadable("not a combined/common log format entry")
    day, month, year, hour, minute, sec, sign, tz_h, tz_m, request, status = m.groups()
    key = f"{day}/{month}/{year}:{hour}:{minute}:{sec}"
    local = _SECONDS.get(key)
    if local is None:
        try:
            local = _epoch(key, (int(year), _MONTHS.get(month, 0), int(day),
                                 int(hour), int(minute), int(sec)))
        except ValueError:
            return Unreadable("its time is not a [dd/Mon/yyyy:hh:mm:ss +zzzz] time")
    offset = (int(tz_h) * 3600 + int(tz_m) * 60) * (1 if sign == "+" else -1)
    return _request(request, local - offset, status)


def parse_auto(line: str) -> Parsed:
    """Whichever of the three formats the line is in, told by how it starts."""
    if line[:1].isdigit() and line[4:5] == "-" and line[10:11] == "T":
        return parse_clb(line)
    if line.startswith(_ALB_TYPES):
        return parse_alb(line)
    return parse_combined(line)


PARSERS: dict[str, Parser] = {
    "alb": parse_alb, "clb": parse_clb, "combined": parse_combined, "auto": parse_auto,
}
