"""The compiler: ruleset model → checked, engine-neutral program.

It runs an ordered list of named passes (as OPA's compiler does), each adding diagnostics; all problems of a
file are collected and reported together, sorted by location. See :data:`PASSES`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from servicerules.compiler import expr as ast
from servicerules.compiler.checker import CheckError, Checker, Evaluator, KeyAllocator, all_of
from servicerules.compiler.values import normalise
from servicerules.compiler.ir import (
    ALWAYS, MAX_BRANCHES, AllOf, AnyOf, Compare, Condition, EngineRule, Present, IRProgram, Scope, Verdict, branch_bound,
)
from servicerules.errors import Diagnostic, RulesetError, did_you_mean
from servicerules.loader import SourceDocument
from servicerules.measures.calendar import BusinessCalendar
from servicerules.measures.catalogue import CATALOGUE, FactSpec, InteractionContext, RulesetResources, lookup
from servicerules.measures.lexicons import DEFAULT_LEXICONS, default_lexicon
from servicerules.measures.sla import sla_fact_prefix, sla_facts
from servicerules.measures.text import LexiconMatcher, check_pattern, phrase_is_empty
from servicerules.model.ruleset import RuleSpec, RulesetSpec, SlaSpec, TargetSpec

__all__ = [
    "CompiledAction",
    "CompiledProgram",
    "CompiledRule",
    "DerivedColumn",
    "FactColumn",
    "PASSES",
    "Template",
    "compile_program",
    "placeholder_facts",
]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def placeholder_facts(placeholder: str) -> list[str]:
    """The facts of a placeholder: ``{first_reply_time ?? unanswered_for}`` shows the first known one."""
    return [name.strip() for name in placeholder.split("??")]


@dataclass(frozen=True)
class Template:
    """A message with ``{fact.name}`` placeholders (``{a ?? b}``: the first known of a and b); ``{{`` and
    ``}}`` are literal braces."""

    text: str
    parts: tuple[tuple[bool, str], ...]  # (is_placeholder, literal text or fact name)

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(name for is_fact, p in self.parts if is_fact for name in placeholder_facts(p))

    def render(self, value_of: Callable[[str], str]) -> str:
        return "".join(value_of(p) if is_fact else p for is_fact, p in self.parts)


@dataclass(frozen=True)
class CompiledAction:
    id: str
    title: str
    description: str | None
    owner: str | None
    due_in: float | None
    escalation_tier: int | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class CompiledRule:
    index: int
    spec: RuleSpec
    scope: Scope
    facts: tuple[str, ...]
    templates: Mapping[str, Template]
    actions: tuple[CompiledAction, ...]
    sla: SlaSpec | None = None
    """For the rule an SLA compiles to: its spec (the report then carries the metric instances)."""
    about: tuple[Callable[[InteractionContext], int | None], ...] = ()
    """For an interaction rule: where its violation's evidence points, tried in order (the first event
    index found wins). From the facts its conditions read that describe one event (``FactSpec.about``),
    those of ``violated_if`` before those of ``when``."""


@dataclass(frozen=True)
class FactColumn:
    """One engine fact key filled from a catalogue fact (normalised to ``type``)."""

    key: str
    name: str
    type: str
    spec: FactSpec


@dataclass(frozen=True)
class DerivedColumn:
    """One engine fact key computed in Python from other facts (arithmetic, regex, lexicons)."""

    key: str
    type: str
    fn: Evaluator


@dataclass(frozen=True)
class CompiledProgram:
    spec: RulesetSpec
    source: str
    file: str | None
    content_hash: str
    rules: tuple[CompiledRule, ...]
    ir: IRProgram
    interaction_columns: tuple[FactColumn, ...]
    interaction_derived: tuple[DerivedColumn, ...]
    event_columns: tuple[FactColumn, ...]
    event_derived: tuple[DerivedColumn, ...]
    lexicons: Mapping[str, LexiconMatcher]
    resources: RulesetResources
    local_facts: Mapping[str, FactSpec] = field(default_factory=dict)
    targets: tuple[Any, ...] = ()
    """Aggregate targets (servicerules.batch.targets.CompiledTarget), evaluated over batches."""

    def fact_spec(self, name: str) -> FactSpec | None:
        """A ruleset-local fact or a catalogue fact."""
        return self.local_facts.get(name) or lookup(name)

    @property
    def needs_events(self) -> bool:
        return any(r.scope is Scope.EVENT for r in self.rules)


@dataclass
class _State:
    doc: SourceDocument
    spec: RulesetSpec
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lexicons: dict[str, LexiconMatcher] = field(default_factory=dict)
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    parsed: dict[tuple[str | int, ...], ast.Node] = field(default_factory=dict)
    keys: KeyAllocator = field(default_factory=KeyAllocator)
    conditions: dict[int, tuple[Condition, Condition, tuple[str, ...]]] = field(default_factory=dict)
    pointers: dict[int, tuple[Callable[[InteractionContext], int | None], ...]] = field(default_factory=dict)
    """Per rule: :attr:`CompiledRule.about`."""
    templates: dict[int, dict[str, Template]] = field(default_factory=dict)
    actions: dict[int, tuple[CompiledAction, ...]] = field(default_factory=dict)
    derived_scope: dict[str, str] = field(default_factory=dict)
    index_map: Mapping[str, Sequence[int]] = field(default_factory=dict)
    local_facts: dict[str, FactSpec] = field(default_factory=dict)
    sla_when: dict[int, Condition] = field(default_factory=dict)
    sla_gates: dict[int, "_SlaGate"] = field(default_factory=dict)
    sla_templates: dict[int, dict[str, Template]] = field(default_factory=dict)
    sla_actions: dict[int, tuple[CompiledAction, ...]] = field(default_factory=dict)
    targets: tuple[Any, ...] = ()

    def lookup(self, name: str) -> FactSpec | None:
        """A ruleset-local fact (``sla.<id>.*``) or a catalogue fact."""
        return self.local_facts.get(name) or lookup(name)

    def error(self, code: str, message: str, path: tuple[str | int, ...], **kw: Any) -> None:
        self.diagnostics.append(self.doc.diagnostic(code, message, self.source_path(path), **kw))

    def source_path(self, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
        """Map a path in the (possibly salvaged) spec back to the document: rules dropped for schema
        errors shift the indices of the rest."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int) and path[0] in self.index_map:
            return (path[0], self.index_map[path[0]][path[1]]) + path[2:]
        return path


