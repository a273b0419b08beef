"""`make bench` finds every benchmark module and each one has the `run()` it calls."""

from __future__ import annotations

import importlib

from bench.__main__ import _modules


def test_every_benchmark_module_has_run() -> None:
    names = _modules([])
    assert {"load", "stack_up"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"bench.{name}").run)
