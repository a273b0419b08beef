"""A locustfile's own writes checked as Jepsen's set checker does: lost, unexpected, recovered."""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.queries import KeyLookup, write_checks, write_keys


@dataclass(frozen=True)
class _Write:
    kind: str
    idempotency_key: str
    outcome: str
    id: int | None = None


WRITES = [
    _Write("payments.id", "a", "acknowledged"),
    _Write("payments.id", "b", "acknowledged"),
    _Write("payments.id", "c", "failed"),
    _Write("payments.id", "d", "indeterminate"),
    _Write("payments.id", "e", "indeterminate"),
    # a retry that was acknowledged in the end
    _Write("payments.id", "f", "indeterminate"),
    _Write("payments.id", "f", "acknowledged"),
    _Write("shop.refunds.payment_id", "a", "acknowledged"),
    _Write("order", "k", "acknowledged"),  # the shop's: not the locustfile's to look up
]


def test_the_keys_to_look_up_are_grouped_by_table_and_column() -> None:
    assert write_keys(WRITES) == {("payments", "id"): {"a", "b", "c", "d", "e", "f"},
                                  ("shop.refunds", "payment_id"): {"a"}}


def test_lost_unexpected_and_recovered_writes_are_found() -> None:
    found = [KeyLookup("payments", "id", frozenset({"a", "c", "d", "f"})),
             KeyLookup("shop.refunds", "payment_id", frozenset({"a"}))]
    checks = {i.name: i for i in write_checks(WRITES, found)}
    lost = checks["payments.id_lost"]
    assert (lost.ok, lost.value, lost.examples) == (False, 1, ("key b",))
    unexpected = checks["payments.id_unexpected"]
    assert (unexpected.ok, unexpected.value, unexpected.examples) == (False, 1, ("key c",))
    recovered = checks["payments.id_recovered"]
    assert (recovered.ok, recovered.value) == (True, 1)  # informational: never a failure
    assert checks["shop.refunds.payment_id_lost"].ok


def test_a_look_up_the_database_refused_fails_with_its_message() -> None:
    found = [KeyLookup("payments", "id", error="Table 'shop.payments' doesn't exist (error 1146)")]
    (check,) = write_checks(WRITES, found)
    assert check.name == "payments.id_lost"
    assert not check.ok
    assert check.examples == ("look-up failed: Table 'shop.payments' doesn't exist (error 1146)",)
