"""`harness report` and `harness compare`, as plain functions for harness/cli.py to register.

Both work from results folders alone (run.json, timeseries.csv, events.jsonl),
so they run on any machine the folder was copied to. A folder is one run or a
repeat set (`harness run --repeat N`: repeat-1 ... repeat-N inside). They raise
HarnessError subclasses (exit 2) on bad input and return the exit code otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from harness.analysis.compare import Comparison, Rule, Side, compare
from harness.analysis.series import ArchData
from harness.errors import ConfigError
from harness.report.assemble import write_reports
from harness.report.comparison import html, markdown, rich_table
from harness.report.record import RunRecord
from harness.report.results import (
    REPORT,
    TIMESERIES,
    ResultsDir,
    is_complete,
    read_events,
    read_record,
    read_timeseries,
    repeat_runs,
)


def report_command(run_dir: Path, *, console: Console | None = None) -> int:
    """Re-render report.html, junit.xml and summary.md of a results folder; return its verdict.

    The exit code is the one the run recorded (0 pass, 1 failed, 3 invalid); for a
    repeat set, every repeat is re-rendered and the worst code returned.
    """
    console = console or Console()
    repeats = repeat_runs(run_dir)
    if repeats:
        return max(report_command(r, console=console) for r in repeats)
    record = read_record(run_dir)
    # what a run stopped mid-write left is rebuilt from, and what was left out is said
    notes: list[str] = []
    if (run_dir / TIMESERIES).exists() or not record.architectures:
        data = read_timeseries(run_dir / TIMESERIES, notes)
    else:
        data = {}
        notes.append(f"{run_dir / TIMESERIES}: missing; the report has run.json's figures "
                     "but no per-second charts")
    write_reports(ResultsDir(run_dir), record, data, read_events(run_dir, notes))
    for note in notes:
        console.print(f"[yellow]{note}[/]", highlight=False)
    if not is_complete(run_dir):
        console.print(f"[yellow]{run_dir}: the run is incomplete (status {record.status}); "
                      "the report shows what was saved[/]")
    console.print(f"wrote {run_dir / REPORT}")
    return record.verdict.exit_code if record.verdict is not None else 1


@dataclass
class Loaded:
    """A results folder read for comparing: one run, or the complete repeats of a set."""

    path: Path
    runs: list[tuple[RunRecord, dict[str, ArchData]]]
    repeated: bool
    #: repeats left out, with why
    skipped: list[str] = field(default_factory=list)

    @property
    def order(self) -> list[str]:
        """The architectures as given to `harness run` (repeat-1's order)."""
        first = self.runs[0][0]
        names = list(first.settings.get("architectures") or first.arch_names)
        if first.repeat is not None and first.repeat.index % 2 == 0:
            names.reverse()
        return names

    def side(self, arch: str, label: str) -> Side:
        runs, recoveries, missing, costs = [], [], [], []
        for i, (record, data) in enumerate(self.runs, start=1):
            if arch not in data:
                have = ", ".join(data) or "none"
                raise ConfigError(f"{self.path}: no architecture {arch!r} in run "
                                  f"{record.run_id}; it has {have}")
            runs.append(data[arch])
            recoveries.append({r.fault: r.recovery_s for r in record.arch(arch).recoveries})
            missing.append({r.fault: f"{label} run {i}: {r.status.replace('_', ' ')}"
                            for r in record.arch(arch).recoveries if r.recovery_s is None})
            costs.append(record.arch(arch).cost)
        return Side(label, runs, recoveries, missing, costs)


def load(path: Path) -> Loaded:
    """A run or a repeat set; ConfigError when it is neither or no repeat is complete."""
    repeats = repeat_runs(path)
    if not repeats:
        record = read_record(path)  # a clear error when this is not a results folder
        return Loaded(path, [(record, read_timeseries(path / TIMESERIES))], repeated=False)
    loaded = Loaded(path, [], repeated=True)
    for run in repeats:
        record = read_record(run)
        if record.status != "complete":
            loaded.skipped.append(f"{run.name} ({record.status})")
            continue
        loaded.runs.append((record, read_timeseries(run / TIMESERIES)))
    if not loaded.runs:
        raise ConfigError(f"{path}: no repeat finished ({', '.join(loaded.skipped)})")
    return loaded


def _check_sizes(a: Loaded, b: Loaded) -> None:
    if (len(a.runs) == 1) != (len(b.runs) == 1):
        raise ConfigError(
            f"{a.path} has {len(a.runs)} complete runs and {b.path} {len(b.runs)}: compare "
            "a run with a run, or a repeat set with a repeat set of at least 2 repeats"
        )


def comparisons(
    baseline_dir: Path,
    candidate_dir: Path | None = None,
    *,
    baseline_arch: str | None = None,
    candidate_arch: str | None = None,
    seed: int = 0,
    rule: Rule | None = None,
) -> list[Comparison]:
    """What `compare_command` prints: one comparison per architecture pair.

    One folder: its two architectures (default legacy as baseline, modern as
    candidate; else the first two in the order given to `harness run`); a repeat
    set's repeats are paired (repeat i of both ran back to back). Two folders:
    each architecture they share (or the ones named), baseline folder first, unpaired.
    `rule`: the verdict rule (default: 95 %, Holm, 3 repeats, the metrics' own effects).
    """
    return _comparisons(load(baseline_dir), None if candidate_dir is None else load(candidate_dir),
                        baseline_arch=baseline_arch, candidate_arch=candidate_arch, seed=seed,
                        rule=rule or Rule())


def _compare(a: Side, b: Side, *, seed: int, paired: bool, rule: Rule) -> Comparison:
    return compare(a, b, seed=seed, paired=paired, confidence=rule.confidence,
                   min_repeats=rule.min_repeats, min_effects=rule.min_effects)


def _comparisons(base: Loaded, cand: Loaded | None, *, baseline_arch: str | None,
                 candidate_arch: str | None, seed: int, rule: Rule) -> list[Comparison]:
    if cand is None:
        names = base.order
        a = baseline_arch or ("legacy" if "legacy" in names else names[0])
        rest = [n for n in names if n != a]
        b = candidate_arch or ("modern" if "modern" in rest else (rest[0] if rest else ""))
        if not b:
            raise ConfigError(f"{base.path}: only {a} ran; give a second run to compare with")
        _check_sizes(base, base)
        return [_compare(base.side(a, a), base.side(b, b), seed=seed, paired=True, rule=rule)]
    _check_sizes(base, cand)
    if baseline_arch or candidate_arch:
        x = baseline_arch or candidate_arch or ""
        archs = [(x, candidate_arch or x)]
    else:
        archs = [(n, n) for n in base.order if n in cand.order]
        if not archs:
            raise ConfigError(
                f"{base.path} ({', '.join(base.order)}) and {cand.path} "
                f"({', '.join(cand.order)}) share no architecture; name them with "
                "--baseline-arch and --candidate-arch"
            )
    return [
        _compare(base.side(x, f"{base.path.name}:{x}"), cand.side(y, f"{cand.path.name}:{y}"),
                 seed=seed, paired=False, rule=rule)
        for x, y in archs
    ]


def compare_command(
    baseline_dir: Path,
    candidate_dir: Path | None = None,
    *,
    baseline_arch: str | None = None,
    candidate_arch: str | None = None,
    out_dir: Path | None = None,
    seed: int = 0,
    rule: Rule | None = None,
    console: Console | None = None,
) -> int:
    """Print per-metric deltas with confidence intervals; write compare.md and compare.html.

    The files go to `out_dir` (default: the candidate's results folder). Exit code 1
    when any metric is flagged as a regression, else 0 (also when there were too few
    repeats for any verdict: that is no regression found, and it is said).
    """
    console = console or Console()
    base = load(baseline_dir)
    cand = None if candidate_dir is None else load(candidate_dir)
    for folder in (base, cand):
        if folder is not None and folder.skipped:
            console.print(f"[yellow]{folder.path}: left out unfinished repeats: "
                          f"{', '.join(folder.skipped)}[/]")
    found = _comparisons(base, cand, baseline_arch=baseline_arch,
                         candidate_arch=candidate_arch, seed=seed, rule=rule or Rule())
    for c in found:
        console.print(rich_table(c))
        if c.too_few_repeats:
            console.print(f"[yellow]{c.candidate} vs {c.baseline}: no verdicts, {min(c.runs)} "
                          f"run{'s' if min(c.runs) > 1 else ''} a side and {c.min_repeats} "
                          "needed (harness run --repeat; harness compare --min-repeats)[/]")
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
