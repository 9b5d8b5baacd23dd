"""Loading mapping files: the shipped mappings, reading YAML with positions, and every problem as a
diagnostic at its ``file:line:col``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from servicerules.batch.mapping._checks import (
    _flatten, _parse_target, _Problem, _structure_problems, _target_problems, _value_problems,
)
from servicerules.batch.mapping._spec import DocPath, Mapping
from servicerules.errors import Diagnostic, RulesetError, did_you_mean
from servicerules.loader import SourceDocument, YamlLoader, load_yaml
from servicerules.model.interaction import Event, Interaction


MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "data" / "mappings"


class MappingError(RulesetError):
    """A mapping file is wrong (YAML, schema, targets) or does not fit its input; holds every problem.

    A subclass of :class:`~servicerules.errors.RulesetError`, so whatever reports ruleset problems
    (``file:line:col: CODE message`` with the source line and a hint) reports mapping problems too.
    """


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped with servicerules (``twcs``, ``zendesk``, …)."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def mapping_path(name: str) -> Path:
    """The file of a shipped mapping, by name (``"twcs"``). Raises :class:`FileNotFoundError`."""
    path = MAPPINGS_DIR / f"{name}.yaml"
    if "/" in name or "\\" in name or not path.is_file():
        raise FileNotFoundError(f"no shipped mapping named {name!r}; shipped mappings: {', '.join(shipped_mappings())}")
    return path


def _mapping_source(path_or_text: str | Path) -> tuple[str, str | None]:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8"), str(path_or_text)
    if "\n" in path_or_text.strip():
        return path_or_text, None
    if Path(path_or_text).is_file():
        return Path(path_or_text).read_text(encoding="utf-8"), path_or_text
    if path_or_text in shipped_mappings():
        path = mapping_path(path_or_text)
        return path.read_text(encoding="utf-8"), str(path)
    if not path_or_text.strip() or re.search(r"^[{\[-]|: ", path_or_text.strip()):
        return path_or_text, None  # one line of YAML
    raise FileNotFoundError(f"mapping file not found: {path_or_text!r} (shipped mappings: {', '.join(shipped_mappings())})")


_TYPED_KEYS = frozenset({"const", "default", "required", "strip", "sort_events", "empty", "doublequote", "skipinitialspace", "strict", "quoting"})


def _plain_scalars(text: str) -> tuple[dict[DocPath, str], dict[DocPath, str]]:
    """The source text of plain (unquoted) scalar values and keys, by document path.

    YAML reads ``True``, ``0`` or ``2017`` as a bool or a number; a mapping compares them with the text of
    the export, so ``map: {True: customer}`` must mean the text ``True``.
    """
    values: dict[DocPath, str] = {}
    keys: dict[DocPath, str] = {}
    node = yaml.compose(text, Loader=YamlLoader)  # as load_yaml reads it, so that the paths agree
    constructor = YamlLoader("")

    def walk(n: yaml.Node, path: DocPath) -> None:
        if isinstance(n, yaml.ScalarNode):
            if n.style is None:
                values[path] = n.value
        elif isinstance(n, yaml.MappingNode):
            constructor.flatten_mapping(n)
            for key_node, value_node in n.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
                child = path + (key if isinstance(key, (str, int)) else str(key),)
                if isinstance(key_node, yaml.ScalarNode) and key_node.style is None:
                    keys[child] = key_node.value
                walk(value_node, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, path + (i,))

    if node is not None:
        walk(node, ())
    return values, keys


def _as_text(data: Any, values: dict[DocPath, str], keys: dict[DocPath, str], path: DocPath = ()) -> Any:
    """Copy of the document with unquoted non-text scalars back as their source text (except typed fields)."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            child = path + (key if isinstance(key, (str, int)) else str(key),)
            new_key = key if isinstance(key, str) else keys.get(child, str(key))
            out[new_key] = _as_text(value, values, keys, child)
        return out
    if isinstance(data, list):
        return [_as_text(item, values, keys, path + (i,)) for i, item in enumerate(data)]
    if data is None or isinstance(data, str):
        return data
    owner = next((p for p in reversed(path) if isinstance(p, str)), None)
    parent = path[-2] if len(path) >= 2 else None
    if owner in _TYPED_KEYS or parent == "map" or (owner == "map" and not isinstance(path[-1], str)):
        return data
    return values.get(path, data)


def _doc_path(path: Sequence[str | int], data: Any, keys: dict[DocPath, str]) -> DocPath:
    """A path of the text-keyed copy (see :func:`_as_text`) as a path of the document, whose keys are
    what YAML read (``on:`` is the key True in YAML 1.1)."""
    out: list[str | int] = []
    node = data
    for part in path:
        if isinstance(node, dict):
            if part not in node or not isinstance(part, str):
                # the document's paths hold a key that is neither text nor a number as its str() ('None')
                match = next((_path_key(k) for k in node if keys.get((*out, _path_key(k))) == part), None)
                if match is not None:
                    part = match
            out.append(part)
            node = node.get(part)
        else:
            out.append(part)
            node = node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None
    return tuple(out)


def _path_key(key: Any) -> str | int:
    return key if isinstance(key, (str, int)) else str(key)


def _doc_loc(loc: Sequence[Any], data: Any) -> DocPath:
    """A pydantic error location as a path into the document: union branch tags and list indexes that
    shorthand normalisation added are dropped, a missing last key is kept."""
    out: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif index == len(loc) - 1 and isinstance(part, str) and not re.search(r"[\[\]()-]", part) and part[:1].islower():
            out.append(part)
    return tuple(out)


