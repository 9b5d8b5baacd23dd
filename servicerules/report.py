"""Results of an evaluation: :class:`Report` per interaction, with :class:`Violation` s, their
:class:`Evidence` and :class:`RecommendedAction` s.

The JSON form (``Report.to_json()``) is the documented, stable output schema (``servicerules schema report``,
docs/reference/report.md). Field order is fixed, lists are in a deterministic order (rule order, then event
index), and every excerpt is masked for card numbers and other personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from servicerules.model.ruleset import Mode, Severity

__all__ = ["REPORT_SCHEMA_VERSION", "Evidence", "RecommendedAction", "Report", "RuleOutcome", "RulesetRef", "SlaInstance", "SlaResult", "Violation"]

REPORT_SCHEMA_VERSION: Literal["1"] = "1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


M = TypeVar("M", bound=BaseModel)


def trusted(cls: type[M], **values: Any) -> M:
    """Build a report model from values servicerules itself computed, without validating them again.

    Evaluation builds a dozen of these per interaction; pydantic's ``model_construct`` costs about 12 µs
    each, this about 1 µs. Every field must be given (no defaults are filled in).
    """
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class RulesetRef(_Frozen):
    name: str
    version: str
    hash: str = Field(description="sha256 of the ruleset source text, 'sha256:<hex>'")
    backend: str = Field(description="matching backend: durable_rules or reference")


class Evidence(_Frozen):
    event_index: int | None = Field(description="index of the event the violation points at; null for the interaction")
    at: dt.datetime | None = Field(default=None, description="time of that event")
    excerpt: str | None = Field(default=None, description="text of that event, masked and shortened")
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="values of the facts the rule's condition read (durations in seconds, timestamps ISO 8601)",
    )


class RecommendedAction(_Frozen):
    id: str
    title: str
    description: str | None = None
    owner: str | None = None
    due_in: float | None = Field(default=None, description="seconds after as_of")
    due_at: dt.datetime | None = Field(default=None, description="as_of + due_in")
    escalation_tier: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Violation(_Frozen):
    rule_id: str
    title: str
    severity: Severity
    mode: Mode
    message: str
    locale: str
    interaction_id: str
    evidence: Evidence
    actions: list[RecommendedAction] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    ruleset: RulesetRef


class RuleOutcome(_Frozen):
    rule_id: str
    status: Literal["violated", "compliant", "not_applicable"]
    violations: int = 0


class SlaInstance(_Frozen):
    """One run of an SLA clock (e.g. one unanswered customer message for next reply time)."""

    state: Literal["achieved", "breached", "breaching", "pending"]
    target: float | None = Field(description="seconds")
    elapsed: float | None = Field(description="seconds counted against the target (pauses excluded)")
    paused: float = Field(default=0.0, description="seconds the clock was paused")
    deadline: dt.datetime | None
    start_index: int | None = Field(description="event that started the clock; null = the interaction's creation")
    start_at: dt.datetime | None
    stop_index: int | None = Field(description="event that stopped it (reply or solve); null while running")
    stop_at: dt.datetime | None


class SlaResult(_Frozen):
    sla_id: str
    metric: str
    state: Literal["achieved", "breached", "breaching", "pending", "not_applicable"] = Field(
        description="the worst instance's state"
    )
    instances: list[SlaInstance] = Field(default_factory=list)


class Report(_Frozen):
    schema_version: Literal["1"] = REPORT_SCHEMA_VERSION
    interaction_id: str
    as_of: dt.datetime
    ruleset: RulesetRef
    violations: list[Violation] = Field(default_factory=list)
    outcomes: list[RuleOutcome] = Field(default_factory=list, description="one entry per enabled rule, then per SLA, in order")
    slas: list[SlaResult] = Field(default_factory=list, description="SLA metric states, in ruleset order")

    @property
    def compliant(self) -> bool:
        """No violation of an enforced rule."""
        return not any(v.mode is Mode.ENFORCE for v in self.violations)

    def violated_rules(self) -> list[str]:
        return [o.rule_id for o in self.outcomes if o.status == "violated"]

    def not_applicable_rules(self) -> list[str]:
        return [o.rule_id for o in self.outcomes if o.status == "not_applicable"]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)
