"""Times in policy tests: absolute ISO 8601 timestamps, ``+<duration>`` after ``created_at``, and gaps.

YAML turns an unquoted ``2026-03-01T09:00:00+01:00`` into a ``datetime``; a quoted one stays a string. Both
are accepted everywhere a timestamp is. A relative time is a string starting with ``+`` (``+5m``,
``+2h30m``, ``+1d``) and counts from the interaction's ``created_at``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from servicerules._durations import parse_duration

__all__ = ["RELATIVE_HINT", "TIMESTAMP_HINT", "is_relative", "parse_gap", "parse_timestamp", "resolve_time", "shift"]

TIMESTAMP_HINT = "write an ISO 8601 timestamp with an offset, e.g. 2026-03-02T09:15:00+01:00"
RELATIVE_HINT = "or a time after created_at such as +5m, +2h30m, +1d"


class OutOfRange(ValueError):
    """A well-formed time or duration past what a datetime holds (the year 9999)."""


def is_relative(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("+")


def parse_timestamp(value: Any) -> dt.datetime:
    """A datetime from a YAML datetime or an ISO 8601 string (``Z`` allowed). May be naive: the interaction
    model rejects naive timestamps with its own error (SR311), which names the field."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        raise ValueError(f"'{value.isoformat()}' is a date without a time; {TIMESTAMP_HINT}")
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {type(value).__name__}; {TIMESTAMP_HINT}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid timestamp '{value}'; {TIMESTAMP_HINT}") from None


def parse_gap(value: Any) -> dt.timedelta:
    """A length of time: ``5m``, ``+5m``, ``2h30m`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5m, 2h30m or 1d")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        seconds = float(value)
    elif not isinstance(value, str):
        raise ValueError(f"expected a duration such as 5m, 2h30m or 1d, got {type(value).__name__}")
    else:
        text = value.strip()
        try:
            seconds = parse_duration(text[1:] if text.startswith("+") else text)
        except ValueError:
            raise ValueError(f"invalid duration '{value}'; write a number and a unit, e.g. 5m, 2h30m, 1d") from None
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:  # inf, or more than timedelta holds (999999999 days)
        raise OutOfRange(f"duration '{value}' is too long; times must stay before the year 10000") from None


def shift(start: dt.datetime, gap: dt.timedelta) -> dt.datetime:
    """``start + gap``, or a ValueError when that is past the last representable time (the year 9999)."""
    try:
        return start + gap
    except OverflowError:
        raise OutOfRange("the time is out of range: times must stay before the year 10000") from None


def resolve_time(value: Any, created_at: dt.datetime) -> dt.datetime:
    """An absolute time, or ``created_at`` plus a ``+<duration>``."""
    if is_relative(value):
        return shift(created_at, parse_gap(value))
    return parse_timestamp(value)


def check_time(value: Any, *, relative: bool) -> Any:
    """Validate a time as written in a test file (used by the pydantic models); returns it unchanged."""
    if relative and is_relative(value):
        try:
            parse_gap(value)
        except OutOfRange:
            raise
        except ValueError:
            raise ValueError(
                f"invalid relative time '{value}'; write + and a duration after created_at, e.g. +5m, +2h30m, +1d"
            ) from None
        return value
    if not relative and is_relative(value):
        raise ValueError(f"'{value}' is a relative time; this one must be absolute: {TIMESTAMP_HINT}")
    if isinstance(value, str) and value.strip().startswith("-"):
        raise ValueError(f"invalid time '{value}'; times before created_at cannot be written relative to it")
    try:
        parse_timestamp(value)
    except ValueError as exc:
        message = str(exc)
        if relative:
            message += f", {RELATIVE_HINT}"
        raise ValueError(message) from None
    return value
