"""Comparing a report with a case's expectations, and explaining every difference in one line.

Explanations say what was expected and what was found, in the policy owner's terms: rule ids, event
indexes (0-based, as in reports), severities and rendered messages. Their wording is part of the
documented output (docs/reference/policy-tests.md) and asserted by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from servicerules.report import Report, Violation
from servicerules.testing._model import Expectation, ExpectedViolation

__all__ = ["Failure", "check_expectations", "describe_violation"]

FailureKind = Literal["missing", "mismatch", "unexpected", "outcome", "action"]


@dataclass(frozen=True)
class Failure:
    """One way a case's report differs from its expectations."""

    kind: FailureKind
    """``missing`` (an expected violation was not found), ``mismatch`` (found, but not as expected),
    ``unexpected`` (a violation the case rules out), ``outcome`` (a rule was not compliant / not applicable
    as expected), ``action`` (an expected recommended action is missing)."""
    rule: str | None
    message: str
    """The explanation: what was expected and what was found, in one line."""
    expected: str
    """The expected side alone, for a diff view."""
    found: str
    """The found side alone."""

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "rule": self.rule, "message": self.message, "expected": self.expected, "found": self.found}


def _where(event_index: int | None) -> str:
    return "on the interaction" if event_index is None else f"at event {event_index}"


def _events(indexes: Sequence[int | None]) -> str:
    numbers = sorted({i for i in indexes if i is not None})
    parts = [str(n) for n in numbers]
    if None in indexes:
        parts.insert(0, "the interaction")
    if len(parts) == 1:
        return _where(numbers[0] if numbers else None)
    listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"at events {listed}" if None not in indexes else f"on {listed}"


def describe_violation(violation: Violation) -> str:
    """``rule [severity] at event N: message`` — one line per violation in listings."""
    return f"{violation.rule_id} [{violation.severity.value}] {_where(violation.evidence.event_index)}: {violation.message}"


def _describe_expected(expected: ExpectedViolation) -> str:
    text = f"violation of {expected.rule}"
    if "event" in expected.model_fields_set:
        text += " " + _where(expected.event)
    details = []
    if expected.severity is not None:
        details.append(f"severity {expected.severity.value}")
    if expected.message is not None:
        details.append(f'message "{expected.message}"')
    if expected.message_contains is not None:
        details.append(f'a message containing "{expected.message_contains}"')
    return text + (" with " + " and ".join(details) if details else "")


def _mismatches(expected: ExpectedViolation, violation: Violation) -> list[str]:
    found = []
    if "event" in expected.model_fields_set and violation.evidence.event_index != expected.event:
        found.append("event")
    if expected.severity is not None and violation.severity != expected.severity:
        found.append("severity")
    if expected.message is not None and violation.message != expected.message:
        found.append("message")
    if expected.message_contains is not None and expected.message_contains not in violation.message:
        found.append("message")
    return found


def _found(candidates: list[Violation], expected: ExpectedViolation) -> str:
    best = min(candidates, key=lambda v: len(_mismatches(expected, v)))
    wrong = _mismatches(expected, best)
    text = "found it"
    if "event" in wrong:
        text += " " + _events([v.evidence.event_index for v in candidates])
    details = []
    if "severity" in wrong:
        details.append(f"severity {best.severity.value}")
    if "message" in wrong:
        details.append(f'message "{best.message}"')
    return text + (" with " + " and ".join(details) if details else "")


def _unexpected(violation: Violation) -> str:
    index = violation.evidence.event_index
    at = "" if index is None else f" at event {index}"
    return f"unexpected violation {violation.rule_id}{at}: {violation.message}"


def check_expectations(expect: Expectation, report: Report) -> list[Failure]:
    """Every difference between ``report`` and ``expect``, in the order the expectations are written."""
    failures: list[Failure] = []
    violations = report.violations
    status = {o.rule_id: o.status for o in report.outcomes}
    matched: set[int] = set()
    for expected in expect.violations:
        candidates = [i for i, v in enumerate(violations) if v.rule_id == expected.rule]
        matching = [i for i in candidates if not _mismatches(expected, violations[i])]
        if matching:
            matched.update(matching)
            continue
        if candidates:
            found = [violations[i] for i in candidates]
            text = f"expected {_describe_expected(expected)}, {_found(found, expected)}"
            best = min(found, key=lambda v: len(_mismatches(expected, v)))
            failures.append(Failure("mismatch", expected.rule, text, _describe_expected(expected), describe_violation(best)))
            matched.update(candidates)  # reported once here, not again as unexpected
            continue
        if status.get(expected.rule) == "compliant":
            why, seen = "but the rule was compliant", "compliant"
        elif status.get(expected.rule) == "not_applicable":
            why, seen = "but the rule did not apply (its 'when' was false, or a fact it needs is unknown)", "not applicable"
        else:
            why, seen = "but the rule was not evaluated", "not evaluated"
        failures.append(Failure("missing", expected.rule, f"expected {_describe_expected(expected)}, {why}",
                                _describe_expected(expected), f"no violation of {expected.rule} ({seen})"))
    reported: set[int] = set()
    if expect.only:
        for i, violation in enumerate(violations):
            if i not in matched:
                reported.add(i)
                failures.append(Failure("unexpected", violation.rule_id, _unexpected(violation),
                                        "no other violation (only: true)", describe_violation(violation)))
    for rule in expect.absent:
        for i, violation in enumerate(violations):
            if violation.rule_id == rule and i not in reported:
                reported.add(i)
                failures.append(Failure("unexpected", rule, _unexpected(violation), f"no violation of {rule}", describe_violation(violation)))
    for rule in expect.compliant:
        if status.get(rule) != "compliant":
            failures.append(Failure("outcome", rule, f"expected {rule} to be compliant, but it {_outcome(rule, status, violations)}",
                                    f"{rule}: compliant", f"{rule}: {_status_text(status.get(rule))}"))
    for rule in expect.not_applicable:
        if status.get(rule) != "not_applicable":
            failures.append(Failure("outcome", rule, f"expected {rule} not to apply, but it {_outcome(rule, status, violations)}",
                                    f"{rule}: not applicable", f"{rule}: {_status_text(status.get(rule))}"))
    if expect.actions:
        found_actions: list[str] = []
        for violation in violations:
            found_actions.extend(a.id for a in violation.actions if a.id not in found_actions)
        for action in expect.actions:
            if action not in found_actions:
                listed = ", ".join(found_actions) if found_actions else "none"
                failures.append(Failure("action", None, f"expected recommended action {action}, found {listed}",
                                        f"recommended action {action}", f"recommended actions: {listed}"))
    return failures


def _status_text(value: str | None) -> str:
    return {"violated": "violated", "compliant": "compliant", "not_applicable": "not applicable"}.get(value or "", "not evaluated")


def _outcome(rule: str, status: Mapping[str, str], violations: Sequence[Violation]) -> str:
    value = status.get(rule)
    if value == "violated":
        first = next(v for v in violations if v.rule_id == rule)
        return f"was violated: {first.message}"
    if value == "compliant":
        return "was compliant"
    if value == "not_applicable":
        return "did not apply"
    return "was not evaluated"
