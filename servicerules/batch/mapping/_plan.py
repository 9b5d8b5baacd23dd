"""Declarative mappings: any CSV, JSON or JSONL help-desk export onto the interaction model.

A mapping file (YAML, documented in ``docs/reference/mapping.md``, JSON Schema in
``schemas/mapping.schema.json``) says how the rows of an export become interactions:

* ``layout: per_interaction`` (one row is one interaction: a call, a complaint) or ``layout: per_message``
  (one row is one message or event; rows are grouped into interactions by ``group_by`` or, for reply
  trees, by ``thread``);
* ``fields``: target path → source, e.g. ``customer.name: requester_name``, ``events[].text: body``,
  ``attributes.order.amount: {column: amount, type: float}``; constants, templates, value maps, type
  conversion, timestamps in one column or in separate date and time columns, time zones for naive times,
  epoch seconds;
* ``events``: events synthesised from columns (``call.queued`` when ``q_start`` is set, …);
* ``joins``: lookup tables read from secondary files (the ticket export for a comment export).

:func:`apply_mapping` turns a stream of :class:`~servicerules.batch.readers.RawRecord` rows into a stream
of ``RawRecord`` interactions (``data`` is an interaction dict with ISO 8601 timestamps that carry an
offset), ready for :func:`servicerules.batch.runner.check_records`. Nothing is dropped silently: a row
that cannot be mapped becomes a ``RawRecord`` with ``error`` (naming the column and the value) and its own
position; reader errors pass through unchanged.

Memory: ``per_interaction`` and ``grouping: contiguous`` hold one interaction at a time (plus the set of
finished group keys, to report a key whose rows are not adjacent); ``grouping: buffered`` holds every
group until the input ends; ``thread`` holds the open reply trees (with a ``replies`` column a tree is
emitted as soon as every tweet it references has been read; the tweet ids of rejected trees that came out
are kept, so that a late reply to one is rejected too) and the id and line of every post read, to reject a
post id that appears again. Joined files are read fully into memory,
keeping only the columns the mapping uses.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Union, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from servicerules.batch.readers import RawRecord, SourcePosition, read_records
from servicerules.errors import Diagnostic, RulesetError, did_you_mean
from servicerules.loader import SourceDocument, YamlLoader, load_yaml
from servicerules.model.interaction import Agent, Author, Customer, Event, EventType, Interaction

__all__ = [
    "CODE_GROUPING",
    "CODE_JOIN",
    "CODE_VALUE",
    "Condition",
    "EventSpec",
    "InputSpec",
    "JoinSpec",
    "Mapping",
    "MappingError",
    "Offset",
    "ThreadSpec",
    "Value",
    "apply_mapping",
    "load_mapping",
    "mapping_json_schema",
    "mapping_path",
    "read_mapped",
    "shipped_mappings",
]

# Error codes of records that cannot be mapped: all SR310 ("record cannot be mapped onto an interaction"); one day perhaps SR320 (a value cannot be
# converted), SR321 (rows of one interaction not adjacent under grouping: contiguous), SR322 (joins).
CODE_VALUE = "SR310"
CODE_GROUPING = "SR310"
CODE_JOIN = "SR310"

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "data" / "mappings"


DocPath = tuple[Union[str, int], ...]
ValueType = Literal["string", "int", "float", "bool", "json", "timestamp"]
_SPECIAL_FORMATS = ("iso", "epoch", "epoch_ms")


class MappingError(RulesetError):
    """A mapping file is wrong (YAML, schema, targets) or does not fit its input; holds every problem.

    A subclass of :class:`~servicerules.errors.RulesetError`, so whatever reports ruleset problems
    (``file:line:col: CODE message`` with the source line and a hint) reports mapping problems too.
    """


# ------------------------------------------------------------------------------------------------ schema


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


def _column_shorthand(value: Any) -> Any:
    """``name`` → ``[{column: name}]``; ``{...}`` → ``[{...}]``; a list's strings become ``{column: …}``."""
    items = _as_list(value)
    if isinstance(items, list):
        return [{"column": item} if isinstance(item, str) else item for item in items]
    return items


def _text(value: Any) -> Any:
    """Scalars written without quotes (``equals: 0``) compare as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _texts(value: Any) -> Any:
    items = _as_list(value)
    return [_text(v) for v in items] if isinstance(items, list) else items


TextList = Annotated[list[str], BeforeValidator(_texts)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Spec):
    """A test on one column. Without a comparison it holds when the column has a value (is not empty)."""

    column: str = Field(min_length=1, description="the column tested (``join.column`` for a joined file)")
    equals: Annotated[str | None, BeforeValidator(_text)] = Field(default=None, description="holds when the value is this text")
    not_equals: Annotated[str | None, BeforeValidator(_text)] = Field(default=None, description="holds when the value is empty or another text")
    in_: TextList | None = Field(default=None, alias="in", description="holds when the value is one of these texts")
    not_in: TextList | None = Field(default=None, description="holds when the value is empty or none of these texts")
    equals_column: str | None = Field(default=None, description="holds when both columns have the same non-empty value")
    empty: bool | None = Field(default=None, description="true: holds when the column is empty; false: when it has a value")


def _conditions_shorthand(value: Any) -> Any:
    items = _as_list(value)
    if isinstance(items, list):
        return [{"column": item} if isinstance(item, str) else item for item in items]
    return items


When = Annotated[
    list[Condition],
    BeforeValidator(_conditions_shorthand, json_schema_input_type=Union[str, Condition, list[Union[str, Condition]]]),
]


class Offset(_Spec):
    """A duration added to a timestamp: a column (or a constant) and its unit."""

    column: str | None = Field(default=None, description="column holding the duration")
    const: float | None = Field(default=None, description="a fixed duration")
    unit: Literal["milliseconds", "seconds", "minutes", "hours", "days", "hms"] = Field(
        default="seconds", description="unit of the number; hms reads [H:]MM:SS"
    )

    @model_validator(mode="after")
    def _one_source(self) -> "Offset":
        if (self.column is None) == (self.const is None):
            raise ValueError("give exactly one of 'column' and 'const'")
        if self.const is not None and self.unit == "hms":
            raise ValueError("unit hms reads a column; give a constant in seconds, minutes, hours or days")
        return self


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC") from None


def _check_format(value: str) -> str:
    if value not in _SPECIAL_FORMATS and "%" not in value:
        raise ValueError(f"{value!r} is not a time format: write iso, epoch, epoch_ms or a strptime format such as %Y-%m-%d %H:%M")
    return value


def _check_zone(value: str) -> str:
    _zone(value)
    return value


TimeFormat = Annotated[str, AfterValidator(_check_format)]
"""iso, epoch, epoch_ms or a strptime format."""
ZoneName = Annotated[str, AfterValidator(_check_zone)]
"""An IANA time zone name."""


_TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _template_parts(template: str) -> list[tuple[bool, str]]:
    """``[(is_column, text)]`` for a template such as ``"{vru+line}-{call_id}"`` (``{{``/``}}`` are braces)."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for match in _TEMPLATE_PART.finditer(template):
        if match.start() > pos:
            parts.append((False, template[pos : match.start()]))
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
        elif token in ("{", "}"):
            raise ValueError(f"unbalanced {token!r} at character {match.start() + 1} of the template (write {token * 2} for a brace)")
        else:
            name = match.group(1).strip()
            if not name:
                raise ValueError(f"empty column name '{{}}' at character {match.start() + 1} of the template")
            parts.append((True, name))
        pos = match.end()
    if pos < len(template):
        parts.append((False, template[pos:]))
    if not any(is_column for is_column, _ in parts):
        raise ValueError("the template names no column; use 'const' for a fixed text")
    return parts


