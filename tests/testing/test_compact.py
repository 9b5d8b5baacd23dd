"""The compact interaction form: relative times, shorthands, defaults, and errors that name their path."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicerules.errors import InteractionError
from servicerules.model.interaction import Interaction
from servicerules.testing import expand_interaction

CREATED = "2026-03-01T09:00:00+01:00"


def test_relative_times_count_from_created_at_and_after_from_the_previous_event():
    out = expand_interaction({
        "channel": "email",
        "created_at": CREATED,
        "events": [
            {"from": "customer", "text": "Where is my parcel?"},         # neither: created_at
            {"at": "+2h30m", "from": "agent", "text": "Hello"},          # created_at + 2h30m
            {"after": "5m", "from": "customer", "text": "Thanks"},       # previous + 5m
            {"after": "+1d", "from": "agent", "text": "Anything else?"},  # '+' is allowed in after
            {"from": "agent", "text": "Bye"},                            # neither: previous event's time
            {"at": "2026-03-03T08:00:00Z", "from": "customer", "text": "Hi"},  # absolute
        ],
    })
    assert [e["at"] for e in out["events"]] == [
        "2026-03-01T09:00:00+01:00",
        "2026-03-01T11:30:00+01:00",
        "2026-03-01T11:35:00+01:00",
        "2026-03-02T11:35:00+01:00",
        "2026-03-02T11:35:00+01:00",
        "2026-03-03T08:00:00+00:00",
    ]


def test_shorthands_expand_to_the_full_event_model():
    out = expand_interaction({
        "channel": "email",
        "created_at": CREATED,
        "events": [
            {"from": "customer", "text": "Hi"},
            {"after": "1m", "from": "system", "auto": "autoresponder", "text": "We got your message."},
            {"after": "1h", "from": "agent", "internal": True, "text": "Check the order."},
            {"after": "1m", "from": "agent", "action": "refund_issued", "attributes": {"amount": 10}},
            {"after": "1m", "status": "solved"},
        ],
    })
    assert out["events"][1:] == [
        {"at": "2026-03-01T09:01:00+01:00", "type": "message", "author": {"role": "system"}, "automated": "autoresponder",
         "text": "We got your message."},
        {"at": "2026-03-01T10:01:00+01:00", "type": "note", "author": {"role": "agent"}, "public": False, "text": "Check the order."},
        {"at": "2026-03-01T10:02:00+01:00", "type": "action", "author": {"role": "agent"}, "action": "refund_issued",
         "attributes": {"amount": 10}},
        {"at": "2026-03-01T10:03:00+01:00", "type": "status", "status": "solved"},
    ]
    assert out["solved_at"] == "2026-03-01T10:03:00+01:00"  # from the final status event
    assert "closed_at" not in out
    Interaction.parse(out)  # the expansion is a valid interaction


def test_a_reopened_interaction_is_not_solved():
    out = expand_interaction({
        "channel": "chat", "created_at": CREATED,
        "events": [{"status": "solved", "after": "1h"}, {"status": "open", "after": "1h"}],
    })
    assert "solved_at" not in out


def test_explicit_solved_at_may_be_relative_and_wins():
    out = expand_interaction({"channel": "chat", "created_at": CREATED, "solved_at": "+3h",
                              "events": [{"status": "solved", "after": "1h"}]})
    assert out["solved_at"] == "2026-03-01T12:00:00+01:00"


def test_defaults_fill_gaps_and_mappings_merge_key_by_key():
    out = expand_interaction(
        {"customer": {"name": "Jana"}, "events": []},
        {"channel": "email", "created_at": CREATED, "customer": {"tier": "gold", "name": "X"}, "as_of": "+2d", "locale": "de"},
        default_id="case-3",
    )
    assert out == {"id": "case-3", "channel": "email", "created_at": CREATED, "customer": {"tier": "gold", "name": "Jana"}, "events": []}


def test_created_at_defaults_to_the_first_absolute_event_time():
    out = expand_interaction({"channel": "sms", "events": [{"at": "2026-03-01T10:00:00Z", "from": "customer", "text": "hi"}]})
    assert out["created_at"] == "2026-03-01T10:00:00+00:00"


def test_yaml_datetimes_are_accepted():
    created = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    out = expand_interaction({"channel": "email", "created_at": created, "events": [{"at": "+1h", "from": "customer"}]})
    assert out["events"][0]["at"] == "2026-03-01T10:00:00+01:00"


def _errors(compact: dict, defaults: dict | None = None) -> list[str]:
    with pytest.raises(InteractionError) as info:
        expand_interaction(compact, defaults)
    return [f"{d.code} {d.message}" + (f" ({d.hint})" if d.hint else "") for d in info.value.diagnostics]


def test_unknown_keys_and_roles_name_their_path_and_suggest():
    assert _errors({"created_at": CREATED, "events": [{"aftr": "5m", "from": "agnet"}]}) == [
        "SR110 unknown field 'aftr' in events[0] (did you mean 'after'?)",
        "SR112 events[0].from: invalid value 'agnet' for 'from': input should be 'customer', 'agent', 'bot', 'manager' or 'system' (did you mean 'agent'?)",
    ]


def test_bad_relative_time():
    assert _errors({"created_at": CREATED, "events": [{"at": "+5x"}]}) == [
        "SR112 events[0].at: invalid relative time '+5x'; write + and a duration after created_at, e.g. +5m, +2h30m, +1d",
    ]


def test_at_and_after_together():
    assert _errors({"channel": "email", "created_at": CREATED, "events": [{"at": "+1m", "after": "2m"}]}) == [
        "SR112 events[0].after: give either 'at' or 'after', not both ('at: +5m' counts from created_at, 'after: 5m' from the previous event)",
    ]


def test_created_at_missing_or_relative_or_naive():
    assert _errors({"events": [{"at": "+1m"}]}) == [
        "SR111 missing required field 'created_at' (give the interaction's creation time in the case or under 'defaults:')",
    ]
    assert _errors({"created_at": "+1m"}) == [
        "SR112 created_at: '+1m' is a relative time; this one must be absolute: write an ISO 8601 timestamp with an offset, e.g. 2026-03-02T09:15:00+01:00",
    ]
    assert _errors({"created_at": "2026-03-01T09:00:00", "events": [{"at": "+1m"}]}) == [
        "SR311 created_at: timestamp '2026-03-01T09:00:00' has no time zone; write it with an offset (2026-03-01T09:00:00+01:00, 2026-03-01T09:00:00Z)",
    ]


def test_defaults_are_checked_too():
    assert _errors({"events": []}, {"chanel": "email"}) == ["SR110 unknown field 'chanel' in defaults (did you mean 'channel'?)"]


def test_not_a_mapping():
    assert _errors([1, 2]) == ["SR302 an interaction must be a mapping, got list"]  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_after_gaps_add_up_and_keep_events_in_order(gaps: list[int]):
    out = expand_interaction({
        "channel": "chat", "created_at": CREATED,
        "events": [{"after": gap, "from": "customer", "text": "x"} for gap in gaps],
    })
    times = [dt.datetime.fromisoformat(e["at"]) for e in out["events"]]
    assert times == sorted(times)
    if gaps:
        assert (times[-1] - dt.datetime.fromisoformat(CREATED)).total_seconds() == sum(gaps)
    Interaction.parse(out)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.sampled_from(["+5m", "5m", "2026-03-01T09:00:00+01:00", "2026-03-01T09:00:00", "customer", "agent", "solved", "+x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["at", "after", "from", "text", "status", "events", "created_at", "channel", "internal", "auto", "type", "x"]),
        inner, max_size=5),
    max_leaves=20,
)


@given(_json, _json)
def test_expansion_fails_only_with_interaction_errors(compact, defaults):
    try:
        out = expand_interaction(compact, defaults if isinstance(defaults, dict) else None)
    except InteractionError as exc:
        assert exc.diagnostics
        return
    try:
        Interaction.parse(out)
    except InteractionError:
        pass


@pytest.mark.parametrize("event, where", [
    ({"after": float("inf")}, "events[0].after"),
    ({"after": 1e20}, "events[0].after"),
    ({"at": "+99999999999d"}, "events[0].at"),
    ({"at": "+4000000d"}, "events[0].at"),      # a valid duration, but created_at + it is past the year 9999
    ({"after": "4000000d"}, "events[0].after"),
])
def test_durations_out_of_range_are_errors_at_their_path(event, where):
    errors = _errors({"created_at": CREATED, "events": [{"from": "customer", **event}]})
    assert len(errors) == 1 and errors[0].startswith(f"SR112 {where}: "), errors
    assert "too" in errors[0] or "range" in errors[0]


def test_a_relative_solved_at_out_of_range_is_an_error():
    errors = _errors({"created_at": CREATED, "solved_at": "+4000000d", "events": []})
    assert len(errors) == 1 and errors[0].startswith("SR112 solved_at: "), errors
