"""`make bench` finds every benchmark module and each one has the `run()` it calls."""

from __future__ import annotations

import importlib

from bench.__main__ import _modules, lines


def test_every_benchmark_module_has_run() -> None:
    names = _modules([])
    assert {"load", "stack_up"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"bench.{name}").run)


def test_a_figure_with_a_spread_prints_on_one_line() -> None:
    printed = lines({
        "generator_efficiency": 1.04, "generator_efficiency_min": 0.98,
        "generator_efficiency_max": 1.1, "generator_efficiency_n": 3, "workers_2_rps": 2500.0,
    })
    assert printed == [
        "bench.generator_efficiency: 1.04 (min-max 0.98 to 1.1, median of 3)",
        "bench.workers_2_rps: 2500",
    ]
