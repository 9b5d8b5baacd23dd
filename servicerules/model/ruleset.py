"""The ruleset schema: what a policy author may write in a ruleset YAML file.

Every model forbids unknown fields, so a misspelt key is an error with a "did you mean" hint rather than a
silently ignored setting. Expressions (``when``, ``violated_if``) stay strings here; the compiler parses
and type-checks them against the fact catalogue.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from servicerules._durations import DURATION_PATTERN, parse_duration

__all__ = [
    "ActionRef",
    "ActionSpec",
    "CalendarSpec",
    "HolidaySpec",
    "LexiconSpec",
    "Mode",
    "ProcedureSpec",
    "RefundPolicySpec",
    "ReplyDefinition",
    "RuleSpec",
    "RulesetSpec",
    "Severity",
    "SlaSpec",
    "TargetSpec",
]


MAX_DURATION = 36525 * 86400
"""The longest duration a ruleset may give (100 years): longer ones are mistakes, and deadlines and due
times after them would fall beyond the year 9999."""


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        value = parse_duration(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        if not value <= MAX_DURATION:  # NaN too
            raise ValueError(f"a duration must be finite and at most 100 years (36525d), not {value!r} seconds")
    return value


Duration = Annotated[
    float,
    BeforeValidator(_duration, json_schema_input_type=Union[Annotated[str, Field(pattern=DURATION_PATTERN)], float]),
    Field(description="seconds, or text such as 30m, 4h, 2d"),
]
"""A length of time; YAML may write ``4h``, ``30m``, ``2d`` or a number of seconds."""

def _expression(value: Any) -> Any:
    # YAML reads a bare true or false as a boolean; as an expression it is the same word.
    return ("true" if value else "false") if isinstance(value, bool) else value


Expression = Annotated[str, BeforeValidator(_expression, json_schema_input_type=Union[str, bool])]
"""An expression (``when``, ``violated_if``...): text, or a bare YAML ``true``/``false``."""

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=128)]
LexiconName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
"""Lexicon names appear in expressions (``text mentions card_request``): letters, digits and ``_`` only."""
Locale = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$|^\*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Severity(str, Enum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


class Mode(str, Enum):
    """How a violation is treated: ``enforce`` violations make an interaction non-compliant and fail
    ``servicerules check --fail-on``; ``warn`` and ``advisory`` violations are reported (with their mode)
    but never fail a check — ``warn`` for rules being introduced, ``advisory`` for guidance."""

    ENFORCE = "enforce"
    WARN = "warn"
    ADVISORY = "advisory"


class HolidaySpec(_Strict):
    country: str | None = Field(default=None, description="ISO 3166 country code for the holidays package, e.g. DE")
    subdivision: str | None = Field(default=None, description="state/province code, e.g. BY")
    dates: list[dt.date] = Field(default_factory=list, description="extra closed dates")


class ClosureSpec(_Strict):
    from_: dt.datetime = Field(alias="from")
    to: dt.datetime


class CalendarSpec(_Strict):
    """Business hours per weekday in a time zone, with holidays and closures."""

    timezone: str = Field(description="IANA time zone, e.g. Europe/Berlin")
    hours: dict[
        Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        list[Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]],
    ] = Field(description="weekday -> intervals such as 09:00-17:00; a missing weekday is closed")
    holidays: HolidaySpec | None = None
    closures: list[ClosureSpec] = Field(default_factory=list)


class LexiconSpec(_Strict):
    """Phrases per language, matched case-insensitively on word boundaries (Unicode-aware)."""

    description: str | None = None
    phrases: dict[Locale, list[str]] = Field(
        description="language -> phrases; '*' for phrases of every language", min_length=1
    )
    patterns: list[str] = Field(default_factory=list, description="extra regular expressions (Python syntax)")


class ReplyDefinition(_Strict):
    """What counts as a reply that stops a response-time clock."""

    public: bool = True
    human: bool = True
    automated: bool = Field(default=False, description="whether autoresponder/macro/bot messages count")


TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]


def _default_pause() -> list[TicketStatus]:
    return ["pending", "on_hold"]


class SlaSpec(_Strict):
    """A help-desk response-time target (SLA policy). See docs/reference/ruleset.md."""

    id: Identifier
    title: str
    metric: Literal[
        "first_reply_time",
        "next_reply_time",
        "periodic_update",
        "requester_wait_time",
        "agent_work_time",
        "resolution_time",
    ]
    when: Expression | None = Field(default=None, description="expression: which interactions the SLA applies to")
    calendar: str | None = Field(default=None, description="name of a calendar (business time); omit for calendar time")
    targets: dict[Literal["low", "normal", "high", "urgent", "*"], Duration]
    reply: ReplyDefinition = Field(default_factory=ReplyDefinition)
    pause_on: list[TicketStatus] = Field(default_factory=_default_pause)
    severity: Severity = Severity.MAJOR
    mode: Mode = Mode.ENFORCE
    message: "Messages" = Field(default_factory=dict, description="template, or locale -> template")
    actions: list["ActionRefItem"] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)


class ActionSpec(_Strict):
    """A recommended action in the ruleset's catalogue."""

    title: str
    description: str | None = None
    owner: str | None = Field(default=None, description="who acts: agent, team_lead, manager, privacy_officer…")
    due_in: Duration | None = None
    escalation_tier: int | None = Field(default=None, ge=0, le=9)


