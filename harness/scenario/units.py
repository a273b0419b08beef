"""Durations as scenario files write them: `30s`, `500ms`, `2m`, `1m30s`, or a number of seconds."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
#: the same forms as a JSON Schema pattern (strings; plain numbers are seconds)
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?(ms|s|m|h))+\s*$"


def parse_duration(value: object) -> float:
    """Seconds from `30s`, `500ms`, `1m30s` or a number; ValueError naming the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s or 500ms")
    if isinstance(value, int | float):
        if not math.isfinite(value):  # YAML's .nan and .inf; NaN passes every comparison
            raise ValueError(f"{value!r} is not a duration; write a number of seconds or e.g. 30s")
        if value < 0:
            raise ValueError(f"{value!r}: a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s or 500ms")
    text = value.strip().replace(" ", "")
    if text.startswith("-"):
        raise ValueError(f"{value!r}: a duration cannot be negative")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 500ms or 1m30s")
    if not math.isfinite(total):  # hundreds of digits: too long for a float
        raise ValueError(f"{value[:20]!r}... is too long a duration; write e.g. 30s or 2h")
    return total
