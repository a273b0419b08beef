"""Analysis and report read recorded data only: importing them loads no client of a live system.

A report is rebuilt from a results folder on a machine with no stack, so nothing under
`harness.analysis` or `harness.report` may reach a database, a queue, an engine or the
load generator; the live read-back lives in `harness.readback`, used by the rehearsal.
"""

from __future__ import annotations

import subprocess
import sys

#: clients of live systems, and the generator's gevent-patching Locust
LIVE = ("pymysql", "boto3", "botocore", "docker", "locust", "gevent", "testcontainers")

_PROBE = f"""
import importlib, pkgutil, sys
import harness.analysis, harness.report
for pkg in (harness.analysis, harness.report):
    for m in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(pkg.__name__ + "." + m.name)
print(",".join(sorted(m for m in {LIVE!r} if m in sys.modules)))
"""


def test_importing_analysis_and_report_loads_no_live_client() -> None:
    # a fresh interpreter: this test process has imported everything already
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "", f"analysis/report import {out.stdout.strip()}"
