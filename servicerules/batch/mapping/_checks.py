"""Checks across the fields of a mapping: target paths resolved against the interaction model, and the
structure (layout and grouping, joins).

They work on the document as read (plain dicts), so that the loader runs them beside the schema's checks
and reports them with file positions; :class:`~servicerules.batch.mapping._spec.Mapping` runs them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from servicerules.errors import did_you_mean
from servicerules.model._diagnostics import _describe, _error_loc
from servicerules.model.interaction import Agent, Author, Customer, Event, Interaction


@dataclass(frozen=True)
class _Problem:
    path: tuple[str | int, ...]
    code: str
    message: str
    hint: str | None = None
    key: bool = False


_MODELS: dict[str, type[BaseModel]] = {"customer": Customer, "author": Author}
_TIMESTAMP_FIELDS = {(Interaction, "created_at"), (Interaction, "solved_at"), (Interaction, "closed_at"), (Event, "at")}
_LISTS: dict[str, type[BaseModel]] = {"events": Event, "agents": Agent}


@dataclass(frozen=True)
class _Target:
    text: str
    list_name: str | None  # "events" or "agents" for an ``x[].…`` target
    path: tuple[str, ...]  # below the interaction, or below the list element
    timestamp: bool
    text_field: bool = False  # a free-text field of the model (id, name, …): numbers become text


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    origin = getattr(annotation, "__origin__", None)
    if origin is dict:
        return [annotation]
    if args:
        out: list[Any] = []
        for arg in args:
            if not isinstance(arg, (str, int)) and arg is not None:
                out.extend(_flatten(arg))
        return out
    return [annotation]


def _is_text(annotation: Any) -> bool:
    """Whether a field holds free text (``str``, ``str | None``, ``Annotated[str, …]``), not a choice."""
    args = [a for a in _flatten(annotation) if a is not type(None)]
    return bool(args) and all(a is str for a in args)


def _parse_target(text: str, root: type[BaseModel]) -> _Target | _Problem:
    """Resolve a target path against the interaction (or event) model."""
    parts = text.split(".")
    list_name: str | None = None
    model: type[BaseModel] | None = root
    path: list[str] = []
    for index, part in enumerate(parts):
        name = part[:-2] if part.endswith("[]") else part
        if not name:
            return _Problem((), "SR112", f"target {text!r}: empty name in the path")
        if model is None:  # below attributes: free-form keys
            if part != name:
                return _Problem((), "SR112", f"target {text!r}: '[]' is only allowed on events and agents")
            path.append(name)
            continue
        fields = model.model_fields
        if name not in fields:
            where = "the interaction" if model is Interaction else f"the {'event' if model is Event else model.__name__.lower()}"
            hint = did_you_mean(name, [*fields, *(f"{n}[]" for n in _LISTS if model is Interaction)])
            if hint is None and "attributes" in fields:
                hint = f"a value the model has no field for goes under attributes: {'.'.join([*parts[:index], 'attributes', *parts[index:]])}"
            return _Problem((), "SR110", f"target {text!r}: {where} has no field {name!r}", hint)
        if part != name:
            if model is not Interaction or name not in _LISTS or index != 0:
                return _Problem((), "SR112", f"target {text!r}: '[]' is only allowed on events and agents")
            list_name, model = name, _LISTS[name]
            if index == len(parts) - 1:
                return _Problem((), "SR112", f"target {text!r}: name a field of the element, e.g. {name}[].{next(iter(model.model_fields))}")
            continue
        path.append(name)
        if name == "attributes":
            model = None
        elif name in _MODELS:
            model = _MODELS[name]
        elif index < len(parts) - 1:
            return _Problem((), "SR112", f"target {text!r}: {name!r} is a single value, it has no fields")
    owner = _LISTS[list_name] if list_name else root
    timestamp = len(path) == 1 and (owner, path[0]) in _TIMESTAMP_FIELDS
    leaf: type[BaseModel] = owner
    for name in path[:-1]:
        if name == "attributes":
            return _Target(text, list_name, tuple(path), timestamp)
        leaf = _MODELS[name]
    info = leaf.model_fields.get(path[-1])
    text_field = info is not None and path[-1] != "attributes" and _is_text(info.annotation)
    return _Target(text, list_name, tuple(path), timestamp, text_field)


def _conflicts(targets: Sequence[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str]]:
    """Pairs (inner, outer) where one target lies inside another mapped as a whole."""
    full = sorted(targets, key=lambda t: len(t[1]))
    out: list[tuple[str, str]] = []
    for i, (outer_text, outer) in enumerate(full):
        for inner_text, inner in full[i + 1 :]:
            if inner[: len(outer)] == outer:
                out.append((inner_text, outer_text))
    return out


def _target_problems(fields: AbcMapping[str, Any], event_fields: Iterable[AbcMapping[str, Any]]) -> list[_Problem]:
    problems: list[_Problem] = []
    seen: list[tuple[str, tuple[str, ...]]] = []
    for text in fields:
        target = _parse_target(str(text), Interaction)
        if isinstance(target, _Problem):
            problems.append(_Problem(("fields", text), target.code, target.message, target.hint, key=True))
            continue
        seen.append((text, (target.list_name or "", *target.path) if target.list_name else target.path))
    for inner, outer in _conflicts(seen):
        problems.append(_Problem(("fields", inner), "SR112", f"target {inner!r} lies inside {outer!r}, which is mapped as a whole", key=True))
    for index, mapping in enumerate(event_fields):
        seen_event: list[tuple[str, tuple[str, ...]]] = []
        for text in mapping:
            target = _parse_target(str(text), Event)
            path: tuple[str | int, ...] = ("events", index, "fields", text)
            if isinstance(target, _Problem):
                problems.append(_Problem(path, target.code, target.message, target.hint, key=True))
            elif target.path[0] in ("type", "at"):
                problems.append(_Problem(path, "SR112", f"target {text!r}: give the event's {target.path[0]} as its own '{target.path[0]}:'", key=True))
            else:
                seen_event.append((text, target.path))
        for inner, outer in _conflicts(seen_event):
            problems.append(_Problem(("events", index, "fields", inner), "SR112", f"target {inner!r} lies inside {outer!r}, which is mapped as a whole", key=True))
    return problems


# The smallest valid interaction, event and agent: a value is tried in them to see whether the model takes it.
_SOME_TIME = "2000-01-01T00:00:00+00:00"
_SOME_INTERACTION: dict[str, Any] = {"id": "lint", "channel": "email", "created_at": _SOME_TIME}
_SOME_ELEMENT: dict[str, dict[str, Any]] = {"events": {"at": _SOME_TIME, "type": "message"}, "agents": {"id": "lint"}}


def _objection(target: _Target, value: Any, event_type: Any = None) -> tuple[str, str | None] | None:
    """What the interaction model says (message, hint) about ``value`` in ``target``, or None when it takes
    it. Only the model's errors at the target count: the value is tried in an otherwise valid interaction."""
    data = dict(_SOME_INTERACTION)
    prefix: tuple[str | int, ...] = ()
    node = data
    if target.list_name is not None:
        node = dict(_SOME_ELEMENT[target.list_name])
        if isinstance(event_type, str):
            node["type"] = event_type
        data[target.list_name] = [node]
        prefix = (target.list_name, 0)
    for name in target.path[:-1]:
        node = node.setdefault(name, {})
    node[target.path[-1]] = value
    try:
        Interaction.model_validate(data)
    except ValidationError as exc:
        where = (*prefix, *target.path)
        for error in exc.errors():
            if _error_loc(error)[: len(where)] == where:
                _, message, hint = _describe(error)
                return message, hint
    return None


