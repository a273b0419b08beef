"""junit.xml for CI: one test suite per architecture, one test case per SLO and per invariant.

A failed SLO or violated invariant is a <failure> with the measured value; an
invalid run, an architecture that stopped early or an interrupted run is an <error>
case, so CI shows it apart from a real regression (and never an interrupted run as green).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.record import RunRecord
from harness.report.text import fmt


def junit_xml(record: RunRecord) -> str:
    """The whole document as text."""
    root = ET.Element("testsuites", name=f"harness {record.scenario.name}")
    total = failures = errs = 0
    for a in record.architectures:
        suite = ET.SubElement(root, "testsuite", name=f"{record.scenario.name}.{a.arch}")
        cases = fails = errors = 0
        for s in a.slos:
            case = ET.SubElement(suite, "testcase", classname=f"{a.arch}.slo", name=s.name)
            cases += 1
            measured = fmt(s.measured, s.unit) if s.measured is not None else "nothing measured"
            ET.SubElement(case, "system-out").text = (
                f"{s.metric} {s.op} {s.threshold}: measured {measured} ({s.detail})"
            )
            if not s.passed:
                fails += 1
                ET.SubElement(
                    case, "failure", type="slo",
                    message=f"{s.metric} {s.op} {s.threshold} failed: measured {measured}",
                ).text = s.detail
        for inv in a.invariants:
            case = ET.SubElement(suite, "testcase", classname=f"{a.arch}.invariant", name=inv.name)
            cases += 1
            if not inv.ok:
                fails += 1
                ET.SubElement(
                    case, "failure", type="invariant",
                    message=f"{inv.description}: {inv.value}",
                ).text = "\n".join(inv.examples)
        interrupted = record.status == "interrupted"
        if not a.valid or a.error or interrupted:
            case = ET.SubElement(suite, "testcase", classname=f"{a.arch}.run", name="valid run")
            cases += 1
            errors += 1
            why = "; ".join([*a.invalid_reasons, *([a.error] if a.error else [])])
            if interrupted and record.verdict is not None:
                why = "; ".join([*record.verdict.reasons, *([why] if why else [])])
            kind = "invalid" if not a.valid else "interrupted" if interrupted else "crash"
            ET.SubElement(case, "error", type=kind, message=why or "invalid run")
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        suite.set("errors", str(errors))
        total, failures, errs = total + cases, failures + fails, errs + errors
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errs))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
