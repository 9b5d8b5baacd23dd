"""Type-checking expressions against the fact catalogue, and lowering them to IR conditions.

Each expression node becomes a :class:`Typed` value: its type, the facts it reads, and a Python evaluator
(null-propagating, used for derived values and by the reference semantics of templates). Boolean
expressions are then lowered to a pair of IR conditions, ``(TRUE, FALSE)``, under three-valued (Kleene)
logic: a comparison is TRUE or FALSE only when its facts are known, ``not`` swaps the pair, ``and``/``or``
combine them. Sub-expressions the engine cannot match directly (arithmetic over facts, fact-to-fact
comparisons, regex and lexicon matches) become *derived* values computed in Python and handed to the engine
as one more fact key.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from servicerules.compiler import expr as ast
from servicerules.compiler.ir import ALWAYS, COMPARISONS, NEVER, AllOf, AnyOf, Compare, Condition, Present, Scalar
from servicerules.errors import did_you_mean
from servicerules.measures.catalogue import CATALOGUE, FactSpec, lookup
from servicerules.measures.text import LexiconMatcher, check_pattern, compile_pattern

__all__ = ["CheckError", "Checker", "Getter", "KeyAllocator", "Typed", "adopt"]

Getter = Callable[[str, str], Any]
"""``get(fact_name, type)`` → the fact's normalised value (timestamps as epoch seconds) or None."""

Evaluator = Callable[[Getter], Any]

ORDERED = ("number", "duration", "timestamp")
FUNCTIONS = {"exists": "exists(path): true when the fact is known", "lower": "lower(text)", "len": "len(text)"}


