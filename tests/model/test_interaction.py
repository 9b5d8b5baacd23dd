from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from servicerules import Interaction, InteractionError
from servicerules.errors import internal_error
from servicerules.model._diagnostics import interaction_error
from servicerules.model.interaction import Agent, Author, Customer


def base(**changes):
    data = {
        "id": "T-1",
        "channel": "email",
        "created_at": "2026-03-02T09:00:00+01:00",
        "events": [
            {"at": "2026-03-02T09:00:00+01:00", "type": "message", "author": {"role": "customer"}, "text": "Hi"},
            {"at": "2026-03-02T10:00:00+01:00", "type": "message", "author": {"role": "agent"}, "text": "Hello"},
        ],
    }
    data.update(changes)
    return data


def test_valid_interaction_parses_from_dict_and_json():
    a = Interaction.parse(base())
    b = Interaction.parse(json.dumps(base()))
    assert a == b
    assert a.events[1].at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
    assert a.priority == "normal" and a.events[0].public is True


def test_naive_timestamp_is_rejected_with_its_reason():
    with pytest.raises(InteractionError) as info:
        Interaction.parse(base(created_at="2026-03-02T09:00:00"))
    (diag,) = info.value.diagnostics
    assert diag.code == "SR311"
    assert diag.message == (
        "created_at: timestamp '2026-03-02T09:00:00' has no time zone; write it with an offset "
        "(2026-03-02T09:00:00+01:00, 2026-03-02T09:00:00Z), or give its zone (a mapping's timezone; default_timezone in Python)"
    )
    assert diag.path == ("created_at",)


def test_naive_timestamp_accepted_with_a_default_zone():
    parsed = Interaction.parse(base(created_at="2026-03-02T09:00:00"), default_timezone="Europe/Berlin")
    assert parsed.created_at.utcoffset() == dt.timedelta(hours=1)


class _NoOffset(dt.tzinfo):
    def utcoffset(self, moment: dt.datetime | None) -> None:
        return None

    def dst(self, moment: dt.datetime | None) -> None:
        return None


def test_a_default_zone_that_is_no_zone_is_refused():
    naive = base(created_at="2026-03-02T09:00:00")
    # TypeError: expected str, bytes or os.PathLike object, not int (from zoneinfo)
    with pytest.raises(TypeError, match="^default_timezone must be a time zone name such as 'Europe/Berlin' or a tzinfo, not int$"):
        Interaction.parse(naive, default_timezone=5)  # type: ignore[arg-type]
    # accepted, with every time left naive: evaluation then failed with "as_of must be timezone-aware"
    with pytest.raises(ValueError, match="gives no UTC offset; use an IANA name such as Europe/Berlin$"):
        Interaction.parse(naive, default_timezone=_NoOffset())
    assert Interaction.parse(naive, default_timezone=dt.timezone.utc).created_at.utcoffset() == dt.timedelta(0)


def test_events_out_of_order_are_rejected():
    data = base()
    data["events"].reverse()
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    (diag,) = info.value.diagnostics
    assert diag.code == "SR312"
    assert diag.message == (
        "event 1 at 2026-03-02T09:00:00+01:00 is earlier than event 0 at 2026-03-02T10:00:00+01:00; "
        "events must be in time order"
    )


def test_unknown_field_suggests_the_right_one():
    data = base()
    data["chanel"] = data.pop("channel")
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    by_code = {d.code: d for d in info.value.diagnostics}
    assert by_code["SR110"].message == "unknown field 'chanel'"
    assert by_code["SR110"].hint == "did you mean 'channel'?"
    assert by_code["SR111"].message == "missing required field 'channel'"


@pytest.mark.parametrize(("where", "key"), [((), "["), ((), "a[b"), ((), "bool"), (("customer",), "str")])
def test_unknown_field_named_like_a_pydantic_branch_is_reported_not_a_crash(where, key):
    # keys with '[' or named like a union branch ("bool", "str") were dropped from the location: an
    # IndexError (a CSV read as flat records whose header is '[' stopped a whole `check`)
    data = base()
    target = data
    for part in where:
        target = target.setdefault(part, {})
    target[key] = 1
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    (diag,) = info.value.diagnostics
    assert diag.code == "SR110"
    assert diag.message == f"unknown field '{key}'" + (f" in {where[0]}" if where else "")
    assert diag.path == (*where, key)


