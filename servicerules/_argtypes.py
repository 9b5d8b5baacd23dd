"""argparse value types shared by the command-line entry points (cli.py, diff.py, testing/command.py)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from servicerules.batch.mapping import Mapping

__all__ = ["aware_timestamp", "mapping_options"]


def aware_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp with a zone (``Z`` or an offset); anything else is a usage error."""
    try:
        value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timestamp {text!r}; write ISO 8601, e.g. 2026-03-02T18:00:00Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"timestamp {text!r} has no time zone; add Z or an offset such as +01:00")
    return value


def mapping_options(mapping: str | None, join: Sequence[str]) -> tuple[Mapping | None, dict[str, str | Path] | None]:
    """The ``--mapping`` and ``--join NAME=PATH`` options of ``check``, ``map`` and ``diff``: the loaded
    mapping and its join files, or ``(None, None)`` without a mapping. A mistake in them is
    :class:`ValueError`; a mapping that cannot be found :class:`FileNotFoundError`, one with errors
    :class:`~servicerules.errors.RulesetError`."""
    if not mapping:
        if join:
            raise ValueError("--join needs --mapping")
        return None, None
    from servicerules.batch.mapping import load_mapping

    joins: dict[str, str | Path] = {}
    for item in join:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--join {item!r}: write NAME=PATH")
        joins[name] = path
    loaded = load_mapping(mapping)
    unknown = sorted(set(joins) - set(loaded.joins))
    if unknown:
        known = ", ".join(loaded.joins) or "none"
        raise ValueError(f"the mapping has no join named {', '.join(unknown)} (its joins: {known})")
    return loaded, joins
