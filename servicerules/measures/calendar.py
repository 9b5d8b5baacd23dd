"""Business calendars: exact business-time arithmetic for SLA clocks.

An SLA such as "first reply within 4 business hours" pauses its clock at night, at weekends, on
public holidays and during announced closures.  :class:`BusinessCalendar` answers the three questions
such a clock needs: *is the desk open now*, *how much open time lies between two instants* and
*when will a given amount of open time have elapsed*.

Model and decisions
-------------------
* Business hours are **wall-clock** times in the calendar's IANA zone, because that is how a service
  desk publishes them ("Mon-Fri 09:00-17:00 Berlin time").  Open time is always measured in **real
  elapsed seconds**, so a desk open 00:00-24:00 is open 23 h on a spring-forward day and 25 h on a
  fall-back day.
* A wall time ``t`` on date ``D`` denotes the **earliest instant at which the local clock reads
  ``t`` or later on that date**:

  - a time in the repeated hour of a fall-back night means its *first* occurrence (zoneinfo's
    ``fold=0``), so an interval covering the repeated hour counts both real hours of it;
  - a time inside the skipped hour of a spring-forward night (e.g. 02:30 in Europe/Berlin on
    2026-03-29) means the *transition instant itself* (03:00 CEST): the desk opens, or closes, as soon
    as the clock has passed the stated time.  An interval lying wholly inside the gap is empty.

  An interval is one stretch of real time from its opening instant to its closing instant: on a
  fall-back night ``02:30-03:00`` runs from the first 02:30 to 03:00 (1.5 h), and a date skipped
  altogether (Pacific/Apia, 2011-12-30) has no open time.

  This differs from zoneinfo's bare ``fold=0`` reading of a non-existent time (02:30 -> 03:30 CEST,
  shifted forward by the gap) on purpose: that reading is not monotonic (02:59 would fall after
  03:00), so a desk closing at 02:30 would stay open until 03:30, past a published 03:00 opening.
  The rule above is monotonic, which keeps every day's intervals ordered and disjoint.
* ``24:00`` (or ``time(0, 0)`` as an interval end) is midnight at the end of the day; it is the same
  instant as the next day's ``00:00``.  Overnight shifts are written as two intervals.
* A holiday (from the ``holidays`` package or ``extra_holidays``) closes the whole local date, i.e.
  every interval that the weekday schedule gives that date.  Closures remove arbitrary instant ranges.
* Instants are handled internally as integer microseconds since the Unix epoch, which makes every
  sum exact; results are returned as float seconds (``microseconds / 1e6``).
* Returned datetimes are in the calendar's zone with the right ``fold``.  Compare them as instants
  (``astimezone(timezone.utc)``): Python compares two datetimes of the same zone by wall time, and an
  ambiguous time never compares equal to a datetime of another zone.

Open intervals are materialised per local calendar month (one pass over its days) and cached on the
calendar with cumulative open-time prefix sums, so spans of years cost one lookup per month and
:meth:`BusinessCalendar.add_business_seconds` is a binary search once the months are built.
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as _holidays_lib

from servicerules.errors import DateOutOfRange

__all__ = ["BusinessCalendar"]

DayIntervals = tuple[tuple[time, time], ...]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_NUMBERS = (int, float)
"""For isinstance: a tuple, where ``int | float`` would build a union at every call."""

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_KEYS: dict[str, int] = {}
for _index, _day_name in enumerate(_WEEKDAY_NAMES):
    _WEEKDAY_KEYS[_day_name.lower()] = _index
    _WEEKDAY_KEYS[_day_name[:3].lower()] = _index

_SPEC_KEYS = ("timezone", "hours", "holidays", "closures")
_HOLIDAY_KEYS = ("country", "subdivision", "dates")
_CLOCK = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_INTERVAL = re.compile(rf"^\s*{_CLOCK}\s*-\s*{_CLOCK}\s*$")
_END_OF_DAY_IN_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]24:00(?::00)?(.*)$")

# Month keys are (year, month); the last month is excluded because its end (0001-01-01 of year
# 10000) cannot be represented by ``datetime``.
_FIRST_MONTH = (1, 2)
_LAST_MONTH = (9999, 11)


# --------------------------------------------------------------------------------------------
# instants


def _instant_us(at: datetime) -> int:
    """Exact microseconds since the epoch; integer arithmetic keeps sums and differences exact."""
    return (at - _EPOCH) // _ONE_US


def _round_to_us(seconds: int | float) -> int:
    """``round(Fraction(seconds) * 1_000_000)`` (exact, ties to even) without building Fractions, which cost
    more than the rest of an SLA deadline."""
    if isinstance(seconds, int):
        return seconds * _US_PER_SECOND
    if seconds.is_integer():  # whole seconds, as SLA targets and most elapsed times are
        return int(seconds) * _US_PER_SECOND
    numerator, denominator = seconds.as_integer_ratio()
    quotient, remainder = divmod(numerator * _US_PER_SECOND, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _require_aware(at: datetime, what: str) -> int:
    """Reject naive input: a naive time would silently be read in some zone nobody chose."""
    if not isinstance(at, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {at.isoformat()}")
    return _instant_us(at)


def _offset_at(zone: ZoneInfo, us: int) -> timedelta:
    offset = (_EPOCH + timedelta(microseconds=us)).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _wall_instant_us(zone: ZoneInfo, wall: datetime) -> int:
    """Earliest instant at which the local clock shows ``wall`` or later (see module docstring).

    fold=0 already gives the first occurrence of a repeated time.  A time in a spring-forward gap is
    recognised by its fold=0 offset being smaller than its fold=1 offset; the transition instant then
    lies in (fold=1 reading, fold=0 reading] and is found by bisection, which is rare enough (one
    wall time per gap) not to matter for speed.
    """
    wall = wall.replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    first_offset = first.utcoffset()
    second_offset = second.utcoffset()
    assert first_offset is not None and second_offset is not None
    if first_offset >= second_offset:
        return _instant_us(first)
    before, after = _instant_us(second), _instant_us(first)
    while after - before > 1:
        middle = (before + after) // 2
        if _offset_at(zone, middle) == first_offset:
            before = middle
        else:
            after = middle
    return after


def _load_zone(key: object, calendar: str) -> ZoneInfo:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"calendar {calendar!r}: timezone must be an IANA name such as 'Europe/Berlin', got {key!r}")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"calendar {calendar!r}: unknown timezone {key!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None


# --------------------------------------------------------------------------------------------
# weekly hours


def _clock(t: time) -> str:
    text = f"{t.hour:02d}:{t.minute:02d}"
    if t.second or t.microsecond:
        text += f":{t.second:02d}"
    if t.microsecond:
        text += f".{t.microsecond:06d}"
    return text


def _interval_text(start: time, end: time) -> str:
    return f"{_clock(start)}-{'24:00' if end == _MIDNIGHT else _clock(end)}"


def _day_offset_us(t: time, *, is_end: bool) -> int:
    """Position within a day; an end of 00:00 is the day's closing midnight (24:00)."""
    if is_end and t == _MIDNIGHT:
        return _US_PER_DAY
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


