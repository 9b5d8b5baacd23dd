"""Python helpers for policy unit tests: a fluent :class:`InteractionBuilder` and assertions.

The builder writes the same compact form as ``*.test.yaml`` cases (relative times, role shorthands) and
expands it with :func:`expand_interaction`; the assertions compare with the same code as the test runner,
so their messages read exactly like ``servicerules test`` output.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Mapping, Union

from servicerules.engine import CompiledRuleset, load
from servicerules.errors import did_you_mean
from servicerules.model.interaction import Interaction
from servicerules.report import Report, Violation
from servicerules.testing._compact import expand_interaction
from servicerules.testing._expect import check_expectations, describe_violation
from servicerules.testing._model import Expectation
from servicerules.testing._times import resolve_time

__all__ = ["DEFAULT_CREATED_AT", "InteractionBuilder", "assert_complies", "assert_violates"]

DEFAULT_CREATED_AT = "2026-03-02T09:00:00+00:00"
"""When a built interaction starts unless told otherwise (a Monday, 09:00 UTC)."""

Time = Union[str, dt.datetime]


class InteractionBuilder:
    """Builds an interaction event by event::

        chat = (InteractionBuilder("chat", customer={"name": "Jana"})
                .customer("Hi, my order is late", at="+0m")
                .agent("Hello Jana, let me check.", after="1m")
                .status("solved", after="10m")
                .build())

    Times are written as in test files: ``at="+5m"`` after ``created_at``, ``after="5m"`` after the previous
    event, or an absolute timestamp; neither means "at the previous event's time".
    """

    def __init__(self, channel: str = "email", *, created_at: Time = DEFAULT_CREATED_AT, id: str = "interaction", **fields: Any) -> None:
        self._id = id
        self._fields: dict[str, Any] = {"channel": channel, "created_at": created_at, **fields}
        self._events: list[dict[str, Any]] = []

    def set(self, **fields: Any) -> "InteractionBuilder":
        """Set interaction fields: ``customer={...}``, ``priority="urgent"``, ``language="de"`` …"""
        self._fields.update(fields)
        return self

    def event(self, **compact: Any) -> "InteractionBuilder":
        """Any event in compact form, e.g. ``event(type="call.queued", at="+0s")``; ``from_`` stands for ``from``."""
        if "from_" in compact:
            compact["from"] = compact.pop("from_")
        self._events.append({k: v for k, v in compact.items() if v is not None})
        return self

    def message(self, role: str, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.event(**{"from": role}, text=text, at=at, after=after, **extra)

    def customer(self, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.message("customer", text, at=at, after=after, **extra)

    def agent(self, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.message("agent", text, at=at, after=after, **extra)

    def manager(self, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.message("manager", text, at=at, after=after, **extra)

    def bot(self, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.message("bot", text, at=at, after=after, **extra)

    def system(self, text: str, *, at: Time | None = None, after: str | float | None = None, **extra: Any) -> "InteractionBuilder":
        return self.message("system", text, at=at, after=after, **extra)

    def autoresponder(self, text: str, *, at: Time | None = None, after: str | float | None = None) -> "InteractionBuilder":
        """An automatic acknowledgement from the help desk (role system, automated: autoresponder)."""
        return self.message("system", text, at=at, after=after, auto="autoresponder")

    def note(self, text: str, *, by: str = "agent", at: Time | None = None, after: str | float | None = None) -> "InteractionBuilder":
        """An internal note (not visible to the customer)."""
        return self.event(**{"from": by}, text=text, internal=True, at=at, after=after)

    def status(self, status: str, *, by: str | None = None, at: Time | None = None, after: str | float | None = None) -> "InteractionBuilder":
        """A status change; a final ``solved`` / ``closed`` also sets ``solved_at`` / ``closed_at``."""
        return self.event(**{"from": by}, status=status, at=at, after=after)

    def action(
        self, action: str, *, by: str | None = "agent", at: Time | None = None, after: str | float | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> "InteractionBuilder":
        """An action event such as ``refund_issued`` or ``identity_verified``."""
        return self.event(**{"from": by}, action=action, at=at, after=after, attributes=dict(attributes) if attributes else None)

    def compact(self) -> dict[str, Any]:
        """The interaction in compact form, as a test file would hold it."""
        return {"id": self._id, **self._fields, "events": [dict(e) for e in self._events]}

    def to_dict(self) -> dict[str, Any]:
        """The expanded interaction record (not yet validated)."""
        return expand_interaction(self.compact(), default_id=self._id)

    def build(self) -> Interaction:
        """The validated interaction. Raises :class:`~servicerules.errors.InteractionError`."""
        return Interaction.parse(self.to_dict())


RulesetLike = Union[CompiledRuleset, str, os.PathLike[str]]
InteractionLike = Union[Interaction, Mapping[str, Any], InteractionBuilder]

_LOADED: dict[tuple[Path, int, int], CompiledRuleset] = {}


def _ruleset(value: RulesetLike) -> CompiledRuleset:
    if isinstance(value, CompiledRuleset):
        return value
    path = Path(value)
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = load(path)
    return _LOADED[key]


def _interaction(value: InteractionLike) -> Interaction:
    if isinstance(value, InteractionBuilder):
        return value.build()
    if isinstance(value, Interaction):
        return value
    return Interaction.parse(value)


def _evaluate(ruleset: RulesetLike, interaction: InteractionLike, as_of: Time | None, locale: str | None) -> tuple[CompiledRuleset, Report]:
    policy = _ruleset(ruleset)
    model = _interaction(interaction)
    when = resolve_time(as_of, model.created_at) if as_of is not None else None
    return policy, policy.evaluate(model, as_of=when, locale=locale)


def _known(policy: CompiledRuleset, rule_id: str) -> None:
    ids = [r.spec.id for r in policy.rules]
    if rule_id not in ids:
        hint = did_you_mean(rule_id, ids)
        raise ValueError(f"unknown rule '{rule_id}' in ruleset {policy.name}" + (f"; {hint}" if hint else ""))


def _listing(report: Report) -> str:
    found = report.violations
    head = f"violations found ({len(found)}):" if found else "violations found: none"
    return "\n".join([head] + ["  " + describe_violation(v) for v in found])


def assert_violates(
    ruleset: RulesetLike,
    interaction: InteractionLike,
    rule_id: str,
    *,
    as_of: Time | None = None,
    event: int | None = None,
    locale: str | None = None,
) -> Violation:
    """Assert that ``rule_id`` is violated (at event ``event``, when given); returns that violation.

    ``ruleset`` is a compiled ruleset or a path (loaded once per process); ``as_of`` an aware datetime, an
    ISO 8601 string or ``+<duration>`` after the interaction's ``created_at``.
    """
    policy, report = _evaluate(ruleset, interaction, as_of, locale)
    _known(policy, rule_id)
    expected: dict[str, Any] = {"rule": rule_id}
    if event is not None:
        expected["event"] = event
    failures = check_expectations(Expectation.model_validate({"violations": [expected]}), report)
    if failures:
        raise AssertionError("\n".join([f.message for f in failures] + [_listing(report)]))
    return next(v for v in report.violations if v.rule_id == rule_id and (event is None or v.evidence.event_index == event))


def assert_complies(
    ruleset: RulesetLike,
    interaction: InteractionLike,
    rule_id: str | None = None,
    *,
    as_of: Time | None = None,
    locale: str | None = None,
) -> Report:
    """Assert that ``rule_id`` is not violated (compliant or not applicable), or, without ``rule_id``, that
    nothing is violated at all (in any mode); returns the report."""
    policy, report = _evaluate(ruleset, interaction, as_of, locale)
    if rule_id is not None:
        _known(policy, rule_id)
        expect = Expectation(absent=[rule_id])
    else:
        expect = Expectation(only=True)
    failures = check_expectations(expect, report)
    if failures:
        raise AssertionError("\n".join(f.message for f in failures))
    return report
