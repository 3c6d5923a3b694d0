"""The shipped JSON Schema: current with the models, and agreeing with the shipped YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugin.composition import rules_schema
from plugin.process.rulesfile import read_yaml, to_json_compatible

CONFIG = Path(__file__).resolve().parent.parent / "config"
SCHEMA_FILE = CONFIG / "rules.schema.json"
RULES_FILE = CONFIG / "rules.yaml"


def shipped_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def yaml_as_json(text: str) -> Any:
    data, _ = read_yaml(text, "rules.yaml")
    return to_json_compatible(data)


def test_shipped_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == rules_schema(), (
        "config/rules.schema.json is stale; regenerate it with "
        "`crossdept schema --output config/rules.schema.json`"
    )


def test_schema_is_a_valid_2020_12_schema_with_a_title() -> None:
    schema = shipped_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "crossdept rules file"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_shipped_yaml_validates_against_shipped_schema() -> None:
    document = yaml_as_json(RULES_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(shipped_schema()).validate(document)


def test_shipped_yaml_points_editors_at_the_schema() -> None:
    first = RULES_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=rules.schema.json"


def test_durations_and_working_hours_are_string_patterns() -> None:
    defs = shipped_schema()["$defs"]
    after = defs["EscalationStep"]["properties"]["after"]
    text_form = next(option for option in after["anyOf"] if option["type"] == "string")
    pattern = re.compile(text_form["pattern"])
    for good in ("24h", "3d", "90m", "2w", "90min"):
        assert pattern.search(good), good
    for bad in ("soon", "PT24H", "3 days"):
        assert not pattern.search(bad), bad
    work_hours = defs["CalendarRules"]["properties"]["work_hours"]
    assert work_hours["type"] == "string"
    assert work_hours["default"] == "09:00-18:00"
    assert defs["OwnershipRules"]["properties"]["warn_before_due"]["default"] == "24h"
    assert defs["MeetingRules"]["properties"]["notice"]["default"] == "3d"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  projects: [XD]\n", "  projects: [XD]\n  requst: {}\n"), "requst"),
        (("after: 48h", "after: soon"), "soon"),
        (("days: 3\n", "days: three\n"), "three"),
        (("language: zh-CN", "language: english"), "english"),
    ],
)
def test_schema_catches_the_mistakes_editors_should_flag(
    change: tuple[str, str], message: str
) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    document = yaml_as_json(text.replace(change[0], change[1], 1))
    errors = list(jsonschema.Draft202012Validator(shipped_schema()).iter_errors(document))
    assert errors
    assert any(message in error.message for error in errors)
