"""Access log lines: the ELB guides' own example entries, combined-format lines, bad lines."""

from __future__ import annotations

import calendar

import pytest

from harness.replay.endpoints import request_path, template
from harness.replay.formats import (
    Entry,
    Unreadable,
    parse_alb,
    parse_auto,
    parse_clb,
    parse_combined,
)

# The examples of the ALB guide ("Access logs for your Application Load Balancer",
# Example log entries), each joined onto one line as the logs write it.
ALB_HTTP = (
    "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
    "192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "
    '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" '
    '0 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.1:80 200 "-" "-"'
)
ALB_HTTPS = (
    "https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
    "192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "
    '"GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" '
    '"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
    '1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" 10.0.0.1:80 200 "-" "-"'
)
ALB_H2 = (
    "h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
    "10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "
    '"GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" '
    '1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" '
    '10.0.0.66:9000 200 "-" "-"'
)
ALB_LAMBDA_FAILED = (
    "http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
    "192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "
    '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" '
    '0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"'
)
# The examples of the Classic Load Balancer guide ("Access logs for your Classic Load
# Balancer", Examples).
CLB_HTTP = (
    "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 "
    '0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" '
    '"curl/7.38.0" - -'
)
CLB_HTTPS = (
    "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 "
    '0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" '
    '"curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2'
)
CLB_TCP = (
    "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 "
    '0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -'
)
# Apache's documentation of the combined log format
COMBINED = (
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
    '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
)


def epoch(y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def test_alb_http_example_arrives_at_its_request_creation_time() -> None:
    # `time` (22:23:00) is when the response went out; the arrival is 22:22:48
    assert parse_alb(ALB_HTTP) == Entry(epoch(2018, 7, 2, 22, 22, 48), "GET", "/", 0)


@pytest.mark.parametrize("line", [ALB_HTTPS, ALB_H2])
def test_alb_https_and_h2_examples_are_requests(line: str) -> None:
    assert parse_alb(line) == Entry(epoch(2018, 7, 2, 22, 22, 48), "GET", "/", 0)


def test_alb_status_is_the_load_balancers_own() -> None:
    entry = parse_alb(ALB_LAMBDA_FAILED)
    assert isinstance(entry, Entry)
    assert entry.status_class == 3  # 502 from the ALB, target status "-"


def test_alb_line_without_the_later_fields_uses_its_time() -> None:
    old = ALB_HTTP.split(" arn:aws")[0]
    assert parse_alb(old) == Entry(epoch(2018, 7, 2, 22, 23, 0), "GET", "/", 0)


@pytest.mark.parametrize("line", [CLB_HTTP, CLB_HTTPS])
def test_clb_examples_are_requests(line: str) -> None:
    assert parse_clb(line) == Entry(epoch(2015, 5, 13, 23, 39, 43), "GET", "/", 0)


def test_clb_tcp_listener_entry_is_no_http_request() -> None:
    parsed = parse_clb(CLB_TCP)
    assert isinstance(parsed, Unreadable)
    assert "TCP/SSL listener" in parsed.reason


def test_combined_example_is_read_in_utc() -> None:
    # 13:55:36 at -0700 is 20:55:36 UTC
    assert parse_combined(COMBINED) == Entry(
        epoch(2000, 10, 10, 20, 55, 36), "GET", "/apache_pb.gif", 0)


def test_common_format_without_referer_and_agent_is_read() -> None:
    line = '10.1.2.3 - - [28/Nov/2025:20:00:01 +0000] "POST /orders?x=1 HTTP/1.1" 503 0'
    assert parse_combined(line) == Entry(epoch(2025, 11, 28, 20, 0, 1), "POST", "/orders", 3)


@pytest.mark.parametrize("line", [ALB_HTTP, ALB_HTTPS, CLB_HTTP, COMBINED])
def test_auto_tells_each_format_by_its_start(line: str) -> None:
    assert isinstance(parse_auto(line), Entry)


@pytest.mark.parametrize("line", [
    "",
    "garbage",
    "http 2018-07-02T22:23:00Z app/x 1.2.3.4:1 - 0 0 0 200",  # cut short
    '1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1',  # no such month
    '1.2.3.4 - - [31/Feb/2000:13:55:36 +0000] "GET / HTTP/1.0" 200 1',  # no such day
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "\\x16\\x03\\x01" 400 1',  # TLS to a plain port
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "get / HTTP/1.0" 200 1',  # no method
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET relative HTTP/1.0" 200 1',
])
def test_malformed_lines_are_unreadable_with_a_reason(line: str) -> None:
    parsed = parse_auto(line)
    assert isinstance(parsed, Unreadable)
    assert parsed.reason


@pytest.mark.parametrize(("target", "path"), [
    ("/products/1?ref=mail#top", "/products/1"),
    ("http://www.example.com:80/", "/"),
    ("https://shop.example.com:443/a/b?token=x", "/a/b"),
    ("https://shop.example.com", "/"),
    ("*", "*"),
    ("relative", None),
])
def test_request_path_drops_scheme_host_and_query(target: str, path: str | None) -> None:
    assert request_path(target) == path


@pytest.mark.parametrize(("path", "templated"), [
    ("/products/123", "/products/{id}"),
    ("/products", "/products"),
    ("/orders/3f2b8c1e-9a4d-4e5f-8a7b-6c5d4e3f2a1b", "/orders/{id}"),
    ("/carts/5f3c9a1e7b2d4c6a", "/carts/{id}"),
    ("/events/7/reservations", "/events/{id}/reservations"),
    ("/users/jane@example.com/cart", "/users/{id}/cart"),
    ("/ref/ord_9F8a7B6c5D4e3F2a", "/ref/{id}"),
    ("/static/deadbeef", "/static/deadbeef"),  # hex, but a word: no digit
    ("/category/electronics-and-cameras", "/category/electronics-and-cameras"),
    ("/", "/"),
])
def test_paths_are_templated(path: str, templated: str) -> None:
    assert template(path) == templated
