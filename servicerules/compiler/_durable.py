"""The durable_rules backend: matches an :class:`~servicerules.compiler.ir.IRProgram` with the Rete network
of the ``durable_rules_engine`` C extension.

This is the only module of servicerules that imports durable_rules. It drives the C module directly
(never ``durable.lang`` nor ``durable.engine.Host``, see docs/explanation/durable-rules.md and the notes
on its traps). It returns exactly the firings of :class:`~servicerules.compiler.reference.ReferenceBackend`.

How the IR is lowered
---------------------

*Values are rank-encoded.* The engine coerces types loosely (``True == 1``, ``"20000" == 20000``,
``"email" > 1``), cannot parse floats in exponent form, rejects non-finite numbers and compares mixed
int/float values as doubles. So no IR value ever reaches the engine as such. For every fact key the
backend sorts the constants the program compares it with, per type class (number, str, bool), and
sends each fact value as a small non-negative integer *code*: constant ``i`` of a class is
``base + 2*i + 1``, a value between constants ``i-1`` and ``i`` is ``base + 2*i``. Each type class has
its own disjoint code range, so a comparison whose value has another type class is never TRUE (the
reference semantics), and equality and ordering of codes are exactly Python's equality and ordering of
the values (computed in Python with ``bisect`` on the sorted constants: ``-0.0 == 0``, ``1 == 1.0``,
``2**53 + 1 != 2.0**53``, ints of any size, strings with quotes, backslashes, control characters or any
Unicode). Rule constants become codes too, so every number the engine parses is a short integer.
Non-finite floats (which the IR never sends) raise :class:`ValueError`; values of other types (never
sent either) are present but equal to nothing, as in the reference backend.

*Conditions are expanded to DNF.* The engine expands ``$or`` into one activation per matching branch
and fails with error 303 when more than 64 activations hit one fact. The backend therefore expands each
condition into its disjunctive normal form itself, merges the constraints of a branch per key into an
interval (dropping contradictory branches), merges the branches of a rule that differ in one key only
(``channel in ["email", "web", "chat"]`` expands to one branch per value; their codes become one interval
with a few ``$neq``), and registers every branch as its own engine rule. A program is split into
several engine rulesets ("handles") of at most ``rules_per_handle`` branches (default and maximum 63)
plus a catch-all rule, so even a fact that matches every rule of a handle stays within the activation
limit, and no ruleset comes near the ~512-rule hang. (The engine's limit is a stack of 64 alpha nodes
pending for one fact; nodes pending at once are never ancestors of one another, so each leads to a rule
of its own: 64 rules can never exceed it.) Fewer engine rules mean fewer handles, and every fact is
asserted, drained and retracted once per handle of its kind: the charter's interaction rules went from
two handles to one. ``ALWAYS`` becomes a
rule that only tests the fact kind; ``NEVER`` (no branch) is omitted. A rule whose branches overlap
fires once per matching branch; the backend de-duplicates.

*Facts.* Every fact carries a unique sequence number ``q`` (identical facts in one session are dropped
as duplicates; distinct facts occasionally too, upstream issue #376) and is routed by its ``kind`` to
the handles of that scope; every rule still tests ``kind`` and ``$nex: $s`` (the engine's own state
fact must never match). A catch-all rule on ``q`` matches every asserted fact, so every assert has an
action to drain (deleting a session whose facts were not handled crashes the engine) and the backend
can check that every fact arrived: a fact whose catch-all did not fire is re-asserted with a new
sequence number.

*Sessions.* Creating an engine session costs about as much as matching a fact against 60 rules
(its per-rule memory is allocated and cleared; with glibc's default trim threshold, freeing it again
also returns the heap top to the system on every session, which made throughput swing 3-5x from run to
run). The backend therefore keeps one session (``sid``) per
handle and reuses it: an interaction's facts are asserted, every action is drained, then the facts are
retracted, so the session is empty again before the next interaction and a fact of one interaction
can never take part in another (every rule matches a single fact, and any action naming an unknown
fact raises :class:`EngineError`). Every :data:`SESSION_INTERACTIONS` interactions, after any
irregularity and on :meth:`DurableBackend.close` the session is deleted: at most one live sid per
handle, far below the engine's limit of 1024. ``match_many`` matches its interactions one after the
other under one lock acquisition per chunk: asserting many sessions in one ``assert_facts`` call and
draining them with ``start_action`` was measured 2-10x slower (``start_action`` scans the sessions).

*Threads.* One lock per backend serialises every engine call sequence; the C calls hold the GIL, so
threads give correct results but no speed-up.

*Fork.* A process forked while another thread held that lock would inherit it held, by a thread that does
not exist in the child: its first evaluation would wait forever. After a fork the child gets new locks,
and a backend whose lock was held starts a new session, since the interaction being matched was left
half asserted (each C call holds the GIL, so the engine itself is never forked mid-call).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

from servicerules.compiler.ir import (
    BOOL,
    KIND_KEY,
    MAX_BRANCHES,
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
    Scope,
    type_class,
)

try:  # pragma: no branch - which arm runs depends on the interpreter
    import durable_rules_engine as _engine  # type: ignore[import-not-found, unused-ignore]
except Exception:  # noqa: BLE001 - ImportError, or an extension built for another Python that fails to load
    _engine = None

AVAILABLE: bool = _engine is not None
"""Whether the ``durable_rules_engine`` C extension imports in this interpreter."""

__all__ = [
    "AVAILABLE",
    "SESSION_INTERACTIONS",
    "DEFAULT_RULES_PER_HANDLE",
    "MAX_BRANCHES_PER_RULE",
    "MAX_RULES_PER_HANDLE",
    "DurableBackend",
    "EngineError",
]

MAX_RULES_PER_HANDLE = 63
"""The engine fails (error 303) when more than 64 activations hit one fact; the catch-all is one."""

DEFAULT_RULES_PER_HANDLE = MAX_RULES_PER_HANDLE

MAX_BRANCHES_PER_RULE = MAX_BRANCHES
"""Limit of the DNF expansion of one engine rule (a larger condition raises ValueError)."""

SESSION_INTERACTIONS = 256
"""Interactions matched in one engine session before it is deleted and a new one started."""

_MATCH_MANY_CHUNK = 256
"""Interactions matched per lock acquisition in ``match_many`` (lets other threads interleave)."""

_MAX_RETRIES = 3

_CACHED_FACTS = 256
"""Firing objects are cached for the first facts of an interaction."""

_CATCH_ALL = "all"
_NAME_WIDTH = 3
"""Every engine rule name of a handle has 3 characters (``r00``..``r62`` and the catch-all ``all``), so
the rule of an action message is ``message[2:5]`` and its fact's sequence number starts at a fixed offset."""
_SEQ = "q"
_SEQ_TAG_AT = 2 + _NAME_WIDTH + len('":{"m":{')
"""Where an action message's fact begins with its sequence field (``"q":17``)."""
_SEQ_AT = _SEQ_TAG_AT + len(f'"{_SEQ}":')

