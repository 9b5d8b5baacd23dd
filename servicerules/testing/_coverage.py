"""Rule coverage of policy tests: was each rule seen firing, and seen not firing?

A rule *fired* in a case when the report says ``violated``; it was seen *not firing* when the report says
``compliant`` — evaluated, applicable and met. ``not_applicable`` counts for neither: a test in which the rule
does not apply shows nothing about its condition. A ruleset's coverage is
``(rules seen firing + rules seen not firing) / (2 × rules)``, over every rule the compiled ruleset has,
including the rules its SLAs compile to. Every evaluated case counts, failed ones too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servicerules.engine import CompiledRuleset
from servicerules.report import Report

__all__ = ["RuleCoverage", "RulesetCoverage"]


@dataclass
class RuleCoverage:
    rule_id: str
    title: str
    sla: bool = False
    """The rule an SLA compiles to."""
    violated: int = 0
    """Cases in which the rule fired."""
    compliant: int = 0
    """Cases in which it was evaluated and met."""
    not_applicable: int = 0

    @property
    def fired(self) -> bool:
        return self.violated > 0

    @property
    def not_fired(self) -> bool:
        return self.compliant > 0

    @property
    def missing(self) -> list[str]:
        """What no test has shown yet: ``never violated``, ``never compliant``."""
        out = []
        if not self.fired:
            out.append("never violated")
        if not self.not_fired:
            out.append("never compliant")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "sla": self.sla,
            "violated": self.violated,
            "compliant": self.compliant,
            "not_applicable": self.not_applicable,
            "fired": self.fired,
            "not_fired": self.not_fired,
        }


@dataclass
class RulesetCoverage:
    ruleset: str
    """Path of the ruleset file, as the test files name it (relative to the working directory when they do)."""
    name: str
    version: str
    rules: list[RuleCoverage] = field(default_factory=list)
    cases: int = 0
    """Evaluated cases against this ruleset."""

    @classmethod
    def of(cls, path: str, ruleset: CompiledRuleset) -> "RulesetCoverage":
        rules = [RuleCoverage(r.spec.id, r.spec.title, sla=r.sla is not None) for r in ruleset.rules]
        return cls(path, ruleset.name, ruleset.version, rules)

    def record(self, report: Report) -> None:
        by_id = {r.rule_id: r for r in self.rules}
        self.cases += 1
        for outcome in report.outcomes:
            rule = by_id.get(outcome.rule_id)
            if rule is None:
                continue
            if outcome.status == "violated":
                rule.violated += 1
            elif outcome.status == "compliant":
                rule.compliant += 1
            else:
                rule.not_applicable += 1

    @property
    def covered(self) -> int:
        """Rules seen firing plus rules seen not firing (each rule counts up to twice)."""
        return sum(r.fired for r in self.rules) + sum(r.not_fired for r in self.rules)

    @property
    def total(self) -> int:
        return 2 * len(self.rules)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": self.ruleset,
            "name": self.name,
            "version": self.version,
            "cases": self.cases,
            "covered": self.covered,
            "total": self.total,
            "percent": round(self.percent, 2),
            "rules": [r.to_dict() for r in self.rules],
        }
