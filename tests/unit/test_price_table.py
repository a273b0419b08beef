"""The shipped price table: every price cited; a scenario's overrides checked by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.model.prices import check_overrides, load_prices
from harness.scenario.scenario import load_scenario

SMOKE = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"


def test_every_shipped_price_has_a_source_a_region_a_date_and_a_note() -> None:
    table = load_prices()
    assert table.region == "us-east-1"
    for name in table.names:
        d = table.defs[name]
        assert d.source.startswith("https://aws.amazon.com/"), name
        assert re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", d.read_on), name
        assert len(d.note) > 20, name


def test_the_profiles_sizes_are_in_the_table() -> None:
    table = load_prices()
    assert table.price("ec2_instance_hour", "t3.small") is not None
    assert table.price("rds_multi_az_instance_hour", "db.r5.large") is not None
    assert table.price("aurora_instance_hour", "db.r5.large") is not None


def test_an_unknown_price_name_is_rejected_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"s\.yaml: prices\.ec2_hour: no such price; known "
                                         r"prices: .*ec2_instance_hour"):
        check_overrides({"ec2_hour": 0.05}, load_prices().names, "s.yaml")


@pytest.mark.parametrize("value", [-1, "cheap", True, float("nan")])
def test_a_price_that_is_no_number_of_usd_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match=r"prices\.sqs_million: .* is not a price"):
        check_overrides({"sqs_million": value}, load_prices().names, "s.yaml")


def test_a_scenario_with_a_bad_price_names_its_file_and_line(tmp_path: Path) -> None:
    text = SMOKE.read_text() + "prices:\n  ec2_instance_hour: 0.05\n  fargate_vcpu: 0.03\n"
    bad = tmp_path / "smoke.yaml"
    bad.write_text(text)
    line = text.splitlines().index("  fargate_vcpu: 0.03") + 1
    with pytest.raises(ScenarioError, match=rf"smoke\.yaml:{line}: prices\.fargate_vcpu: no "
                                            "such price"):
        load_scenario(str(bad))


def test_a_scenario_may_override_a_price(tmp_path: Path) -> None:
    good = tmp_path / "smoke.yaml"
    good.write_text(SMOKE.read_text() + "prices: {ec2_instance_hour: 0.05}\n")
    scenario = load_scenario(str(good))
    assert scenario.definition["prices"] == {"ec2_instance_hour": 0.05}
