"""The published JSON Schema of policy-test files (schemas/policy-test.schema.json), for editors."""

from __future__ import annotations

from typing import Any

from servicerules.testing._model import PolicyTestFile

__all__ = ["policy_test_schema"]


def policy_test_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``*.test.yaml`` file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://servicerules.dev/schemas/policy-test.schema.json",
        **PolicyTestFile.model_json_schema(mode="validation"),
    }
