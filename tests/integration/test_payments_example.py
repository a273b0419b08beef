"""The worked example (examples/payments), run as a team would: `harness run` on its scenario.

A Python (Flask) payments service of its own on both eras (profile files beside the
scenario that extend legacy and modern and change only the app), with its own schema,
seed, queue, SQL checks and a locustfile that marks every payment with `record_write`.
One run, the planted bug (201 before the commit, every 10th payment never written) on
legacy and the clean service on modern: the bug fails the run through its own lost-write
check, the clean service passes every check. The docker runtime runs the other pairing
(tests/containers/test_payments_on_docker.py), so each era runs each variant once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.payments_example import assert_one_clean_one_bug, run_example

pytestmark = pytest.mark.integration


def test_the_planted_bug_fails_the_run_and_the_clean_service_passes_its_own_checks(
    short_tmp: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    code, output, record = run_example(
        env, tmp_path / "out", "--arch", "legacy#payments-bug,modern#payments")
    assert_one_clean_one_bug(code, output, record, clean="modern#payments",
                             bug="legacy#payments-bug")
