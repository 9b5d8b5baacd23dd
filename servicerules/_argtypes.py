"""argparse value types shared by the command-line entry points (cli.py, diff.py, testing/command.py)."""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["aware_timestamp"]


def aware_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp with a zone (``Z`` or an offset); anything else is a usage error."""
    try:
        value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timestamp {text!r}; write ISO 8601, e.g. 2026-03-02T18:00:00Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"timestamp {text!r} has no time zone; add Z or an offset such as +01:00")
    return value
