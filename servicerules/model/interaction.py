"""The interaction model: one ticket, chat, call, e-mail thread or social conversation.

Timestamps must carry a time zone. A naive timestamp is an error (SR311) unless the caller passes a default
zone in the validation context (``Interaction.parse(data, default_timezone="Europe/Berlin")``). (Batch
mappings do not pass one: they localise an export's local times themselves, with the mapping's ``timezone``.)

Without a default zone, :meth:`Interaction.parse` first validates with a copy of the schema in which
pydantic-core checks the zones itself (no Python call per timestamp); only data that copy rejects goes through
the models' own validator, which gives the errors. Both build the same ``Interaction``/``Event``/... objects.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Mapping, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError, SchemaValidator, core_schema

from servicerules.errors import Diagnostic, InteractionError, internal_error

__all__ = [
    "AUTOMATION_KINDS",
    "AutomationKind",
    "EventType",
    "Agent",
    "Author",
    "Customer",
    "EVENT_TYPES",
    "Event",
    "Interaction",
]

EventType = Literal[
    "message",
    "note",
    "status",
    "call.queued",
    "call.answered",
    "call.abandoned",
    "call.ended",
    "hold.started",
    "hold.ended",
    "transfer",
    "action",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
AutomationKind = Literal["autoresponder", "macro", "trigger", "bot"]
AUTOMATION_KINDS: tuple[str, ...] = get_args(AutomationKind)


def _aware(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    if value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None:
        return value
    zone = (info.context or {}).get("default_timezone")
    if zone:
        return value.replace(tzinfo=zone if isinstance(zone, dt.tzinfo) else ZoneInfo(str(zone)))
    raise PydanticCustomError(
        "naive_timestamp",
        "timestamp '{value}' has no time zone; write it with an offset ({value}+01:00, {value}Z), or give its zone "
        "(a mapping's timezone; default_timezone in Python)",
        {"value": value.isoformat()},
    )


_TIMESTAMP_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"
_IS_TIMESTAMP_TEXT = re.compile(_TIMESTAMP_TEXT)
_NOT_TIMESTAMP_TEXT = "a timestamp is ISO 8601 text with a date and a time of day, such as 2026-03-02T09:15:00+01:00"


def _timestamp_text(value: Any) -> Any:
    """A timestamp given in Python: a datetime, or text that begins with a date and a time of day."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _IS_TIMESTAMP_TEXT.match(value)):
        return value
    raise PydanticCustomError("timestamp_text", _NOT_TIMESTAMP_TEXT)