class _WeeklyHours(Mapping[int, DayIntervals]):
    """Immutable, hashable weekday -> intervals table, so a frozen calendar can be hashed and shared."""

    __slots__ = ("_days",)

    def __init__(self, days: tuple[DayIntervals, ...]) -> None:
        self._days = days

    def __getitem__(self, weekday: int) -> DayIntervals:
        if isinstance(weekday, int) and not isinstance(weekday, bool) and 0 <= weekday < 7:
            return self._days[weekday]
        raise KeyError(weekday)

    def __iter__(self) -> Iterator[int]:
        return iter(range(7))

    def __len__(self) -> int:
        return 7

    def __hash__(self) -> int:
        return hash(self._days)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _WeeklyHours):
            return self._days == other._days
        return super().__eq__(other)

    def __repr__(self) -> str:
        shown = {
            _WEEKDAY_NAMES[day][:3].lower(): [_interval_text(s, e) for s, e in intervals]
            for day, intervals in enumerate(self._days)
            if intervals
        }
        return f"WeeklyHours({shown})"


def _normalise_hours(hours: Mapping[int, Any], calendar: str) -> _WeeklyHours:
    """Validate a weekday table and sort each day, so every later step can assume disjoint intervals."""
    if not isinstance(hours, Mapping):
        raise ValueError(f"calendar {calendar!r}: hours must map weekday 0..6 to intervals, got {type(hours).__name__}")
    days: list[DayIntervals] = [() for _ in range(7)]
    for weekday, raw in hours.items():
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ValueError(f"calendar {calendar!r}: hours keys must be weekdays 0 (Monday) .. 6 (Sunday), got {weekday!r}")
        day = _WEEKDAY_NAMES[weekday]
        intervals: list[tuple[time, time]] = []
        for item in raw or ():
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise ValueError(f"calendar {calendar!r}: {day} interval must be a (start, end) pair of times, got {item!r}")
            start, end = item
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError(f"calendar {calendar!r}: {day} interval must be a (start, end) pair of times, got {item!r}")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(
                    f"calendar {calendar!r}: {day} interval {_interval_text(start, end)} must use naive wall "
                    "times; the calendar's timezone applies"
                )
            start, end = start.replace(fold=0), end.replace(fold=0)
            if _day_offset_us(start, is_end=False) >= _day_offset_us(end, is_end=True):
                raise ValueError(
                    f"calendar {calendar!r}: {day} interval {_interval_text(start, end)} ends before it starts; "
                    "split an overnight shift into '..-24:00' and the next day's '00:00-..'"
                )
            intervals.append((start, end))
        intervals.sort(key=lambda pair: _day_offset_us(pair[0], is_end=False))
        for (s1, e1), (s2, e2) in zip(intervals, intervals[1:]):
            if _day_offset_us(e1, is_end=True) > _day_offset_us(s2, is_end=False):
                raise ValueError(
                    f"calendar {calendar!r}: {day} intervals {_interval_text(s1, e1)} and "
                    f"{_interval_text(s2, e2)} overlap"
                )
        days[weekday] = tuple(intervals)
    return _WeeklyHours(tuple(days))


