"""The reference backend: the executable definition of the IR semantics."""

from __future__ import annotations

import threading

import pytest

from servicerules.compiler.backends import create_backend
from servicerules.compiler.ir import (
    ALWAYS,
    NEVER,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    EngineRule,
    Fact,
    Firing,
    IRProgram,
    Present,
    Scope,
    Verdict,
)
from servicerules.compiler.reference import ReferenceBackend, compile_condition, type_class

I = Scope.INTERACTION
E = Scope.EVENT


def program(*conditions: Condition | tuple[Condition, Scope]) -> IRProgram:
    rules = []
    for index, item in enumerate(conditions):
        condition, scope = item if isinstance(item, tuple) else (item, I)
        verdict = Verdict.VIOLATED if index % 2 == 0 else Verdict.COMPLIANT
        rules.append(EngineRule(f"rule{index // 2}#{verdict.value}", index // 2, verdict, scope, condition))
    return IRProgram(tuple(rules))


def holds(condition: Condition, fact: dict[str, object]) -> bool:
    """Whether the single engine rule with ``condition`` fires for ``fact`` (an interaction fact)."""
    backend = ReferenceBackend(program(condition))
    fired = backend.match([{"kind": "i", **fact}])  # type: ignore[dict-item]
    assert fired in ([], [Firing(0, 0)])
    assert bool(fired) == compile_condition(condition)({"kind": "i", **fact})  # type: ignore[dict-item]
    return bool(fired)


# (condition, fact, expected)
CASES: list[tuple[Condition, dict[str, object], bool]] = [
    # presence
    (Compare("a", "==", 1), {}, False),
    (Compare("a", "!=", 1), {}, False),
    (Compare("a", "<", 1), {}, False),
    (Compare("a", "==", 1), {"a": 1}, True),
    (Compare("a", "!=", 1), {"a": 2}, True),
    (Compare("a", "!=", 1), {"a": 1}, False),
    # numbers: Python semantics, int and float mixed exactly
    (Compare("a", "==", 1), {"a": 1.0}, True),
    (Compare("a", "==", 0), {"a": -0.0}, True),
    (Compare("a", "<", 0), {"a": -0.0}, False),
    (Compare("a", "<=", 0.0), {"a": -0.0}, True),
    (Compare("a", "==", 0.3), {"a": 0.1 + 0.2}, False),
    (Compare("a", ">", 0.3), {"a": 0.1 + 0.2}, True),
    (Compare("a", "==", 2**53), {"a": 2.0**53}, True),
    (Compare("a", "==", 2**53 + 1), {"a": 2.0**53}, False),
    (Compare("a", ">", 2.0**53), {"a": 2**53 + 1}, True),
    (Compare("a", "<", 2**64), {"a": 2**64 - 1}, True),
    (Compare("a", ">", 1e-05), {"a": 0.00001000001}, True),
    (Compare("a", "==", 1e16), {"a": 10**16}, True),
    (Compare("a", ">=", 5), {"a": 5}, True),
    (Compare("a", ">", 5), {"a": 5}, False),
    (Compare("a", "<=", 5), {"a": 4.999}, True),
    # bool is its own type class: never equal to a number, in either direction, for any operator
    (Compare("a", "==", True), {"a": True}, True),
    (Compare("a", "==", True), {"a": 1}, False),
    (Compare("a", "==", 1), {"a": True}, False),
    (Compare("a", "==", 0), {"a": False}, False),
    (Compare("a", "!=", True), {"a": 5}, False),
    (Compare("a", "!=", 5), {"a": True}, False),
    (Compare("a", "!=", True), {"a": False}, True),
    (Compare("a", ">", 0), {"a": True}, False),
    (Compare("a", "<", True), {"a": False}, True),
    # strings: exact, never equal to numbers, ordering with a number is a mismatch (not TRUE, no error)
    (Compare("a", "==", "20000"), {"a": 20000}, False),
    (Compare("a", "==", 20000), {"a": "20000"}, False),
    (Compare("a", "!=", 20000), {"a": "20000"}, False),
    (Compare("a", ">", 1), {"a": "email"}, False),
    (Compare("a", "<", "b"), {"a": 1}, False),
    (Compare("a", "==", "Straße"), {"a": "Straße"}, True),
    (Compare("a", "==", "Straße"), {"a": "Strasse"}, False),
    (Compare("a", "==", "Ä"), {"a": "ä"}, False),
    (Compare("a", "==", "नमस्ते"), {"a": "नमस्ते"}, True),
    (Compare("a", "==", 'say "hi"\\\n\t'), {"a": 'say "hi"\\\n\t'}, True),
    (Compare("a", "==", 'say "hi"\\\n\t'), {"a": 'say "hi"\\\n '}, False),
    (Compare("a", "==", ""), {"a": ""}, True),
    (Compare("a", "!=", ""), {"a": "x"}, True),
    (Compare("a", "<", "b"), {"a": "a"}, True),
    # values of no type class (the IR never sends them): present, never compared TRUE
    (Compare("a", "!=", 1), {"a": None}, False),
    (Compare("a", "!=", "x"), {"a": [1]}, False),
    (Present("a", True), {"a": None}, True),
    # Present
    (Present("a", True), {"a": 0}, True),
    (Present("a", True), {}, False),
    (Present("a", False), {}, True),
    (Present("a", False), {"a": False}, False),
    # AllOf / AnyOf, ALWAYS / NEVER
    (ALWAYS, {}, True),
    (NEVER, {"a": 1}, False),
    (AllOf((Compare("a", "==", 1), Compare("b", "==", 2))), {"a": 1, "b": 2}, True),
    (AllOf((Compare("a", "==", 1), Compare("b", "==", 2))), {"a": 1}, False),
    (AllOf((Compare("a", "==", 1), Compare("b", "==", 2), Present("c", False))), {"a": 1, "b": 2, "c": 0}, False),
    (AnyOf((Compare("a", "==", 1), Compare("b", "==", 2))), {"b": 2}, True),
    (AnyOf((Compare("a", "==", 1), Compare("b", "==", 2))), {"a": 2, "b": 1}, False),
    (AnyOf((Compare("a", "==", 1), Compare("b", "==", 2), Present("c", True))), {"c": 1}, True),
    (AnyOf((NEVER, ALWAYS)), {}, True),
    (AllOf((ALWAYS, NEVER)), {}, False),
    (AllOf((AnyOf((Present("a", True), Present("b", True))), AnyOf((Compare("a", ">", 1), Compare("b", "<", 0))))), {"b": -1}, True),
]


@pytest.mark.parametrize(("condition", "fact", "expected"), CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_condition_semantics(condition: Condition, fact: dict[str, object], expected: bool) -> None:
    assert holds(condition, fact) is expected


def test_type_class() -> None:
    assert type_class(True) == "bool"
    assert type_class(1) == "number"
    assert type_class(1.5) == "number"
    assert type_class("1") == "str"
    assert type_class(None) is None


def test_scope_routes_by_kind() -> None:
    backend = ReferenceBackend(program((ALWAYS, I), (ALWAYS, E), (Present("a", True), E)))
    facts: list[Fact] = [{"kind": "i", "a": 1}, {"kind": "e"}, {"kind": "e", "a": 1}, {"kind": "x", "a": 1}, {"a": 1}]
    assert backend.match(facts) == [Firing(0, 0), Firing(1, 1), Firing(1, 2), Firing(2, 2)]


def test_firings_sorted_by_fact_then_rule() -> None:
    backend = ReferenceBackend(program((ALWAYS, E), (ALWAYS, I), (ALWAYS, E)))
    fired = backend.match([{"kind": "e"}, {"kind": "i"}, {"kind": "e"}])
    assert fired == [Firing(0, 0), Firing(2, 0), Firing(1, 1), Firing(0, 2), Firing(2, 2)]


def test_firings_are_shared_immutable_objects() -> None:
    backend = ReferenceBackend(program(ALWAYS))
    first = backend.match([{"kind": "i"}])
    second = backend.match([{"kind": "i"}])
    assert first == second == [Firing(0, 0)]
    assert first[0] is second[0]


def test_match_many_is_match_per_interaction() -> None:
    backend = ReferenceBackend(program(Compare("a", ">", 1), Compare("a", "<=", 1)))
    batches: list[list[Fact]] = [[{"kind": "i", "a": 2}], [{"kind": "i", "a": 0}], [], [{"kind": "i"}]]
    assert backend.match_many(batches) == [backend.match(b) for b in batches]
    assert backend.match_many(batches) == [[Firing(0, 0)], [Firing(1, 0)], [], []]


def test_invalid_constant_is_rejected_at_construction() -> None:
    with pytest.raises(TypeError):
        ReferenceBackend(program(Compare("a", "==", None)))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ReferenceBackend(program(Compare("a", "~", 1)))  # type: ignore[arg-type]


def test_close_is_idempotent_and_final() -> None:
    backend = ReferenceBackend(program(ALWAYS))
    backend.close()
    backend.close()
    with pytest.raises(RuntimeError):
        backend.match([{"kind": "i"}])


def test_factory() -> None:
    backend = create_backend(program(ALWAYS), "reference")
    assert isinstance(backend, ReferenceBackend)
    assert backend.name == "reference"


def test_threads_get_the_same_answers() -> None:
    backend = ReferenceBackend(program(Compare("a", ">", 3), Compare("a", "<=", 3), Present("b", True)))
    data: list[list[Fact]] = [[{"kind": "i", "a": i % 7, **({"b": 1} if i % 3 else {})}] for i in range(200)]
    expected = [backend.match(d) for d in data]
    results: dict[int, list[list[Firing]]] = {}

    def work(t: int) -> None:
        results[t] = [backend.match(d) for d in data]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[t] == expected for t in range(8))