def _pass_unique_ids(state: _State) -> None:
    """SR113: rule, SLA and target ids are unique."""
    sections: tuple[tuple[str, Sequence[RuleSpec | SlaSpec | TargetSpec]], ...] = (
        ("rules", state.spec.rules), ("slas", state.spec.slas), ("targets", state.spec.targets),
    )
    # rules and SLAs share one namespace (both become outcomes of a report); targets have their own
    namespaces: dict[str, dict[str, tuple[str, int]]] = {"rules": {}, "slas": {}, "targets": {}}
    namespaces["slas"] = namespaces["rules"]
    for section, items in sections:
        seen = namespaces[section]
        for i, item in enumerate(items):
            if item.id in seen:
                first = state.doc.location(state.source_path((seen[item.id][0], seen[item.id][1], "id")))
                state.error("SR113", f"duplicate id '{item.id}' (first used at line {first.line if first else '?'})", (section, i, "id"))
            else:
                seen[item.id] = (section, i)
    prefixes: dict[str, str] = {}
    for j, sla in enumerate(state.spec.slas):
        prefix = sla_fact_prefix(sla)
        if prefix in prefixes and prefixes[prefix] != sla.id:
            state.error("SR113", f"SLA id '{sla.id}' gives the same fact names ({prefix}*) as '{prefixes[prefix]}'", ("slas", j, "id"),
                        hint="ids that differ only in '-', '.' or '_' collide; rename one")
        prefixes.setdefault(prefix, sla.id)