def test_an_exception_while_validating_is_an_sr402_interaction_error(monkeypatch):
    from servicerules.model import _diagnostics

    def broken(exc, data):
        raise IndexError("a bug")

    monkeypatch.setattr(_diagnostics, "interaction_error", broken)
    assert Interaction.parse({"id": "ok", "channel": "email", "created_at": "2026-03-02T09:00:00Z"}).id == "ok"
    for data in ({"id": "x"}, '{"id": "x"}'):  # invalid, and wording its errors fails
        with pytest.raises(InteractionError) as info:
            Interaction.parse(data)
        (diagnostic,) = info.value.diagnostics
        assert diagnostic.code == "SR402"
        assert diagnostic.message.startswith("this interaction could not be validated: IndexError: a bug (at test_interaction.py:")
        assert "report it" in (diagnostic.hint or "")
        assert isinstance(info.value.__cause__, IndexError)


def test_bad_event_fields_name_the_event():
    data = base()
    data["events"][1]["type"] = "mesage"
    data["events"][1]["author"] = {"role": "robot"}
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    messages = sorted(d.message for d in info.value.diagnostics)
    assert messages[0].startswith("events[1].author.role: invalid value 'robot' for 'role'")
    assert messages[1].startswith("events[1].type: invalid value 'mesage' for 'type'")
    hints = {d.hint for d in info.value.diagnostics}
    assert "did you mean 'message'?" in hints


def test_automation_flag_and_bot_authors_count_as_automated():
    parsed = Interaction.parse(
        base(events=[
            {"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "agent"}, "automated": "macro"},
            {"at": "2026-03-02T09:01:00Z", "type": "message", "author": {"role": "bot"}},
            {"at": "2026-03-02T09:02:00Z", "type": "message", "author": {"role": "agent"}},
        ])
    )
    assert [e.is_automated for e in parsed.events] == [True, True, False]


# --- Interaction.parse without a default zone validates with a copy of the schema in which pydantic-core
# checks the zones (interaction._AWARE_ONLY); what that copy rejects goes to the models' own validator. The
# tests below run on both paths ("reference": the copy switched off) and compare with the models' validator.


@pytest.fixture(params=["native", "reference"])
def validation_path(request, monkeypatch):
    from servicerules.model import interaction

    assert interaction._AWARE_ONLY is not None  # no pydantic plugin wraps the validator here
    if request.param == "reference":
        monkeypatch.setattr(interaction, "_AWARE_ONLY", None)
    return request.param


def reference(data):
    """What ``Interaction.parse`` did with the models' own validator only."""
    try:
        if isinstance(data, (str, bytes)):
            return Interaction.model_validate_json(data)
        return Interaction.model_validate(data)
    except ValidationError as exc:
        raise interaction_error(exc, data) from None
    except Exception as exc:  # an odd tzinfo that fails: the record is rejected, SR402
        raise internal_error(exc, "validated") from exc


def outcome(parse, data, **kwargs):
    """What parsing ``data`` gives, in a comparable form: the model with each object's class and each
    timestamp's zone, or the diagnostics, or the exception."""
    try:
        model = parse(data, **kwargs)
    except InteractionError as exc:
        return "rejected", [(d.code, d.message, d.path, d.hint) for d in exc.diagnostics]
    except Exception as exc:  # parse rejects what fails; it must not raise
        return "raised", type(exc), str(exc)
    objects = [model, model.customer, *model.agents, *model.events, *(e.author for e in model.events)]
    times = [model.created_at, model.solved_at, model.closed_at, *(e.at for e in model.events)]
    return (
        "parsed",
        model,
        [(type(o), o.model_fields_set) for o in objects if o is not None],
        [(type(t), type(t.tzinfo), t.tzinfo.utcoffset(t)) for t in times if t is not None],
    )


def full():
    data = base(
        solved_at="2026-03-02T11:00:00Z",
        closed_at="2026-03-02T06:00:00-05:00",
        priority="high",
        customer={"id": "c1", "tier": "gold", "attributes": {"vip": True}},
        agents=[{"id": "a1", "name": "Maria"}, {"id": "a2"}],
        attributes={"order": {"amount": 900}},
    )
    data["events"].append(
        {"at": "2026-03-02T10:30:00.1234567+05:30", "type": "note", "public": False, "automated": "macro", "attributes": {"k": 1}}
    )
    data["events"][2]["at"] = "2026-03-02T15:30:00.1234567+05:30"
    return data


def test_both_paths_build_the_same_objects_from_dict_and_json(validation_path):
    data = full()
    for given in (data, json.dumps(data), json.dumps(data).encode()):
        parsed = outcome(Interaction.parse, given)
        assert parsed[0] == "parsed"
        assert parsed == outcome(reference, given)
        assert parsed == outcome(Interaction.parse, given, default_timezone="Asia/Kolkata")  # aware: zone unused
    model = Interaction.parse(data)
    assert type(model.events[0].author) is Author and type(model.agents[1]) is Agent and type(model.customer) is Customer
    assert model.closed_at == dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.timezone.utc)
    assert model.events[2].at.microsecond == 123456
    assert model.model_fields_set == {"id", "channel", "created_at", "events", "solved_at", "closed_at", "priority", "customer", "agents", "attributes"}


