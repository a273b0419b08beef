"""Run every benchmark module and print `bench.<name>: <number>` lines.

Usage: python -m bench [module ...]   (default: all modules in bench/)
Figures are measured in the same run on the same machine, so ratios compare.
A figure measured over repeats comes with `<name>_min`, `<name>_max` and
`<name>_n`; it is printed on one line: `bench.<name>: median (min-max, n repeats)`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path


def _modules(names: list[str]) -> list[str]:
    found = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    unknown = [n for n in names if n not in found]
    if unknown:
        sys.exit(f"bench: error: no benchmark {', '.join(unknown)} (have: {', '.join(found)})")
    return names or found


_SPREAD = ("_min", "_max", "_n")


def lines(figures: dict[str, float]) -> list[str]:
    """The printed lines of one module's figures, a median with its spread on one line."""
    result = []
    for key, value in figures.items():
        if key.endswith(_SPREAD) and key.rsplit("_", 1)[0] in figures:
            continue
        line = f"bench.{key}: {value:.4g}"
        if f"{key}_min" in figures:
            low, high, n = (figures[f"{key}{s}"] for s in _SPREAD)
            line += f" (min-max {low:.4g} to {high:.4g}, median of {n:g})"
        result.append(line)
    return result


def main(argv: list[str]) -> int:
    for name in _modules(argv):
        run: Callable[[], dict[str, float]] = importlib.import_module(f"bench.{name}").run
        for line in lines(run()):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