# --------------------------------------------------------------------------------------------
# holidays


def _validate_holiday_region(country: str | None, subdivision: str | None, calendar: str) -> None:
    if country is None:
        if subdivision is not None:
            raise ValueError(f"calendar {calendar!r}: holiday subdivision {subdivision!r} given without a country")
        return
    if not isinstance(country, str):
        raise ValueError(f"calendar {calendar!r}: holiday country must be a code such as 'DE', got {country!r}")
    supported = _holidays_lib.list_supported_countries()
    if country not in supported:
        raise ValueError(
            f"calendar {calendar!r}: unknown holiday country {country!r}; "
            "use an ISO 3166-1 alpha-2 code supported by the holidays package, e.g. 'DE'"
        )
    if subdivision is not None and subdivision not in supported[country]:
        choices = ", ".join(supported[country]) or "none"
        raise ValueError(
            f"calendar {calendar!r}: unknown subdivision {subdivision!r} for holiday country {country!r}; "
            f"known: {choices}"
        )


@functools.lru_cache(maxsize=1024)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Holidays dated in ``year``, computed once per region and year and shared between calendars.

    The neighbouring years are populated too because the library files an observed day under the
    year of the holiday it substitutes (e.g. New Year's Day observed on 31 December).
    """
    years = range(max(1, year - 1), min(9999, year + 1) + 1)
    table = _holidays_lib.country_holidays(country, subdiv=subdivision, years=years)
    return frozenset(day for day in table if day.year == year)


# --------------------------------------------------------------------------------------------
# month tables


@dataclass(frozen=True)
class _Month:
    """Open intervals of one local calendar month with prefix sums, so sums and searches are O(log n)."""

    start: int  # instant of the month's first 00:00
    end: int  # instant of the next month's first 00:00
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    open_before: tuple[int, ...]  # open time before interval i
    open_through: tuple[int, ...]  # open time up to the end of interval i
    total: int  # open time in the month (a field, not a property: every deadline reads it)

    def open_until(self, at: int) -> int:
        """Open microseconds in [start, at)."""
        index = bisect_right(self.starts, at) - 1
        if index < 0:
            return 0
        end = self.ends[index]
        return self.open_before[index] + (at if at < end else end) - self.starts[index]

    def instant_reaching(self, amount: int) -> int:
        """Earliest instant by which ``amount`` (0 < amount <= total) open microseconds have elapsed."""
        index = bisect_left(self.open_through, amount)
        return self.starts[index] + amount - self.open_before[index]

    def is_open(self, at: int) -> bool:
        index = bisect_right(self.starts, at) - 1
        return index >= 0 and at < self.ends[index]


def _next_month(key: tuple[int, int]) -> tuple[int, int]:
    year, month = key
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _previous_month(key: tuple[int, int]) -> tuple[int, int]:
    year, month = key
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` minus ``holes``; both sorted and disjoint."""
    if not holes:
        return spans
    kept: list[tuple[int, int]] = []
    first_hole = 0
    for start, end in spans:
        while first_hole < len(holes) and holes[first_hole][1] <= start:
            first_hole += 1
        cursor = start
        hole = first_hole
        while hole < len(holes) and holes[hole][0] < end and cursor < end:
            hole_start, hole_end = holes[hole]
            if hole_start > cursor:
                kept.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            hole += 1
        if cursor < end:
            kept.append((cursor, end))
    return kept


# --------------------------------------------------------------------------------------------
# spec parsing


def _parse_clock(groups: tuple[str | None, ...], text: str, calendar: str, day: str) -> time | None:
    hour, minute, second = int(groups[0] or 0), int(groups[1] or 0), int(groups[2] or 0)
    if hour == 24 and minute == 0 and second == 0:
        return None
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"calendar {calendar!r}: {day} interval {text!r} has an invalid time of day")
    return time(hour, minute, second)