def _pass_lexicons(state: _State) -> None:
    """SR206: lexicon patterns compile; SR112: no phrase is empty; build one matcher per lexicon, once per ruleset."""
    for name, lexicon in state.spec.lexicons.items():
        ok = True
        for lang, phrases in lexicon.phrases.items():
            for j, phrase in enumerate(phrases):
                if phrase_is_empty(phrase):  # reported; the lexicon is still built, so rules naming it are checked
                    state.error(
                        "SR112", f"lexicon '{name}' has an empty phrase", ("lexicons", name, "phrases", lang, j),
                        hint="a phrase needs at least one word; remove it",
                    )
        for j, pattern in enumerate(lexicon.patterns):
            problem = check_pattern(pattern)
            if problem:
                ok = False
                state.error("SR206", f"invalid regular expression in lexicon '{name}': {problem}", ("lexicons", name, "patterns", j))
        if ok:
            state.lexicons[name] = LexiconMatcher.build(name, lexicon.phrases, lexicon.patterns)
    for name in DEFAULT_LEXICONS:
        if name not in state.spec.lexicons:
            matcher = default_lexicon(name)
            assert matcher is not None
            state.lexicons[name] = matcher


def _pass_calendars(state: _State) -> None:
    """SR112: calendars build (known time zone, valid hours, known holiday country and subdivision) and have
    business hours."""
    for name, calendar in state.spec.calendars.items():
        try:
            built = BusinessCalendar.from_spec(name, calendar.model_dump(by_alias=True, exclude_none=True))
        except ValueError as exc:
            state.error("SR112", str(exc), ("calendars", name))
            continue
        if not any(built.hours[day] for day in range(7)):  # an SLA on it could never reach its target
            state.error(
                "SR112", f"calendar {name!r} has no business hours, so it never accrues business time",
                ("calendars", name, "hours"), hint="give at least one day's hours, e.g. mon: ['09:00-17:00']",
            )
            continue
        state.calendars[name] = built


def _pass_references(state: _State) -> None:
    """SR204/SR205: actions and calendars named by rules and SLAs exist."""
    catalogue = state.spec.actions
    with_actions: tuple[tuple[str, Sequence[RuleSpec | SlaSpec]], ...] = (("rules", state.spec.rules), ("slas", state.spec.slas))
    for section, items in with_actions:
        for i, item in enumerate(items):
            for j, ref in enumerate(item.actions):
                if ref.id not in catalogue:
                    hint = did_you_mean(ref.id, catalogue) or "declare it under 'actions:'"
                    state.error("SR204", f"unknown action '{ref.id}'", (section, i, "actions", j), hint=hint)
    for i, sla in enumerate(state.spec.slas):
        if sla.calendar is not None and sla.calendar not in state.spec.calendars:
            hint = did_you_mean(sla.calendar, state.spec.calendars) or "declare it under 'calendars:'"
            state.error("SR205", f"unknown calendar '{sla.calendar}'", ("slas", i, "calendar"), hint=hint)


