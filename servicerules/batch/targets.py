"""Aggregate service-level targets over a batch: the ruleset's ``targets:`` section.

"80% of queued calls answered within 20 s", "average speed of answer at most 30 s", "abandonment at most
5%" are not properties of one interaction but of many, so they are computed in three steps that fit the
batch runner (see docs/reference/targets.md for the semantics a policy author relies on):

1. :func:`check_targets` / :func:`compile_targets` / :func:`program_targets` type-check each target's
   ``when``, ``condition`` and ``value`` with the compiler's :class:`~servicerules.compiler.checker.Checker`
   and keep their null-safe Python evaluators (:class:`CompiledTarget`). Once per ruleset, in every process.
2. :func:`target_contributions` turns one interaction into a few small, picklable :class:`Contribution`
   tuples, reading facts through the same getter the rules used (so each measure is computed once).
   It runs where the interaction was evaluated, in a worker process if the batch is parallel.
3. :class:`TargetAccumulator` adds contributions up, :meth:`TargetAccumulator.merge` combines the
   accumulators of several workers (in any order, with bit-identical results), and
   :meth:`TargetAccumulator.results` gives one :class:`TargetResult` per target and group.

Counting rules (Kleene logic, as for rules): an interaction is in a target's denominator only when its
``when`` is true (false or unknown: not counted); a ``share``/``rate`` whose ``condition`` is unknown for a
counted interaction leaves it out of numerator *and* denominator and counts it as ``unknown``; an
``average`` leaves out interactions whose ``value`` is unknown, also counted as ``unknown``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from servicerules._durations import format_duration
from servicerules.batch.summary_schema import TargetJson
from servicerules.compiler import expr as ast
from servicerules.compiler.checker import CheckError, Checker, Evaluator, Getter, KeyAllocator, Typed, adopt
from servicerules.errors import Diagnostic, RulesetError, did_you_mean
from servicerules.measures.calendar import BusinessCalendar
from servicerules.measures.catalogue import FactSpec
from servicerules.measures.text import LexiconMatcher
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import RulesetSpec, TargetSpec

if TYPE_CHECKING:  # the compiler may import this module for its target pass: no import cycle at run time
    from servicerules.compiler import CompiledProgram

__all__ = [
    "CompiledTarget",
    "Contribution",
    "GroupKey",
    "TargetAccumulator",
    "TargetProblem",
    "TargetResult",
    "TargetStatus",
    "check_targets",
    "compile_targets",
    "format_result",
    "interaction_agents",
    "program_targets",
    "target_contributions",
]

GroupKey = Literal["day", "channel", "team", "agent", "interval_30m"]
TargetStatus = Literal["met", "missed", "no_data"]
Unit = Literal["ratio", "seconds", "number"]
"""What ``achieved`` and ``objective`` are measured in: a fraction (share, rate), seconds (average of a
duration) or a plain number (average of a number)."""

UTC = dt.timezone.utc

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class TargetProblem:
    """Something wrong with a target, located by its path in the ruleset document (as a compiler
    diagnostic is): ``("targets", 2, "value")``. ``offset`` is a character offset inside an expression."""

    code: str
    message: str
    path: Path
    offset: int | None = None
    hint: str | None = None


@dataclass(frozen=True)
class CompiledTarget:
    """One target, ready to judge interactions. Holds Python closures: rebuild it in each process (from
    the ruleset, as a pickled :class:`~servicerules.CompiledRuleset` does) rather than pickling it."""

    index: int
    """Position in the ruleset's ``targets`` list; contributions refer to it."""
    spec: TargetSpec
    when: Evaluator | None
    """True: counted (denominator). None: every interaction counts."""
    condition: Evaluator | None
    """share/rate: true puts a counted interaction into the numerator."""
    value: Evaluator | None
    """average: the number (or seconds, for a duration) whose mean is taken."""
    unit: Unit
    facts: tuple[str, ...]
    """Facts read by when, condition, value and group_time, in first-use order."""
    group_by: tuple[GroupKey, ...]
    zone: dt.tzinfo = UTC
    """Time zone of the ``day`` and ``interval_30m`` groups."""
    group_time: Evaluator | None = None
    """The moment (seconds since the epoch, or None) that places an interaction in its ``day`` and
    ``interval_30m`` groups; None: its ``created_at``."""

    @property
    def id(self) -> str:
        return self.spec.id


