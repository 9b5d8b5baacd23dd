"""Compiling a mapping into a plan: a getter per target that reads a row's cells, cleans, converts and
parses them (value maps, types, timestamps, dates and times, durations), compiled once per mapping.

Also the row the getters read (:class:`_Row`, with its joined rows) and what reading a row needs and
:mod:`servicerules.batch.mapping._apply` uses too: :data:`MISSING`, :class:`_CellError`, :func:`_show`,
:func:`_key_text`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from servicerules.batch.mapping._checks import _parse_target, _Target
from servicerules.batch.mapping._spec import Condition, Mapping, ThreadSpec, Value, ValueType, _template_parts, _zone
from servicerules.errors import did_you_mean
from servicerules.model.interaction import Event, Interaction


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


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_FIRST = 61
"""Spreadsheet serials (Excel's 1900 date system, LibreOffice, Google Sheets) count days from 1899-12-30 from
serial 61, 1 March 1900, on; below it Excel counts a 29 February 1900 that did not exist."""
_DAY_MS = 86_400_000


def _excel_serial(value: Any) -> float:
    """A spreadsheet serial number (text or a JSON number): days, the fraction being the time of day."""
    number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _excel_ms(days: float) -> int:
    """Days as whole milliseconds: a spreadsheet keeps times to the millisecond, and a fraction of a day in
    binary floating point (0.384004629… for 09:12:58) is a hair off the time it stands for."""
    return round(days * _DAY_MS)


def _excel_datetime(value: Any) -> dt.datetime:
    days = _excel_serial(value)
    if days < _EXCEL_FIRST:
        raise ValueError(f"a spreadsheet date serial counts from {_EXCEL_FIRST} (1 March 1900); a time of day alone needs 'date' and time_format: excel")
    try:
        return _EXCEL_EPOCH + dt.timedelta(milliseconds=_excel_ms(days))
    except OverflowError:
        raise ValueError("after the year 9999") from None


def _parse_datetime(text: Any, fmt: str, where: str) -> dt.datetime:
    """Parse one timestamp cell; ``where`` names its source in messages ("column 'created_at'")."""
    try:
        if fmt == "excel":
            return _excel_datetime(text)
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
        raise _CellError(f"{where}: {_show(text)} does not match format {fmt}{_reason(exc)}{_number_hint(text, fmt, 'format')}") from None


def _number_hint(text: Any, fmt: str, option: str) -> str:
    """For a number where an ISO time was expected: the format it probably is (a spreadsheet serial, epoch)."""
    if fmt != "iso" or isinstance(text, bool):
        return ""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return ""
    if 0 <= number < 2_958_466:  # serials end with 9999-12-31
        return f" (a number: a spreadsheet serial? read it with {option}: excel)"
    if option == "format" and number >= 1e8:
        return " (a number: seconds since 1970? read it with format: epoch, or epoch_ms for milliseconds)"
    return ""


def _reason(exc: Exception) -> str:
    message = str(exc)
    if not message or message.startswith(("time data", "unconverted data", "Invalid isoformat", "could not convert", "not a ")):
        return ""
    return f" ({message})"


def _parse_date(text: Any, fmt: str, column: str) -> dt.date:
    try:
        if fmt == "excel":
            moment = _excel_datetime(text)
            if moment.time() != dt.time():
                raise ValueError("a date serial is a whole number; one with a time of day is read with format: excel")
            return moment.date()
        if not isinstance(text, str):
            raise ValueError("not a text")
        return dt.date.fromisoformat(text) if fmt == "iso" else _strptime(text, fmt).date()
    except ValueError as exc:
        raise _CellError(f"column {column!r}: {_show(text)} does not match format {fmt}{_reason(exc)}{_number_hint(text, fmt, 'date_format')}") from None


def _parse_time(text: Any, fmt: str, column: str) -> dt.time:
    try:
        if fmt == "excel":
            days = _excel_serial(text)
            ms = _excel_ms(days) if 0 <= days < 1 else -1  # not rounded out of range: 1e308 days overflow an int
            if not 0 <= ms < _DAY_MS:
                raise ValueError("a spreadsheet time of day is a fraction of a day, from 0 up to 1")
            return (dt.datetime.min + dt.timedelta(milliseconds=ms)).time()
        if not isinstance(text, str):
            raise ValueError("not a text")
        return dt.time.fromisoformat(text) if fmt == "iso" else _strptime(text, fmt).timetz()
    except ValueError as exc:
        raise _CellError(f"column {column!r}: {_show(text)} does not match format {fmt}{_reason(exc)}{_number_hint(text, fmt, 'time_format')}") from None


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
            return MISSING if seconds is None else _shift(result, seconds, describe)

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
                    if day == dt.date.max:
                        raise _CellError(f"{describe}: {shown} is on the next day, after the year 9999")
                    moment += dt.timedelta(days=1)
            result = self.finish(moment, zone, describe, shown)
            if offsets is not None:
                if seconds is None:
                    return MISSING
                result = _shift(result, seconds, describe)
            return result

        return get, describe


def _shift(moment: dt.datetime, seconds: float, where: str) -> dt.datetime:
    """``moment`` plus an elapsed duration (exact across daylight-saving changes)."""
    zone = moment.tzinfo
    try:
        # a duration of a million years, say, or durations that add up to infinity or to NaN (1e308 days
        # minus 1e308 days): the time is outside years 1 to 9999
        if not math.isfinite(seconds):
            raise OverflowError
        return (moment.astimezone(dt.timezone.utc) + dt.timedelta(seconds=seconds)).astimezone(zone)
    except OverflowError:
        raise _CellError(
            f"{where} with its 'add' durations: {moment.isoformat()} plus {seconds:g} seconds is outside the years 1 to 9999"
        ) from None


@dataclass(frozen=True)
class _TargetPlan:
    """How one target gets its value from a row."""

    target: str
    path: tuple[str, ...]
    get: Getter
    describe: str
    required: bool


@dataclass(frozen=True)
class _ScalarPlan(_TargetPlan):
    pick: str


@dataclass(frozen=True)
class _ElementPlan(_TargetPlan):
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
