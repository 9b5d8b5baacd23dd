"""The durable_rules backend: engine traps, limits, sessions, threads, errors, speed and memory."""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import threading
import time
from enum import Enum, IntEnum
from typing import Any, Iterator

import pytest

# durable-rules is a dependency before Python 3.13 (pyproject.toml): there a build that does not load fails
# these tests at collection instead of skipping them; from 3.13 on it cannot import.
if sys.version_info >= (3, 13):
    pytest.skip("durable_rules does not import on Python 3.13+", allow_module_level=True)

import durable_rules_engine  # type: ignore[import-not-found, unused-ignore]  # noqa: E402

from servicerules.compiler import _durable  # noqa: E402
from servicerules.compiler._durable import DurableBackend, EngineError  # noqa: E402
from servicerules.compiler.backends import create_backend, durable_available  # noqa: E402
from servicerules.compiler.ir import (  # noqa: E402
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
from servicerules.compiler.reference import ReferenceBackend  # noqa: E402

I = Scope.INTERACTION
E = Scope.EVENT


def program(*conditions: Condition | tuple[Condition, Scope], names: str = "rule") -> IRProgram:
    rules = []
    for index, item in enumerate(conditions):
        condition, scope = item if isinstance(item, tuple) else (item, I)
        verdict = Verdict.VIOLATED if index % 2 == 0 else Verdict.COMPLIANT
        rules.append(EngineRule(f"{names}{index // 2}#{verdict.value}", index // 2, verdict, scope, condition))
    return IRProgram(tuple(rules))


@pytest.fixture
def backends() -> Iterator[list[DurableBackend]]:
    """Collects the backends a test creates and closes them afterwards."""
    made: list[DurableBackend] = []
    yield made
    for backend in made:
        backend.close()


def durable(made: list[DurableBackend], prog: IRProgram, **kw: Any) -> DurableBackend:
    backend = DurableBackend(prog, **kw)
    made.append(backend)
    return backend


def fires(made: list[DurableBackend], condition: Condition, fact: dict[str, Any]) -> bool:
    prog = program(condition)
    facts: list[Fact] = [{"kind": "i", **fact}]
    fired = durable(made, prog).match(facts)
    assert fired in ([], [Firing(0, 0)])
    assert fired == ReferenceBackend(prog).match(facts)
    return bool(fired)


def test_available_and_factory(backends: list[DurableBackend]) -> None:
    assert _durable.AVAILABLE is True
    assert durable_available() is True
    backend = create_backend(program(ALWAYS), "durable_rules")
    backends.append(backend)  # type: ignore[arg-type]
    assert isinstance(backend, DurableBackend)
    assert backend.name == "durable_rules"
    auto = create_backend(program(ALWAYS))
    backends.append(auto)  # type: ignore[arg-type]
    assert auto.name == "durable_rules"


# The engine itself coerces loosely (measured: True == 1, '20000' == 20000, 'email' > 1); the backend must not.
COERCION: list[tuple[Condition, dict[str, Any], bool]] = [
    (Compare("a", "==", True), {"a": 1}, False),
    (Compare("a", "==", 1), {"a": True}, False),
    (Compare("a", "==", False), {"a": 0}, False),
    (Compare("a", "==", 0), {"a": False}, False),
    (Compare("a", "!=", True), {"a": 0}, False),
    (Compare("a", "!=", 1), {"a": False}, False),
    (Compare("a", "==", True), {"a": True}, True),
    (Compare("a", "!=", True), {"a": False}, True),
    (Compare("a", "==", "20000"), {"a": 20000}, False),
    (Compare("a", "==", 20000), {"a": "20000"}, False),
    (Compare("a", "!=", 20000), {"a": "20000"}, False),
    (Compare("a", ">", 1), {"a": "email"}, False),
    (Compare("a", "<", 1), {"a": "email"}, False),
    (Compare("a", ">=", 0), {"a": True}, False),
    (Compare("a", "==", "true"), {"a": True}, False),
    (Compare("a", "==", "1"), {"a": 1}, False),
    (Compare("a", "==", 1), {"a": 1.0}, True),
    (Compare("a", "!=", 1), {"a": 1.5}, True),
    (Compare("a", "<", True), {"a": False}, True),
    (Compare("a", "!=", 1), {"a": None}, False),
    (Present("a", True), {"a": None}, True),
]


@pytest.mark.parametrize(("condition", "fact", "expected"), COERCION, ids=[str(i) for i in range(len(COERCION))])
def test_no_loose_coercion(backends: list[DurableBackend], condition: Condition, fact: dict[str, Any], expected: bool) -> None:
    assert fires(backends, condition, fact) is expected


# Floats in exponent form are a parse error in the engine; mixed int/float must compare exactly.
FLOATS: list[tuple[Condition, dict[str, Any], bool]] = [
    (Compare("a", "==", 1e-05), {"a": 1e-05}, True),
    (Compare("a", ">", 1e-05), {"a": 2e-05}, True),
    (Compare("a", "<", 1e-05), {"a": 0.0}, True),
    (Compare("a", "==", 1e16), {"a": 10**16}, True),
    (Compare("a", ">", 1e16), {"a": 10**16 + 1}, True),
    (Compare("a", "==", 10**16), {"a": 1e16}, True),
    (Compare("a", ">", 1e300), {"a": 1e301}, True),
    (Compare("a", "<", 1e-300), {"a": 5e-324}, True),
    (Compare("a", ">", 0), {"a": 5e-324}, True),
    (Compare("a", "==", 0), {"a": -0.0}, True),
    (Compare("a", "==", -0.0), {"a": 0}, True),
    (Compare("a", "<", 0), {"a": -0.0}, False),
    (Compare("a", "==", 0.3), {"a": 0.1 + 0.2}, False),
    (Compare("a", ">", 0.3), {"a": 0.1 + 0.2}, True),
    (Compare("a", "==", 2.0**53), {"a": 2**53 + 1}, False),
    (Compare("a", ">", 2.0**53), {"a": 2**53 + 1}, True),
    (Compare("a", "==", 2**63 - 1), {"a": 2.0**63}, False),
    (Compare("a", "<", 2.0**63), {"a": 2**63 - 1}, True),
    (Compare("a", "==", 2**70), {"a": 2**70}, True),
    (Compare("a", ">", 2**64), {"a": 2**64 + 1}, True),
    (Compare("a", "<", -(2**64)), {"a": -(2**64) - 1}, True),
    (Compare("a", ">=", 1e-05), {"a": 1e-06}, False),
    (Compare("a", "!=", 1e16), {"a": 1.0000000000000002e16}, True),
    (Compare("a", "<=", 123456.789), {"a": 123456.789}, True),
    # constants beyond a float's range: ints of any size are finite
    (Compare("a", "<", 10**400), {"a": 1.7e308}, True),
    (Compare("a", "==", 10**400), {"a": 10**400}, True),
    (Compare("a", ">", -(10**400)), {"a": -(10**400) + 1}, True),
]


@pytest.mark.parametrize(("condition", "fact", "expected"), FLOATS, ids=[str(i) for i in range(len(FLOATS))])
def test_numbers_compare_exactly(backends: list[DurableBackend], condition: Condition, fact: dict[str, Any], expected: bool) -> None:
    assert fires(backends, condition, fact) is expected


def test_non_finite_numbers_are_rejected(backends: list[DurableBackend]) -> None:
    for constant in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValueError, match="non-finite"):
            DurableBackend(program(Compare("a", "<", constant)))
    backend = durable(backends, program(Compare("a", "<", 1.5)))
    for value in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="non-finite"):
            backend.match([{"kind": "i", "a": value}])
    assert backend.match([{"kind": "i", "a": 1}]) == [Firing(0, 0)]  # still usable


STRINGS = [
    'say "hi"',
    "back\\slash",
    "\\",
    '"',
    "line\nbreak",
    "tab\there",
    "carriage\rreturn",
    "Straße",
    "Ärger über Öl",
    "नमस्ते दुनिया",
    "emoji 😀",
    "",
    " ",
    "nul\x00char",
    '","k0":1,"x":"',
    "{\"$s\": 1}",
    "\u2028\u2029",
]


@pytest.mark.parametrize("text", STRINGS, ids=[str(i) for i in range(len(STRINGS))])
def test_strings_compare_exactly(backends: list[DurableBackend], text: str) -> None:
    others = [s for s in STRINGS if s != text] + [text + " ", text.upper() if text.upper() != text else text + "x"]
    conditions = [Compare("a", "==", text), Compare("a", "!=", text), Compare("a", "<", text), Compare("a", ">=", text)]
    prog = program(*conditions)
    backend = durable(backends, prog)
    reference = ReferenceBackend(prog)
    for value in [text, *others]:
        facts: list[Fact] = [{"kind": "i", "a": value}]
        expected = [Firing(0, 0), Firing(3, 0)] if value == text else None
        got = backend.match(facts)
        assert got == reference.match(facts)
        if expected is not None:
            assert got == expected
        else:
            assert Firing(1, 0) in got and Firing(0, 0) not in got


def test_events_and_interaction_scopes(backends: list[DurableBackend]) -> None:
    prog = program((Present("a", True), I), (Compare("a", ">", 1), E), (ALWAYS, E), (NEVER, I), (ALWAYS, I))
    backend = durable(backends, prog)
    facts: list[Fact] = [
        {"kind": "e", "a": 2},
        {"kind": "i", "a": 2},
        {"kind": "e", "a": 0},
        {"kind": "x", "a": 2},
        {"a": 2},
        {"kind": "e", "a": 2},
    ]
    expected = [Firing(1, 0), Firing(2, 0), Firing(0, 1), Firing(4, 1), Firing(2, 2), Firing(1, 5), Firing(2, 5)]
    assert backend.match(facts) == expected
    assert ReferenceBackend(prog).match(facts) == expected
    assert backend.match([]) == []


class _Kind(str, Enum):
    I = "i"
    E = "e"


def test_kind_values_compare_with_equality(backends: list[DurableBackend]) -> None:
    prog = program((ALWAYS, I), (ALWAYS, E))
    backend = durable(backends, prog)
    facts: list[Fact] = [{"kind": _Kind.I}, {"kind": _Kind.E}, {"kind": ["i"]}, {"kind": 1}]  # type: ignore[dict-item]
    assert backend.match(facts) == ReferenceBackend(prog).match(facts) == [Firing(0, 0), Firing(1, 1)]


class _Channel(str, Enum):
    EMAIL = "email"
    CHAT = "chat"


class _Tier(IntEnum):
    GOLD = 1
    SILVER = 2


def test_scalar_subclasses_match_by_value(backends: list[DurableBackend]) -> None:
    prog = program(Compare("c", "==", "email"), Compare("c", "!=", "email"), Compare("t", "<", 2), Compare("t", "==", 1))
    backend = durable(backends, prog)
    facts: list[Fact] = [{"kind": "i", "c": _Channel.EMAIL, "t": _Tier.GOLD}]
    assert backend.match(facts) == ReferenceBackend(prog).match(facts) == [Firing(0, 0), Firing(2, 0), Firing(3, 0)]
    facts = [{"kind": "i", "c": _Channel.CHAT, "t": _Tier.SILVER}]
    assert backend.match(facts) == ReferenceBackend(prog).match(facts) == [Firing(1, 0)]
    enum_constants = program(Compare("c", "==", _Channel.EMAIL), Compare("t", "==", _Tier.GOLD))
    backend = durable(backends, enum_constants)
    assert backend.match([{"kind": "i", "c": "email", "t": 1}]) == [Firing(0, 0), Firing(1, 0)]
    assert backend.match([{"kind": "i", "c": "chat", "t": 1.0}]) == [Firing(1, 0)]


def test_empty_program(backends: list[DurableBackend]) -> None:
    backend = durable(backends, IRProgram(()))
    assert backend.handle_count == 0
    assert backend.match([{"kind": "i", "a": 1}]) == []
    assert backend.match_many([[{"kind": "i"}], []]) == [[], []]
    never = durable(backends, program(NEVER, (NEVER, E)))
    assert never.handle_count == 0
    assert never.match([{"kind": "i"}, {"kind": "e"}]) == []


def test_identical_facts_fire_in_one_and_in_separate_interactions(backends: list[DurableBackend]) -> None:
    backend = durable(backends, program((Compare("a", "==", "x"), E), (Present("a", False), E)))
    same = {"kind": "e", "a": "x"}
    facts: list[Fact] = [{"kind": "i"}, same, dict(same), same, {"kind": "e"}, {"kind": "e"}]
    expected = [Firing(0, 1), Firing(0, 2), Firing(0, 3), Firing(1, 4), Firing(1, 5)]
    for _ in range(3):
        assert backend.match(facts) == expected
    assert backend.match_many([facts, facts]) == [expected, expected]


def test_interactions_are_isolated(backends: list[DurableBackend]) -> None:
    """A fact of interaction A never takes part in B: the session is empty after each interaction."""
    prog = program((Compare("a", "==", 1), E), (Present("b", True), I))
    backend = durable(backends, prog)
    a: list[Fact] = [{"kind": "i", "b": 1}, {"kind": "e", "a": 1}, {"kind": "e", "a": 1}]
    b: list[Fact] = [{"kind": "i"}, {"kind": "e", "a": 2}]
    assert backend.match(a) == [Firing(1, 0), Firing(0, 1), Firing(0, 2)]
    for handle in backend._handles:
        assert json.loads(durable_rules_engine.get_facts(handle.handle, backend._sid)) == []
    assert backend.match(b) == []
    assert backend.match_many([a, b, b, a]) == [backend.match(a), [], [], backend.match(a)]


def test_an_action_for_an_unknown_fact_is_an_error(backends: list[DurableBackend]) -> None:
    """If a leftover fact ever fired in a later interaction, the backend would notice, not misattribute."""
    prog = program((Compare("a", "==", 1), E))
    backend = durable(backends, prog)
    handle = backend._handles[0]
    # Plant a fact in the live session behind the backend's back (as a leak would).
    stray = '[{"q":999999,"sid":"%s","kind":"e","k0":1}]' % backend._sid
    facts: list[Fact] = [{"kind": "i"}, {"kind": "e", "a": 1}, {"kind": "e", "a": 1}]
    assert backend.match(facts) == [Firing(0, 1), Firing(0, 2)]
    durable_rules_engine.assert_facts(handle.handle, stray)  # its actions stay pending
    with pytest.raises(EngineError, match="unknown fact|handled"):
        backend.match(facts)
    assert backend.match(facts) == [Firing(0, 1), Firing(0, 2)]  # recovered: new session


def test_sessions_are_rotated_and_deleted(backends: list[DurableBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_durable, "SESSION_INTERACTIONS", 3)
    backend = durable(backends, program(Compare("a", ">", 0), Compare("a", "<=", 0)))
    handle = backend._handles[0].handle
    sids = []
    for i in range(10):
        sids.append(backend._sid)
        assert backend.match([{"kind": "i", "a": i}]) == [Firing(0 if i > 0 else 1, 0)]
    assert len(set(sids)) == 4
    for old in set(sids) - {backend._sid}:
        with pytest.raises(durable_rules_engine.error, match="309"):  # 309: no such session
            durable_rules_engine.delete_state(handle, old)


def test_more_interactions_than_the_session_limit(backends: list[DurableBackend]) -> None:
    """1024 live sessions per ruleset is the engine's limit; 3000 interactions must not approach it."""
    prog = program(Compare("a", ">", 10), Compare("a", "<=", 10))
    backend = durable(backends, prog)
    batches: list[list[Fact]] = [[{"kind": "i", "a": i % 20}] for i in range(3000)]
    expected = [[Firing(0 if i % 20 > 10 else 1, 0)] for i in range(3000)]
    assert backend.match_many(batches) == expected
    assert [backend.match(b) for b in batches[:1500]] == expected[:1500]


def test_600_engine_rules_are_split_into_rulesets(backends: list[DurableBackend]) -> None:
    """>= 512 rules in one ruleset hangs the engine; > 64 activations for one fact is error 303."""
    conditions: list[Condition] = []
    for r in range(300):
        violated = AllOf((Compare(f"k{r % 7}", ">", r % 11), Present(f"k{(r + 1) % 7}", True)))
        compliant = AnyOf((Compare(f"k{r % 7}", "<=", r % 11), Present(f"k{(r + 1) % 7}", False)))
        conditions += [violated, compliant]
    prog = program(*conditions)
    assert len(prog.engine_rules) == 600
    backend = durable(backends, prog)
    reference = ReferenceBackend(prog)
    assert backend.handle_count >= 600 // _durable.MAX_RULES_PER_HANDLE
    rnd = random.Random(5)
    batches: list[list[Fact]] = []
    for _ in range(50):
        facts: list[Fact] = [{"kind": "i", **{f"k{j}": rnd.randrange(12) for j in range(7) if rnd.random() < 0.9}}]
        batches.append(facts)
    batches.append([{"kind": "i", **{f"k{j}": 100 for j in range(7)}}])  # 300 violated rules match one fact
    expected = [reference.match(b) for b in batches]
    assert len(expected[-1]) == 300
    assert backend.match_many(batches) == expected
    assert [backend.match(b) for b in batches] == expected


def test_a_full_ruleset_matching_one_fact(backends: list[DurableBackend]) -> None:
    """63 rules + the catch-all = 64 activations for one fact: exactly the engine's limit."""
    prog = program(*[ALWAYS] * 63, *[Present("a", True)] * 63)
    backend = durable(backends, prog)
    assert backend.handle_count == 2
    assert backend.match([{"kind": "i", "a": 1}]) == [Firing(i, 0) for i in range(126)]
    with pytest.raises(ValueError):
        DurableBackend(prog, rules_per_handle=64)


def test_overlapping_branches_fire_once(backends: list[DurableBackend]) -> None:
    cond = AnyOf((Compare("a", ">", 1), Compare("a", ">", 2), Present("a", True), Compare("b", "==", 1)))
    backend = durable(backends, program(cond))
    assert backend.match([{"kind": "i", "a": 5, "b": 1}]) == [Firing(0, 0)]


def test_contradictions_and_absorption(backends: list[DurableBackend]) -> None:
    prog = program(
        AllOf((Compare("a", ">", 5), Compare("a", "<", 3))),
        AllOf((Compare("a", "==", 1), Compare("a", "==", "1"))),
        AllOf((Present("a", False), Compare("a", "!=", 1))),
        AllOf((Compare("a", "!=", 1), Compare("a", ">=", 1), Compare("a", "<=", 1))),
        AnyOf((ALWAYS, Compare("a", "==", 1))),
    )
    backend = durable(backends, prog)
    assert backend.engine_rule_count == 1  # only ALWAYS is left
    for value in (0, 1, 2, 4, 6, "1", True):
        assert backend.match([{"kind": "i", "a": value}]) == [Firing(4, 0)]


def test_branches_differing_in_one_key_become_one_engine_rule(backends: list[DurableBackend]) -> None:
    channels = ("chat", "email", "phone", "social", "sms", "web")
    listed = AnyOf(tuple(Compare("channel", "==", c) for c in ("email", "web", "chat", "social", "sms")))
    guarded = AllOf((listed, Compare("answered", "==", False)))
    either = AnyOf((AllOf((Present("a", True), Compare("b", ">", 2))), AllOf((Present("a", False), Compare("b", ">", 2)))))
    prog = program(guarded, either)
    backend = durable(backends, prog)
    # five equalities on "channel" are one interval with the value "phone" excluded; "a" present or absent
    # is no test on "a" at all
    assert backend.engine_rule_count == 2
    reference = ReferenceBackend(prog)
    values: list[Any] = [*channels, "in_person", "", "zzz", 1, True, None]
    for channel in values:
        for answered in (False, True, 0, None):
            for a in (1, None):
                fact: dict[str, Any] = {"kind": "i", "b": 3}
                for key, value in (("channel", channel), ("answered", answered), ("a", a)):
                    if value is not None:
                        fact[key] = value
                assert backend.match([fact]) == reference.match([fact]), fact


def test_branches_far_apart_stay_separate_engine_rules(backends: list[DurableBackend]) -> None:
    # the first and the last of 20 values: one interval would need 37 exclusions
    values = [f"v{i:02d}" for i in range(20)]
    prog = program(AnyOf((Compare("a", "==", values[0]), Compare("a", "==", values[-1]))), *[Compare("a", "==", v) for v in values[1:-1]])
    backend = durable(backends, prog)
    reference = ReferenceBackend(prog)
    assert backend.engine_rule_count == 2 + 18
    for value in [*values, "v", "v99", 3]:
        assert backend.match([{"kind": "i", "a": value}]) == reference.match([{"kind": "i", "a": value}])


def test_condition_too_complex() -> None:
    big = AllOf(tuple(AnyOf(tuple(Compare(f"k{i}", "==", j) for j in range(5))) for i in range(6)))
    with pytest.raises(ValueError, match="too complex"):
        DurableBackend(program(big))


def test_two_versions_side_by_side(backends: list[DurableBackend]) -> None:
    """Rule names repeat between versions of a ruleset; the engine rulesets must not be shared."""
    v1 = program(Compare("a", ">", 10), Compare("a", "<=", 10), names="same")
    v2 = program(Compare("a", ">", 20), Compare("a", "<=", 20), names="same")
    b1, b2 = durable(backends, v1), durable(backends, v2)
    fact: list[Fact] = [{"kind": "i", "a": 15}]
    for _ in range(3):
        assert b1.match(fact) == [Firing(0, 0)]
        assert b2.match(fact) == [Firing(1, 0)]
    b1.close()
    assert b2.match(fact) == [Firing(1, 0)]
    b3 = durable(backends, v1)
    assert b3.match(fact) == [Firing(0, 0)]


def _thread_program() -> IRProgram:
    conditions: list[Condition | tuple[Condition, Scope]] = []
    for r in range(20):
        violated = AllOf((Compare(f"k{r % 5}", ">", r % 7), Compare(f"s{r % 3}", "!=", "x")))
        compliant = AnyOf((Compare(f"k{r % 5}", "<=", r % 7), Compare(f"s{r % 3}", "==", "x")))
        conditions += [violated, compliant]
    conditions += [(Compare("k0", ">", 3), E), (Compare("k0", "<=", 3), E)]
    return program(*conditions)


def _thread_data(seed: int, n: int) -> list[list[Fact]]:
    rnd = random.Random(seed)
    out: list[list[Fact]] = []
    for _ in range(n):
        facts: list[Fact] = [{"kind": "i", **{f"k{j}": rnd.randrange(9) for j in range(5)}, **{f"s{j}": rnd.choice("xy") for j in range(3)}}]
        facts += [{"kind": "e", "k0": rnd.randrange(7)} for _ in range(rnd.randrange(4))]
        out.append(facts)
    return out


def test_concurrent_threads_get_serial_results(backends: list[DurableBackend]) -> None:
    prog = _thread_program()
    backend = durable(backends, prog)
    other = durable(backends, prog)  # a second backend used at the same time
    data = _thread_data(1, 300)
    expected = [ReferenceBackend(prog).match(d) for d in data]
    assert [backend.match(d) for d in data] == expected
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(t: int) -> None:
        try:
            start.wait()
            target = backend if t % 4 else other
            if t % 3 == 0:
                results[t] = target.match_many(data)
            else:
                results[t] = [target.match(d) for d in data]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(results[t] == expected for t in range(8))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_child_forked_while_another_thread_matches_can_match(backends: list[DurableBackend]) -> None:
    # The child inherited the backend's lock held, by a thread it does not have: its first match waited forever.
    import signal

    prog = _thread_program()
    backend = durable(backends, prog)
    data = _thread_data(2, 40)
    expected = [ReferenceBackend(prog).match(d) for d in data]
    assert backend.match_many(data) == expected
    matching, forked = threading.Event(), threading.Event()

    def half_way() -> None:  # stopped in the middle of an interaction: facts asserted, actions not drained
        with backend._lock:
            h = backend._handles[0]
            h.live = True
            durable_rules_engine.assert_facts(h.handle, json.dumps([{"q": 10**9, "sid": backend._sid, "kind": h.kind}]))
            matching.set()
            forked.wait(30)
            backend._abandon(h, backend._sid)  # in the parent the thread finishes, as a failed match does

    thread = threading.Thread(target=half_way)
    thread.start()
    matching.wait(30)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        signal.alarm(20)
        try:
            os._exit(0 if backend.match_many(data) == expected else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    forked.set()
    thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status  # not SIGALRM: it did not hang
    assert backend.match_many(data) == expected  # the parent goes on as before


def test_close_deletes_the_rulesets_and_is_final() -> None:
    backend = DurableBackend(program(ALWAYS, (ALWAYS, E)))
    handles = [h.handle for h in backend._handles]
    assert backend.match([{"kind": "i"}, {"kind": "e"}]) == [Firing(0, 0), Firing(1, 1)]
    backend.close()
    backend.close()  # idempotent
    assert backend.closed
    for handle in handles:
        with pytest.raises(durable_rules_engine.error, match="111"):  # 111: no such ruleset
            durable_rules_engine.assert_facts(handle, '[{"q":1,"sid":"1"}]')
    with pytest.raises(RuntimeError, match="closed"):
        backend.match([{"kind": "i"}])
    with pytest.raises(RuntimeError, match="closed"):
        backend.match_many([[{"kind": "i"}]])


def test_context_manager_and_finaliser() -> None:
    with DurableBackend(program(ALWAYS)) as backend:
        assert backend.match([{"kind": "i"}]) == [Firing(0, 0)]
    assert backend.closed
    dropped = DurableBackend(program(ALWAYS))
    dropped.match([{"kind": "i"}])
    handle = dropped._handles[0].handle
    del dropped
    gc.collect()
    with pytest.raises(durable_rules_engine.error, match="111"):
        durable_rules_engine.assert_facts(handle, '[{"q":1,"sid":"1"}]')


def test_engine_errors_surface_as_engine_error(backends: list[DurableBackend]) -> None:
    backend = durable(backends, program(ALWAYS))
    handle = backend._handles[0]
    durable_rules_engine.delete_ruleset(handle.handle)  # pulled from under the backend
    with pytest.raises(EngineError) as info:
        backend.match([{"kind": "i"}])
    assert info.value.code == 111
    assert isinstance(info.value, RuntimeError)
    assert "111" in str(info.value)
    handle.handle = None  # already gone: keep close() from failing on it


class _EngineProxy:
    """The real C module, with some calls replaced."""

    def __init__(self, **overrides: Any) -> None:
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name, getattr(durable_rules_engine, name))


def test_engine_exception_midway_recovers(backends: list[DurableBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    backend = durable(backends, program(ALWAYS, Present("a", True)))
    calls = {"n": 0}

    def flaky_complete(handle: int, state: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise durable_rules_engine.error("Could not complete action, error code: 303")
        return durable_rules_engine.complete_and_start_action(handle, state)

    monkeypatch.setattr(_durable, "_engine", _EngineProxy(complete_and_start_action=flaky_complete))
    with pytest.raises(EngineError) as info:
        backend.match([{"kind": "i", "a": 1}])
    assert info.value.code == 303
    assert backend.match([{"kind": "i", "a": 1}]) == [Firing(0, 0), Firing(1, 0)]
    assert backend.match([{"kind": "i"}]) == [Firing(0, 0)]


def test_non_zero_result_code_is_an_engine_error(backends: list[DurableBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    backend = durable(backends, program(ALWAYS))

    def refusing_assert(handle: int, text: str) -> Any:
        code, state = durable_rules_engine.assert_facts(handle, text)
        return 7, state

    monkeypatch.setattr(_durable, "_engine", _EngineProxy(assert_facts=refusing_assert))
    with pytest.raises(EngineError) as info:
        backend.match([{"kind": "i"}])
    assert info.value.code == 7
    monkeypatch.undo()
    assert backend.match([{"kind": "i"}]) == [Firing(0, 0)]


def test_dropped_duplicate_fact_is_reasserted(backends: list[DurableBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine silently drops a fact it takes for a duplicate (upstream issue #376); the catch-all
    count shows it, and the fact is asserted again under a new sequence number."""
    prog = program((Compare("a", "==", 1), E), (Present("a", False), E))
    backend = durable(backends, prog)
    seen: list[str] = []

    def colliding_assert(handle: int, text: str) -> Any:
        seen.append(text)
        if len(seen) == 1:
            facts = json.loads(text)
            facts[1]["q"] = facts[0]["q"]  # the second event fact becomes an exact duplicate: dropped
            text = json.dumps(facts, separators=(",", ":"))
        return durable_rules_engine.assert_facts(handle, text)

    monkeypatch.setattr(_durable, "_engine", _EngineProxy(assert_facts=colliding_assert))
    facts: list[Fact] = [{"kind": "i"}, {"kind": "e", "a": 1}, {"kind": "e", "a": 1}, {"kind": "e"}]
    assert backend.match(facts) == [Firing(0, 1), Firing(0, 2), Firing(1, 3)]
    assert len(seen) == 2 and len(json.loads(seen[1])) == 1  # only the dropped fact was asserted again
    assert backend.match(facts) == [Firing(0, 1), Firing(0, 2), Firing(1, 3)]


def test_firings_past_the_cached_facts(backends: list[DurableBackend]) -> None:
    """Firing objects are cached for the first facts of an interaction only; later facts still fire,
    both before and after the cache has grown, and cached firings are shared, not mutated."""
    prog = program((Compare("a", "==", 1), E), (Present("a", False), E), (ALWAYS, I))
    backend = durable(backends, prog)
    n = _durable._CACHED_FACTS + 40
    facts: list[Fact] = [{"kind": "i"}, *({"kind": "e", "a": i % 3} if i % 5 else {"kind": "e"} for i in range(n))]
    expected = ReferenceBackend(prog).match(facts)
    assert backend.match(facts[:3]) == ReferenceBackend(prog).match(facts[:3])
    assert backend.match(facts) == expected
    assert backend.match_many([facts, facts[:3], facts]) == [expected, ReferenceBackend(prog).match(facts[:3]), expected]
    assert Firing(0, n - 3) in expected and Firing(1, n) in expected  # past the cache


def test_match_many_matches_match(backends: list[DurableBackend]) -> None:
    prog = _thread_program()
    backend = durable(backends, prog)
    data = _thread_data(2, 700)
    assert backend.match_many(data) == [backend.match(d) for d in data] == ReferenceBackend(prog).match_many(data)
    assert backend.match_many([]) == []


# --------------------------------------------------------------------------------------------------
# A random program; memory over a million matches (slow: ./dev test-slow). Speed is a benchmark figure.
# --------------------------------------------------------------------------------------------------

_NEG = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _negate(condition: Condition) -> Condition:
    if isinstance(condition, Compare):
        return Compare(condition.key, _NEG[condition.op], condition.value)  # type: ignore[arg-type]
    if isinstance(condition, Present):
        return Present(condition.key, not condition.present)
    if isinstance(condition, AllOf):
        return AnyOf(tuple(_negate(c) for c in condition.items))
    return AllOf(tuple(_negate(c) for c in condition.items))


def benchmark_program(n_source: int = 20, n_keys: int = 15, seed: int = 7) -> IRProgram:
    """``n_source`` source rules (violated + compliant engine rules) over an interaction fact of
    ``n_keys`` keys: strings (==/!=), numbers (ordering) and booleans, 1-3 comparisons per rule."""
    rnd = random.Random(seed)
    channels = ["email", "chat", "phone", "social"]
    conditions: list[Condition] = []
    for _ in range(n_source):
        parts: list[Condition] = []
        for _ in range(rnd.choice([1, 1, 2, 2, 3])):
            j = rnd.randrange(n_keys)
            if j % 3 == 0:
                parts.append(Compare(f"f{j}", rnd.choice(["==", "!="]), rnd.choice(channels)))
            elif j % 3 == 1:
                parts.append(Compare(f"f{j}", rnd.choice(["<", "<=", ">", ">="]), rnd.choice([5, 30.5, 120, 3600])))
            else:
                parts.append(Compare(f"f{j}", "==", rnd.choice([True, False])))
        violated = AllOf(tuple(parts)) if len(parts) > 1 else parts[0]
        conditions += [violated, _negate(violated)]
    return program(*conditions)


def benchmark_interactions(n: int, n_keys: int = 15, seed: int = 1) -> list[list[Fact]]:
    rnd = random.Random(seed)
    out: list[list[Fact]] = []
    for _ in range(n):
        fact: dict[str, Any] = {"kind": "i"}
        for j in range(n_keys):
            if j % 3 == 0:
                fact[f"f{j}"] = rnd.choice(["email", "chat", "phone", "social", "fax"])
            elif j % 3 == 1:
                fact[f"f{j}"] = rnd.choice([1, 5, 29.5, 30.5, 100, 4000, 7.25])
            else:
                fact[f"f{j}"] = rnd.random() < 0.5
        out.append([fact])
    return out


def test_agreement_on_a_random_twenty_rule_program() -> None:
    """The program the soak test runs (its throughput is a benchmark figure: ``./dev bench engine``), matched
    in one engine ruleset and split into several."""
    prog = benchmark_program()
    assert len(prog.engine_rules) == 40
    data = benchmark_interactions(2000)
    reference = ReferenceBackend(prog)
    expected = [reference.match(d) for d in data]
    with DurableBackend(prog) as backend:
        assert [backend.match(d) for d in data] == expected
        assert backend.match_many(data) == expected
    with DurableBackend(prog, rules_per_handle=8) as split:
        assert split.handle_count > 1
        assert split.match_many(data) == expected


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_no_memory_growth() -> None:
    """1,000,000 matches (or as many as fit in SERVICERULES_SOAK_SECONDS, default 150 s): RSS flat."""
    budget = float(os.environ.get("SERVICERULES_SOAK_SECONDS", "150"))
    total = int(os.environ.get("SERVICERULES_SOAK_MATCHES", "1000000"))
    prog = benchmark_program()
    data = benchmark_interactions(1000)
    data += [[d[0], {"kind": "e"}, {"kind": "e", "f1": 3}] for d in data[:100]]  # some multi-fact interactions
    with DurableBackend(prog) as backend:
        for i in range(50_000):  # warm-up
            backend.match(data[i % len(data)])
        gc.collect()
        before = _rss()
        deadline = time.monotonic() + budget
        done = 0
        while done < total and time.monotonic() < deadline:
            for i in range(10_000):
                backend.match(data[i % len(data)])
            done += 10_000
        gc.collect()
        grown = _rss() - before
    print(f"\n{done:,} matches after warm-up: RSS grew by {grown / 2**20:.2f} MiB")
    assert done >= 100_000
    assert grown < 20 * 2**20