def _sources(spec: Any) -> list[tuple[tuple[str | int, ...], AbcMapping[str, Any]]]:
    """A target's sources as (path below the target, settings given), from the document or from models."""
    items = list(enumerate(spec)) if isinstance(spec, list) else [(None, spec)]
    out: list[tuple[tuple[str | int, ...], AbcMapping[str, Any]]] = []
    for index, source in items:
        if isinstance(source, BaseModel):
            source = {name: getattr(source, name) for name in source.model_fields_set}
        if isinstance(source, AbcMapping):
            out.append(((() if index is None else (index,)), source))
    return out


def _value_problems(fields: AbcMapping[str, Any], events: Iterable[tuple[Any, AbcMapping[str, Any]]]) -> list[_Problem]:
    """Constants, defaults and value-map results the interaction model would refuse in every row that gets
    them (``channel: {const: Email}``), found when the mapping is loaded instead of once per record."""
    problems: list[_Problem] = []
    event_type = None
    for text, spec in fields.items():
        if str(text) == "events[].type":
            event_type = next((s.get("const") for _, s in _sources(spec) if "const" in s), None)
    groups: list[tuple[tuple[str | int, ...], type[BaseModel], AbcMapping[str, Any], Any]] = [
        (("fields",), Interaction, fields, event_type),
        *((("events", index, "fields"), Event, spec_fields, kind) for index, (kind, spec_fields) in enumerate(events)),
    ]
    for base, root, targets, kind in groups:
        for text, spec in targets.items():
            target = _parse_target(str(text), root)
            if isinstance(target, _Problem) or target.timestamp or "attributes" in target.path:
                continue  # bad targets are reported elsewhere; times take what the mapping makes of them
            if root is Event:
                target = _Target(target.text, "events", target.path, target.timestamp)
            for below, source in _sources(spec):
                tried: list[tuple[tuple[str | int, ...], Any]] = []
                for name in ("const", "default"):
                    if source.get(name) is not None:
                        tried.append(((name,), source[name]))
                table = source.get("map")
                if isinstance(table, AbcMapping) and source.get("type") is None:
                    tried.extend((("map", key), value) for key, value in table.items() if value is not None)
                for at, value in tried:
                    if target.text_field and not isinstance(value, str):
                        continue  # a number becomes text there
                    objection = _objection(target, value, kind)
                    if objection is not None:
                        message, hint = objection
                        problems.append(_Problem(
                            (*base, text, *below, *at), "SR112", f"target {str(text)!r}: {message}",
                            hint or "each interaction given this value would be rejected",
                        ))
    return problems


