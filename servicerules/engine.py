"""Loading a ruleset and evaluating interactions against it.

``load()`` runs loader → model → compiler once; the returned :class:`CompiledRuleset` evaluates any number of
interactions (thread-safe), each in isolation: measures compute the facts the rules need, the backend
matches them, and the report is assembled with rendered messages, evidence and recommended actions.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, NamedTuple, Sequence, TypeVar, overload

from pydantic import ValidationError

from servicerules._durations import format_duration
from servicerules.compiler import CompiledProgram, CompiledRule, DerivedColumn, FactColumn, compile_program, placeholder_facts
from servicerules.compiler.backends import Backend, create_backend
from servicerules.compiler.ir import KIND_KEY, AllOf, Compare, Condition, EngineRule, Fact, Firing, Present, Scope, Verdict
from servicerules.compiler.reference import compile_condition
from servicerules.compiler.values import free_value, identity as _identity, normalise as _normalise, normaliser as _normaliser
from servicerules.errors import Diagnostic, EvaluationError, InteractionError, RulesetError, internal_error, out_of_date_range
from servicerules.loader import SourceDocument, load_yaml, read_source
from servicerules.measures import InteractionContext
from servicerules.measures.catalogue import FactSpec, lookup
from servicerules.measures.privacy import mask_text
from servicerules.model._diagnostics import ruleset_diagnostics
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import RulesetSpec
from servicerules.measures.sla import sla_instances, worst_instance
from servicerules.model.ruleset import SlaSpec
from servicerules.report import REPORT_SCHEMA_VERSION, Evidence, RecommendedAction, Report, RuleOutcome, RulesetRef, SlaInstance, SlaResult, Violation, trusted

if TYPE_CHECKING:  # servicerules.batch.targets imports the compiler: no import cycle at run time
    from servicerules.batch.targets import CompiledTarget, Contribution

__all__ = ["CompiledRuleset", "Rejection", "Verdicts", "default_as_of", "load", "parse_ruleset", "parse_ruleset_text"]

EXCERPT_LENGTH = 200

#: Entries kept in each of a compiled ruleset's report caches before it is emptied.
_CACHE_LIMIT = 4096


def parse_ruleset(path_or_text: str | Path) -> tuple[RulesetSpec, SourceDocument]:
    """Load and validate a ruleset file (or YAML text) without compiling it."""
    text, file = read_source(path_or_text)
    return parse_ruleset_text(text, file)


def parse_ruleset_text(text: str, file: str | None) -> tuple[RulesetSpec, SourceDocument]:
    doc = load_yaml(text, file)
    if not isinstance(doc.data, dict):
        found = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        raise RulesetError(
            [Diagnostic("SR102", f"a ruleset must be a YAML mapping, this document is {found}", doc.location(()),
                        hint="start with 'ruleset: <name>' and 'version: <version>'")]
        )
    data = doc.data
    if isinstance(data.get("version"), (int, float)) and ("version",) in doc.raw:
        data = {**data, "version": doc.raw[("version",)]}  # "1.10" stays 1.10, not the float 1.1
    try:
        spec = RulesetSpec.model_validate(data)
    except ValidationError as exc:
        diagnostics = ruleset_diagnostics(exc, doc, RulesetSpec)
        _salvage(doc, exc, diagnostics)
        raise RulesetError(diagnostics) from None
    return spec, doc


_LISTS = ("rules", "slas", "targets")


def _salvage(doc: SourceDocument, exc: ValidationError, diagnostics: list[Diagnostic]) -> None:
    """Compile what passed schema validation too, so one run reports every problem of the file.

    Unknown keys are dropped; rules, SLAs and targets with other schema errors are left out. If anything
    else is wrong the salvage is skipped (its errors would be noise caused by the first ones).
    """
    data = copy.deepcopy(doc.data)
    broken: dict[str, set[int]] = {name: set() for name in _LISTS}
    for error in exc.errors():
        loc = [p for p in error["loc"] if isinstance(p, int) or "[" not in p]
        if error["type"] == "extra_forbidden" and _drop_key(data, loc):
            continue
        if len(loc) >= 2 and loc[0] in _LISTS and isinstance(loc[1], int):
            broken[str(loc[0])].add(loc[1])
        else:
            return
    index_map: dict[str, list[int]] = {}
    for name in _LISTS:
        items = data.get(name)
        if isinstance(items, list):
            index_map[name] = [i for i in range(len(items)) if i not in broken[name]]
            data[name] = [items[i] for i in index_map[name]]
    try:
        spec = RulesetSpec.model_validate(data)
        compile_program(spec, doc, index_map=index_map)
    except ValidationError:
        return
    except RulesetError as more:
        diagnostics.extend(more.diagnostics)


def _drop_key(data: Any, loc: Sequence[Any]) -> bool:
    node = data
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(node, dict) and loc and loc[-1] in node:
        del node[loc[-1]]
        return True
    return False


def load(path_or_text: str | Path, *, backend: str = "auto") -> "CompiledRuleset":
    """Load, validate and compile a ruleset from a file path or YAML text.

    Raises :class:`~servicerules.errors.RulesetError` listing every problem with ``file:line:col``.
    ``backend`` is ``"durable_rules"``, ``"reference"`` or ``"auto"`` (durable_rules where it imports).
    """
    spec, doc = parse_ruleset(path_or_text)
    return CompiledRuleset(compile_program(spec, doc), backend=backend)


@lru_cache(maxsize=4096)
def _catalogue_spec(name: str) -> FactSpec | None:
    return lookup(name)


_UNSEEN: Any = object()


def _event_order(event_index: int | None) -> int:
    return -1 if event_index is None else event_index  # the interaction's own violation first


class _FactReader:
    """Reads facts of one interaction, computing each (fact, event) once."""

    __slots__ = ("ctx", "interaction", "events", "local")

    def __init__(self, ctx: InteractionContext, local: Mapping[str, FactSpec]):
        self.ctx = ctx
        # Values by fact name: per interaction, and per event index. Not one dict keyed by (name, index): those
        # ~100 key tuples per interaction are objects the garbage collector tracks, plain dicts of scalars are not.
        self.interaction: dict[str, Any] = ctx.facts
        self.events: dict[int | None, dict[str, Any]] = {}
        self.local = local

    def spec(self, name: str) -> FactSpec:
        found = self.local.get(name) or _catalogue_spec(name)
        assert found is not None, name  # the compiler only lets known facts through
        return found

    def raw_value(self, name: str, index: int | None) -> Any:
        return self.value(self.spec(name), index)

    def value(self, spec: FactSpec, index: int | None) -> Any:
        """The raw value of the fact ``spec`` for event ``index`` (ignored for interaction facts)."""
        if spec.scope == "interaction":  # one value per interaction, also when an event rule reads it per event
            return self.ctx.fact(spec)
        name = spec.name
        event = self.events.get(index)
        if event is None:
            event = self.events[index] = {}
        value = event.get(name, _UNSEEN)
        if value is _UNSEEN:
            value = event[name] = spec.compute(self.ctx, index)
        return value

    def getter(self, index: int | None) -> Any:
        def get(name: str, type_: str) -> Any:
            return _normalise(self.raw_value(name, index), type_)

        return get


@dataclass(frozen=True)
class _Column:
    """One engine fact key and how to fill it: ``read(reader, event_index)`` → normalised value or None.

    A column of a catalogue fact also carries what the plan's inlined read needs (``name``, ``compute``,
    whether it is an event fact and its normaliser): a fact is read a hundred times per interaction, and
    three Python calls per read were a tenth of an evaluation's cost."""

    key: str
    read: Callable[[_FactReader, int | None], Any]
    name: str = ""
    compute: Callable[..., Any] | None = None
    """None for a derived column (computed from other facts)."""
    per_event: bool = False
    normalise: Callable[[Any], Any] = _identity

    @classmethod
    def of_fact(cls, column: FactColumn) -> "_Column":
        spec, normalise = column.spec, _normaliser(column.type)

        def read(reader: _FactReader, index: int | None) -> Any:
            value = reader.value(spec, index)
            return None if value is None else normalise(value)

        return cls(column.key, read, spec.name, spec.compute, spec.scope == "event", normalise)

    @classmethod
    def of_derived(cls, column: DerivedColumn) -> "_Column":
        fn, type_ = column.fn, column.type
        return cls(column.key, lambda reader, index: _normalise(fn(reader.getter(index)), type_))