class _DateAndTime:
    """Only a date with a time of day makes a timestamp: pydantic alone would take ``20260301`` (also as
    text) for seconds since 1970, and ``"2026-03-01"`` for its midnight. In JSON, pydantic-core checks the
    text's start itself; in Python, :func:`_timestamp_text` does."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        parse = handler(source)
        text = core_schema.custom_error_schema(
            core_schema.str_schema(pattern=_TIMESTAMP_TEXT), "timestamp_text", custom_error_message=_NOT_TIMESTAMP_TEXT
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([text, parse]),
            python_schema=core_schema.no_info_before_validator_function(_timestamp_text, parse),
        )


Timestamp = Annotated[
    dt.datetime, _DateAndTime, AfterValidator(_aware), WithJsonSchema({"type": "string", "format": "date-time"})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Author(_Strict):
    role: Literal["customer", "agent", "bot", "system", "manager"]
    id: str | None = None
    name: str | None = None


class Event(_Strict):
    at: Timestamp
    type: EventType
    author: Author | None = None
    public: bool = Field(default=True, description="visible to the customer (internal notes are not)")
    automated: bool | AutomationKind = Field(
        default=False, description="sent by automation; a kind names which"
    )
    text: str | None = None
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] | None = None
    action: str | None = Field(default=None, description="for action events: identity_verified, refund_issued, …")
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_automated(self) -> bool:
        return self.automated is not False or (self.author is not None and self.author.role in ("bot", "system"))

    @property
    def role(self) -> str | None:
        return self.author.role if self.author else None


class Customer(_Strict):
    id: str | None = None
    name: str | None = None
    tier: str | None = Field(default=None, description="loyalty tier or segment, e.g. gold, silver, bronze, guest")
    segment: str | None = None
    locale: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class Agent(_Strict):
    id: str
    name: str | None = None
    team: str | None = None


class Interaction(_Strict):
    id: str = Field(min_length=1)
    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]*$")] = Field(
        description="email, chat, phone, social, sms, web, in_person, or a custom name"
    )
    created_at: Timestamp
    solved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    language: str | None = Field(default=None, description="BCP 47 tag, e.g. en, de-DE, hi")
    subject: str | None = None
    customer: Customer | None = None
    agents: list[Agent] = Field(default_factory=list)
    team: str | None = None
    events: list[Event] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _events_in_time_order(self) -> "Interaction":
        # one attribute read and one comparison per event: this runs for every interaction parsed
        previous: dt.datetime | None = None
        for index, event in enumerate(self.events):
            at = event.at
            if previous is not None and at < previous:
                raise PydanticCustomError(
                    "events_order",
                    "event {index} at {at} is earlier than event {prev} at {prev_at}; events must be in time order",
                    {"index": index, "at": at.isoformat(), "prev": index - 1, "prev_at": previous.isoformat()},
                )
            previous = at
        return self

    @classmethod
    def parse(cls, data: Any, *, default_timezone: str | dt.tzinfo | None = None) -> "Interaction":
        """Validate ``data`` (a dict or JSON text/bytes). Raises :class:`~servicerules.errors.InteractionError`:
        for invalid data (in a dict, also a string with an unpaired surrogate, which JSON text cannot give),
        and (SR402) when validating it raised any other exception, a bug that then costs one record, not a
        batch run (the exception is the error's ``__cause__``)."""
        context = {"default_timezone": _zone(default_timezone)} if default_timezone else None
        text = isinstance(data, (str, bytes, bytearray))
        try:
            model: Interaction | None = None
            if not default_timezone and cls is Interaction and _AWARE_ONLY is not None:
                try:
                    model = _AWARE_ONLY.validate_json(data) if text else _AWARE_ONLY.validate_python(data)
                except ValidationError:
                    pass  # Interaction's own validator decides, and words the errors
            if model is None:
                try:
                    model = cls.model_validate_json(data, context=context) if text else cls.model_validate(data, context=context)
                except ValidationError as exc:
                    from servicerules.model._diagnostics import interaction_error

                    raise interaction_error(exc, data) from None
            if not text:
                where = _surrogate_path(data)
                if where is not None:
                    raise _surrogate_error(where)
            return model
        except (InteractionError, MemoryError):
            raise
        except Exception as exc:
            raise internal_error(exc, "validated") from exc


_SURROGATE = re.compile("[\ud800-\udfff]")
_Link = tuple[Any, Any]
"""A key or index and the link of its container: a path from the end, built only for what is searched."""


def _surrogate_path(data: Any) -> tuple[str | int, ...] | None:
    """Where in ``data`` a string (or key) holds an unpaired surrogate; None when none does.

    Python's ``json.loads`` decodes the JSON escape ``"\\udc00"`` to one, JSON text that holds one is
    rejected by the parser, and no report or output file could encode it. This runs for every record given
    as a dict: strings are checked in the loop (most are ASCII, an O(1) test), only containers are pushed."""
    search = _SURROGATE.search
    stack: list[tuple[Any, _Link | None]] = [(data, None)]
    seen: set[int] = set()  # a dict or list of the attributes may hold itself
    while stack:
        value, link = stack.pop()
        kind = type(value)
        if kind is dict or kind is list:
            if id(value) in seen:
                continue
            seen.add(id(value))
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str or not key.isascii():
                    stack.append((key, (key, link)))
                if type(item) is str:
                    if not item.isascii() and search(item):
                        return _path((key, link))
                elif item is not None and type(item) not in (bool, int, float):
                    stack.append((item, (key, link)))
        elif kind is list:
            for index, item in enumerate(value):
                if type(item) is str:
                    if not item.isascii() and search(item):
                        return _path((index, link))
                elif item is not None and type(item) not in (bool, int, float):
                    stack.append((item, (index, link)))
        elif isinstance(value, str):
            if search(value):
                return _path(link)
        elif isinstance(value, Mapping):
            stack.append((dict(value), link))
        elif isinstance(value, (list, tuple)):
            stack.append((list(value), link))
    return None


def _path(link: _Link | None) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    while link is not None:
        part, link = link
        # a key may be what holds the surrogate: shown as its escape, so that the message can be written
        parts.append(part if isinstance(part, int) else str(part).encode("utf-8", "backslashreplace").decode())
    return tuple(reversed(parts))


def _surrogate_error(path: tuple[str | int, ...]) -> InteractionError:
    from servicerules.model._diagnostics import _describe_path

    message = "text with an unpaired surrogate (half of a UTF-16 pair, as the JSON escape \\udc00 gives)"
    hint = "no report or file can hold it: replace it (JSON text with one is rejected alike)"
    return InteractionError([Diagnostic("SR112", f"{_describe_path(path)}: {message}" if path else message, hint=hint, path=path)])


def _natively_aware(schema: Any) -> Any:
    """A copy of the core ``schema`` in which pydantic-core itself checks that timestamps have a UTC offset
    (``tz_constraint="aware"``), instead of calling :func:`_aware` for each."""
    if isinstance(schema, dict):
        if schema.get("type") == "function-after" and schema["function"].get("function") is _aware:
            return _aware_datetimes(schema["schema"])
        return {key: _natively_aware(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_natively_aware(item) for item in schema]
    return schema


def _aware_datetimes(schema: Any) -> Any:
    """``schema`` with ``tz_constraint="aware"`` on each datetime schema in it."""
    if isinstance(schema, dict):
        found = {key: _aware_datetimes(value) for key, value in schema.items()}
        return {**found, "tz_constraint": "aware"} if schema.get("type") == "datetime" else found
    if isinstance(schema, list):
        return [_aware_datetimes(item) for item in schema]
    return schema


# Interaction.parse without a default zone: the same models, fields and validators, but no Python call per
# timestamp. It accepts only what Interaction's own validator accepts without a zone (a timestamp passes when
# its tzinfo's utcoffset() gives an offset, as in _aware) and builds the same objects. What it rejects is
# validated again by Interaction's own validator, which accepts it (an odd tzinfo) or raises the usual
# errors: SR311's text and location never come from here. Not used when pydantic plugins wrap the
# validator, so that they see every validation as before.
_AWARE_ONLY: SchemaValidator | None = (
    SchemaValidator(_natively_aware(Interaction.__pydantic_core_schema__))
    if isinstance(Interaction.__pydantic_validator__, SchemaValidator)
    else None
)


def _zone(zone: str | dt.tzinfo) -> dt.tzinfo:
    if isinstance(zone, dt.tzinfo):
        # a tzinfo without an offset leaves the times naive: evaluation failed on them with a ValueError about as_of
        if dt.datetime(2000, 1, 1, tzinfo=zone).utcoffset() is None:
            raise ValueError(f"default_timezone {zone!r} gives no UTC offset; use an IANA name such as Europe/Berlin")
        return zone
    if not isinstance(zone, str):
        raise TypeError(f"default_timezone must be a time zone name such as 'Europe/Berlin' or a tzinfo, not {type(zone).__name__}")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as Europe/Berlin") from None