def _expression_fields(state: _State) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(path, text, scope) of every expression in the ruleset."""
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    for i, rule in enumerate(state.spec.rules):
        if rule.when is not None:
            out.append((("rules", i, "when"), rule.when, rule.scope))
        out.append((("rules", i, "violated_if"), rule.violated_if, rule.scope))
    for i, sla in enumerate(state.spec.slas):
        if sla.when is not None:
            out.append((("slas", i, "when"), sla.when, "interaction"))
    for i, target in enumerate(state.spec.targets):
        for name in ("when", "condition", "value", "group_time"):
            text = getattr(target, name)
            if text is not None:
                out.append((("targets", i, name), text, "interaction"))
    return out


def _pass_parse(state: _State) -> None:
    """SR200: every expression parses."""
    for path, text, _scope in _expression_fields(state):
        try:
            state.parsed[path] = ast.parse_expression(text)
        except ast.ExprSyntaxError as exc:
            state.error("SR200", exc.message, path, offset=exc.offset, hint=exc.hint)


def _pass_typecheck(state: _State) -> None:
    """SR201-SR203, SR206, SR207, SR209: facts, types, lexicons; lower rules to (TRUE, FALSE) conditions."""
    sla_reads: dict[int, frozenset[str]] = {}
    for path, _text, scope in _expression_fields(state):
        if path[0] in ("rules", "targets"):
            continue  # rules below, targets in _pass_targets
        node = state.parsed.get((path))
        if node is None:
            continue
        is_sla = path[0] == "slas"
        checker = Checker(scope, state.lexicons, state.keys if is_sla else KeyAllocator(), state.lookup, "SLA" if is_sla else "rule")
        try:
            if path[-1] == "value":
                checker.check(node)
            else:
                when_true, _when_false, typed = checker.lower(node)
                if is_sla and branch_bound(when_true) > MAX_BRANCHES:
                    when_true = _computed(state.keys, scope, typed.fn)[0]
                if is_sla:
                    state.sla_when[int(path[1])] = when_true
                    state.sla_gates[int(path[1])].when = typed.fn
                    sla_reads[int(path[1])] = typed.facts
        except CheckError as exc:
            state.error(exc.code, exc.message, path, offset=exc.start, hint=exc.hint)
    _check_sla_cycles(state, sla_reads)
    for i, rule in enumerate(state.spec.rules):
        when_node = state.parsed.get((("rules", i, "when"))) if rule.when is not None else None
        cond_node = state.parsed.get((("rules", i, "violated_if")))
        if cond_node is None or (rule.when is not None and when_node is None):
            continue
        checker = Checker(rule.scope, state.lexicons, state.keys, state.lookup)
        facts: list[str] = []
        try:
            if when_node is not None:
                when_true, _when_false, when_typed = checker.lower(when_node)
                facts.extend(sorted(when_typed.facts))
            else:
                when_true = ALWAYS
        except CheckError as exc:
            state.error(exc.code, exc.message, ("rules", i, "when"), offset=exc.start, hint=exc.hint)
            continue
        try:
            true, false, typed = checker.lower(cond_node)
        except CheckError as exc:
            state.error(exc.code, exc.message, ("rules", i, "violated_if"), offset=exc.start, hint=exc.hint)
            continue
        when_facts = len(facts)
        facts.extend(f for f in sorted(typed.facts) if f not in facts)
        violated, compliant = all_of(when_true, true), all_of(when_true, false)
        if max(branch_bound(violated), branch_bound(compliant)) > MAX_BRANCHES:
            # Too many alternatives for a Rete network: Python computes the two conditions (Kleene logic, as
            # lowered) and the backend matches their values.
            true, false = _computed(state.keys, rule.scope, typed.fn)
            if when_node is not None:
                when_true = _computed(state.keys, rule.scope, when_typed.fn)[0]
            violated, compliant = all_of(when_true, true), all_of(when_true, false)
        state.conditions[i] = (violated, compliant, tuple(dict.fromkeys(facts)))
        if rule.scope == "interaction":
            specs = (state.lookup(name) for name in [*sorted(typed.facts), *facts[:when_facts]])
            state.pointers[i] = tuple(dict.fromkeys(s.about.find for s in specs if s is not None and s.about is not None))
    for key, scope, _fn, _type in state.keys.derived:
        state.derived_scope[key] = scope


def _computed(keys: KeyAllocator, scope: str, fn: Evaluator) -> tuple[Condition, Condition]:
    """The TRUE and FALSE conditions of a boolean expression that Python computes (a derived value)."""
    key = keys.derived_key(scope, fn, "bool")
    return Compare(key, "==", True), Compare(key, "==", False)


def _check_sla_cycles(state: _State, reads: Mapping[int, frozenset[str]]) -> None:
    """SR210: an SLA's ``when`` may read other SLAs' facts, but not its own, directly or through others: its
    facts are unknown where its ``when`` is not true, so they cannot decide it."""
    prefixes = [sla_fact_prefix(sla) for sla in state.spec.slas]
    needs = {j: [k for k, p in enumerate(prefixes) if any(f.startswith(p) for f in facts)] for j, facts in reads.items()}
    for start in sorted(needs):
        path, seen, stack = [start], {start}, [iter(needs[start])]
        while stack:  # depth first from start, looking for a way back to it
            k = next(stack[-1], None)
            if k is None:
                stack.pop()
                path.pop()
            elif k == start:
                chain = " → ".join(state.spec.slas[i].id for i in [*path, start])
                state.error(
                    "SR210", f"the 'when' of SLA '{state.spec.slas[start].id}' depends on its own facts ({chain})",
                    ("slas", start, "when"), hint="an SLA's facts are unknown where its 'when' is not true; test the underlying facts instead",
                )
                break
            elif k not in seen:
                seen.add(k)
                path.append(k)
                stack.append(iter(needs.get(k, ())))


def _parse_template(text: str) -> tuple[list[tuple[bool, str]], list[tuple[int, str]]]:
    """(parts, problems as (offset, message))."""
    parts: list[tuple[bool, str]] = []
    problems: list[tuple[int, str]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append((False, text[pos : match.start()]))
        token = match.group()
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
        elif match.group(1) is None:
            problems.append((match.start(), f"unmatched '{token}' in message; write '{token}{token}' for a literal brace"))
        else:
            parts.append((True, match.group(1).strip()))
        pos = match.end()
    parts.append((False, text[pos:]))
    return [p for p in parts if p[0] or p[1]], problems


def _compile_messages(
    state: _State, messages: Mapping[str, str], path: tuple[str | int, ...], scope: str
) -> dict[str, Template]:
    compiled: dict[str, Template] = {}
    for locale, text in messages.items():
        where = path if list(messages) == ["*"] else path + (locale,)
        parts, problems = _parse_template(text)
        for offset, message in problems:
            state.error("SR208", message, where, offset=offset)
        for is_fact, placeholder in parts:
            if not is_fact:
                continue
            for name in placeholder_facts(placeholder):
                spec = state.lookup(name)
                offset = max(text.find(name), 0)
                if spec is None:
                    state.error("SR208", f"message names unknown fact '{name}'", where, offset=offset, hint=did_you_mean(name, [*CATALOGUE, *state.local_facts]))
                elif spec.scope == "event" and scope != "event":
                    state.error("SR209", f"message uses event fact '{name}' in a rule with scope: interaction", where, offset=offset, hint="add 'scope: event' to the rule")
        compiled[locale] = Template(text, tuple(parts))
    return compiled


def _pass_templates(state: _State) -> None:
    """SR208: message templates are well formed and name known facts valid for the rule's scope."""
    for i, rule in enumerate(state.spec.rules):
        state.templates[i] = _compile_messages(state, rule.message, ("rules", i, "message"), rule.scope)
    for j, sla in enumerate(state.spec.slas):
        messages = dict(sla.message) or _default_sla_messages(sla_fact_prefix(sla))
        state.sla_templates[j] = _compile_messages(state, messages, ("slas", j, "message"), "interaction")


