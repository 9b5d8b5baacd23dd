"""The schema of a mapping file: its pydantic models (:class:`Mapping` and its parts) and its JSON Schema.

The models check each field and the fields of one object together; the checks across the whole file (target
paths, layout and grouping, joins) are in :mod:`servicerules.batch.mapping._checks`, which
:meth:`Mapping._semantics` runs for a mapping built in Python (:func:`~servicerules.batch.mapping.load_mapping`
runs them itself, to report them with file positions).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from servicerules.batch.mapping._checks import _structure_problems, _target_problems, _value_problems
from servicerules.batch.readers import read_records
from servicerules.loader import SourceDocument
from servicerules.model.interaction import EventType

if TYPE_CHECKING:
    from servicerules.batch.mapping._apply import _JoinTable
    from servicerules.batch.mapping._plan import _Plan


DocPath = tuple[Union[str, int], ...]
ValueType = Literal["string", "int", "float", "bool", "json", "timestamp"]
_SPECIAL_FORMATS = ("iso", "epoch", "epoch_ms", "excel")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


def _column_shorthand(value: Any) -> Any:
    """``name`` → ``[{column: name}]``; ``{...}`` → ``[{...}]``; a list's strings become ``{column: …}`` (for
    sources and for conditions alike)."""
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


TextList = Annotated[list[str], BeforeValidator(_texts, json_schema_input_type=Union[str, list[str]])]
"""Texts; one text alone is a list of one."""


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


When = Annotated[
    list[Condition],
    BeforeValidator(_column_shorthand, json_schema_input_type=Union[str, Condition, list[Union[str, Condition]]]),
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
        if self.const is not None and not math.isfinite(self.const):
            raise ValueError(f"a constant duration is a finite number, not {self.const}")
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
        raise ValueError(f"{value!r} is not a time format: write iso, epoch, epoch_ms, excel or a strptime format such as %Y-%m-%d %H:%M")
    if value not in _SPECIAL_FORMATS:
        try:  # strptime checks the directives before the text: a bad one fails here, not on every row
            dt.datetime.strptime("", value)
        except ValueError as exc:
            if "does not match format" not in str(exc):
                raise ValueError(f"{exc} (strptime directives: %Y %m %d %H %M %S %z %b %p …; %% is a literal %)") from None
        problem = _directive_problem(set(re.findall(r"%(.)", value.replace("%%", ""))))
        if problem:
            raise ValueError(f"{value!r}: {problem}")
    return value


def _directive_problem(directives: set[str]) -> str | None:
    """What strptime would read wrongly, or fail on in every row, with these directives together."""
    weekday = bool(directives & {"a", "A", "w", "u"})
    if "I" in directives and "p" not in directives:
        return "'%I' is the hour on a 12-hour clock: without '%p' (AM or PM) every time is read as a morning one (12:30 as 00:30); use %H for a 24-hour clock"
    if directives & {"U", "W"} and not weekday and "j" not in directives:
        return "strptime ignores a week number ('%U', '%W') without a weekday ('%a', '%A', '%w' or '%u'): every date would be the first of the year"
    if directives & {"G", "V"} and not ({"G", "V"} <= directives and weekday):
        return "an ISO week ('%V') needs its ISO year ('%G') and a weekday ('%a', '%A', '%w' or '%u'), and '%G' needs both"
    return None


def _check_zone(value: str) -> str:
    _zone(value)
    return value


def _check_part_format(value: str) -> str:
    if value in ("epoch", "epoch_ms"):
        raise ValueError(
            f"{value!r} reads a whole timestamp, not a date or a time of day: give it as 'format' of one column; "
            "a date or time column takes iso, excel or a strptime format"
        )
    return _check_format(value)


TimeFormat = Annotated[str, AfterValidator(_check_format)]
"""iso, epoch, epoch_ms, excel (a spreadsheet serial) or a strptime format."""
PartFormat = Annotated[str, AfterValidator(_check_part_format)]
"""The format of a date or a time-of-day column: iso, excel or a strptime format."""
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
    format: TimeFormat | None = Field(default=None, description="timestamp format: iso, epoch, epoch_ms, excel (a spreadsheet serial: days since 1899-12-30) or a strptime format; implies type timestamp")
    date_format: PartFormat | None = Field(default=None, description="format of the ``date`` column (iso, excel or strptime)")
    time_format: PartFormat | None = Field(default=None, description="format of the ``time`` column (iso, excel: a fraction of a day, or strptime)")
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

    format: Literal["csv", "json", "jsonl"] | None = Field(default=None, description="csv, json (an array of records, one record, or one record per line) or jsonl")
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
    date_format: PartFormat | None = Field(default=None, description="default format of date columns (default iso)")
    time_format: PartFormat | None = Field(default=None, description="default format of time columns (default iso)")
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
        problems += _value_problems(self.fields, ((e.type, e.fields) for e in self.events))
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


_SCALAR_TEXT = ["string", "number", "boolean"]


def _scalars_as_text(schema: Any) -> Any:
    """``schema`` with every free text (a ``string`` without enum, pattern or format) also taking a number or a
    boolean: the loader reads an unquoted ``2017`` or ``True`` as the text written (see ``_as_text``)."""
    if isinstance(schema, list):
        return [_scalars_as_text(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _scalars_as_text(value) for key, value in schema.items()}
    if out.get("type") == "string" and not {"enum", "const", "pattern", "format"} & out.keys():
        out["type"] = _SCALAR_TEXT
    return out


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a mapping file, as published in ``schemas/mapping.schema.json``.

    It guides editors (completion, each field's type and values). The loader is the authority: it also
    checks what the schema does not say, such as exactly one source per value, layout and grouping, target
    paths, formats and time zones; and it reads ``yes``/``1`` as ``true`` where a boolean is due and
    ``"30"`` as 30 where a number is, which the schema flags."""
    schema = _scalars_as_text(Mapping.model_json_schema(mode="validation"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://servicerules.dev/schemas/mapping.schema.json",
        **schema,
    }
