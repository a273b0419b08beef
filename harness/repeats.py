"""A repeated rehearsal: `harness run --repeat N`, the architectures interleaved.

One run says little about how sure a difference is: two runs of the same
stack differ too. N repeats give each architecture N samples, and `harness
compare` an interval over them. Repeat i runs the architectures in the given
order when i is odd and in reverse when it is even (A B, B A, A B, ...), so
neither side always goes first (warm page cache, a neighbour's load fading):
over an even N the order is balanced exactly, over an odd N the first side
leads once more.

Layout: `results/<set id>/repeat-1 ... repeat-N`, each an ordinary results
folder (run.json with a `repeat` block, timeseries.csv, report.html, ...), so
`harness report` works on any of them; compare.md and compare.html of the
whole set sit in the set's folder. The set's INCOMPLETE marker goes when every
repeat has finished.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from harness.records.marker import MARKER, atomic_write
from harness.rehearsal import RunOptions, Say, rehearse
from harness.report.record import Repeat, RunRecord
from harness.report.results import ResultsDir, create_repeat_set
from harness.runtime.watchdog import guarding_results
from harness.scenario.scenario import Scenario


def order_of(index: int, architectures: list[str]) -> list[str]:
    """The order of repeat `index` (1-based): as given when odd, reversed when even."""
    return list(architectures) if index % 2 else list(reversed(architectures))


def rehearse_repeated(
    scenario: Scenario, options: RunOptions, say: Say, *, repeat: int, live: bool = False,
    after_each: Callable[[RunRecord, Path], None] | None = None,
) -> tuple[list[tuple[RunRecord, Path]], Path]:
    """Run the scenario `repeat` times, interleaved; return each repeat's record and folder.

    Stops after a repeat that was interrupted (Ctrl-C): its record says so and the
    set's folder stays marked incomplete.
    """
    root = create_repeat_set(options.out_root, scenario.name)
    done: list[tuple[RunRecord, Path]] = []
    # as for one run: a crash marks the set's INCOMPLETE, a kill -9 its watchdog
    with ResultsDir(root), guarding_results(options.settings.state_dir, root):
        for index in range(1, repeat + 1):
            order = order_of(index, options.architectures)
            say(f"repeat {index} of {repeat}: {' then '.join(order)}")
            info = Repeat(set_id=root.name, index=index, of=repeat, order=order)
            record, where = rehearse(
                scenario, dataclasses.replace(options, architectures=order, out_root=root,
                                              repeat=info),
                say, live=live,
            )
            done.append((record, where))
            if after_each is not None:
                after_each(record, where)
            if record.status == "interrupted":
                atomic_write(root / MARKER, f"interrupted in repeat {index} of {repeat}\n")
                return done, root
    incomplete = [r.run_id for r, _ in done if r.status != "complete"]
    if incomplete:
        atomic_write(root / MARKER, f"incomplete repeats: {', '.join(incomplete)}\n")
    else:
        (root / MARKER).unlink(missing_ok=True)
    return done, root


def exit_code(records: list[RunRecord]) -> int:
    """The worst verdict over the repeats: 3 (invalid) over 1 (failed) over 0."""
    return max((r.verdict.exit_code if r.verdict else 1) for r in records)
