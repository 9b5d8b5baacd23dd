"""Policy diff: which interactions of a corpus a ruleset change flips, grouped by rule.

Two versions of a ruleset are loaded side by side (each :class:`~servicerules.engine.CompiledRuleset` has an
engine handle of its own) and every interaction of the corpus is evaluated under both. For each rule the
interactions whose outcome changed are counted in groups (:data:`CHANGE_KINDS`), and the first few of each
group are kept as examples, in input order. Only counts and those examples are kept, so memory stays bounded
however large the corpus is (rejected records are all listed, as ``servicerules check`` does).

Rules are listed in the new ruleset's order, then the rules only the old one has. Records that cannot be
read or validated are rejected with their position and reason; ``read == evaluated + rejected``.

The command-line part (:func:`add_arguments`, :func:`run_command`) is wired into ``servicerules diff``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING, Any, Generic, Iterable, Iterator, Literal, Mapping, Protocol, Sequence, TextIO, TypeVar, Union, get_args,
)

from servicerules._argtypes import aware_timestamp, mapping_options
from servicerules.batch.readers import RawRecord, expand_inputs, read_records
from servicerules.batch.summary import RejectedRecord
from servicerules.engine import CompiledRuleset, Rejection, check_as_of, load
from servicerules.errors import Diagnostic, InteractionError, RulesetError, ruleset_unreadable
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import Mode
from servicerules.report import Report

if TYPE_CHECKING:
    from servicerules.batch.mapping import Mapping as BatchMapping

__all__ = [
    "CHANGE_KINDS",
    "DIFF_SCHEMA_VERSION",
    "ChangeGroup",
    "ChangeKind",
    "ComplianceFlip",
    "DiffExample",
    "FlipGroup",
    "PolicyDiff",
    "RuleDiff",
    "RuleState",
    "RulesetInfo",
    "StatusCounts",
    "ViolationBrief",
    "add_arguments",
    "diff_files",
    "diff_rulesets",
    "run_command",
]

DIFF_SCHEMA_VERSION: Literal["1"] = "1"

Status = Literal["violated", "compliant", "not_applicable"]
ChangeKind = Literal[
    "newly_violated",
    "now_compliant",
    "now_not_applicable",
    "no_longer_checked",
    "violation_changed",
    "now_applicable",
    "no_longer_applicable",
]

#: The groups an interaction's outcome for one rule can fall in, in report order.
#:
#: * ``newly_violated`` — compliant, not applicable or (rule added) unchecked before, violated now
#: * ``now_compliant`` — violated before, compliant now
#: * ``now_not_applicable`` — violated before, the rule no longer applies
#: * ``no_longer_checked`` — violated before, the rule was removed
#: * ``violation_changed`` — violated in both, but with other violations: their number, the event they
#:   point at, or the message
#: * ``now_applicable`` — not applicable before, compliant now
#: * ``no_longer_applicable`` — compliant before, not applicable now
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)

_LABELS: dict[ChangeKind, str] = {
    "newly_violated": "newly violated",
    "now_compliant": "now compliant",
    "now_not_applicable": "now not applicable",
    "no_longer_checked": "no longer checked (rule removed)",
    "violation_changed": "violation changed",
    "now_applicable": "now applicable (and compliant)",
    "no_longer_applicable": "no longer applicable (was compliant)",
}

#: Rule attributes compared between the versions; a difference marks the rule as changed.
_ATTRIBUTES = ("title", "severity", "mode")

InteractionInput = Union[Interaction, Mapping[str, Any], str, bytes, RawRecord]


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class RulesetInfo:
    """Which ruleset a side of the diff is."""

    name: str
    version: str
    hash: str
    file: str | None
    backend: str

    @classmethod
    def of(cls, ruleset: CompiledRuleset) -> "RulesetInfo":
        return cls(ruleset.name, ruleset.version, ruleset.program.content_hash, ruleset.program.file, ruleset.backend)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hash": self.hash, "file": self.file, "backend": self.backend}


@dataclass(frozen=True)
class ViolationBrief:
    """One violation of a rule, as far as the diff compares it."""

    event_index: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"event_index": self.event_index, "message": self.message}


@dataclass(frozen=True)
class RuleState:
    """A rule's outcome for one interaction under one version."""

    status: Status
    violations: tuple[ViolationBrief, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "violations": [v.to_dict() for v in self.violations]}


