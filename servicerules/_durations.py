"""Readable durations: ``45s``, ``30m``, ``4h``, ``2d``, ``1w``, ``1h30m``."""

from __future__ import annotations

import math
import re

__all__ = ["DURATION_PATTERN", "format_duration", "parse_duration"]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_PATTERN = r"^\s*(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+$"
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(w|d|h|m|s))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError with an example of the accepted form."""
    compact = text.strip().replace(" ", "")
    if not compact or not _DURATION.match(compact):
        raise ValueError(f"invalid duration '{text}': write a number and a unit, e.g. 45s, 30m, 4h, 2d, 1w, 1h30m")
    return float(sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(compact)))


def format_duration(seconds: float) -> str:
    """``5h 12m``-style text for messages; seconds shown only under ten minutes. From ten minutes on, a part
    of a minute counts as a whole one: a wait of 1h 0m 40s reads ``1h 1m``, never ``1h``, which would look
    like a target of 1 hour met."""
    total = int(round(abs(seconds)))
    if total >= 600:
        total = math.ceil(abs(seconds) / 60) * 60  # up to the minute
    sign = "-" if seconds < 0 else ""
    if total == 0:
        return "0s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs and total < 600:
        parts.append(f"{secs}s")
    return sign + " ".join(parts or ["0s"])
