"""Batch summary: totals, compliance per rule / channel / team / agent, top violations, rejections.

Counts always add up: ``read == evaluated + rejected``. A rule's compliance rate is
``compliant / (compliant + violated)`` over the interactions where it applied; interactions where it was
not applicable are counted separately and never make a rule look better or worse.

The summary is fed with :class:`InteractionOutcome` s: a compact, picklable digest of one evaluated
interaction (its grouping keys, one status per rule and its violations as flat rows). Worker processes
count a chunk's outcomes into a :class:`SummaryPart` and send that instead of full reports, and the
serial runner does the very same, so a parallel run and a serial run produce identical summaries and
outputs.

Memory stays bounded over any number of records: at most ``max_rejections`` rejected records are kept
(``rejected`` and ``rejections_by_code`` still count all of them; the ``--rejects`` file lists every one),
and each rule keeps at most :data:`EXAMPLES_PER_RULE` example interactions.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

from pydantic import TypeAdapter

from servicerules.batch.summary_schema import GroupJson, SummaryJson
from servicerules.batch.targets import Contribution, TargetAccumulator, interaction_agents
from servicerules.measures.privacy import mask_text
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import Mode, Severity
from servicerules.report import Report, Violation

if TYPE_CHECKING:
    from servicerules.engine import CompiledRuleset, Verdicts

__all__ = [
    "EXAMPLES_PER_RULE",
    "BatchSummary",
    "GroupStats",
    "InteractionOutcome",
    "RejectedRecord",
    "RowDetail",
    "RuleStats",
    "SummaryPart",
    "ViolationRow",
    "clip_raw",
    "outcome_from_report",
    "outcome_from_verdicts",
    "severity_threshold",
]

#: Interactions remembered per rule as examples of its violations (the first ones, in input order).
EXAMPLES_PER_RULE = 3

#: Bytes of a rejected record's text kept for the rejects file.
RAW_LIMIT = 1024

#: One character per rule in :attr:`InteractionOutcome.statuses`.
STATUS_CODES = {"violated": "v", "compliant": "c", "not_applicable": "n"}
_STATUS_INDEX = {"v": 0, "c": 1, "n": 2}

_TIMESTAMP: TypeAdapter[dt.datetime] = TypeAdapter(dt.datetime)


def severity_threshold(fail_on: str | None) -> int | None:
    """The rank of ``--fail-on`` (``info``…``critical``); ``None`` for ``never`` or ``None``."""
    if fail_on is None or fail_on == "never":
        return None
    try:
        return Severity(fail_on).rank
    except ValueError:
        choices = ", ".join([s.value for s in Severity] + ["never"])
        raise ValueError(f"unknown severity {fail_on!r}; expected one of {choices}") from None


class RowDetail(IntEnum):
    """How much of each violation a batch run builds: what its sinks need, and no more. Building a full
    violation (rendering its message, masking its evidence, its recommended actions) costs more than
    finding it, so a run that only counts never builds one."""

    COUNTS = 0
    """Rule id, severity and mode: what the summary counts. The row's other fields are empty."""
    ROWS = 1
    """Every field of :class:`ViolationRow` but ``json`` (CSV, JUnit, sinks that read outcomes)."""
    JSON = 2
    """Every field, the full violation as JSON too (JSON Lines and JSON output)."""


