"""The DB connection sampler: what one sample holds when instances or the proxy are absent."""

from __future__ import annotations

import socket

from harness.runtime.events import EventLog
from harness.stacks.connections import ConnectionSampler, threads_connected
from harness.stacks.topology import Component, StackInfo


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _info(port: int, proxy_admin: str | None) -> StackInfo:
    return StackInfo(
        stack_id="s", arch="modern", workdir="/tmp", log_dir="/tmp", lb_url="", toxiproxy_api="",
        haproxy_socket="", aws_endpoint="", queue_url="", bucket=None, db_writer_port=port,
        db_reader_port=None, components={"db-writer": Component("db-writer", "mariadb", port)},
        db_proxy_admin=proxy_admin,
    )


def test_an_instance_that_does_not_answer_is_not_measured_rather_than_zero() -> None:
    assert threads_connected(_closed_port()) is None


def test_sample_names_the_roles_and_marks_what_could_not_be_read() -> None:
    port = _closed_port()
    sampler = ConnectionSampler(
        _info(port, f"http://127.0.0.1:{port}"), EventLog(None),
        lambda: ("db-writer", "db-reader"),
    )
    sample = sampler.sample()
    assert sample["writer"] == "db-writer"
    assert sample["writer_threads"] is None
    # the limit and the refused connections are not measured either, not zero
    assert (sample["writer_max_connections"], sample["writer_refused"]) == (None, None)
    # the reader is not in this stack's components: not measured
    assert (sample["reader"], sample["reader_threads"]) == ("db-reader", None)
    assert sample["proxy"]["client_connections"] is None


def test_without_a_proxy_the_sample_has_no_proxy_part() -> None:
    sampler = ConnectionSampler(_info(_closed_port(), None), EventLog(None),
                                lambda: ("db-writer", None))
    assert "proxy" not in sampler.sample()
    assert "reader" not in sampler.sample()
