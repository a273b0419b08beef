"""A rate series file: one number a line, arrivals per second of one bucket each.

    # written by harness replay: ALB logs 2025-11-28 20:00:00Z..20:10:00Z, x3
    120
    131.5
    0

Blank lines and lines starting with `#` are skipped; every other line is one bucket,
in order. A bad line is a `file:line: what` problem, as everywhere else; the file is
read once, when the scenario is loaded, and its values travel inline from then on.
"""

from __future__ import annotations

import math
from pathlib import Path

#: far more than a week of seconds; a larger "rate file" is some other file
MAX_BYTES = 16 * 1024 * 1024


def read_rates(path: Path) -> list[float]:
    """The buckets' rates from `path`; ValueError naming the file (and line) when it is bad."""
    if not path.exists():
        raise ValueError(f"{path}: no such rate file (a relative path is taken from the "
                         "scenario's folder)")
    if not path.is_file():
        raise ValueError(f"{path}: not a file; a rate file has one number a line")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValueError(f"{path}: larger than {MAX_BYTES // 2**20} MB; is it a rate file?")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the rate file: {exc}") from None
    rates: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        try:
            rate = float(item)
        except ValueError:
            raise ValueError(f"{path}:{number}: {item[:40]!r} is not a rate; write one number "
                             "a line (arrivals per second of that bucket)") from None
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"{path}:{number}: {item!r}: a rate is a number >= 0")
        rates.append(rate)
    if not rates:
        raise ValueError(f"{path}: no rates in the file; write one number a line")
    return rates
