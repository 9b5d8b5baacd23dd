"""servicerules: checkable customer-service policies.

Load a ruleset once, evaluate many interactions::

    import servicerules
    policy = servicerules.load("rulesets/starter.yaml")
    report = policy.evaluate(interaction_dict, as_of=datetime(2026, 3, 2, 18, tzinfo=timezone.utc))
    for violation in report.violations:
        print(violation.rule_id, violation.message)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from servicerules.errors import (
    Diagnostic,
    EvaluationError,
    InteractionError,
    Location,
    RulesetError,
    ServiceRulesError,
)

if TYPE_CHECKING:
    from servicerules.engine import CompiledRuleset, Rejection, Verdicts, load
    from servicerules.model.interaction import Interaction
    from servicerules.report import Evidence, RecommendedAction, Report, RuleOutcome, Violation

__version__ = "0.1.0"

_LAZY = {
    **dict.fromkeys(("CompiledRuleset", "Rejection", "Verdicts", "load"), "servicerules.engine"),
    "Interaction": "servicerules.model.interaction",
    **dict.fromkeys(("Evidence", "RecommendedAction", "Report", "RuleOutcome", "Violation"), "servicerules.report"),
}
"""Names whose modules (the engine, pydantic models) are imported when first used, not with the package:
the ``servicerules`` command imports them inside its own error handling, so a Ctrl-C while they load
ends it quietly, and ``--help`` does not wait for them."""


if not TYPE_CHECKING:  # type checkers see the imports above: a misspelt name stays an error for them

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            try:  # a submodule (servicerules.engine), as after an eager import of the package
                return importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{__name__}.{name}":
                    raise  # the submodule exists and lacks something it imports
                raise AttributeError(f"module 'servicerules' has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*__all__, "__version__"})


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