def _structure_problems(data: AbcMapping[str, Any]) -> list[_Problem]:
    """Checks across fields, on the document as read (so they run beside the schema's checks, even when
    those fail): whatever has the wrong type here is left to the schema to report."""
    problems: list[_Problem] = []

    def given(name: str) -> bool:
        return data.get(name) is not None

    layout = data.get("layout")
    fields = data.get("fields")
    if layout == "per_message":
        if not given("group_by") and not given("thread"):
            problems.append(_Problem(("layout",), "SR111", "layout per_message needs 'group_by' (a column) or 'thread' to group rows into interactions"))
        if given("group_by") and given("thread"):
            problems.append(_Problem(("thread",), "SR112", "give either 'group_by' or 'thread', not both"))
        if given("grouping") and not given("group_by"):
            problems.append(_Problem(("grouping",), "SR112", "'grouping' goes with 'group_by' (a thread is held until it is complete)"))
    elif layout == "per_interaction":
        for name in ("group_by", "grouping", "thread"):
            if given(name):
                problems.append(_Problem((name,), "SR112", f"'{name}' needs layout per_message; with per_interaction every row is one interaction", key=True))
        if isinstance(fields, AbcMapping) and "id" not in fields:
            problems.append(_Problem(("fields",), "SR111", "missing required field 'id' in fields", "with one row per interaction, map the interaction id from a column", key=True))
    if isinstance(fields, AbcMapping) and "channel" not in fields:
        problems.append(_Problem(("fields",), "SR111", "missing required field 'channel' in fields", "map it from a column or set a constant: channel: {const: email}", key=True))
    joins = data.get("joins")
    if not isinstance(joins, AbcMapping):
        return problems
    names = list(joins)
    for index, (name, join) in enumerate(joins.items()):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", str(name)):
            problems.append(_Problem(("joins", name), "SR112", f"join name {name!r}: use letters, digits, '_' and '-' (columns are read as {name}.column)", key=True))
        on = join.get("on") if isinstance(join, AbcMapping) else None
        if not isinstance(on, str):
            continue
        head, dot, _ = on.partition(".")
        if dot and head in joins and names.index(head) >= index:
            problems.append(_Problem(("joins", name, "on"), "SR112", f"join {name!r} looks up {on!r}, but join {head!r} is not declared before it"))
    return problems