class ViolationRow(NamedTuple):
    """One violation, flattened: what the CSV, JUnit and summary sinks need, plus its JSON text."""

    rule_id: str
    severity: str
    mode: str
    message: str | None
    """The rendered message; this and the fields after it are empty (``None``, ``()``) when the run built
    its violations at :attr:`RowDetail.COUNTS`, because no sink reads them."""
    event_index: int | None
    at: str | None
    """ISO 8601, formatted exactly as in the JSON output."""
    excerpt: str | None
    actions: tuple[str, ...]
    json: str | None
    """The full :class:`~servicerules.report.Violation` as JSON (one line of JSONL output); ``None`` when
    no sink asked for it (:attr:`RowDetail.JSON`: it is the most expensive part to build and to ship
    between processes)."""

    @classmethod
    def from_violation(cls, violation: Violation, *, with_json: bool = True) -> "ViolationRow":
        evidence = violation.evidence
        return cls(
            violation.rule_id,
            violation.severity.value,
            violation.mode.value,
            violation.message,
            evidence.event_index,
            _TIMESTAMP.dump_python(evidence.at, mode="json") if evidence.at is not None else None,
            evidence.excerpt,
            tuple(a.id for a in violation.actions),
            violation.model_dump_json() if with_json else None,
        )

    @classmethod
    def counted(cls, rule_id: str, severity: str, mode: str) -> "ViolationRow":
        """A row at :attr:`RowDetail.COUNTS`: the rule, nothing of the violation itself."""
        return cls(rule_id, severity, mode, None, None, None, None, (), None)

    def fails(self, threshold: int | None) -> bool:
        """An enforced violation at or above the ``--fail-on`` rank ``threshold``."""
        return threshold is not None and self.mode == Mode.ENFORCE.value and Severity(self.severity).rank >= threshold


class InteractionOutcome(NamedTuple):
    """The digest of one evaluated interaction that the summary and the sinks consume."""

    source: str
    """Where the record was read, ``file:line``."""
    interaction_id: str
    channel: str
    team: str | None
    agents: tuple[str, ...]
    compliant: bool
    statuses: str
    """One character per rule of the ruleset, in rule order: ``v`` violated, ``c`` compliant,
    ``n`` not applicable."""
    violations: tuple[ViolationRow, ...]
    targets: tuple[Contribution, ...] = ()
    """What the interaction contributes to the ruleset's aggregate targets."""


def outcome_from_report(
    interaction: Interaction,
    report: Report,
    *,
    source: str = "",
    with_json: bool = True,
    targets: Sequence[Contribution] = (),
) -> InteractionOutcome:
    """The :class:`InteractionOutcome` of one evaluation (the same in a worker and in the serial runner)."""
    return InteractionOutcome(
        source,
        report.interaction_id,
        interaction.channel,
        interaction.team,
        tuple(interaction_agents(interaction, report.as_of)),
        report.compliant,
        "".join(STATUS_CODES[o.status] for o in report.outcomes),
        tuple(ViolationRow.from_violation(v, with_json=with_json) for v in report.violations),
        tuple(targets),
    )


class CountedRules:
    """Per rule of a ruleset, what :func:`outcome_from_verdicts` needs: its counted row (rows are
    immutable, so every violation of a rule shares one) and whether it is enforced."""

    __slots__ = ("rows", "enforced", "none_applied")

    def __init__(self, ruleset: "CompiledRuleset"):
        specs = [rule.spec for rule in ruleset.rules]
        self.rows = tuple(ViolationRow.counted(s.id, s.severity.value, s.mode.value) for s in specs)
        self.enforced = tuple(s.mode is Mode.ENFORCE for s in specs)
        self.none_applied = [STATUS_CODES["not_applicable"]] * len(specs)


def outcome_from_verdicts(
    interaction: Interaction,
    verdicts: "Verdicts",
    rules: CountedRules,
    *,
    source: str = "",
    targets: Sequence[Contribution] = (),
    as_of: dt.datetime | None = None,
) -> InteractionOutcome:
    """The :class:`InteractionOutcome` of one evaluation at :attr:`RowDetail.COUNTS`: that of
    :func:`outcome_from_report` but for the rows' empty fields. ``as_of`` is the evaluation's (``None``:
    the default, the interaction's latest timestamp)."""
    statuses = rules.none_applied.copy()
    for rule_index, status in verdicts.statuses.items():
        statuses[rule_index] = STATUS_CODES[status]
    rows = rules.rows
    enforced = rules.enforced
    return InteractionOutcome(
        source,
        verdicts.interaction_id,
        interaction.channel,
        interaction.team,
        tuple(interaction_agents(interaction, as_of)),
        not any(enforced[rule_index] for rule_index in verdicts.violations),
        "".join(statuses),
        tuple(rows[rule_index] for rule_index, found in verdicts.violations.items() for _ in found),
        tuple(targets),
    )


