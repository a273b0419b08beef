from __future__ import annotations

import pytest

from harness.load.writes import outcome_of
from harness.records.classify import classify_exception, classify_status


class Timeout(BaseException):
    """Named like gevent.Timeout, which is not an OSError."""


class HTTPConnectionClosed(Exception):
    """Named like geventhttpclient's."""


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (TimeoutError("timed out"), "timeout"),
        (Timeout(), "timeout"),
        (ConnectionRefusedError(111, "refused"), "connection_refused"),
        (ConnectionResetError(104, "reset"), "connection_reset"),
        (BrokenPipeError(32, "pipe"), "connection_reset"),
        (HTTPConnectionClosed("closed"), "connection_reset"),
        (ValueError("bad"), "other"),
    ],
)
def test_exceptions_get_their_class(exc: BaseException, cls: str) -> None:
    assert classify_exception(exc) == cls


def test_wrapped_exception_is_classified_by_its_cause() -> None:
    outer = RuntimeError("connection failed")
    outer.__cause__ = ConnectionRefusedError(111, "refused")
    assert classify_exception(outer) == "connection_refused"


class RetriesExceeded(Exception):
    """Like geventhttpclient's: the socket error is in `original`."""

    def __init__(self, original: BaseException) -> None:
        super().__init__("url")
        self.original = original


def test_error_wrapped_by_the_http_client_is_classified_by_the_original() -> None:
    assert classify_exception(RetriesExceeded(TimeoutError("timed out"))) == "timeout"
    assert classify_exception(RetriesExceeded(ConnectionResetError())) == "connection_reset"


@pytest.mark.parametrize(
    ("status", "expected", "cls"),
    [
        (200, (), "ok"),
        (201, (), "ok"),
        (302, (), "ok"),
        (404, (), "http_4xx"),
        (409, (409,), "ok"),
        (409, (), "http_4xx"),
        (500, (), "http_5xx"),
        (503, (409,), "http_5xx"),
    ],
)
def test_statuses_get_their_class(status: int, expected: tuple[int, ...], cls: str) -> None:
    assert classify_status(status, frozenset(expected)) == cls


@pytest.mark.parametrize(
    ("status", "cls", "outcome"),
    [
        (201, "ok", "acknowledged"),
        (200, "ok", "acknowledged"),
        (409, "ok", "failed"),
        (0, "connection_refused", "failed"),
        (0, "timeout", "indeterminate"),
        (503, "http_5xx", "indeterminate"),
        (0, "connection_reset", "indeterminate"),
    ],
)
def test_write_outcomes(status: int, cls: str, outcome: str) -> None:
    assert outcome_of(status, cls) == outcome