class Contribution(NamedTuple):
    """What one interaction adds to one group of one target. Small and picklable: workers send these (or a
    :class:`TargetAccumulator` of them) to the parent."""

    target: int
    """:attr:`CompiledTarget.index`."""
    group: tuple[str | None, ...]
    """The group's values, in the order of the target's ``group_by`` (``()`` when ungrouped)."""
    hit: bool | None
    """share/rate: True in the numerator, False in the denominator only, None when the condition is unknown
    (then in neither; counted as unknown). Always None for an average."""
    value: float | None
    """average: the value (seconds for durations); None when unknown (left out; counted as unknown)."""


# -- compiling ------------------------------------------------------------------------------------------


def check_targets(
    spec: RulesetSpec,
    lookup: Callable[[str], FactSpec | None],
    lexicons: Mapping[str, LexiconMatcher],
    *,
    calendars: Mapping[str, BusinessCalendar] | None = None,
    parsed: Mapping[Path, ast.Node] | None = None,
) -> tuple[tuple[CompiledTarget, ...], list[TargetProblem]]:
    """Type-check and compile every target; return the ones without problems, and all problems.

    ``lookup`` resolves fact names (the compiler's, which knows the ruleset's ``sla.<id>.*`` facts),
    ``lexicons`` are the ruleset's matchers. ``parsed`` are expressions the compiler already parsed, keyed
    by path (``("targets", 0, "when")``); an expression missing from it had a syntax error the compiler
    reported, so it is skipped here without a second report. Without ``parsed`` every expression is parsed
    here and a syntax error is an ``SR200`` problem.
    """
    compiled: list[CompiledTarget] = []
    problems: list[TargetProblem] = []
    for index, target in enumerate(spec.targets):
        found: list[TargetProblem] = []
        result = _compile_one(index, target, lookup, lexicons, calendars or {}, parsed, found)
        problems.extend(found)
        if result is not None:
            compiled.append(result)
    return tuple(compiled), problems


def compile_targets(
    spec: RulesetSpec,
    lookup: Callable[[str], FactSpec | None],
    lexicons: Mapping[str, LexiconMatcher],
    *,
    calendars: Mapping[str, BusinessCalendar] | None = None,
) -> tuple[CompiledTarget, ...]:
    """:func:`check_targets`, raising :class:`~servicerules.errors.RulesetError` (without file positions)
    when a target has a problem. :func:`program_targets` gives the positions."""
    targets, problems = check_targets(spec, lookup, lexicons, calendars=calendars)
    if problems:
        raise RulesetError(Diagnostic(p.code, p.message, hint=p.hint, path=p.path) for p in problems)
    return targets


def program_targets(program: CompiledProgram) -> tuple[CompiledTarget, ...]:
    """The targets of a :class:`~servicerules.compiler.CompiledProgram` (``CompiledRuleset.program``),
    compiled (and checked, with ``file:line:col`` errors) by the compiler's ``targets`` pass."""
    return tuple(program.targets)


