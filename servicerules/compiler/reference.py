"""The pure-Python reference backend: evaluates an :class:`~servicerules.compiler.ir.IRProgram` directly.

It is the executable definition of the IR semantics that every other backend must reproduce exactly
(property-tested against the durable_rules backend in ``tests/compiler/test_backend_agreement.py``):

* A fact is matched against the engine rules whose ``scope.kind`` equals ``fact["kind"]``.
* ``Compare(key, op, value)`` is TRUE iff ``key`` is present, the fact value has the same *type class* as
  ``value`` and ``fact[key] <op> value`` holds with Python semantics. The type classes are *bool*,
  *number* (``int``/``float``, never ``bool``) and *str*; anything else (which the IR never sends) belongs
  to no class. A type mismatch is never TRUE, for every operator including ``!=`` (three-valued logic:
  when a value has the wrong type the rule is not applicable, so neither the ``violated`` nor the
  ``compliant`` engine rule may fire). In particular ``True`` never equals ``1`` and ``"1"`` never
  equals ``1``. Nothing here ever raises on a fact value.
* ``Present``, ``AllOf`` (empty: always TRUE) and ``AnyOf`` (empty: never TRUE) as documented in the IR.

Conditions are compiled once, in ``__init__``, into nested closures.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from servicerules.compiler.ir import (
    BOOL,
    COMPARISONS,
    KIND_KEY,
    NUMBER,
    STRING,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Fact,
    Firing,
    IRProgram,
    Present,
    sort_firings,
    type_class,
)

__all__ = ["ReferenceBackend", "compile_condition", "type_class"]

Predicate = Callable[[Fact], bool]

_MISSING: Any = object()


def _compile_compare(node: Compare) -> Predicate:
    key = node.key
    value = node.value
    cls = type_class(value)
    if cls is None:
        raise TypeError(f"Compare value must be a bool, int, float or str, got {value!r}")
    if node.op not in COMPARISONS:
        raise ValueError(f"unknown comparison operator {node.op!r}")
    op = COMPARISONS[node.op]
    missing = _MISSING

    if cls == STRING:

        def compare_str(fact: Fact) -> bool:
            x = fact.get(key, missing)
            if type(x) is str or (x is not missing and isinstance(x, str)):
                return bool(op(x, value))
            return False

        return compare_str

    if cls == BOOL:

        def compare_bool(fact: Fact) -> bool:
            x = fact.get(key, missing)
            if type(x) is bool or (x is not missing and isinstance(x, bool)):
                return bool(op(x, value))
            return False

        return compare_bool

    def compare_number(fact: Fact) -> bool:
        x = fact.get(key, missing)
        t = type(x)
        if t is int or t is float:
            return bool(op(x, value))
        if x is missing or isinstance(x, bool) or not isinstance(x, (int, float)):
            return False
        return bool(op(x, value))

    return compare_number


def _always(fact: Fact) -> bool:
    return True


def _never(fact: Fact) -> bool:
    return False


def compile_condition(condition: Condition) -> Predicate:
    """Compile an IR condition into a predicate over one fact."""
    if isinstance(condition, Compare):
        return _compile_compare(condition)
    if isinstance(condition, Present):
        key = condition.key
        if condition.present:
            return lambda fact: key in fact
        return lambda fact: key not in fact
    if isinstance(condition, AllOf):
        parts = tuple(compile_condition(item) for item in condition.items)
        if not parts:
            return _always
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            a, b = parts
            return lambda fact: a(fact) and b(fact)

        def all_of(fact: Fact) -> bool:
            for part in parts:
                if not part(fact):
                    return False
            return True

        return all_of
    if isinstance(condition, AnyOf):
        parts = tuple(compile_condition(item) for item in condition.items)
        if not parts:
            return _never
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            a, b = parts
            return lambda fact: a(fact) or b(fact)

        def any_of(fact: Fact) -> bool:
            for part in parts:
                if part(fact):
                    return True
            return False

        return any_of
    raise TypeError(f"not an IR condition: {condition!r}")


def _lookup_kind(by_kind: dict[str, Any], kind: object) -> Any:
    """Slow path of the ``kind`` lookup for values that are not exactly ``str`` (``==`` as in the IR)."""
    for key, value in by_kind.items():
        try:
            if kind == key:
                return value
        except Exception:  # noqa: BLE001 - a foreign object whose __eq__ raises matches nothing
            return None
    return None


class ReferenceBackend:
    """Evaluates the IR in plain Python. Thread-safe (it keeps no per-call state)."""

    name: str = "reference"

    def __init__(self, program: IRProgram) -> None:
        self.program = program
        by_kind: dict[str, list[tuple[int, Predicate]]] = {}
        for index, rule in enumerate(program.engine_rules):
            if isinstance(rule.condition, AnyOf) and not rule.condition.items:
                continue  # NEVER: can not fire
            by_kind.setdefault(rule.scope.kind, []).append((index, compile_condition(rule.condition)))
        self._by_kind: dict[str, tuple[tuple[int, Predicate], ...]] = {k: tuple(v) for k, v in by_kind.items()}
        # Firing objects are immutable: share them instead of allocating one per match.
        self._firings: list[list[Firing]] = [[] for _ in program.engine_rules]
        self._cache_lock = threading.Lock()
        self._closed = False

    def _firing(self, rule: int, fact_index: int) -> Firing:
        cache = self._firings[rule]
        if fact_index < len(cache):
            return cache[fact_index]
        if fact_index >= 256:
            return Firing(rule, fact_index)
        with self._cache_lock:  # two threads may extend the cache at once
            while len(cache) <= fact_index:
                cache.append(Firing(rule, len(cache)))
        return cache[fact_index]

    def match(self, facts: Sequence[Fact]) -> list[Firing]:
        if self._closed:
            raise RuntimeError("ReferenceBackend is closed")
        by_kind = self._by_kind
        out: list[Firing] = []
        for fact_index, fact in enumerate(facts):
            kind = fact.get(KIND_KEY)
            rules = by_kind.get(kind) if type(kind) is str else _lookup_kind(by_kind, kind)
            if not rules:
                continue
            for rule, predicate in rules:
                if predicate(fact):
                    out.append(self._firing(rule, fact_index))
        return sort_firings(out)

    def match_many(self, batches: Sequence[Sequence[Fact]]) -> list[list[Firing]]:
        return [self.match(facts) for facts in batches]

    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ReferenceBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
