"""Turn pydantic validation errors into servicerules diagnostics with file positions and hints."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from servicerules.errors import Diagnostic, InteractionError, did_you_mean
from servicerules.loader import SourceDocument

__all__ = ["interaction_error", "ruleset_diagnostics"]


_BRANCH_NAMES = frozenset({"str", "int", "float", "bool", "dict", "list", "none", "datetime", "date"})


def _clean_loc(loc: Iterable[Any]) -> tuple[str | int, ...]:
    # pydantic puts union-branch and validator names ("bool", "literal['a','b']") into locations
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and p not in _BRANCH_NAMES))


def _error_loc(error: Any) -> tuple[str | int, ...]:
    """The cleaned location of one pydantic error. An unknown field's own name (the last part) is the
    input's key, whatever it is: a key such as ``"a[b"`` or ``"bool"`` is kept."""
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden" and loc:
        return _clean_loc(loc[:-1]) + loc[-1:]
    return _clean_loc(loc)


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional, unions and Annotated peeled away)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _model_at(root: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class whose fields live at ``path`` (to suggest field names), if one can be found."""
    current: list[Any] = [root]
    for part in path:
        nxt: list[Any] = []
        for typ in current:
            origin = typing.get_origin(typ)
            if isinstance(typ, type) and issubclass(typ, BaseModel) and isinstance(part, str):
                field = typ.model_fields.get(part)
                if field is not None:
                    nxt.extend(_unwrap(field.annotation))
            elif origin in (list, tuple) and isinstance(part, int):
                nxt.extend(_unwrap(typing.get_args(typ)[0]))
            elif origin is dict:
                nxt.extend(_unwrap(typing.get_args(typ)[1]))
        current = nxt
    for typ in current:
        if isinstance(typ, type) and issubclass(typ, BaseModel):
            return typ
    return None


def _field_names(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _describe(error: Any) -> tuple[str, str, str | None]:
    """(code, message, hint) for one pydantic error dict."""
    kind = error["type"]
    loc = _error_loc(error)
    name = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return "SR110", f"unknown field '{name}'", None
    if kind == "missing":
        return "SR111", f"missing required field '{name}'", None
    if kind == "naive_timestamp":
        return "SR311", error["msg"], None
    if kind == "timestamp_text":
        value = error.get("input")
        hint = None
        if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit()):
            hint = "a number is not read as a time (seconds since 1970? a date as 20260301?): convert it first; a mapping reads epoch seconds with format: epoch"
        return "SR112", f"invalid timestamp {value!r}: {_lower_first(error['msg'])}", hint
    if kind == "events_order":
        return "SR312", error["msg"], "sort the events by 'at' before checking"
    message = error["msg"]
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected")
        value = error.get("input")
        hint = did_you_mean(str(value), [e.strip(" '") for e in str(expected).replace(" or ", ",").split(",")]) if expected else None
        return "SR112", f"invalid value {value!r} for '{name}': {_lower_first(message)}", hint
    if _is_key(error):  # a dict's key, e.g. a lexicon's name: the value it names is not the problem
        value = error.get("input")
        parent = f" in '{loc[-2]}'" if len(loc) > 1 else ""
        hint = None
        if loc[:1] == ("lexicons",) and kind == "string_pattern_mismatch" and isinstance(value, str):
            hint = f"a lexicon's name has only letters, digits and '_', and no digit first (expressions read it): '{_NOT_NAME.sub('_', value)}'"
        return "SR112", f"invalid name {value!r}{parent}: {_lower_first(message)}", hint
    if kind in ("enum", "string_pattern_mismatch"):
        # only the first letter: the rest quotes the allowed values or the pattern, whose case matters
        return "SR112", f"invalid value {error.get('input')!r} for '{name}': {_lower_first(message)}", None
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return "SR112", f"'{name}': {_lower_first(message)}", None


_NOT_NAME = re.compile(r"\W|^(?=\d)", re.ASCII)


def _is_key(error: Any) -> bool:
    """Whether the error is about a mapping's key (pydantic ends its location with ``[key]``)."""
    return tuple(error["loc"])[-1:] == ("[key]",)


def _lower_first(message: str) -> str:
    """pydantic's sentence as the tail of ours: its first letter in lower case, the rest as it is."""
    return message[:1].lower() + message[1:]


def ruleset_diagnostics(exc: ValidationError, doc: SourceDocument, root: type[BaseModel]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    for error in exc.errors():
        loc = _error_loc(error)
        code, message, hint = _describe(error)
        if code == "SR110":
            hint = did_you_mean(str(loc[-1]), _field_names(_model_at(root, loc[:-1])))
            diag = doc.diagnostic(code, message, loc, hint=hint, key=True)
        elif code == "SR111":
            parent = loc[:-1]
            where = f" in {_describe_path(parent)}" if parent else ""
            diag = doc.diagnostic(code, message + where, parent, hint=hint)
        else:
            diag = doc.diagnostic(code, message, loc, hint=hint, key=_is_key(error))
        key = (diag.code, diag.location, diag.message)
        if key not in seen:
            seen.add(key)
            diagnostics.append(diag)
    return diagnostics


def _describe_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def interaction_error(exc: ValidationError, data: Any) -> InteractionError:
    diagnostics = []
    for error in exc.errors():
        loc = _error_loc(error)
        code, message, hint = _describe(error)
        if code in ("SR110", "SR111"):
            # the message names the field; say where its parent is
            parent = _describe_path(loc[:-1])
            text = f"{message} in {parent}" if parent else message
            if code == "SR110":
                hint = did_you_mean(str(loc[-1]), _field_names(_interaction_model_at(loc[:-1])))
        else:
            where = _describe_path(loc)
            text = f"{where}: {message}" if where else message
        diagnostics.append(Diagnostic(code, text, None, hint, path=loc))
    return InteractionError(diagnostics)


def _interaction_model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    from servicerules.model.interaction import Interaction

    return _model_at(Interaction, path)
