"""Batch summary: totals, compliance per rule / channel / team / agent, top violations, rejections.

Counts always add up: ``read == evaluated + rejected``. A rule's compliance rate is
``compliant / (compliant + violated)`` over the interactions where it applied; interactions where it was
not applicable are counted separately and never make a rule look better or worse.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from servicerules.model.interaction import Interaction
from servicerules.report import Report

__all__ = ["BatchSummary", "GroupStats", "RejectedRecord", "RuleStats"]


@dataclass
class RuleStats:
    rule_id: str
    title: str
    severity: str
    violated: int = 0
    compliant: int = 0
    not_applicable: int = 0
    violations: int = 0

    @property
    def compliance(self) -> float | None:
        applicable = self.violated + self.compliant
        return self.compliant / applicable if applicable else None


@dataclass
class GroupStats:
    interactions: int = 0
    compliant: int = 0

    @property
    def compliance(self) -> float | None:
        return self.compliant / self.interactions if self.interactions else None


@dataclass(frozen=True)
class RejectedRecord:
    source: str
    code: str
    reason: str


@dataclass
class BatchSummary:
    ruleset: str
    version: str
    backend: str
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    compliant: int = 0
    violations: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    rules: dict[str, RuleStats] = field(default_factory=dict)
    by_channel: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_team: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_agent: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_severity: Counter[str] = field(default_factory=Counter)
    rejections: list[RejectedRecord] = field(default_factory=list)

    @classmethod
    def for_ruleset(cls, ruleset: Any) -> "BatchSummary":
        """An empty summary listing every rule of ``ruleset`` (a CompiledRuleset), in rule order."""
        summary = cls(ruleset.name, ruleset.version, ruleset.backend)
        for rule in ruleset.rules:
            summary.rules[rule.spec.id] = RuleStats(rule.spec.id, rule.spec.title, rule.spec.severity.value)
        return summary

    def add_report(self, interaction: Interaction, report: Report) -> None:
        self.read += 1
        self.evaluated += 1
        ok = report.compliant
        self.compliant += ok
        self.violations += len(report.violations)
        for violation in report.violations:
            self.by_severity[violation.severity.value] += 1
        for outcome in report.outcomes:
            stats = self.rules.get(outcome.rule_id)
            if stats is None:
                stats = self.rules[outcome.rule_id] = RuleStats(outcome.rule_id, "", "")
            setattr(stats, outcome.status, getattr(stats, outcome.status) + 1)
            stats.violations += outcome.violations
        for groups, key in (
            (self.by_channel, interaction.channel),
            (self.by_team, interaction.team),
        ):
            if key:
                groups[key].interactions += 1
                groups[key].compliant += ok
        for agent in _agents(interaction):
            self.by_agent[agent].interactions += 1
            self.by_agent[agent].compliant += ok

    def add_rejection(self, source: str, code: str, reason: str) -> None:
        self.read += 1
        self.rejected += 1
        self.rejections.append(RejectedRecord(source, code, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": {"name": self.ruleset, "version": self.version, "backend": self.backend},
            "read": self.read,
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "compliant": self.compliant,
            "violations": self.violations,
            "interrupted": self.interrupted,
            "elapsed_seconds": round(self.elapsed, 3),
            "by_severity": dict(sorted(self.by_severity.items())),
            "rules": [
                {
                    "rule_id": s.rule_id,
                    "violated": s.violated,
                    "compliant": s.compliant,
                    "not_applicable": s.not_applicable,
                    "violations": s.violations,
                    "compliance": s.compliance,
                }
                for s in self.rules.values()
            ],
            "by_channel": {k: {"interactions": g.interactions, "compliance": g.compliance} for k, g in sorted(self.by_channel.items())},
            "by_team": {k: {"interactions": g.interactions, "compliance": g.compliance} for k, g in sorted(self.by_team.items())},
            "by_agent": {k: {"interactions": g.interactions, "compliance": g.compliance} for k, g in sorted(self.by_agent.items())},
            "rejections": [{"source": r.source, "code": r.code, "reason": r.reason} for r in self.rejections],
        }


def _agents(interaction: Interaction) -> list[str]:
    """Agents who worked the interaction: the declared list, else authors of agent messages."""
    if interaction.agents:
        return sorted({a.id for a in interaction.agents})
    found = {
        e.author.id or e.author.name
        for e in interaction.events
        if e.author is not None and e.author.role in ("agent", "manager") and (e.author.id or e.author.name)
    }
    return sorted(a for a in found if a)