class Value(_Spec):
    """Where one target's value comes from, and how it is converted. Exactly one source: ``column``,
    ``const``, ``template`` or ``date`` (with ``time``)."""

    column: str | None = Field(default=None, description="the column (CSV) or key (JSON; a dotted path reaches into nested objects); ``join.column`` reads a joined file")
    const: Any = Field(default=None, description="a constant, used as written")
    template: str | None = Field(default=None, description="text with {column} placeholders, e.g. '{line}-{call_id}'")
    date: str | None = Field(default=None, description="column holding the date of a timestamp (with ``time``: date and time in two columns)")
    time: str | None = Field(default=None, description="column holding the time of day, with ``date``")
    type: ValueType | None = Field(default=None, description="convert the value: string, int, float, bool, json, timestamp")
    format: TimeFormat | None = Field(default=None, description="timestamp format: iso, epoch, epoch_ms or a strptime format; implies type timestamp")
    date_format: TimeFormat | None = Field(default=None, description="format of the ``date`` column (iso or strptime)")
    time_format: TimeFormat | None = Field(default=None, description="format of the ``time`` column (iso or strptime)")
    timezone: ZoneName | None = Field(default=None, description="IANA time zone of naive times (overrides the mapping's)")
    after: str | None = Field(default=None, description="a time column: when ``time`` is more than 12 hours earlier in the day than it, the timestamp is on the next day")
    add: Annotated[list[Offset], BeforeValidator(_as_list, json_schema_input_type=Union[Offset, list[Offset]])] = Field(
        default_factory=list, description="durations added to the timestamp"
    )
    map: dict[str, Any] | None = Field(default=None, description="value map: text → value (null: no value)")
    unmapped: Literal["error", "keep", "empty"] = Field(default="error", description="a value the map does not list: error, keep it, or no value")
    null_values: TextList | None = Field(default=None, description="texts that mean 'no value' here (instead of the mapping's)")
    default: Any = Field(default=None, description="used when there is no value")
    when: When = Field(default_factory=list, description="take the value only when these conditions hold")
    required: bool = Field(default=False, description="a row without a value is an error")
    pick: Literal["first", "last", "min", "max"] = Field(
        default="first", description="per_message layout: which row's value an interaction-level target takes"
    )
    strip: bool = Field(default=True, description="strip white space around the text")

    @field_validator("template")
    @classmethod
    def _valid_template(cls, value: str | None) -> str | None:
        if value is not None:
            _template_parts(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Value":
        sources = [name for name in ("column", "const", "template", "date") if name in self.model_fields_set and (name == "const" or getattr(self, name) is not None)]
        if self.time is not None and self.date is None:
            raise ValueError("'time' needs 'date' (the column with the date); a time alone is not a timestamp")
        if len(sources) != 1:
            found = ", ".join(repr(s) for s in sources) if sources else "none"
            raise ValueError(f"give exactly one source: 'column', 'const', 'template' or 'date' (found {found})")
        timestamp_only = [n for n in ("format", "date_format", "time_format", "timezone", "after") if getattr(self, n) is not None]
        if self.add:
            timestamp_only.append("add")
        if "const" in sources:
            extra = [n for n in ("type", "map", "null_values") if getattr(self, n) is not None] + timestamp_only
            if extra:
                verb = "does" if len(extra) == 1 else "do"
                raise ValueError(f"a constant is used as written: {', '.join(repr(e) for e in extra)} {verb} not apply")
        if self.date is not None:
            if self.format is not None:
                raise ValueError("with 'date' and 'time' columns give 'date_format' and 'time_format', not 'format'")
            if self.map is not None:
                raise ValueError("'map' does not apply to a date and time")
        elif self.date_format is not None or self.time_format is not None:
            raise ValueError("'date_format' and 'time_format' go with 'date' and 'time' columns; use 'format' for one column")
        if self.after is not None and self.time is None:
            raise ValueError("'after' compares times of day: it needs 'date' and 'time'")
        if timestamp_only and self.type not in (None, "timestamp"):
            verb = "makes" if len(timestamp_only) == 1 else "make"
            raise ValueError(f"{', '.join(repr(t) for t in timestamp_only)} {verb} a timestamp, but type is {self.type!r}")
        return self

    @property
    def makes_timestamp(self) -> bool:
        return (
            self.type == "timestamp"
            or self.date is not None
            or self.format is not None
            or self.timezone is not None
            or bool(self.add)
        )


Values = Annotated[
    list[Value],
    BeforeValidator(_column_shorthand, json_schema_input_type=Union[str, Value, list[Union[str, Value]]]),
    Field(min_length=1),
]


class EventSpec(_Spec):
    """An event synthesised from a row, e.g. ``call.answered`` at ``ser_start`` when ``outcome`` is AGENT."""

    type: EventType = Field(description="the event type")
    at: Values = Field(description="when it happened: a column, or a source as for fields")
    when: When = Field(default_factory=list, description="synthesise the event only when these conditions hold")
    fields: dict[str, Values] = Field(default_factory=dict, description="other event fields: target (e.g. author.role, text, status) → source")


class ThreadSpec(_Spec):
    """Reply trees (social media): every row is one post; a tree of replies is one interaction."""

    id: str = Field(description="column with the post's id")
    parent: str = Field(description="column with the id of the post it replies to (empty for a first post)")
    replies: str | None = Field(
        default=None, description="column listing the ids of the replies; lets a finished tree be checked before the input ends"
    )
    separator: str = Field(default=",", min_length=1, description="separator of the ids in ``replies``")
    incomplete: Literal["reject", "check"] = Field(
        default="reject",
        description="a tree that refers to posts the export lacks (the post its first post answers, a listed reply): "
        "reject it (SR310), or check it with the posts there are",
    )


class InputSpec(_Spec):
    """How to read a file: format, text encoding and CSV dialect (defaults: from the file name and content)."""

    format: Literal["csv", "json", "jsonl"] | None = Field(default=None, description="csv, json (an array) or jsonl")
    encoding: str = Field(default="utf-8", description="text encoding, e.g. utf-8, latin-1, cp1252")
    csv: dict[str, Any] | None = Field(default=None, description="CSV options: delimiter, quotechar, escapechar, doublequote, skipinitialspace, strict, quoting")

    @model_validator(mode="after")
    def _readable(self) -> "InputSpec":
        # read_records checks its arguments at once and opens the file only when iterated
        read_records(os.devnull, format=self.format, encoding=self.encoding, csv_dialect=self.csv)
        return self


class JoinSpec(_Spec):
    """A secondary file read fully into memory as a lookup table keyed by one of its columns."""

    file: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]]), Field(min_length=1)] = Field(
        description="file name (relative to the input's directory) or a list of candidate names; the first that exists is read"
    )
    key: str = Field(description="the column of the joined file that identifies a row")
    on: str = Field(description="the column of the input (or ``join.column`` of an earlier join) whose value is looked up")
    required: bool = Field(default=False, description="a row without a match is an error (otherwise the joined columns are empty)")
    input: InputSpec = Field(default_factory=InputSpec, description="how to read the joined file")


