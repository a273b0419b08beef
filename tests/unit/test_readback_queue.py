"""Reading the queue back after the run when LocalStack is gone: one line, not a traceback."""

from __future__ import annotations

import socket

import pytest

from harness.errors import StackError
from harness.readback import drain, drain_queue


def test_a_queue_that_does_not_answer_is_a_stack_error_of_one_line() -> None:
    with socket.socket() as s:  # a port nothing listens on: LocalStack killed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.raises(StackError, match=r"^invariants not checked: the queue .* could not be "
                                         r"read: EndpointConnectionError") as err:
        drain_queue(endpoint, f"{endpoint}/000000000000/orders", timeout_s=5)
    assert "\n" not in str(err.value)


def _messages(*ids: int) -> list[dict[str, str]]:
    return [{"Body": f'{{"order_id": {i}}}'} for i in ids]


def test_the_drain_reads_until_the_queue_stays_quiet() -> None:
    calls = iter([_messages(1, 2), [], _messages(2, 3)])
    assert drain(lambda: next(calls, []), quiet_s=0.3, timeout_s=5) == {1, 2, 3}


def test_a_queue_that_never_goes_quiet_is_not_checked_rather_than_orders_missing() -> None:
    """Stopping at the deadline would count every order not yet read as never published."""
    count = iter(range(10**9))
    with pytest.raises(StackError, match=r"^invariants not checked: the queue still gave "
                                         r"messages after 0 s .*never published$"):
        drain(lambda: _messages(next(count)), quiet_s=0.2, timeout_s=0.3)
