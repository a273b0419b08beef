"""The harness CLI in a subprocess whose output is read in the background, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HARNESS = str(Path(sys.executable).parent / "harness")


class CliProcess:
    """`harness <args>` with its stdout and stderr collected line by line as it runs."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [HARNESS, *args], env=env, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float = 90) -> None:
        """Until a line contains `text`; an AssertionError with the output if it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in the output:\n{self.output}")

    def close(self) -> None:
        """Stop reading (the process has ended or is being left to end)."""
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class KilledOnClose(CliProcess):
    """A CliProcess a test may abandon mid-run: closing it kills what is still running."""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        super().close()


class LegacySmoke(KilledOnClose):
    """`harness run smoke --arch legacy --ci` under its own state dir, for tests that stop
    it mid-run; its results go to `out`."""

    def __init__(self, state: Path, out: Path) -> None:
        env = {**os.environ, "HARNESS_STATE_DIR": str(state), "COLUMNS": "200"}
        super().__init__(["run", "smoke", "--arch", "legacy", "--ci", "--out", str(out)], env)
        self.out = out


#: lines of a run's output that say why it ended as it did, wherever they are in it
_TELLING = ("error", "verdict", "incomplete", "invalid", "failed", "not judged", "warning")


def told(result: subprocess.CompletedProcess[str], tail: int = 3000) -> str:
    """A finished run's output for an assertion message: its telling lines, then its end.

    The end alone (a compare table) can hide the line that said why a run failed, printed
    minutes before it.
    """
    lines = [line for line in (result.stdout + "\n" + result.stderr).splitlines()
             if any(word in line.lower() for word in _TELLING)]
    return ("\n".join(lines[:40]) + "\n--- the end of its output ---\n"
            + result.stdout[-tail:] + result.stderr[-tail:])
