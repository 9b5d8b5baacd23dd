"""Fact values as the engine sees them: each fact type's normal form, and None for an unknown value or one of
the wrong type. The engine hands facts to the matching backend in this form, and expressions evaluated in
Python (derived values, targets, SLA conditions) read them so too."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable

__all__ = ["free_value", "identity", "normalise", "normaliser"]


def _timestamp(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.timestamp()
    return None


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # not for an int: 10**400 has no float
        return None
    return value


def free_value(value: Any) -> Any:
    """A free attribute's value as it is, but a NaN or infinity (which ``json.loads`` reads from ``NaN``
    and ``1e999``), which is no JSON number: unknown, as a typed number fact's."""
    if type(value) is float and not math.isfinite(value):
        return None
    return value


#: A fact value as the engine sees it, by fact type: None when unknown or of the wrong type.
_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "any": free_value,
    "timestamp": _timestamp,
    "number": _number,
    "duration": _number,
    "string": lambda value: value if isinstance(value, str) else None,
    "bool": lambda value: value if isinstance(value, bool) else None,
}


def identity(value: Any) -> Any:
    return value


def normaliser(type_: str) -> Callable[[Any], Any]:
    return _NORMALISERS.get(type_, identity)


def normalise(value: Any, type_: str) -> Any:
    """A fact value as the engine sees it, or None when unknown or of the wrong type."""
    return None if value is None else normaliser(type_)(value)