class Mapping(_Spec):
    """A mapping file: how the rows of an export become interactions."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, title="servicerules mapping")

    mapping: str | None = Field(default=None, description="name of the mapping")
    description: str | None = None
    input: InputSpec = Field(default_factory=InputSpec, description="how to read the export")
    layout: Literal["per_message", "per_interaction"] = Field(description="one row per message (grouped into interactions) or one row per interaction")
    group_by: str | None = Field(default=None, description="per_message: the column whose value identifies the interaction")
    grouping: Literal["contiguous", "buffered"] | None = Field(
        default=None, description="with group_by: contiguous (rows of one interaction are adjacent; streams) or buffered (holds every group until the input ends)"
    )
    thread: ThreadSpec | None = Field(default=None, description="per_message: group reply trees into one interaction each (instead of group_by)")
    timezone: ZoneName | None = Field(default=None, description="IANA time zone of naive timestamps")
    timestamp_format: TimeFormat | None = Field(default=None, description="default format of timestamp columns (default iso)")
    date_format: TimeFormat | None = Field(default=None, description="default format of date columns (default iso)")
    time_format: TimeFormat | None = Field(default=None, description="default format of time columns (default iso)")
    null_values: TextList = Field(default_factory=list, description="texts that mean 'no value' in every column (the empty text always does)")
    missing_columns: Literal["error", "empty"] = Field(default="error", description="a column the record does not have: an error, or no value")
    sort_events: bool = Field(default=True, description="sort each interaction's events by time")
    joins: dict[str, JoinSpec] = Field(default_factory=dict, description="lookup tables from secondary files, by name")
    fields: dict[str, Values] = Field(description="target path → source")
    events: list[EventSpec] = Field(default_factory=list, description="events synthesised from each row")

    _plan_cache: "_Plan | None" = PrivateAttr(default=None)
    _join_cache: "dict[tuple[Any, ...], _JoinTable]" = PrivateAttr(default_factory=dict)
    _doc: SourceDocument | None = PrivateAttr(default=None)
    _keys: "dict[DocPath, str]" = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo) -> "Mapping":
        if (info.context or {}).get("_checked_by_loader"):
            return self  # load_mapping reports these with file positions
        view = {
            "layout": self.layout, "group_by": self.group_by, "grouping": self.grouping, "thread": self.thread,
            "fields": self.fields, "joins": {name: {"on": join.on} for name, join in self.joins.items()},
        }
        problems = _target_problems(self.fields, (e.fields for e in self.events)) + _structure_problems(view)
        if problems:
            raise ValueError("; ".join(p.message for p in problems))
        return self

    def __getstate__(self) -> dict[Any, Any]:
        # the compiled plan holds closures and the join tables can be large: neither travels to workers
        state = dict(super().__getstate__())
        private = dict(state.get("__pydantic_private__") or {})
        private["_plan_cache"] = None
        private["_join_cache"] = {}
        state["__pydantic_private__"] = private
        return state

    @property
    def source_file(self) -> str | None:
        """The mapping file this was loaded from (None for text)."""
        return self._doc.file if self._doc is not None else None


# ------------------------------------------------------------------------------------- targets and checks


@dataclass(frozen=True)
class _Problem:
    path: tuple[str | int, ...]
    code: str
    message: str
    hint: str | None = None
    key: bool = False


_MODELS: dict[str, type[BaseModel]] = {"customer": Customer, "author": Author}
_TIMESTAMP_FIELDS = {(Interaction, "created_at"), (Interaction, "solved_at"), (Interaction, "closed_at"), (Event, "at")}
_LISTS: dict[str, type[BaseModel]] = {"events": Event, "agents": Agent}


@dataclass(frozen=True)
class _Target:
    text: str
    list_name: str | None  # "events" or "agents" for an ``x[].…`` target
    path: tuple[str, ...]  # below the interaction, or below the list element
    timestamp: bool
    text_field: bool = False  # a free-text field of the model (id, name, …): numbers become text


def _is_text(annotation: Any) -> bool:
    """Whether a field holds free text (``str``, ``str | None``, ``Annotated[str, …]``), not a choice."""
    args = [a for a in _flatten(annotation) if a is not type(None)]
    return bool(args) and all(a is str for a in args)


def _parse_target(text: str, root: type[BaseModel]) -> _Target | _Problem:
    """Resolve a target path against the interaction (or event) model."""
    parts = text.split(".")
    list_name: str | None = None
    model: type[BaseModel] | None = root
    path: list[str] = []
    for index, part in enumerate(parts):
        name = part[:-2] if part.endswith("[]") else part
        if not name:
            return _Problem((), "SR112", f"target {text!r}: empty name in the path")
        if model is None:  # below attributes: free-form keys
            if part != name:
                return _Problem((), "SR112", f"target {text!r}: '[]' is only allowed on events and agents")
            path.append(name)
            continue
        fields = model.model_fields
        if name not in fields:
            where = "the interaction" if model is Interaction else f"{'the event' if model is Event else model.__name__.lower()}"
            hint = did_you_mean(name, [*fields, *(f"{n}[]" for n in _LISTS if model is Interaction)])
            return _Problem((), "SR110", f"target {text!r}: {where} has no field {name!r}", hint)
        if part != name:
            if model is not Interaction or name not in _LISTS or index != 0:
                return _Problem((), "SR112", f"target {text!r}: '[]' is only allowed on events and agents")
            list_name, model = name, _LISTS[name]
            if index == len(parts) - 1:
                return _Problem((), "SR112", f"target {text!r}: name a field of the element, e.g. {name}[].{next(iter(model.model_fields))}")
            continue
        path.append(name)
        if name == "attributes":
            model = None
        elif name in _MODELS:
            model = _MODELS[name]
        elif index < len(parts) - 1:
            return _Problem((), "SR112", f"target {text!r}: {name!r} is a single value, it has no fields")
    owner = _LISTS[list_name] if list_name else root
    timestamp = len(path) == 1 and (owner, path[0]) in _TIMESTAMP_FIELDS
    leaf: type[BaseModel] = owner
    for name in path[:-1]:
        if name == "attributes":
            return _Target(text, list_name, tuple(path), timestamp)
        leaf = _MODELS[name]
    info = leaf.model_fields.get(path[-1])
    text_field = info is not None and path[-1] != "attributes" and _is_text(info.annotation)
    return _Target(text, list_name, tuple(path), timestamp, text_field)


def _conflicts(targets: Sequence[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str]]:
    """Pairs (inner, outer) where one target lies inside another mapped as a whole."""
    full = sorted(targets, key=lambda t: len(t[1]))
    out: list[tuple[str, str]] = []
    for i, (outer_text, outer) in enumerate(full):
        for inner_text, inner in full[i + 1 :]:
            if inner[: len(outer)] == outer:
                out.append((inner_text, outer_text))
    return out


def _target_problems(fields: AbcMapping[str, Any], event_fields: Iterable[AbcMapping[str, Any]]) -> list[_Problem]:
    problems: list[_Problem] = []
    seen: list[tuple[str, tuple[str, ...]]] = []
    for text in fields:
        target = _parse_target(str(text), Interaction)
        if isinstance(target, _Problem):
            problems.append(_Problem(("fields", text), target.code, target.message, target.hint, key=True))
            continue
        seen.append((text, (target.list_name or "", *target.path) if target.list_name else target.path))
    for inner, outer in _conflicts(seen):
        problems.append(_Problem(("fields", inner), "SR112", f"target {inner!r} lies inside {outer!r}, which is mapped as a whole", key=True))
    for index, mapping in enumerate(event_fields):
        seen_event: list[tuple[str, tuple[str, ...]]] = []
        for text in mapping:
            target = _parse_target(str(text), Event)
            path: tuple[str | int, ...] = ("events", index, "fields", text)
            if isinstance(target, _Problem):
                problems.append(_Problem(path, target.code, target.message, target.hint, key=True))
            elif target.path[0] in ("type", "at"):
                problems.append(_Problem(path, "SR112", f"target {text!r}: give the event's {target.path[0]} as its own '{target.path[0]}:'", key=True))
            else:
                seen_event.append((text, target.path))
        for inner, outer in _conflicts(seen_event):
            problems.append(_Problem(("events", index, "fields", inner), "SR112", f"target {inner!r} lies inside {outer!r}, which is mapped as a whole", key=True))
    return problems


def _structure_problems(data: AbcMapping[str, Any]) -> list[_Problem]:
    """Checks across fields, on the document as read (so they run beside the schema's checks, even when
    those fail): whatever has the wrong type here is left to the schema to report."""
    problems: list[_Problem] = []

    def given(name: str) -> bool:
        return data.get(name) is not None

    layout = data.get("layout")
    fields = data.get("fields")
    if layout == "per_message":
        if not given("group_by") and not given("thread"):
            problems.append(_Problem(("layout",), "SR111", "layout per_message needs 'group_by' (a column) or 'thread' to group rows into interactions"))
        if given("group_by") and given("thread"):
            problems.append(_Problem(("thread",), "SR112", "give either 'group_by' or 'thread', not both"))
        if given("grouping") and not given("group_by"):
            problems.append(_Problem(("grouping",), "SR112", "'grouping' goes with 'group_by' (a thread is held until it is complete)"))
    elif layout == "per_interaction":
        for name in ("group_by", "grouping", "thread"):
            if given(name):
                problems.append(_Problem((name,), "SR112", f"'{name}' needs layout per_message; with per_interaction every row is one interaction", key=True))
        if isinstance(fields, AbcMapping) and "id" not in fields:
            problems.append(_Problem(("fields",), "SR111", "missing required field 'id' in fields", "with one row per interaction, map the interaction id from a column", key=True))
    if isinstance(fields, AbcMapping) and "channel" not in fields:
        problems.append(_Problem(("fields",), "SR111", "missing required field 'channel' in fields", "map it from a column or set a constant: channel: {const: email}", key=True))
    joins = data.get("joins")
    if not isinstance(joins, AbcMapping):
        return problems
    names = list(joins)
    for index, (name, join) in enumerate(joins.items()):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", str(name)):
            problems.append(_Problem(("joins", name), "SR112", f"join name {name!r}: use letters, digits, '_' and '-' (columns are read as {name}.column)", key=True))
        on = join.get("on") if isinstance(join, AbcMapping) else None
        if not isinstance(on, str):
            continue
        head, dot, _ = on.partition(".")
        if dot and head in joins and names.index(head) >= index:
            problems.append(_Problem(("joins", name, "on"), "SR112", f"join {name!r} looks up {on!r}, but join {head!r} is not declared before it"))
    return problems


# ---------------------------------------------------------------------------------------- loading files


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped with servicerules (``twcs``, ``zendesk``, …)."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def mapping_path(name: str) -> Path:
    """The file of a shipped mapping, by name (``"twcs"``). Raises :class:`FileNotFoundError`."""
    path = MAPPINGS_DIR / f"{name}.yaml"
    if "/" in name or "\\" in name or not path.is_file():
        raise FileNotFoundError(f"no shipped mapping named {name!r}; shipped mappings: {', '.join(shipped_mappings())}")
    return path


def _mapping_source(path_or_text: str | Path) -> tuple[str, str | None]:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8"), str(path_or_text)
    if "\n" in path_or_text.strip():
        return path_or_text, None
    if Path(path_or_text).is_file():
        return Path(path_or_text).read_text(encoding="utf-8"), path_or_text
    if path_or_text in shipped_mappings():
        path = mapping_path(path_or_text)
        return path.read_text(encoding="utf-8"), str(path)
    if not path_or_text.strip() or re.search(r"^[{\[-]|: ", path_or_text.strip()):
        return path_or_text, None  # one line of YAML
    raise FileNotFoundError(f"mapping file not found: {path_or_text!r} (shipped mappings: {', '.join(shipped_mappings())})")


_TYPED_KEYS = frozenset({"const", "default", "required", "strip", "sort_events", "empty", "doublequote", "skipinitialspace", "strict", "quoting"})


def _plain_scalars(text: str) -> tuple[dict[DocPath, str], dict[DocPath, str]]:
    """The source text of plain (unquoted) scalar values and keys, by document path.

    YAML reads ``True``, ``0`` or ``2017`` as a bool or a number; a mapping compares them with the text of
    the export, so ``map: {True: customer}`` must mean the text ``True``.
    """
    values: dict[DocPath, str] = {}
    keys: dict[DocPath, str] = {}
    node = yaml.compose(text, Loader=YamlLoader)  # as load_yaml reads it, so that the paths agree
    constructor = YamlLoader("")

    def walk(n: yaml.Node, path: DocPath) -> None:
        if isinstance(n, yaml.ScalarNode):
            if n.style is None:
                values[path] = n.value
        elif isinstance(n, yaml.MappingNode):
            constructor.flatten_mapping(n)
            for key_node, value_node in n.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
                child = path + (key if isinstance(key, (str, int)) else str(key),)
                if isinstance(key_node, yaml.ScalarNode) and key_node.style is None:
                    keys[child] = key_node.value
                walk(value_node, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, path + (i,))

    if node is not None:
        walk(node, ())
    return values, keys


def _as_text(data: Any, values: dict[DocPath, str], keys: dict[DocPath, str], path: DocPath = ()) -> Any:
    """Copy of the document with unquoted non-text scalars back as their source text (except typed fields)."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            child = path + (key if isinstance(key, (str, int)) else str(key),)
            new_key = key if isinstance(key, str) else keys.get(child, str(key))
            out[new_key] = _as_text(value, values, keys, child)
        return out
    if isinstance(data, list):
        return [_as_text(item, values, keys, path + (i,)) for i, item in enumerate(data)]
    if data is None or isinstance(data, str):
        return data
    owner = next((p for p in reversed(path) if isinstance(p, str)), None)
    parent = path[-2] if len(path) >= 2 else None
    if owner in _TYPED_KEYS or parent == "map" or (owner == "map" and not isinstance(path[-1], str)):
        return data
    return values.get(path, data)


def _doc_path(path: Sequence[str | int], data: Any, keys: dict[DocPath, str]) -> DocPath:
    """A path of the text-keyed copy (see :func:`_as_text`) as a path of the document, whose keys are
    what YAML read (``on:`` is the key True in YAML 1.1)."""
    out: list[str | int] = []
    node = data
    for part in path:
        if isinstance(node, dict):
            if part not in node or not isinstance(part, str):
                match = next((k for k in node if keys.get((*out, k)) == part), None)
                if match is not None:
                    part = match
            out.append(part)
            node = node.get(part)
        else:
            out.append(part)
            node = node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None
    return tuple(out)


def _doc_loc(loc: Sequence[Any], data: Any) -> DocPath:
    """A pydantic error location as a path into the document: union branch tags and list indexes that
    shorthand normalisation added are dropped, a missing last key is kept."""
    out: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif index == len(loc) - 1 and isinstance(part, str) and not re.search(r"[\[\]()-]", part) and part[:1].islower():
            out.append(part)
    return tuple(out)