class CheckError(Exception):
    def __init__(self, code: str, message: str, start: int, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.start, self.hint = code, message, start, hint


@dataclass(frozen=True)
class Typed:
    type: str  # string, number, duration, timestamp, bool, list, null, any
    fn: Evaluator
    node: ast.Node
    facts: frozenset[str] = frozenset()
    const: bool = False
    value: Any = None
    fact: FactSpec | None = None
    elem_type: str | None = None


@dataclass
class KeyAllocator:
    """Short engine keys (``f0``, ``d0``…) for facts and derived values, in order of first use."""

    fact_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    derived: list[tuple[str, str, Evaluator, str]] = field(default_factory=list)  # (key, scope, fn, type)

    def fact_key(self, name: str, type_: str) -> str:
        ident = (name, type_)
        if ident not in self.fact_keys:
            self.fact_keys[ident] = f"f{len(self.fact_keys)}"
        return self.fact_keys[ident]

    def derived_key(self, scope: str, fn: Evaluator, type_: str) -> str:
        key = f"d{len(self.derived)}"
        self.derived.append((key, scope, fn, type_))
        return key


def _arithmetic_type(op: str, other: str) -> str:
    """The type a free attribute takes in arithmetic with an operand of type ``other``: in ``+`` and ``-`` the
    other operand's, as in a comparison (``interaction.attributes.sent_at - interaction.created_at`` is a
    timestamp minus a timestamp), but a duration beside a timestamp in ``+``; elsewhere a number."""
    if op in ("+", "-") and other in ("number", "duration", "timestamp"):
        return "duration" if op == "+" and other == "timestamp" else other
    return "number"


def _null_safe(fn: Callable[..., Any], *args: Evaluator) -> Evaluator:
    def run(get: Getter) -> Any:
        values = [a(get) for a in args]
        if any(v is None for v in values):
            return None
        try:
            return fn(*values)
        except (ZeroDivisionError, OverflowError):  # x / 0; an int beyond any float (10**400) beside a float
            return None

    return run


_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Checker:
    """Type-checks and lowers the expressions of one rule (scope known), sharing a key allocator."""

    def __init__(
        self,
        scope: str,
        lexicons: Mapping[str, LexiconMatcher],
        keys: KeyAllocator,
        facts: Callable[[str], FactSpec | None] = lookup,
        owner: str = "rule",
    ):
        self.scope = scope
        self.lexicons = lexicons
        self.keys = keys
        self.facts = facts
        self.owner = owner
        """What the expressions belong to, for messages: ``rule``, ``SLA`` or ``target``."""

    # -- typing ---------------------------------------------------------------------------------------

    def check(self, node: ast.Node) -> Typed:
        method = getattr(self, "_check_" + type(node).__name__)
        result: Typed = method(node)
        return result

    def _check_Literal(self, node: ast.Literal) -> Typed:
        value = node.value
        return Typed(node.kind, _constant(value), node, const=True, value=value)

    def _check_ListLit(self, node: ast.ListLit) -> Typed:
        items = [self.check(i) for i in node.items]
        for item in items:
            if not item.const:
                raise CheckError("SR202", "list items must be constants", item.node.start)
        types = {i.type for i in items}
        if len(types) > 1:
            raise CheckError("SR202", f"list mixes {' and '.join(sorted(types))} values", node.start)
        values = tuple(i.value for i in items)
        return Typed("list", _constant(values), node, const=True, value=values, elem_type=types.pop() if types else None)

    def _check_Path(self, node: ast.Path) -> Typed:
        name = node.dotted
        spec = self.facts(name)
        if spec is None:
            if len(node.parts) == 1 and name in self.lexicons:
                raise CheckError("SR202", f"'{name}' is a lexicon, not a fact", node.start, f"write: <text fact> mentions {name}")
            raise CheckError("SR201", f"unknown fact '{name}'", node.start, did_you_mean(name, CATALOGUE))
        if spec.scope == "event" and self.scope != "event":
            if self.owner == "rule":
                raise CheckError(
                    "SR209",
                    f"'{name}' is an event fact, but this rule has scope: interaction",
                    node.start,
                    "add 'scope: event' to the rule to check each event",
                )
            raise CheckError(
                "SR209",
                f"'{name}' is an event fact, but {self.owner}s read the interaction as a whole",
                node.start,
                "use an interaction fact instead (privacy.has_card_data rather than event.has_card_number)",
            )
        type_ = spec.type

        def read(get: Getter, _n: str = name, _t: str = type_) -> Any:
            return get(_n, _t)

        return Typed(type_, read, node, frozenset({name}), fact=spec)

    def _check_Unary(self, node: ast.Unary) -> Typed:
        operand = self.check(node.operand)
        if node.op == "not":
            operand = self._expect(operand, "bool", "'not' needs a true/false operand")
            return Typed("bool", _null_safe(operator.not_, operand.fn), node, operand.facts)
        if operand.type not in ("number", "duration", "any"):
            raise CheckError("SR202", f"cannot negate a {operand.type}", node.start)
        type_ = "number" if operand.type == "any" else operand.type
        return self._fold(Typed(type_, _null_safe(operator.neg, operand.fn), node, operand.facts, const=operand.const))

    def _check_Call(self, node: ast.Call) -> Typed:
        if node.name not in FUNCTIONS:
            raise CheckError("SR207", f"unknown function '{node.name}'", node.start, did_you_mean(node.name, FUNCTIONS))
        if len(node.args) != 1:
            raise CheckError("SR207", f"{node.name}() takes exactly one argument", node.start, FUNCTIONS[node.name])
        arg = self.check(node.args[0])
        if node.name == "exists":
            if not isinstance(node.args[0], ast.Path):
                raise CheckError("SR207", "exists() takes a fact name", node.args[0].start, FUNCTIONS["exists"])
            inner = arg.fn
            return Typed("bool", lambda get: inner(get) is not None, node, arg.facts)
        arg = self._expect(arg, "string", f"{node.name}() takes text")
        fn = str.casefold if node.name == "lower" else len
        return Typed("string" if node.name == "lower" else "number", _null_safe(fn, arg.fn), node, arg.facts)

    def _check_Binary(self, node: ast.Binary) -> Typed:
        op = node.op
        if op in ("and", "or"):
            left, right = self.check(node.left), self.check(node.right)
            left = self._expect(left, "bool", f"'{op}' needs true/false operands")
            right = self._expect(right, "bool", f"'{op}' needs true/false operands")
            lf, rf = left.fn, right.fn
            if op == "and":

                # Kleene logic, short-circuited: a false left side decides, and the right side's facts
                # (an SLA clock, a lexicon scan) are not computed for nothing.
                def both(get: Getter) -> Any:
                    a = lf(get)
                    if a is False:
                        return False
                    b = rf(get)
                    if b is False:
                        return False
                    return None if a is None or b is None else True

                return Typed("bool", both, node, left.facts | right.facts)

            def either(get: Getter) -> Any:
                a = lf(get)
                if a is True:
                    return True
                b = rf(get)
                if b is True:
                    return True
                return None if a is None or b is None else False

            return Typed("bool", either, node, left.facts | right.facts)
        if op == "mentions":
            left = self.check(node.left)
            left = self._expect(left, "string", "'mentions' needs a text on its left")
            if not (isinstance(node.right, ast.Path) and len(node.right.parts) == 1):
                raise CheckError("SR203", "'mentions' needs a lexicon name on its right", node.right.start)
            name = node.right.parts[0]
            matcher = self.lexicons.get(name)
            if matcher is None:
                raise CheckError("SR203", f"unknown lexicon '{name}'", node.right.start, did_you_mean(name, self.lexicons) or "declare it under 'lexicons:'")
            return Typed("bool", _null_safe(matcher.matches, left.fn), node, left.facts)
        if op == "matches":
            left = self.check(node.left)
            left = self._expect(left, "string", "'matches' needs a text on its left")
            if not (isinstance(node.right, ast.Literal) and node.right.kind == "string"):
                raise CheckError("SR202", "'matches' needs a regular expression in quotes on its right", node.right.start)
            problem = check_pattern(str(node.right.value))
            if problem:
                raise CheckError("SR206", f"invalid regular expression: {problem}", node.right.start)
            pattern = compile_pattern(str(node.right.value))
            return Typed("bool", _null_safe(lambda s: pattern.search(s) is not None, left.fn), node, left.facts)
        left, right = self.check(node.left), self.check(node.right)
        if op in ("in", "not in"):
            if right.type != "list":
                raise CheckError("SR202", f"'{op}' needs a list such as [\"email\", \"chat\"] on its right", node.right.start)
            left = adopt(left, right.elem_type or left.type)
            if right.elem_type and left.type != right.elem_type and left.type != "null":
                raise CheckError("SR202", f"cannot look for a {left.type} in a list of {right.elem_type} values", node.op_start)
            values = right.value
            fn = _null_safe(lambda a, _v=values: a in _v, left.fn)
            if op == "not in":
                fn = _null_safe(operator.not_, fn)
            return Typed("bool", fn, node, left.facts)
        if op in COMPARISONS:
            left, right = self._unify(left, right, node)
            if left.type == "null" or right.type == "null":
                if op not in ("==", "!="):
                    raise CheckError("SR202", f"'{op}' cannot compare with null", node.op_start, "use == null or exists(...)")
                other = right if left.type == "null" else left
                is_null = _null_check(other.fn, op == "==")
                return Typed("bool", is_null, node, other.facts)
            if op not in ("==", "!=") and left.type not in ORDERED:
                raise CheckError("SR202", f"'{op}' cannot order {left.type} values", node.op_start, "only numbers, durations and timestamps are ordered")
            cmp = COMPARISONS[op]
            return self._fold(Typed("bool", _null_safe(cmp, left.fn, right.fn), node, left.facts | right.facts, const=left.const and right.const))
        if op in ("+", "-", "*", "/"):
            return self._arithmetic(node, left, right)
        if op == "??":
            if right.type == "null":  # x ?? null is x (and a free attribute stays free to take a type)
                return left
            left, right = self._unify(left, right, node)
            if left.type == "null":
                return right
            lf, rf = left.fn, right.fn

            def coalesce(get: Getter) -> Any:
                value = lf(get)
                return rf(get) if value is None else value

            return Typed(left.type, coalesce, node, left.facts | right.facts, const=left.const)
        raise CheckError("SR200", f"unsupported operator '{op}'", node.op_start)

    def _arithmetic(self, node: ast.Binary, left: Typed, right: Typed) -> Typed:
        op = node.op
        free = [t.type == "any" for t in (left, right)]
        left = adopt(left, _arithmetic_type(op, right.type))
        right = adopt(right, _arithmetic_type(op, left.type))
        table = {
            ("+", "number", "number"): "number",
            ("+", "duration", "duration"): "duration",
            ("+", "timestamp", "duration"): "timestamp",
            ("+", "duration", "timestamp"): "timestamp",
            ("-", "number", "number"): "number",
            ("-", "duration", "duration"): "duration",
            ("-", "timestamp", "timestamp"): "duration",
            ("-", "timestamp", "duration"): "timestamp",
            ("*", "number", "number"): "number",
            ("*", "duration", "number"): "duration",
            ("*", "number", "duration"): "duration",
            ("/", "number", "number"): "number",
            ("/", "duration", "number"): "duration",
            ("/", "duration", "duration"): "number",
        }
        result = table.get((op, left.type, right.type))
        if result is None:
            hint = "write durations with a unit: 4h, 30m, 2d" if {left.type, right.type} == {"number", "duration"} else None
            for typed, was_free in zip((left, right), free):
                if was_free and typed.fact is not None:
                    hint = (
                        f"'{typed.fact.name}' is a free attribute, read here as a {typed.type}: in '+' and '-' an attribute "
                        "takes the other side's type, elsewhere it is a number"
                    )
            raise CheckError("SR202", f"cannot apply '{op}' to {left.type} and {right.type}", node.op_start, hint)
        fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}[op]
        return self._fold(Typed(result, _null_safe(fn, left.fn, right.fn), node, left.facts | right.facts, const=left.const and right.const))

    def _fold(self, typed: Typed) -> Typed:
        """Constant-fold: ``2 * 4h`` is one duration literal."""
        if typed.const:
            value = typed.fn(_no_facts)
            if typed.type in ("number", "duration") and not _in_range(value):
                raise CheckError(
                    "SR200", "this constant has no value: it divides by zero or is beyond a number's range", typed.node.start
                )
            return Typed(typed.type, _constant(value), typed.node, const=True, value=value)
        return typed

    def _unify(self, left: Typed, right: Typed, node: ast.Binary) -> tuple[Typed, Typed]:
        left = adopt(left, right.type)
        right = adopt(right, left.type)
        if left.type == "any" and right.type == "any":
            left, right = adopt(left, "string"), adopt(right, "string")
        if "null" in (left.type, right.type) or left.type == right.type:
            return left, right
        hint = None
        if {left.type, right.type} == {"duration", "number"}:
            hint = "write durations with a unit: 4h, 30m, 2d (not a plain number)"
        elif "timestamp" in (left.type, right.type) and "string" in (left.type, right.type):
            hint = "compare timestamps with timestamps, e.g. event.at - interaction.created_at > 1d"
        raise CheckError("SR202", f"cannot compare {left.type} with {right.type}", node.op_start, hint)

    def _expect(self, typed: Typed, type_: str, message: str) -> Typed:
        """``typed`` if it has ``type_``; a free attribute is read as that type (other values: unknown)."""
        if typed.type == type_:
            return typed
        if typed.type == "any" and typed.fact is not None:
            return adopt(typed, type_)
        raise CheckError("SR202", f"{message}, found a {typed.type}", typed.node.start)

    # -- lowering ---------------------------------------------------------------------------------------

    def lower(self, node: ast.Node) -> tuple[Condition, Condition, Typed]:
        typed = self.check(node)
        if typed.type == "any":
            typed = adopt(typed, "bool")
        if typed.type != "bool":
            raise CheckError("SR202", f"a condition must be true or false, this is a {typed.type}", node.start)
        true, false = self._lower(node, typed)
        return true, false, typed

    def _lower(self, node: ast.Node, typed: Typed) -> tuple[Condition, Condition]:
        if typed.const:
            return (ALWAYS, NEVER) if typed.value else (NEVER, ALWAYS)
        if isinstance(node, ast.Unary) and node.op == "not":
            t, f = self._lower(node.operand, self.check(node.operand))
            return f, t
        if isinstance(node, ast.Binary) and node.op in ("and", "or"):
            lt, lf = self._lower(node.left, self.check(node.left))
            rt, rf = self._lower(node.right, self.check(node.right))
            if node.op == "and":
                return _all(lt, rt), _any(lf, rf)
            return _any(lt, rt), _all(lf, rf)
        if isinstance(node, ast.Path) and typed.fact is not None:
            key = self.keys.fact_key(typed.fact.name, "bool")
            return Compare(key, "==", True), Compare(key, "==", False)
        if isinstance(node, ast.Call) and node.name == "exists" and isinstance(node.args[0], ast.Path):
            arg = self.check(node.args[0])
            assert arg.fact is not None
            key = self.keys.fact_key(arg.fact.name, arg.type)
            return Present(key, True), Present(key, False)
        if isinstance(node, ast.Binary) and node.op in COMPARISONS:
            direct = self._lower_compare(node)
            if direct is not None:
                return direct
        if isinstance(node, ast.Binary) and node.op in ("in", "not in"):
            direct = self._lower_membership(node)
            if direct is not None:
                return direct
        key = self.keys.derived_key(self.scope, typed.fn, "bool")
        return Compare(key, "==", True), Compare(key, "==", False)

    def _operand_key(self, typed: Typed) -> str | None:
        """Engine key for a fact or a derived (non-constant) value."""
        if typed.const:
            return None
        if typed.fact is not None and isinstance(typed.node, ast.Path):
            return self.keys.fact_key(typed.fact.name, typed.type)
        return self.keys.derived_key(self.scope, typed.fn, typed.type)

    def _lower_compare(self, node: ast.Binary) -> tuple[Condition, Condition] | None:
        left, right = self._unify(self.check(node.left), self.check(node.right), node)
        op = node.op
        if left.const and not right.const:
            left, right, op = right, left, _FLIP[op]
        if not right.const or left.const:
            return None
        key = self._operand_key(left)
        assert key is not None
        if right.type == "null":
            present = op == "!="
            return Present(key, present), Present(key, not present)
        value = _engine_scalar(right.value, right.type)
        return Compare(key, op, value), Compare(key, _NEGATE[op], value)  # type: ignore[arg-type]

    def _lower_membership(self, node: ast.Binary) -> tuple[Condition, Condition] | None:
        right = self.check(node.right)
        left = adopt(self.check(node.left), right.elem_type or "string")
        if left.const:
            return None
        key = self._operand_key(left)
        assert key is not None
        values = [_engine_scalar(v, left.type) for v in right.value]
        is_in: Condition = AnyOf(tuple(Compare(key, "==", v) for v in values))
        not_in: Condition = AllOf(tuple(Compare(key, "!=", v) for v in values)) if values else Present(key, True)
        return (is_in, not_in) if node.op == "in" else (not_in, is_in)


