from __future__ import annotations

import datetime as dt

import pytest

from servicerules import Interaction, InteractionError


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
    import json

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
        "(2026-03-02T09:15:00+01:00) or give a default time zone"
    )
    assert diag.path == ("created_at",)


def test_naive_timestamp_accepted_with_a_default_zone():
    parsed = Interaction.parse(base(created_at="2026-03-02T09:00:00"), default_timezone="Europe/Berlin")
    assert parsed.created_at.utcoffset() == dt.timedelta(hours=1)


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
