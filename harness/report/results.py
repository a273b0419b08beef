"""The results folder `results/<UTC timestamp>-<scenario>/`, written atomically.

Every file is written to a temporary name in the folder and renamed into place,
so a reader never sees half a file. While the run is in progress the folder
holds an `INCOMPLETE` marker (and run.json says `status: running`); `finish()`
removes it last. The marker (harness.records.marker) says how the run ended as soon as
that is known: `crashed at <time>: <error>` for an exception inside the `with` block.

    with ResultsDir.create(Path("results"), "blackfriday") as out:
        events = EventLog(out.events_path)
        ...
        out.write_timeseries(data)
        out.write_record(record)
        out.finish()
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.analysis.series import ALL, PERCENTILE_KEYS, ArchData
from harness.errors import ConfigError
from harness.records.classify import DROPPED
from harness.records.marker import MARKER, atomic_write, mark_ended, mark_running
from harness.records.recorder import SecondCounts, percentiles_ms
from harness.report.record import RunRecord

RUN_JSON = "run.json"
TIMESERIES = "timeseries.csv"
EVENTS = "events.jsonl"
REPORT = "report.html"
JUNIT = "junit.xml"
SUMMARY = "summary.md"
LOGS = "logs"
#: `harness run --repeat N` writes results/<set id>/repeat-1 ... repeat-N, each a run folder
REPEAT_PREFIX = "repeat-"

_COUNTS = [f.name for f in fields(SecondCounts)]
_FLOATS = ("cpu_pct", "cpu_wait_pct")
#: rows with endpoint "*" and class "*" are the second's totals (arrival counts);
#: the others are one histogram cell each, `latency_hdr` its exact encoding, or (class
#: `dropped`, no histogram) the arrivals dropped at the cap before their first request there
COLUMNS = [
    "arch", "second", "endpoint", "class", "count", *_COUNTS,
    *(f"{k}_ms" for k in PERCENTILE_KEYS), "latency_hdr",
]


def run_id(scenario: str, now: datetime | None = None) -> str:
    """`20261123T100501Z-blackfriday`: sorts by time, names the scenario."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{scenario}"


def is_complete(path: Path) -> bool:
    """True when the run in `path` finished writing its results."""
    return (path / RUN_JSON).exists() and not (path / MARKER).exists()


class ResultsDir:
    """One run's results folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, root: Path, scenario: str, *, now: datetime | None = None,
               name: str | None = None) -> ResultsDir:
        """Make the folder (`name`, default run_id()) and mark it incomplete.

        ConfigError if it already exists.
        """
        path = root / (name or run_id(scenario, now))
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            raise ConfigError(f"{path}: results folder already exists; wait a second") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the results folder: {exc.strerror}") from None
        out = cls(path)
        (path / LOGS).mkdir()
        mark_running(path)
        return out

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def events_path(self) -> Path:
        """Where the run's EventLog appends (a log: appended, not replaced)."""
        return self.path / EVENTS

    @property
    def logs_dir(self) -> Path:
        return self.path / LOGS

    @property
    def complete(self) -> bool:
        return is_complete(self.path)

    def __enter__(self) -> ResultsDir:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            return
        what = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        if issubclass(exc_type, KeyboardInterrupt):
            self.mark_interrupted(what)
        else:
            self.mark_ended("crashed", what)

    # -- writing --

    def write_text(self, name: str, text: str) -> Path:
        path = self.path / name
        atomic_write(path, text)
        return path

    def write_record(self, record: RunRecord) -> Path:
        return self.write_text(RUN_JSON, record.model_dump_json(indent=2) + "\n")

    def write_timeseries(self, data: Mapping[str, ArchData]) -> Path:
        return self.write_text(TIMESERIES, timeseries_csv(data))

    def write_events(self, events: list[dict[str, Any]]) -> Path:
        """events.jsonl from events kept in memory (when the EventLog had no path)."""
        return self.write_text(EVENTS, "".join(json.dumps(e, default=str) + "\n" for e in events))

    def finish(self) -> None:
        """The last step of a run: the folder is complete."""
        (self.path / MARKER).unlink(missing_ok=True)

    def mark_interrupted(self, reason: str, *, by: str = "") -> None:
        """`interrupted at <time> by SIGTERM: <reason>`."""
        self.mark_ended("interrupted", reason, by=by)

    def mark_ended(self, how: str, reason: str, *, by: str = "") -> None:
        """The marker says how the run ended: `<how> at <time>[ by <signal>]: <reason>`."""
        mark_ended(self.path, how, reason, by=by)


