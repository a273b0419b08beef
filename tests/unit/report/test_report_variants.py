"""A scenario's variant in run.json and the reports: its description and every override, base
value beside new, and the modelled rows it changed marked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.record import SCHEMA_FILE, RunRecord
from harness.report.summary import summary_md
from harness.scenario.scenario import SCENARIOS_DIR, load_scenario
from harness.scenario.slo import Objectives
from harness.scenario.variants import modelled_rows
from tests.support.synthetic import synthetic

SOURCE = "ELB Classic guide: TCP listeners use round robin"


def _record(tmp_path: Path) -> RunRecord:
    """What `harness run` records for `legacy` and `legacy#rr`, from a real scenario file."""
    smoke = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())
    smoke["architectures"] = ["legacy", "legacy#rr"]
    smoke["variants"] = {"legacy#rr": {
        "description": "round robin, as a CLB's TCP listener routes",
        "profile": {"load_balancer": {"routing": {"value": "round_robin", "source": SOURCE}},
                    "app": {"instances": 3}},
    }}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(smoke, sort_keys=False))
    scenario = load_scenario(str(path))
    variants = {a: v.to_json() for a in scenario.architectures
                if (v := scenario.variant(a)) is not None}
    header = RunHeader(
        run_id="r", scenario=scenario.name, seed=1, phases=[("main", 0.0, 10.0)],
        profiles={a: scenario.profile(a).model_dump(mode="json") for a in scenario.architectures},
        modelled={a: modelled_rows(scenario.profile(a), scenario.variant(a), 0.05)
                  for a in scenario.architectures},
        variants=variants,
    )
    data = {a: synthetic(a, 10) for a in scenario.architectures}
    return build_record(header, Objectives(), data, [])


def test_run_json_records_each_override_with_its_base_value(tmp_path: Path) -> None:
    record = _record(tmp_path)
    assert record.arch("legacy").variant is None
    variant = record.arch("legacy#rr").variant
    assert variant is not None
    assert variant.description == "round robin, as a CLB's TCP listener routes"
    assert [(o.setting, o.base_value, o.value, o.source) for o in variant.overrides] == [
        ("load_balancer.routing", "least_outstanding_requests", "round_robin", SOURCE),
        ("app.instances", 2, 3, None),
    ]
    doc = json.loads(record.model_dump_json())
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert RunRecord.model_validate(doc) == record


def test_modelled_rows_show_the_overrides_source_and_are_marked(tmp_path: Path) -> None:
    record = _record(tmp_path)
    rows = {m.setting: m for m in record.arch("legacy#rr").modelled}
    assert rows["load_balancer.routing"].overridden
    assert rows["load_balancer.routing"].source == SOURCE
    assert not rows["load_balancer.idle_timeout_s"].overridden
    assert not any(m.overridden for m in record.arch("legacy").modelled)


def test_summary_and_html_list_the_overrides_of_the_variant(tmp_path: Path) -> None:
    record = _record(tmp_path)
    md = summary_md(record)
    assert "## Overrides in this variant: legacy#rr" in md
    assert (f"- `load_balancer.routing`: least_outstanding_requests → **round_robin** "
            f"(source: {SOURCE})") in md
    assert "- `app.instances`: 2 → **3**" in md
    assert md.count("## Overrides in this variant") == 1
    assert "| load_balancer.routing | round_robin | round_robin **(variant)** |" in md
    html = render(record, {}, [])
    assert 'id="variant-legacy#rr"' in html
    assert "<code>load_balancer.routing</code>: least_outstanding_requests →" in html
    assert html.count('class="overridden"') == 1
