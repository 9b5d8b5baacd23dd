"""The compact interaction form used by policy tests, expanded into the interaction model.

The expansion is documented in docs/reference/policy-tests.md ("The compact interaction form"); in short:

* ``defaults`` fill what the interaction leaves out; mappings (``customer``, ``attributes``) merge key by key.
* ``id`` defaults to ``default_id`` (the runner passes ``case-<number>``).
* ``created_at`` must be absolute; without it, the first event's absolute ``at`` is used.
* An event's time: ``at: <timestamp>``; ``at: +<duration>`` after ``created_at``; ``after: <duration>``
  after the previous event (after ``created_at`` for the first event); neither: the previous event's time
  (``created_at`` for the first).
* ``from: <role>`` is ``author: {role: <role>}``; ``internal: true`` is ``public: false`` (and type ``note``);
  ``auto: <kind>`` is ``automated: <kind>``.
* ``type`` defaults to ``status`` when ``status`` is given, ``action`` when ``action`` is, ``note`` for an
  internal event, and ``message`` otherwise.
* ``solved_at`` / ``closed_at`` may be relative; left out, they are the time of the last status event when
  that sets ``solved`` / ``closed``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from pydantic import BaseModel, ValidationError

from servicerules.errors import Diagnostic, InteractionError
from servicerules.loader import SourceDocument
from servicerules.model._diagnostics import ruleset_diagnostics
from servicerules.testing._model import CaseDefaults, CompactInteraction
from servicerules.testing._times import is_relative, parse_gap, parse_timestamp, resolve_time, shift

__all__ = ["CASE_ONLY_DEFAULTS", "expand_interaction", "plain"]

CASE_ONLY_DEFAULTS = ("as_of", "locale")
"""Keys of ``defaults`` that configure the evaluation, not the interaction."""

_INTERACTION_ORDER = (
    "id", "channel", "created_at", "solved_at", "closed_at", "priority", "language", "subject", "customer",
    "agents", "team", "events", "attributes",
)
_EVENT_ORDER = ("at", "type", "author", "public", "automated", "text", "status", "action", "attributes")

Path = tuple[str | int, ...]


class _Problems:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def add(self, code: str, message: str, path: Path, hint: str | None = None, *, name_path: bool = True) -> None:
        where = describe_path(path) if name_path else ""
        self.diagnostics.append(Diagnostic(code, f"{where}: {message}" if where else message, None, hint, path=path))


def describe_path(path: Path) -> str:
    """``events[2].at`` for ``("events", 2, "at")``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def plain(value: Any) -> Any:
    """Plain dicts and lists (pydantic models dumped as written) so the input can be merged and copied."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(by_alias=True, exclude_unset=True))
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; mappings merge key by key, everything else is replaced."""
    result = dict(base)
    for key, value in override.items():
        current = result.get(key)
        result[key] = merge(current, value) if isinstance(value, Mapping) and isinstance(current, Mapping) else value
    return result