def _model_fields_at(path: DocPath) -> list[str]:
    """Field names of the model that holds ``path`` (for "did you mean" hints)."""
    current: Any = Mapping
    for part in path:
        if current is None:
            return []
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields and not any(f.alias == part for f in current.model_fields.values()):
                return []
            name = part if part in current.model_fields else next(n for n, f in current.model_fields.items() if f.alias == part)
            current = _element(current.model_fields[name].annotation)
        elif isinstance(current, dict):
            current = current.get("value")
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _element(annotation: Any) -> Any:
    """The model a field's value (or its list items, or its dict values) holds."""
    for arg in _flatten(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if getattr(arg, "__origin__", None) is dict:
            inner = _element(get_args(arg)[1])
            return {"value": inner} if inner is not None else None
    return None


def _diagnostic(
    doc: SourceDocument, keys: dict[DocPath, str], code: str, message: str, path: Sequence[str | int], *, hint: str | None = None, key: bool = False
) -> Diagnostic:
    """A diagnostic at ``path`` of the text-keyed copy of the document."""
    diagnostic = doc.diagnostic(code, message, _doc_path(path, doc.data, keys), hint=hint, key=key)
    return Diagnostic(diagnostic.code, diagnostic.message, diagnostic.location, diagnostic.hint, diagnostic.source_line, tuple(path))


def _schema_diagnostics(exc: ValidationError, doc: SourceDocument, data: Any, keys: dict[DocPath, str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in exc.errors():
        loc = _doc_loc(error["loc"], data)
        kind = error["type"]
        name = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
        if kind == "extra_forbidden":
            hint = _misplaced_target(name, loc[:-1]) or did_you_mean(name, _model_fields_at(loc[:-1]))
            out.append(_diagnostic(doc, keys, "SR110", f"unknown field '{name}'", loc, hint=hint, key=True))
            continue
        if kind == "missing":
            parent = loc[:-1]
            where = f" in {_describe_path(parent)}" if parent else ""
            out.append(_diagnostic(doc, keys, "SR111", f"missing required field '{name}'{where}", parent))
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = None
        if kind == "literal_error":
            expected = str(error.get("ctx", {}).get("expected", ""))
            options = [e.strip(" '") for e in expected.replace(" or ", ",").split(",") if e.strip(" '")]
            hint = did_you_mean(str(error.get("input")), options)
            message = f"invalid value {error.get('input')!r} for '{name}': {message[0].lower() + message[1:]}"
        else:
            label = name or _describe_path(loc)
            message = f"'{label}': {message[0].lower() + message[1:]}" if label else message
        out.append(_diagnostic(doc, keys, "SR112", message, loc, hint=hint))
    unique: dict[tuple[str, Any, str], Diagnostic] = {}
    for diagnostic in out:
        unique.setdefault((diagnostic.code, diagnostic.location, diagnostic.message), diagnostic)
    return list(unique.values())


def _misplaced_target(name: str, parent: DocPath) -> str | None:
    """A hint for a target written beside ``fields:`` instead of under it (``created_at:`` at the top level,
    ``text:`` in a synthesised event)."""
    if parent == ():
        root: type[BaseModel] = Interaction
    elif len(parent) == 2 and parent[0] == "events" and isinstance(parent[1], int):
        root = Event
    else:
        return None
    if isinstance(_parse_target(name, root), _Problem):
        return None
    where = "the mapping's" if root is Interaction else "the event's"
    return f"did you mean 'fields.{name}'? Targets go under {where} 'fields:'"


def _describe_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_mapping(path_or_text: str | Path) -> Mapping:
    """Load and validate a mapping: a file path, a shipped mapping's name (``"twcs"``) or YAML text.

    Raises :class:`MappingError` listing every problem with ``file:line:col`` (codes SR100 YAML syntax,
    SR101 duplicate key, SR102 not a mapping, SR110 unknown field or target, SR111 missing field, SR112
    invalid value), and :class:`FileNotFoundError` for a path that does not exist.
    """
    text, file = _mapping_source(path_or_text)
    try:
        doc = load_yaml(text, file)
    except RulesetError as exc:
        raise MappingError(exc.diagnostics) from None
    if not isinstance(doc.data, dict):
        found = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        raise MappingError(
            [Diagnostic("SR102", f"a mapping must be a YAML mapping, this document is {found}", doc.location(()),
                        hint="start with 'layout: per_message' or 'layout: per_interaction' and 'fields:'")]
        )
    values, keys = _plain_scalars(text)
    data = _as_text(doc.data, values, keys)
    diagnostics: list[Diagnostic] = []
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    events = data.get("events") if isinstance(data.get("events"), list) else []
    event_fields: list[dict[str, Any]] = [
        e["fields"] if isinstance(e, dict) and isinstance(e.get("fields"), dict) else {} for e in events
    ]
    event_types = [e.get("type") if isinstance(e, dict) else None for e in events]
    problems = _target_problems(fields, event_fields) + _structure_problems(data)
    problems += _value_problems(fields, zip(event_types, event_fields))
    for problem in problems:
        diagnostics.append(_diagnostic(doc, keys, problem.code, problem.message, problem.path, hint=problem.hint, key=problem.key))
    try:
        mapping = Mapping.model_validate(data, context={"_checked_by_loader": True})
    except ValidationError as exc:
        raise MappingError(diagnostics + _schema_diagnostics(exc, doc, data, keys)) from None
    if diagnostics:
        raise MappingError(diagnostics)
    mapping._doc = doc
    mapping._keys = keys
    return mapping