def test_python_datetimes_keep_their_zone_on_both_paths(validation_path):
    berlin = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    data = base(created_at=berlin, solved_at=dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc))
    parsed = Interaction.parse(data)
    assert parsed.created_at is berlin
    assert outcome(Interaction.parse, data) == outcome(reference, data)


NAIVE_MESSAGE = (
    "timestamp '2026-03-02T09:00:00' has no time zone; write it with an offset (2026-03-02T09:00:00+01:00, 2026-03-02T09:00:00Z), "
    "or give its zone (a mapping's timezone; default_timezone in Python)"
)


@pytest.mark.parametrize("json_text", [False, True], ids=["dict", "json"])
@pytest.mark.parametrize(
    "where", [("created_at",), ("solved_at",), ("closed_at",), ("events", 1, "at")], ids=lambda w: ".".join(map(str, w))
)
def test_a_naive_timestamp_is_sr311_at_its_field_on_both_paths(validation_path, where, json_text):
    data = base(solved_at="2026-03-02T11:00:00+01:00", closed_at="2026-03-02T11:00:00+01:00")
    data["events"][1]["at"] = "2026-03-02T09:00:00+01:00"
    target = data
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = "2026-03-02T09:00:00"
    given = json.dumps(data) if json_text else data
    with pytest.raises(InteractionError) as info:
        Interaction.parse(given)
    (diag,) = info.value.diagnostics
    shown = "events[1].at" if where[0] == "events" else where[0]
    assert (diag.code, diag.message, diag.path) == ("SR311", f"{shown}: {NAIVE_MESSAGE}", where)
    localised = Interaction.parse(given, default_timezone="Europe/Berlin")
    value = localised.events[1].at if where[0] == "events" else getattr(localised, where[0])
    assert value == dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc) and str(value.tzinfo) == "Europe/Berlin"


class _NoOffset(dt.tzinfo):
    """A tzinfo without an offset: the timestamp counts as naive."""

    def utcoffset(self, when):
        return None


class _IntOffset(dt.tzinfo):
    """An offset that is not a timedelta: pydantic-core's own zone check refuses it, the models accept it."""

    def utcoffset(self, when):
        return 3600


class _Failing(dt.tzinfo):
    def utcoffset(self, when):
        raise RuntimeError("no offset today")


def test_a_tzinfo_without_an_offset_counts_as_naive_on_both_paths(validation_path):
    data = base(created_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=_NoOffset()))
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    assert [(d.code, d.message, d.path) for d in info.value.diagnostics] == [("SR311", f"created_at: {NAIVE_MESSAGE}", ("created_at",))]
    localised = Interaction.parse(data, default_timezone="UTC")
    assert localised.created_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00-00:00",
        "2026-03-02 09:00:00+0100",
        "2026-03-02",
        "1772442900",
        1772442900.5,
        1772442900123,
        "09:00",
        None,
        True,
        dt.date(2026, 3, 2),
        dt.datetime(2026, 3, 2, 9, 0, tzinfo=_IntOffset()),
        dt.datetime(2026, 3, 2, 9, 0, tzinfo=_Failing()),
    ],
    ids=lambda v: type(v.tzinfo).__name__ if isinstance(v, dt.datetime) else repr(v),
)
@pytest.mark.parametrize("field", ["created_at", "solved_at", "event"])
def test_any_timestamp_value_is_parsed_as_the_models_validator_does(validation_path, value, field):
    data = base()
    if field == "event":
        data["events"][1]["at"] = value
    else:
        data[field] = value
    expected = outcome(reference, data)
    assert outcome(Interaction.parse, data) == expected
    if not isinstance(value, (dt.date, dt.datetime)):
        assert outcome(Interaction.parse, json.dumps(data)) == outcome(reference, json.dumps(data))


def test_every_error_is_reported_when_a_naive_timestamp_comes_with_others(validation_path):
    data = base(created_at="2026-03-02T09:00:00", priority="asap", colour="red")
    data["events"][0]["at"] = "2026-03-02T08:00:00"
    data["events"].reverse()  # out of order too, but the model is not built: no SR312
    for given in (data, json.dumps(data)):
        with pytest.raises(InteractionError) as info:
            Interaction.parse(given)
        assert sorted(info.value.codes) == ["SR110", "SR112", "SR311", "SR311"]
        assert outcome(Interaction.parse, given) == outcome(reference, given)


