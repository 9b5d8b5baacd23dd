"""The condition language: tokenizer and parser (never ``eval``).

Grammar (lowest precedence first)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | compare
    compare  := coalesce (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "matches" | "mentions") coalesce)?
    coalesce := sum ("??" sum)*
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | DURATION | STRING | "true" | "false" | "null" | "[" items "]" | "(" expr ")"
              | NAME "(" args ")" | NAME ("." NAME)*

``4h``, ``30m``, ``2d``, ``1h30m`` are durations (seconds). Paths are null-safe: ``customer.name`` is null
when the interaction has no customer; ``a ?? b`` is ``a`` unless it is null, then ``b``. Every node carries the character span it came from, so errors point
at the exact column in the YAML file.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterator, Union

from servicerules._durations import parse_duration

__all__ = [
    "Binary",
    "Call",
    "ExprSyntaxError",
    "ListLit",
    "Literal",
    "Node",
    "Path",
    "Unary",
    "parse_expression",
]


class ExprSyntaxError(Exception):
    def __init__(self, message: str, offset: int, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


def _number(tok: "_Tok") -> int | float:
    """A number literal's value: a whole number written without a point is an exact int (``1e20`` is
    ``10**20``, ``9007199254740993`` is not rounded to the nearest float); one beyond a float's range is an
    error, as no value of a fact could be compared with it in both backends."""
    value = float(tok.text)
    if not math.isfinite(value):
        raise ExprSyntaxError(f"number '{tok.text}' is too large", tok.start, "numbers go up to about 1.8e308")
    exact = Decimal(tok.text)
    if "." in tok.text or exact != exact.to_integral_value():
        return value
    return int(exact)


@dataclass(frozen=True, slots=True)
class Literal:
    value: object  # float/int, str, bool, None
    kind: str  # "number", "duration", "string", "bool", "null"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple["Node", ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Path:
    parts: tuple[str, ...]
    start: int
    end: int

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not", "-"
    operand: "Node"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"
    start: int
    end: int
    op_start: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple["Node", ...]
    start: int
    end: int


Node = Union[Literal, ListLit, Path, Unary, Binary, Call]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<duration>\d+(?:\.\d+)?(?:w|d|h|m|s)(?:\d+(?:\.\d+)?(?:w|d|h|m|s))*(?![A-Za-z0-9_]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z_]))
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>\?\?|==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "matches", "mentions", "true", "false", "null"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "matches", "mentions"}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            hint = "use == for comparison" if char == "=" else None
            if char in "&|!":
                hint = "write 'and', 'or', 'not'"
            if char in "\"'":
                raise ExprSyntaxError("unterminated string", pos, "close the string with the same quote")
            raise ExprSyntaxError(f"unexpected character '{char}'", pos, hint)
        kind = match.lastgroup or ""
        if kind != "ws":
            token_text = match.group()
            if kind == "name" and token_text in _KEYWORDS:
                kind = "kw"
            tokens.append(_Tok(kind, token_text, match.start(), match.end()))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text), len(text)))
    return tokens


def _unquote(raw: str, start: int) -> str:
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                # regular expressions keep their backslashes: "\d" stays \d
                out.append("\\" + nxt)
            else:
                out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @contextmanager
    def nested(self, tok: _Tok) -> Iterator[None]:
        """Parses what ``tok`` opens (a parenthesis, a list, a call, a ``not``, a minus) one level deeper."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _too_deep(tok.start)
        try:
            yield
        finally:
            self.depth -= 1

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.index]

    def take(self) -> _Tok:
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "kw") and self.tok.text in texts

    def expect(self, text: str) -> _Tok:
        if not self.at(text):
            found = self.tok.text or "end of expression"
            raise ExprSyntaxError(f"expected '{text}' but found '{found}'", self.tok.start)
        return self.take()

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprSyntaxError("empty expression", 0, "write a condition such as first_reply_time > 4h")
        node = self.parse_or()
        if self.tok.kind != "end":
            hint = None
            if self.tok.kind in ("name", "number", "duration", "string"):
                hint = "an operator such as 'and', 'or' or '==' is missing before it"
            raise ExprSyntaxError(f"unexpected '{self.tok.text}'", self.tok.start, hint)
        return node

    def parse_or(self) -> Node:
        operands, ops = [self.parse_and()], []
        while self.at("or"):
            ops.append(self.take())
            operands.append(self.parse_and())
        return _balanced("or", operands, ops)

    def parse_and(self) -> Node:
        operands, ops = [self.parse_not()], []
        while self.at("and"):
            ops.append(self.take())
            operands.append(self.parse_not())
        return _balanced("and", operands, ops)

    def parse_not(self) -> Node:
        if self.at("not"):
            op = self.take()
            with self.nested(op):
                operand = self.parse_not()
            return Unary("not", operand, op.start, node_end(operand))
        return self.parse_compare()

    def parse_compare(self) -> Node:
        left = self.parse_coalesce()
        if self.at("not") and self.tokens[self.index + 1].text == "in":
            op = self.take()
            self.take()
            right = self.parse_coalesce()
            return Binary("not in", left, right, node_start(left), node_end(right), op.start)
        if self.tok.kind in ("op", "kw") and self.tok.text in _COMPARISONS:
            op = self.take()
            right = self.parse_coalesce()
            if self.tok.kind in ("op", "kw") and self.tok.text in _COMPARISONS:
                raise ExprSyntaxError(
                    f"comparisons cannot be chained ('{self.tok.text}' after '{op.text}')",
                    self.tok.start,
                    "join two comparisons with 'and'",
                )
            return Binary(op.text, left, right, node_start(left), node_end(right), op.start)
        return left

    def parse_coalesce(self) -> Node:
        node = self.parse_sum()
        while self.at("??"):
            op = self.take()
            right = self.parse_sum()
            node = Binary("??", node, right, node_start(node), node_end(right), op.start)
        return node

    def parse_sum(self) -> Node:
        node = self.parse_product()
        while self.at("+", "-"):
            op = self.take()
            right = self.parse_product()
            node = Binary(op.text, node, right, node_start(node), node_end(right), op.start)
        return node

    def parse_product(self) -> Node:
        node = self.parse_unary()
        while self.at("*", "/"):
            op = self.take()
            right = self.parse_unary()
            node = Binary(op.text, node, right, node_start(node), node_end(right), op.start)
        return node

    def parse_unary(self) -> Node:
        if self.at("-"):
            op = self.take()
            with self.nested(op):
                operand = self.parse_unary()
            return Unary("-", operand, op.start, node_end(operand))
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return Literal(_number(tok), "number", tok.start, tok.end)
        if tok.kind == "duration":
            self.take()
            seconds = parse_duration(tok.text)
            if not math.isfinite(seconds):
                raise ExprSyntaxError(f"duration '{tok.text}' is too large", tok.start, "durations go up to about 1.8e308 seconds")
            return Literal(seconds, "duration", tok.start, tok.end)
        if tok.kind == "string":
            self.take()
            return Literal(_unquote(tok.text, tok.start), "string", tok.start, tok.end)
        if tok.kind == "kw" and tok.text in ("true", "false"):
            self.take()
            return Literal(tok.text == "true", "bool", tok.start, tok.end)
        if tok.kind == "kw" and tok.text == "null":
            self.take()
            return Literal(None, "null", tok.start, tok.end)
        if self.at("("):
            open_tok = self.take()
            with self.nested(open_tok):
                inner = self.parse_or()
            close = self.expect(")")
            # the span of a parenthesised expression includes its parentheses
            return replace(inner, start=open_tok.start, end=close.end)
        if self.at("["):
            open_tok = self.take()
            items: list[Node] = []
            with self.nested(open_tok):
                while not self.at("]"):
                    items.append(self.parse_sum())
                    if not self.at("]"):
                        self.expect(",")
            close = self.take()
            return ListLit(tuple(items), open_tok.start, close.end)
        if tok.kind == "name":
            self.take()
            if self.at("("):
                self.take()
                args: list[Node] = []
                with self.nested(tok):
                    while not self.at(")"):
                        args.append(self.parse_or())
                        if not self.at(")"):
                            self.expect(",")
                close = self.take()
                return Call(tok.text, tuple(args), tok.start, close.end)
            parts = [tok.text]
            end = tok.end
            while self.at("."):
                self.take()
                part = self.tok
                if part.kind not in ("name", "kw"):
                    raise ExprSyntaxError("expected a name after '.'", part.start)
                self.take()
                parts.append(part.text)
                end = part.end
            return Path(tuple(parts), tok.start, end)
        if tok.kind == "end":
            raise ExprSyntaxError("expression ends too early", tok.start, "an operand is missing at the end")
        raise ExprSyntaxError(f"unexpected '{tok.text}'", tok.start)


