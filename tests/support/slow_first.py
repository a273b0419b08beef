"""The slowest test files first, so that a pass's two workers end together.

pytest-xdist's `--dist loadfile` hands out whole files in the order it is given; by
default it puts the files with the most tests first, which are unit files of a second
or two. A 70 s file that came last then ran alone at the end of the pass while the
other worker idled (a minute of a 10 min pass measured that way). This plugin sorts
the collected items by their file's duration in `tests/durations.json`, slowest first
(stable: a file's own order and its module-scoped fixtures are kept), and
scripts/test.sh passes `--no-loadscope-reorder` so xdist keeps that order.

`pytest --store-durations` (any selection, with or without xdist) writes the files it
ran into the table, the others kept. A file's `alone` tests are timed apart, under
`<file> (alone)`: they run in a pass of their own (scripts/test.sh), so a file with
both kinds (test_run.py: shared runs, and smoke alone) is weighed right in each pass.
A file the table does not know sorts last: a stale table costs time, never a test.
Hand-written: pytest-split stores such a table but uses it to cut the suite into CI
jobs, not to order one run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.side_by_side import MARKER as ALONE

TABLE = Path(__file__).resolve().parents[1] / "durations.json"
#: files faster than this are left out of the table: their order does not matter
KEEP_ABOVE_S = 2.0


#: what a file's alone tests are keyed by in the table: the file's name and this
ALONE_PART = " (alone)"


def file_of(nodeid: str) -> str:
    """`tests/unit/test_x.py` of `tests/unit/test_x.py::test_y[param]`."""
    return nodeid.split("::", 1)[0]


def part_of(nodeid: str, alone: bool) -> str:
    """The table's key of a test: its file, or its file's alone part."""
    return file_of(nodeid) + (ALONE_PART if alone else "")


def slowest_first(parts: Sequence[str], seconds: Mapping[str, float]) -> list[int]:
    """The positions of the tests of `parts` (part_of each) in running order, slowest first.

    Stable, so a file's tests keep their order and stay together.
    """
    return sorted(range(len(parts)), key=lambda i: -seconds.get(parts[i], 0.0))


def merged(table: Mapping[str, float], ran: Mapping[str, float]) -> dict[str, float]:
    """The table with the files that just ran replaced, sorted slowest first."""
    both = {**table, **ran}
    return {f: round(s, 1) for f, s in sorted(both.items(), key=lambda kv: (-kv[1], kv[0]))
            if s >= KEEP_ABOVE_S}


def _table() -> dict[str, float]:
    if not TABLE.exists():
        return {}
    loaded: dict[str, float] = json.loads(TABLE.read_text())
    return loaded


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-durations", action="store_true", default=False,
                     help=f"write the durations of the files that ran into {TABLE.name}")


class _Store:
    """Adds up each file's setup, call and teardown seconds; writes them at the end."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[part_of(report.nodeid, ALONE in report.keywords)] += report.duration

    def pytest_sessionfinish(self) -> None:
        TABLE.write_text(json.dumps(merged(_table(), self.seconds), indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    # under xdist the controller gets every worker's reports: it alone writes the table
    if config.option.store_durations and getattr(config, "workerinput", None) is None:
        config.pluginmanager.register(_Store(), "slow-first-store")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    parts = [part_of(item.nodeid, item.get_closest_marker(ALONE) is not None)
             for item in items]
    order = slowest_first(parts, _table())
    items[:] = [items[i] for i in order]