def test_events_out_of_order_from_json_name_the_first_such_pair_on_both_paths(validation_path):
    data = base()
    data["events"].append({"at": "2026-03-02T09:30:00+01:00", "type": "note"})
    data["events"].append({"at": "2026-03-02T09:15:00+01:00", "type": "note"})  # earlier again: not reported
    with pytest.raises(InteractionError) as info:
        Interaction.parse(json.dumps(data))
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.path) == ("SR312", ())
    assert diag.message == (
        "event 2 at 2026-03-02T09:30:00+01:00 is earlier than event 1 at 2026-03-02T10:00:00+01:00; events must be in time order"
    )
    assert diag.hint == "sort the events by 'at' before checking"
    data["events"][2]["at"] = "2026-03-02T09:00:00Z"  # 10:00+01:00 as well: equal times are in order
    data["events"][3]["at"] = "2026-03-02T10:00:00+01:00"
    assert [e.at.utcoffset() for e in Interaction.parse(json.dumps(data)).events] == [dt.timedelta(hours=1)] * 2 + [dt.timedelta(0), dt.timedelta(hours=1)]


def test_the_native_path_has_no_python_callback_per_timestamp():
    from servicerules.model import interaction

    def nodes(schema):
        if isinstance(schema, dict):
            yield schema
            for value in schema.values():
                yield from nodes(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from nodes(value)

    native = list(nodes(interaction._natively_aware(Interaction.__pydantic_core_schema__)))
    own = list(nodes(Interaction.__pydantic_core_schema__))
    assert sum(n.get("function") is interaction._aware for n in own) == 4
    assert not any(n.get("function") is interaction._aware for n in native)
    # each timestamp's datetime schema, shared by its JSON and Python branches, checks the zone natively
    datetimes = [n for n in native if n.get("type") == "datetime"]
    assert datetimes and all(n == {"type": "datetime", "microseconds_precision": "truncate", "tz_constraint": "aware"} for n in datetimes)
    # and JSON text, what batches read, is checked without any Python call (the text's start by pattern)
    json_branches = [n["json_schema"] for n in native if n.get("type") == "json-or-python"]
    assert len(json_branches) == 4
    assert not any("function" in node for branch in json_branches for node in nodes(branch))


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "dict"])
@pytest.mark.parametrize(
    ("value", "numeric"),
    [(1772449200, True), (20260301, True), ("1772449200", True), (1.7e9, True), (True, False),
     ("2026-03-02", False), ("09:00", False), ("next Tuesday", False), ([], False)],
)
def test_a_timestamp_is_text_with_a_date_and_a_time(validation_path, value, numeric, as_json):
    # pydantic alone takes 20260301 (also as text) for seconds since 1970 (23 August 1970), and a date alone
    # for its midnight
    data = base(closed_at=value)
    with pytest.raises(InteractionError) as info:
        Interaction.parse(json.dumps(data) if as_json else data)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "SR112" and diagnostic.path == ("closed_at",)
    assert diagnostic.message == (
        f"closed_at: invalid timestamp {value!r}: a timestamp is ISO 8601 text with a date and a time of day, "
        "such as 2026-03-02T09:15:00+01:00"
    )
    assert (diagnostic.hint is not None and "seconds since 1970" in diagnostic.hint) == numeric


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"subject": "broken \udc00 emoji"}, "subject"),
        ({"customer": {"name": "\ud83d"}}, "customer.name"),
        ({"attributes": {"tags": ["ok", "\ud800"]}}, "attributes.tags[1]"),
        ({"attributes": {"k\ud800": 1}}, "attributes.k\\ud800"),
    ],
)
def test_an_unpaired_surrogate_from_json_loads_is_rejected_like_the_json_text(validation_path, changes, where):
    # json.loads decodes the escape "\udc00" (JSON text with it is rejected); a report could never encode it
    data = base(**changes)
    data["events"][1]["text"] = "Hello \U0001f600"  # a paired one is an emoji, and fine
    with pytest.raises(InteractionError) as info:
        Interaction.parse(data)
    (problem,) = info.value.diagnostics
    assert problem.code == "SR112" and problem.message.startswith(f"{where}: text with an unpaired surrogate")
    assert problem.render().encode("utf-8")
    with pytest.raises(InteractionError, match="SR112"):
        Interaction.parse(json.dumps(data))
    cyclic = base(attributes={"note": "\udc00"})
    cyclic["attributes"]["self"] = cyclic["attributes"]
    with pytest.raises(InteractionError, match="attributes.note"):
        Interaction.parse(cyclic)
    cyclic["attributes"]["note"] = "fine"
    assert Interaction.parse(cyclic).attributes["note"] == "fine"