_handle_names = itertools.count(1)
_ERROR_CODE = re.compile(r"error code:?\s*(-?\d+)")


class EngineError(RuntimeError):
    """An error reported by the durable_rules C engine (an exception or a non-zero result code)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        self.engine_message = message
        where = "durable_rules engine error" + (f" {code}" if code is not None else "")
        super().__init__(f"{where}: {message}")

    @classmethod
    def from_exception(cls, exc: BaseException, action: str) -> EngineError:
        text = str(exc) or type(exc).__name__
        found = _ERROR_CODE.search(text)
        code = int(found.group(1)) if found else None
        if code is None and isinstance(exc, MemoryError):
            text = f"{text} (out of memory, or more than 1024 live sessions in one ruleset)"
        return cls(f"{action}: {text}", code)


# --------------------------------------------------------------------------------------------------
# Value encoding
# --------------------------------------------------------------------------------------------------

_NUM, _STR, _BOOL = 0, 1, 2
_OTHER_CODE = -1
"""Code of a value of no type class (below every code range: present, equal to nothing)."""


_CODE_OF_CLASS: dict[str | None, int] = {NUMBER: _NUM, STRING: _STR, BOOL: _BOOL}


def _type_class(value: object) -> int | None:
    """The code range of a value's :func:`~servicerules.compiler.ir.type_class`."""
    return _CODE_OF_CLASS.get(type_class(value))


def _plain(value: Any, cls: int) -> Any:
    """A subclass value (str-valued Enum, IntEnum...) as its plain str/int/float: its hash may differ."""
    if cls == _STR and type(value) is not str:
        return str.__str__(value)
    if cls == _NUM and type(value) is not int and type(value) is not float:
        return int.__int__(value) if isinstance(value, int) else float.__float__(value)
    return value


