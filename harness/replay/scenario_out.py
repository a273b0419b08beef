"""Writing the replay: a scenario (the `harness init` starter's top level, a series
workload, a fault at the peak second, SLOs, and `replayed_from:` for the report) and its
rate file, one number a line.

Only counts and templated endpoints go into either file: no client address, user
agent, query string or cookie from the logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.replay.formats import CLASSES
from harness.replay.journey_mix import JourneyMix, journey_endpoints
from harness.replay.shape import Shaped, Window, utc
from harness.scenario import starter

PHASE = "replay"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Replay:
    """Everything the written scenario says about where its traffic came from."""

    window: Window
    shaped: Shaped
    mix: JourneyMix
    #: the window's requests per status class (2xx ... other)
    classes: dict[str, float]
    files: int
    lines: int
    skipped: int

    @property
    def arrivals(self) -> list[float]:
        """Journeys started per replayed second: requests per second / requests per journey."""
        per = self.mix.requests_per_arrival
        return [rate / per for rate in self.shaped.rates]

    @property
    def peak_offset(self) -> int:
        """The replayed second with the most arrivals (the first of equals)."""
        rates = self.arrivals
        return max(range(len(rates)), key=rates.__getitem__)


def scenario_name(out: Path) -> str:
    """A valid scenario name from the output file's name: `night 2025.yaml` -> `night-2025`."""
    name = _NAME_CHARS.sub("-", out.stem).strip("-.") or "replay"
    return name if name[0].isalnum() else f"replay-{name}"


def number(value: float) -> str:
    """A rate as the files write it: at most 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def _ratio(replay: Replay) -> str:
    shaped = replay.shaped
    words = f"x{shaped.scale:g}"
    if shaped.compress > 1:
        words += f", time compressed {shaped.compress}:1"
    return words


def rates_text(replay: Replay) -> str:
    """The rate file: a header of comments, then one journeys-per-second number a line."""
    w = replay.window
    head = (
        f"# journeys started per second, one line a second, written by `harness replay`\n"
        f"# from {utc(w.start)} to {utc(w.end)} ({w.chosen}), {_ratio(replay)}; "
        f"{number(replay.mix.requests_per_arrival)} requests per journey\n"
    )
    return head + "".join(f"{number(r)}\n" for r in replay.arrivals)


def _mix_comments(mix: JourneyMix) -> str:
    calls = journey_endpoints()
    lines = ["  # The log's endpoint mix, mapped onto the sample shop's journeys by best match",
             "  # (harness/replay/journey_mix.py):"]
    lines += [f"  #   {name} = {' + '.join(calls[name])}" for name in calls]
    if mix.log_share:
        lines.append(f"  #   {'endpoint':<34} {'log':>8} {'replayed':>9}")
        for endpoint, share in sorted(mix.log_share.items(), key=lambda kv: -kv[1]):
            if not (share or mix.replay_share[endpoint]):
                continue
            lines.append(f"  #   {endpoint:<34} {_pct(share):>8} "
                         f"{_pct(mix.replay_share[endpoint]):>9}")
    if mix.unmapped:
        left = 1 - mix.mapped_share
        lines.append(f"  # Not replayed: no journey calls these ({_pct(left)} of the requests; "
                     "the rate below")
        lines.append("  # still carries them, spread over the journeys):")
        shown = list(mix.unmapped.items())[:8]
        lines += [f"  #   {endpoint[:60]:<60} {_pct(share):>8}" for endpoint, share in shown]
        if len(mix.unmapped) > len(shown):
            lines.append(f"  #   ... and {len(mix.unmapped) - len(shown)} more")
    if not mix.log_share:
        lines.append("  # No request in the window went to a shop endpoint: `browse` carries the "
                     "whole rate.")
    return "\n".join(lines) + "\n"


def scenario_text(replay: Replay, *, name: str, file: str, rates_file: str) -> str:
    """The whole scenario: the starter's top level, then the replayed workload."""
    w, mix = replay.window, replay.mix
    description = (f"replay of {utc(w.start)} to {utc(w.end)} from access logs, "
                   f"{_ratio(replay)}")
    classes = ", ".join(f"{c} {_pct(replay.classes[c] / total)}" for c in CLASSES
                        if (total := sum(replay.classes.values())) and replay.classes[c])
    compressed = (f"\n# Time compressed {replay.shaped.compress}:1: every "
                  f"{replay.shaped.compress} s of the log are replayed in 1 s at their mean rate."
                  if replay.shaped.compress > 1 else "")
    arrivals = replay.arrivals
    peak = replay.peak_offset
    per = number(mix.requests_per_arrival)
    peak_requests = number(replay.shaped.rates[peak])
    weights = "".join(f"    {n}: {{weight: {number(share)}}}\n"
                      for n, share in mix.weights.items())
    return starter.head_text(name, file=file, description=description, writer="replay") + f"""
# Replayed by `harness replay` from {replay.files} log files: {replay.lines} lines read,
# {replay.skipped} skipped. Window: {utc(w.start)} to {utc(w.end)} ({w.chosen}),
# {_ratio(replay)}.{compressed}
# Only per-second counts and templated endpoints come from the logs: no client
# addresses, user agents, query strings or cookies.
# Status classes of the original window: {classes or '-'}
workload:
{_mix_comments(mix)}  journeys:
{weights}  # Journeys started each second, one line a second in {rates_file}: the log's
  # requests per second {_ratio(replay)}, / {per} requests per journey.
  # Peak at +{peak}s: {number(arrivals[peak])} journeys/s ({peak_requests} requests/s).
  phases:
    - name: {PHASE}
      shape: series
      file: {rates_file}
      bucket: 1s
  timeouts: {{connect: 1s, read: 5s}}

# What if an instance or task is lost at the night's peak second? Edit or remove.
faults:
  - {{name: lose-an-app-at-peak, type: kill, target: app-1, at: {PHASE}+{peak}s}}

# what "good" means; one that fails makes `harness run` exit 1
slos:
  - {{name: keeps-up, metric: achieved_ratio, op: ">=", threshold: 0.95}}
  - {{name: p99, metric: p99, phase: {PHASE}, threshold: 1s}}
  - {{name: errors, metric: error_rate, phase: {PHASE}, threshold: 5%}}
  - {{name: recovers, metric: recovery_s, fault: lose-an-app-at-peak, threshold: 60s}}

recovery: {{baseline: 5s, consecutive: 3}}
{source_block(replay)}"""


