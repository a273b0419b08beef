"""The A/A check: the same profile on both sides of a comparison finds no difference.

`harness run --arch modern,modern --repeat 2` runs modern four times on real
stacks, interleaved (modern then modern#2, then modern#2 then modern). Comparing
the two labels, in either direction, may find no significant difference: the
label does not decide a verdict.

Whether the run that went first in each repeat differs from the one that went
second is a property of the machine (warm caches, other load), not of the tool:
a CI run saw the second run's p50 consistently a millisecond lower. Interleaving
exists so that such an order effect cancels out of the label comparison, which
is what this test holds the tool to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.analysis.compare import Comparison
from harness.report.commands import comparisons, load
from harness.scenario.scenario import SCENARIOS_DIR

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")


def _tiny_scenario(tmp_path: Path) -> Path:
    """smoke, cut to 8 s of checkout load with no faults: ~20 s a run."""
    data: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())
    data["workload"]["phases"] = [
        {"name": "warm", "shape": "constant", "rate": "10/s", "duration": "3s"},
        {"name": "steady", "shape": "constant", "rate": "10/s", "duration": "5s"},
    ]
    data["workload"]["journeys"] = {"checkout": {"weight": 1}}
    data["faults"] = []
    data["slos"] = [s for s in data["slos"] if s["metric"] != "recovery_s"]
    data["architectures"] = ["modern"]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _significant(c: Comparison) -> list[str]:
    return [f"{d.metric}: {d.verdict}" for d in c.deltas if d.regression or d.improvement]


def test_same_profile_on_both_sides_shows_no_significant_difference(
    short_tmp: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    out = tmp_path / "out"
    result = subprocess.run(
        [HARNESS, "run", str(_tiny_scenario(tmp_path)), "--arch", "modern,modern",
         "--repeat", "2", "--ci", "--out", str(out)],
        env=env, text=True, capture_output=True, timeout=400, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (set_dir,) = out.iterdir()
    assert not (set_dir / "INCOMPLETE").exists()
    assert (set_dir / "compare.md").exists()
    assert "paired t-interval over 2 interleaved repeats" in result.stdout
    assert "REGRESSION" not in result.stdout

    loaded = load(set_dir)
    orders = [record.repeat.order for record, _ in loaded.runs if record.repeat]
    assert orders == [["modern", "modern#2"], ["modern#2", "modern"]]

    forward = comparisons(set_dir)[0]
    backward = comparisons(set_dir, baseline_arch="modern#2", candidate_arch="modern")[0]
    assert (forward.baseline, forward.candidate) == ("modern", "modern#2")
    assert _significant(forward) == []
    assert _significant(backward) == []
    for x, y in zip(forward.deltas, backward.deltas, strict=True):
        assert x.verdict == y.verdict, x.metric
