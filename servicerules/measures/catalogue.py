"""The fact catalogue: every name a rule condition may use, with its type, meaning and an example.

A fact is computed from the interaction by a *measure* (this package), once per interaction and only when
a rule of the compiled ruleset needs it. Interaction facts have one value per interaction; event facts
(``event.*``) one value per event and can only be used by rules with ``scope: event``.

Types: ``string``, ``number``, ``duration`` (seconds), ``timestamp`` (aware datetime), ``bool``, and
``any`` for free ``attributes`` whose type is decided by how a rule uses them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Literal, Mapping

from servicerules.measures.lexicons import default_lexicon
from servicerules.model.interaction import Event, Interaction

__all__ = ["CATALOGUE", "DYNAMIC_PREFIXES", "NO_RESOURCES", "FactSpec", "FactType", "InteractionContext", "RulesetResources", "fact", "lookup", "seconds_between"]

FactType = Literal["string", "number", "duration", "timestamp", "bool", "any"]


@dataclass(frozen=True)
class RulesetResources:
    """What a ruleset lends its measures: its lexicons (overriding the defaults) and calendars."""

    lexicons: Mapping[str, Any] = field(default_factory=dict)
    calendars: Mapping[str, Any] = field(default_factory=dict)
    refunds: Any = None
    """The ruleset's ``refunds:`` policy (RefundPolicySpec) or None."""
    procedures: tuple[Any, ...] = ()
    """The ruleset's ``procedures:`` (ProcedureSpec items)."""
    slas: tuple[Any, ...] = ()
    """The ruleset's ``slas:`` (SlaSpec items)."""

    def lexicon(self, name: str) -> Any:
        """The ruleset's lexicon ``name``, else the shipped default; KeyError if neither exists."""
        found = self.lexicons.get(name)
        if found is not None:
            return found
        # Measures ask for a lexicon a few dozen times per interaction: default_lexicon is imported with the
        # module (a function-level import costs about a microsecond per call) and keeps each one compiled.
        default = default_lexicon(name)
        if default is None:
            raise KeyError(f"no lexicon named {name!r}")
        return default

    def calendar(self, name: str | None) -> Any:
        """Calendar ``name``; ``None`` means calendar time (always open, UTC)."""
        if name is None:
            return _always_open()
        return self.calendars[name]


@lru_cache(maxsize=1)
def _always_open() -> Any:
    """One shared 24x7 calendar, so its cached months are built once per process, not per interaction."""
    from servicerules.measures.calendar import BusinessCalendar

    return BusinessCalendar.always_open()


NO_RESOURCES = RulesetResources()

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def seconds_between(start: dt.datetime, end: dt.datetime) -> float:
    """The real time from ``start`` to ``end`` in seconds (negative when ``end`` is earlier).

    Not ``(end - start).total_seconds()``: Python subtracts two datetimes that share a zone object by their
    wall clocks, so with times in a named zone (``ZoneInfo("Europe/Berlin")``, as ``default_timezone`` gives
    them) a wait across a daylight-saving change came out an hour too long or too short. Each is measured
    from the epoch, a UTC time, which goes through its own UTC offset."""
    return ((end - _EPOCH) - (start - _EPOCH)).total_seconds()


class InteractionContext:
    """What measures see: the interaction, ``as_of``, the ruleset's resources and a per-interaction cache
    so that an analysis shared by several facts (e.g. finding the first reply) runs once."""

    __slots__ = ("interaction", "as_of", "resources", "events", "facts", "_cache")

    def __init__(self, interaction: Interaction, as_of: dt.datetime, resources: RulesetResources = NO_RESOURCES):
        self.interaction = interaction
        self.as_of = as_of
        self.resources = resources
        events = interaction.events
        seen = len(events)
        while seen and events[seen - 1].at > as_of:  # events are in time order: usually no step at all
            seen -= 1
        self.events: list[Event] = events if seen == len(events) else events[:seen]
        """The interaction's events up to ``as_of``: evaluation is as of that instant, and what happened after
        it is not known yet (read ~100 times per interaction: an attribute, not a property)."""
        self.facts: dict[str, Any] = {}
        """Interaction facts computed so far, by name: the engine's fact reader and the SLA gates share them."""
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, compute: Callable[["InteractionContext"], Any]) -> Any:
        value = self._cache.get(key, _UNCOMPUTED)  # not try/except: a first read would raise, and raising is slow
        if value is _UNCOMPUTED:
            value = self._cache[key] = compute(self)
        return value

    def fact(self, spec: FactSpec) -> Any:
        """The raw value of the interaction fact ``spec``, computed once per interaction (kept in ``facts``)."""
        value = self.facts.get(spec.name, _UNCOMPUTED)
        if value is _UNCOMPUTED:
            value = self.facts[spec.name] = spec.compute(self)
        return value


_UNCOMPUTED: Any = object()