def timeseries_csv(data: Mapping[str, ArchData]) -> str:
    """Per arch x second: a totals row, then one row per endpoint x class histogram."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for arch, d in data.items():
        cells: dict[int, list[tuple[str, str]]] = {}
        for s, ep, cls in sorted(d.cells):
            cells.setdefault(s, []).append((ep, cls))
        dropped: dict[int, list[tuple[str, int]]] = {}
        for (s, ep), n in sorted(d.dropped.items()):
            dropped.setdefault(s, []).append((ep, n))
        for row in d.rows():
            s = row["second"]
            writer.writerow({
                "arch": arch, "second": s, "endpoint": ALL, "class": ALL,
                "count": row["requests"], **{k: row[k] for k in _COUNTS},
                **{f"{k}_ms": row[k] for k in PERCENTILE_KEYS},
            })
            for ep, cls in cells.get(s, []):
                hist = d.cells[(s, ep, cls)]
                values = percentiles_ms(hist)
                writer.writerow({
                    "arch": arch, "second": s, "endpoint": ep, "class": cls,
                    "count": hist.get_total_count(),
                    **{f"{k}_ms": values[k] for k in PERCENTILE_KEYS},
                    "latency_hdr": hist.encode().decode(),
                })
            for ep, n in dropped.get(s, []):
                writer.writerow({"arch": arch, "second": s, "endpoint": ep, "class": DROPPED,
                                 "count": n})
    return buf.getvalue()


def read_timeseries(path: Path) -> dict[str, ArchData]:
    """ArchData per architecture from a timeseries.csv, histograms decoded exactly."""
    data: dict[str, ArchData] = {}
    try:
        fh = path.open(newline="")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        for row in csv.DictReader(fh):
            d = data.setdefault(row["arch"], ArchData(row["arch"]))
            s = int(row["second"])
            if row["endpoint"] == ALL and row["class"] == ALL:
                counts = SecondCounts(**{k: int(row[k]) for k in _COUNTS if k not in _FLOATS})
                # a results folder from before cpu_wait_pct has no such column
                for k in _FLOATS:
                    setattr(counts, k, float(row.get(k) or 0.0))
                d.counts[s] = counts
            elif row["class"] == DROPPED:
                d.add_dropped(s, row["endpoint"], int(row["count"]))
            else:
                d.add_cell(s, row["endpoint"], row["class"], row["latency_hdr"])
    return data


def create_repeat_set(root: Path, scenario: str) -> Path:
    """The parent folder of a repeated rehearsal, marked incomplete until every repeat ran."""
    path = root / run_id(scenario)
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        raise ConfigError(f"{path}: results folder already exists; wait a second") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the results folder: {exc.strerror}") from None
    mark_running(path)
    return path


def repeat_runs(path: Path) -> list[Path]:
    """The run folders of a repeat set, repeat-1 first; [] when `path` is a plain run."""
    if (path / RUN_JSON).exists() or not path.is_dir():
        return []
    found = [c for c in path.iterdir()
             if c.is_dir() and c.name.startswith(REPEAT_PREFIX)
             and c.name[len(REPEAT_PREFIX):].isdigit() and (c / RUN_JSON).exists()]
    return sorted(found, key=lambda c: int(c.name[len(REPEAT_PREFIX):]))


def read_record(run_dir: Path) -> RunRecord:
    """run.json of a results folder; ConfigError when missing or not a run.json."""
    path = run_dir / RUN_JSON
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}; is this a results folder?"
                          ) from None
    try:
        return RunRecord.model_validate_json(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not a valid run.json (schema v1): {first}") from None


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    """events.jsonl as dicts (empty when the run had no events); bad lines are skipped."""
    path = run_dir / EVENTS
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a run killed mid-write leaves half a last line
    return events
