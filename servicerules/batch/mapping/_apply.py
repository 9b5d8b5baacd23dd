"""Applying a mapping to a stream of records: each row mapped by the plan, joined files looked up, rows grouped
into interactions (per interaction, contiguous or buffered groups, reply trees) and assembled.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from servicerules.batch.mapping._load import MappingError, _diagnostic
from servicerules.batch.mapping._plan import (
    _ABSENT,
    MISSING,
    _CellError,
    _ElementPlan,
    _key_text,
    _Plan,
    _plan,
    _Row,
    _ScalarPlan,
    _show,
    _TargetPlan,
    _walk,
)
from servicerules.batch.mapping._spec import JoinSpec, Mapping
from servicerules.batch.readers import RawRecord, SourcePosition, read_records
from servicerules.errors import Diagnostic


# Error codes of records that cannot be mapped: all SR310 ("record cannot be mapped onto an interaction"); one day perhaps SR320 (a value cannot be
# converted), SR321 (rows of one interaction not adjacent under grouping: contiguous), SR322 (joins).
CODE_VALUE = "SR310"
CODE_GROUPING = "SR310"
CODE_JOIN = "SR310"


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


_P = TypeVar("_P", bound=_TargetPlan)


def _values(plans: Iterable[_P], row: _Row, errors: list[str], needs: Callable[[_P], str]) -> Iterator[tuple[_P, Any]]:
    """Each target's value in ``row``; its problems (a bad value, a required one missing) go to ``errors``."""
    for p in plans:
        try:
            value = p.get(row)
        except _CellError as exc:
            errors.extend(exc.messages)
            continue
        if value is MISSING:
            if p.required:
                errors.append(f"no value in {p.describe}; {needs(p)}")
            continue
        yield p, value


def _map_row(plan: _Plan, row: _Row, seq: int, position: SourcePosition) -> _RowResult | list[str]:
    errors: list[str] = []
    scalars: dict[str, Any] = {}
    for s, value in _values(plan.scalars, row, errors, lambda s: f"'{s.target}' needs one"):
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
        for p, value in _values(synth.fields, row, errors, lambda p: f"event {synth.type!r} needs '{p.target}'"):
            _set(event, p.path, value)
        events.append(event)
    if errors:
        return list(dict.fromkeys(errors))  # a column used by several targets is reported once
    return _RowResult(seq, position, scalars, elements, events)