def _default_sla_messages(prefix: str) -> dict[str, str]:
    p = prefix.rstrip(".")
    return {
        "en": f"SLA target missed: {{{p}.state}} after {{{p}.elapsed}} against a target of {{{p}.target}} (deadline {{{p}.deadline}}).",
        "de": f"SLA-Ziel verfehlt: {{{p}.state}} nach {{{p}.elapsed}} bei einem Ziel von {{{p}.target}} (Frist {{{p}.deadline}}).",
    }


class _SlaGate:
    """Whether an SLA's ``when`` is true for an interaction. Where it is not, the SLA's ``sla.<id>.*`` facts are
    unknown, as the SLA's own outcome is not applicable there: a rule or target reading them does not count
    an interaction the SLA does not cover. The typecheck pass gives it the ``when``'s evaluator."""

    __slots__ = ("when", "local_facts")

    def __init__(self, local_facts: Mapping[str, FactSpec]):
        self.when: Evaluator | None = None
        self.local_facts = local_facts
        """The ruleset's own facts (other SLAs' facts), besides the catalogue's."""

    def __call__(self, ctx: InteractionContext) -> bool:
        when = self.when
        if when is None:
            return True

        def get(name: str, type_: str) -> Any:
            spec = self.local_facts.get(name) or lookup(name)
            assert spec is not None and spec.scope == "interaction", name  # checked when the ruleset compiled
            # computed once per interaction, for the gates of several SLAs (the channel) and the rules alike
            return normalise(ctx.fact(spec), type_)

        return when(get) is True


