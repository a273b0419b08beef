"""CodeDeploy's traffic shifting steps and the HAProxy weights that make each split."""

from __future__ import annotations

import pytest

from harness.deploys.schedule import Step, shift_steps, weights


def test_all_at_once_is_one_step_to_100_percent() -> None:
    assert shift_steps("AllAtOnce", canary_interval_s=15, linear_interval_s=3) == [Step(0, 100)]


def test_canary_shifts_10_percent_then_the_rest_one_interval_later() -> None:
    steps = shift_steps("Canary10Percent5Minutes", canary_interval_s=15, linear_interval_s=3)
    assert steps == [Step(0, 10), Step(15, 100)]


def test_linear_adds_10_percent_every_interval_and_ends_at_100_after_9() -> None:
    steps = shift_steps("Linear10PercentEvery1Minute", canary_interval_s=15,
                        linear_interval_s=3)
    assert [s.percent for s in steps] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert [s.at_s for s in steps] == [3 * i for i in range(10)]


@pytest.mark.parametrize("percent", [0, 10, 20, 33, 50, 90, 100])
@pytest.mark.parametrize(("blue", "green"), [(3, 3), (2, 2), (3, 1), (2, 3)])
def test_weights_give_green_its_share_of_round_robin(percent: int, blue: int, green: int
                                                     ) -> None:
    b, g = weights(percent, blue, green)
    assert 0 <= b <= 256
    assert 0 <= g <= 256
    share = 100 * green * g / (blue * b + green * g)
    assert share == pytest.approx(percent)


def test_weights_for_a_canary_of_three_tasks_each() -> None:
    assert weights(10, 3, 3) == (9, 1)
    assert weights(100, 3, 3) == (0, 1)
    assert weights(0, 3, 3) == (1, 0)


def test_weights_refuse_a_share_outside_0_to_100() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        weights(110, 3, 3)