@dataclass
class RuleStats:
    rule_id: str
    title: str
    severity: str
    violated: int = 0
    compliant: int = 0
    not_applicable: int = 0
    violations: int = 0
    examples: list[str] = field(default_factory=list)
    """The first :data:`EXAMPLES_PER_RULE` interactions that violated the rule (their ids)."""

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
    """A record that was read but could not be evaluated, with where it was and why."""

    source: str
    """``file:line``."""
    code: str
    reason: str
    file: str | None = None
    line: int | None = None
    row: int | None = None
    """1-based record number within the file, when the problem is a record (see ``SourcePosition.row``)."""
    raw: str | None = field(default=None, compare=False)
    """The record's text, masked for card numbers and other personal data and cut to
    :data:`RAW_LIMIT` bytes (see :func:`clip_raw`); ``None`` when it is not available (a record of gzip
    or stdin input that could not even be parsed)."""
    raw_truncated: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        # A reason quotes the value it rejects ("invalid value '4111 1111 1111 1111' for 'priority'"), and
        # every output that lists rejections (rejects file, summaries, JUnit) gets it from here.
        object.__setattr__(self, "reason", mask_text(self.reason))


def clip_raw(text: str) -> tuple[str, bool]:
    """``text`` masked (card numbers, IBANs, e-mail addresses, phone numbers) and cut to at most
    :data:`RAW_LIMIT` UTF-8 bytes at a character boundary; and whether it was cut.

    Masking comes first, so a card number at the cut is never left half visible. An unpaired surrogate
    (which no file can hold) is shown as its escape, ``\\ud800``."""
    head = text[: 2 * RAW_LIMIT]
    masked = mask_text(head)
    data = masked.encode("utf-8", "backslashreplace")
    if len(data) <= RAW_LIMIT and len(head) == len(text):
        return data.decode("utf-8"), False
    return data[:RAW_LIMIT].decode("utf-8", "ignore"), True


@dataclass
class SummaryPart:
    """What consecutive outcomes add to a :class:`BatchSummary`, counted where they were evaluated.

    A worker process sends one part per chunk instead of one outcome per interaction, so the process
    that merges does a few dictionary updates per chunk. :meth:`BatchSummary.add_part` gives the same
    summary as :meth:`BatchSummary.add_outcome` for every outcome, in order."""

    evaluated: int = 0
    compliant: int = 0
    violations: int = 0
    statuses: list[list[int]] = field(default_factory=list)
    """Per rule position: [violated, compliant, not applicable]."""
    rules: dict[str, tuple[str, int, list[str]]] = field(default_factory=dict)
    """Per violated rule, in order of first violation: (severity of that violation, violations, the
    first :data:`EXAMPLES_PER_RULE` example interactions)."""
    by_severity: Counter[str] = field(default_factory=Counter)
    enforced_by_severity: Counter[str] = field(default_factory=Counter)
    by_channel: dict[str, list[int]] = field(default_factory=dict)
    """Per channel: [interactions, compliant]; the same for teams and agents."""
    by_team: dict[str, list[int]] = field(default_factory=dict)
    by_agent: dict[str, list[int]] = field(default_factory=dict)
    targets: TargetAccumulator | None = None
    """Target contributions are added here when set (else left out)."""

    def add(self, outcome: InteractionOutcome) -> None:
        ok = outcome.compliant
        self.evaluated += 1
        self.compliant += ok
        self.violations += len(outcome.violations)
        statuses = self.statuses
        if len(outcome.statuses) > len(statuses):
            statuses.extend([0, 0, 0] for _ in range(len(outcome.statuses) - len(statuses)))
        for counts, status in zip(statuses, outcome.statuses):
            counts[_STATUS_INDEX[status]] += 1
        previous = ""
        for row in outcome.violations:
            self.by_severity[row.severity] += 1
            if row.mode == Mode.ENFORCE.value:
                self.enforced_by_severity[row.severity] += 1
            seen = self.rules.get(row.rule_id)
            severity, violations, examples = seen if seen is not None else (row.severity, 0, [])
            if row.rule_id != previous and len(examples) < EXAMPLES_PER_RULE:
                examples.append(outcome.interaction_id)
            self.rules[row.rule_id] = (severity, violations + 1, examples)
            previous = row.rule_id  # violations come grouped by rule: one example per interaction
        for groups, key in ((self.by_channel, outcome.channel), (self.by_team, outcome.team)):
            if key:
                _count(groups, key, ok)
        for agent in outcome.agents:
            _count(self.by_agent, agent, ok)
        if self.targets is not None and outcome.targets:
            self.targets.add(outcome.targets)