def _parse_interval(text: object, calendar: str, day: str) -> tuple[time, time]:
    if not isinstance(text, str):
        raise ValueError(
            f"calendar {calendar!r}: {day} interval must be a string such as '09:00-17:00', got {text!r}"
        )
    match = _INTERVAL.match(text)
    if match is None:
        raise ValueError(f"calendar {calendar!r}: {day} interval {text!r} is not of the form 'HH:MM-HH:MM'")
    start = _parse_clock(match.groups()[:3], text, calendar, day)
    end = _parse_clock(match.groups()[3:], text, calendar, day)
    if start is None:
        raise ValueError(f"calendar {calendar!r}: {day} interval {text!r} cannot start at 24:00")
    if end is None:
        end = _MIDNIGHT
    if _day_offset_us(start, is_end=False) >= _day_offset_us(end, is_end=True):
        raise ValueError(
            f"calendar {calendar!r}: {day} interval {text!r} ends before it starts; "
            "split an overnight shift into '..-24:00' and the next day's '00:00-..'"
        )
    return start, end


def _parse_weekly_hours(raw: object, calendar: str) -> dict[int, list[tuple[time, time]]]:
    if not isinstance(raw, Mapping):
        raise ValueError(
            f"calendar {calendar!r}: hours must map weekdays (mon..sun) to interval lists, got {raw!r}"
        )
    hours: dict[int, list[tuple[time, time]]] = {}
    for key, intervals in raw.items():
        weekday = _WEEKDAY_KEYS.get(key.strip().lower()) if isinstance(key, str) else None
        if weekday is None:
            raise ValueError(f"calendar {calendar!r}: unknown weekday {key!r} in hours; use mon..sun or monday..sunday")
        day = _WEEKDAY_NAMES[weekday]
        if weekday in hours:
            raise ValueError(f"calendar {calendar!r}: {day} is given twice in hours")
        if intervals is None:
            intervals = []
        if isinstance(intervals, str):
            intervals = [intervals]
        if not isinstance(intervals, list | tuple):
            raise ValueError(f"calendar {calendar!r}: {day} hours must be a list such as ['09:00-17:00'], got {intervals!r}")
        hours[weekday] = [_parse_interval(item, calendar, day) for item in intervals]
    return hours


