"""How long `harness up` takes to get each stack ready on the process runtime.

Goal (issue 2): under 15 s each after `make setup`. Each stack is started and
stopped twice; the better start is printed, since the first one also warms the
page cache (MariaDB, LocalStack's imports).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from harness.model.profile_file import load_profile
from harness.settings import Settings
from harness.stacks.stack import Stack

ROUNDS = 2


def _start_stop_s(arch: str, settings: Settings) -> float:
    stack = Stack(load_profile(arch), settings)
    started = time.monotonic()
    try:
        stack.start()
        return time.monotonic() - started
    finally:
        stack.stop()


def run() -> dict[str, float]:
    state = Path(tempfile.mkdtemp(prefix="hb-", dir="/tmp"))
    try:
        settings = Settings.from_env({**os.environ, "HARNESS_STATE_DIR": str(state)})
        return {
            f"stack_up_s_{arch}": min(_start_stop_s(arch, settings) for _ in range(ROUNDS))
            for arch in ("modern", "legacy")
        }
    finally:
        shutil.rmtree(state, ignore_errors=True)