def _unique_sorted(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in sorted(values):
        if not out or out[-1] != value:
            out.append(value)
    return out


class _KeyCodec:
    """Codes of one fact key: three disjoint ranges (number, str, bool) of ``2*m + 1`` codes each."""

    __slots__ = ("key", "field", "sorted", "exact", "base", "top")

    def __init__(self, key: str, field: str, constants: list[list[Any]]) -> None:
        self.key = key
        self.field = field
        self.sorted: list[list[Any]] = []
        self.exact: list[dict[Any, int]] = []
        self.base: list[int] = []
        self.top: list[int] = []
        base = 0
        for cls in (_NUM, _STR, _BOOL):
            values = [False, True] if cls == _BOOL else _unique_sorted(constants[cls])
            self.sorted.append(values)
            self.exact.append({value: base + 2 * i + 1 for i, value in enumerate(values)})
            self.base.append(base)
            self.top.append(base + 2 * len(values))
            base += 2 * len(values) + 1

    def constant_code(self, cls: int, value: Any) -> int:
        return self.exact[cls][value]

    def encode(self, value: Any) -> int:
        """The code of any value (the slow path: subclasses, non-finite numbers, foreign types)."""
        cls = _type_class(value)
        if cls is None:
            return _OTHER_CODE
        if cls == _NUM and isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"fact key {self.key!r}: non-finite number {value!r} can not be matched")
        value = _plain(value, cls)
        code = self.exact[cls].get(value)
        if code is None:
            code = self.base[cls] + 2 * bisect.bisect_left(self.sorted[cls], value)
        return code


class _FieldTable:
    """The JSON pieces a key's values encode to, precomputed for the hot path."""

    __slots__ = ("prefix", "num_exact", "num_sorted", "num_gap", "str_exact", "str_sorted", "str_gap", "false", "true")

    def __init__(self, codec: _KeyCodec) -> None:
        prefix = f',"{codec.field}":'
        self.prefix = prefix
        self.num_sorted = codec.sorted[_NUM]
        self.num_exact = {value: f"{prefix}{code}" for value, code in codec.exact[_NUM].items()}
        self.num_gap = [f"{prefix}{codec.base[_NUM] + 2 * i}" for i in range(len(self.num_sorted) + 1)]
        self.str_sorted = codec.sorted[_STR]
        self.str_exact = {value: f"{prefix}{code}" for value, code in codec.exact[_STR].items()}
        self.str_gap = [f"{prefix}{codec.base[_STR] + 2 * i}" for i in range(len(self.str_sorted) + 1)]
        self.false = f"{prefix}{codec.exact[_BOOL][False]}"
        self.true = f"{prefix}{codec.exact[_BOOL][True]}"

    @classmethod
    def of(cls, codec: _KeyCodec) -> _FieldTable:
        return cls(codec)


# --------------------------------------------------------------------------------------------------
# Conditions: DNF over per-key code constraints
# --------------------------------------------------------------------------------------------------

# A literal: ("cmp", key, op, type class, value) or ("present", key, bool).
_Literal = tuple[Any, ...]
_Branch = frozenset[_Literal]


def _literals(condition: Condition) -> list[_Branch]:
    """The DNF of a condition: a list of conjunctions (each a set of literals)."""
    if isinstance(condition, Compare):
        cls = _type_class(condition.value)
        if cls is None:
            raise TypeError(f"Compare value must be a bool, int, float or str, got {condition.value!r}")
        if cls == _NUM and isinstance(condition.value, float) and not math.isfinite(condition.value):  # not an int: 10**400 has no float
            raise ValueError(f"Compare on {condition.key!r}: non-finite constant {condition.value!r}")
        if condition.op not in ("==", "!=", "<", "<=", ">", ">="):
            raise ValueError(f"unknown comparison operator {condition.op!r}")
        return [frozenset({("cmp", condition.key, condition.op, cls, _plain(condition.value, cls))})]
    if isinstance(condition, Present):
        return [frozenset({("present", condition.key, bool(condition.present))})]
    if isinstance(condition, AllOf):
        branches: list[_Branch] = [frozenset()]
        for item in condition.items:
            item_branches = _literals(item)
            if len(branches) * len(item_branches) > MAX_BRANCHES_PER_RULE:
                raise ValueError(
                    f"condition too complex for the durable_rules backend (more than {MAX_BRANCHES_PER_RULE}"
                    " alternatives in disjunctive normal form); use the reference backend"
                )
            branches = list(dict.fromkeys(a | b for a in branches for b in item_branches))
        return branches
    if isinstance(condition, AnyOf):
        out: list[_Branch] = []
        for item in condition.items:
            out.extend(_literals(item))
            if len(out) > MAX_BRANCHES_PER_RULE:
                raise ValueError(
                    f"condition too complex for the durable_rules backend (more than {MAX_BRANCHES_PER_RULE}"
                    " alternatives in disjunctive normal form); use the reference backend"
                )
        return list(dict.fromkeys(out))
    raise TypeError(f"not an IR condition: {condition!r}")


@dataclass
class _KeyConstraint:
    lo: int = -(2**62)
    hi: int = 2**62
    excluded: set[int] | None = None
    present: bool | None = None  # True: must exist, False: must be absent, None: no presence literal
    ranged: bool = False


