"""`harness replay` parsing: 1,000,000 ALB log lines, its time and peak memory.

The lines (tests.support.access_logs: a doors-open night, the shop's endpoint mix,
client addresses, agents and query strings on every line) are written to 8 files,
every other one gzip, then read by `harness.replay.reader.read_logs` in a fresh
process, so its peak resident memory (getrusage ru_maxrss: the interpreter, the
imports and the counters) is the parse's alone. The issue's limits: at most 60 s and
300 MB on the 2-core build machine.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from tests.support.access_logs import SHOP_MIX, doors_open, lines

LINES = 1_000_000
FILES = 8
_CHILD = """
import json, resource, sys, time
from pathlib import Path
from harness.replay.reader import read_logs
wall, cpu = time.perf_counter(), time.process_time()
tally, stats = read_logs([Path(sys.argv[1])])
print(json.dumps({
    "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
    "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "lines": stats.lines, "skipped": stats.skipped, "seconds": len(tally.per_second),
}))
"""


def _sink(folder: Path, i: int) -> IO[str]:
    """File i, gzip when i is odd; the caller's ExitStack closes it."""
    if i % 2:
        return gzip.open(folder / f"part-{i}.log.gz", "wt", encoding="utf-8")
    return (folder / f"part-{i}.log").open("w", encoding="utf-8")


def _write(folder: Path) -> int:
    """LINES lines over FILES files, round robin, streamed (never all in memory)."""
    seconds = 600
    base = doors_open(seconds, 100, 400)  # scaled to LINES exactly
    factor = LINES / sum(base)
    shape = [int(n * factor) for n in base]
    shape[seconds // 2] += LINES - sum(shape)
    written = 0
    with contextlib.ExitStack() as stack:
        outs = [stack.enter_context(_sink(folder, i)) for i in range(FILES)]
        for written, line in enumerate(lines(shape, SHOP_MIX, "alb"), start=1):
            outs[written % FILES].write(line + "\n")
    return written


def run() -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="hb-replay-", dir="/tmp"))
    try:
        written = _write(folder)
        child = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], check=True,
                               capture_output=True, text=True)
        result = json.loads(child.stdout)
        if not result["lines"] == written == LINES or result["skipped"]:
            raise RuntimeError(f"bench.replay: read {result}, wrote {written} lines")
        return {
            "replay_parse_1m_lines_s": round(result["wall_s"], 2),
            "replay_parse_1m_lines_cpu_s": round(result["cpu_s"], 2),
            "replay_parse_peak_rss_mb": round(result["rss_kb"] / 1024, 1),
            "replay_parse_lines_per_s": round(LINES / result["wall_s"]),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