def _parse_date(raw: object, calendar: str) -> date:
    if isinstance(raw, datetime):
        raise ValueError(f"calendar {calendar!r}: holiday date {raw!r} must be a date without a time of day")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"calendar {calendar!r}: holiday date {raw!r} is not an ISO date such as '2026-12-24'")


def _parse_timestamp(raw: object, zone: ZoneInfo, calendar: str, what: str) -> datetime:
    """An aware instant; a naive value is a wall time in the calendar's zone, as an author would mean it."""
    if isinstance(raw, str):
        text = raw.strip()
        end_of_day = _END_OF_DAY_IN_TIMESTAMP.match(text)
        try:
            if end_of_day is not None:
                day = date.fromisoformat(end_of_day.group(1)) + _ONE_DAY
                text = f"{day.isoformat()}T00:00{end_of_day.group(2)}"
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            if "T" not in text and " " not in text:
                raise ValueError("no time of day")
            parsed = datetime.fromisoformat(text)
        except (ValueError, OverflowError):
            raise ValueError(
                f"calendar {calendar!r}: closure {what} {raw!r} is not an ISO date-time such as "
                "'2026-12-31T12:00' (whole days belong in holidays.dates)"
            ) from None
    elif isinstance(raw, datetime):
        parsed = raw
    else:
        raise ValueError(
            f"calendar {calendar!r}: closure {what} {raw!r} must be a date-time such as '2026-12-31T12:00' "
            "(whole days belong in holidays.dates)"
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        us = _wall_instant_us(zone, parsed)
        return (_EPOCH + timedelta(microseconds=us)).astimezone(zone)
    return parsed


# --------------------------------------------------------------------------------------------
# the calendar


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of a service desk; all SLA business-time arithmetic goes through it.

    Instances are immutable and hashable; derived month tables are cached privately, so one shared
    calendar gets faster with use.  See the module docstring for DST and holiday semantics.
    """

    name: str
    timezone: str
    hours: Mapping[int, DayIntervals]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    closures: tuple[tuple[datetime, datetime], ...] = ()

    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _closure_spans: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False, hash=False)
    _has_hours: bool = field(init=False, repr=False, compare=False, hash=False)
    _months: dict[tuple[int, int], _Month] = field(init=False, repr=False, compare=False, hash=False)
    _recent: list[tuple[tuple[int, int], _Month]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        name = self.name
        zone = _load_zone(self.timezone, name)
        hours = _normalise_hours(self.hours, name)
        _validate_holiday_region(self.holiday_country, self.holiday_subdivision, name)
        extra: set[date] = set()
        for day in self.extra_holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"calendar {name!r}: extra holiday {day!r} must be a date")
            extra.add(day)
        closures: list[tuple[datetime, datetime]] = []
        spans: list[tuple[int, int]] = []
        for closure in self.closures:
            if not (isinstance(closure, tuple | list) and len(closure) == 2):
                raise ValueError(f"calendar {name!r}: closure must be a (from, to) pair of datetimes, got {closure!r}")
            begin, end = closure
            begin_us = _require_aware(begin, f"calendar {name!r}: closure start")
            end_us = _require_aware(end, f"calendar {name!r}: closure end")
            if end_us <= begin_us:
                raise ValueError(
                    f"calendar {name!r}: closure from {begin.isoformat()} to {end.isoformat()} does not end after it starts"
                )
            closures.append((begin, end))
            spans.append((begin_us, end_us))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for begin_us, end_us in spans:
            if merged and begin_us <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end_us))
            else:
                merged.append((begin_us, end_us))

        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "extra_holidays", frozenset(extra))
        object.__setattr__(self, "closures", tuple(closures))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_closure_spans", tuple(merged))
        object.__setattr__(self, "_has_hours", any(hours[day] for day in range(7)))
        object.__setattr__(self, "_months", {})
        object.__setattr__(self, "_recent", [])

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Build from a ruleset's ``calendars:`` entry; errors name the calendar and the bad value.

        Naive closure times (the usual way to write them in YAML) are wall times in the calendar's
        zone; ``24:00`` is accepted as the end of a day, both in hours and in closures.
        """
        if not isinstance(spec, Mapping):
            raise ValueError(f"calendar {name!r}: spec must be a mapping, got {type(spec).__name__}")
        unknown = sorted(str(key) for key in spec if key not in _SPEC_KEYS)
        if unknown:
            raise ValueError(f"calendar {name!r}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_SPEC_KEYS)}")
        if "timezone" not in spec:
            raise ValueError(f"calendar {name!r}: missing timezone, e.g. 'Europe/Berlin'")
        if "hours" not in spec:
            raise ValueError(f"calendar {name!r}: missing hours, e.g. {{'mon': ['09:00-17:00']}}")
        zone = _load_zone(spec["timezone"], name)
        hours = _parse_weekly_hours(spec["hours"], name)

        country: str | None = None
        subdivision: str | None = None
        dates: set[date] = set()
        holiday_spec = spec.get("holidays")
        if holiday_spec is not None:
            if not isinstance(holiday_spec, Mapping):
                raise ValueError(f"calendar {name!r}: holidays must be a mapping with country/subdivision/dates")
            unknown = sorted(str(key) for key in holiday_spec if key not in _HOLIDAY_KEYS)
            if unknown:
                raise ValueError(
                    f"calendar {name!r}: unknown holidays key(s) {', '.join(unknown)}; expected {', '.join(_HOLIDAY_KEYS)}"
                )
            country = holiday_spec.get("country")
            subdivision = holiday_spec.get("subdivision")
            raw_dates = holiday_spec.get("dates") or []
            if not isinstance(raw_dates, list | tuple | set | frozenset):
                raise ValueError(f"calendar {name!r}: holidays.dates must be a list of ISO dates")
            dates = {_parse_date(raw, name) for raw in raw_dates}

        closures: list[tuple[datetime, datetime]] = []
        raw_closures = spec.get("closures") or []
        if not isinstance(raw_closures, list | tuple):
            raise ValueError(f"calendar {name!r}: closures must be a list of {{from, to}} mappings")
        for raw in raw_closures:
            if not isinstance(raw, Mapping):
                raise ValueError(f"calendar {name!r}: closure must be a mapping with 'from' and 'to', got {raw!r}")
            begin_raw = raw.get("from", raw.get("from_"))
            end_raw = raw.get("to")
            if begin_raw is None or end_raw is None:
                raise ValueError(f"calendar {name!r}: closure {dict(raw)!r} needs both 'from' and 'to'")
            closures.append(
                (
                    _parse_timestamp(begin_raw, zone, name, "from"),
                    _parse_timestamp(end_raw, zone, name, "to"),
                )
            )

        return cls(
            name=name,
            timezone=spec["timezone"],
            hours={day: tuple(intervals) for day, intervals in hours.items()},
            holiday_country=country,
            holiday_subdivision=subdivision,
            extra_holidays=frozenset(dates),
            closures=tuple(closures),
        )

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """24x7 without holidays: business time equals elapsed calendar time, for SLAs without a calendar."""
        whole_day = ((_MIDNIGHT, _MIDNIGHT),)
        return cls(name=f"always-open ({timezone})", timezone=timezone, hours={day: whole_day for day in range(7)})

    # ---- queries ------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether the desk is open at this instant; opening instants are open, closing instants not."""
        instant = _require_aware(at, "at")
        return self._month_at(instant)[1].is_open(instant)

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open time in [start, end), in real seconds; 0 when end <= start (a clock never runs backwards)."""
        start_us = _require_aware(start, "start")
        end_us = _require_aware(end, "end")
        return self.business_seconds_between_us(start_us, end_us)

    def business_seconds_between_us(self, start_us: int, end_us: int) -> float:
        """:meth:`business_seconds_between` for instants given in microseconds since the epoch, as SLA clocks
        keep them (so they convert each timestamp once, not at every call)."""
        return self._open_us_between(start_us, end_us) / _US_PER_SECOND

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """When an SLA due ``seconds`` of business time after ``start`` falls due.

        The earliest instant by which that much open time has elapsed, so a target that is used up
        exactly at closing time is due at closing, not at the next opening.  ``seconds`` is rounded
        to the nearest microsecond; zero returns ``start`` itself (in the calendar's zone) even when
        the desk is closed, since no time needs to pass.
        """
        return self.add_business_seconds_us(_require_aware(start, "start"), seconds, start)

    def add_business_seconds_us(self, start_us: int, seconds: float, start: datetime | None = None) -> datetime:
        """:meth:`add_business_seconds` from an instant in microseconds since the epoch; ``start`` is how an
        error message shows the start (default: the instant in UTC)."""
        return self.localise_us(self.due_us(start_us, seconds, start))

    def due_us(self, start_us: int, seconds: float, start: datetime | None = None) -> int:
        """:meth:`add_business_seconds_us` as an instant in microseconds since the epoch, for an SLA clock that
        compares the deadline with other instants before it shows it."""
        if isinstance(seconds, bool) or not isinstance(seconds, _NUMBERS) or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        remaining = _round_to_us(seconds)
        if remaining == 0:
            return start_us
        if not self._has_hours:
            raise ValueError(f"calendar {self.name!r} has no business hours; it never accrues business time")
        key, month = self._month_at(start_us)
        used = month.open_until(start_us)
        while True:
            available = month.total - used
            if remaining <= available:
                return month.instant_reaching(used + remaining)
            remaining -= available
            used = 0
            key = _next_month(key)
            if key > _LAST_MONTH:
                shown = start if start is not None else _EPOCH + timedelta(microseconds=start_us)
                raise DateOutOfRange(
                    f"calendar {self.name!r}: {seconds} business seconds after {shown.isoformat()} "
                    "fall beyond the supported date range"
                )
            month = self._month(key)

    def localise_us(self, us: int) -> datetime:
        """An instant in microseconds since the epoch as a datetime in the calendar's zone."""
        # ``_ONE_US * us``: the same timedelta as ``timedelta(microseconds=us)``, built at half the cost.
        return (_EPOCH + _ONE_US * us).astimezone(self._zone)

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Maximal open periods within [start, end), clipped to it, in order, in the calendar's zone.

        Inputs are checked here, eagerly, so a naive datetime fails at the call and not at first use.
        """
        start_us = _require_aware(start, "start")
        end_us = _require_aware(end, "end")
        return self._open_spans(start_us, end_us)

    # ---- internals ----------------------------------------------------------------------------

    def _open_spans(self, start_us: int, end_us: int) -> Iterator[tuple[datetime, datetime]]:
        """Intervals touching across month (or chunk) boundaries are joined before they are yielded."""
        if end_us <= start_us:
            return
        pending: tuple[int, int] | None = None
        key, month = self._month_at(start_us)
        while True:
            index = max(0, bisect_right(month.starts, start_us) - 1)
            for open_start, open_end in zip(month.starts[index:], month.ends[index:]):
                if open_start >= end_us:
                    break
                clipped = (max(open_start, start_us), min(open_end, end_us))
                if clipped[0] >= clipped[1]:
                    continue
                if pending is not None and clipped[0] == pending[1]:
                    pending = (pending[0], clipped[1])
                    continue
                if pending is not None:
                    yield self.localise_us(pending[0]), self.localise_us(pending[1])
                pending = clipped
            if month.end >= end_us:
                break
            key = _next_month(key)
            month = self._month(key)
        if pending is not None:
            yield self.localise_us(pending[0]), self.localise_us(pending[1])

    def _open_us_between(self, start_us: int, end_us: int) -> int:
        if end_us <= start_us:
            return 0
        start_key, start_month = self._month_at(start_us)
        if end_us < start_month.end:  # the usual case: both in one month
            return start_month.open_until(end_us) - start_month.open_until(start_us)
        end_key, end_month = self._month_at(end_us)
        total = start_month.total - start_month.open_until(start_us)
        key = _next_month(start_key)
        while key < end_key:
            total += self._month(key).total
            key = _next_month(key)
        return total + end_month.open_until(end_us)

    def _month_at(self, instant: int) -> tuple[tuple[int, int], _Month]:
        """The month table containing ``instant``; the local date is only a first guess because
        a month starts at the *earliest* instant its first midnight is reached."""
        # SLA clocks ask about nearby instants over and over: the month found last usually holds the next
        # one, and checking it is cheaper than converting the instant to a local date (months never overlap,
        # so the answer is the same).
        recent = self._recent
        if recent:
            found = recent[-1]
            if found[1].start <= instant < found[1].end:
                return found
        try:
            local = self.localise_us(instant)
        except OverflowError:
            raise DateOutOfRange(f"calendar {self.name!r}: instant outside the supported date range") from None
        key = (local.year, local.month)
        month = self._month(key)
        while instant < month.start:
            key = _previous_month(key)
            month = self._month(key)
        while instant >= month.end:
            key = _next_month(key)
            month = self._month(key)
        recent[:] = [(key, month)]  # one slice assignment: safe when threads share the calendar
        return key, month

    def _month(self, key: tuple[int, int]) -> _Month:
        cached = self._months.get(key)
        if cached is None:
            cached = self._build_month(key)
            self._months[key] = cached
        return cached

    def _closed_dates(self, year: int) -> frozenset[date] | set[date]:
        if self.holiday_country is None:
            return self.extra_holidays
        return self.extra_holidays | _public_holidays(self.holiday_country, self.holiday_subdivision, year)

    def _build_month(self, key: tuple[int, int]) -> _Month:
        """One pass over the month's local dates; holidays drop whole dates, closures cut instants."""
        if not _FIRST_MONTH <= key <= _LAST_MONTH:
            raise DateOutOfRange(f"calendar {self.name!r}: {key[0]:04d}-{key[1]:02d} is outside the supported date range")
        zone = self._zone
        year, month = key
        first = date(year, month, 1)
        following = date(*_next_month(key), 1)
        month_start = _wall_instant_us(zone, datetime.combine(first, _MIDNIGHT))
        month_end = _wall_instant_us(zone, datetime.combine(following, _MIDNIGHT))
        closed = self._closed_dates(year)
        hours = self.hours

        spans: list[tuple[int, int]] = []
        day = first
        while day < following:
            intervals = hours[day.weekday()]
            if intervals and day not in closed:
                for opening, closing in intervals:
                    begin = _wall_instant_us(zone, datetime.combine(day, opening))
                    if closing == _MIDNIGHT:
                        finish = _wall_instant_us(zone, datetime.combine(day + _ONE_DAY, _MIDNIGHT))
                    else:
                        finish = _wall_instant_us(zone, datetime.combine(day, closing))
                    if finish <= begin:
                        continue  # wholly inside a spring-forward gap
                    if spans and spans[-1][1] == begin:
                        spans[-1] = (spans[-1][0], finish)
                    else:
                        spans.append((begin, finish))
            day += _ONE_DAY

        closures = self._closure_spans
        if closures:
            relevant: list[tuple[int, int]] = []
            for closure in closures[max(0, bisect_right(closures, (month_start,)) - 1) :]:
                if closure[0] >= month_end:
                    break
                if closure[1] > month_start:
                    relevant.append(closure)
            spans = _subtract(spans, relevant)

        open_before: list[int] = []
        open_through: list[int] = []
        running = 0
        for begin, finish in spans:
            open_before.append(running)
            running += finish - begin
            open_through.append(running)
        return _Month(
            start=month_start,
            end=month_end,
            starts=tuple(begin for begin, _ in spans),
            ends=tuple(finish for _, finish in spans),
            open_before=tuple(open_before),
            open_through=tuple(open_through),
            total=running,
        )
