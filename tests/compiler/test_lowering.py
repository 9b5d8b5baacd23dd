"""Lowering to the engine-neutral IR: three-valued logic, constant folding, derived values; golden IR files."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicerules.compiler import expr
from servicerules.compiler.checker import Checker, KeyAllocator
from servicerules.compiler.ir import ALWAYS, NEVER, AllOf, AnyOf, Compare, Present
from servicerules.engine import parse_ruleset
from servicerules.compiler import compile_program
from servicerules.measures.text import LexiconMatcher

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"


def lower(text: str, scope: str = "interaction"):
    keys = KeyAllocator()
    lexicons = {"greeting": LexiconMatcher.build("greeting", {"en": ["hello"]})}
    true, false, _typed = Checker(scope, lexicons, keys).lower(expr.parse_expression(text))
    return true, false, keys


def test_comparison_and_its_negation_both_require_the_fact():
    true, false, keys = lower("first_reply_time > 4h")
    assert keys.fact_keys == {("first_reply_time", "duration"): "f0"}
    assert true == Compare("f0", ">", 14400.0)
    assert false == Compare("f0", "<=", 14400.0)


def test_not_swaps_true_and_false_conditions():
    true, false, _ = lower("not (first_reply_time > 4h and has_personal_reply)")
    assert true == AnyOf((Compare("f0", "<=", 14400.0), Compare("f1", "==", False)))
    assert false == AllOf((Compare("f0", ">", 14400.0), Compare("f1", "==", True)))


def test_membership_and_null_tests():
    true, false, _ = lower("interaction.channel in ['email', 'web']")
    assert true == AnyOf((Compare("f0", "==", "email"), Compare("f0", "==", "web")))
    assert false == AllOf((Compare("f0", "!=", "email"), Compare("f0", "!=", "web")))
    true, false, _ = lower("customer.name == null")
    assert (true, false) == (Present("f0", False), Present("f0", True))
    true, false, _ = lower("exists(customer.tier)")
    assert (true, false) == (Present("f0", True), Present("f0", False))


def test_constants_fold_away():
    assert lower("2 * 2h == 4h")[:2] == (ALWAYS, NEVER)
    true, _false, _ = lower("true and first_reply_time > 1h + 30m")
    assert true == Compare("f0", ">", 5400.0)


def test_constant_on_the_left_is_flipped():
    true, false, _ = lower("4h < first_reply_time")
    assert (true, false) == (Compare("f0", ">", 14400.0), Compare("f0", "<=", 14400.0))


def test_text_matching_and_fact_arithmetic_become_derived_values():
    true, false, keys = lower("first_reply.text mentions greeting and interaction.solved_at - interaction.created_at > 2d")
    assert [(k, scope, type_) for k, scope, _fn, type_ in keys.derived] == [("d0", "interaction", "bool"), ("d1", "interaction", "duration")]
    assert true == AllOf((Compare("d0", "==", True), Compare("d1", ">", 172800.0)))
    assert false == AnyOf((Compare("d0", "==", False), Compare("d1", "<=", 172800.0)))


def test_derived_values_are_null_safe():
    _t, _f, keys = lower("first_reply.text mentions greeting")
    fn = keys.derived[0][2]
    assert fn(lambda name, type_: None) is None
    assert fn(lambda name, type_: "Hello there") is True
    assert fn(lambda name, type_: "Howdy") is False


@pytest.mark.parametrize("name", ["starter"])
def test_shipped_ruleset_ir_is_golden(golden, name):
    spec, doc = parse_ruleset(ROOT / "rulesets" / f"{name}.yaml")
    program = compile_program(spec, doc)
    golden(GOLDEN / f"{name}.ir.json", program.ir.to_json())


def test_ir_is_frozen():
    true, _false, _ = lower("first_reply_time > 4h")
    with pytest.raises(AttributeError):
        true.value = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("op", "left", "right", "expected", "reads_right"),
    [
        ("and", False, True, False, False),  # decided by the left side: the right one is not computed
        ("and", None, False, False, True),
        ("and", None, True, None, True),
        ("and", True, True, True, True),
        ("or", True, False, True, False),
        ("or", None, True, True, True),
        ("or", None, False, None, True),
        ("or", False, False, False, True),
    ],
)
def test_and_or_follow_kleene_logic_and_short_circuit(op, left, right, expected, reads_right):
    checker = Checker("interaction", {}, KeyAllocator())
    typed = checker.check(expr.parse_expression(f"interaction.is_solved {op} has_personal_reply"))
    values = {"interaction.is_solved": left, "has_personal_reply": right}
    read: list[str] = []

    def get(name, type_):
        read.append(name)
        return values[name]

    assert typed.fn(get) is expected
    assert ("has_personal_reply" in read) is reads_right
