"""junit.xml: one test case per SLO and per invariant per architecture, failures as expected."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report.junit import junit_xml
from tests.support.demo import demo_record


def _failed(root: ET.Element) -> set[str]:
    return {
        f"{case.get('classname')}/{case.get('name')}"
        for case in root.iter("testcase") if case.find("failure") is not None
    }


def test_demo_junit_parses_with_the_expected_failures(demo_dir: Path) -> None:
    root = ET.parse(demo_dir / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.iter("testsuite")] == ["demo.legacy", "demo.modern"]
    # 5 SLOs + 2 invariants per architecture
    assert root.get("tests") == "14"
    assert _failed(root) == {
        "legacy.slo/p99-peak", "legacy.slo/errors-10s", "legacy.slo/kill-recovery",
        "legacy.invariant/orders_lost", "modern.slo/errors-10s",
    }
    assert root.get("failures") == "5"
    failure = next(c for c in root.iter("testcase") if c.get("name") == "kill-recovery"
                   and c.get("classname") == "legacy.slo").find("failure")
    assert failure is not None
    assert "measured 55.0 s" in (failure.get("message") or "")


def test_invalid_architecture_is_an_error_case() -> None:
    record = demo_record()
    modern = record.arch("modern")
    modern.valid = False
    modern.invalid_reasons = ["generator fell behind: achieved 80 % of offered"]
    root = ET.fromstring(junit_xml(record))
    errors = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert [(c.get("classname"), c.get("name")) for c in errors] == [("modern.run", "valid run")]
    assert root.get("errors") == "1"
