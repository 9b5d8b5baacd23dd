"""The published JSON Schema of policy-test files (schemas/policy-test.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

from servicerules.testing import policy_test_schema

ROOT = Path(__file__).resolve().parents[2]


def test_published_schema_is_up_to_date(golden):
    # pytest --update-golden rewrites it
    golden(ROOT / "schemas" / "policy-test.schema.json", json.dumps(policy_test_schema(), indent=2, ensure_ascii=False) + "\n")


def test_schema_lets_editors_complete_and_check_test_files():
    schema = policy_test_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://servicerules.dev/schemas/policy-test.schema.json"
    assert schema["additionalProperties"] is False and schema["required"] == ["ruleset"]
    defs = schema["$defs"]
    assert all(d.get("additionalProperties") is False for d in defs.values() if d.get("type") == "object" and "properties" in d)
    assert set(defs["PolicyTestCase"]["properties"]) == {"note", "interaction", "interaction_file", "as_of", "locale", "skip", "expect"}
    assert set(defs["Expectation"]["properties"]) == {"violations", "only", "absent", "compliant", "not_applicable", "actions"}
    event = defs["CompactEvent"]["properties"]
    assert "from" in event and "from_" not in event  # the YAML key, not the Python name
    assert event["from"]["anyOf"][0]["enum"] == ["customer", "agent", "bot", "manager", "system"]
    relative = json.dumps(event["at"])
    assert "date-time" in relative and "\\\\+" in relative  # absolute or +<duration>
    items = defs["Expectation"]["properties"]["violations"]["items"]["anyOf"]
    assert items == [{"type": "string"}, {"$ref": "#/$defs/ExpectedViolation"}]  # a rule id alone, or a mapping
