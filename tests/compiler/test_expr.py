from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.compiler.expr import Binary, Call, ExprSyntaxError, ListLit, Literal, Path, Unary, parse_expression


def shape(node):
    """A compact, readable form of the tree for assertions."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return node.dotted
    if isinstance(node, ListLit):
        return [shape(i) for i in node.items]
    if isinstance(node, Unary):
        return (node.op, shape(node.operand))
    if isinstance(node, Binary):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, Call):
        return (node.name + "()", *[shape(a) for a in node.args])
    raise AssertionError(node)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("first_reply_time > 4h", (">", "first_reply_time", 14400.0)),
        ("a and b or c", ("or", ("and", "a", "b"), "c")),
        # chains of and / or are balanced (associative, also in three-valued logic): log n levels deep
        ("a or b or c", ("or", "a", ("or", "b", "c"))),
        ("a and b and c and d", ("and", ("and", "a", "b"), ("and", "c", "d"))),
        ("a or b and c", ("or", "a", ("and", "b", "c"))),
        ("not a and b", ("and", ("not", "a"), "b")),
        ("not (a and b)", ("not", ("and", "a", "b"))),
        ("x in ['email', \"chat\"]", ("in", "x", ["email", "chat"])),
        ("x not in [1, 2]", ("not in", "x", [1, 2])),
        ("a - b > 1h30m", (">", ("-", "a", "b"), 5400.0)),
        ("a + b * 2 == 7", ("==", ("+", "a", ("*", "b", 2)), 7)),
        ("-x < -2.5", ("<", ("-", "x"), ("-", 2.5))),
        ("a ?? b > 2d", (">", ("??", "a", "b"), 172800.0)),
        ("customer.name == null", ("==", "customer.name", None)),
        ("exists(customer.name)", ("exists()", "customer.name")),
        ("event.text matches '\\\\d+'", ("matches", "event.text", "\\d+")),
        ("event.text mentions greeting", ("mentions", "event.text", "greeting")),
        ("x == 'it\\'s'", ("==", "x", "it's")),
        ("flag == true", ("==", "flag", True)),
        ("n >= 1e3", (">=", "n", 1000)),
        # whole numbers are exact, beyond 2**53 too (not the nearest float)
        ("n == 9007199254740993", ("==", "n", 2**53 + 1)),
        ("n == 12345678901234567891", ("==", "n", 12345678901234567891)),
        ("n == 1e20", ("==", "n", 10**20)),
        ("n == 1e300", ("==", "n", 10**300)),
        ("d == 45s", ("==", "d", 45.0)),
        ("w == 1w", ("==", "w", 604800.0)),
    ],
)
def test_parses_to_the_expected_tree(text, expected):
    assert shape(parse_expression(text)) == expected


_SPLIT_HINT = "split it into several rules or conditions, or use 'in [...]' for a long list of alternatives"


@pytest.mark.parametrize(
    "text, message, offset, hint",
    [
        ("", "empty expression", 0, "write a condition such as first_reply_time > 4h"),
        ("a = 1", "unexpected character '='", 2, "use == for comparison"),
        ("a && b", "unexpected character '&'", 2, "write 'and', 'or', 'not'"),
        ("a > ", "expression ends too early", 4, "an operand is missing at the end"),
        ("(a > 1", "expected ')' but found 'end of expression'", 6, None),
        ("a > 1 b", "unexpected 'b'", 6, "an operator such as 'and', 'or' or '==' is missing before it"),
        ("1 < a < 3", "comparisons cannot be chained ('<' after '<')", 6, "join two comparisons with 'and'"),
        ("x == 'open", "unterminated string", 5, "close the string with the same quote"),
        ("a.", "expected a name after '.'", 2, None),
        ("n < 1e400", "number '1e400' is too large", 4, "numbers go up to about 1.8e308"),
        ("n < " + "9" * 400, "number '" + "9" * 400 + "' is too large", 4, "numbers go up to about 1.8e308"),
        ("d > " + "9" * 400 + "w", "duration '" + "9" * 400 + "w' is too large", 4, "durations go up to about 1.8e308 seconds"),
        # nested deeper than MAX_NESTING (50): a RecursionError from the parser or the compiler before
        ("(" * 51 + "a" + ")" * 51, "expression nested more than 50 levels deep", 50, _SPLIT_HINT),
        ("not " * 51 + "a", "expression nested more than 50 levels deep", 200, _SPLIT_HINT),
        ("a > " + "-" * 51 + "1", "expression nested more than 50 levels deep", 54, _SPLIT_HINT),
        ("a + " * 50 + "1 > 3", "expression nested more than 50 levels deep", 0, _SPLIT_HINT),
    ],
)
def test_syntax_errors_have_message_offset_and_hint(text, message, offset, hint):
    with pytest.raises(ExprSyntaxError) as info:
        parse_expression(text)
    assert (info.value.message, info.value.offset, info.value.hint) == (message, offset, hint)


def test_spans_cover_the_source_text():
    text = "first_reply_time > 4h and customer.tier == 'gold'"
    node = parse_expression(text)
    assert isinstance(node, Binary)
    assert text[node.left.start : node.left.end] == "first_reply_time > 4h"
    assert text[node.right.start : node.right.end] == "customer.tier == 'gold'"
    assert text[node.op_start : node.op_start + 3] == "and"


names = st.sampled_from(["a", "b", "c", "x.y", "first_reply_time"])
atoms = st.one_of(names, st.integers(0, 99).map(str), st.sampled_from(["4h", "30m", "'s'", "true", "null"]))


def _expr(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["and", "or", "==", "!=", "<", ">=", "+", "-", "*", "??"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"(not {c})"),
    )


@settings(max_examples=300, deadline=None)
@given(st.recursive(atoms, _expr, max_leaves=12))
def test_parser_accepts_generated_expressions_and_is_deterministic(text):
    first = parse_expression(text)
    assert shape(first) == shape(parse_expression(text))
    assert first.start == 0 and first.end == len(text)
    if isinstance(first, Binary):
        # each operand's span, cut out of the text, parses to the same subtree
        for side in (first.left, first.right):
            assert shape(parse_expression(text[side.start : side.end])) == shape(side)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 ()<>=!&|'\".-[],", max_size=20))
def test_parser_raises_only_its_own_error(text):
    try:
        parse_expression(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)


def test_the_nesting_limit_is_reached_but_not_passed():
    assert shape(parse_expression("(" * 50 + "a" + ")" * 50)) == "a"
    assert shape(parse_expression("not " * 50 + "a"))[0] == "not"
    assert shape(parse_expression("a + " * 49 + "1 > 3"))[0] == ">"


@pytest.mark.parametrize("backend", ["durable_rules", "reference"])
def test_a_condition_of_hundreds_of_alternatives_compiles_and_evaluates(backend):
    # load raised RecursionError from the type checker for a chain of about 500 'or' (or 'and') terms
    import servicerules

    alternatives = " or ".join(f"interaction.attributes.code == {n}" for n in range(600))
    every = " and ".join(f"interaction.attributes.code != {n}" for n in range(600))
    policy = servicerules.load(
        'ruleset: generated\nversion: "1"\nrules:\n'
        f'  - {{id: listed, title: listed, severity: minor, violated_if: "{alternatives}"}}\n'
        f'  - {{id: unlisted, title: unlisted, severity: minor, violated_if: "{every}"}}\n',
        backend=backend,
    )
    record = {"id": "E-1", "channel": "email", "created_at": "2026-03-02T09:00:00Z"}
    verdicts = [policy.evaluate(dict(record, attributes={"code": code})).violated_rules() for code in (0, 599, 600, "7")]
    assert verdicts == [["listed"], ["listed"], ["unlisted"], []]
