"""run.json: versioned, described by harness/report/run.schema.json, which is kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.report.record import SCHEMA_FILE, SCHEMA_VERSION, RunRecord, schema_text


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "run.json's model changed: run `python -m harness.report.record` to regenerate the schema"
    )


def test_demo_run_json_validates_against_the_schema(demo_dir: Path) -> None:
    doc = json.loads((demo_dir / "run.json").read_text())
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["status"] == "complete"
    assert [a["arch"] for a in doc["architectures"]] == ["legacy", "modern"]


def test_schema_rejects_unknown_fields_and_versions(demo_dir: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    doc = json.loads((demo_dir / "run.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "surprise": 1}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "schema_version": SCHEMA_VERSION + 1}, schema)


def test_run_json_reads_back_into_the_model(demo_dir: Path) -> None:
    record = RunRecord.model_validate_json((demo_dir / "run.json").read_text())
    modern = record.arch("modern")
    assert modern.recoveries[0].fault == "kill-app"
    assert record.verdict is not None
    assert record.verdict.exit_code == 1