def source_block(replay: Replay) -> str:
    """`replayed_from:` (harness.scenario.replayed): the original night, for the report."""
    w, shaped = replay.window, replay.shaped
    total = sum(replay.classes.values())
    status = "".join(
        f"    {c + ':':<6} {round(replay.classes[c]):>10}"
        f"{f'   # {_pct(replay.classes[c] / total)}' if total else ''}\n" for c in CLASSES)
    return f"""
# The original night, set beside the rehearsal in the report: its requests per second
# (the series above x requests_per_journey) against offered and answered, and its status
# mix (last year's system) against each architecture's (this stack).
replayed_from:
  phase: {PHASE}
  window: {{start: "{utc(w.start)}", end: "{utc(w.end)}", chosen: {json.dumps(w.chosen)}}}
  scale: {shaped.scale:.10g}
  compress: {shaped.compress}
  requests_per_journey: {number(replay.mix.requests_per_arrival)}
  files: {replay.files}
  lines: {replay.lines}
  skipped: {replay.skipped}
  requests: {round(total)}
  status:
{status}"""


def write_replay(replay: Replay, out: Path, *, force: bool = False) -> list[Path]:
    """Write the scenario and its rate file beside it; ConfigError instead of overwriting."""
    if out.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out}: a scenario file ends in .yaml")
    rates = out.with_suffix(".rates")
    existing = [str(p) for p in (out, rates) if p.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exists; choose another --out, "
                          "or --force to overwrite")
    text = scenario_text(replay, name=scenario_name(out), file=str(out), rates_file=rates.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    rates.write_text(rates_text(replay))
    out.write_text(text)
    return [out, rates]
