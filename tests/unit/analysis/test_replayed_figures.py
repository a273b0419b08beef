"""The original night beside the rehearsal: the log's requests x scale against offered and
answered over the replayed phase only, and the rehearsal's status mix by class."""

from __future__ import annotations

import pytest

from harness.analysis.replayed import figures, log_rate
from tests.support.replayed_night import DROPPED, NIGHT, REHEARSED, rehearsal


def test_the_figures_cover_the_replayed_phase_and_not_the_warm_up() -> None:
    f = figures(NIGHT, rehearsal())
    assert (f.start_s, f.end_s, f.cut) == (2, 5, None)
    assert f.log_requests == 60  # 10 + 20 + 30
    assert f.offered == 30  # journeys; the 14 of the warm-up are not counted
    assert f.offered_requests == 60  # x 2 requests per journey
    assert f.offered_ratio == pytest.approx(1.0)
    assert f.sent == sum(REHEARSED.values())
    # answered: requests with an HTTP status; a timeout or refused connection has none
    assert f.answered == 40 + 2 + 3
    assert f.answered_ratio == pytest.approx(45 / 60)


def test_connection_errors_and_timeouts_are_classes_of_their_own_never_5xx() -> None:
    f = figures(NIGHT, rehearsal())
    attempts = sum(REHEARSED.values()) + DROPPED
    assert f.classes["http_5xx"] == 3
    assert f.classes["timeout"] == 4
    assert f.classes["connection_refused"] == 1
    assert f.classes["dropped"] == DROPPED
    assert f.shares["http_5xx"] == pytest.approx(3 / attempts)
    assert sum(f.shares.values()) == pytest.approx(1.0)


def test_a_harness_failure_cuts_the_comparison_and_says_so() -> None:
    cut_data = rehearsal().before(3)
    f = figures(NIGHT, cut_data, measured_until_s=3)
    assert (f.start_s, f.end_s) == (2, 3)
    assert f.log_requests == 10  # only the seconds measured are compared
    assert f.cut is not None
    assert "measured until 3 s" in f.cut


def test_the_logs_rate_is_found_by_run_second() -> None:
    assert [log_rate(NIGHT, s) for s in range(6)] == [None, None, 10.0, 20.0, 30.0, None]
