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

import contextlib
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.analysis.series import ALL, PERCENTILE_KEYS, ArchData
from harness.errors import ConfigError, ResultsError
from harness.records.classify import DROPPED
from harness.records.files import atomic_write, failed, read_jsonl
from harness.records.marker import MARKER, mark_ended, mark_running
from harness.records.recorder import SecondCounts, decoded, free, percentiles_ms
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
        try:
            (path / LOGS).mkdir()
        except OSError as exc:
            raise failed(path / LOGS, exc) from None
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
        # best effort: a folder that is full or gone cannot take the marker either, and
        # that must not hide the error that is on its way out
        with contextlib.suppress(ResultsError):
            if issubclass(exc_type, KeyboardInterrupt):
                self.mark_interrupted(what)
            elif issubclass(exc_type, ResultsError):
                self.mark_ended("stopped", str(exc))
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
                hist = d.cell((s, ep, cls))
                values = percentiles_ms(hist)
                writer.writerow({
                    "arch": arch, "second": s, "endpoint": ep, "class": cls,
                    "count": hist.get_total_count(),
                    **{f"{k}_ms": values[k] for k in PERCENTILE_KEYS},
                    "latency_hdr": d.cells[(s, ep, cls)],
                })
                free(hist)
            for ep, n in dropped.get(s, []):
                writer.writerow({"arch": arch, "second": s, "endpoint": ep, "class": DROPPED,
                                 "count": n})
    return buf.getvalue()


def read_timeseries(path: Path, notes: list[str] | None = None) -> dict[str, ArchData]:
    """ArchData per architecture from a timeseries.csv, histograms decoded exactly.

    The file is written atomically, but a copy can be cut short: a last row that is
    not whole is left out and `notes` says so; a damaged row before it is a ConfigError.
    """
    data: dict[str, ArchData] = {}
    try:
        fh = path.open(newline="")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        for row, line, last in _rows(reader):
            try:
                _add_row(data, row)
            except Exception as exc:  # any damage, also a histogram cut short
                if not last:
                    raise ConfigError(f"{path}:{line}: a damaged row ({exc}); this is not "
                                      "a whole timeseries.csv") from None
                if notes is not None:
                    notes.append(f"{path}: line {line} was cut off; left out")
    return data


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[dict[str, str], int, bool]]:
    """The rows with the line each ends on and whether it is the last one."""
    previous: tuple[dict[str, str], int] | None = None
    for row in reader:
        if previous is not None:
            yield *previous, False
        previous = row, reader.line_num
    if previous is not None:
        yield *previous, True


def _add_row(data: dict[str, ArchData], row: dict[str, str]) -> None:
    """One row of timeseries.csv into its architecture's data."""
    if None in row or None in row.values():
        raise ValueError("too few or too many columns")
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
        # the cell is kept encoded: decode it once here, so damage is found while reading
        free(decoded(row["latency_hdr"]))
        d.add_cell(s, row["endpoint"], row["class"], row["latency_hdr"])


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
    """run.json of a results folder; ConfigError when missing or not a run.json.

    The error of a run that wrote no (or half a) run.json says how the run ended
    (its INCOMPLETE marker) and which of its records are there, so the user knows
    what is left: run.json is the source of every report, so none is rebuilt without it.
    """
    path = run_dir / RUN_JSON
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing{_left(run_dir)}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}; is this a results folder?"
                          ) from None
    try:
        return RunRecord.model_validate_json(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not a valid run.json (schema v1): {_first_error(exc)}"
                          f"{_left(run_dir) if not text.rstrip().endswith('}') else ''}"
                          ) from None


def _first_error(exc: ValueError) -> str:
    """Pydantic's first complaint, on one line: `Invalid JSON: EOF while parsing ...`."""
    lines = [line.strip() for line in str(exc).splitlines()]
    detail = next((line for line in lines[1:] if line and not line.startswith("For further")),
                  "").split(" [type=")[0]
    return f"{lines[0]}: {detail}" if detail else lines[0]


#: what a run records before its run.json, and what each is
_RECORDS = ((TIMESERIES, "per-second series"), (EVENTS, "events"),
            ("metrics.jsonl", "metric samples"))


def _left(run_dir: Path) -> str:
    """`; INCOMPLETE says: <how it ended>; readable: timeseries.csv (per-second series), ...`."""
    if not run_dir.is_dir():
        return "; is this a results folder?"
    left = [f"{name} ({what})" for name, what in _RECORDS if (run_dir / name).is_file()]
    left += [f"{p.relative_to(run_dir)} (events)" for p in sorted(run_dir.glob("events-*.jsonl"))]
    left += [f"{p.relative_to(run_dir)} (per-second series)"
             for p in sorted(run_dir.glob("load/*/load-seconds.jsonl"))]
    try:
        ended = (run_dir / MARKER).read_text().strip()
    except OSError:
        ended = ""
    if not left and not ended:
        return "; is this a results folder?"
    how = f"; INCOMPLETE says: {ended}" if ended else ""
    kept = (f"; readable: {', '.join(left)}; a report needs run.json" if left
            else "; no record of the run was kept")
    return how + kept


def read_events(run_dir: Path, notes: list[str] | None = None) -> list[dict[str, Any]]:
    """events.jsonl as dicts (empty when the run had no events).

    A run stopped mid-write (a full disk, a kill) leaves half a last line: it is left
    out, and `notes` says so.
    """
    path = run_dir / EVENTS
    if not path.exists():
        return []
    return list(read_jsonl(path, notes))
