"""The policy-test file schema (``*.test.yaml``): what a policy owner may write, validated with pydantic.

Every model forbids unknown fields, so a misspelt key is an error at its ``file:line:col`` with a "did you
mean" hint (the test file is loaded with the position-keeping loader). The compact interaction form is
validated here for its shape; :func:`servicerules.testing.expand_interaction` turns it into the interaction
model, which checks the rest (time zones, event order).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from servicerules.model.interaction import Agent, Author, Customer
from servicerules.model.ruleset import Severity
from servicerules.testing._times import check_time, parse_gap

__all__ = [
    "CaseDefaults",
    "CompactEvent",
    "CompactInteraction",
    "Expectation",
    "ExpectedViolation",
    "PolicyTestCase",
    "PolicyTestFile",
]

Role = Literal["customer", "agent", "bot", "manager", "system"]
AutomationKind = Literal["autoresponder", "macro", "trigger", "bot"]
EventType = Literal[
    "message", "note", "status", "call.queued", "call.answered", "call.abandoned", "call.ended",
    "hold.started", "hold.ended", "transfer", "action",
]
TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]

_GAP_PATTERN = r"^\s*\+?\s*(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+$"
_RELATIVE_PATTERN = r"^\s*\+\s*(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+$"


def _time_validator(relative: bool) -> Any:
    def validate(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return check_time(value, relative=relative)

    return validate


def _gap(value: Any) -> Any:
    return parse_gap(value).total_seconds()


AbsoluteTime = Annotated[
    str,
    BeforeValidator(_time_validator(False)),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601 timestamp with an offset"}),
]
"""An ISO 8601 timestamp (a YAML timestamp is accepted too)."""

RelativeTime = Annotated[
    str,
    BeforeValidator(_time_validator(True)),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": _RELATIVE_PATTERN},
            ],
            "description": "ISO 8601 timestamp with an offset, or +<duration> after created_at (+5m, +2h30m, +1d)",
        }
    ),
]
"""An absolute timestamp, or ``+<duration>`` after the interaction's ``created_at``."""

Gap = Annotated[
    float,
    BeforeValidator(_gap),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": _GAP_PATTERN}, {"type": "number", "minimum": 0}],
            "description": "a duration (5m, +5m, 2h30m, 1d) or a number of seconds",
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompactEvent(_Strict):
    """One event of an interaction, in full or compact form (see docs/reference/policy-tests.md)."""

    at: RelativeTime | None = Field(
        default=None, description="when it happened: a timestamp, or +<duration> after created_at"
    )
    after: Gap | None = Field(
        default=None, description="when it happened: this long after the previous event (after created_at for the first)"
    )
    type: EventType | None = Field(
        default=None, description="default: status if 'status' is given, action if 'action', note if internal, else message"
    )
    from_: Role | None = Field(default=None, alias="from", description="shorthand for author: {role: …}")
    author: Author | None = None
    text: str | None = None
    internal: bool | None = Field(default=None, description="true: an internal note (type note, not public)")
    public: bool | None = None
    auto: bool | AutomationKind | None = Field(default=None, description="shorthand for 'automated'")
    automated: bool | AutomationKind | None = None
    status: TicketStatus | None = None
    action: str | None = None
    attributes: dict[str, Any] | None = None


class CompactInteraction(_Strict):
    """An interaction in compact form: fields the case leaves out come from the file's ``defaults``."""

    id: Annotated[str, Field(min_length=1)] | None = Field(default=None, description="default: case-<number>")
    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]*$")] | None = None
    created_at: AbsoluteTime | None = Field(
        default=None, description="default: from defaults, else the first event's absolute time"
    )
    solved_at: RelativeTime | None = Field(default=None, description="default: the time of a final 'status: solved' event")
    closed_at: RelativeTime | None = Field(default=None, description="default: the time of a final 'status: closed' event")
    priority: Priority | None = None
    language: str | None = None
    subject: str | None = None
    customer: Customer | None = None
    agents: list[Agent] | None = None
    team: str | None = None
    events: list[CompactEvent] = Field(default_factory=list)
    attributes: dict[str, Any] | None = None


class CaseDefaults(_Strict):
    """Values every case of the file starts from; a case's own values win (mappings merge key by key)."""

    as_of: RelativeTime | None = Field(default=None, description="evaluation time; relative times count from each case's created_at")
    locale: str | None = Field(default=None, description="locale of rendered messages")
    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]*$")] | None = None
    created_at: AbsoluteTime | None = None
    priority: Priority | None = None
    language: str | None = None
    subject: str | None = None
    customer: Customer | None = None
    agents: list[Agent] | None = None
    team: str | None = None
    attributes: dict[str, Any] | None = None


class ExpectedViolation(_Strict):
    """A violation the case expects. Only the fields given are compared."""

    rule: str = Field(description="rule (or SLA) id")
    severity: Severity | None = None
    message: str | None = Field(default=None, description="the rendered message, exactly")
    message_contains: str | None = Field(default=None, description="a fragment of the rendered message")
    event: Annotated[int, Field(ge=0, strict=True)] | None = Field(  # strict: YAML's true is no event index
        default=None,
        description="index of the event the evidence points at; null: the interaction as a whole (no event)",
    )


def _expected_violation(value: Any) -> Any:
    return {"rule": value} if isinstance(value, str) else value


ExpectedViolationItem = Annotated[
    ExpectedViolation, BeforeValidator(_expected_violation, json_schema_input_type=Union[str, ExpectedViolation])
]
"""A rule id alone, or a mapping with more to compare."""


class Expectation(_Strict):
    """What the report must show."""

    violations: list[ExpectedViolationItem] = Field(default_factory=list, description="violations that must be found")
    only: bool = Field(default=False, description="true: no violation other than those listed may be found")
    absent: list[str] = Field(default_factory=list, description="rules that must not be violated")
    compliant: list[str] = Field(default_factory=list, description="rules that must be evaluated and met")
    not_applicable: list[str] = Field(default_factory=list, description="rules that must not apply")
    actions: list[str] = Field(default_factory=list, description="recommended action ids that must be among the violations' actions")


class PolicyTestCase(_Strict):
    """One test case: an interaction, when to judge it, and what to expect."""

    note: str | None = Field(default=None, description="what the case shows; names the case in output")
    interaction: CompactInteraction | None = Field(default=None, description="the interaction, inline")
    interaction_file: str | None = Field(default=None, description="or a JSON/YAML file with it, relative to this file")
    as_of: RelativeTime | None = Field(default=None, description="evaluation time (default: defaults.as_of, else the interaction's last timestamp)")
    locale: str | None = Field(default=None, description="locale of rendered messages (default: defaults.locale, else the interaction's)")
    skip: bool | str = Field(default=False, description="true or a reason: do not run this case")
    expect: Expectation


def _no_cases(value: Any) -> Any:
    return [] if value is None else value


class PolicyTestFile(_Strict):
    """A policy-test file: ``*.test.yaml`` beside the ruleset it tests."""

    ruleset: str = Field(description="path of the ruleset under test, relative to this file")
    description: str | None = None
    defaults: CaseDefaults = Field(default_factory=CaseDefaults)
    cases: Annotated[list[PolicyTestCase], BeforeValidator(_no_cases)] = Field(
        default_factory=list, description="the test cases; an empty 'cases:' is allowed (no cases yet)"
    )
