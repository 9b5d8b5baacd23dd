"""Conversation facts: replies, resolution and survey actions, references."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from servicerules.measures import CATALOGUE
from servicerules.measures.catalogue import InteractionContext
from servicerules.measures.conversation import is_customer_message, is_personal_reply
from servicerules.model.interaction import AUTOMATION_KINDS, EVENT_TYPES, Event, Interaction

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def ctx(*events: dict, as_of_minutes: int = 600, **fields) -> InteractionContext:
    data = {"id": "T", "channel": "email", "created_at": T0.isoformat(), "events": list(events), **fields}
    return InteractionContext(Interaction.parse(data), T0 + dt.timedelta(minutes=as_of_minutes))


def at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def msg(minutes: int, role: str, text: str = "text", **extra) -> dict:
    return {"at": at(minutes), "type": "message", "author": {"role": role}, "text": text, **extra}


def action(minutes: int, name: str) -> dict:
    return {"at": at(minutes), "type": "action", "author": {"role": "agent"}, "action": name}


def status(minutes: int, value: str) -> dict:
    return {"at": at(minutes), "type": "status", "status": value}


def fact(name: str, c: InteractionContext):
    return CATALOGUE[name].compute(c)


def test_first_reply_time_skips_autoresponder_and_notes():
    c = ctx(msg(0, "customer"), msg(1, "system", automated="autoresponder"), msg(5, "agent", public=False),
            msg(42, "agent"))
    assert fact("first_reply_time", c) == 42 * 60
    assert fact("unanswered_for", c) is None
    assert fact("has_personal_reply", c) is True
    assert fact("agent_message_count", c) == 1


def test_unanswered_for_runs_to_as_of():
    c = ctx(msg(0, "customer"), msg(1, "bot"), as_of_minutes=90)
    assert fact("first_reply_time", c) is None
    assert fact("unanswered_for", c) == 90 * 60


def test_reply_times_in_a_named_zone_count_real_time_across_a_clock_change():
    # 01:30 CEST to 03:30 CET on the fall-back night is 3 hours. Naive times read with default_timezone share
    # one ZoneInfo, and Python subtracts such datetimes by their wall clocks: it was 2 hours.
    data = {"id": "T", "channel": "email", "created_at": "2026-10-25T01:30:00",
            "events": [{"at": "2026-10-25T01:30:00", "type": "message", "author": {"role": "customer"}, "text": "?"},
                       {"at": "2026-10-25T03:30:00", "type": "message", "author": {"role": "agent"}, "text": "!"}]}
    replied = Interaction.parse(data, default_timezone="Europe/Berlin")
    c = InteractionContext(replied, replied.events[-1].at)
    assert (fact("first_reply_time", c), CATALOGUE["event.since_previous"].compute(c, 1)) == (3 * 3600, 3 * 3600)
    waiting = InteractionContext(replied.model_copy(update={"events": replied.events[:1]}), replied.events[-1].at)
    assert fact("unanswered_for", waiting) == 3 * 3600


def test_resolution_and_survey_facts():
    c = ctx(msg(0, "customer"), msg(10, "agent"), action(20, "coupon_issued"), status(30, "solved"),
            action(31, "survey_sent"))
    assert fact("resolution.recorded", c) is True
    assert fact("survey.sent", c) is True
    assert fact("survey.sent_after_resolution", c) is True


def test_survey_before_the_solve_does_not_count_and_unsolved_is_unknown():
    early = ctx(msg(0, "customer"), action(5, "survey_sent"), status(30, "solved"))
    assert fact("survey.sent_after_resolution", early) is False
    assert fact("resolution.recorded", early) is False
    open_ = ctx(msg(0, "customer"), action(5, "survey_sent"))
    assert fact("survey.sent_after_resolution", open_) is None


def test_the_survey_is_compared_with_the_first_solve():
    # solved, reopened, surveyed, closed: the survey came after the first solve
    c = ctx(msg(0, "customer"), status(10, "solved"), status(11, "open"), action(12, "survey_sent"),
            status(40, "closed"))
    assert fact("survey.sent_after_resolution", c) is True


def test_reply_and_customer_tests_agree_with_the_event_properties():
    # is_personal_reply and is_customer_message read the fields directly, for speed: every kind of event
    roles = (None, "customer", "agent", "bot", "system", "manager")
    for kind, public, automated, role in itertools.product(EVENT_TYPES, (True, False), (False, True, *AUTOMATION_KINDS), roles):
        author = None if role is None else {"role": role}
        event = Event(at=T0, type=kind, public=public, automated=automated, author=author)
        assert is_customer_message(event) == (event.type == "message" and event.role == "customer"), event
        assert is_personal_reply(event) == (
            event.type == "message" and event.public and event.role in ("agent", "manager") and not event.is_automated
        ), event


def test_actions_after_as_of_are_ignored():
    c = ctx(msg(0, "customer"), action(700, "refund_issued"), as_of_minutes=600)
    assert fact("resolution.recorded", c) is False


@pytest.mark.parametrize(
    "text, given",
    [
        ("Hello, your reference: AB-1234.", True),
        ("Ref. 99812", True),
        ("Ihre Vorgangsnummer lautet 123456.", True),  # up to two words between keyword and number
        ("Ihre Vorgangsnummer 123456", True),
        ("Jeres sagsnummer er 5521", True),
        ("the case is closed, see you in 2026", False),  # three words before the number
        ("sagsnummer 5521", True),
        ("आपकी संदर्भ संख्या 88123 है", True),
        ("ticket #T-1042 opened", True),
        ("no ref here", False),
        ("we will refer it to billing", False),
    ],
)
def test_reference_given(text, given):
    c = ctx(msg(0, "customer"), msg(5, "agent", text))
    assert fact("reference.given", c) is given


def test_reference_unknown_without_a_reply():
    assert fact("reference.given", ctx(msg(0, "customer"))) is None
