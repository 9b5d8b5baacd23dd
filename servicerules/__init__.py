"""servicerules: checkable customer-service policies.

Load a ruleset once, evaluate many interactions::

    import servicerules
    policy = servicerules.load("rulesets/starter.yaml")
    report = policy.evaluate(interaction_dict, as_of=datetime(2026, 3, 2, 18, tzinfo=timezone.utc))
    for violation in report.violations:
        print(violation.rule_id, violation.message)
"""

from servicerules.engine import CompiledRuleset, Rejection, Verdicts, load
from servicerules.errors import (
    Diagnostic,
    EvaluationError,
    InteractionError,
    Location,
    RulesetError,
    ServiceRulesError,
)
from servicerules.model.interaction import Interaction
from servicerules.report import Evidence, RecommendedAction, Report, RuleOutcome, Violation

__version__ = "0.1.0"

__all__ = [
    "CompiledRuleset",
    "Diagnostic",
    "EvaluationError",
    "Evidence",
    "Interaction",
    "InteractionError",
    "Location",
    "RecommendedAction",
    "Rejection",
    "Report",
    "RuleOutcome",
    "RulesetError",
    "ServiceRulesError",
    "Verdicts",
    "Violation",
    "load",
]