def _model_fields_at(path: DocPath) -> list[str]:
    """Field names of the model that holds ``path`` (for "did you mean" hints)."""
    current: Any = Mapping
    for part in path:
        if current is None:
            return []
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields and not any(f.alias == part for f in current.model_fields.values()):
                return []
            name = part if part in current.model_fields else next(n for n, f in current.model_fields.items() if f.alias == part)
            current = _element(current.model_fields[name].annotation)
        elif isinstance(current, dict):
            current = current.get("value")
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _element(annotation: Any) -> Any:
    """The model a field's value (or its list items, or its dict values) holds."""
    for arg in _flatten(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if getattr(arg, "__origin__", None) is dict:
            inner = _element(get_args(arg)[1])
            return {"value": inner} if inner is not None else None
    return None


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    origin = getattr(annotation, "__origin__", None)
    if origin is dict:
        return [annotation]
    if args:
        out: list[Any] = []
        for arg in args:
            if not isinstance(arg, (str, int)) and arg is not None:
                out.extend(_flatten(arg))
        return out
    return [annotation]


def _diagnostic(
    doc: SourceDocument, keys: dict[DocPath, str], code: str, message: str, path: Sequence[str | int], *, hint: str | None = None, key: bool = False
) -> Diagnostic:
    """A diagnostic at ``path`` of the text-keyed copy of the document."""
    diagnostic = doc.diagnostic(code, message, _doc_path(path, doc.data, keys), hint=hint, key=key)
    return Diagnostic(diagnostic.code, diagnostic.message, diagnostic.location, diagnostic.hint, diagnostic.source_line, tuple(path))


def _schema_diagnostics(exc: ValidationError, doc: SourceDocument, data: Any, keys: dict[DocPath, str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in exc.errors():
        loc = _doc_loc(error["loc"], data)
        kind = error["type"]
        name = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
        if kind == "extra_forbidden":
            hint = _misplaced_target(name, loc[:-1]) or did_you_mean(name, _model_fields_at(loc[:-1]))
            out.append(_diagnostic(doc, keys, "SR110", f"unknown field '{name}'", loc, hint=hint, key=True))
            continue
        if kind == "missing":
            parent = loc[:-1]
            where = f" in {_describe_path(parent)}" if parent else ""
            out.append(_diagnostic(doc, keys, "SR111", f"missing required field '{name}'{where}", parent))
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = None
        if kind == "literal_error":
            expected = str(error.get("ctx", {}).get("expected", ""))
            options = [e.strip(" '") for e in expected.replace(" or ", ",").split(",") if e.strip(" '")]
            hint = did_you_mean(str(error.get("input")), options)
            message = f"invalid value {error.get('input')!r} for '{name}': {message[0].lower() + message[1:]}"
        else:
            label = name or _describe_path(loc)
            message = f"'{label}': {message[0].lower() + message[1:]}" if label else message
        out.append(_diagnostic(doc, keys, "SR112", message, loc, hint=hint))
    unique: dict[tuple[str, Any, str], Diagnostic] = {}
    for diagnostic in out:
        unique.setdefault((diagnostic.code, diagnostic.location, diagnostic.message), diagnostic)
    return list(unique.values())


def _misplaced_target(name: str, parent: DocPath) -> str | None:
    """A hint for a target written beside ``fields:`` instead of under it (``created_at:`` at the top level,
    ``text:`` in a synthesised event)."""
    if parent == ():
        root: type[BaseModel] = Interaction
    elif len(parent) == 2 and parent[0] == "events" and isinstance(parent[1], int):
        root = Event
    else:
        return None
    if isinstance(_parse_target(name, root), _Problem):
        return None
    where = "the mapping's" if root is Interaction else "the event's"
    return f"did you mean 'fields.{name}'? Targets go under {where} 'fields:'"


def _describe_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_mapping(path_or_text: str | Path) -> Mapping:
    """Load and validate a mapping: a file path, a shipped mapping's name (``"twcs"``) or YAML text.

    Raises :class:`MappingError` listing every problem with ``file:line:col`` (codes SR100 YAML syntax,
    SR101 duplicate key, SR102 not a mapping, SR110 unknown field or target, SR111 missing field, SR112
    invalid value), and :class:`FileNotFoundError` for a path that does not exist.
    """
    text, file = _mapping_source(path_or_text)
    try:
        doc = load_yaml(text, file)
    except RulesetError as exc:
        raise MappingError(exc.diagnostics) from None
    if not isinstance(doc.data, dict):
        found = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        raise MappingError(
            [Diagnostic("SR102", f"a mapping must be a YAML mapping, this document is {found}", doc.location(()),
                        hint="start with 'layout: per_message' or 'layout: per_interaction' and 'fields:'")]
        )
    values, keys = _plain_scalars(text)
    data = _as_text(doc.data, values, keys)
    diagnostics: list[Diagnostic] = []
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    events = data.get("events") if isinstance(data.get("events"), list) else []
    event_fields: list[dict[str, Any]] = [
        e["fields"] if isinstance(e, dict) and isinstance(e.get("fields"), dict) else {} for e in events
    ]
    for problem in _target_problems(fields, event_fields) + _structure_problems(data):
        diagnostics.append(_diagnostic(doc, keys, problem.code, problem.message, problem.path, hint=problem.hint, key=problem.key))
    try:
        mapping = Mapping.model_validate(data, context={"_checked_by_loader": True})
    except ValidationError as exc:
        raise MappingError(diagnostics + _schema_diagnostics(exc, doc, data, keys)) from None
    if diagnostics:
        raise MappingError(diagnostics)
    mapping._doc = doc
    mapping._keys = keys
    return mapping


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a mapping file, as published in ``schemas/mapping.schema.json``."""
    schema = Mapping.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://servicerules.dev/schemas/mapping.schema.json",
        **schema,
    }


# ----------------------------------------------------------------------------------------- applying


class _Missing:
    """No value (an empty cell, an unmet condition, a row without a joined match)."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


_ROLL_OVER_SECONDS = 12 * 3600
"""``after``: a time this much earlier in the day than its reference is on the next day (a call that ran
past midnight); one less earlier is on the same day (two systems' clocks a few minutes apart)."""


def _day_seconds(clock: dt.time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


class _CellError(Exception):
    """Values that cannot be mapped; each message names the column and the value."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _raise_all(errors: Sequence[_CellError | None]) -> None:
    """Raise one error with the messages of all ``errors`` (a row's report names every bad value)."""
    found = [e for e in errors if e is not None]
    if found:
        raise _CellError(*(m for e in found for m in e.messages))


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > 60:
        text = text[:57] + "..."
    return "'" + text.replace("'", "\\'") + "'"


def _key_text(value: Any) -> str:
    """A cell as text, for value maps, conditions, group keys and join keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_ABSENT = object()


def _walk(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdecimal() and int(part) < len(node):  # not isdigit(): int("¹") fails
            node = node[int(part)]
        else:
            return _ABSENT
    return node


class _Row:
    """One input row with its joined rows."""

    __slots__ = ("data", "joined", "plan")

    def __init__(self, data: dict[str, Any], plan: "_Plan") -> None:
        self.data = data
        self.plan = plan
        self.joined: dict[str, dict[str, Any] | None] = {}

    def cell(self, column: str) -> Any:
        """The raw value of a column, :data:`MISSING` for no value; raises for a column that is not there."""
        data = self.data
        if column in data:
            return data[column]
        head, dot, rest = column.partition(".")
        if dot and head in self.plan.join_names:
            joined = self.joined.get(head)
            if joined is None:
                return MISSING
            value = joined.get(rest, _ABSENT)
            if value is _ABSENT:
                value = _walk(joined, rest)
            if value is _ABSENT:
                if self.plan.missing_error:
                    raise _CellError(f"no column {rest!r} in the joined file of {head!r}")
                return MISSING
            return value
        if dot:
            value = _walk(data, column)
            if value is not _ABSENT:
                return value
        if self.plan.missing_error:
            raise _CellError(_no_column(column, tuple(data)))
        return MISSING


@functools.lru_cache(maxsize=256)
def _no_column(column: str, names: tuple[str, ...]) -> str:
    """The message for a column a record lacks; remembered, since a misspelt column fails on every row."""
    hint = did_you_mean(column, [str(n) for n in names])
    shown = ", ".join(repr(k) for k in names[:12]) + (", ..." if len(names) > 12 else "")
    return f"no column {column!r} in this record ({hint + ' ' if hint else ''}it has {shown or 'no columns'})"


Getter = Callable[[_Row], Any]
Test = Callable[[_Row], bool]


def _compile_condition(c: Condition, clean: Callable[[Any], Any]) -> Test:
    column = c.column

    def value(row: _Row) -> Any:
        return clean(row.cell(column))

    checks: list[Test] = []
    if c.equals is not None:
        equals = c.equals
        checks.append(lambda row: (v := value(row)) is not MISSING and _key_text(v) == equals)
    if c.not_equals is not None:
        not_equals = c.not_equals
        checks.append(lambda row: (v := value(row)) is MISSING or _key_text(v) != not_equals)
    if c.in_ is not None:
        allowed = frozenset(c.in_)
        checks.append(lambda row: (v := value(row)) is not MISSING and _key_text(v) in allowed)
    if c.not_in is not None:
        banned = frozenset(c.not_in)
        checks.append(lambda row: (v := value(row)) is MISSING or _key_text(v) not in banned)
    if c.equals_column is not None:
        other = c.equals_column

        def same(row: _Row) -> bool:
            a, b = value(row), clean(row.cell(other))
            return a is not MISSING and b is not MISSING and _key_text(a) == _key_text(b)

        checks.append(same)
    if c.empty is not None:
        want_empty = c.empty
        checks.append(lambda row: (value(row) is MISSING) == want_empty)
    if not checks:
        checks.append(lambda row: value(row) is not MISSING)
    if len(checks) == 1:
        return checks[0]
    return lambda row: all(check(row) for check in checks)


_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_UNIT_SECONDS = {"milliseconds": 0.001, "seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}


def _convert(value: Any, kind: ValueType, where: str) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else _key_text(value)
    if kind == "int":
        if isinstance(value, bool):
            raise _CellError(f"{where}: {_show(value)} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            raise _CellError(f"{where}: {_show(value)} is not an integer") from None
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            number = float(str(value))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _CellError(f"{where}: {_show(value)} is not a number")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = _key_text(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _CellError(f"{where}: {_show(value)} is not a boolean (true/false, yes/no, 1/0)")
    if kind == "json":
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _CellError(f"{where}: {_show(value)} is not valid JSON ({exc.msg} at character {exc.pos + 1})") from None
    raise AssertionError(kind)  # pragma: no cover - timestamps are converted elsewhere


@functools.lru_cache(maxsize=16384)
def _strptime(text: str, fmt: str) -> dt.datetime:
    """:func:`datetime.strptime`, remembered: exports repeat dates and times a lot (a call log's date on
    every row, its entry time as the ``after`` of every event)."""
    return dt.datetime.strptime(text, fmt)


def _parse_datetime(text: Any, fmt: str, where: str) -> dt.datetime:
    """Parse one timestamp cell; ``where`` names its source in messages ("column 'created_at'")."""
    try:
        if fmt in ("epoch", "epoch_ms"):
            seconds = float(text) if not isinstance(text, bool) else math.nan
            if not math.isfinite(seconds):
                raise ValueError("not a finite number")
            return dt.datetime.fromtimestamp(seconds / (1000.0 if fmt == "epoch_ms" else 1.0), tz=dt.timezone.utc)
        if not isinstance(text, str):
            raise ValueError("not a text")
        if fmt == "iso":
            return dt.datetime.fromisoformat(text)
        return _strptime(text, fmt)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise _CellError(f"{where}: {_show(text)} does not match format {fmt}{_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    message = str(exc)
    if not message or message.startswith(("time data", "unconverted data", "Invalid isoformat", "could not convert", "not a ")):
        return ""
    return f" ({message})"


def _parse_date(text: Any, fmt: str, column: str) -> dt.date:
    try:
        if not isinstance(text, str):
            raise ValueError("not a text")
        return dt.date.fromisoformat(text) if fmt == "iso" else _strptime(text, fmt).date()
    except ValueError as exc:
        raise _CellError(f"column {column!r}: {_show(text)} does not match format {fmt}{_reason(exc)}") from None


def _parse_time(text: Any, fmt: str, column: str) -> dt.time:
    try:
        if not isinstance(text, str):
            raise ValueError("not a text")
        return dt.time.fromisoformat(text) if fmt == "iso" else _strptime(text, fmt).timetz()
    except ValueError as exc:
        raise _CellError(f"column {column!r}: {_show(text)} does not match format {fmt}{_reason(exc)}") from None


def _duration_seconds(value: Any, unit: str, column: str) -> float:
    if unit == "hms":
        parts = _key_text(value).split(":")
        try:
            if not 2 <= len(parts) <= 3:
                raise ValueError
            numbers = [float(p) for p in parts]
        except ValueError:
            raise _CellError(f"column {column!r}: {_show(value)} is not a duration [H:]MM:SS") from None
        # the first part counts whole hours (or minutes, in MM:SS) and may be large: 90:00 is 90 minutes
        if not all(math.isfinite(n) and n >= 0 for n in numbers) or any(n >= 60 for n in numbers[1:]):
            raise _CellError(f"column {column!r}: {_show(value)} is not a duration [H:]MM:SS (minutes and seconds after a ':' are 0 to 59)")
        seconds = 0.0
        for number in numbers:
            seconds = seconds * 60 + number
        return seconds
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(str(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _CellError(f"column {column!r}: {_show(value)} is not a number of {unit}")
    return number * _UNIT_SECONDS[unit]


@dataclass
class _Compiler:
    mapping: Mapping
    referenced: set[str] = field(default_factory=set)

    def column(self, name: str) -> str:
        self.referenced.add(name)
        return name

    def cleaner(self, null_values: Sequence[str] | None, strip: bool = True) -> Callable[[Any], Any]:
        nulls = frozenset(self.mapping.null_values if null_values is None else null_values) | {""}

        def clean(value: Any) -> Any:
            if value is MISSING or value is None:
                return MISSING
            if isinstance(value, str):
                text = value.strip() if strip else value
                if text in nulls or (strip is False and value.strip() == "" and "" in nulls):
                    return MISSING
                return text
            return value

        return clean

    def conditions(self, when: Sequence[Condition]) -> Test | None:
        if not when:
            return None
        clean = self.cleaner(None)
        for c in when:
            self.column(c.column)
            if c.equals_column is not None:
                self.column(c.equals_column)
        tests = [_compile_condition(c, clean) for c in when]
        if len(tests) == 1:
            return tests[0]
        return lambda row: all(t(row) for t in tests)

    def values(self, values: Sequence[Value], *, timestamp: bool) -> tuple[Getter, str]:
        compiled = [self.value(v, timestamp=timestamp) for v in values]
        describe = " / ".join(d for _, d in compiled)
        if len(compiled) == 1:
            return compiled[0][0], describe
        getters = [g for g, _ in compiled]

        def first(row: _Row) -> Any:
            for get in getters:
                result = get(row)
                if result is not MISSING:
                    return result
            return MISSING

        return first, describe

    def value(self, v: Value, *, timestamp: bool) -> tuple[Getter, str]:
        when = self.conditions(v.when)
        has_default = "default" in v.model_fields_set and v.default is not None
        default = v.default
        if "const" in v.model_fields_set:
            const = v.const

            def get_const(row: _Row) -> Any:
                if when is not None and not when(row):
                    return MISSING
                return MISSING if const is None else const

            return get_const, f"constant {_show(const)}"
        clean = self.cleaner(v.null_values, v.strip)
        read: Getter
        if v.column is not None:
            column = self.column(v.column)
            describe = f"column {column!r}"

            def read(row: _Row) -> Any:
                return clean(row.cell(column))

        elif v.template is not None:
            parts = _template_parts(v.template)
            for is_column, text in parts:
                if is_column:
                    self.column(text)
            describe = f"template {v.template!r}"
            template_parts = parts

            def read(row: _Row) -> Any:
                pieces: list[str] = []
                found = False
                for is_column, text in template_parts:
                    if is_column:
                        cell = clean(row.cell(text))
                        if cell is not MISSING:
                            found = True
                            pieces.append(_key_text(cell))
                    else:
                        pieces.append(text)
                return "".join(pieces) if found else MISSING

        else:
            assert v.date is not None
            return self.date_time(v, when, clean, has_default, default)
        if timestamp or v.makes_timestamp:
            convert = self.timestamp_converter(v, describe)
        else:
            convert = self.converter(v, describe)
        offsets = self.offsets(v) if v.add else None

        def get(row: _Row) -> Any:
            if when is not None and not when(row):
                return MISSING
            raw = read(row)
            if raw is MISSING:
                return default if has_default else MISSING
            if offsets is None:
                return convert(raw)
            # both are read, so that the row's report names each bad value, not only the first
            converted: _CellError | None = None
            added: _CellError | None = None
            seconds: float | None = None
            try:
                result = convert(raw)
            except _CellError as exc:
                converted, result = exc, MISSING
            try:
                seconds = offsets(row)
            except _CellError as exc:
                added = exc
            _raise_all([converted, added])
            if not isinstance(result, dt.datetime):
                return result
            return MISSING if seconds is None else _shift(result, seconds)

        return get, describe

    def converter(self, v: Value, where: str) -> Callable[[Any], Any]:
        table = v.map
        unmapped = v.unmapped
        kind = v.type

        def convert(raw: Any) -> Any:
            value = raw
            if table is not None:
                key = _key_text(raw)
                if key in table:
                    value = table[key]
                    if value is None:
                        return MISSING
                elif unmapped == "error":
                    listed = ", ".join(repr(k) for k in list(table)[:10]) + (", ..." if len(table) > 10 else "")
                    raise _CellError(f"{where}: {_show(raw)} is not in the value map ({listed})")
                elif unmapped == "empty":
                    return MISSING
            if kind is not None:
                value = _convert(value, kind, where)
            return value

        return convert

    def zone(self, v: Value) -> dt.tzinfo | None:
        name = v.timezone or self.mapping.timezone
        return _zone(name) if name else None

    def offsets(self, v: Value) -> Callable[[_Row], float | None]:
        offsets = v.add
        clean = self.cleaner(None)
        for o in offsets:
            if o.column is not None:
                self.column(o.column)

        def total(row: _Row) -> float | None:
            seconds = 0.0
            missing = False
            errors: list[_CellError | None] = []
            for o in offsets:
                if o.const is not None:
                    seconds += o.const * _UNIT_SECONDS[o.unit]
                    continue
                assert o.column is not None
                try:
                    raw = clean(row.cell(o.column))
                    if raw is MISSING:
                        missing = True
                    else:
                        seconds += _duration_seconds(raw, o.unit, o.column)
                except _CellError as exc:
                    errors.append(exc)
            _raise_all(errors)
            return None if missing else seconds

        return total

    def finish(self, value: dt.datetime, zone: dt.tzinfo | None, where: str, shown: str) -> dt.datetime:
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            if zone is None:
                raise _CellError(f"{where}: {shown} has no time zone; set 'timezone' in the mapping (an IANA name such as Europe/Berlin)")
            value = value.replace(tzinfo=zone)
        return value

    def timestamp_converter(self, v: Value, where: str) -> Callable[[Any], Any]:
        fmt = v.format or self.mapping.timestamp_format or "iso"
        zone = self.zone(v)
        pre = self.converter(v.model_copy(update={"type": None}), where) if v.map is not None else None

        def convert_value(raw: Any) -> Any:
            value = pre(raw) if pre is not None else raw
            if value is MISSING:
                return MISSING
            parsed = value if isinstance(value, dt.datetime) else _parse_datetime(value, fmt, where)
            return self.finish(parsed, zone, where, _show(value))

        return convert_value

    def date_time(self, v: Value, when: Test | None, clean: Callable[[Any], Any], has_default: bool, default: Any) -> tuple[Getter, str]:
        assert v.date is not None
        date_column = self.column(v.date)
        time_column = self.column(v.time) if v.time is not None else None
        after_column = self.column(v.after) if v.after is not None else None
        date_fmt = v.date_format or self.mapping.date_format or "iso"
        time_fmt = v.time_format or self.mapping.time_format or "iso"
        zone = self.zone(v)
        offsets = self.offsets(v) if v.add else None
        describe = f"columns {date_column!r}, {time_column!r}" if time_column else f"column {date_column!r}"

        def get(row: _Row) -> Any:
            if when is not None and not when(row):
                return MISSING
            date_raw = clean(row.cell(date_column))
            time_raw = clean(row.cell(time_column)) if time_column else None
            if date_raw is MISSING or time_raw is MISSING:
                return default if has_default else MISSING
            # every part is read, so that the row's report names each bad value, not only the first
            errors: list[_CellError | None] = []
            day = clock = start = None
            try:
                day = _parse_date(date_raw, date_fmt, date_column)
            except _CellError as exc:
                errors.append(exc)
            if time_column is not None:
                try:
                    clock = _parse_time(time_raw, time_fmt, time_column)
                except _CellError as exc:
                    errors.append(exc)
                try:
                    after_raw = clean(row.cell(after_column)) if after_column is not None else MISSING
                    if after_raw is not MISSING:
                        assert after_column is not None
                        start = _parse_time(after_raw, time_fmt, after_column)
                except _CellError as exc:
                    errors.append(exc)
            seconds = None
            if offsets is not None:
                try:
                    seconds = offsets(row)
                except _CellError as exc:
                    errors.append(exc)
            _raise_all(errors)
            assert day is not None
            if clock is None:
                moment = dt.datetime.combine(day, dt.time())
                shown = _show(date_raw)
            else:
                moment = dt.datetime.combine(day, clock)
                shown = _show(f"{_key_text(date_raw)} {_key_text(time_raw)}")
                if start is not None and _day_seconds(start) - _day_seconds(clock) > _ROLL_OVER_SECONDS:
                    moment += dt.timedelta(days=1)
            result = self.finish(moment, zone, describe, shown)
            if offsets is not None:
                if seconds is None:
                    return MISSING
                result = _shift(result, seconds)
            return result

        return get, describe


def _shift(moment: dt.datetime, seconds: float) -> dt.datetime:
    """``moment`` plus an elapsed duration (exact across daylight-saving changes)."""
    zone = moment.tzinfo
    return (moment.astimezone(dt.timezone.utc) + dt.timedelta(seconds=seconds)).astimezone(zone)


@dataclass(frozen=True)
class _ScalarPlan:
    target: str
    path: tuple[str, ...]
    get: Getter
    describe: str
    required: bool
    pick: str


@dataclass(frozen=True)
class _ElementPlan:
    target: str
    path: tuple[str, ...]
    get: Getter
    describe: str
    required: bool
    constant: bool


@dataclass(frozen=True)
class _SynthPlan:
    type: str
    when: Test | None
    at: Getter
    at_describe: str
    fields: tuple[_ElementPlan, ...]


@dataclass
class _Plan:
    scalars: list[_ScalarPlan]
    lists: dict[str, list[_ElementPlan]]
    synthesised: list[_SynthPlan]
    join_names: frozenset[str]
    join_columns: dict[str, frozenset[str]]
    missing_error: bool
    key_column: str | None
    thread: ThreadSpec | None
    per_message: bool
    sort_events: bool
    grouping: str


def _compile(m: Mapping) -> _Plan:
    c = _Compiler(m)
    scalars: list[_ScalarPlan] = []
    lists: dict[str, list[_ElementPlan]] = {}

    def getter(values: Sequence[Value], target: _Target) -> tuple[Getter, str]:
        get, describe = c.values(values, timestamp=target.timestamp)
        if not target.text_field:
            return get, describe

        def as_text(row: _Row) -> Any:
            value = get(row)
            return _key_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

        return as_text, describe

    for text, values in m.fields.items():
        target = _parse_target(text, Interaction)
        assert isinstance(target, _Target)
        get, describe = getter(values, target)
        required = any(v.required for v in values) or (text == "id" and m.layout == "per_interaction")
        if target.list_name is None:
            scalars.append(_ScalarPlan(text, target.path, get, describe, required, values[0].pick))
        else:
            constant = all("const" in v.model_fields_set for v in values)
            lists.setdefault(target.list_name, []).append(_ElementPlan(text, target.path, get, describe, required, constant))
    synthesised: list[_SynthPlan] = []
    for spec in m.events:
        at, at_describe = c.values(spec.at, timestamp=True)
        plans: list[_ElementPlan] = []
        for text, values in spec.fields.items():
            target = _parse_target(text, Event)
            assert isinstance(target, _Target)
            get, describe = getter(values, target)
            plans.append(_ElementPlan(text, target.path, get, describe, any(v.required for v in values), False))
        synthesised.append(_SynthPlan(spec.type, c.conditions(spec.when), at, at_describe, tuple(plans)))
    key_column: str | None = None
    if m.group_by is not None:
        key_column = c.column(m.group_by)
    if m.thread is not None:
        for name in (m.thread.id, m.thread.parent, m.thread.replies):
            if name is not None:
                c.column(name)
    for join in m.joins.values():
        c.column(join.on)
    join_names = frozenset(m.joins)
    join_columns: dict[str, set[str]] = {name: set() for name in m.joins}
    for name in c.referenced:
        head, dot, rest = name.partition(".")
        if dot and head in join_columns:
            join_columns[head].add(rest)
    return _Plan(
        scalars=scalars,
        lists=lists,
        synthesised=synthesised,
        join_names=join_names,
        join_columns={k: frozenset(v) for k, v in join_columns.items()},
        missing_error=m.missing_columns == "error",
        key_column=key_column,
        thread=m.thread,
        per_message=m.layout == "per_message",
        sort_events=m.sort_events,
        grouping=m.grouping or "contiguous",
    )


def _plan(m: Mapping) -> _Plan:
    if m._plan_cache is None:
        m._plan_cache = _compile(m)
    return m._plan_cache


# -------------------------------------------------------------------------------------------- rows


@dataclass(slots=True)
class _RowResult:
    seq: int
    position: SourcePosition
    scalars: dict[str, Any]
    elements: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]


def _set(target: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def _map_row(plan: _Plan, row: _Row, seq: int, position: SourcePosition) -> _RowResult | list[str]:
    errors: list[str] = []
    scalars: dict[str, Any] = {}
    for s in plan.scalars:
        try:
            value = s.get(row)
        except _CellError as exc:
            errors.extend(exc.messages)
            continue
        if value is MISSING:
            if s.required:
                errors.append(f"no value in {s.describe}; '{s.target}' needs one")
            continue
        scalars[s.target] = value
    elements: dict[str, dict[str, Any]] = {}
    for list_name, plans in plan.lists.items():
        element: dict[str, Any] = {}
        found = False
        empty_required: list[_ElementPlan] = []
        for p in plans:
            try:
                value = p.get(row)
            except _CellError as exc:
                errors.extend(exc.messages)
                found = True
                continue
            if value is MISSING:
                if p.required or (list_name == "events" and p.path == ("at",)):
                    empty_required.append(p)
                continue
            _set(element, p.path, value)
            found = found or not p.constant
        if not found and any(not p.constant for p in plans):
            continue
        if list_name == "events":
            element.setdefault("type", "message")
            if "at" not in element and not any(p.path == ("at",) for p in plans):
                errors.append("no target 'events[].at': an event needs a time")
        errors.extend(f"no value in {p.describe}; '{p.target}' needs one" for p in empty_required)
        elements[list_name] = element
    events: list[dict[str, Any]] = []
    for synth in plan.synthesised:
        try:
            if synth.when is not None and not synth.when(row):
                continue
            at = synth.at(row)
        except _CellError as exc:
            errors.extend(exc.messages)
            continue
        if at is MISSING:
            errors.append(f"no value in {synth.at_describe}; event {synth.type!r} needs a time ('at')")
            continue
        event: dict[str, Any] = {"type": synth.type, "at": at}
        for p in synth.fields:
            try:
                value = p.get(row)
            except _CellError as exc:
                errors.extend(exc.messages)
                continue
            if value is MISSING:
                if p.required:
                    errors.append(f"no value in {p.describe}; event {synth.type!r} needs '{p.target}'")
                continue
            _set(event, p.path, value)
        events.append(event)
    if errors:
        return list(dict.fromkeys(errors))  # a column used by several targets is reported once
    return _RowResult(seq, position, scalars, elements, events)


def _pick(values: list[Any], how: str) -> Any:
    if how == "first":
        return values[0]
    if how == "last":
        return values[-1]
    try:
        return min(values) if how == "min" else max(values)
    except TypeError:
        return values[0]


def _json_ready(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def _freeze(value: Any) -> Any:
    """A hashable copy of a JSON-like value, to find equal events."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[]", *(_freeze(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return (type(value).__name__, value)


def _event_time(event: Any) -> Any:
    return event.get("at") if isinstance(event, dict) else None


def _assemble(plan: _Plan, rows: list[_RowResult], key: str | None) -> dict[str, Any]:
    """The interaction dict of one group of mapped rows (in input order)."""
    data: dict[str, Any] = {}
    for s in plan.scalars:
        values = [r.scalars[s.target] for r in rows if s.target in r.scalars]
        if values:
            _set(data, s.path, _pick(values, s.pick))
    for list_name in plan.lists:
        items = [r.elements[list_name] for r in rows if list_name in r.elements]
        if list_name != "events":
            unique: dict[str, dict[str, Any]] = {}
            for item in items:
                unique.setdefault(json.dumps(item, sort_keys=True, default=str), item)
            items = list(unique.values())
        if items:
            data[list_name] = items
    if plan.synthesised:
        seen: set[Any] = set()
        extra: list[dict[str, Any]] = []
        for r in rows:
            for event in r.events:
                signature = _freeze(event)
                if signature not in seen:
                    seen.add(signature)
                    extra.append(event)
        if extra:
            data["events"] = [*data.get("events", []), *extra]
    events = data.get("events")
    if isinstance(events, list) and events and all(isinstance(_event_time(e), dt.datetime) for e in events):
        if plan.sort_events:
            events.sort(key=_event_time)
        if "created_at" not in data:
            data["created_at"] = min(_event_time(e) for e in events)
    if "id" not in data and key is not None:
        data["id"] = key
    return {k: _json_ready(v) for k, v in data.items()}


# ------------------------------------------------------------------------------------------- joins


@dataclass
class _JoinTable:
    name: str
    file: str
    rows: dict[str, dict[str, Any]]


def _join_file(name: str, spec: JoinSpec, base_dir: str, overrides: AbcMapping[str, str | Path] | None) -> str:
    if overrides and name in overrides:
        return str(overrides[name])
    for candidate in spec.file:
        path = candidate if os.path.isabs(candidate) else os.path.join(base_dir, candidate)
        if os.path.exists(path):
            return path
    names = " or ".join(repr(f) for f in spec.file)
    raise FileNotFoundError(
        f"join {name!r}: no file {names} in {base_dir!r}; give its path (CLI: --join {name}=PATH, Python: join_files={{{name!r}: PATH}})"
    )


def _load_join(m: Mapping, plan: _Plan, names: Sequence[str], path: str) -> tuple[_JoinTable, list[RawRecord]]:
    """Read a joined file into a table keyed by ``key``, keeping only the columns the joins use."""
    name = names[0]
    spec = m.joins[name]
    keep = frozenset().union(*(plan.join_columns[n] for n in names))
    tops = frozenset(c.split(".")[0] for c in keep)
    rows: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    errors: list[RawRecord] = []
    label = "join " + ", ".join(repr(n) for n in names)
    for record in read_records(path, format=spec.input.format, encoding=spec.input.encoding, csv_dialect=spec.input.csv):
        if record.data is None:
            errors.append(RawRecord(record.position, None, f"{label}: {record.error}", record.code, 0))
            continue
        raw = record.data.get(spec.key, _ABSENT)
        if raw is _ABSENT:
            raw = _walk(record.data, spec.key)
        if raw is _ABSENT:
            columns = ", ".join(repr(k) for k in list(record.data)[:12])
            location = None
            if m._doc is not None:
                location = _diagnostic(m._doc, m._keys, "SR112", "", ("joins", name, "key"))
            diagnostic = Diagnostic(
                "SR112",
                f"{label}: {path} has no column {spec.key!r} (its columns: {columns})",
                location.location if location else None,
                hint="set 'key' to the column that identifies a row of the joined file",
                source_line=location.source_line if location else None,
            )
            raise MappingError([diagnostic])
        key = _key_text(raw).strip() if raw is not None else ""
        if not key:
            errors.append(RawRecord(record.position, None, f"{label}: column {spec.key!r} is empty; this row of the joined file is ignored", CODE_JOIN, 0))
            continue
        if key in rows:
            message = f"{label}: {spec.key} {_show(key)} appears again (first at line {first_line[key]}); this row of the joined file is ignored"
            errors.append(RawRecord(record.position, None, message, CODE_JOIN, 0))
            continue
        rows[key] = {k: v for k, v in record.data.items() if k in keep or k in tops}
        first_line[key] = record.position.line
    return _JoinTable(name, path, rows), errors


# ----------------------------------------------------------------------------------------- grouping


@dataclass
class _Group:
    key: str
    position: SourcePosition
    rows: list[_RowResult] = field(default_factory=list)
    failed: bool = False
    late: tuple[int, bool] | None = None
    """Contiguous grouping, rows of a key that came back: where the key's earlier rows started, and
    whether that interaction was checked (or rejected)."""
    count: int = 0


@dataclass
class _Tree:
    position: SourcePosition
    seq: int
    rows: list[_RowResult] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    parent_of: dict[str, str | None] = field(default_factory=dict)
    failed: int = 0
    """The line of the row that made the thread fail (not checked), 0 while it has not."""


class _Applier:
    def __init__(self, mapping: Mapping, base_dir: str | os.PathLike[str] | None, join_files: AbcMapping[str, str | Path] | None) -> None:
        self.mapping = mapping
        self.plan = _plan(mapping)
        self.base_dir = None if base_dir is None else os.fspath(base_dir)
        self.join_files = join_files
        self.tables: dict[str, _JoinTable] = {}
        self.carry = 0
        self.seq = 0

    # -- output

    def good(self, position: SourcePosition, data: dict[str, Any]) -> RawRecord:
        size, self.carry = self.carry, 0
        return RawRecord(position, data, None, None, size)

    def bad(self, position: SourcePosition, message: str, code: str) -> RawRecord:
        size, self.carry = self.carry, 0
        return RawRecord(position, None, message, code, size)

    # -- joins

    def load_joins(self, first: RawRecord) -> Iterator[RawRecord]:
        """Read the joined files (each file once, even when several joins use it with the same key)."""
        base = self.base_dir
        if base is None:
            name = first.position.file
            base = os.path.dirname(name) if name and not name.startswith("<") else "."
        cache = self.mapping._join_cache
        shared: dict[tuple[Any, ...], list[str]] = {}
        paths: dict[str, str] = {}
        for name, spec in self.mapping.joins.items():
            path = _join_file(name, spec, base or ".", self.join_files)
            paths[name] = path
            try:
                st = os.stat(path)
                stamp: tuple[int, int] = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = (-1, -1)
            key = (os.path.abspath(path), *stamp, spec.key, spec.input.model_dump_json())
            shared.setdefault(key, []).append(name)
        for key, names in shared.items():
            cached = cache.get(key) if key[1] != -1 else None
            if cached is None:
                cached, errors = _load_join(self.mapping, self.plan, names, paths[names[0]])
                if key[1] != -1:
                    cache[key] = cached
                yield from errors
            for name in names:
                self.tables[name] = cached

    def resolve_joins(self, row: _Row) -> str | None:
        for name, spec in self.mapping.joins.items():
            raw = row.cell(spec.on)
            key = _key_text(raw).strip() if raw is not MISSING and raw is not None else ""
            if not key:
                row.joined[name] = None
                continue
            match = self.tables[name].rows.get(key)
            row.joined[name] = match
            if match is None and spec.required:
                return f"column {spec.on!r}: {_show(key)} has no match in column {spec.key!r} of {self.tables[name].file} (join {name!r})"
        return None

    # -- the stream

    def run(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        started = False
        grouper = self.group_contiguous if self.plan.grouping == "contiguous" else self.group_buffered
        if not self.plan.per_message:
            grouper = self.single
        elif self.plan.thread is not None:
            grouper = self.group_threads
        state: dict[str, Any] = {}
        for record in records:
            self.carry += record.size
            if not started:
                started = True
                if self.mapping.joins:
                    yield from self.load_joins(record)
            if record.data is None:
                yield RawRecord(record.position, None, record.error, record.code, self.carry)
                self.carry = 0
                continue
            yield from grouper(record, state)
        yield from grouper(None, state)

    def mapped(self, record: RawRecord) -> tuple[_Row, _RowResult | list[str]]:
        assert record.data is not None
        row = _Row(record.data, self.plan)
        self.seq += 1
        try:
            problem = self.resolve_joins(row)
        except _CellError as exc:
            return row, [str(exc)]
        if problem is not None:
            return row, [problem]
        return row, _map_row(self.plan, row, self.seq, record.position)

    def key_of(self, row: _Row, column: str) -> str | list[str]:
        try:
            raw = row.cell(column)
        except _CellError as exc:
            return [str(exc)]
        text = _key_text(raw).strip() if raw is not MISSING and raw is not None else ""
        return text if text else [f"column {column!r} is empty; a row needs it to be grouped into an interaction"]

    def single(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        if record is None:
            return
        _, result = self.mapped(record)
        if isinstance(result, list):
            yield self.bad(record.position, "; ".join(result), CODE_VALUE)
        else:
            yield self.good(record.position, _assemble(self.plan, [result], None))

    def emit(self, group: _Group) -> Iterator[RawRecord]:
        if group.late is not None:
            column = self.plan.key_column
            line, checked = group.late
            if group.count == 1:
                rows, are, them, these = "1 row", "is", "it", "this row is"
            else:
                rows, are, them, these = f"{group.count} rows", "are", "them", "these rows are"
            # A streaming reader cannot take back what it has emitted: the earlier part is out already.
            if checked:
                consequence = (
                    f"interaction {_show(group.key)} was already checked without {them}, so its results are incomplete "
                    f"and may be wrong, and {these} not checked"
                )
            else:
                consequence = f"interaction {_show(group.key)} was rejected there, and {these} not checked either"
            message = (
                f"{column} {_show(group.key)}: {rows} from line {group.position.line} {are} not next to the interaction's "
                f"earlier rows (from line {line}); {consequence}; grouping: contiguous needs the rows of one interaction "
                f"together (sort the export by {column} or use grouping: buffered)"
            )
            yield self.bad(group.position, message, CODE_GROUPING)
        elif not group.failed and group.rows:
            yield self.good(group.position, _assemble(self.plan, group.rows, group.key))

    def add_to_group(self, group: _Group, record: RawRecord) -> Iterator[RawRecord]:
        group.count += 1
        if group.late is not None:
            return  # reported as a whole when the run of rows ends
        _, result = self.mapped(record)
        if isinstance(result, list):
            group.failed = True
            group.rows.clear()
            suffix = f"; interaction {_show(group.key)} is not checked"
            yield self.bad(record.position, "; ".join(result) + suffix, CODE_VALUE)
        elif not group.failed:
            group.rows.append(result)

    def group_contiguous(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        current: _Group | None = state.get("current")
        finished: dict[str, tuple[int, bool]] = state.setdefault("finished", {})
        if record is None:
            if current is not None:
                yield from self.emit(current)
            return
        assert record.data is not None and self.plan.key_column is not None
        key = self.key_of(_Row(record.data, self.plan), self.plan.key_column)
        if isinstance(key, list):
            yield self.bad(record.position, "; ".join(key), CODE_GROUPING)
            return
        if current is None or key != current.key:
            if current is not None:
                if current.late is None:
                    finished[current.key] = (current.position.line, not current.failed and bool(current.rows))
                yield from self.emit(current)
            current = _Group(key, record.position, late=finished.get(key))
            state["current"] = current
        yield from self.add_to_group(current, record)

    def group_buffered(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        groups: dict[str, _Group] = state.setdefault("groups", {})
        if record is None:
            for group in groups.values():
                yield from self.emit(group)
            groups.clear()
            return
        assert record.data is not None and self.plan.key_column is not None
        key = self.key_of(_Row(record.data, self.plan), self.plan.key_column)
        if isinstance(key, list):
            yield self.bad(record.position, "; ".join(key), CODE_GROUPING)
            return
        group = groups.get(key) or groups.setdefault(key, _Group(key, record.position))
        yield from self.add_to_group(group, record)

    def group_threads(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        thread = self.plan.thread
        assert thread is not None
        trees: dict[str, _Tree] = state.setdefault("trees", {})
        # The posts of failed threads that came out already (with replies): a later post linked to one is in a
        # thread that is not checked, and must not be checked as a thread of its own. Grows with the failures.
        rejected: dict[str, int] = state.setdefault("rejected", {})
        # The line of every post read, to reject a post id that appears again wherever its thread is (open, out,
        # rejected). Grows with the input: one id and one number per post.
        first_lines: dict[str, int] = state.setdefault("first_lines", {})
        if record is None:
            remaining = {id(t): t for t in trees.values()}
            for tree in sorted(remaining.values(), key=lambda t: t.seq):
                if tree.pending and tree.rows and not tree.failed and thread.incomplete == "reject":
                    yield self.bad(tree.position, self.incomplete(tree, first_lines), CODE_GROUPING)
                else:
                    yield from self.emit_tree(tree)
            trees.clear()
            return
        assert record.data is not None
        row = _Row(record.data, self.plan)
        own = self.key_of(row, thread.id)
        if isinstance(own, list):
            yield self.bad(record.position, "; ".join(own), CODE_GROUPING)
            return
        first = first_lines.get(own)
        if first is not None:
            yield self.bad(record.position, f"{thread.id} {_show(own)} appears again (first at line {first}); only the first row with this id is used", CODE_GROUPING)
            return
        try:
            parent_raw = row.cell(thread.parent)
            replies_raw = row.cell(thread.replies) if thread.replies is not None else MISSING
        except _CellError as exc:
            yield self.bad(record.position, str(exc), CODE_GROUPING)
            return
        parent = _key_text(parent_raw).strip() if parent_raw is not MISSING and parent_raw is not None else ""
        replies: list[str] = []
        if replies_raw is not MISSING and replies_raw is not None:
            items = replies_raw if isinstance(replies_raw, list) else _key_text(replies_raw).split(thread.separator)
            replies = [r for r in (_key_text(i).strip() for i in items) if r]
        first_lines[own] = record.position.line
        known = trees.get(own)
        if known is None:
            tree = _Tree(record.position, self.seq + 1)
            trees[own] = tree
            tree.ids.append(own)
        else:
            tree = known
        for other in ([parent] if parent else []) + replies:
            found = trees.get(other)
            if found is None:
                trees[other] = tree
                tree.ids.append(other)
                if other not in tree.seen:
                    tree.pending.add(other)
            elif found is not tree:
                tree = self.merge(trees, tree, found)
        tree.seen.add(own)
        tree.pending.discard(own)
        tree.parent_of[own] = parent or None
        linked = next((x for x in (own, parent, *replies) if x in rejected), None) if rejected and not tree.failed else None
        if linked is not None:
            tree.failed = rejected[linked]
            tree.rows.clear()
            tree.pending = {x for x in tree.pending if x not in rejected}  # those will not make it any better
            # not ``own``: the posts of a thread that came out were all read, and a post read again is rejected above
            why = f"{thread.id} {_show(own)} is in the thread of {thread.id} {_show(linked)}, which is not checked (line {tree.failed})"
            yield self.bad(record.position, f"{why}; the thread of {thread.id} {_show(own)} is not checked either", CODE_GROUPING)
        else:
            _, result = self.mapped(record)
            if isinstance(result, list):
                if not tree.failed:
                    tree.failed = record.position.line
                tree.rows.clear()
                yield self.bad(record.position, "; ".join(result) + f"; the thread of {thread.id} {_show(own)} is not checked", CODE_VALUE)
            elif not tree.failed:
                tree.rows.append(result)
        if thread.replies is not None and not tree.pending:
            for x in tree.ids:
                trees.pop(x, None)
                if tree.failed:
                    rejected[x] = tree.failed
            yield from self.emit_tree(tree)

    @staticmethod
    def merge(trees: dict[str, _Tree], a: _Tree, b: _Tree) -> _Tree:
        big, small = (a, b) if len(a.ids) >= len(b.ids) else (b, a)
        for x in small.ids:
            trees[x] = big
        big.ids.extend(small.ids)
        big.seen |= small.seen
        big.pending = (big.pending | small.pending) - big.seen
        big.parent_of.update(small.parent_of)
        big.failed = min(filter(None, (big.failed, small.failed)), default=0)  # the first failing line, if any
        big.rows = [] if big.failed else big.rows + small.rows
        if small.seq < big.seq:
            big.seq, big.position = small.seq, small.position
        return big

    def incomplete(self, tree: _Tree, first_lines: dict[str, int]) -> str:
        """Why a tree that refers to posts it does not have is not checked: posts the input lacks, or posts of a
        thread that came out (was checked) before this part of it was read."""
        thread = self.plan.thread
        assert thread is not None

        def listed(ids: list[str]) -> str:
            shown = [_show(x) + (f" (line {first_lines[x]})" if x in first_lines else "") for x in ids[:5]]
            return ", ".join(shown) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")

        absent = sorted(x for x in tree.pending if x not in first_lines)
        earlier = sorted((x for x in tree.pending if x in first_lines), key=first_lines.__getitem__)
        reasons = []
        if absent:
            reasons.append(f"{thread.id} {listed(absent)}, which the export does not have (a post it answers, or a reply it lists)")
        if earlier:
            reasons.append(f"{thread.id} {listed(earlier)}, whose thread was checked before this post came (a reply its post did not list)")
        posts = len(tree.rows)
        them = "them" if len(tree.pending) > 1 else "it"
        return (
            f"the thread from line {tree.position.line} ({posts} post{'s' if posts != 1 else ''}) refers to "
            f"{', and to '.join(reasons)}, so it is not checked: it would be judged without {them} (thread: "
            f"{{incomplete: check}} checks such threads with the posts there are)"
        )

    def emit_tree(self, tree: _Tree) -> Iterator[RawRecord]:
        if tree.failed or not tree.rows:
            return
        rows = sorted(tree.rows, key=lambda r: r.seq)
        yield self.good(rows[0].position, _assemble(self.plan, rows, _root(tree)))


def _root(tree: _Tree) -> str:
    """The id of the tree's first post; when that post is not in the input, the id its replies point to."""
    current = next(iter(tree.parent_of))
    visited = {current}
    while True:
        parent = tree.parent_of.get(current)
        if not parent:
            return current
        if parent not in tree.parent_of or parent in visited:
            return parent if parent not in tree.parent_of else current
        visited.add(parent)
        current = parent


def apply_mapping(
    mapping: Mapping,
    records: Iterable[RawRecord],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    join_files: AbcMapping[str, str | Path] | None = None,
) -> Iterator[RawRecord]:
    """Map raw export rows to interaction records.

    Yields one ``RawRecord`` per interaction (``data`` is the interaction dict, ``position`` that of its
    first row, ``size`` the sizes of the rows consumed since the previous output) and one per row that
    cannot be mapped (``error`` names the column and the value, ``code`` SR310, the row's own position).
    Reader errors pass through unchanged; rows of joined files that cannot be used are reported with their
    position in the joined file. Joined files are found in ``base_dir`` (default: the directory of the
    first record's file) unless ``join_files`` names them; a missing one raises :class:`FileNotFoundError`
    when iteration starts; a name in ``join_files`` that the mapping does not join raises
    :class:`ValueError` at once.
    """
    unknown = sorted(set(join_files or ()) - set(mapping.joins))
    if unknown:
        known = ", ".join(mapping.joins) or "none"
        raise ValueError(f"the mapping has no join named {', '.join(repr(u) for u in unknown)} (its joins: {known})")
    return _Applier(mapping, base_dir, join_files).run(records)


def read_mapped(
    mapping: Mapping,
    path: str,
    *,
    join_files: AbcMapping[str, str | Path] | None = None,
) -> Iterator[RawRecord]:
    """Read one export file (``-`` for stdin) with the mapping's ``input`` options and map it."""
    spec = mapping.input
    records = read_records(path, format=spec.format, encoding=spec.encoding, csv_dialect=spec.csv)
    base_dir = "." if path == "-" else (os.path.dirname(path) or ".")
    return apply_mapping(mapping, records, base_dir=base_dir, join_files=join_files)