def _compile_one(
    index: int,
    target: TargetSpec,
    lookup: Callable[[str], FactSpec | None],
    lexicons: Mapping[str, LexiconMatcher],
    calendars: Mapping[str, BusinessCalendar],
    parsed: Mapping[Path, ast.Node] | None,
    problems: list[TargetProblem],
) -> CompiledTarget | None:
    base: Path = ("targets", index)

    def problem(code: str, message: str, where: Path = (), offset: int | None = None, hint: str | None = None) -> None:
        problems.append(TargetProblem(code, message, base + where, offset, hint))

    kind = target.kind
    if kind in ("share", "rate"):
        if target.condition is None:
            problem("SR111", f"a {kind} target needs a 'condition': what counts in the numerator",
                    hint="for example: condition: call.answered and call.queue_wait <= 20s")
        if target.value is not None:
            problem("SR112", f"a {kind} target has no 'value'", ("value",),
                    hint="use kind: average to take the mean of a value")
        if not (math.isfinite(target.objective) and 0.0 <= target.objective <= 1.0):
            problem("SR112", f"the objective of a {kind} is a fraction from 0 to 1, found {target.objective:g}",
                    ("objective",), hint="write 0.8 for 80%")
    else:
        if target.value is None:
            problem("SR111", "an average target needs a 'value': the expression whose mean is taken",
                    hint="for example: value: call.queue_wait")
        if target.condition is not None:
            problem("SR112", "an average target has no 'condition'", ("condition",),
                    hint="put which interactions count into 'when'")
        if not math.isfinite(target.objective):
            problem("SR112", f"the objective must be a finite number, found {target.objective}", ("objective",))
    seen: set[str] = set()
    for position, key in enumerate(target.group_by):
        if key in seen:
            problem("SR112", f"group_by names '{key}' twice", ("group_by", position))
        seen.add(key)

    zone: dt.tzinfo = UTC  # of the day and interval_30m groups: the calendar's, else UTC
    calendar_name = target.calendar
    if calendar_name is not None:
        calendar = calendars.get(calendar_name)
        if calendar is None:
            problem("SR205", f"unknown calendar '{calendar_name}'", ("calendar",),
                    hint=did_you_mean(calendar_name, calendars) or "declare it under 'calendars:'")
        else:
            zone = ZoneInfo(calendar.timezone)
        if not {"day", "interval_30m"} & set(target.group_by):
            problem("SR112", "'calendar' sets the time zone of the day and interval_30m groups, and this target groups by neither",
                    ("calendar",), hint="group by day or interval_30m, or leave 'calendar' out")
    if target.group_time is not None and not {"day", "interval_30m"} & set(target.group_by):
        problem("SR112", "'group_time' places interactions in day and interval_30m groups, and this target groups by neither",
                ("group_time",), hint="group by day or interval_30m, or leave 'group_time' out")

    checker = Checker("interaction", lexicons, KeyAllocator(), lookup, "target")
    facts: list[str] = []
    failed = False

    def typed(name: str) -> Typed | None:
        nonlocal failed
        text: str | None = getattr(target, name)
        if text is None:
            return None
        if parsed is not None:
            node = parsed.get(base + (name,))
            if node is None:  # a syntax error the compiler reported already
                failed = True
                return None
        else:
            try:
                node = ast.parse_expression(text)
            except ast.ExprSyntaxError as exc:
                problem("SR200", exc.message, (name,), exc.offset, exc.hint)
                return None
        try:
            if name == "value":
                result = _numeric(checker.check(node))
            elif name == "group_time":
                result = _timestamp(checker.check(node))
            else:
                result = checker.lower(node)[2]
        except CheckError as exc:
            problem(exc.code, exc.message, (name,), exc.start, exc.hint)
            return None
        facts.extend(f for f in sorted(result.facts) if f not in facts)
        return result

    when, condition, value = typed("when"), typed("condition"), typed("value")
    group_time = typed("group_time")
    if failed or problems:
        return None
    unit: Unit = "ratio" if kind != "average" else ("seconds" if value is not None and value.type == "duration" else "number")
    return CompiledTarget(
        index=index,
        spec=target,
        when=when.fn if when is not None else None,
        condition=condition.fn if condition is not None else None,
        value=value.fn if value is not None else None,
        unit=unit,
        facts=tuple(facts),
        group_by=tuple(target.group_by),
        zone=zone,
        group_time=group_time.fn if group_time is not None else None,
    )


