"""The engine-neutral intermediate representation (IR) of a compiled ruleset.

The compiler lowers every rule of a ruleset to *engine rules*: boolean conditions in negation normal form
over flat facts. Backends (the durable_rules Rete network, the pure-Python reference evaluator) only ever
see this IR, never the YAML or the expression syntax, so a backend can be swapped without touching the
language. The IR is frozen and serialises to JSON for golden tests.

Facts
    An interaction is handed to a backend as a sequence of flat facts (``Mapping[str, Scalar]``). Fact 0
    is the interaction fact (``kind == "i"``); facts 1..n are event facts (``kind == "e"``), one per event
    an event-scoped rule looks at. A fact holds only the keys the ruleset needs (short keys such as
    ``"f3"`` chosen by the compiler). A key that is *absent* is unknown: nulls are never sent.

Three-valued logic
    Every source rule becomes two engine rules: ``violated`` fires when the rule's condition is TRUE for a
    fact, ``compliant`` when it is FALSE. When neither fires the rule is *not applicable* for that fact
    (a fact it needs is unknown). A ``Compare`` is TRUE only if its key is present and the comparison
    holds; negation is pushed into the comparison operator by the compiler, so no condition ever holds
    on an unknown value by accident.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Literal, Mapping, Sequence, Union

Scalar = Union[bool, int, float, str]
"""A fact value as a backend sees it: JSON scalars only, never null, never a non-finite float."""

Fact = Mapping[str, Scalar]

CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]

COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""Each comparison operator as the Python function that gives its meaning."""

BOOL = "bool"
NUMBER = "number"
STRING = "str"


def type_class(value: object) -> str | None:
    """The type class of a scalar for :class:`Compare`: ``"bool"``, ``"number"`` (``int`` or ``float``,
    never ``bool``), ``"str"``, or ``None`` for anything else."""
    t = type(value)
    if t is bool:
        return BOOL
    if t is int or t is float:
        return NUMBER
    if t is str:
        return STRING
    # Subclasses (IntEnum, numpy scalars registered as float, str enums...): classify by isinstance.
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    return None


MAX_BRANCHES = 4096
"""The most alternatives a condition may have in disjunctive normal form: the durable_rules backend expands
each condition into them. The compiler has Python compute a rule's condition that could have more (see
:func:`branch_bound`), and matches its value."""

KIND_KEY = "kind"
"""Key of every fact that says whether it is the interaction fact (``"i"``) or an event fact (``"e"``)."""


class Scope(str, Enum):
    """Which facts an engine rule is matched against."""

    INTERACTION = "interaction"
    EVENT = "event"

    @property
    def kind(self) -> str:
        """The value of the ``kind`` key of the facts this scope matches."""
        return "i" if self is Scope.INTERACTION else "e"


class Verdict(str, Enum):
    VIOLATED = "violated"
    COMPLIANT = "compliant"


@dataclass(frozen=True, slots=True)
class Compare:
    """TRUE iff ``key`` is present in the fact and ``fact[key] <op> value`` holds.

    The compiler guarantees that ``value`` has the type of the fact (a bool is compared only with a
    bool, a string only with ``==``/``!=``, numbers with any operator).
    """

    key: str
    op: CompareOp
    value: Scalar


@dataclass(frozen=True, slots=True)
class Present:
    """TRUE iff ``key`` is present in the fact (``present=True``) or absent (``present=False``)."""

    key: str
    present: bool


@dataclass(frozen=True, slots=True)
class AllOf:
    """TRUE iff every item is TRUE. ``AllOf(())`` is always TRUE."""

    items: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """TRUE iff at least one item is TRUE. ``AnyOf(())`` is never TRUE."""

    items: tuple["Condition", ...]


Condition = Union[Compare, Present, AllOf, AnyOf]

ALWAYS: Condition = AllOf(())
NEVER: Condition = AnyOf(())


@dataclass(frozen=True, slots=True)
class EngineRule:
    """One condition the backend matches: a (source rule, verdict) pair."""

    name: str
    rule_index: int
    verdict: Verdict
    scope: Scope
    condition: Condition


@dataclass(frozen=True, slots=True)
class Firing:
    """A backend's answer: engine rule ``engine_rule`` matched the fact at ``fact_index``."""

    engine_rule: int
    fact_index: int


@dataclass(frozen=True)
class IRProgram:
    """The engine rules of one compiled ruleset, in rule order."""

    engine_rules: tuple[EngineRule, ...]
    fact_keys: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, two-space indent) for golden tests."""
        return json.dumps(_encode(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _encode(node: Any) -> Any:
    if isinstance(node, IRProgram):
        return {"engine_rules": [_encode(r) for r in node.engine_rules], "fact_keys": list(node.fact_keys)}
    if isinstance(node, EngineRule):
        return {
            "name": node.name,
            "rule_index": node.rule_index,
            "verdict": node.verdict.value,
            "scope": node.scope.value,
            "condition": _encode(node.condition),
        }
    if isinstance(node, Compare):
        return {"compare": [node.key, node.op, node.value]}
    if isinstance(node, Present):
        return {"present" if node.present else "absent": node.key}
    if isinstance(node, AllOf):
        return {"all": [_encode(i) for i in node.items]}
    if isinstance(node, AnyOf):
        return {"any": [_encode(i) for i in node.items]}
    raise TypeError(f"not an IR node: {node!r}")


def branch_bound(condition: Condition) -> int:
    """At most how many alternatives ``condition`` has in disjunctive normal form (before duplicates and
    contradictions are dropped)."""
    if isinstance(condition, AllOf):
        count = 1
        for item in condition.items:
            count *= branch_bound(item)
            if count > MAX_BRANCHES:  # enough to know; the product of deep nests grows without bound
                return count
        return count
    if isinstance(condition, AnyOf):
        return sum(branch_bound(item) for item in condition.items)
    return 1


def fact_kind_matches(scope: Scope, fact: Fact) -> bool:
    return fact.get(KIND_KEY) == scope.kind


def sort_firings(firings: Sequence[Firing]) -> list[Firing]:
    """The deterministic order every backend returns: by fact, then by engine rule."""
    return sorted(firings, key=lambda f: (f.fact_index, f.engine_rule))