@dataclass(frozen=True)
class EventPointer:
    """The one event an interaction fact describes (the first reply, the message that triggered an
    escalation). A violation of a rule that reads the fact points its evidence there, so the report shows
    the reply that lacked a greeting, not just the interaction."""

    event: str
    """What the event is, for the fact catalogue: "the first personal reply"."""
    find: Callable[[InteractionContext], int | None] = field(repr=False, compare=False)
    """Its index in the interaction, or None when there is no such event."""


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: FactType
    scope: Literal["interaction", "event"]
    description: str
    example: str
    family: str
    compute: Callable[..., Any] = field(repr=False, compare=False)
    """``compute(ctx)`` for interaction facts, ``compute(ctx, event_index)`` for event facts."""
    about: EventPointer | None = None
    """For an interaction fact that describes one event: which one."""


CATALOGUE: dict[str, FactSpec] = {}

DYNAMIC_PREFIXES: dict[str, tuple[Literal["interaction", "event"], Callable[..., Any]]] = {}
"""Path prefixes whose remainder is looked up in free JSON (``interaction.attributes.order.amount``)."""


def fact(
    name: str,
    type: FactType,
    description: str,
    example: str,
    *,
    family: str,
    scope: Literal["interaction", "event"] = "interaction",
    about: EventPointer | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a measure function as the producer of fact ``name`` (``about``: see :class:`FactSpec`)."""

    def register(compute: Callable[..., Any]) -> Callable[..., Any]:
        if name in CATALOGUE:
            raise RuntimeError(f"fact {name!r} registered twice")
        if about is not None and scope != "interaction":
            raise RuntimeError(f"fact {name!r}: only interaction facts point at an event with about=")
        CATALOGUE[name] = FactSpec(name, type, scope, description, example, family, compute, about)
        return compute

    return register


def lookup(name: str) -> FactSpec | None:
    """The catalogue entry for a dotted fact name, including dynamic attribute paths."""
    spec = CATALOGUE.get(name)
    if spec is not None:
        return spec
    for prefix, (scope, root) in DYNAMIC_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            keys = tuple(name[len(prefix) :].split("."))
            if scope == "event":
                return FactSpec(
                    name, "any", "event", "free event attribute", "", "attributes",
                    lambda ctx, index, _k=keys, _r=root: _dig(_r(ctx, index), _k),
                )
            return FactSpec(
                name, "any", "interaction", "free attribute", "", "attributes",
                lambda ctx, _k=keys, _r=root: _dig(_r(ctx), _k),
            )
    return None


def _dig(value: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


FAMILY_TITLES = {
    "interaction": "The interaction record",
    "conversation": "Conversation and reply times",
    "event": "Each event (rules with `scope: event`)",
    "text": "Text: greeting, closing, apology, escalation triggers",
    "privacy": "Privacy: card data, IBAN, health data, personal data in public",
    "phone": "Phone: queue, answer, abandon, hold, transfer",
    "procedure": "Procedure: required order of actions, escalation to a manager",
    "refund": "Refunds and returns",
}


def catalogue_markdown() -> str:
    """The fact catalogue as Markdown (docs/reference/facts.md is this text; a test keeps them equal)."""
    from servicerules.measures import CATALOGUE as registered  # imports every measure module

    lines = [
        "# Fact catalogue",
        "",
        "Every name a rule condition or message may use, computed from the interaction by a measure, once per",
        "interaction and only when a rule needs it. A fact that cannot be known for an interaction is null, and a",
        "rule that needs it is *not applicable* there. Types: `string`, `number`, `duration` (seconds; write",
        "`4h`, `30m`), `timestamp`, `bool`. Event facts (`event.*`) need `scope: event`.",
        "",
        "Also available: free attributes `interaction.attributes.<path>`, `customer.attributes.<path>` and",
        "`event.attributes.<path>` (typed by how a rule uses them: a value of another type is null, as are a NaN",
        "and an infinity, which are no JSON numbers), and per SLA",
        "`sla.<id>.state|breached|elapsed|target|deadline|count` (see [ruleset](ruleset.md)).",
        "",
        "Every fact describes the interaction *as of* `as_of`: events after it are not seen (nor are event",
        "facts or event rules computed for them), and a `solved_at` or `closed_at` after it counts as not yet.",
        "An evaluation at 11:00 of an e-mail answered the next day finds no personal reply.",
        "",
        "Some interaction facts describe one event, named after *Evidence:* below. A violation of an interaction",
        "rule that reads such a fact points its evidence at that event (see [report](report.md#violation)).",
        "",
        "This page is generated: `servicerules facts --format markdown`.",
    ]
    families: dict[str, list[FactSpec]] = {}
    for spec in registered.values():
        families.setdefault(spec.family, []).append(spec)
    for family in sorted(families, key=lambda f: (list(FAMILY_TITLES).index(f) if f in FAMILY_TITLES else 99, f)):
        lines += ["", f"## {FAMILY_TITLES.get(family, family.title())}", "", "| fact | type | meaning | example |", "|---|---|---|---|"]
        for spec in sorted(families[family], key=lambda s: s.name):
            points = f". Evidence: {spec.about.event}" if spec.about is not None else ""
            lines.append(f"| `{spec.name}` | {spec.type} | {spec.description}{points} | `{spec.example}` |")
    return "\n".join(lines) + "\n"
