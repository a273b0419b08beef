"""Reading the queue back after the run when LocalStack is gone: one line, not a traceback."""

from __future__ import annotations

import socket

import pytest

from harness.errors import StackError
from harness.readback import drain_queue


def test_a_queue_that_does_not_answer_is_a_stack_error_of_one_line() -> None:
    with socket.socket() as s:  # a port nothing listens on: LocalStack killed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.raises(StackError, match=r"^invariants not checked: the queue .* could not be "
                                         r"read: EndpointConnectionError") as err:
        drain_queue(endpoint, f"{endpoint}/000000000000/orders", timeout_s=5)
    assert "\n" not in str(err.value)
