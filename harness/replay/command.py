"""`harness replay LOGS... --out night.yaml`: last year's access logs into a scenario.

Reads ALB, Classic LB or nginx/Apache combined access logs (reader.py, formats.py),
counts requests per second and per endpoint (shape.py), picks the window
(--from/--to or --busiest), scales and compresses it, maps the endpoint mix onto the
shop's journeys (journey_mix.py) and writes a scenario with a `series` phase and its
rate file (scenario_out.py). Prints what was read and what will be replayed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from harness.replay.journey_mix import JourneyMix, fit
from harness.replay.reader import DEFAULT_LIMIT, ReadStats, SkipLimit, read_logs
from harness.replay.scenario_out import Replay, number, write_replay
from harness.replay.shape import Tally, pick_window, shape, utc

out = Console(width=None if sys.stdout.isatty() else 160)
TOP_ENDPOINTS = 10


def replay(
    logs: Annotated[list[Path], typer.Argument(
        help="access log files (.log or .log.gz) or folders of them, in any order")],
    out_file: Annotated[Path, typer.Option(
        "--out", help="scenario to write (its rate file goes beside it as NAME.rates)")],
    scale: Annotated[float, typer.Option(help="multiply the log's rates, e.g. 3")] = 1.0,
    busiest: Annotated[str | None, typer.Option(
        help="replay the busiest stretch of this length, found in the logs, e.g. 10m")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="replay from this time (ISO 8601, UTC unless it says otherwise)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="replay up to this time")] = None,
    compress: Annotated[int, typer.Option(
        help="replay N seconds of the log in one, at their mean rate (2: half as long)")] = 1,
    fmt: Annotated[Literal["auto", "alb", "clb", "combined"], typer.Option(
        "--format", help="log format; auto tells each line's by its start")] = "auto",
    max_skipped: Annotated[str, typer.Option(
        help="unreadable lines tolerated: N lines or P% of those read "
             "[default: 1000 lines or 1 %, whichever is more]", show_default=False)] = "",
    force: Annotated[bool, typer.Option(help="overwrite existing files")] = False,
) -> None:
    """Turn access logs into a scenario whose traffic replays that night, scaled."""
    limit = SkipLimit.parse(max_skipped) if max_skipped else DEFAULT_LIMIT
    tally, stats = read_logs(logs, fmt=fmt, limit=limit)
    window = pick_window(tally, start=start, end=end, busiest_for=busiest)
    shaped = shape(tally.series(window.start, window.end), scale=scale, compress=compress)
    mix = fit(tally.endpoint_mix(window.start, window.end))
    result = Replay(window=window, shaped=shaped, mix=mix,
                    classes=tally.class_mix(window.start, window.end),
                    files=stats.files, lines=stats.lines, skipped=stats.skipped)
    _print_read(tally, stats)
    _print_window(tally, result)
    _print_mix(mix)
    written = write_replay(result, out_file, force=force)
    out.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False, soft_wrap=True)
    out.print(f"next: harness validate {written[0]}; harness run {written[0]} --arch modern",
              highlight=False, soft_wrap=True)


def _say(text: str) -> None:
    out.print(text, highlight=False, soft_wrap=True, markup=False)


def _print_read(tally: Tally, stats: ReadStats) -> None:
    first, last = tally.span
    peak_at = max(tally.per_second, key=lambda s: (tally.per_second[s], -s))
    skipped = f"{stats.skipped:,} skipped"
    if stats.first_skipped:
        skipped += f" (first: {stats.first_skipped})"
    _say(f"read {stats.files} files: {stats.lines:,} lines, {tally.requests:,} requests, {skipped}")
    _say(f"logs span {utc(first)} to {utc(last + 1)} ({_length(last + 1 - first)}); "
         f"peak second {utc(peak_at)}: {tally.per_second[peak_at]:,} requests")


def _print_window(tally: Tally, result: Replay) -> None:
    w = result.window
    counts = tally.series(w.start, w.end)
    total = sum(result.classes.values())
    classes = ", ".join(f"{c} {share / total:.1%}" for c, share in result.classes.items()
                        if share) if total else "-"
    _say(f"window {utc(w.start)} to {utc(w.end)} ({w.chosen}): {sum(counts):,} requests, "
         f"peak {max(counts, default=0):,}/s; status classes {classes}")
    endpoints = tally.endpoint_mix(w.start, w.end)
    _say("top endpoints in the window:")
    for endpoint, n in sorted(endpoints.items(), key=lambda kv: -kv[1])[:TOP_ENDPOINTS]:
        _say(f"  {endpoint[:70]:<70} {n / max(total, 1):>7.1%}")
    shaped, peak = result.shaped, result.peak_offset
    compressed = f", compressed {shaped.compress}:1" if shaped.compress > 1 else ""
    _say(f"replayed x{shaped.scale:g}{compressed}: {len(shaped.rates)} s, peak "
         f"{number(shaped.rates[peak])} requests/s = {number(result.arrivals[peak])} journeys/s "
         f"at +{peak}s ({number(result.mix.requests_per_arrival)} requests per journey)")


def _print_mix(mix: JourneyMix) -> None:
    weights = ", ".join(f"{n} {share:.1%}" for n, share in mix.weights.items())
    if not mix.log_share:
        _say(f"journeys: {weights}: no request went to a shop endpoint; browse carries the rate")
        return
    off = max(abs(mix.log_share[e] - mix.replay_share[e]) for e in mix.log_share)
    _say(f"journeys: {weights}; shop endpoints carry {mix.mapped_share:.1%} of the requests, "
         f"their mix replayed within {off * 100:.1f} points")


def _length(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v) or "0s"
