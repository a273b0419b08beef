"""The headline never calls a tie within the measurement's resolution a win."""

from __future__ import annotations

from harness.report.headline import _score, _why
from harness.report.record import ArchRecord
from tests.support.repeat_data import recovery


def _arch(name: str, recovery_s: float) -> ArchRecord:
    return ArchRecord(arch=name, recoveries=[recovery("writer-dies", recovery_s)])


def test_recoveries_within_a_second_of_each_other_are_not_a_reason() -> None:
    proxy, no_proxy = _arch("modern", 3.9994), _arch("modern-no-proxy", 3.9984)
    assert _score(proxy) == _score(no_proxy)
    assert _why(no_proxy, proxy) == []


def test_a_recovery_a_second_or_more_faster_is_named() -> None:
    fast, slow = _arch("modern", 4.0), _arch("legacy", 38.0)
    assert _score(fast) > _score(slow)
    assert _why(fast, slow) == ["after writer-dies it recovered in 4.0 s vs 38.0 s"]
