"""The JSON form of a batch summary (``servicerules check --summary-json``).

These typed dictionaries are what :meth:`BatchSummary.to_dict` and :meth:`TargetResult.to_dict` return (the
type checker holds them to it) and the source of the published JSON Schema, ``servicerules schema summary``.
"""

from __future__ import annotations

import functools

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

__all__ = ["GroupJson", "RejectionJson", "RuleJson", "RulesetRefJson", "SummaryJson", "TargetJson", "summary_json_schema"]

_STRICT = ConfigDict(extra="forbid")
Severity = Annotated[str, Field(pattern=r"^(info|minor|major|critical)$")]
"""A severity name (a plain string to the type checker: the summary counts the names the rules carry)."""
Share = Annotated[float | None, Field(ge=0, le=1)]


@with_config(_STRICT)
class RulesetRefJson(TypedDict):
    name: str
    version: str
    backend: Annotated[str, Field(description="the matching backend that evaluated: durable_rules or reference")]


@with_config(_STRICT)
class TargetJson(TypedDict):
    """One aggregate target and group (docs/reference/targets.md, Results)."""

    target_id: str
    title: str
    kind: Literal["share", "rate", "average"]
    group: Annotated[dict[str, str | None], Field(description="group_by key -> value; {} when ungrouped")]
    status: Literal["met", "missed", "no_data"]
    achieved: Annotated[float | None, Field(description="the share, or the mean (seconds for a duration); null with no_data")]
    objective: float
    comparison: Literal[">=", "<="]
    numerator: Annotated[int | None, Field(ge=0, description="share/rate: the counted interactions whose condition is true")]
    denominator: Annotated[int | None, Field(ge=0, description="share/rate: the counted interactions")]
    sum: Annotated[float | None, Field(description="average: the sum of the values; null when beyond a float's range (about 1.8e308)")]
    count: Annotated[int | None, Field(ge=0, description="average: the number of values")]
    unknown: Annotated[int, Field(ge=0, description="counted by when, but left out: condition or value unknown")]
    unit: Literal["ratio", "seconds", "number"]
    severity: Severity


@with_config(_STRICT)
class RuleJson(TypedDict):
    """One rule or SLA, in ruleset order."""

    rule_id: str
    severity: Severity | None
    violated: Annotated[int, Field(ge=0, description="interactions where the rule was violated")]
    compliant: Annotated[int, Field(ge=0, description="interactions where it applied and held")]
    not_applicable: Annotated[int, Field(ge=0, description="interactions where it did not apply")]
    violations: Annotated[int, Field(ge=0, description="violations (an event rule can have several per interaction)")]
    compliance: Annotated[Share, Field(description="compliant / (violated + compliant); null when it never applied")]
    examples: Annotated[list[str], Field(max_length=3, description="ids of violating interactions, first come")]


@with_config(_STRICT)
class GroupJson(TypedDict):
    interactions: Annotated[int, Field(ge=0)]
    compliance: Annotated[Share, Field(description="the share of those interactions without an enforced violation")]


@with_config(_STRICT)
class RejectionJson(TypedDict):
    source: Annotated[str, Field(description="file:line (or <stdin>:line) of the rejected record")]
    code: Annotated[str, Field(pattern=r"^SR\d{3}$")]
    reason: str


@with_config(_STRICT)
class SummaryJson(TypedDict):
    """``servicerules check --summary-json FILE`` (docs/reference/cli.md, check)."""

    ruleset: RulesetRefJson
    read: Annotated[int, Field(ge=0, description="records read: evaluated + rejected")]
    evaluated: Annotated[int, Field(ge=0)]
    rejected: Annotated[int, Field(ge=0)]
    compliant: Annotated[int, Field(ge=0, description="interactions without an enforced violation")]
    violations: Annotated[int, Field(ge=0, description="all violations, whatever their mode")]
    interrupted: Annotated[bool, Field(description="the run was stopped early by Ctrl-C")]
    error: Annotated[str | None, Field(description="why the run stopped otherwise (a worker died: SR401; an input failed: SR403), else null")]
    jobs: Annotated[int, Field(ge=1, description="processes that evaluated interactions")]
    elapsed_seconds: Annotated[float, Field(ge=0)]
    by_severity: dict[Severity, Annotated[int, Field(ge=0)]]
    targets: list[TargetJson]
    enforced_by_severity: Annotated[
        dict[Severity, Annotated[int, Field(ge=0)]],
        Field(description="violations of enforce-mode rules per severity: what --fail-on looks at"),
    ]
    rules: list[RuleJson]
    by_channel: dict[str, GroupJson]
    by_team: dict[str, GroupJson]
    by_agent: dict[str, GroupJson]
    rejections_by_code: dict[str, Annotated[int, Field(ge=1)]]
    rejections: Annotated[list[RejectionJson], Field(description="the first 1,000 rejected records")]
    rejections_truncated: Annotated[bool, Field(description="more records were rejected than listed")]


@functools.lru_cache(maxsize=None)
def summary_adapter() -> TypeAdapter[SummaryJson]:
    """A pydantic adapter of :class:`SummaryJson`, to validate a summary document. Built when first asked
    for, not on import: building it costs ~50 ms, and every ``check`` process and worker imports this."""
    return TypeAdapter(SummaryJson)


def summary_json_schema() -> dict[str, Any]:
    """The JSON Schema of a summary, as pydantic generates it (``servicerules schema summary`` adds the
    ``$schema`` and ``$id``)."""
    return summary_adapter().json_schema(mode="validation")