def _action_ref(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class ActionRef(_Strict):
    """A rule's reference to a catalogue action, optionally overriding its parameters."""

    id: Identifier
    owner: str | None = None
    due_in: Duration | None = None
    escalation_tier: int | None = Field(default=None, ge=0, le=9)
    params: dict[str, Any] = Field(default_factory=dict)


def _messages(value: Any) -> Any:
    return {"*": value} if isinstance(value, str) else value


ActionRefItem = Annotated[ActionRef, BeforeValidator(_action_ref, json_schema_input_type=Union[Identifier, ActionRef])]
"""An action reference: the catalogue id alone, or a mapping with overrides."""

Messages = Annotated[dict[Locale, str], BeforeValidator(_messages, json_schema_input_type=Union[str, dict[Locale, str]])]
"""A message template, or locale -> template."""


class RuleSpec(_Strict):
    """One policy rule. ``violated_if`` describes the breach; ``when`` says to which interactions (or
    events, with ``scope: event``) the rule applies."""

    id: Identifier
    title: str
    description: str | None = None
    severity: Severity
    tags: list[str] = Field(default_factory=list)
    scope: Literal["interaction", "event"] = "interaction"
    when: Expression | None = Field(default=None, description="expression: where the rule applies (default: always)")
    violated_if: Expression = Field(description="expression that is true when the policy is breached")
    message: Messages = Field(
        default_factory=dict, description="template, or locale -> template; {fact.name} inserts a value"
    )
    actions: list[ActionRefItem] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list, description="policy sections this rule enforces")
    mode: Mode = Mode.ENFORCE
    enabled: bool = True


class TargetSpec(_Strict):
    """An aggregate service-level objective over a batch (evaluated by ``servicerules check``)."""

    id: Identifier
    title: str
    kind: Literal["share", "average", "rate"]
    when: Expression | None = Field(default=None, description="expression: which interactions count (denominator)")
    condition: Expression | None = Field(default=None, description="share/rate: expression counted in the numerator")
    value: Expression | None = Field(default=None, description="average: expression whose mean is taken")
    objective: float = Field(description="share/rate as a fraction (0.8), average in the value's unit")
    comparison: Literal[">=", "<="] = ">="
    group_by: list[Literal["day", "channel", "team", "agent", "interval_30m"]] = Field(default_factory=list)
    calendar: str | None = Field(
        default=None,
        description="a calendar of 'calendars:' whose time zone the day and interval_30m groups are taken in (default UTC)",
    )
    group_time: Expression | None = Field(
        default=None,
        description="expression (a timestamp): the moment that puts an interaction into its day and interval_30m "
        "groups, e.g. call.queued_at (default: interaction.created_at)",
    )
    severity: Severity = Severity.MAJOR


def _default_proof() -> list[Literal["receipt", "packaging"]]:
    return ["receipt"]


class RefundPolicySpec(_Strict):
    """Refund and return eligibility (read by the refund measures; see docs/reference/facts.md)."""

    basis: Literal["purchase", "delivery"] = Field(
        default="purchase", description="the window counts from the purchase date or from delivery"
    )
    windows: dict[str, Duration | None] = Field(
        description="customer tier -> return window (e.g. 90d); null means unlimited; '*' for any other tier"
    )
    proof: list[Literal["receipt", "packaging"]] = Field(
        default_factory=_default_proof,
        description="any one of these makes a return provable (receipt or original packaging)",
    )
    allowed_conditions: list[str] | None = Field(
        default=None, description="item conditions that may be returned, e.g. [new, unopened]; omit to allow any"
    )
    excluded_categories: list[str] = Field(default_factory=list, description="categories never refundable")
    manager_approval_above: float | None = Field(default=None, description="refund amounts above this need a manager")


class ProcedureSpec(_Strict):
    """A required order of actions: ``action`` may only happen after each of ``requires``."""

    action: str = Field(description="an action event name, e.g. refund_issued")
    requires: list[str] = Field(min_length=1, description="actions that must come first, e.g. [identity_verified]")
    within: Duration | None = Field(default=None, description="optional: the action must follow its trigger within this time")


class RulesetSpec(_Strict):
    """A servicerules ruleset file."""

    ruleset: Identifier = Field(description="the ruleset's name")
    version: str = Field(description="the policy version, e.g. 1.4.0")
    description: str | None = None
    owner: str | None = None
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    default_locale: Locale = "en"
    calendars: dict[Identifier, CalendarSpec] = Field(default_factory=dict)
    lexicons: dict[LexiconName, LexiconSpec] = Field(default_factory=dict)
    slas: list[SlaSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    targets: list[TargetSpec] = Field(default_factory=list)
    actions: dict[Identifier, ActionSpec] = Field(default_factory=dict)
    refunds: RefundPolicySpec | None = None
    procedures: list[ProcedureSpec] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # ``version: 1.0`` is a float in YAML; keep what the author meant.
        return str(value) if isinstance(value, (int, float)) else value


SlaSpec.model_rebuild()
