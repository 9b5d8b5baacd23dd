"""Published JSON Schemas: rulesets (for editors via yaml-language-server), interactions, reports, policy tests,
mappings and batch summaries."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["json_schema"]

_BASE = "https://servicerules.dev/schemas/"


def json_schema(which: Literal["ruleset", "interaction", "report", "policy-test", "mapping", "summary"]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ruleset file, an interaction record, a report, a policy-test
    file, a mapping file or a batch summary (``check --summary-json``)."""
    if which == "mapping":
        from servicerules.batch.mapping import mapping_json_schema

        return mapping_json_schema()
    if which == "policy-test":
        from servicerules.testing import policy_test_schema

        return policy_test_schema()
    if which == "summary":
        from servicerules.batch.summary_schema import summary_json_schema

        schema = summary_json_schema()
    else:
        if which == "ruleset":
            from servicerules.model.ruleset import RulesetSpec as model
        elif which == "interaction":
            from servicerules.model.interaction import Interaction as model  # type: ignore[assignment]
        elif which == "report":
            from servicerules.report import Report as model  # type: ignore[assignment]
        else:
            raise ValueError(f"unknown schema {which!r}; choose ruleset, interaction, report, policy-test, mapping or summary")
        schema = model.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE}{which}.schema.json",
        **schema,
    }