def node_start(node: Node) -> int:
    return node.start


def node_end(node: Node) -> int:
    return node.end


def _balanced(op: str, operands: list[Node], ops: list[_Tok]) -> Node:
    """``a op b op c op d`` as ``(a op b) op (c op d)``: ``and`` and ``or`` are associative (also in three-valued
    logic, and evaluated left to right either way), and a chain of a thousand alternatives a generator wrote
    is then ten levels deep, not a thousand, for every stage that walks the tree."""
    if len(operands) == 1:
        return operands[0]
    middle = len(operands) // 2
    left = _balanced(op, operands[:middle], ops[: middle - 1])
    right = _balanced(op, operands[middle:], ops[middle:])
    return Binary(op, left, right, node_start(left), node_end(right), ops[middle - 1].start)


MAX_NESTING = 50
"""How deeply an expression may nest: parentheses, lists, calls, ``not`` and minus signs inside each other,
and chains of ``+ - * / ??`` (each operator one level). Compiling and evaluating walk the tree recursively;
far below Python's recursion limit, with room for the caller's own stack."""


def _too_deep(offset: int) -> ExprSyntaxError:
    return ExprSyntaxError(
        f"expression nested more than {MAX_NESTING} levels deep", offset,
        "split it into several rules or conditions, or use 'in [...]' for a long list of alternatives",
    )


def _depth_at(node: Node) -> int | None:
    """The offset of the first node nested more than MAX_NESTING levels deep, or None (without recursion)."""
    stack: list[tuple[Node, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_NESTING:
            return current.start
        if isinstance(current, Binary):
            stack.append((current.right, depth + 1))
            stack.append((current.left, depth + 1))
        elif isinstance(current, Unary):
            stack.append((current.operand, depth + 1))
        elif isinstance(current, (ListLit, Call)):
            children = current.items if isinstance(current, ListLit) else current.args
            stack.extend((child, depth + 1) for child in reversed(children))
    return None


def parse_expression(text: str) -> Node:
    """Parse ``text``; raises :class:`ExprSyntaxError` with the offset of the problem."""
    node = _Parser(text).parse()
    offset = _depth_at(node)  # chains of operators the parser reads in a loop
    if offset is not None:
        raise _too_deep(offset)
    return node
