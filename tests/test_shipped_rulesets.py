"""The shipped rulesets compile, and the charter's own policy tests pass with full rule coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

import servicerules
from servicerules.testing import run_tests

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["charter", "starter"])
def test_shipped_rulesets_compile(name):
    ruleset = servicerules.load(ROOT / "rulesets" / f"{name}.yaml")
    assert ruleset.rules
    for rule in ruleset.rules:
        spec = rule.spec
        assert spec.title and spec.references, spec.id
        if name == "charter":
            assert rule.actions, f"{spec.id} has no recommended action"
            assert all(a.owner and a.due_in for a in rule.actions), spec.id
            assert {"en", "de"} <= set(rule.templates), f"{spec.id} needs English and German messages"


def test_charter_policy_tests_pass_with_full_rule_coverage():
    run = run_tests([ROOT / "rulesets" / "charter.test.yaml"])
    assert run.errors == [] and run.failed == 0 and run.passed >= 20
    (coverage,) = run.coverage
    assert coverage.percent == 100.0, [r for r in coverage.rules if not (r.violated and r.compliant)]


def test_starter_greeting_message_names_the_customer_by_id_when_there_is_no_name():
    starter = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    events = [{"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "@shop my parcel?"},
              {"at": "2026-03-02T09:10:00Z", "type": "message", "author": {"role": "agent"}, "text": "It ships today."}]
    record = {"id": "S-1", "channel": "social", "created_at": "2026-03-02T09:00:00Z", "customer": {"id": "c103"}, "events": events}
    (greeting,) = [v for v in starter.evaluate(record).violations if v.rule_id == "protocol.greeting"]
    assert greeting.message == "The first reply to c103 did not open with a greeting."
