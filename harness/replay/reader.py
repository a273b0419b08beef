"""Reading access log files: plain or gzip, many, in any order, one line at a time.

S3 delivers a load balancer's logs as many files (one per node and interval; ALB
gzips them); a web fleet rotates and compresses its own. Each file is streamed, no
line is kept, and counts are bucketed by timestamp, so the order of files and of
lines does not matter. A folder stands for every `.log`, `.log.gz` and `.gz` file
under it.

A line no parser can read is skipped and counted; past the limit (--max-skipped:
N lines, P% of the lines read, or the default: 1000 lines or 1 %, whichever is
more) the read stops with one line naming the file and line, and why. The line's
text is never shown: it holds client addresses.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from harness.errors import ConfigError
from harness.replay.endpoints import template
from harness.replay.formats import PARSERS, Entry
from harness.replay.shape import Tally

_GZIP_MAGIC = b"\x1f\x8b"
_LOG_SUFFIXES = (".log", ".log.gz", ".gz")
_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")
#: a share alone is judged once this many lines were read (one bad line of the
#: first three is no 33 % of a night)
SHARE_AFTER_LINES = 1000


@dataclass(frozen=True)
class SkipLimit:
    """How many unreadable lines a read tolerates: `count` lines or `share` of those read."""

    count: int
    share: float

    @classmethod
    def parse(cls, text: str) -> SkipLimit:
        """'1000' -> 1000 lines; '2%' -> 2 % of the lines read."""
        m = _LIMIT.match(text)
        if m is None:
            raise ConfigError(f"--max-skipped {text!r}: give a number of lines (1000) or a "
                              "share of the lines read (2%)")
        value = float(m.group(1))
        if m.group(2):
            return cls(0, value / 100)
        if not value.is_integer():
            raise ConfigError(f"--max-skipped {text!r}: a number of lines is whole")
        return cls(int(value), 0.0)

    def exceeded(self, skipped: int, read: int, final: bool = False) -> bool:
        """More than allowed skipped? A share alone is judged from SHARE_AFTER_LINES lines on."""
        if self.share and (final or read >= SHARE_AFTER_LINES):
            return skipped > max(self.count, int(self.share * read))
        if self.share and not self.count:
            return False
        return skipped > self.count

    def __str__(self) -> str:
        share = f"{self.share * 100:g} % of the lines read"
        if self.count and self.share:
            return f"{self.count} lines or {share}, whichever is more"
        return share if self.share else f"{self.count} lines"


DEFAULT_LIMIT = SkipLimit(1000, 0.01)


@dataclass
class ReadStats:
    """What was read: lines, skipped lines (by reason), files."""

    files: int = 0
    lines: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    #: where the first skipped line is, for the summary
    first_skipped: str = ""


def log_files(paths: list[Path]) -> list[Path]:
    """The files to read: each path, a folder standing for its log files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.name.endswith(_LOG_SUFFIXES))
            if not found:
                raise ConfigError(f"{path}: no .log, .log.gz or .gz files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    return files


def open_log(path: Path) -> IO[str]:
    """The file as text lines, gunzipped when it is gzip (told by its first bytes)."""
    try:
        with path.open("rb") as probe:
            gzipped = probe.read(2) == _GZIP_MAGIC
        # returned open: the caller's `with` on the text wrapper closes it
        raw = cast(IO[bytes], gzip.open(path, "rb") if gzipped else path.open("rb"))  # noqa: SIM115
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    # a stray byte that is not UTF-8 must not stop a night's read: it becomes U+FFFD
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)


def lines_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) of one file; a broken gzip is a ConfigError."""
    number = 0
    with open_log(path) as text:
        try:
            for number, line in enumerate(text, start=1):
                yield number, line.rstrip("\r\n")
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ConfigError(f"{path}:{number + 1}: the file is cut short or not gzip as its "
                              f"start says ({exc}); download it again or leave it out") from None


def read_logs(paths: list[Path], *, fmt: str = "auto",
              limit: SkipLimit = DEFAULT_LIMIT) -> tuple[Tally, ReadStats]:
    """Every request of the files, counted; ConfigError past the skip limit."""
    parse = PARSERS[fmt]
    tally, stats = Tally(), ReadStats()
    last_where, last_reason = "", ""
    for path in log_files(paths):
        stats.files += 1
        for number, line in lines_of(path):
            if not line.strip():
                continue
            stats.lines += 1
            parsed = parse(line)
            if isinstance(parsed, Entry):
                tally.add(parsed, f"{parsed.method} {template(parsed.path)}")
                continue
            stats.skipped += 1
            stats.reasons[parsed.reason] = stats.reasons.get(parsed.reason, 0) + 1
            last_where, last_reason = f"{path}:{number}", parsed.reason
            if not stats.first_skipped:
                stats.first_skipped = f"{last_where}: {last_reason}"
            if limit.exceeded(stats.skipped, stats.lines):
                raise _too_many(last_where, last_reason, stats, limit, fmt)
    if limit.exceeded(stats.skipped, stats.lines, final=True):
        raise _too_many(last_where, last_reason, stats, limit, fmt)
    return tally, stats


def _too_many(where: str, reason: str, stats: ReadStats, limit: SkipLimit,
              fmt: str) -> ConfigError:
    hint = "give --format" if fmt == "auto" else f"is --format {fmt} right?"
    return ConfigError(
        f"{where}: cannot read this line ({reason}); {stats.skipped} of {stats.lines} lines "
        f"skipped, more than --max-skipped allows ({limit}); {hint}, or raise --max-skipped"
    )