def _constraint_expr(field: str, c: _KeyConstraint) -> list[dict[str, Any]] | None:
    """Engine tests for one key of a branch; None if the branch can never be TRUE."""
    if c.present is False:
        if c.ranged:
            return None
        return [{"$nex": {field: 1}}]
    if not c.ranged:
        return [{"$ex": {field: 1}}]
    excluded = sorted(x for x in (c.excluded or ()) if c.lo <= x <= c.hi)
    if c.lo > c.hi or len(excluded) >= c.hi - c.lo + 1:
        return None
    lo, hi = c.lo, c.hi
    # Tighten the interval past excluded end points.
    ex = set(excluded)
    while lo in ex:
        lo += 1
    while hi in ex:
        hi -= 1
    if lo == hi:
        return [{field: lo}]
    tests: list[dict[str, Any]] = [{"$gte": {field: lo}}, {"$lte": {field: hi}}]
    inner = [x for x in excluded if lo < x < hi]
    if inner:
        # ``!=``: the key must be present (the engine agrees today, but do not rely on it).
        tests.insert(0, {"$ex": {field: 1}})
        tests.extend({"$neq": {field: x}} for x in inner)
    return tests


def _branch_constraints(branch: _Branch, codecs: dict[str, _KeyCodec]) -> dict[str, _KeyConstraint] | None:
    """A branch's literals as one constraint per key; None if two presence literals contradict."""
    per_key: dict[str, _KeyConstraint] = {}
    for literal in branch:
        key = literal[1]
        c = per_key.setdefault(key, _KeyConstraint())
        if literal[0] == "present":
            want = literal[2]
            if c.present is not None and c.present != want:
                return None
            c.present = want
            continue
        _, _, op, cls, value = literal
        codec = codecs[key]
        code = codec.constant_code(cls, value)
        lo, hi = codec.base[cls], codec.top[cls]
        if op == "==":
            lo = hi = code
        elif op == "<":
            hi = code - 1
        elif op == "<=":
            hi = code
        elif op == ">":
            lo = code + 1
        elif op == ">=":
            lo = code
        elif op == "!=":
            if c.excluded is None:
                c.excluded = set()
            c.excluded.add(code)
        c.lo = max(c.lo, lo)
        c.hi = min(c.hi, hi)
        c.ranged = True
    return per_key


# A branch's constraint on one key as a value that can be compared and merged: ("absent",), ("present",) or
# ("codes", allowed), the non-empty set of codes the key's value may have (always within one type class).
_Term = tuple[Any, ...]
_ABSENT: _Term = ("absent",)
_PRESENT: _Term = ("present",)
_ANY: _Term = ("any",)
"""Only as a union: any value or none, i.e. no constraint on the key."""

_MAX_MERGED_EXCLUSIONS = 8
"""Branches are merged into one engine rule only while its interval needs at most this many ``$neq`` tests."""

_MAX_MERGED_BRANCHES = 64
"""Rules with more DNF branches are registered branch by branch (merging compares every pair)."""


def _terms(per_key: dict[str, _KeyConstraint]) -> dict[str, _Term] | None:
    """Each key's constraint as a term; None when one can never hold (an empty interval, ranged and absent)."""
    terms: dict[str, _Term] = {}
    for key, c in per_key.items():
        if not c.ranged:
            terms[key] = _ABSENT if c.present is False else _PRESENT
            continue
        if c.present is False or c.lo > c.hi:
            return None
        allowed = frozenset(range(c.lo, c.hi + 1)) - (c.excluded or set())
        if not allowed:
            return None
        terms[key] = ("codes", allowed)
    return terms


def _union(a: _Term, b: _Term) -> _Term | None:
    """The term TRUE where ``a`` or ``b`` is (:data:`_ANY` for no constraint); None if not expressible."""
    if a == b:
        return a
    if {a[0], b[0]} == {"absent", "present"}:
        return _ANY
    if a[0] == "absent" or b[0] == "absent":
        return None
    if a[0] == "present" or b[0] == "present":
        return _PRESENT  # a present key holds some value: "present or one of these values" is "present"
    allowed = a[1] | b[1]
    if max(allowed) - min(allowed) + 1 - len(allowed) > _MAX_MERGED_EXCLUSIONS:
        return None
    return ("codes", allowed)


def _merged(a: dict[str, _Term], b: dict[str, _Term]) -> dict[str, _Term] | None:
    """One branch TRUE exactly where ``a`` or ``b`` is, when they differ in the term of one key only."""
    if a.keys() != b.keys():
        return None
    differing = [key for key in a if a[key] != b[key]]
    if len(differing) != 1:
        return None
    (key,) = differing
    term = _union(a[key], b[key])
    if term is None:
        return None
    merged = dict(a)
    if term == _ANY:
        del merged[key]
    else:
        merged[key] = term
    return merged