def _numeric(typed: Typed) -> Typed:
    """An average's value: a number or a duration (a free attribute is read as a number)."""
    typed = adopt(typed, "number")
    if typed.type not in ("number", "duration"):
        raise CheckError(
            "SR202", f"the value of an average must be a number or a duration, this is a {typed.type}", typed.node.start,
            "for a share of interactions use kind: share with a condition",
        )
    return typed


def _timestamp(typed: Typed) -> Typed:
    """A group_time: a timestamp (a free attribute is read as one, from its ISO 8601 text)."""
    typed = adopt(typed, "timestamp")
    if typed.type != "timestamp":
        raise CheckError(
            "SR202", f"group_time must be a timestamp, this is a {typed.type}", typed.node.start,
            "for example: group_time: call.queued_at ?? interaction.created_at",
        )
    return typed


# -- per interaction ------------------------------------------------------------------------------------


def target_contributions(
    targets: Sequence[CompiledTarget], get: Getter, interaction: Interaction, as_of: dt.datetime | None = None
) -> list[Contribution]:
    """What ``interaction`` adds to each target, read through ``get``: the interaction-level fact getter
    the rules of the same evaluation used, so facts already computed for them are not computed again.
    ``as_of`` is the evaluation's (``None``: the interaction's latest timestamp); per-agent groups count
    only the agents who had written by then.

    An interaction whose ``when`` is false or unknown contributes nothing. A counted one contributes once
    per group it falls into: once, or once per agent when the target is grouped by agent.
    """
    out: list[Contribution] = []
    labels: _Labels = {}
    for target in targets:
        if target.when is not None and target.when(get) is not True:
            continue
        hit: bool | None = None
        value: float | None = None
        if target.value is not None:
            value = _finite(target.value(get))
        elif target.condition is not None:
            outcome = target.condition(get)
            hit = outcome if isinstance(outcome, bool) else None
        if not target.group_by:
            out.append(Contribution(target.index, (), hit, value))
            continue
        columns = [_labels(key, target, get, interaction, as_of, labels) for key in target.group_by]
        for group in itertools.product(*columns):
            out.append(Contribution(target.index, group, hit, value))
    return out


def interaction_agents(interaction: Interaction, as_of: dt.datetime | None = None) -> list[str]:
    """The agents an interaction is grouped under: the declared ``agents``, else the ids (or names) of the
    agents and managers who wrote its events up to ``as_of`` (``None``: all of them, as the default
    ``as_of`` is the latest timestamp); sorted, without duplicates. The batch summary's per-agent figures
    use it too."""
    if interaction.agents:
        return sorted({a.id for a in interaction.agents})
    found = {
        e.author.id or e.author.name
        for e in interaction.events
        if e.author is not None
        and e.author.role in ("agent", "manager")
        and (e.author.id or e.author.name)
        and (as_of is None or e.at <= as_of)
    }
    return sorted(a for a in found if a)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond a float's range (10**400)
        return None
    return number if math.isfinite(number) else None


_Labels = dict[tuple[str, dt.tzinfo, str | None], list[str | None]]


def _labels(
    key: GroupKey, target: CompiledTarget, get: Getter, interaction: Interaction, as_of: dt.datetime | None, cache: _Labels
) -> list[str | None]:
    """The group values of ``interaction`` for ``key`` (several for ``agent``), computed once per call for
    targets with the same time zone and group_time."""
    zone = target.zone
    cache_key = (key, zone, target.spec.group_time)
    known = cache.get(cache_key)  # not try/except: most calls are first calls, and raising is slow
    if known is not None:
        return known
    found: list[str | None]
    if key == "channel":
        found = [interaction.channel]
    elif key == "team":
        found = [interaction.team]
    elif key == "agent":
        agents: list[str | None] = list(interaction_agents(interaction, as_of))
        found = agents or [None]
    else:
        # through UTC: astimezone() returns a time already in ``zone`` unchanged, and a wall time that zone skips
        # (02:30 on the spring-forward night, from default_timezone) would make a half hour of its own
        moment = interaction.created_at.astimezone(UTC).astimezone(zone) if target.group_time is None else _moment(target.group_time(get), zone)
        if moment is None:
            found = [None]
        elif key == "day":
            found = [moment.date().isoformat()]
        else:
            start = moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)
            text = start.isoformat(timespec="minutes")
            found = [text.replace("+00:00", "Z") if zone is UTC else text]
    cache[cache_key] = found
    return found