def _pick(values: list[Any], plan: _ScalarPlan) -> Any:
    how = plan.pick
    if how == "first":
        return values[0]
    if how == "last":
        return values[-1]
    try:
        return min(values) if how == "min" else max(values)
    except TypeError:
        pass
    first, other = next((a, b) for i, a in enumerate(values) for b in values[i + 1 :] if not _comparable(a, b))
    raise _CellError(
        f"{plan.describe}: pick: {how} cannot compare {_kind(first)} with {_kind(other)}; give the source a type "
        f"(for example type: int or type: timestamp) so that the rows' values compare"
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if isinstance(value, (dt.datetime, dt.time)):
        return f"the time {value.isoformat()}" + (" (without a time zone)" if value.utcoffset() is None else "")
    return f"the value {_show(value)}"


def _comparable(a: Any, b: Any) -> bool:
    try:
        a < b  # noqa: B015 - only whether the comparison raises
        b < a  # noqa: B015
    except TypeError:
        return False
    return True


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
            _set(data, s.path, _pick(values, s))
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
    problems: list[RawRecord] = field(default_factory=list)
    """The rows of the file that could not be used: every read that uses the table reports them (the table
    is kept for the next read, its problems must not be lost with it)."""
    unreadable: dict[str, int] = field(default_factory=dict)
    """The keys of rows that cannot be read (a bad byte, the wrong number of fields), with the line of each:
    a lookup of one finds no row, but not because the file has none."""
    unknown: list[int] = field(default_factory=list)
    """The lines of rows that cannot be read and whose key cannot be told either: a lookup that finds no row
    may have been meant for one of them."""
    cut: int | None = None
    """The line of a problem of the whole file after which no row was read (a UTF-16 file, a header that
    repeats a column, a damaged stream): a lookup that finds no row may have been meant for a row after it."""

    def missing(self, key: str) -> str | None:
        """Why a lookup of ``key``, which finds no row, may have missed one that cannot be read; None when the
        file has no row of ``key``."""
        line = self.unreadable.get(key)
        if line is not None:
            return f"its row at line {line} of {self.file} cannot be read"
        if self.cut is not None:
            return f"it has no row in {self.file}, which cannot be read from line {self.cut} on and may have it"
        if self.unknown:
            lines = ", ".join(map(str, self.unknown[:5])) + (", …" if len(self.unknown) > 5 else "")
            return f"it has no row in {self.file}, whose row{'s' if len(self.unknown) > 1 else ''} at line{'s' if len(self.unknown) > 1 else ''} {lines} cannot be read and may be its own"
        return None


def _join_dir(file: str | None) -> str:
    """The directory in which the joins of the records of ``file`` find their files: the file's own; the
    current one for stdin (``-`` as given, ``<stdin>`` as its records name it) or another name in angle brackets."""
    return (os.path.dirname(file) or ".") if file and not file.startswith("<") else "."


def _candidates(spec: JoinSpec, base_dir: str) -> tuple[list[str], str | None]:
    """The paths a join tries in ``base_dir``, in order, up to the first that exists; and that one (None
    when none does)."""
    tried: list[str] = []
    for candidate in spec.file:
        path = candidate if os.path.isabs(candidate) else os.path.join(base_dir, candidate)
        tried.append(path)
        if os.path.exists(path):
            return tried, path
    return tried, None


def _join_file(name: str, spec: JoinSpec, base_dir: str, overrides: AbcMapping[str, str | Path] | None) -> str:
    if overrides and name in overrides:
        return str(overrides[name])
    found = _candidates(spec, base_dir)[1]
    if found is not None:
        return found
    names = " or ".join(repr(f) for f in spec.file)
    raise FileNotFoundError(
        f"join {name!r}: no file {names} in {base_dir!r}; give its path (CLI: --join {name}=PATH, Python: join_files={{{name!r}: PATH}})"
    )


def _load_join(m: Mapping, plan: _Plan, names: Sequence[str], path: str) -> _JoinTable:
    """Read a joined file into a table keyed by ``key``, keeping only the columns the joins use."""
    name = names[0]
    spec = m.joins[name]
    keep = frozenset().union(*(plan.join_columns[n] for n in names))
    tops = frozenset(c.split(".")[0] for c in keep)
    rows: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    errors: list[RawRecord] = []
    label = "join " + ", ".join(repr(n) for n in names)
    unreadable: dict[str, int] = {}
    unknown: list[int] = []
    cut: int | None = None
    for record in read_records(path, format=spec.input.format, encoding=spec.input.encoding, csv_dialect=spec.input.csv):
        # a problem of the whole file that no row follows ended the reading (one that rows follow, such as a
        # bad byte in the CSV header, lost none)
        cut = record.position.line if record.data is None and record.position.row is None else None
        if record.data is None:
            # its key, where a reading of the row tells it (two candidates for the wrong number of fields): a
            # row that looks it up is not mapped without the joined columns, as if the file had no such row
            keys = _candidate_keys(_reading_texts(record, spec.key))
            line = record.position.line
            if keys:
                for key in keys:
                    if key not in rows:  # a later row of a key already read would be ignored anyway
                        unreadable.setdefault(key, line)
            elif record.position.row is not None:  # a row; not a problem of the whole file
                unknown.append(line)
            errors.append(RawRecord(record.position, None, f"{label}: {record.error}", record.code, 0))
            continue
        raw = record.data.get(spec.key, _ABSENT)
        if raw is _ABSENT:
            raw = _walk(record.data, spec.key)
        if raw is _ABSENT:
            columns = ", ".join(repr(k) for k in list(record.data)[:12])
            raise _join_error(m, name, f"{label}: {path} has no column {spec.key!r} (its columns: {columns})",
                              "set 'key' to the column that identifies a row of the joined file")
        key = _key_text(raw).strip() if raw is not None else ""
        if not key:
            errors.append(RawRecord(record.position, None, f"{label}: column {spec.key!r} is empty; this row of the joined file is ignored", CODE_JOIN, 0))
            continue
        if key in rows or key in unreadable:
            first = first_line[key] if key in rows else unreadable[key]
            message = f"{label}: {spec.key} {_show(key)} appears again (first at line {first}); this row of the joined file is ignored"
            errors.append(RawRecord(record.position, None, message, CODE_JOIN, 0))
            continue
        rows[key] = {k: v for k, v in record.data.items() if k in keep or k in tops}
        first_line[key] = record.position.line
    if not rows and not errors:  # every lookup would find nothing, and its key column cannot be checked
        raise _join_error(m, name, f"{label}: {path} holds no rows (an empty file, or a CSV header alone)",
                          "join the file that holds the rows; a lookup in an empty file finds nothing")
    return _JoinTable(name, path, rows, errors, unreadable, unknown, cut)


def _join_error(m: Mapping, name: str, message: str, hint: str) -> MappingError:
    """An SR112 error of the joined file of join ``name``, at the join's ``key`` in the mapping file."""
    location = _diagnostic(m._doc, m._keys, "SR112", "", ("joins", name, "key")) if m._doc is not None else None
    return MappingError([Diagnostic(
        "SR112", message, location.location if location else None, hint=hint,
        source_line=location.source_line if location else None,
    )])


def _reading_texts(record: RawRecord, column: str, cell: Callable[[dict[str, Any], str], Any] | None = None) -> list[str]:
    """The text of ``column`` in each reading of a row that cannot be read (see ``RawRecord.readings``) that
    has it. ``cell`` reads a column of a whole reading (a row with a replaced byte) as the mapping reads its
    rows; without it, the column is a key of the reading, as in a joined file."""
    whole = len(record.readings) == 1  # else the row's fields counted from the first and from the last
    texts = []
    for reading in record.readings:
        if whole and cell is not None:
            try:
                raw = cell(reading, column)
            except _CellError:
                continue
        else:  # a column this reading lacks is unknown, not empty
            raw = reading.get(column, _ABSENT)
            if raw is _ABSENT and "." in column:
                raw = _walk(reading, column)
            if raw is _ABSENT:
                continue
        texts.append(_key_text(raw).strip() if raw is not MISSING and raw is not None else "")
    return texts


def _candidate_keys(texts: list[str]) -> list[str]:
    """The keys readings give (:func:`_reading_texts`): none when one has a replaced byte (U+FFFD: the key is
    not the row's own then), one when they agree, two when the fields counted from either end give two."""
    if any("\ufffd" in text for text in texts):
        return []
    return list(dict.fromkeys(text for text in texts if text))


# ----------------------------------------------------------------------------------------- grouping


_SHOWN_LOST = 5  # unreadable rows listed by line in an interaction's rejection; the others are counted
_KEPT_LOST = 1000  # unreadable rows of one interaction kept by line (the others only counted), for bounded memory


@dataclass
class _Lost:
    """Rows that cannot be read (a reader's SR301 to SR306) and are, or may be, rows of one interaction: the
    line of each, with its code and whether it surely belongs to the interaction. A line is kept once, however
    often it is added (a post may name a thread twice); past the first thousand, rows are only counted."""

    rows: dict[int, tuple[str, bool]] = field(default_factory=dict)
    more: int = 0

    def add(self, line: int, code: str, certain: bool) -> None:
        known = self.rows.get(line)
        if known is None and len(self.rows) >= _KEPT_LOST:
            self.more += 1
        else:
            self.rows[line] = (code, certain or (known is not None and known[1]))

    def update(self, other: _Lost) -> None:
        for line, (code, certain) in other.rows.items():
            self.add(line, code, certain)
        self.more += other.more

    @property
    def count(self) -> int:
        return len(self.rows) + self.more

    @property
    def first_line(self) -> int:
        return min(self.rows)

    def why(self, noun: str) -> str:
        """Which rows cannot be read, for the interaction's rejection: "its row at line 3 (SR303) cannot be
        read", and for rows that only may be its own, "… cannot be read and may be one of its rows"."""

        def rows(items: list[tuple[int, str]]) -> str:
            lines = [f"{line} ({code})" for line, code in items]
            listed = lines[0] if len(lines) == 1 else ", ".join(lines[:-1]) + " and " + lines[-1]
            return f"{noun}{'s' if len(items) > 1 else ''} at line{'s' if len(items) > 1 else ''} {listed}"

        shown = sorted(self.rows.items())[:_SHOWN_LOST]
        sure = [(line, code) for line, (code, certain) in shown if certain]
        maybe = [(line, code) for line, (code, certain) in shown if not certain]
        parts = []
        if sure:
            parts.append(f"its {rows(sure)} cannot be read")
        if maybe:
            parts.append(f"the {rows(maybe)} cannot be read and may be {'one' if len(maybe) == 1 else 'some'} of its {noun}s")
        more = self.count - len(shown)
        extra = f" (and {more} more {noun}{'s' if more > 1 else ''} that cannot be read)" if more else ""
        return ", and ".join(parts) + extra


@dataclass
class _Pending:
    """Contiguous grouping: what the rows that cannot be read since the last row that could say about the
    interaction that starts next. A row names its key, and is then the first row of that interaction if it
    comes next; a row whose key cannot be read may be the first row of whichever comes next."""

    keys: dict[str, _Lost] = field(default_factory=dict)
    next: _Lost = field(default_factory=_Lost)


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
    """The rows read (not those that cannot be read)."""
    lost: _Lost | None = None
    """Rows of the interaction, or rows that may be, that cannot be read: it is not checked."""


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
    posts: int = 0
    """The posts read (not those that cannot be read)."""
    lost: _Lost | None = None
    """Its posts that cannot be read."""
    reported: bool = False
    """An error names the thread as not checked already (a post that cannot be mapped, a post linked to a
    thread that was not checked): posts that cannot be read need no error of the thread's own."""


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

    def assembled(self, position: SourcePosition, rows: list[_RowResult], key: str | None) -> RawRecord:
        try:
            return self.good(position, _assemble(self.plan, rows, key))
        except _CellError as exc:
            return self.bad(position, str(exc), CODE_VALUE)

    # -- joins

    def load_joins(self, first: RawRecord) -> Iterator[RawRecord]:
        """Read the joined files (each file once, even when several joins use it with the same key)."""
        base = self.base_dir if self.base_dir is not None else _join_dir(first.position.file)
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
                cached = _load_join(self.mapping, self.plan, names, paths[names[0]])
                if key[1] != -1:
                    cache[key] = cached
            yield from cached.problems
            for name in names:
                self.tables[name] = cached

    def resolve_joins(self, row: _Row) -> str | None:
        for name, spec in self.mapping.joins.items():
            raw = row.cell(spec.on)
            key = _key_text(raw).strip() if raw is not MISSING and raw is not None else ""
            if not key:
                row.joined[name] = None
                continue
            table = self.tables[name]
            match = table.rows.get(key)
            row.joined[name] = match
            if match is None:
                lost = table.missing(key)
                if lost is not None:
                    return f"column {spec.on!r}: {_show(key)} (join {name!r}): {lost}, so this row is not mapped without it"
                if spec.required:
                    return f"column {spec.on!r}: {_show(key)} has no match in column {spec.key!r} of {table.file} (join {name!r})"
        return None

    # -- the stream

    def run(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        started = False
        grouper = self.group_contiguous if self.plan.grouping == "contiguous" else self.group_buffered
        # a row that cannot be read is rejected with its reader's code; when it is a row of an interaction
        # that groups rows, that interaction is not checked either (it would be judged without the row)
        unreadable: Callable[[RawRecord, dict[str, Any]], Iterator[RawRecord]] | None = (
            self.lost_contiguous if self.plan.grouping == "contiguous" else self.lost_buffered
        )
        if not self.plan.per_message:
            grouper, unreadable = self.single, None
        elif self.plan.thread is not None:
            grouper, unreadable = self.group_threads, self.lost_in_thread
        state: dict[str, Any] = {}
        for record in records:
            self.carry += record.size
            if not started:
                started = True
                if self.mapping.joins:
                    yield from self.load_joins(record)
            if record.data is None:
                if unreadable is not None and record.position.row is not None:  # a row, not a problem of the file
                    yield from unreadable(record, state)
                else:
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
            yield self.assembled(record.position, [result], None)

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
        elif group.lost is not None:
            if not group.failed and group.count:  # else an error names it already, or it has no other rows
                them = "it" if group.lost.count == 1 else "them"
                message = (
                    f"{self.plan.key_column} {_show(group.key)} (from line {group.position.line}): {group.lost.why('row')}, "
                    f"so interaction {_show(group.key)} is not checked: it would be judged without {them}"
                )
                yield self.bad(group.position, message, CODE_GROUPING)
        elif not group.failed and group.rows:
            yield self.assembled(group.position, group.rows, group.key)

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
        elif not group.failed and group.lost is None:
            group.rows.append(result)

    @staticmethod
    def lose(group: _Group, lost: _Lost) -> None:
        """Rows that cannot be read are, or may be, rows of ``group``: it is not checked."""
        if group.lost is None:
            group.lost = _Lost()
        group.lost.update(lost)
        group.rows.clear()

    def reading(self, record: RawRecord, column: str) -> list[str]:
        """The text of ``column`` in each reading of a row that cannot be read; a text with a replaced byte
        (U+FFFD) is not the row's own."""
        return _reading_texts(record, column, lambda reading, name: _Row(reading, self.plan).cell(name))

    def lost_keys(self, record: RawRecord) -> list[str]:
        """The keys of the interactions a row that cannot be read may be part of (see :func:`_candidate_keys`)."""
        column = self.plan.key_column
        assert column is not None
        return _candidate_keys(self.reading(record, column))

    def lost_message(self, record: RawRecord, keys: list[str], came_out: dict[str, str] | None = None) -> RawRecord:
        """The rejection of a row that cannot be read, with its reader's code, naming the interactions it may be
        part of: they are not checked, but for those in ``came_out``, which says what became of them."""
        said = [(came_out or {}).get(key, f"interaction {_show(key)} is not checked") for key in keys]
        if len(keys) == 1:
            text = said[0]
        else:
            named = " or ".join(_show(k) for k in keys)
            text = f"its {self.plan.key_column} is {named} (its fields counted from the first or from the last column)"
            text += (": " + "; ".join(said)) if came_out else ", and neither interaction is checked"
        return self.bad(record.position, f"{record.error}; {text}", record.code or "SR301")

    def lost_contiguous(self, record: RawRecord, state: dict[str, Any]) -> Iterator[RawRecord]:
        current: _Group | None = state.get("current")
        finished: dict[str, tuple[int, bool]] = state.setdefault("finished", {})
        pending: _Pending = state.setdefault("pending", _Pending())
        column = self.plan.key_column
        line, code = record.position.line, record.code or "SR301"
        keys = self.lost_keys(record)
        one = _Lost()
        if not keys:
            # Contiguous rows: a row between two rows of an interaction is one of its rows; a row between two
            # interactions may be the last row of the one or the first of the other, so neither is checked.
            one.add(line, code, False)
            if current is not None:
                self.lose(current, one)
            pending.next.update(one)
            if current is None:
                where = "so it may be a row of the interaction after it, which is not checked"
            else:
                where = f"so it may be a row of interaction {_show(current.key)} before it or of the interaction after it, and neither is checked"
            yield self.bad(record.position, f"{record.error}; its {column} cannot be read, {where} (grouping: contiguous)", code)
            return
        one.add(line, code, len(keys) == 1)
        for other in [k for k in pending.keys if k not in keys]:  # not next to the interaction that comes next
            finished.setdefault(other, (pending.keys.pop(other).first_line, False))
        came_out: dict[str, str] = {}
        for key in keys:
            out = current.late if current is not None and current.key == key else finished.get(key)
            if out is not None:  # a row that comes back after the interaction's rows came out
                start, checked = out
                if checked:
                    came_out[key] = (
                        f"it is not next to the rows of interaction {_show(key)} (from line {start}), which was already checked without "
                        "it, so its results are incomplete and may be wrong; grouping: contiguous needs the rows of one interaction together"
                    )
                else:
                    came_out[key] = f"it is not next to the rows of interaction {_show(key)} (from line {start}), which was rejected there"
            elif current is not None and current.key == key:
                self.lose(current, one)
            else:
                pending.keys.setdefault(key, _Lost()).update(one)
        yield self.lost_message(record, keys, came_out)

    def lost_buffered(self, record: RawRecord, state: dict[str, Any]) -> Iterator[RawRecord]:
        groups: dict[str, _Group] = state.setdefault("groups", {})
        keys = self.lost_keys(record)
        if not keys:
            message = f"{record.error}; its {self.plan.key_column} cannot be read, so the interaction it is part of cannot be told, and may be checked without it"
            yield self.bad(record.position, message, record.code or "SR301")
            return
        one = _Lost()
        one.add(record.position.line, record.code or "SR301", len(keys) == 1)
        for key in keys:
            self.lose(groups.get(key) or groups.setdefault(key, _Group(key, record.position)), one)
        yield self.lost_message(record, keys)

    def group_key(self, record: RawRecord) -> str | RawRecord:
        """The key that groups a row into its interaction, or the rejection of a row without one."""
        assert record.data is not None and self.plan.key_column is not None
        key = self.key_of(_Row(record.data, self.plan), self.plan.key_column)
        return self.bad(record.position, "; ".join(key), CODE_GROUPING) if isinstance(key, list) else key

    def group_contiguous(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        current: _Group | None = state.get("current")
        finished: dict[str, tuple[int, bool]] = state.setdefault("finished", {})
        if record is None:
            if current is not None:
                yield from self.emit(current)
            return
        key = self.group_key(record)
        if isinstance(key, RawRecord):
            yield key
            return
        pending: _Pending | None = state.pop("pending", None)
        if current is None or key != current.key:
            if current is not None:
                if current.late is None:
                    checked = not current.failed and current.lost is None and bool(current.rows)
                    finished[current.key] = (current.position.line, checked)
                yield from self.emit(current)
            current = _Group(key, record.position, late=finished.get(key))
            state["current"] = current
            if pending is not None:  # rows that cannot be read just before this one: they may be its first
                for lost in (pending.keys.pop(key, None), pending.next):
                    if lost is not None and lost.count:
                        self.lose(current, lost)
        if pending is not None:
            for other, lost in pending.keys.items():  # rows of interactions that did not go on here
                finished.setdefault(other, (lost.first_line, False))
        yield from self.add_to_group(current, record)

    def group_buffered(self, record: RawRecord | None, state: dict[str, Any]) -> Iterator[RawRecord]:
        groups: dict[str, _Group] = state.setdefault("groups", {})
        if record is None:
            for group in groups.values():
                yield from self.emit(group)
            groups.clear()
            return
        key = self.group_key(record)
        if isinstance(key, RawRecord):
            yield key
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
        yield from self.add_post(record, own, parent, self.replies(replies_raw), state, lost=False)

    def replies(self, raw: Any) -> list[str]:
        """The post ids of a ``replies`` cell."""
        thread = self.plan.thread
        assert thread is not None
        if raw is MISSING or raw is None:
            return []
        items = raw if isinstance(raw, list) else _key_text(raw).split(thread.separator)
        return [r for r in (_key_text(i).strip() for i in items) if r]

    def add_post(
        self, record: RawRecord, own: str, parent: str, replies: list[str], state: dict[str, Any], *, lost: bool, also: str = ""
    ) -> Iterator[RawRecord]:
        """Link a post into its tree; ``lost``: a post that cannot be read, whose tree is not checked (``also``
        ends its rejection)."""
        thread = self.plan.thread
        assert thread is not None
        trees: dict[str, _Tree] = state["trees"]
        rejected: dict[str, int] = state["rejected"]
        first_lines: dict[str, int] = state["first_lines"]
        first_lines[own] = record.position.line
        known = trees.get(own)
        seq = self.seq + 1  # the post's place in the input: a post that is read takes it when it is mapped
        if lost:
            self.seq = seq
        if known is None:
            tree = _Tree(record.position, seq)
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
        tree.posts += not lost
        lost_ids: dict[str, _Lost] = state.setdefault("lost_ids", {})
        for x in (own, parent, *replies) if lost_ids else ():
            found_lost = lost_ids.pop(x, None)  # every later post that refers to x joins this tree
            if found_lost is not None:
                self.lose_tree(tree, found_lost)
        # the reader's rejection of a post that cannot be read, with what it means for its thread
        prefix, code = (f"{record.error}; ", record.code or "SR301") if lost else ("", CODE_GROUPING)
        linked = next((x for x in (own, parent, *replies) if x in rejected), None) if rejected and not tree.failed else None
        if linked is not None:
            tree.failed = rejected[linked]
            tree.reported = True
            tree.rows.clear()
            tree.pending = {x for x in tree.pending if x not in rejected}  # those will not make it any better
            # not ``own``: the posts of a thread that came out were all read, and a post read again is rejected above
            why = f"{thread.id} {_show(own)} is in the thread of {thread.id} {_show(linked)}, which is not checked (line {tree.failed})"
            yield self.bad(record.position, f"{prefix}{why}; the thread of {thread.id} {_show(own)} is not checked either", code)
        elif lost:
            one = _Lost()
            one.add(record.position.line, code, True)
            self.lose_tree(tree, one)
            yield self.bad(record.position, f"{prefix}the thread of {thread.id} {_show(own)} is not checked{also}", code)
        else:
            _, result = self.mapped(record)
            if isinstance(result, list):
                if not tree.failed:
                    tree.failed = record.position.line
                tree.reported = True
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
    def lose_tree(tree: _Tree, lost: _Lost) -> None:
        """Posts that cannot be read are, or may be, posts of ``tree``: it is not checked."""
        if tree.lost is None:
            tree.lost = _Lost()
        tree.lost.update(lost)
        if not tree.failed:
            tree.failed = lost.first_line
        tree.rows.clear()

    def checked_before(self, state: dict[str, Any], ids: list[str]) -> dict[str, str]:
        """For a post that cannot be read: the threads among those of ``ids`` that came out checked before it
        (with ``replies``, a thread comes out when the posts it lists are read), each with a clause for its
        rejection."""
        thread = self.plan.thread
        assert thread is not None
        trees, rejected, first_lines = state["trees"], state["rejected"], state["first_lines"]
        return {
            x: f"the thread of {thread.id} {_show(x)} (line {first_lines[x]}) was checked before this post came (a reply its post "
            "did not list), without it, so its results are incomplete and may be wrong"
            for x in dict.fromkeys(ids)
            if x in first_lines and x not in rejected and (x not in trees or x not in trees[x].seen)  # read, in a tree that came out
        }

    def lost_in_thread(self, record: RawRecord, state: dict[str, Any]) -> Iterator[RawRecord]:
        """A post that cannot be read: the thread it is part of is not checked, when its id and parent can be
        read; when only candidates can (its fields counted from either end), every thread they name."""
        thread = self.plan.thread
        assert thread is not None
        trees: dict[str, _Tree] = state.setdefault("trees", {})
        state.setdefault("rejected", {})
        first_lines: dict[str, int] = state.setdefault("first_lines", {})
        lost_ids: dict[str, _Lost] = state.setdefault("lost_ids", {})
        code = record.code or "SR301"
        ids = list(dict.fromkeys(self.reading(record, thread.id)))
        parents = list(dict.fromkeys(self.reading(record, thread.parent)))
        if not all(ids) or not ids or not parents or any("\ufffd" in x for x in ids + parents):
            message = (
                f"{record.error}; its {thread.id} or {thread.parent} cannot be read, so the thread it is part of cannot be "
                "told, and may be checked without it"
            )
            yield self.bad(record.position, message, code)
            return
        if len(ids) == 1 and len(parents) == 1:  # it is linked as a post: its thread is not checked
            own, parent = ids[0], parents[0]
            first = first_lines.get(own)
            if first is not None:
                message = f"{record.error}; {thread.id} {_show(own)} appears again (first at line {first}); only the first row with this id is used"
                yield self.bad(record.position, message, code)
                return
            replies: list[str] = []
            if thread.replies is not None and len(record.readings) == 1:  # with every field in place only
                texts = self.reading(record, thread.replies)
                if texts and "\ufffd" not in texts[0]:
                    replies = self.replies(texts[0])
            # before linking, which makes them posts of a new tree
            also = "".join(f"; {clause}" for clause in self.checked_before(state, [parent, *replies]).values())
            yield from self.add_post(record, own, parent, replies, state, lost=True, also=also)
            return
        # Its fields counted from the first and from the last column give two ids or two parents: it is a post of
        # the thread of one of them. It is not linked (its id is not known), but no thread with one of them is checked.
        one = _Lost()
        one.add(record.position.line, code, False)
        named = list(dict.fromkeys(x for x in ids + parents if x))
        came_out = self.checked_before(state, named)
        hit: dict[int, _Tree] = {}
        for x in named:
            tree = trees.get(x)
            if tree is not None:
                hit[id(tree)] = tree
            elif x not in first_lines:  # for the thread that will have it
                lost_ids.setdefault(x, _Lost()).update(one)
        for tree in hit.values():
            self.lose_tree(tree, one)

        def either(values: list[str]) -> str:
            return " or ".join(_show(v) if v else "empty" for v in values)

        said = []
        open_ = [_show(x) for x in named if x not in came_out]
        if open_:
            listed = open_[0] if len(open_) == 1 else ", ".join(open_[:-1]) + " and " + open_[-1]
            said.append(f"the thread{'s' if len(open_) > 1 else ''} of {thread.id} {listed} {'are' if len(open_) > 1 else 'is'} not checked")
        said.extend(came_out.values())
        message = (
            f"{record.error}; its {thread.id} is {either(ids)} and its {thread.parent} {either(parents)} (its fields counted from "
            f"the first or from the last column), so " + "; ".join(said)
        )
        yield self.bad(record.position, message, code)

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
        big.posts += small.posts
        big.reported = big.reported or small.reported
        if small.lost is not None:
            if big.lost is None:
                big.lost = _Lost()
            big.lost.update(small.lost)
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
        if tree.lost is not None and not tree.reported and tree.posts:
            them = "it" if tree.lost.count == 1 else "them"
            message = f"the thread from line {tree.position.line}: {tree.lost.why('post')}, so it is not checked: it would be judged without {them}"
            yield self.bad(tree.position, message, CODE_GROUPING)
        if tree.failed or not tree.rows:
            return
        rows = sorted(tree.rows, key=lambda r: r.seq)
        yield self.assembled(rows[0].position, rows, _root(tree))


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


def join_paths(
    mapping: Mapping,
    path: str | os.PathLike[str],
    *,
    join_files: AbcMapping[str, str | Path] | None = None,
) -> dict[str, list[str]]:
    """The files the joins of ``mapping`` look for when they map the records of the file ``path`` (``-``:
    stdin), by join name: the path ``join_files`` gives the join, else its ``file`` names in the directory
    of ``path`` (for stdin the current one), as :func:`~servicerules.batch.runner.check_files` and
    :func:`apply_mapping` without ``base_dir`` find them: in the order they are tried, up to the first
    that exists, which is the file the join reads. A file created at any of these paths before the join
    reads it would be read instead: ``servicerules check`` refuses an output at any of them."""
    base_dir = _join_dir(os.fspath(path))
    return {
        name: [str(join_files[name])] if join_files and name in join_files else _candidates(spec, base_dir)[0]
        for name, spec in mapping.joins.items()
    }


def check_join_files(
    mapping: Mapping,
    path: str | os.PathLike[str],
    *,
    join_files: AbcMapping[str, str | Path] | None = None,
) -> None:
    """Raise the :class:`FileNotFoundError` that mapping the records of the file ``path`` would raise
    because a join's file is missing (see :func:`join_paths`), before anything is read or written:
    ``servicerules check`` calls it before it opens its outputs, so a run that cannot start leaves none."""
    base_dir = _join_dir(os.fspath(path))
    for name, spec in mapping.joins.items():
        found = _join_file(name, spec, base_dir, join_files)
        if not os.path.exists(found):  # a path join_files gives
            raise FileNotFoundError(errno.ENOENT, f"join {name!r}: no such file", found)


def read_mapped(
    mapping: Mapping,
    path: str | os.PathLike[str],
    *,
    join_files: AbcMapping[str, str | Path] | None = None,
) -> Iterator[RawRecord]:
    """Read one export file (``-`` for stdin) with the mapping's ``input`` options and map it."""
    spec = mapping.input
    path = os.fspath(path)
    records = read_records(path, format=spec.format, encoding=spec.encoding, csv_dialect=spec.csv)
    base_dir = "." if path == "-" else (os.path.dirname(path) or ".")
    return apply_mapping(mapping, records, base_dir=base_dir, join_files=join_files)
