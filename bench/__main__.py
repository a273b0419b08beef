"""Run every benchmark module and print `bench.<name>: <number>` lines.

Usage: python -m bench [module ...]   (default: all modules in bench/)
Figures are measured in the same run on the same machine, so ratios compare.
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


def main(argv: list[str]) -> int:
    for name in _modules(argv):
        run: Callable[[], dict[str, float]] = importlib.import_module(f"bench.{name}").run
        for key, value in run().items():
            print(f"bench.{key}: {value:.4g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