@dataclass(frozen=True)
class DiffExample:
    """An interaction whose outcome for a rule changed. ``before``/``after`` is ``None`` where the rule
    does not exist (added or removed rules)."""

    interaction_id: str
    source: str
    before: RuleState | None
    after: RuleState | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "interaction_id": self.interaction_id,
            "source": self.source,
            "before": self.before.to_dict() if self.before is not None else None,
            "after": self.after.to_dict() if self.after is not None else None,
        }


class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


_Example = TypeVar("_Example", bound=_HasToDict)


@dataclass
class ExampleGroup(Generic[_Example]):
    """How many interactions fell in one group, and the first of them."""

    count: int = 0
    examples: list[_Example] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": [e.to_dict() for e in self.examples]}


ChangeGroup = ExampleGroup[DiffExample]
"""A change group of one rule (examples are :class:`DiffExample`)."""


@dataclass
class StatusCounts:
    """Interactions per outcome of one rule under one version."""

    violated: int = 0
    compliant: int = 0
    not_applicable: int = 0

    def add(self, status: Status) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def to_dict(self) -> dict[str, int]:
        return {"violated": self.violated, "compliant": self.compliant, "not_applicable": self.not_applicable}


@dataclass
class RuleDiff:
    """What changed for one rule id."""

    rule_id: str
    title: str
    severity: str
    presence: Literal["both", "added", "removed"]
    attributes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Changed title, severity or mode: name → (old, new)."""
    before: StatusCounts | None = None
    after: StatusCounts | None = None
    groups: dict[ChangeKind, ChangeGroup] = field(default_factory=lambda: {k: ChangeGroup() for k in CHANGE_KINDS})

    @property
    def change(self) -> Literal["added", "removed", "changed", "unchanged"]:
        if self.presence != "both":
            return self.presence
        if self.attributes or any(g.count for g in self.groups.values()):
            return "changed"
        return "unchanged"

    @property
    def changed_interactions(self) -> int:
        return sum(g.count for g in self.groups.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "change": self.change,
            "attributes": {name: {"old": old, "new": new} for name, (old, new) in self.attributes.items()},
            "before": self.before.to_dict() if self.before is not None else None,
            "after": self.after.to_dict() if self.after is not None else None,
            "groups": {kind: self.groups[kind].to_dict() for kind in CHANGE_KINDS},
        }


@dataclass(frozen=True)
class ComplianceFlip:
    """An interaction whose overall compliance (no enforced violation) flipped, with the rules that had an
    enforced violation before and after."""

    interaction_id: str
    source: str
    violated_before: tuple[str, ...]
    violated_after: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "interaction_id": self.interaction_id,
            "source": self.source,
            "violated_before": list(self.violated_before),
            "violated_after": list(self.violated_after),
        }


FlipGroup = ExampleGroup[ComplianceFlip]
"""Interactions whose overall compliance flipped (examples are :class:`ComplianceFlip`)."""


@dataclass
class PolicyDiff:
    """The result of evaluating a corpus under two versions of a ruleset."""

    old: RulesetInfo
    new: RulesetInfo
    as_of: dt.datetime | None
    examples: int
    inputs: list[str] = field(default_factory=list)
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    changed_interactions: int = 0
    """Interactions with at least one rule in a change group."""
    became_non_compliant: FlipGroup = field(default_factory=FlipGroup)
    became_compliant: FlipGroup = field(default_factory=FlipGroup)
    rules: list[RuleDiff] = field(default_factory=list)
    rejections: list[RejectedRecord] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything differs: a rule added or removed, a rule's title, severity or mode, or any
        interaction's outcome (per rule, or overall compliance)."""
        flipped = self.became_compliant.count or self.became_non_compliant.count
        return bool(flipped) or any(rule.change != "unchanged" for rule in self.rules)

    def rule(self, rule_id: str) -> RuleDiff:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (schema version 1, documented in docs/how-to/test-a-policy-change.md)."""
        return {
            "schema_version": DIFF_SCHEMA_VERSION,
            "changed": self.changed,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "inputs": list(self.inputs),
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "examples_per_group": self.examples,
            "totals": {
                "read": self.read,
                "evaluated": self.evaluated,
                "rejected": self.rejected,
                "changed_interactions": self.changed_interactions,
                "compliance_flipped": self.became_non_compliant.count + self.became_compliant.count,
            },
            "compliance_flips": {
                "became_non_compliant": self.became_non_compliant.to_dict(),
                "became_compliant": self.became_compliant.to_dict(),
            },
            "rules": [rule.to_dict() for rule in self.rules],
            "rejections": [{"source": r.source, "code": r.code, "reason": r.reason} for r in self.rejections],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """The report for a policy owner: totals, then each changed rule with its groups and examples."""
        return "\n".join(_text_lines(self)) + "\n"


# ---------------------------------------------------------------------------------------------- computing


def diff_rulesets(
    old: CompiledRuleset,
    new: CompiledRuleset,
    interactions: Iterable[InteractionInput],
    *,
    as_of: dt.datetime | None = None,
    examples: int = 5,
    batch_size: int = 256,
) -> PolicyDiff:
    """Evaluate ``interactions`` under ``old`` and ``new`` and report what changed, per rule.

    ``interactions`` are :class:`~servicerules.model.interaction.Interaction` objects, dicts, JSON text, or
    :class:`~servicerules.batch.readers.RawRecord` s from :func:`~servicerules.batch.readers.read_records`
    (their file and line become the examples' ``source``; otherwise it is ``#n``, the 1-based position).
    Invalid ones are rejected, never dropped. ``as_of`` is the evaluation time for both versions (default:
    each interaction's last timestamp). ``examples`` is how many interactions each group keeps.
    """
    if examples < 0:
        raise ValueError("examples must be 0 or more")
    if as_of is not None:
        check_as_of(as_of)
    builder = _DiffBuilder(old, new, as_of, examples)
    batch: list[tuple[str, Interaction]] = []
    for item in _validated(interactions, builder.result):
        batch.append(item)
        if len(batch) >= batch_size:
            builder.add_batch(batch)
            batch.clear()
    builder.add_batch(batch)
    return builder.result


def diff_files(
    old_path: str | Path,
    new_path: str | Path,
    inputs: Sequence[str],
    *,
    as_of: dt.datetime | None = None,
    examples: int = 5,
    backend: str = "auto",
    mapping: BatchMapping | None = None,
    join_files: Mapping[str, str | Path] | None = None,
) -> PolicyDiff:
    """:func:`diff_rulesets` for two ruleset files over files, globs, directories or ``-`` (stdin).

    ``mapping`` (a loaded :class:`~servicerules.batch.mapping.Mapping`) reads a help-desk export through it,
    with ``join_files`` for its joins, as ``servicerules check --mapping`` does. Raises
    :class:`~servicerules.errors.RulesetError` (with the diagnostics of both files when both are broken)
    before any input is read, and :class:`FileNotFoundError` for inputs that match nothing.
    """
    if join_files is not None and mapping is None:
        raise ValueError("join_files are the files of a mapping's joins: give the mapping too")
    old, new = _load_pair(old_path, new_path, backend=backend)
    try:
        files = expand_inputs(list(inputs))
        if mapping is not None:
            from servicerules.batch.mapping import read_mapped

            records: Iterable[RawRecord] = itertools.chain.from_iterable(
                read_mapped(mapping, path, join_files=join_files) for path in files
            )
        else:
            records = itertools.chain.from_iterable(read_records(path) for path in files)
        result = diff_rulesets(old, new, records, as_of=as_of, examples=examples)
        result.inputs = list(files)
        return result
    finally:
        old.close()
        new.close()


def _load_pair(old_path: str | Path, new_path: str | Path, *, backend: str = "auto") -> tuple[CompiledRuleset, CompiledRuleset]:
    """Load both versions; a :class:`RulesetError` carries the problems of both files."""
    loaded: list[CompiledRuleset] = []
    diagnostics: list[Diagnostic] = []
    for path in (old_path, new_path):
        try:
            loaded.append(load(Path(path), backend=backend))
        except RulesetError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        for ruleset in loaded:
            ruleset.close()
        raise RulesetError(diagnostics)
    return loaded[0], loaded[1]


def _validated(items: Iterable[InteractionInput], result: PolicyDiff) -> Iterator[tuple[str, Interaction]]:
    for number, item in enumerate(items, start=1):
        result.read += 1
        if isinstance(item, RawRecord):
            source = str(item.position)
            if item.error is not None or item.data is None:
                _reject(result, source, item.code or "SR301", item.error or "no data")
                continue
            value: Interaction | Mapping[str, Any] | str | bytes = item.data
        else:
            source = f"#{number}"
            value = item
        if isinstance(value, Interaction):
            yield source, value
            continue
        try:
            yield source, Interaction.parse(value)
        except InteractionError as exc:
            _reject(result, source, exc.diagnostics[0].code, "; ".join(d.message for d in exc.diagnostics))


def _reject(result: PolicyDiff, source: str, code: str, reason: str) -> None:
    result.rejected += 1
    result.rejections.append(RejectedRecord(source, code, reason))


@dataclass(frozen=True)
class _RuleSlot:
    rule_id: str
    in_old: bool
    in_new: bool


class _DiffBuilder:
    def __init__(self, old: CompiledRuleset, new: CompiledRuleset, as_of: dt.datetime | None, examples: int):
        self.old = old
        self.new = new
        self.as_of = as_of
        self.limit = examples
        self.result = PolicyDiff(old=RulesetInfo.of(old), new=RulesetInfo.of(new), as_of=as_of, examples=examples)
        old_rules = {r.spec.id: r.spec for r in old.rules}
        new_rules = {r.spec.id: r.spec for r in new.rules}
        slots = [_RuleSlot(rule_id, rule_id in old_rules, True) for rule_id in new_rules]
        slots += [_RuleSlot(rule_id, True, False) for rule_id in old_rules if rule_id not in new_rules]
        self.slots = slots
        self.rules: dict[str, RuleDiff] = {}
        for slot in slots:
            spec = new_rules[slot.rule_id] if slot.in_new else old_rules[slot.rule_id]
            rule = RuleDiff(
                rule_id=slot.rule_id,
                title=spec.title,
                severity=spec.severity.value,
                presence="both" if slot.in_old and slot.in_new else ("added" if slot.in_new else "removed"),
                before=StatusCounts() if slot.in_old else None,
                after=StatusCounts() if slot.in_new else None,
            )
            if slot.in_old and slot.in_new:
                before_spec = old_rules[slot.rule_id]
                for name in _ATTRIBUTES:
                    was, now = _attribute(before_spec, name), _attribute(spec, name)
                    if was != now:
                        rule.attributes[name] = (was, now)
            self.rules[slot.rule_id] = rule
            self.result.rules.append(rule)

    def add_batch(self, batch: Sequence[tuple[str, Interaction]]) -> None:
        if not batch:
            return
        models = [model for _source, model in batch]
        before = self.old.evaluate_many(models, as_of=self.as_of, errors="collect", batch_size=len(models))
        after = self.new.evaluate_many(models, as_of=self.as_of, errors="collect", batch_size=len(models))
        for (source, _model), old_result, new_result in zip(batch, before, after, strict=True):
            # the models are validated already, so neither side rejects them; kept for safety
            if isinstance(old_result, Rejection):  # pragma: no cover
                _reject(self.result, source, old_result.error.codes[0], str(old_result.error))
            elif isinstance(new_result, Rejection):  # pragma: no cover
                _reject(self.result, source, new_result.error.codes[0], str(new_result.error))
            else:
                self._add(source, old_result, new_result)

    def _add(self, source: str, old: Report, new: Report) -> None:
        result = self.result
        result.evaluated += 1
        old_states = _states(old)
        new_states = _states(new)
        changed = False
        for slot in self.slots:
            rule = self.rules[slot.rule_id]
            was = old_states.get(slot.rule_id) if slot.in_old else None
            now = new_states.get(slot.rule_id) if slot.in_new else None
            if rule.before is not None and was is not None:
                rule.before.add(was.status)
            if rule.after is not None and now is not None:
                rule.after.add(now.status)
            kind = _classify(was, now)
            if kind is None:
                continue
            changed = True
            group = rule.groups[kind]
            group.count += 1
            if len(group.examples) < self.limit:
                group.examples.append(DiffExample(new.interaction_id, source, was, now))
        result.changed_interactions += changed
        if old.compliant != new.compliant:
            flips = result.became_compliant if new.compliant else result.became_non_compliant
            flips.count += 1
            if len(flips.examples) < self.limit:
                flips.examples.append(ComplianceFlip(new.interaction_id, source, _enforced(old), _enforced(new)))


def _attribute(spec: Any, name: str) -> str:
    value = getattr(spec, name)
    return str(value.value if hasattr(value, "value") else value)


def _states(report: Report) -> dict[str, RuleState]:
    violations: dict[str, list[ViolationBrief]] = {}
    for violation in report.violations:
        violations.setdefault(violation.rule_id, []).append(ViolationBrief(violation.evidence.event_index, violation.message))
    return {
        outcome.rule_id: RuleState(outcome.status, tuple(violations.get(outcome.rule_id, ())))
        for outcome in report.outcomes
    }


def _enforced(report: Report) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for violation in report.violations:
        if violation.mode is Mode.ENFORCE:
            seen.setdefault(violation.rule_id, None)
    return tuple(seen)


def _classify(was: RuleState | None, now: RuleState | None) -> ChangeKind | None:
    if now is None:
        return "no_longer_checked" if was is not None and was.status == "violated" else None
    if was is None:
        return "newly_violated" if now.status == "violated" else None
    if was.status == now.status:
        if now.status == "violated" and was.violations != now.violations:
            return "violation_changed"
        return None
    if now.status == "violated":
        return "newly_violated"
    if was.status == "violated":
        return "now_compliant" if now.status == "compliant" else "now_not_applicable"
    return "now_applicable" if now.status == "compliant" else "no_longer_applicable"


# -------------------------------------------------------------------------------------------- text output


def _short_hash(value: str) -> str:
    algorithm, _, digest = value.partition(":")
    return f"{algorithm}:{digest[:12]}" if digest else value[:12]


def _side(label: str, info: RulesetInfo) -> str:
    where = f" ({info.file})" if info.file else ""
    return f"  {label}: {info.name} {info.version}{where} {_short_hash(info.hash)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _messages(state: RuleState | None, *, events: bool) -> str:
    if state is None or not state.violations:
        return ""
    parts = []
    for violation in state.violations:
        where = f" [event {violation.event_index}]" if events and violation.event_index is not None else ""
        parts.append(violation.message + where)
    return "; ".join(parts)


def _example_lines(kind: ChangeKind, example: DiffExample) -> list[str]:
    head = f"    {example.interaction_id} ({example.source})"
    if kind == "violation_changed":
        return [head, f"      before: {_messages(example.before, events=True)}", f"      after:  {_messages(example.after, events=True)}"]
    if kind == "newly_violated":
        was = "" if example.before is None else f" [was {example.before.status.replace('_', ' ')}]"
        return [f"{head}{was}: {_messages(example.after, events=False)}"]
    if kind in ("now_compliant", "now_not_applicable", "no_longer_checked"):
        return [f"{head}: was: {_messages(example.before, events=False)}"]
    return [head]


def _counts(counts: StatusCounts | None) -> tuple[int, int, int] | None:
    return None if counts is None else (counts.violated, counts.compliant, counts.not_applicable)


def _rule_lines(rule: RuleDiff, limit: int) -> list[str]:
    lines = [f"{rule.rule_id} ({rule.change}, {rule.severity}): {rule.title}"]
    for name, (old, new) in rule.attributes.items():
        lines.append(f"  {name}: {old} → {new}")
    before, after = _counts(rule.before), _counts(rule.after)
    names = ("violated", "compliant", "not applicable")
    if before is not None and after is not None:
        lines.append("  interactions " + ", ".join(f"{n} {b} → {a}" for n, b, a in zip(names, before, after)))
    elif after is not None:
        lines.append("  interactions " + ", ".join(f"{n} {a}" for n, a in zip(names, after)) + " (new rule)")
    elif before is not None:
        lines.append("  interactions " + ", ".join(f"{n} {b}" for n, b in zip(names, before)) + " (before its removal)")
    for kind in CHANGE_KINDS:
        group = rule.groups[kind]
        if not group.count:
            continue
        lines.append(f"  {_LABELS[kind]}: {group.count}")
        for example in group.examples:
            lines.extend(_example_lines(kind, example))
        if group.count > len(group.examples) and limit:
            lines.append(f"    … and {group.count - len(group.examples)} more")
    return lines


def _flip_lines(label: str, group: FlipGroup, limit: int) -> list[str]:
    if not group.count:
        return []
    lines = [f"  {label}: {group.count}"]
    for flip in group.examples:
        if flip.violated_after:  # compliant before: no enforced violation then
            reason = "violates " + ", ".join(flip.violated_after)
        else:
            reason = "no longer violates " + ", ".join(flip.violated_before)
        lines.append(f"    {flip.interaction_id} ({flip.source}): {reason}")
    if group.count > len(group.examples) and limit:
        lines.append(f"    … and {group.count - len(group.examples)} more")
    return lines


def _text_lines(diff: PolicyDiff) -> Iterator[str]:
    yield "Policy diff"
    yield _side("old", diff.old)
    yield _side("new", diff.new)
    as_of = diff.as_of.isoformat() if diff.as_of is not None else "each interaction's last timestamp"
    yield f"  as of: {as_of}"
    yield (
        f"Interactions: {diff.read} read, {diff.evaluated} evaluated, {diff.rejected} rejected; "
        f"{diff.changed_interactions} changed"
    )
    flipped = diff.became_non_compliant.count + diff.became_compliant.count
    yield (
        f"Overall compliance flipped for {_plural(flipped, 'interaction')}: "
        f"{diff.became_non_compliant.count} now non-compliant, {diff.became_compliant.count} now compliant"
    )
    yield from _flip_lines("now non-compliant", diff.became_non_compliant, diff.examples)
    yield from _flip_lines("now compliant", diff.became_compliant, diff.examples)
    changed = [rule for rule in diff.rules if rule.change != "unchanged"]
    unchanged = [rule for rule in diff.rules if rule.change == "unchanged"]
    if not changed:
        yield ""
        yield f"No changes: every rule has the same outcome for every evaluated interaction ({_plural(len(diff.rules), 'rule')})."
    for rule in changed:
        yield ""
        yield from _rule_lines(rule, diff.examples)
    if changed and unchanged:
        yield ""
        yield f"Unchanged ({_plural(len(unchanged), 'rule')}): " + ", ".join(rule.rule_id for rule in unchanged)
    if diff.rejections:
        yield ""
        yield f"Rejected records ({diff.rejected}):"
        for rejected in diff.rejections:
            yield f"  {rejected.source}: {rejected.code} {rejected.reason}"


# ---------------------------------------------------------------------------------------------- command line

EXIT_SAME, EXIT_CHANGED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}; expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}; expected 0 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``diff`` arguments to ``parser`` (the ``diff`` sub-parser of ``servicerules``)."""
    parser.add_argument("old", metavar="OLD", help="the ruleset as it is")
    parser.add_argument("new", metavar="NEW", help="the changed ruleset")
    parser.add_argument("corpus", nargs="+", metavar="CORPUS",
                        help="interaction files (JSONL/JSON/CSV, gzip), globs, directories, - for stdin")
    parser.add_argument("--as-of", type=aware_timestamp, help="evaluation time (default: each interaction's last timestamp)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    parser.add_argument("--examples", type=_count, default=5, metavar="N",
                        help="example interactions shown per group (default: 5)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--mapping", "-m", metavar="FILE|NAME",
                        help="map a help-desk export onto interactions with this mapping file (or a shipped one: twcs, zendesk, bank-calls)")
    parser.add_argument("--join", action="append", default=[], metavar="NAME=PATH",
                        help="a file for the mapping's join NAME (repeatable)")
    parser.add_argument("--backend", choices=("auto", "durable_rules", "reference"), default="auto")


def run_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``servicerules diff``: 0 when nothing changed, 1 when something did, 2 for errors, 130 interrupted."""
    try:
        mapping, joins = mapping_options(args.mapping, args.join)
        result = diff_files(args.old, args.new, args.corpus, as_of=args.as_of, examples=args.examples, backend=args.backend,
                            mapping=mapping, join_files=joins)
    except RulesetError as exc:
        print(exc.render(), file=stderr)
        return EXIT_ERROR
    except OSError as exc:
        ruleset = isinstance(exc.filename, str) and exc.filename in (args.old, args.new)
        print(f"servicerules: error: {ruleset_unreadable(exc.filename, exc) if ruleset else exc}", file=stderr)
        return EXIT_ERROR
    except ValueError as exc:
        print(f"servicerules: error: {exc}", file=stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted: no report written", file=stderr)
        return EXIT_INTERRUPTED
    text = result.to_json() + "\n" if args.format == "json" else result.to_text()
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"servicerules: error: {exc}", file=stderr)
            return EXIT_ERROR
    else:
        stdout.write(text)
    return EXIT_CHANGED if result.changed else EXIT_SAME
