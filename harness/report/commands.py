"""`harness report` and `harness compare`, as plain functions for harness/cli.py to register.

Both work from results folders alone (run.json, timeseries.csv, events.jsonl),
so they run on any machine the folder was copied to. They raise HarnessError
subclasses (exit 2) on bad input and return the exit code otherwise.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.analysis.compare import Comparison, compare
from harness.analysis.series import ArchData
from harness.errors import ConfigError
from harness.report.assemble import write_reports
from harness.report.comparison import html, markdown, rich_table
from harness.report.results import (
    REPORT,
    TIMESERIES,
    ResultsDir,
    is_complete,
    read_events,
    read_record,
    read_timeseries,
)


def report_command(run_dir: Path, *, console: Console | None = None) -> int:
    """Re-render report.html, junit.xml and summary.md of a results folder; return its verdict.

    The exit code is the one the run recorded (0 pass, 1 failed, 3 invalid).
    """
    console = console or Console()
    record = read_record(run_dir)
    data = read_timeseries(run_dir / TIMESERIES)
    write_reports(ResultsDir(run_dir), record, data, read_events(run_dir))
    if not is_complete(run_dir):
        console.print(f"[yellow]{run_dir}: the run is incomplete (status {record.status}); "
                      "the report shows what was saved[/]")
    console.print(f"wrote {run_dir / REPORT}")
    return record.verdict.exit_code if record.verdict is not None else 1


def _load(run_dir: Path) -> dict[str, ArchData]:
    read_record(run_dir)  # a clear error when this is not a results folder
    return read_timeseries(run_dir / TIMESERIES)


def _pick(data: dict[str, ArchData], arch: str, where: Path) -> ArchData:
    if arch not in data:
        raise ConfigError(
            f"{where}: no architecture {arch!r} in this run; it has {', '.join(data) or 'none'}"
        )
    return data[arch]


def comparisons(
    baseline_dir: Path,
    candidate_dir: Path | None = None,
    *,
    baseline_arch: str | None = None,
    candidate_arch: str | None = None,
    seed: int = 0,
) -> list[Comparison]:
    """What `compare_command` prints: one comparison per architecture pair.

    One run: its two architectures (default legacy as baseline, modern as candidate).
    Two runs: each architecture the runs share (or the ones named), baseline run first.
    """
    base = _load(baseline_dir)
    if candidate_dir is None:
        names = list(base)
        a = baseline_arch or ("legacy" if "legacy" in base else names[0])
        rest = [n for n in names if n != a]
        b = candidate_arch or ("modern" if "modern" in rest else (rest[0] if rest else ""))
        if not b:
            raise ConfigError(f"{baseline_dir}: only {a} ran; give a second run to compare with")
        pairs = [(_pick(base, a, baseline_dir), _pick(base, b, baseline_dir), a, b)]
    else:
        cand = _load(candidate_dir)
        if baseline_arch or candidate_arch:
            a = baseline_arch or candidate_arch or ""
            b = candidate_arch or a
            archs = [(a, b)]
        else:
            archs = [(n, n) for n in base if n in cand]
            if not archs:
                raise ConfigError(
                    f"{baseline_dir} ({', '.join(base)}) and {candidate_dir} ({', '.join(cand)}) "
                    "share no architecture; name them with --arch"
                )
        pairs = [
            (_pick(base, a, baseline_dir), _pick(cand, b, candidate_dir),
             f"{baseline_dir.name}:{a}", f"{candidate_dir.name}:{b}")
            for a, b in archs
        ]
    return [
        compare(x, y, baseline_label=la, candidate_label=lb, seed=seed)
        for x, y, la, lb in pairs
    ]


def compare_command(
    baseline_dir: Path,
    candidate_dir: Path | None = None,
    *,
    baseline_arch: str | None = None,
    candidate_arch: str | None = None,
    out_dir: Path | None = None,
    seed: int = 0,
    console: Console | None = None,
) -> int:
    """Print per-metric deltas with confidence intervals; write compare.md and compare.html.

    The files go to `out_dir` (default: the candidate's results folder). Exit code 1
    when any metric is flagged as a regression, else 0.
    """
    console = console or Console()
    found = comparisons(
        baseline_dir, candidate_dir, baseline_arch=baseline_arch,
        candidate_arch=candidate_arch, seed=seed,
    )
    for c in found:
        console.print(rich_table(c))
    out = out_dir or candidate_dir or baseline_dir
    out.mkdir(parents=True, exist_ok=True)
    results = ResultsDir(out)
    results.write_text("compare.md", markdown(found))
    results.write_text("compare.html", html(found))
    regressions = [f"{c.candidate}: {d.metric}" for c in found for d in c.regressions]
    if regressions:
        console.print(f"[bold red]regressions:[/] {', '.join(regressions)}")
    console.print(f"wrote {out / 'compare.md'} and {out / 'compare.html'}")
    return 1 if regressions else 0