def _conjuncts(condition: Condition) -> tuple[Condition, ...]:
    return condition.items if isinstance(condition, AllOf) else (condition,)


def _keys(condition: Condition) -> set[str]:
    if isinstance(condition, (Compare, Present)):
        return {condition.key}
    return set().union(*(_keys(item) for item in condition.items))


_ANY_KEYS: frozenset[str] = frozenset()
"""Required keys of a condition that can be TRUE whatever keys a fact has (see :func:`_required`)."""


def _required(condition: Condition) -> frozenset[str] | None:
    """Keys a fact must hold for ``condition`` to be TRUE on it; None when it is never TRUE.

    A comparison is only TRUE on a present key (an absent value is unknown), ``exists`` needs its key, a
    conjunction every key of its items, a disjunction the keys all of its branches need."""
    if isinstance(condition, Compare):
        return frozenset((condition.key,))
    if isinstance(condition, Present):
        return frozenset((condition.key,)) if condition.present else _ANY_KEYS
    parts = [_required(item) for item in condition.items]
    if isinstance(condition, AllOf):
        if any(part is None for part in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    possible = [part for part in parts if part is not None]
    if not possible:
        return None  # an empty AnyOf, or one of branches that are never TRUE
    return frozenset.intersection(*possible)


_NO_RULE_KIND = "-"
"""The kind of the placeholder of an event fact on which no rule can fire: no engine rule matches it, so no
backend looks at it, and the facts keep their positions (a firing's fact index is an event's index + 1)."""
_NOTHING_WANTED: tuple[tuple["_Column", ...], bool] = ((), False)

_GUARD_MEMO_LIMIT = 4096
"""Entries kept in a plan's memo of guard outcomes before it is emptied (the values are the data's)."""


class _FactPlan:
    """Which engine fact keys of one scope to compute for a fact, and in which order.

    Each source rule is two engine rules, ``violated`` and ``compliant``; the conjuncts they share (the
    lowered ``when``) are its *guard*. Where the guard is not TRUE neither engine rule can fire, whatever the
    rule's other keys hold, so those keys are computed only for facts where some rule reading them has a
    TRUE guard: a chat SLA's clock is never run for an e-mail, a card check never for a status event. The
    keys guards read (and those of rules without a guard) are computed first, for every fact. A key left
    out is simply absent, as an unknown value is; every rule that reads it is not applicable there anyway.

    An event fact on which no rule can fire at all (no guard is TRUE, and each rule without a guard needs a
    key the fact lacks) is not handed to the backend: a placeholder of kind :data:`_NO_RULE_KIND` takes its
    place. The guards' outcome depends only on the values of the keys they read, so it is worked out once per
    distinct tuple of those values (a status event, a message, an action...), not once per fact.
    """

    def __init__(self, scope: Scope, rules: Sequence[EngineRule], columns: Sequence[_Column]):
        self.columns = tuple(columns)
        available = {c.key for c in columns}
        pairs: dict[int, list[EngineRule]] = {}
        for rule in rules:
            if rule.scope is scope:
                pairs.setdefault(rule.rule_index, []).append(rule)
        first: set[str] = set()
        guarded: dict[Condition, set[str]] = {}
        guard_keys: set[str] = set()
        # per rule without a usable guard: the keys a fact needs for one of its engine rules to fire there
        unguarded: list[frozenset[str] | None] = []
        for pair in pairs.values():
            shared = set(_conjuncts(pair[0].condition))
            for rule in pair[1:]:
                shared &= set(_conjuncts(rule.condition))
            guard = AllOf(tuple(c for c in _conjuncts(pair[0].condition) if c in shared))
            needed = set().union(*(_keys(rule.condition) for rule in pair))
            keys_of_guard = _keys(guard)
            if not guard.items or not keys_of_guard <= available:
                first |= needed  # no guard (or one that cannot be read first): always needed
                halves = [_required(rule.condition) for rule in pair]
                possible = [half for half in halves if half is not None]
                unguarded.append(frozenset.intersection(*possible) if possible else None)
                continue
            first |= keys_of_guard
            guard_keys |= keys_of_guard
            guarded.setdefault(guard, set()).update(needed - keys_of_guard)
        self.first = tuple(c for c in self.columns if c.key in first)
        self.order = tuple(c.key for c in self.columns)
        # Guards are evaluated with the reference backend's predicates: the executable definition of the IR.
        self.guards = tuple((compile_condition(guard), frozenset(keys - first)) for guard, keys in guarded.items())
        self.guard_keys = tuple(sorted(guard_keys))
        # Only event facts are left out (the interaction's fact keeps index 0), and only if every rule without
        # a guard needs some key: one that may fire on any fact makes every fact worth matching.
        needs = [keys for keys in unguarded if keys is not None]
        self.skippable = scope is Scope.EVENT and _ANY_KEYS not in needs
        self.unguarded_needs = tuple(needs)
        self._memo: dict[tuple[Any, ...], tuple[tuple[_Column, ...], bool]] = {}

    def _guard_outcome(self, known: dict[str, Any]) -> tuple[tuple[_Column, ...], bool]:
        """The columns wanted besides the first ones, and whether any guard is TRUE, for these guard values."""
        # Types are part of the key: True == 1 == 1.0, but a guard comparing with a number is never TRUE on a
        # bool. Absent keys are None (a fact never holds None).
        if len(self.guard_keys) == 1:  # event plans usually: event.type alone
            value = known.get(self.guard_keys[0])
            memo_key: tuple[Any, ...] = (type(value), value)
        else:
            memo_key = tuple([(type(value), value) for value in map(known.get, self.guard_keys)])
        try:
            outcome = self._memo.get(memo_key)
        except TypeError:  # a free attribute holding a list or a dict: not hashable, so not memoised
            return self._evaluate_guards(known)
        if outcome is None:
            if len(self._memo) >= _GUARD_MEMO_LIMIT:
                self._memo.clear()
            outcome = self._memo[memo_key] = self._evaluate_guards(known)
        return outcome

    def _evaluate_guards(self, known: dict[str, Any]) -> tuple[tuple[_Column, ...], bool]:
        wanted: set[str] = set()
        any_true = False
        for guard, keys in self.guards:
            if guard(known):
                any_true = True
                wanted |= keys
        return tuple(c for c in self.columns if c.key in wanted), any_true

    def fact(self, kind: str, reader: _FactReader, index: int | None) -> Fact:
        known: dict[str, Any] = {"kind": kind}  # as the fact holds them: unknown values are left out
        _read_into(known, self.first, reader, index)
        wanted, any_true = self._guard_outcome(known) if self.guards else _NOTHING_WANTED
        if not wanted:
            if self.skippable and not any_true:
                present = known.keys()
                if not any(needs <= present for needs in self.unguarded_needs):
                    return {KIND_KEY: _NO_RULE_KIND}
            return known  # the first keys, in column order
        _read_into(known, wanted, reader, index)
        # in column order, as the engine has always been given them
        return {"kind": kind, **{key: known[key] for key in self.order if key in known}}


def _read_into(known: dict[str, Any], columns: tuple[_Column, ...], reader: _FactReader, index: int | None) -> None:
    """Read ``columns`` for event ``index`` (None: the interaction) into ``known``, leaving unknown values out.

    :meth:`_FactReader.value` inlined for catalogue facts (see :class:`_Column`)."""
    ctx = reader.ctx
    interaction_cache = reader.interaction
    event_cache: dict[str, Any] | None = None
    for column in columns:
        compute = column.compute
        if compute is None:  # a derived column
            value = column.read(reader, index)
        else:
            name = column.name
            if column.per_event:
                if event_cache is None:
                    event_cache = reader.events.get(index)
                    if event_cache is None:
                        event_cache = reader.events[index] = {}
                value = event_cache.get(name, _UNSEEN)
                if value is _UNSEEN:
                    value = event_cache[name] = compute(ctx, index)
            else:
                value = interaction_cache.get(name, _UNSEEN)
                if value is _UNSEEN:
                    value = interaction_cache[name] = compute(ctx)
            if value is not None:
                value = column.normalise(value)
        if value is not None:
            known[column.key] = value


#: An interaction's fact reader and the facts handed to the matching backend.
_Prepared = tuple[_FactReader, list[Fact]]
_Result = TypeVar("_Result")


class Rejection:
    """An interaction that ``evaluate_many(errors="collect")`` could not evaluate, in its input position."""

    __slots__ = ("index", "error")

    def __init__(self, index: int, error: InteractionError):
        self.index = index
        self.error = error

    def __repr__(self) -> str:
        return f"Rejection(index={self.index}, codes={self.error.codes})"


class Verdicts(NamedTuple):
    """What a :class:`Report` says of each rule, without the violations themselves (messages, evidence,
    recommended actions): all a batch summary counts, at a small part of a report's cost."""

    interaction_id: str
    statuses: dict[int, str]
    """Per rule index, for the rules that applied: ``"violated"`` or ``"compliant"`` (the others were not
    applicable)."""
    violations: dict[int, list[int | None]]
    """Per violated rule index, in rule order: the event index each violation was found at, in event order
    (``None`` for an interaction rule's), one per violation the report lists. (The report's evidence points
    an interaction rule's violation at the event its facts are about, where there is one.)"""


class CompiledRuleset:
    """A compiled ruleset bound to a matching backend. Compile once, evaluate many."""

    def __init__(self, program: CompiledProgram, *, backend: str = "auto"):
        self.program = program
        self._requested_backend = backend
        self._backend: Backend = create_backend(program.ir, backend)
        spec = program.spec
        self.ref = RulesetRef(name=spec.ruleset, version=spec.version, hash=program.content_hash, backend=self._backend.name)
        self._outcomes: dict[tuple[int, str, int], RuleOutcome] = {}
        self._not_applicable = tuple(self._outcome(rule, "not_applicable", 0) for rule in program.rules)
        self._slas = tuple((rule.index, rule.sla) for rule in program.rules if rule.sla is not None)
        self._sla_not_applicable = {
            sla.id: trusted(SlaResult, sla_id=sla.id, metric=sla.metric, state="not_applicable", instances=[])
            for _index, sla in self._slas
        }
        # Per report building: the template a locale picks for a rule, and a rule's recommended actions at
        # an as_of (actions are immutable, and in a batch every report has the same as_of: built once).
        self._templates: dict[tuple[int, str], tuple[str, Any]] = {}
        self._actions: dict[tuple[int, dt.datetime, dt.tzinfo | None, int], list[RecommendedAction]] = {}
        rules = program.ir.engine_rules
        #: per engine rule: (source rule index, whether it is the rule's "violated" half)
        self._verdicts = tuple((rule.rule_index, rule.verdict is Verdict.VIOLATED) for rule in rules)
        self._interaction_plan = _FactPlan(
            Scope.INTERACTION, rules,
            [*map(_Column.of_fact, program.interaction_columns), *map(_Column.of_derived, program.interaction_derived)],
        )
        self._event_plan = _FactPlan(
            Scope.EVENT, rules, [*map(_Column.of_fact, program.event_columns), *map(_Column.of_derived, program.event_derived)]
        )
        self._needs_events = program.needs_events  # a property that looks through every rule

    # -- identity ----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.program.spec.ruleset

    @property
    def version(self) -> str:
        return self.program.spec.version

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        return self.program.rules

    def __repr__(self) -> str:
        return f"<CompiledRuleset {self.name} {self.version} rules={len(self.rules)} backend={self.backend}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Engine handles cannot cross processes: a worker recompiles from the source text.
        return (_restore, (self.program.source, self.program.file, self._requested_backend))

    def close(self) -> None:
        """Release the matching engine. Idempotent; the ruleset cannot evaluate afterwards (SR400)."""
        self._backend.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._backend.closed

    def __enter__(self) -> CompiledRuleset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def targets(self) -> tuple[CompiledTarget, ...]:
        """The ruleset's aggregate targets, compiled (``servicerules.batch.targets.CompiledTarget``)."""
        return self.program.targets

    def target_contributions(
        self, interaction: Interaction | Mapping[str, Any] | str | bytes, *, as_of: dt.datetime | None = None
    ) -> list[Contribution]:
        """What one interaction contributes to each aggregate target (feed them to a TargetAccumulator)."""
        from servicerules.batch.targets import target_contributions

        model = _as_interaction(interaction)
        with _dates_in_range():
            reader, _facts = self._prepare(model, as_of)
            return target_contributions(self.program.targets, reader.getter(None), model, reader.ctx.as_of)

    # -- evaluation --------------------------------------------------------------------------------------

    def evaluate(
        self,
        interaction: Interaction | Mapping[str, Any] | str | bytes,
        *,
        as_of: dt.datetime | None = None,
        locale: str | None = None,
    ) -> Report:
        """Evaluate one interaction. Raises :class:`~servicerules.errors.InteractionError` for invalid input.

        ``as_of`` is the evaluation time (clocks still running are measured up to it). It defaults to the
        interaction's last timestamp, never to the wall clock, so results are reproducible.
        """
        _check_locale(locale)
        model = _as_interaction(interaction)
        with _dates_in_range():
            prepared = self._prepare(model, as_of)
            firings = self._match_many([prepared[1]])[0]
            return self._report(model, prepared, firings, locale)

    def _match_many(self, batches: Sequence[Sequence[Fact]]) -> list[list[Firing]]:
        try:
            return self._backend.match_many(batches)
        except RuntimeError as exc:  # the durable backend's EngineError, or use after close()
            raise EvaluationError([Diagnostic("SR400", f"matching engine failed: {exc}")]) from exc

    @overload
    def evaluate_many(
        self, interactions: Iterable[Any], *, as_of: dt.datetime | None = ..., locale: str | None = ...,
        errors: Literal["raise"] = ..., batch_size: int = ...,
        on_facts: Callable[[int, Interaction, Any], None] | None = ...,
    ) -> Iterator[Report]: ...

    @overload
    def evaluate_many(
        self, interactions: Iterable[Any], *, as_of: dt.datetime | None = ..., locale: str | None = ...,
        errors: Literal["collect"], batch_size: int = ...,
        on_facts: Callable[[int, Interaction, Any], None] | None = ...,
    ) -> Iterator[Report | Rejection]: ...

    def evaluate_many(
        self,
        interactions: Iterable[Any],
        *,
        as_of: dt.datetime | None = None,
        locale: str | None = None,
        errors: Literal["raise", "collect"] = "raise",
        batch_size: int = 32,
        on_facts: Callable[[int, Interaction, Any], None] | None = None,
    ) -> Iterator[Report | Rejection]:
        """Evaluate interactions in input order, matching them in batches (faster than one by one).

        With ``errors="collect"`` an invalid interaction yields a :class:`Rejection` in its place instead of
        raising, so nothing is dropped silently; so does one whose evaluation raised an unexpected exception
        (SR402: a bug, which then costs one record instead of a whole batch run).

        ``on_facts(index, interaction, get)`` is called for each valid interaction with a getter of its
        interaction facts (``get(name, type)``), reusing what the rules computed — the batch runner collects
        aggregate-target contributions with it.
        """
        _check_locale(locale)
        source = _check_many(interactions, as_of, errors, batch_size)
        return self._evaluate_many(
            source, as_of, errors, batch_size, on_facts,
            lambda model, prepared, firings: self._report(model, prepared, firings, locale),
        )

    @overload
    def verdicts_many(
        self, interactions: Iterable[Any], *, as_of: dt.datetime | None = ..., errors: Literal["raise"] = ...,
        batch_size: int = ..., on_facts: Callable[[int, Interaction, Any], None] | None = ...,
    ) -> Iterator[Verdicts]: ...

    @overload
    def verdicts_many(
        self, interactions: Iterable[Any], *, as_of: dt.datetime | None = ..., errors: Literal["collect"],
        batch_size: int = ..., on_facts: Callable[[int, Interaction, Any], None] | None = ...,
    ) -> Iterator[Verdicts | Rejection]: ...

    def verdicts_many(
        self,
        interactions: Iterable[Any],
        *,
        as_of: dt.datetime | None = None,
        errors: Literal["raise", "collect"] = "raise",
        batch_size: int = 32,
        on_facts: Callable[[int, Interaction, Any], None] | None = None,
    ) -> Iterator[Verdicts | Rejection]:
        """:meth:`evaluate_many`, yielding each interaction's :class:`Verdicts` instead of its report: the
        same statuses and violation counts, without rendering messages, evidence and actions that nobody
        reads (a batch run that only counts). Its cost is that of the measures and the matching alone."""
        source = _check_many(interactions, as_of, errors, batch_size)
        return self._evaluate_many(
            source, as_of, errors, batch_size, on_facts,
            lambda model, _prepared, firings: Verdicts(model.id, *self._verdicts_of(firings)),
        )

    def _evaluate_many(
        self,
        source: Iterator[Any],
        as_of: dt.datetime | None,
        errors: Literal["raise", "collect"],
        batch_size: int,
        on_facts: Callable[[int, Interaction, Any], None] | None,
        finish: Callable[[Interaction, _Prepared, list[Firing]], _Result],
    ) -> Iterator[_Result | Rejection]:
        pending: list[tuple[int, Interaction, _Prepared]] = []
        rejected: list[Rejection] = []

        def failed(index: int, exc: Exception) -> Rejection:
            """The rejection of an interaction whose evaluation raised ``exc``, or ``exc`` raised again (a bug,
            with ``errors="raise"``). A time out of range is the record's fault: rejected in both modes, and
            raised when its turn comes with ``errors="raise"``, as an invalid record is."""
            if isinstance(exc, InteractionError):  # the record's fault (created after as_of): as an invalid one
                return Rejection(index, exc)
            if isinstance(exc, MemoryError) or (errors == "raise" and not out_of_date_range(exc)):
                raise exc
            error = internal_error(exc, "evaluated")
            error.__cause__ = exc
            return Rejection(index, error)

        def match() -> list[list[Firing] | Exception]:
            """The batch's firings; when matching the batch raises (not the engine's own failure, SR400), each
            interaction is matched alone, so that the one at fault is rejected and not the batch."""
            try:
                return list(self._match_many([p[2][1] for p in pending])) if pending else []
            except EvaluationError:
                raise
            except Exception:
                pass
            alone: list[list[Firing] | Exception] = []
            for _index, _model, prepared in pending:
                try:
                    alone.append(self._match_many([prepared[1]])[0])
                except EvaluationError:
                    raise
                except Exception as exc:
                    alone.append(exc)
            return alone

        def flush() -> Iterator[_Result | Rejection]:
            merged: list[tuple[int, _Result | Rejection]] = []
            for (index, model, prepared), firings in zip(pending, match()):
                try:
                    if isinstance(firings, Exception):
                        raise firings
                    merged.append((index, finish(model, prepared, firings)))
                except Exception as exc:
                    merged.append((index, failed(index, exc)))
            merged.extend((r.index, r) for r in rejected)
            merged.sort(key=lambda item: item[0])
            pending.clear()
            rejected.clear()
            for _index, item in merged:
                if errors == "raise" and isinstance(item, Rejection):
                    raise item.error
                yield item

        for index in itertools.count():
            try:
                interaction = next(source)
            except StopIteration:
                break
            except Exception:
                # The input failed (a database cursor whose connection dropped): what it gave before was
                # consumed, so it is evaluated and yielded before the input's exception is raised.
                yield from flush()
                raise
            try:
                model = _as_interaction(interaction)
            except InteractionError as exc:
                if errors == "raise":
                    yield from flush()
                    raise
                rejected.append(Rejection(index, exc))
                continue
            try:
                prepared = self._prepare(model, as_of)
                if on_facts is not None:
                    on_facts(index, model, prepared[0].getter(None))
            except Exception as exc:
                rejected.append(failed(index, exc))
                continue
            pending.append((index, model, prepared))
            if len(pending) >= batch_size:
                yield from flush()
        yield from flush()

    # -- internals ---------------------------------------------------------------------------------------

    def _prepare(self, model: Interaction, as_of: dt.datetime | None) -> _Prepared:
        if as_of is None:
            as_of = default_as_of(model)
        else:
            check_as_of(as_of)
            if model.created_at > as_of:
                raise _created_after(model, as_of)
        reader = _FactReader(InteractionContext(model, as_of, self.program.resources), self.program.local_facts)
        facts: list[Fact] = [self._interaction_plan.fact("i", reader, None)]
        if self._needs_events:
            plan = self._event_plan
            facts.extend(plan.fact("e", reader, index) for index in range(len(reader.ctx.events)))
        return reader, facts

    def _verdicts_of(self, firings: Sequence[Firing]) -> tuple[dict[int, str], dict[int, list[int | None]]]:
        """Each applicable rule's status, and each violated rule's violations (event indexes, ``None`` for
        the interaction), both ordered as a report lists them."""
        verdicts = self._verdicts
        status: dict[int, str] = {}
        hits: dict[int, list[int | None]] = {}
        for firing in firings:
            rule_index, violated = verdicts[firing.engine_rule]
            if violated:
                status[rule_index] = "violated"
                fact_index = firing.fact_index
                found = hits.get(rule_index)
                if found is None:
                    hits[rule_index] = [None if fact_index == 0 else fact_index - 1]
                else:
                    found.append(None if fact_index == 0 else fact_index - 1)
            elif rule_index not in status:
                status[rule_index] = "compliant"
        ordered = {rule_index: sorted(hits[rule_index], key=_event_order) for rule_index in sorted(hits)}
        return status, ordered

    def _report(
        self,
        model: Interaction,
        prepared: _Prepared,
        firings: Sequence[Firing],
        locale: str | None,
    ) -> Report:
        reader = prepared[0]
        status, hits = self._verdicts_of(firings)
        chosen_locale = self._locale(model, locale)
        rules = self.program.rules
        violations: list[Violation] = []
        outcomes = list(self._not_applicable)  # then the rules that applied (most rules do not, usually)
        for rule_index, rule_status in status.items():
            found = hits.get(rule_index)
            outcomes[rule_index] = self._outcome(rules[rule_index], rule_status, len(found) if found else 0)
        for rule_index, event_indexes in hits.items():  # in rule order, then event order
            rule = rules[rule_index]
            for event_index in event_indexes:
                violations.append(self._violation(rule, model, reader, event_index, chosen_locale))
        not_applicable = self._sla_not_applicable
        slas = [
            _sla_result(reader, sla, status[rule_index]) if rule_index in status else not_applicable[sla.id]
            for rule_index, sla in self._slas
        ]
        return trusted(
            Report,
            schema_version=REPORT_SCHEMA_VERSION,
            interaction_id=model.id,
            as_of=reader.ctx.as_of,
            ruleset=self.ref,
            violations=violations,
            outcomes=outcomes,
            slas=slas,
        )

    def _outcome(self, rule: CompiledRule, status: str, violations: int) -> RuleOutcome:
        """A rule's outcome. Outcomes are immutable and there are few distinct ones, so reports share them:
        a report of a 26-rule ruleset then allocates no outcome objects at all (they were a quarter of the
        objects a report is made of, and so of the garbage collector's work)."""
        key = (rule.index, status, violations)
        outcome = self._outcomes.get(key)
        if outcome is None:
            outcome = self._outcomes[key] = trusted(RuleOutcome, rule_id=rule.spec.id, status=status, violations=violations)
        return outcome

    def _locale(self, model: Interaction, locale: str | None) -> str:
        if locale:
            return locale
        if model.customer is not None and model.customer.locale:
            return model.customer.locale
        return model.language or self.program.spec.default_locale

    def _violation(
        self,
        rule: CompiledRule,
        model: Interaction,
        reader: _FactReader,
        event_index: int | None,
        locale: str,
    ) -> Violation:
        spec = rule.spec
        as_of = reader.ctx.as_of
        chosen = self._templates.get((rule.index, locale))
        if chosen is None:
            if len(self._templates) >= _CACHE_LIMIT:  # locales come from the data: any number of them
                self._templates.clear()
            chosen = self._templates[(rule.index, locale)] = _pick_template(rule, locale, self.program.spec.default_locale)
        template_locale, template = chosen
        if template is not None:
            message = template.render(lambda placeholder: _display_first(placeholder, reader, event_index))
        else:
            message = spec.title
        facts = {name: _json_value(reader.spec(name), reader.raw_value(name, event_index)) for name in rule.facts}
        if rule.sla is not None:
            event_index = _sla_evidence_index(reader, rule.sla)
        elif event_index is None:
            event_index = _pointed_at(rule, reader.ctx)
        event = model.events[event_index] if event_index is not None else None
        evidence = trusted(
            Evidence,
            event_index=event_index,
            at=event.at if event else None,
            excerpt=_excerpt(event.text) if event and event.text else None,
            facts=facts,
        )
        return trusted(
            Violation,
            rule_id=spec.id,
            title=spec.title,
            severity=spec.severity,
            mode=spec.mode,
            message=message,
            locale=template_locale,
            interaction_id=model.id,
            evidence=evidence,
            actions=list(self._rule_actions(rule, as_of)),
            references=list(spec.references),
            tags=list(spec.tags),
            ruleset=self.ref,
        )

    def _rule_actions(self, rule: CompiledRule, as_of: dt.datetime) -> list[RecommendedAction]:
        """``rule``'s recommended actions, due relative to ``as_of``: immutable, so violations share them."""
        # Aware datetimes of one instant compare equal whatever their zone (and, in one zone, whatever their
        # fold), but due_at keeps as_of's zone and fold: both are part of the key.
        key = (rule.index, as_of, as_of.tzinfo, as_of.fold)
        actions = self._actions.get(key)
        if actions is None:
            if len(self._actions) >= _CACHE_LIMIT:  # as_of differs per interaction when the caller gives none
                self._actions.clear()
            actions = self._actions[key] = [
                trusted(
                    RecommendedAction,
                    id=a.id,
                    title=a.title,
                    description=a.description,
                    owner=a.owner,
                    due_in=a.due_in,
                    due_at=_after(as_of, a.due_in) if a.due_in is not None else None,
                    escalation_tier=a.escalation_tier,
                    params=dict(a.params),
                )
                for a in rule.actions
            ]
        return actions


@contextmanager
def _dates_in_range() -> Iterator[None]:
    """A time of the record (or as_of) too close to the year 1 or 9999 to compute with: SR402, the
    InteractionError that ``evaluate_many`` rejects such a record with, not the calendar's own exception."""
    try:
        yield
    except (ValueError, OverflowError) as exc:
        if not out_of_date_range(exc):
            raise
        raise internal_error(exc, "evaluated") from exc


def check_as_of(as_of: dt.datetime) -> None:
    """An ``as_of`` the caller gave: a ``TypeError`` when it is no datetime, a ``ValueError`` when naive."""
    if not isinstance(as_of, dt.datetime):
        raise TypeError(f"as_of must be a timezone-aware datetime, not {type(as_of).__name__}")
    # Python's own test of awareness: a tzinfo whose utcoffset() is None leaves the datetime naive, and
    # comparing it with the record's times raised a TypeError from inside evaluation
    if as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")


def _created_after(model: Interaction, as_of: dt.datetime) -> InteractionError:
    """SR313: evaluation is as of ``as_of``, when the interaction did not exist yet."""
    return InteractionError([Diagnostic(
        "SR313",
        f"the interaction was created at {_instant(model.created_at)}, after as_of {_instant(as_of)}: it did not "
        "exist yet at the time it is to be judged at",
        hint="check it with a later as_of (--as-of), or without one: the default is the record's latest timestamp",
        path=("created_at",),
    )])


def _instant(moment: dt.datetime) -> str:
    """ISO 8601 text, ``Z`` for UTC."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _check_locale(locale: str | None) -> None:
    if locale is not None and not isinstance(locale, str):
        raise TypeError(f"locale must be a str such as 'de' or 'de-AT', not {type(locale).__name__}")


def _check_many(interactions: Iterable[Any], as_of: dt.datetime | None, errors: str, batch_size: int) -> Iterator[Any]:
    """The caller's mistakes, raised at the call, not at the first record (nor once per record); returns the
    iterator of ``interactions``."""
    if isinstance(interactions, (Interaction, Mapping, str, bytes, bytearray)):
        raise TypeError(
            f"interactions must be an iterable of interactions, not one {type(interactions).__name__}: "
            "pass [interaction], or call evaluate()"
        )
    if not hasattr(type(interactions), "__iter__") and not hasattr(type(interactions), "__getitem__"):
        raise TypeError(f"interactions must be an iterable of interactions, not {type(interactions).__name__}")
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        raise TypeError(f"batch_size must be a positive int, not {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size}")
    if as_of is not None:
        check_as_of(as_of)
    return iter(interactions)


def _after(moment: dt.datetime, seconds: float) -> dt.datetime:
    """``seconds`` of real time after ``moment``, in its zone. Not ``moment + timedelta``: in a zone with
    daylight saving time that adds wall-clock time, an hour off across a change of offset."""
    return (moment.astimezone(dt.timezone.utc) + dt.timedelta(seconds=seconds)).astimezone(moment.tzinfo)


def _pointed_at(rule: CompiledRule, ctx: InteractionContext) -> int | None:
    """The event an interaction rule's violation is about: the first its facts point at (``rule.about``)."""
    for about in rule.about:
        index = about(ctx)
        if index is not None:
            return index
    return None


def _sla_evidence_index(reader: _FactReader, sla: SlaSpec) -> int | None:
    """A breached SLA points at the late reply (its stop event); a breaching one at what started the clock."""
    instance = worst_instance(reader.ctx, sla)
    if instance is None:
        return None
    return instance.stop_index if instance.stop_index is not None else instance.start_index


def _sla_result(reader: _FactReader, sla: SlaSpec, status: str) -> SlaResult:
    if status == "not_applicable":
        return trusted(SlaResult, sla_id=sla.id, metric=sla.metric, state="not_applicable", instances=[])
    instances = sla_instances(reader.ctx, sla)
    chosen = worst_instance(reader.ctx, sla)
    return trusted(
        SlaResult,
        sla_id=sla.id,
        metric=sla.metric,
        state=chosen.state if chosen is not None else "not_applicable",
        instances=[
            trusted(
                SlaInstance,
                state=i.state,
                target=i.target_seconds,
                elapsed=i.elapsed_seconds,
                paused=i.paused_seconds,
                deadline=i.deadline,
                start_index=i.start_index,
                start_at=i.start_at,
                stop_index=i.stop_index,
                stop_at=i.stop_at,
            )
            for i in instances
            if i.state != "not_applicable"
        ],
    )


def _pick_template(rule: CompiledRule, locale: str, default: str) -> tuple[str, Any]:
    """Exact locale, then its language ("de-AT" → "de"), then the "*" template, then the default locale."""
    templates = rule.templates
    language = locale.replace("_", "-").split("-")[0]
    for candidate in (locale, language, "*", default):
        if candidate in templates:
            return (language if candidate == "*" else candidate), templates[candidate]
    if templates:
        first = next(iter(templates))
        return first, templates[first]
    return language, None


_MAY_HOLD_PERSONAL_DATA = re.compile(r"[\d@]")


def _mask(text: str) -> str:
    """``mask_text`` for text that could hold card numbers, IBANs, phone numbers or e-mail addresses (all
    need a digit or an @); most message text has neither, and masking is the costliest step of a report."""
    return mask_text(text) if _MAY_HOLD_PERSONAL_DATA.search(text) else text


def _excerpt(text: str) -> str:
    masked = _mask(text)
    return masked if len(masked) <= EXCERPT_LENGTH else masked[: EXCERPT_LENGTH - 1] + "…"


@lru_cache(maxsize=4096)
def _placeholder_names(placeholder: str) -> tuple[str, ...]:
    return tuple(placeholder_facts(placeholder))  # parsed once, not at every message rendered


def _display_first(placeholder: str, reader: _FactReader, event_index: int | None) -> str:
    for name in _placeholder_names(placeholder):
        value = reader.raw_value(name, event_index)
        if value is not None:
            return _display(reader.spec(name), value)
    return "unknown"


def _display(spec: FactSpec, value: Any) -> str:
    value = free_value(value)  # a free attribute's NaN or infinity, which rules see as null
    if value is None:
        return "unknown"
    if spec.type == "duration" and isinstance(value, (int, float)):
        return format_duration(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1e15:  # its shortest decimal, not the binary float's digits (1e23, not 99999999999999991611392)
            return format(Decimal(repr(value)), "f")
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, str):
        return _mask(value)
    try:
        return str(value)
    except ValueError:  # an int of more digits than Python converts to text (sys.get_int_max_str_digits())
        return "unknown"


def _json_value(spec: FactSpec, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _instant(value)  # as the report's own timestamps read
    if isinstance(value, str):
        return _excerpt(value)
    return free_value(value)  # a free attribute's NaN, which rules see as null


def default_as_of(model: Interaction) -> dt.datetime:
    """The latest timestamp in the interaction: the moment the record describes."""
    times = [model.created_at]
    times.extend(t for t in (model.solved_at, model.closed_at) if t is not None)
    if model.events:
        times.append(model.events[-1].at)
    return max(times)


def _as_interaction(value: Interaction | Mapping[str, Any] | str | bytes) -> Interaction:
    if isinstance(value, Interaction):
        return value
    return Interaction.parse(value)


def _restore(source: str, file: str | None, backend: str) -> CompiledRuleset:
    spec, doc = parse_ruleset_text(source, file)
    return CompiledRuleset(compile_program(spec, doc), backend=backend)