def _count(groups: dict[str, list[int]], key: str, ok: bool) -> None:
    counts = groups.get(key)
    if counts is None:
        groups[key] = [1, int(ok)]
    else:
        counts[0] += 1
        counts[1] += ok


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
    error: str | None = None
    """Why the run stopped early other than by an interrupt (for example a worker process died)."""
    jobs: int = 1
    """Processes that evaluated interactions (1: the calling process itself)."""
    rules: dict[str, RuleStats] = field(default_factory=dict)
    by_channel: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_team: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_agent: dict[str, GroupStats] = field(default_factory=lambda: defaultdict(GroupStats))
    by_severity: Counter[str] = field(default_factory=Counter)
    enforced_by_severity: Counter[str] = field(default_factory=Counter)
    """Violations of enforced rules (``mode: enforce``) per severity: what ``--fail-on`` looks at."""
    rejections: list[RejectedRecord] = field(default_factory=list)
    """The first ``max_rejections`` rejected records (all of them are counted in ``rejected``)."""
    rejections_by_code: Counter[str] = field(default_factory=Counter)
    max_rejections: int = 1000
    targets: TargetAccumulator | None = None
    """The ruleset's aggregate targets, accumulated over the batch (None when it has none)."""

    @classmethod
    def for_ruleset(cls, ruleset: Any) -> "BatchSummary":
        """An empty summary listing every rule of ``ruleset`` (a CompiledRuleset), in rule order."""
        summary = cls(ruleset.name, ruleset.version, ruleset.backend)
        for rule in ruleset.rules:
            summary.rules[rule.spec.id] = RuleStats(rule.spec.id, rule.spec.title, rule.spec.severity.value)
        if ruleset.targets:
            summary.targets = TargetAccumulator(ruleset.targets)
        return summary

    # -- feeding ---------------------------------------------------------------------------------------

    def add_report(self, interaction: Interaction, report: Report, *, source: str = "") -> None:
        """Count one evaluated interaction from its full report (see :meth:`add_outcome`)."""
        for outcome in report.outcomes:  # a summary not made by for_ruleset learns the rules as it goes
            if outcome.rule_id not in self.rules:
                self.rules[outcome.rule_id] = RuleStats(outcome.rule_id, "", "")
        self.add_outcome(outcome_from_report(interaction, report, source=source, with_json=False))

    def add_outcome(self, outcome: InteractionOutcome) -> None:
        """Count one evaluated interaction. Its statuses must be in the order of this summary's rules
        (as they are for a summary made by :meth:`for_ruleset` of the ruleset that evaluated it)."""
        part = SummaryPart()
        part.add(outcome)
        self.add_part(part)
        if self.targets is not None and outcome.targets:
            self.targets.add(outcome.targets)

    def add_part(self, part: "SummaryPart") -> None:
        """Count the interactions of ``part`` (which follow those counted so far); the same as
        :meth:`add_outcome` for each of them, in order."""
        if len(part.statuses) > len(self.rules):
            raise ValueError(
                f"outcome has {len(part.statuses)} rule statuses, the summary knows {len(self.rules)} rules; "
                "make the summary with BatchSummary.for_ruleset(ruleset)"
            )
        self.read += part.evaluated
        self.evaluated += part.evaluated
        self.compliant += part.compliant
        self.violations += part.violations
        for stats, (violated, compliant, not_applicable) in zip(self.rules.values(), part.statuses):
            stats.violated += violated
            stats.compliant += compliant
            stats.not_applicable += not_applicable
        for rule_id, (severity, violations, examples) in part.rules.items():
            rule = self.rules.get(rule_id)
            if rule is None:
                rule = self.rules[rule_id] = RuleStats(rule_id, "", severity)
            rule.violations += violations
            rule.examples.extend(examples[: EXAMPLES_PER_RULE - len(rule.examples)])
        self.by_severity.update(part.by_severity)
        self.enforced_by_severity.update(part.enforced_by_severity)
        for mine, theirs in ((self.by_channel, part.by_channel), (self.by_team, part.by_team), (self.by_agent, part.by_agent)):
            for key, (interactions, compliant) in theirs.items():
                group = mine[key]
                group.interactions += interactions
                group.compliant += compliant
        if self.targets is not None and part.targets is not None:
            self.targets.merge(part.targets)

    def add_rejection(self, source: str, code: str, reason: str) -> None:
        self.add_rejected(RejectedRecord(source, code, reason))

    def add_rejected(self, rejected: RejectedRecord) -> None:
        self.read += 1
        self.rejected += 1
        self.rejections_by_code[rejected.code] += 1
        if len(self.rejections) < self.max_rejections:
            self.rejections.append(rejected)

    # -- reading ---------------------------------------------------------------------------------------

    def failing(self, fail_on: str | None) -> int:
        """Violations of enforced rules at or above severity ``fail_on`` (``never``/``None``: 0)."""
        threshold = severity_threshold(fail_on)
        if threshold is None:
            return 0
        return sum(n for severity, n in self.enforced_by_severity.items() if Severity(severity).rank >= threshold)

    def top_violations(self, limit: int = 10) -> list[RuleStats]:
        """Rules with violations, most severe first, then most violated (ties: rule id): what to fix first.
        By count alone, a few critical violations (a card number in a chat) fell below ``limit`` rules of
        frequent info-level ones."""
        rank = {s.value: s.rank for s in Severity}
        violated = [s for s in self.rules.values() if s.violations]
        violated.sort(key=lambda s: (-rank.get(s.severity, -1), -s.violations, s.rule_id))
        return violated[:limit]

    def to_dict(self) -> SummaryJson:
        return {
            "ruleset": {"name": self.ruleset, "version": self.version, "backend": self.backend},
            "read": self.read,
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "compliant": self.compliant,
            "violations": self.violations,
            "interrupted": self.interrupted,
            "error": self.error,
            "jobs": self.jobs,
            "elapsed_seconds": round(self.elapsed, 3),
            "by_severity": dict(sorted(self.by_severity.items())),
            "targets": [r.to_dict() for r in self.targets.results()] if self.targets is not None else [],
            "enforced_by_severity": dict(sorted(self.enforced_by_severity.items())),
            "rules": [
                {
                    "rule_id": s.rule_id,
                    "severity": s.severity or None,
                    "violated": s.violated,
                    "compliant": s.compliant,
                    "not_applicable": s.not_applicable,
                    "violations": s.violations,
                    "compliance": s.compliance,
                    "examples": list(s.examples),
                }
                for s in self.rules.values()
            ],
            "by_channel": _groups(self.by_channel),
            "by_team": _groups(self.by_team),
            "by_agent": _groups(self.by_agent),
            "rejections_by_code": dict(sorted(self.rejections_by_code.items())),
            "rejections": [{"source": r.source, "code": r.code, "reason": r.reason} for r in self.rejections],
            "rejections_truncated": self.rejected > len(self.rejections),
        }


def _groups(groups: dict[str, GroupStats]) -> dict[str, GroupJson]:
    return {
        key: {"interactions": g.interactions, "compliance": g.compliance}
        for key, g in sorted(groups.items())
    }