def adopt(typed: Typed, type_: str) -> Typed:
    """A free attribute (type ``any``) takes the type the expression uses it with; anything else is
    returned as it is."""
    if typed.type != "any" or typed.fact is None or type_ in ("any", "null", "list"):
        return typed
    name = typed.fact.name

    def read(get: Getter, _n: str = name, _t: str = type_) -> Any:
        return get(_n, _t)

    return Typed(type_, read, typed.node, typed.facts, fact=typed.fact)


def _constant(value: Any) -> Evaluator:
    return lambda get: value


def _in_range(value: Any) -> bool:
    """Whether a folded number or duration has a value both backends can compare with: not None (a division by
    zero, an int too large for a float beside a float), finite and within a float's range."""
    try:
        return value is not None and math.isfinite(value)
    except OverflowError:  # an int beyond any float: 1e308 * 10
        return False


def _no_facts(name: str, type_: str) -> Any:
    return None


def _null_check(fn: Evaluator, want_null: bool) -> Evaluator:
    return lambda get: (fn(get) is None) is want_null


def _engine_scalar(value: Any, type_: str) -> Scalar:
    if type_ == "timestamp" and not isinstance(value, (int, float)):
        raise CheckError("SR202", "timestamps can only be compared with timestamps", 0)
    return value  # type: ignore[no-any-return]


def _flatten(cls: type[AllOf] | type[AnyOf], items: tuple[Condition, ...]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for item in items:
        if isinstance(item, cls) and isinstance(item, (AllOf, AnyOf)):
            out.extend(item.items)
        else:
            out.append(item)
    return tuple(out)


def _all(*items: Condition) -> Condition:
    if any(i == NEVER for i in items):
        return NEVER
    kept = _flatten(AllOf, tuple(i for i in items if i != ALWAYS))
    return kept[0] if len(kept) == 1 else AllOf(kept)


def _any(*items: Condition) -> Condition:
    if any(i == ALWAYS for i in items):
        return ALWAYS
    kept = _flatten(AnyOf, tuple(i for i in items if i != NEVER))
    return kept[0] if len(kept) == 1 else AnyOf(kept)


all_of = _all
any_of = _any
