"""The rolling deploy finds php-fpm's master on either runtime, not its workers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.deploys.rolling import php_fpm_master


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """sh -> php-fpm-t (the 'master') -> php-fpm-t (a 'worker'), as in a legacy container."""
    fpm = tmp_path / "php-fpm-t"
    fpm.symlink_to(sys.executable)
    master = (f"import subprocess, time; subprocess.Popen(['{fpm}', '-c', "
              "'import time; time.sleep(60)']); time.sleep(60)")
    shell = subprocess.Popen(["sh", "-c", f"'{fpm}' -c \"{master}\"; :"])
    deadline = time.monotonic() + 10
    while len(psutil.Process(shell.pid).children(recursive=True)) < 2:
        assert time.monotonic() < deadline, "the fake php-fpm did not start"
        time.sleep(0.05)
    yield shell, fpm
    for proc in psutil.Process(shell.pid).children(recursive=True):
        proc.kill()
    shell.kill()
    shell.wait()


def test_the_master_is_found_below_a_containers_main_process(
        tree: tuple[subprocess.Popen[bytes], Path]) -> None:
    shell, _ = tree
    master = psutil.Process(shell.pid).children()[0]
    assert php_fpm_master([shell.pid]) == master.pid  # docker: the container's shell
    assert php_fpm_master([master.pid]) == master.pid  # process runtime: the master itself
    worker = master.children()[0]
    assert php_fpm_master([worker.pid]) is None  # a worker alone is not a master


def test_no_php_fpm_is_none() -> None:
    assert php_fpm_master([]) is None
    assert php_fpm_master([2**22 + 7]) is None  # a PID that does not exist
