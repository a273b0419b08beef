"""The live progress line: phase, offered and achieved rate, p95, errors, active faults."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from harness.records.classify import ERROR_CLASSES


def line(row: dict[str, Any], active_faults: list[str] | None = None) -> Text:
    """One second as a line of text (also used without a terminal, in logs)."""
    errors = sum(int(row.get(c, 0)) for c in ERROR_CLASSES)
    requests = errors + int(row.get("ok", 0))
    share = errors / requests * 100 if requests else 0.0
    text = Text()
    text.append(f"{row.get('phase') or '-':>10} ", style="bold")
    text.append(f"{row['second'] + 1:>5}s  ")
    text.append(f"offered {row['offered']:>6}/s  achieved {row['achieved']:>6}/s  ")
    text.append(f"p95 {row['p95']:>8.1f} ms  ")
    text.append(f"errors {errors:>5} ({share:4.1f}%)", style="red" if errors else "")
    if row.get("dropped"):
        text.append(f"  dropped {row['dropped']}", style="yellow")
    if row.get("lag_p99_ms", 0) > 100:
        text.append(f"  generator lag {row['lag_p99_ms']:.0f} ms", style="yellow")
    text.append(f"  faults: {', '.join(active_faults) if active_faults else '-'}")
    return text


class ProgressLine:
    """A Rich Live line fed by run_load's on_second callback; a plain line per second off a tty."""

    def __init__(
        self, console: Console, active_faults: Callable[[], list[str]] | None = None
    ) -> None:
        self.console = console
        self.active_faults = active_faults
        self._live = Live(Text("starting the generator ..."), console=console, transient=False)

    def __enter__(self) -> ProgressLine:
        if self.console.is_terminal:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.console.is_terminal:
            self._live.__exit__(exc_type, exc, tb)

    def __call__(self, row: dict[str, Any]) -> None:
        text = line(row, self.active_faults() if self.active_faults else None)
        if self.console.is_terminal:
            self._live.update(text)
        else:
            self.console.print(text)
