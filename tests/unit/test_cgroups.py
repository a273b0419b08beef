"""Task limits say why when the machine cannot enforce them."""

from __future__ import annotations

from pathlib import Path

from harness.runtime.base import Limits
from harness.runtime.cgroups import CgroupLimiter


def test_without_controllers_limits_are_off_with_a_reason(tmp_path: Path) -> None:
    limiter = CgroupLimiter("stack-x", root=tmp_path)
    assert not limiter.available
    assert "not mounted" in limiter.reason
    assert limiter.prepare("app-1", Limits(cpus=0.5, memory_mb=128)) == []