def _merge_branches(branches: list[dict[str, _Term]]) -> list[dict[str, _Term]]:
    """Merge branches that differ in one key's constraint (``channel in ["email", "web"]`` expands to two
    branches, one per value; their codes then form one interval with a few ``$neq``): fewer engine rules,
    so a program needs fewer engine rulesets, and each fact is asserted into fewer of them."""
    if len(branches) > _MAX_MERGED_BRANCHES:
        return branches
    out = list(branches)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                merged = _merged(out[i], out[j])
                if merged is not None:
                    out[i] = merged
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return out


def _terms_expr(terms: dict[str, _Term], codecs: dict[str, _KeyCodec]) -> list[dict[str, Any]] | None:
    """Engine tests for a branch given as terms, keys in sorted order; None if it can never be TRUE."""
    tests: list[dict[str, Any]] = []
    for key in sorted(terms):
        term = terms[key]
        if term[0] == "codes":
            allowed = term[1]
            lo, hi = min(allowed), max(allowed)
            c = _KeyConstraint(lo, hi, set(range(lo, hi + 1)) - allowed, None, True)
        else:
            c = _KeyConstraint(present=term == _PRESENT)
        key_tests = _constraint_expr(codecs[key].field, c)
        if key_tests is None:
            return None
        tests.extend(key_tests)
    return tests


# --------------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------------


@dataclass
class _Handle:
    handle: int | None
    name: str
    kind: str
    rule_of: dict[str, int]
    """Engine rule name in this ruleset -> index of the IR engine rule (-1: the catch-all)."""
    live: bool = False
    """Whether the backend's current session exists in this ruleset (must be deleted eventually)."""


_live_backends: weakref.WeakSet[DurableBackend] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for backend in list(_live_backends):
        backend._after_fork()


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX system has it
    os.register_at_fork(after_in_child=_after_fork_in_child)


