"""A made-up two-architecture run: for tests, the browser check and previews of the report.

    python -m tests.support.demo /tmp/demo-results   # writes a complete results folder

120 s: warmup, a peak at three times the rate, cooldown. An app instance is
killed at 45 s (modern restarts its task in a few seconds; legacy serves
errors until the ASG replaces the instance) and the database is slowed from
70 s to 80 s.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness.analysis.invariants import Invariant
from harness.analysis.series import ArchData
from harness.report.assemble import RunHeader, build_record, write_all
from harness.report.record import RunRecord
from harness.report.results import ResultsDir
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

PHASES = [("warmup", 0.0, 30.0), ("peak", 30.0, 90.0), ("cooldown", 90.0, 120.0)]
SECONDS = 120
KILL_AT, SLOW_FROM, SLOW_TO = 45.0, 70.0, 80.0
LEGACY_BACK = 100
MODERN_BACK = 49


def _rate(s: int) -> float:
    return 150 if 30 <= s < 90 else 50


def demo_data() -> dict[str, ArchData]:
    return {
        "legacy": synthetic(
            "legacy", SECONDS, rate=_rate, seed=1,
            latency_ms=lambda s: (90 if 30 <= s < 90 else 35) + (120 if 70 <= s < 80 else 0),
            error_rate=lambda s: 0.5 if KILL_AT <= s < LEGACY_BACK else 0.002,
            achieved_ratio=lambda s: 0.97 if 30 <= s < 90 else 1.0,
        ),
        "modern": synthetic(
            "modern", SECONDS, rate=_rate, seed=2, error_class="connection_refused",
            latency_ms=lambda s: (28 if 30 <= s < 90 else 20) + (40 if 70 <= s < 80 else 0),
            error_rate=lambda s: 0.3 if KILL_AT <= s < MODERN_BACK else 0.0,
        ),
    }


def demo_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for arch in ("legacy", "modern"):
        events += [
            {"arch": arch, "t_s": KILL_AT, "kind": "fault.applied", "fault": "kill-app",
             "type": "kill", "target": "app-1"},
            {"arch": arch, "t_s": SLOW_FROM, "kind": "fault.applied", "fault": "slow-db",
             "type": "latency", "target": "app->db"},
            {"arch": arch, "t_s": SLOW_TO, "kind": "fault.reverted", "fault": "slow-db",
             "type": "latency", "target": "app->db"},
        ]
    events += [
        {"arch": "modern", "t_s": 47.5, "kind": "orchestrator.task_in_service", "task": "app-1"},
        {"arch": "legacy", "t_s": 62.0, "kind": "orchestrator.instance_out_of_service",
         "target": "app-1"},
        {"arch": "legacy", "t_s": 98.0, "kind": "orchestrator.instance_launched",
         "instance": "app-3"},
    ]
    return sorted(events, key=lambda e: float(e["t_s"]))


def demo_objectives() -> Objectives:
    return Objectives.model_validate({
        "slos": [
            {"name": "p99-peak", "metric": "p99", "phase": "peak", "threshold": "300ms"},
            {"name": "errors-10s", "metric": "error_rate", "phase": "peak", "window": "10s",
             "threshold": "5%"},
            {"name": "orders-p95", "metric": "p95", "endpoint": "POST /orders",
             "threshold": "250ms"},
            {"name": "keeps-up", "metric": "achieved_ratio", "op": ">=", "threshold": 0.98},
            {"name": "kill-recovery", "metric": "recovery_s", "fault": "kill-app",
             "threshold": "30s"},
        ],
        "recovery": {"baseline": "10s", "consecutive": 3},
    })


def demo_invariants() -> dict[str, list[Invariant]]:
    return {
        "legacy": [
            Invariant("orders_lost", False, 3, "acknowledged orders missing from the database",
                      ("order key k-17 (id [17])", "order key k-18 (id [18])")),
            Invariant("seats_oversold", True, 0, "events with more seats reserved than they have"),
        ],
        "modern": [
            Invariant("orders_lost", True, 0, "acknowledged orders missing from the database"),
            Invariant("seats_oversold", True, 0, "events with more seats reserved than they have"),
        ],
    }


def demo_record(run_id: str = "20261123T100000Z-demo") -> RunRecord:
    header = RunHeader(
        run_id=run_id, scenario="demo", seed=7, phases=PHASES,
        settings={"time_scale": 0.1, "runtime": "process"}, versions={"harness": "0.1.0"},
    )
    checked = {"order": {"acknowledged": 640, "failed": 12, "indeterminate": 30},
               "reservation": {"acknowledged": 0, "failed": 0, "indeterminate": 0}}
    return build_record(header, demo_objectives(), demo_data(), demo_events(),
                        invariants=demo_invariants(),
                        writes_checked={"legacy": checked, "modern": checked})


def write_demo(root: Path) -> ResultsDir:
    """A complete results folder under `root`."""
    out = ResultsDir.create(root, "demo")
    with out:
        record = demo_record(out.run_id)
        write_all(out, record, demo_data(), demo_events())
    return out


if __name__ == "__main__":
    print(write_demo(Path(sys.argv[1] if len(sys.argv) > 1 else "results")).path)