def _moment(epoch: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A group_time's value (seconds since the epoch, as the expression language has timestamps) in
    ``zone``; None when it is unknown or outside the years a datetime holds."""
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(epoch, zone)
    except (OverflowError, OSError, ValueError):
        return None


# -- accumulating ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    count: int = 0
    """share/rate: denominator; average: number of values."""
    hits: int = 0
    unknown: int = 0
    exact: Fraction = Fraction(0)
    """The sum of the values, exactly, each value taken as the decimal number it prints as (``0.1`` is one
    tenth, not the binary fraction nearest to it): the mean is the same however the batch was split across
    workers and merged, and an average of values equal to the objective is the objective, so it is met."""

    def add_value(self, x: float) -> None:
        self.exact += _decimal(x)

    def merge(self, other: "_Tally") -> None:
        self.count += other.count
        self.hits += other.hits
        self.unknown += other.unknown
        self.exact += other.exact


_EXACT_INTEGERS = 2.0**53
"""Below this, a float that is a whole number is exactly the integer its representation writes."""


def _decimal(x: float) -> Fraction:
    """``x`` as the decimal number its shortest representation writes (``repr(3.3)`` is ``3.3``, ``1e+17`` is
    10**17, not the binary float nearest to it). Whole numbers (durations in whole seconds, counts) skip the text."""
    if isinstance(x, int):
        return Fraction(x)
    if x.is_integer() and abs(x) < _EXACT_INTEGERS:
        return Fraction(int(x))
    return Fraction(repr(x))


@dataclass(frozen=True)
class _TargetInfo:
    """What results need of a target, without its closures (so accumulators pickle)."""

    index: int
    spec: TargetSpec
    unit: Unit


@dataclass(frozen=True)
class TargetResult:
    """One target (and group): the achieved figure against the objective."""

    target_id: str
    title: str
    kind: Literal["share", "average", "rate"]
    group: dict[str, str | None]
    """group_by key → value (``None``: the interaction had none, e.g. no agent); empty when ungrouped."""
    status: TargetStatus
    """``met``, ``missed``, or ``no_data`` when nothing was counted (denominator or count 0)."""
    achieved: float | None
    """share/rate: numerator / denominator; average: sum / count (seconds for durations)."""
    objective: float
    comparison: Literal[">=", "<="]
    numerator: int | None
    denominator: int | None
    sum: float | None
    """average: the sum of the values, rounded once to a float; None for a share or rate, and when the sum
    is beyond a float's range (``achieved``, the mean, always is in range)."""
    count: int | None
    unknown: int
    """Counted by ``when`` but left out because the condition (or value) was unknown."""
    unit: Unit
    severity: str
    exact: Fraction | None = field(default=None, repr=False, compare=False)
    """``achieved`` as the exact number the objective was compared with (each value taken as the decimal
    number it prints as); printing uses it, so the figure shown never rounds a miss into a tie."""

    def to_dict(self) -> TargetJson:
        return {
            "target_id": self.target_id,
            "title": self.title,
            "kind": self.kind,
            "group": dict(self.group),
            "status": self.status,
            "achieved": self.achieved,
            "objective": self.objective,
            "comparison": self.comparison,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "sum": self.sum,
            "count": self.count,
            "unknown": self.unknown,
            "unit": self.unit,
            "severity": self.severity,
        }


GroupValues = tuple[str | None, ...]


class TargetAccumulator:
    """Adds up contributions per target and group. Mergeable (workers' accumulators into the parent's)
    and picklable; results do not depend on how the batch was split or in which order parts merged."""

    __slots__ = ("_targets", "_by_index", "_tallies")

    def __init__(self, targets: Sequence[CompiledTarget]):
        self._targets: tuple[_TargetInfo, ...] = tuple(_TargetInfo(t.index, t.spec, t.unit) for t in targets)
        self._by_index: dict[int, _TargetInfo] = {t.index: t for t in self._targets}
        self._tallies: dict[tuple[int, GroupValues], _Tally] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        return self._targets, self._tallies

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._targets, self._tallies = state
        self._by_index = {t.index: t for t in self._targets}

    def __bool__(self) -> bool:
        return bool(self._targets)

    def add(self, contributions: Iterable[Contribution]) -> None:
        tallies = self._tallies
        for c in contributions:
            key = (c.target, c.group)
            tally = tallies.get(key)
            if tally is None:
                info = self._by_index.get(c.target)
                if info is None:
                    raise ValueError(f"contribution to target #{c.target}, which this accumulator does not have")
                if len(c.group) != len(info.spec.group_by):
                    raise ValueError(f"contribution to target '{info.spec.id}' has {len(c.group)} group values, expected {len(info.spec.group_by)}")
                tally = tallies[key] = _Tally()
            if self._by_index[c.target].spec.kind == "average":
                if c.value is None:
                    tally.unknown += 1
                else:
                    tally.count += 1
                    tally.add_value(c.value)
            elif c.hit is None:
                tally.unknown += 1
            else:
                tally.count += 1
                tally.hits += c.hit

    def merge(self, other: "TargetAccumulator") -> None:
        """Add ``other``'s counts to this accumulator (``other`` is left unchanged)."""
        if other is self:
            raise ValueError("cannot merge an accumulator into itself")
        if [(t.index, t.spec.id) for t in other._targets] != [(t.index, t.spec.id) for t in self._targets]:
            raise ValueError("cannot merge accumulators of different targets (another ruleset or version?)")
        for key, theirs in other._tallies.items():
            mine = self._tallies.get(key)
            if mine is None:
                mine = self._tallies[key] = _Tally()
            mine.merge(theirs)

    def results(self) -> list[TargetResult]:
        """One result per target and group: targets in ruleset order, groups sorted by their values (an
        unknown value, ``None``, after the others). An ungrouped target always has one result; a grouped
        target nothing was counted for has one ``no_data`` result with an empty group."""
        by_target: dict[int, list[tuple[GroupValues, _Tally]]] = {t.index: [] for t in self._targets}
        for (index, group), tally in self._tallies.items():
            by_target[index].append((group, tally))
        out: list[TargetResult] = []
        for info in self._targets:
            keys = info.spec.group_by
            rows = sorted(by_target[info.index], key=lambda row: [_sort_key(k, v) for k, v in zip(keys, row[0])])
            if not rows:
                out.append(_result(info, {}, _Tally()))
                continue
            for group, tally in rows:
                out.append(_result(info, dict(zip(info.spec.group_by, group)), tally))
        return out


def _sort_key(key: str, value: str | None) -> tuple[bool, float, str]:
    """Groups in order of their values as text, ``None`` last; half hours in time order: as text, the
    fall-back night's second 02:00+01:00 came before its first 02:00+02:00 (and 02:30+02:00 after both)."""
    if value is None:
        return (True, 0.0, "")
    if key == "interval_30m":
        return (False, dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp(), value)
    return (False, 0.0, value)


def _result(info: _TargetInfo, group: dict[str, str | None], tally: _Tally) -> TargetResult:
    spec = info.spec
    average = spec.kind == "average"
    achieved: float | None = None
    exact: Fraction | None = None
    met = False
    if tally.count:
        # compared exactly, as decimal numbers: an average of 3.3, 3.3 and 3.3 meets an objective of 3.3
        exact = tally.exact / tally.count if average else Fraction(tally.hits, tally.count)
        achieved = float(exact)  # a mean lies between the smallest and the largest value: in a float's range
        objective = _decimal(spec.objective)
        met = exact >= objective if spec.comparison == ">=" else exact <= objective
    if achieved is None:
        status: TargetStatus = "no_data"
    elif met:
        status = "met"
    else:
        status = "missed"
    return TargetResult(
        target_id=spec.id,
        title=spec.title,
        kind=spec.kind,
        group=group,
        status=status,
        achieved=achieved,
        objective=spec.objective,
        comparison=spec.comparison,
        numerator=None if average else tally.hits,
        denominator=None if average else tally.count,
        sum=_float(tally.exact) if average else None,
        count=tally.count if average else None,
        unknown=tally.unknown,
        unit=info.unit,
        severity=spec.severity.value,
        exact=exact,
    )


def _float(value: Fraction) -> float | None:
    """``value`` rounded to a float, or None beyond a float's range: values near the largest float
    (1.8e308) are finite one by one, and their sum need not be."""
    try:
        return float(value)
    except OverflowError:
        return None


# -- printing -------------------------------------------------------------------------------------------


_MOST_DECIMALS = 60
"""Where printing more decimals to tell an achieved figure from its objective gives up (a difference
below 10**-60 comes only from values written with that many digits)."""


def _figure(value: float, unit: Unit) -> str:
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        if abs(value) >= 1 or value == 0:
            return format_duration(value)
        return format(Decimal(f"{value:.2g}"), "f") + "s"  # 0.25s, 0.00001s: never 1e-05s
    if abs(value) >= 1:  # 4 significant digits, but every digit before the point: 12345, 123.5, 1.235
        return _decimals(_decimal(value), max(0, 4 - len(str(int(abs(value))))))
    return format(Decimal(f"{value:.4g}"), "f")  # 0.0001235, never 1.235e-04


def _figures(achieved: Fraction, objective: Fraction, unit: Unit) -> tuple[str, str]:
    """The achieved figure and the objective as printed: with more digits where rounding would print them
    alike though they differ (``30.1s`` against ``30s``, not ``30s`` against ``30s`` and "missed")."""
    shown = _figure(float(achieved), unit), _figure(float(objective), unit)
    scale, suffix = {"ratio": (100, "%"), "seconds": (1, "s")}.get(unit, (1, ""))
    decimals = 0
    while shown[0] == shown[1] and achieved != objective and decimals <= _MOST_DECIMALS:
        # fixed decimals, never 3.54e+03: trailing zeros (and a bare point) dropped
        shown = _decimals(achieved * scale, decimals) + suffix, _decimals(objective * scale, decimals) + suffix
        decimals += 1
    return shown


def _decimals(value: Fraction, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places (half to even), trailing zeros dropped."""
    digits = str(abs(round(value * 10**decimals))).rjust(decimals + 1, "0")
    sign = "-" if value < 0 and digits.strip("0") else ""
    whole, fraction = digits[: len(digits) - decimals], digits[len(digits) - decimals :].rstrip("0")
    return sign + whole + ("." + fraction if fraction else "")


def format_result(result: TargetResult) -> str:
    """One line for a terminal summary, e.g.
    ``phone.service-level [channel=phone]: 70.0% (7/10), objective >= 80.0%: missed``."""
    group = ", ".join(f"{k}={'(none)' if v is None else v}" for k, v in result.group.items())
    head = result.target_id + (f" [{group}]" if group else "")
    if result.achieved is None:
        figure, objective = "nothing counted", _figure(result.objective, result.unit)
    else:
        exact = result.exact if result.exact is not None else _decimal(result.achieved)
        achieved, objective = _figures(exact, _decimal(result.objective), result.unit)
        if result.kind == "average":
            figure = f"{achieved} (mean of {result.count:,})"
        else:
            figure = f"{achieved} ({result.numerator:,}/{result.denominator:,})"
    objective = f"objective {result.comparison} {objective}"
    unknown = f", {result.unknown:,} unknown" if result.unknown else ""
    status = result.status.replace("_", " ")
    return f"{head}: {figure}{unknown}, {objective}: {status}"
