"""A complete results folder from the demo run (synthetic, two architectures), made once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.demo import write_demo


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory.mktemp("results")).path