def _pass_sla_facts(state: _State) -> None:
    """Each SLA contributes ruleset-local facts ``sla.<id>.state|breached|elapsed|target|deadline|count``."""
    for j, sla in enumerate(state.spec.slas):
        gate = state.sla_gates[j] = _SlaGate(state.local_facts)
        state.local_facts.update(sla_facts(sla, gate if sla.when is not None else None))


def _resolve_actions(state: _State, refs: Sequence[Any]) -> tuple[CompiledAction, ...]:
    resolved = []
    for ref in refs:
        base = state.spec.actions.get(ref.id)
        if base is None:
            continue  # reported by _pass_references
        resolved.append(
            CompiledAction(
                id=ref.id,
                title=base.title,
                description=base.description,
                owner=ref.owner or base.owner,
                due_in=ref.due_in if ref.due_in is not None else base.due_in,
                escalation_tier=ref.escalation_tier if ref.escalation_tier is not None else base.escalation_tier,
                params=dict(ref.params),
            )
        )
    return tuple(resolved)


def _pass_actions(state: _State) -> None:
    """Resolve each rule's and SLA's action references against the catalogue, applying overrides."""
    for i, rule in enumerate(state.spec.rules):
        state.actions[i] = _resolve_actions(state, rule.actions)
    for j, sla in enumerate(state.spec.slas):
        state.sla_actions[j] = _resolve_actions(state, sla.actions)


def _pass_targets(state: _State) -> None:
    """SR111/SR112/SR201-SR209: aggregate targets compile (expressions, kinds, objectives, group keys)."""
    from servicerules.batch.targets import check_targets

    state.targets, problems = check_targets(
        state.spec, state.lookup, state.lexicons, calendars=state.calendars, parsed=state.parsed
    )
    for problem in problems:
        state.error(problem.code, problem.message, problem.path, offset=problem.offset, hint=problem.hint)


PASSES: tuple[tuple[str, Callable[[_State], None]], ...] = (
    ("unique-ids", _pass_unique_ids),
    ("lexicons", _pass_lexicons),
    ("calendars", _pass_calendars),
    ("references", _pass_references),
    ("sla-facts", _pass_sla_facts),
    ("parse", _pass_parse),
    ("typecheck", _pass_typecheck),
    ("targets", _pass_targets),
    ("templates", _pass_templates),
    ("actions", _pass_actions),
)
"""The compiler's stages, in order. Each adds diagnostics; all run, so one report lists every problem."""


def _keys_of(condition: Condition) -> set[str]:
    if isinstance(condition, (Compare, Present)):
        return {condition.key}
    assert isinstance(condition, (AllOf, AnyOf))
    out: set[str] = set()
    for item in condition.items:
        out |= _keys_of(item)
    return out