class DurableBackend:
    """Matches facts with durable_rules; returns exactly the firings of the reference backend.

    ``rules_per_handle`` caps the engine rules (DNF branches) of each engine ruleset, at most
    :data:`MAX_RULES_PER_HANDLE`. Raises :class:`ValueError` for a program the engine can not match
    exactly (non-finite constants, a condition with more than :data:`MAX_BRANCHES_PER_RULE` branches)
    and :class:`EngineError` when the engine fails. Thread-safe: one lock per backend serialises the
    engine calls. Close it (or use it as a context manager) to delete its engine rulesets.
    """

    name: str = "durable_rules"

    def __init__(
        self,
        program: IRProgram,
        *,
        rules_per_handle: int = DEFAULT_RULES_PER_HANDLE,
    ) -> None:
        if _engine is None:
            raise RuntimeError("the durable_rules C extension (durable_rules_engine) does not import here")
        if not 1 <= rules_per_handle <= MAX_RULES_PER_HANDLE:
            raise ValueError(f"rules_per_handle must be between 1 and {MAX_RULES_PER_HANDLE}")
        self.program = program
        self._lock = threading.Lock()
        self._closed = False
        _live_backends.add(self)
        self._handles: list[_Handle] = []
        self._n_rules = len(program.engine_rules)
        self._firings: list[Firing] = []
        """``Firing(rule, fact_index)`` at ``fact_index * len(engine_rules) + rule``, for the first facts."""
        self._firings_lock = threading.Lock()
        self._seq = 1
        self._sessions = itertools.count(1)
        self._sid = str(next(self._sessions))
        self._sid_uses = 0

        # 1. DNF of every engine rule; collect the constants per key and type class.
        dnfs: list[list[_Branch]] = []
        constants: dict[str, list[list[Any]]] = {}
        for rule in program.engine_rules:
            branches = _literals(rule.condition)
            if frozenset() in branches:
                branches = [frozenset()]  # ALWAYS absorbs every other branch
            dnfs.append(branches)
            for branch in branches:
                for literal in branch:
                    per_class = constants.setdefault(literal[1], [[], [], []])
                    if literal[0] == "cmp":
                        per_class[literal[3]].append(literal[4])
        self._codecs: dict[str, _KeyCodec] = {
            key: _KeyCodec(key, f"k{j}", per_class) for j, (key, per_class) in enumerate(constants.items())
        }
        # Hot-path tables: per key and type class, the finished JSON piece (``,"k3":7``) of each constant
        # and of each gap between constants.
        self._fields: dict[str, _FieldTable] = {key: _FieldTable.of(c) for key, c in self._codecs.items()}

        # 2. One engine rule per satisfiable branch, grouped by scope, packed into handles.
        per_kind: dict[str, list[tuple[int, list[dict[str, Any]]]]] = {}
        for index, (rule, branches) in enumerate(zip(program.engine_rules, dnfs)):
            kind = Scope(rule.scope).kind
            seen: set[str] = set()
            terms: list[dict[str, _Term]] = []
            for branch in branches:
                per_key = _branch_constraints(branch, self._codecs)
                found = None if per_key is None else _terms(per_key)
                if found is not None:  # None: the branch can never be TRUE
                    terms.append(found)
            for branch_terms in _merge_branches(terms):
                tests = _terms_expr(branch_terms, self._codecs)
                if tests is None:
                    continue
                canonical = json.dumps(tests, sort_keys=True)
                if canonical in seen:
                    continue
                seen.add(canonical)
                per_kind.setdefault(kind, []).append((index, tests))
        try:
            for kind in sorted(per_kind):
                entries = per_kind[kind]
                for start in range(0, len(entries), rules_per_handle):
                    self._handles.append(self._create_handle(kind, entries[start : start + rules_per_handle]))
        except BaseException:
            self._delete_handles()
            raise
        self._kinds: dict[str, tuple[_Handle, ...]] = {
            kind: tuple(h for h in self._handles if h.kind == kind) for kind in per_kind
        }
        self._kind_prefix = {kind: f',"{KIND_KEY}":{json.dumps(kind)}' for kind in self._kinds}

    # -- construction ------------------------------------------------------------------------------

    def _create_handle(self, kind: str, entries: list[tuple[int, list[dict[str, Any]]]]) -> _Handle:
        assert _engine is not None
        ruleset: dict[str, Any] = {}
        rule_of: dict[str, int] = {}
        for local, (index, tests) in enumerate(entries):
            name = f"r{local:02d}"
            expr = {"$and": [{KIND_KEY: kind}, *tests, {"$nex": {"$s": 1}}]}
            ruleset[name] = {"all": [{"m": expr}], "pri": 1}
            rule_of[name] = index
        ruleset[_CATCH_ALL] = {"all": [{"m": {"$and": [{"$ex": {_SEQ: 1}}, {"$nex": {"$s": 1}}]}}], "pri": 2}
        name = f"servicerules_{next(_handle_names)}_{kind}"
        text = json.dumps(ruleset, ensure_ascii=True, allow_nan=False)
        try:
            handle = _engine.create_ruleset(name, text)
        except Exception as exc:  # noqa: BLE001 - durable_rules_engine.error and friends
            raise EngineError.from_exception(exc, f"create_ruleset {name}") from exc
        rule_of[_CATCH_ALL] = -1
        return _Handle(handle, name, kind, rule_of)

    # -- matching ----------------------------------------------------------------------------------

    def _encode(self, fact: Fact) -> str:
        """The fact's fields as JSON text (``,"k0":3,"k4":17``), without sequence, sid and kind."""
        # Booleans are tested first: most derived values are. A fact has a handful of fields, so
        # concatenating (in place, as CPython does for a local) is cheaper than joining a list.
        fields = self._fields
        encoded = ""
        for key, value in fact.items():
            table = fields.get(key)
            if table is None:
                continue
            t = type(value)
            if t is bool:
                encoded += table.true if value else table.false
            elif t is str:
                piece = table.str_exact.get(value)
                encoded += table.str_gap[bisect.bisect_left(table.str_sorted, value)] if piece is None else piece
            elif t is int or (t is float and math.isfinite(value)):  # type: ignore[arg-type]
                piece = table.num_exact.get(value)
                encoded += table.num_gap[bisect.bisect_left(table.num_sorted, value)] if piece is None else piece
            else:
                encoded += table.prefix + str(self._codecs[key].encode(value))
        return encoded

    def _route(self, facts: Sequence[Fact]) -> dict[str, list[tuple[int, str]]]:
        """Facts by kind (only kinds some engine rule matches), each as (fact index, encoded fields)."""
        routed: dict[str, list[tuple[int, str]]] = {}
        kinds = self._kinds
        for index, fact in enumerate(facts):
            kind = fact.get(KIND_KEY)
            if type(kind) is not str:
                kind = self._lookup_kind(kind)
                if kind is None:
                    continue
            elif kind not in kinds:
                continue
            encoded = self._encode(fact)
            bucket = routed.get(kind)
            if bucket is None:
                routed[kind] = [(index, encoded)]
            else:
                bucket.append((index, encoded))
        return routed

    def _lookup_kind(self, kind: object) -> str | None:
        for known in self._kinds:
            try:
                if kind == known:
                    return known
            except Exception:  # noqa: BLE001 - a foreign object whose __eq__ raises matches nothing
                return None
        return None

    def _after_fork(self) -> None:
        """In a forked child: locks that no thread holds. If a thread of the parent was matching, leave its
        session (its facts half asserted, its actions undrained: deleting it could abort) for a new one."""
        interrupted = self._lock.locked()
        self._lock = threading.Lock()
        self._firings_lock = threading.Lock()
        if interrupted and not self._closed:
            self._sid = str(next(self._sessions))
            self._sid_uses = 0
            for h in self._handles:
                h.live = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("DurableBackend is closed")

    def match(self, facts: Sequence[Fact]) -> list[Firing]:
        routed = self._route(facts)
        with self._lock:
            self._check_open()
            hits = self._match_routed(routed)
        return self._firings_of(hits)

    def match_many(self, batches: Sequence[Sequence[Fact]]) -> list[list[Firing]]:
        results: list[list[Firing]] = []
        for start in range(0, len(batches), _MATCH_MANY_CHUNK):
            chunk = [self._route(facts) for facts in batches[start : start + _MATCH_MANY_CHUNK]]
            with self._lock:
                self._check_open()
                hit_sets = [self._match_routed(routed) for routed in chunk]
            results.extend(self._firings_of(hits) for hits in hit_sets)
        return results

    def _firings_of(self, hits: list[int]) -> list[Firing]:
        if not hits:
            return []
        keys = sorted(set(hits))
        firings = self._firings
        if keys[-1] >= len(firings):
            self._cache_firings(keys[-1] // self._n_rules)
            if keys[-1] >= len(firings):
                n = self._n_rules
                return [firings[key] if key < len(firings) else Firing(key % n, key // n) for key in keys]
        return [firings[key] for key in keys]

    def _cache_firings(self, fact_index: int) -> None:
        """Extend the (immutable, shared) Firing objects up to ``fact_index``, at most to _CACHED_FACTS."""
        n = self._n_rules
        firings = self._firings
        with self._firings_lock:  # called outside the engine lock: two threads may extend the cache
            while len(firings) // n <= min(fact_index, _CACHED_FACTS - 1):
                row = len(firings) // n
                firings.extend(Firing(rule, row) for rule in range(n))

    def _match_routed(self, routed: dict[str, list[tuple[int, str]]]) -> list[int]:
        """Match one interaction in every handle. The lock is held.

        Returns ``fact_index * len(engine_rules) + engine_rule`` for each firing (with duplicates).
        """
        hits: list[int] = []
        if not routed:
            return hits
        sid = self._sid
        n = self._n_rules
        for kind, items in routed.items():
            first = self._seq
            self._seq = first + len(items)
            head = f',"sid":"{sid}"{self._kind_prefix[kind]}'
            texts: list[str] = []
            # A fact's sequence field as text (``"q":17``) -> fact index * len(engine_rules): the drain
            # loop looks up the field of an action message instead of parsing and checking the number.
            base_of: dict[str, int] = {}
            seq = first
            for index, encoded in items:
                tag = f'"{_SEQ}":{seq}'
                texts.append(f"{{{tag}{head}{encoded}}}")
                base_of[tag] = index * n
                seq += 1
            batch = "[" + ",".join(texts) + "]"
            for handle in self._kinds[kind]:
                self._run_session(handle, sid, items, batch, first, head, base_of, hits)
        self._sid_uses += 1
        if self._sid_uses >= SESSION_INTERACTIONS:
            self._rotate_session()
        return hits

    def _rotate_session(self) -> None:
        """Delete the current session in every handle and start a new one. The lock is held."""
        engine = _engine
        sid = self._sid
        self._sid = str(next(self._sessions))
        self._sid_uses = 0
        error: BaseException | None = None
        for h in self._handles:
            if h.live and h.handle is not None and engine is not None:
                h.live = False
                try:
                    engine.delete_state(h.handle, sid)
                except Exception as exc:  # noqa: BLE001 - delete the others, then report
                    error = error or exc
        if error is not None:
            raise EngineError.from_exception(error, "delete_state") from error

    def _run_session(
        self,
        h: _Handle,
        sid: str,
        items: list[tuple[int, str]],
        batch: str,
        first: int,
        head: str,
        base_of: dict[str, int],
        hits: list[int],
    ) -> None:
        """Assert one interaction's facts into one handle, drain every action, retract the facts."""
        assert _engine is not None
        engine = _engine
        complete = engine.complete_and_start_action
        handle = h.handle
        rule_of = h.rule_of
        n = self._n_rules
        count = len(items)
        single = items[0][0] * n if count == 1 else -1
        append = hits.append
        extra: dict[int, int] = {}  # sequence numbers of re-asserted facts -> position in items
        pending_positions: Sequence[int] = range(count)
        pending = count
        action = "assert_facts"
        try:
            for attempt in range(_MAX_RETRIES + 1):
                action = "assert_facts"
                h.live = True
                code, state = engine.assert_facts(handle, batch)
                if code not in (0, 2):  # 2: a duplicate was dropped; the catch-all count tells which
                    raise EngineError(f"assert_facts returned code {code}", code)
                action = "start_action_for_state"
                result = engine.start_action_for_state(handle, state)
                message = None if result is None else result[1]
                caught: list[str] = []
                action = "complete_and_start_action"
                if single >= 0:
                    while message is not None:
                        rule = rule_of[message[2:5]]
                        if rule < 0:
                            caught.append(message)
                        else:
                            append(single + rule)
                        message = complete(handle, state)
                else:
                    while message is not None:
                        rule = rule_of[message[2:5]]
                        if rule < 0:
                            caught.append(message)
                        else:
                            base = base_of.get(message[_SEQ_TAG_AT : message.index(",", _SEQ_AT)])
                            if base is None:  # a re-asserted fact, or a message of an unexpected form
                                base = items[self._position(message, first, count, extra)][0] * n
                            append(base + rule)
                        message = complete(handle, state)
                if len(caught) == pending:
                    break
                if len(caught) > pending or attempt == _MAX_RETRIES:
                    raise EngineError(f"{pending} fact(s) asserted, {len(caught)} handled")
                # A fact was dropped as a duplicate (hash collision, upstream issue #376): assert it
                # again under a new sequence number, in the same session.
                arrived = {self._position(m, first, count, extra) for m in caught}
                pending_positions = [p for p in pending_positions if p not in arrived]
                pending = len(pending_positions)
                renumbered = []
                for position in pending_positions:
                    seq = self._seq
                    self._seq += 1
                    extra[seq] = position
                    renumbered.append(f'{{"{_SEQ}":{seq}{head}{items[position][1]}}}')
                batch = "[" + ",".join(renumbered) + "]"
                single = -1
            if extra:
                # After a retry the session holds facts of several batches: drop it as a whole.
                action = "delete_state"
                h.live = False
                engine.delete_state(handle, sid)
            else:
                # Leave the session empty for the next interaction (creating a session costs about as
                # much as matching a fact; the session is deleted every SESSION_INTERACTIONS anyway).
                action = "retract_facts"
                code, _ = engine.retract_facts(handle, batch)
                if code != 0:
                    h.live = False
                    engine.delete_state(handle, sid)
        except BaseException as exc:
            self._abandon(h, sid)
            if isinstance(exc, EngineError) or not isinstance(exc, Exception):
                raise
            if isinstance(exc, (KeyError, ValueError, IndexError)):
                raise EngineError(f"unexpected action message during {action}: {exc!r}") from exc
            raise EngineError.from_exception(exc, action) from exc

    @staticmethod
    def _position(message: str, first: int, count: int, extra: dict[int, int]) -> int:
        """Position (in the session's fact list) of the fact an action message names, by its sequence."""
        if message[_SEQ_TAG_AT:_SEQ_AT] != f'"{_SEQ}":':
            raise EngineError(f"unexpected action message {message[:200]!r}")
        seq = int(message[_SEQ_AT : message.index(",", _SEQ_AT)])
        if first <= seq < first + count:
            return seq - first
        position = extra.get(seq)
        if position is None:
            raise EngineError(f"action message for an unknown fact {message[:200]!r}")
        return position

    @staticmethod
    def _abandon(h: _Handle, sid: str) -> None:
        """Best effort after a failure: drain whatever the engine still has pending, delete the session."""
        engine = _engine
        handle = h.handle
        if engine is None or handle is None:
            return
        try:
            for _ in range(100_000):
                started = engine.start_action(handle)
                if not started:
                    break
                state = started[2]
                for _ in range(100_000):
                    if not engine.complete_and_start_action(handle, state):
                        break
        except Exception:  # noqa: BLE001 - cleanup must not mask the original error
            pass
        if h.live:
            h.live = False
            try:
                engine.delete_state(handle, sid)
            except Exception:  # noqa: BLE001
                pass

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handle_count(self) -> int:
        """How many engine rulesets the program was split into."""
        return len(self._handles)

    @property
    def engine_rule_count(self) -> int:
        """How many engine rules (DNF branches, without the catch-alls) were registered."""
        return sum(len(h.rule_of) - 1 for h in self._handles)

    def _delete_handles(self) -> list[BaseException]:
        errors: list[BaseException] = []
        engine = _engine
        for h in self._handles:
            if h.handle is None:
                continue
            handle, h.handle = h.handle, None
            if engine is None:
                continue
            try:
                if h.live:
                    h.live = False
                    engine.delete_state(handle, self._sid)
                engine.delete_ruleset(handle)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        return errors

    def close(self) -> None:
        """Delete the engine rulesets. Idempotent; the backend raises RuntimeError when used afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            errors = self._delete_handles()
        if errors:
            raise EngineError.from_exception(errors[0], "delete_ruleset") from errors[0]

    def __enter__(self) -> DurableBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser (also at interpreter shutdown)
            pass