def shape_diagnostics(data: Any, model: type[BaseModel], prefix: Path = ()) -> list[Diagnostic]:
    """Schema problems of ``data`` (no positions: it was not read from a file), each naming its path."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        out = []
        for d in ruleset_diagnostics(exc, SourceDocument("", None, data), model):
            path = prefix + d.path
            message = d.message
            if d.code == "SR110" and len(path) > 1:
                message = f"{message} in {describe_path(path[:-1])}"
            elif d.code == "SR112" and path:
                detail = message.split(": ", 1)[1] if message.startswith("'") else message
                message = f"{describe_path(path)}: {detail}"
            out.append(Diagnostic(d.code, message, None, d.hint, path=path))
        return out
    return []


def expand_interaction(
    compact: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    *,
    default_id: str = "interaction",
) -> dict[str, Any]:
    """Expand a compact interaction (as written in a ``*.test.yaml`` case) into an interaction record.

    ``defaults`` is the test file's ``defaults:`` mapping (its ``as_of`` and ``locale`` are ignored here).
    The result is a plain dict for :meth:`servicerules.Interaction.parse` (timestamps as ISO 8601 strings);
    it is not validated against the interaction model beyond the compact form's own checks. Raises
    :class:`~servicerules.errors.InteractionError` whose diagnostics carry the path of each problem.
    """
    if not isinstance(compact, Mapping):
        raise InteractionError([Diagnostic("SR302", f"an interaction must be a mapping, got {type(compact).__name__}")])
    if defaults is not None and not isinstance(defaults, Mapping):
        raise InteractionError([Diagnostic("SR112", f"defaults must be a mapping, got {type(defaults).__name__}", path=("defaults",))])
    compact = plain(compact)
    base = {k: v for k, v in plain(defaults or {}).items() if k not in CASE_ONLY_DEFAULTS}
    problems = shape_diagnostics(compact, CompactInteraction) + shape_diagnostics(dict(defaults or {}), CaseDefaults, ("defaults",))
    if problems:
        raise InteractionError(problems)
    data = merge(base, compact)
    found = _Problems()
    events_in: list[Mapping[str, Any]] = list(data.get("events") or [])

    created_value = data.get("created_at")
    if created_value is None:
        first_at = events_in[0].get("at") if events_in else None
        if first_at is not None and not is_relative(first_at):
            created_value = first_at
        else:
            found.add("SR111", "missing required field 'created_at'", ("created_at",),
                      hint="give the interaction's creation time in the case or under 'defaults:'", name_path=False)
            raise InteractionError(found.diagnostics)
    created = _time(found, created_value, ("created_at",), None)
    if created is not None and created.tzinfo is None:
        # one error here rather than one more for every event timed relative to it
        naive = created.isoformat()
        found.add("SR311", f"timestamp '{naive}' has no time zone; write it with an offset ({naive}+01:00, {naive}Z)",
                  ("created_at",))
    if created is None or found.diagnostics:
        raise InteractionError(found.diagnostics)

    events: list[dict[str, Any]] = []
    previous = created
    for index, raw in enumerate(events_in):
        event = _expand_event(found, raw, index, created, previous)
        if event is not None:
            events.append(event)
            previous = event["at"]

    out: dict[str, Any] = {"id": data.get("id") or default_id}
    for key in _INTERACTION_ORDER[1:]:
        if key == "events":
            out[key] = [{k: _iso(v) for k, v in e.items()} for e in events]
        elif key == "created_at":
            out[key] = _iso(created)
        elif key in ("solved_at", "closed_at"):
            value = data.get(key)
            at = _time(found, value, (key,), created) if value is not None else _final_status_time(events, key[:-3])
            if at is not None:
                out[key] = _iso(at)
        elif data.get(key) is not None:
            out[key] = data[key]
    for key, value in data.items():  # anything else is left for the interaction model to reject
        if key not in out and key not in _INTERACTION_ORDER:
            out[key] = value
    if found.diagnostics:
        raise InteractionError(found.diagnostics)
    return out


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _time(found: _Problems, value: Any, path: Path, created: dt.datetime | None) -> dt.datetime | None:
    try:
        if created is None:
            return parse_timestamp(value)
        return resolve_time(value, created)
    except ValueError as exc:
        found.add("SR112", str(exc), path)
        return None


def _final_status_time(events: list[dict[str, Any]], status: str) -> dt.datetime | None:
    statuses = [e for e in events if e.get("type") == "status" and e.get("status") is not None]
    if statuses and statuses[-1]["status"] == status:
        at = statuses[-1]["at"]
        return at if isinstance(at, dt.datetime) else None
    return None


def _expand_event(
    found: _Problems, raw: Mapping[str, Any], index: int, created: dt.datetime, previous: dt.datetime
) -> dict[str, Any] | None:
    path: Path = ("events", index)
    count = len(found.diagnostics)
    at_value, after_value = raw.get("at"), raw.get("after")
    at: dt.datetime | None = previous
    if at_value is not None and after_value is not None:
        found.add("SR112", "give either 'at' or 'after', not both", path + ("after",),
                  hint="'at: +5m' counts from created_at, 'after: 5m' from the previous event")
    elif at_value is not None:
        at = _time(found, at_value, path + ("at",), created)
    elif after_value is not None:
        try:
            at = shift(previous, parse_gap(after_value))
        except ValueError as exc:
            found.add("SR112", str(exc), path + ("after",))
    if raw.get("from") is not None and raw.get("author") is not None:
        found.add("SR112", "give either 'from' or 'author', not both", path + ("from",))
    if raw.get("auto") is not None and raw.get("automated") is not None:
        found.add("SR112", "give either 'auto' or 'automated', not both", path + ("auto",))
    if raw.get("internal") and raw.get("public"):
        found.add("SR112", "an internal event cannot be public", path + ("public",))
    if raw.get("type") is None and raw.get("status") is not None and raw.get("action") is not None:
        found.add("SR112", "an event has either 'status' or 'action'; give 'type' to say which it is", path + ("action",))
    if len(found.diagnostics) > count or at is None:
        return None

    event: dict[str, Any] = {"at": at}
    kind = raw.get("type")
    if kind is None:
        if raw.get("status") is not None:
            kind = "status"
        elif raw.get("action") is not None:
            kind = "action"
        elif raw.get("internal"):
            kind = "note"
        else:
            kind = "message"
    event["type"] = kind
    if raw.get("from") is not None:
        event["author"] = {"role": raw["from"]}
    elif raw.get("author") is not None:
        event["author"] = raw["author"]
    if raw.get("internal"):
        event["public"] = False
    elif raw.get("public") is not None:
        event["public"] = raw["public"]
    automated = raw.get("auto") if raw.get("auto") is not None else raw.get("automated")
    if automated is not None:
        event["automated"] = automated
    for key in ("text", "status", "action", "attributes"):
        if raw.get(key) is not None:
            event[key] = raw[key]
    return {k: event[k] for k in _EVENT_ORDER if k in event}