def compile_program(
    spec: RulesetSpec,
    doc: SourceDocument,
    *,
    index_map: Mapping[str, Sequence[int]] | None = None,
    prior: Sequence[Diagnostic] = (),
) -> CompiledProgram:
    """Run :data:`PASSES`; raise :class:`RulesetError` with every diagnostic, or return the program.

    ``prior`` are schema diagnostics already found in the document; ``spec`` is then the part of it that
    validated, and ``index_map`` maps its list indices back to the document's.
    """
    state = _State(doc=doc, spec=spec, index_map=index_map or {})
    for _name, run in PASSES:
        run(state)
    if state.diagnostics or prior:
        raise RulesetError([*prior, *state.diagnostics])

    engine_rules: list[EngineRule] = []
    rules: list[CompiledRule] = []
    used: dict[Scope, set[str]] = {Scope.INTERACTION: set(), Scope.EVENT: set()}
    for i, rule in enumerate(spec.rules):
        if not rule.enabled:
            continue
        scope = Scope(rule.scope)
        violated, compliant, facts = state.conditions[i]
        index = len(rules)
        about = state.pointers.get(i, ())
        rules.append(CompiledRule(index, rule, scope, facts, state.templates[i], state.actions[i], about=about))
        engine_rules.append(EngineRule(f"{rule.id}#violated", index, Verdict.VIOLATED, scope, violated))
        engine_rules.append(EngineRule(f"{rule.id}#compliant", index, Verdict.COMPLIANT, scope, compliant))
        used[scope] |= _keys_of(violated) | _keys_of(compliant)
    for j, sla in enumerate(spec.slas):
        if j not in state.sla_when and sla.when is not None:
            continue  # its 'when' failed to compile (reported)
        prefix = sla_fact_prefix(sla)
        key = state.keys.fact_key(prefix + "breached", "bool")
        when = state.sla_when.get(j, ALWAYS)
        violated, compliant = all_of(when, Compare(key, "==", True)), all_of(when, Compare(key, "==", False))
        index = len(rules)
        facts = tuple(prefix + name for name in ("state", "elapsed", "target", "deadline"))
        as_rule = RuleSpec(
            id=sla.id, title=sla.title, severity=sla.severity, mode=sla.mode, when=sla.when,
            violated_if=prefix + "breached", tags=["sla", sla.metric], references=list(sla.references),
        )
        rules.append(CompiledRule(index, as_rule, Scope.INTERACTION, facts, state.sla_templates[j], state.sla_actions[j], sla=sla))
        engine_rules.append(EngineRule(f"{sla.id}#violated", index, Verdict.VIOLATED, Scope.INTERACTION, violated))
        engine_rules.append(EngineRule(f"{sla.id}#compliant", index, Verdict.COMPLIANT, Scope.INTERACTION, compliant))
        used[Scope.INTERACTION] |= _keys_of(violated) | _keys_of(compliant)

    by_key = {key: (name, type_) for (name, type_), key in state.keys.fact_keys.items()}
    derived = {key: (fn, type_) for key, _scope, fn, type_ in state.keys.derived}

    def columns(keys: set[str]) -> tuple[tuple[FactColumn, ...], tuple[DerivedColumn, ...]]:
        facts = []
        computed = []
        for key in sorted(keys, key=lambda k: (k[0], int(k[1:]))):
            if key in by_key:
                name, type_ = by_key[key]
                spec_ = state.lookup(name)
                assert spec_ is not None
                facts.append(FactColumn(key, name, type_, spec_))
            else:
                fn, type_ = derived[key]
                computed.append(DerivedColumn(key, type_, fn))
        return tuple(facts), tuple(computed)

    interaction_columns, interaction_derived = columns(used[Scope.INTERACTION])
    event_columns, event_derived = columns(used[Scope.EVENT])
    fact_keys = tuple(sorted(set(by_key) | set(derived), key=lambda k: (k[0], int(k[1:]))))
    return CompiledProgram(
        spec=spec,
        source=doc.text,
        file=doc.file,
        content_hash="sha256:" + hashlib.sha256(doc.text.encode("utf-8")).hexdigest(),
        rules=tuple(rules),
        ir=IRProgram(tuple(engine_rules), fact_keys),
        interaction_columns=interaction_columns,
        interaction_derived=interaction_derived,
        event_columns=event_columns,
        event_derived=event_derived,
        lexicons=dict(state.lexicons),
        resources=RulesetResources(
            lexicons=dict(state.lexicons),
            calendars=dict(state.calendars),
            refunds=spec.refunds,
            procedures=tuple(spec.procedures),
            slas=tuple(spec.slas),
        ),
        local_facts=dict(state.local_facts),
        targets=state.targets,
    )
