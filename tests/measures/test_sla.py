"""SLA clocks. Every expected value is worked out by hand in the comments next to it, never computed by the
code under test.  Unless a test says otherwise a ticket is created on Monday 2026-03-02 at 09:00 CET
(+01:00) and the SLA runs in calendar time (``BusinessCalendar.always_open()``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.measures.calendar import BusinessCalendar
from servicerules.measures.sla import MetricInstance, measure_sla, worst
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import SlaSpec

HOUR = 3600.0
MINUTE = 60.0

ALWAYS_OPEN = BusinessCalendar.always_open()
BERLIN = BusinessCalendar.from_spec(
    "berlin",
    {
        "timezone": "Europe/Berlin",
        "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": {"country": "DE"},
    },
)


# ---- builders ----------------------------------------------------------------------------------------


def at(clock: str, day: str = "2026-03-02", offset: str = "+01:00") -> str:
    return f"{day}T{clock}:00{offset}"


def when(clock: str, day: str = "2026-03-02", offset: str = "+01:00") -> datetime:
    return datetime.fromisoformat(at(clock, day, offset))


def ticket(*events: dict[str, Any], created: str = at("09:00"), priority: str = "normal", **fields: Any) -> Interaction:
    return Interaction.parse(
        {"id": "T-1", "channel": "email", "created_at": created, "priority": priority, "events": list(events), **fields}
    )


def customer(time: str, text: str = "My order never arrived") -> dict[str, Any]:
    return {"at": time, "type": "message", "author": {"role": "customer"}, "text": text}


def agent(time: str, text: str = "Sorry to hear that, let me check", **extra: Any) -> dict[str, Any]:
    return {"at": time, "type": "message", "author": {"role": "agent", "id": "a-7"}, "text": text, **extra}


def manager(time: str) -> dict[str, Any]:
    return {"at": time, "type": "message", "author": {"role": "manager"}, "text": "I have refunded the order"}


def note(time: str) -> dict[str, Any]:
    return {"at": time, "type": "note", "public": False, "author": {"role": "agent"}, "text": "checking the carrier"}


def autoresponder(time: str) -> dict[str, Any]:
    return {"at": time, "type": "message", "author": {"role": "system"}, "automated": "autoresponder", "text": "We got it"}


def bot(time: str, **extra: Any) -> dict[str, Any]:
    return {"at": time, "type": "message", "author": {"role": "bot"}, "text": "Have you tried our FAQ?", **extra}


def status(time: str, value: str) -> dict[str, Any]:
    return {"at": time, "type": "status", "status": value, "author": {"role": "agent"}}


def sla(metric: str, targets: dict[str, str] | None = None, **extra: Any) -> SlaSpec:
    return SlaSpec.model_validate(
        {"id": f"{metric}-policy", "title": metric.replace("_", " "), "metric": metric, "targets": targets or {"*": "4h"}, **extra}
    )


def only(instances: list[MetricInstance]) -> MetricInstance:
    assert len(instances) == 1, instances
    return instances[0]


def instance(state: str, deadline: str | None, sla_id: str = "s") -> MetricInstance:
    return MetricInstance(
        sla_id=sla_id,
        metric="next_reply_time",
        state=state,  # type: ignore[arg-type]
        target_seconds=None if deadline is None else 3 * HOUR,
        elapsed_seconds=None if deadline is None else HOUR,
        start_index=None,
        start_at=None,
        stop_index=None,
        stop_at=None,
        deadline=None if deadline is None else when(deadline),
    )


# ---- targets --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("priority", "target"), [("urgent", 1 * HOUR), ("low", 8 * HOUR), ("normal", 8 * HOUR)])
def test_target_for_the_priority_else_the_star_target(priority: str, target: float) -> None:
    spec = sla("first_reply_time", {"urgent": "1h", "*": "8h"})
    result = only(measure_sla(spec, ticket(customer(at("09:00")), priority=priority), when("09:30"), ALWAYS_OPEN))
    assert result.target_seconds == target
    assert result.state == "pending"


def test_no_target_for_the_priority_is_not_applicable() -> None:
    spec = sla("first_reply_time", {"urgent": "1h"})
    result = only(measure_sla(spec, ticket(customer(at("09:00"))), when("18:00"), ALWAYS_OPEN))
    assert result == MetricInstance(
        sla_id="first_reply_time-policy",
        metric="first_reply_time",
        state="not_applicable",
        target_seconds=None,
        elapsed_seconds=None,
        start_index=None,
        start_at=None,
        stop_index=None,
        stop_at=None,
        deadline=None,
    )


def test_interaction_created_after_as_of_is_not_applicable() -> None:
    result = only(measure_sla(sla("first_reply_time"), ticket(customer(at("09:00"))), when("08:00"), ALWAYS_OPEN))
    assert result.state == "not_applicable"
    assert result.target_seconds == 4 * HOUR


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        measure_sla(sla("first_reply_time"), ticket(), datetime(2026, 3, 2, 18, 0), ALWAYS_OPEN)


# ---- first reply time: states ----------------------------------------------------------------------------


def test_first_reply_within_target_is_achieved() -> None:
    # created 09:00, reply 10:30: 1h30 = 5400 s; due 09:00 + 4h = 13:00.
    interaction = ticket(customer(at("09:00")), agent(at("10:30")))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert result == MetricInstance(
        sla_id="first_reply_time-policy",
        metric="first_reply_time",
        state="achieved",
        target_seconds=14400.0,
        elapsed_seconds=5400.0,
        start_index=None,
        start_at=when("09:00"),
        stop_index=1,
        stop_at=when("10:30"),
        deadline=when("13:00"),
        paused_seconds=0.0,
    )


def test_reply_after_the_deadline_is_breached() -> None:
    # reply 14:00: 5h = 18000 s against a 4h target due 13:00.
    interaction = ticket(customer(at("09:00")), agent(at("14:00")))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.deadline, result.stop_index) == ("breached", 18000.0, when("13:00"), 1)


def test_no_reply_and_deadline_passed_at_as_of_is_breaching() -> None:
    # as_of 14:00, nobody replied: 5h counted so far, due 13:00.
    result = only(measure_sla(sla("first_reply_time"), ticket(customer(at("09:00"))), when("14:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.deadline) == ("breaching", 18000.0, when("13:00"))
    assert (result.stop_index, result.stop_at) == (None, None)


def test_no_reply_within_target_at_as_of_is_pending() -> None:
    # as_of 12:00: 3h = 10800 s counted, still due 13:00.
    result = only(measure_sla(sla("first_reply_time"), ticket(customer(at("09:00"))), when("12:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.deadline) == ("pending", 10800.0, when("13:00"))


def test_reply_exactly_at_the_deadline_is_achieved_and_as_of_at_the_deadline_is_pending() -> None:
    on_time = ticket(customer(at("09:00")), agent(at("13:00")))
    result = only(measure_sla(sla("first_reply_time"), on_time, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds) == ("achieved", 14400.0)
    waiting = only(measure_sla(sla("first_reply_time"), ticket(customer(at("09:00"))), when("13:00"), ALWAYS_OPEN))
    assert waiting.state == "pending"


def test_events_after_as_of_are_ignored() -> None:
    # At 10:00 the 10:30 reply and the 11:00 solve have not happened yet: 1h counted, still running.
    interaction = ticket(customer(at("09:00")), agent(at("10:30")), status(at("11:00"), "solved"), solved_at=at("11:00"))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("10:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.stop_index, result.deadline) == ("pending", 3600.0, None, when("13:00"))


def test_reply_time_is_judged_against_timestamps_in_other_zones() -> None:
    # 10:30 UTC is 11:30 CET: 2h30 after the 09:00 CET creation, due 13:00 CET = 12:00 UTC.
    interaction = ticket(customer(at("09:00")), agent("2026-03-02T10:30:00+00:00"))
    result = only(measure_sla(sla("first_reply_time"), interaction, datetime(2026, 3, 2, 17, tzinfo=timezone.utc), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds) == ("achieved", 9000.0)
    assert result.deadline == datetime(2026, 3, 2, 12, tzinfo=timezone.utc)


# ---- business hours ---------------------------------------------------------------------------------------


def test_friday_afternoon_ticket_is_due_monday_noon_in_business_hours() -> None:
    # Berlin Mon-Fri 09-17.  Created Fri 2026-03-06 16:00: Fri 16-17 uses 1h of the 4h target, the weekend
    # is closed, Mon 09-12 uses the other 3h, so it is due Mon 2026-03-09 12:00.  The reply Mon 11:00 came
    # 67 calendar hours after creation (Fri 16:00 -> Mon 11:00 = 8 + 24 + 24 + 11) but only after
    # 1h + 2h = 3h = 10800 business seconds.
    created, replied = at("16:00", "2026-03-06"), at("11:00", "2026-03-09")
    interaction = ticket(customer(created), agent(replied), created=created)
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00", "2026-03-09"), BERLIN))
    assert datetime.fromisoformat(replied) - datetime.fromisoformat(created) == timedelta(hours=67)
    assert result.state == "achieved"
    assert result.elapsed_seconds == 10800.0
    assert result.deadline == when("12:00", "2026-03-09")


def test_same_friday_ticket_in_calendar_time_is_breached() -> None:
    # Calendar time: due Fri 16:00 + 4h = Fri 20:00; the reply 67h later is late.
    created, replied = at("16:00", "2026-03-06"), at("11:00", "2026-03-09")
    interaction = ticket(customer(created), agent(replied), created=created)
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00", "2026-03-09"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.deadline) == ("breached", 67 * HOUR, when("20:00", "2026-03-06"))


def test_easter_holidays_are_skipped() -> None:
    # Thu 2026-04-02 16:00 CEST: Thu 16-17 = 1h; Good Friday (04-03), the weekend and Easter Monday (04-06)
    # are closed in DE; Tue 2026-04-07 09-12 gives the remaining 3h -> due Tue 12:00 CEST.
    created = at("16:00", "2026-04-02", "+02:00")
    interaction = ticket(customer(created), created=created)
    before = only(measure_sla(sla("first_reply_time"), interaction, when("11:00", "2026-04-07", "+02:00"), BERLIN))
    # Tue 11:00: 1h (Thu) + 2h (Tue 09-11) = 10800 s.
    assert (before.state, before.elapsed_seconds) == ("pending", 10800.0)
    assert before.deadline == when("12:00", "2026-04-07", "+02:00")
    after = only(measure_sla(sla("first_reply_time"), interaction, when("12:30", "2026-04-07", "+02:00"), BERLIN))
    # Tue 12:30: 1h + 3h30 = 16200 s.
    assert (after.state, after.elapsed_seconds) == ("breaching", 16200.0)


def test_target_used_up_at_closing_time_is_due_at_closing_not_next_opening() -> None:
    # Created Fri 13:00 with 4h: due Fri 17:00 (closing).  A reply at 18:00 counts no more business time
    # (elapsed == target) yet came after the deadline instant, so it is breached; one at 17:00 is on time.
    created = at("13:00", "2026-03-06")
    late = ticket(customer(created), agent(at("18:00", "2026-03-06")), created=created)
    result = only(measure_sla(sla("first_reply_time"), late, when("19:00", "2026-03-06"), BERLIN))
    assert (result.state, result.elapsed_seconds, result.deadline) == ("breached", 14400.0, when("17:00", "2026-03-06"))
    on_time = ticket(customer(created), agent(at("17:00", "2026-03-06")), created=created)
    assert only(measure_sla(sla("first_reply_time"), on_time, when("19:00", "2026-03-06"), BERLIN)).state == "achieved"


# ---- what counts as a reply --------------------------------------------------------------------------------

# 0 customer 09:00, 1 autoresponder (system) 09:01, 2 bot answer 09:05, 3 internal note 09:10,
# 4 private agent message 09:20, 5 macro sent by a trigger on the agent's behalf 09:30,
# 6 personal reply by a manager 11:00.
NOT_ALL_REPLIES = ticket(
    customer(at("09:00")),
    autoresponder(at("09:01")),
    bot(at("09:05"), automated="bot"),
    note(at("09:10")),
    agent(at("09:20"), public=False),
    agent(at("09:30"), automated="macro"),
    manager(at("11:00")),
)


@pytest.mark.parametrize(
    ("reply", "stop_index", "elapsed"),
    [
        ({}, 6, 2 * HOUR),  # only the manager's personal reply counts
        ({"automated": True}, 5, 30 * MINUTE),  # a human author's macro now counts; system/bot still do not
        ({"public": False}, 3, 10 * MINUTE),  # the internal note now counts
        ({"human": False}, 6, 2 * HOUR),  # bots may count, but both bot messages are flagged automated
        ({"human": False, "automated": True}, 1, 1 * MINUTE),  # the autoresponder counts
    ],
)
def test_reply_definition(reply: dict[str, bool], stop_index: int, elapsed: float) -> None:
    spec = sla("first_reply_time", reply=reply)
    result = only(measure_sla(spec, NOT_ALL_REPLIES, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.elapsed_seconds) == ("achieved", stop_index, elapsed)


ROLES = ("customer", "agent", "manager", "bot", "system", None)
AUTOMATED = (False, True, "autoresponder", "macro", "trigger", "bot")
DEFINITIONS = [{"public": p, "human": h, "automated": a} for p in (True, False) for h in (True, False) for a in (True, False)]


def written(time: str, kind: str, public: bool, role: str | None, automated: bool | str) -> dict[str, Any]:
    event: dict[str, Any] = {"at": time, "type": kind, "public": public, "automated": automated, "text": "x"}
    if role is not None:
        event["author"] = {"role": role}
    return event


def test_every_kind_of_message_and_note_stops_first_reply_time_as_documented() -> None:
    """The reply rule of the module docstring, written out here, against every message and note there can be
    (the clocks look replies up in a table built from the same rule, see ``_replies``)."""
    for definition in DEFINITIONS:
        spec = sla("first_reply_time", reply=definition)
        for kind in ("message", "note"):
            for public in (True, False):
                for role in ROLES:
                    for automated in AUTOMATED:
                        visible = not definition["public"] or (kind == "message" and public)
                        author = role in ("agent", "manager") or (not definition["human"] and role in ("bot", "system"))
                        personal = definition["automated"] or automated is False
                        candidate = written(at("10:00"), kind, public, role, automated)
                        result = only(measure_sla(spec, ticket(customer(at("09:00")), candidate), when("18:00"), ALWAYS_OPEN))
                        expected = 1 if visible and author and personal else None
                        assert result.stop_index == expected, (definition, kind, public, role, automated)


def test_only_public_customer_messages_start_next_reply_time() -> None:
    spec = sla("next_reply_time")
    for kind in ("message", "note"):
        for public in (True, False):
            for role in ROLES:
                for automated in AUTOMATED:
                    candidate = written(at("11:00"), kind, public, role, automated)
                    interaction = ticket(customer(at("09:00")), agent(at("10:00")), candidate, agent(at("12:00")))
                    result = only(measure_sla(spec, interaction, when("18:00"), ALWAYS_OPEN))
                    expected = 2 if (kind, public, role) == ("message", True, "customer") else None
                    assert result.start_index == expected, (kind, public, role, automated)


def test_autoresponder_bot_and_internal_note_do_not_stop_first_reply_time() -> None:
    # Without the 11:00 reply the clock still runs at 12:00 (3h counted) although five non-replies came.
    interaction = ticket(
        customer(at("09:00")), autoresponder(at("09:01")), bot(at("09:05"), automated="bot"), note(at("09:10")),
        agent(at("09:20"), public=False), agent(at("09:30"), automated="macro"),
    )
    result = only(measure_sla(sla("first_reply_time"), interaction, when("12:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.elapsed_seconds) == ("pending", None, 10800.0)


def test_unflagged_bot_message_counts_only_when_human_is_not_required() -> None:
    interaction = ticket(customer(at("09:00")), bot(at("09:15")), agent(at("10:00")))
    human = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (human.stop_index, human.elapsed_seconds) == (2, HOUR)
    anyone = only(measure_sla(sla("first_reply_time", reply={"human": False}), interaction, when("18:00"), ALWAYS_OPEN))
    assert (anyone.stop_index, anyone.elapsed_seconds) == (1, 15 * MINUTE)


# ---- solving fulfils reply metrics -------------------------------------------------------------------------


def test_solving_without_a_reply_fulfils_first_reply_time() -> None:
    # Solved 10:00 without a reply: 1h counted, achieved; the status event is the stop.
    interaction = ticket(customer(at("09:00")), status(at("10:00"), "solved"))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.stop_at, result.elapsed_seconds) == ("achieved", 1, when("10:00"), 3600.0)


def test_solved_at_fulfils_first_reply_time_when_no_status_event_says_so() -> None:
    interaction = ticket(customer(at("09:00")), solved_at=at("10:00"))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.stop_at, result.elapsed_seconds) == ("achieved", None, when("10:00"), 3600.0)


def test_closing_fulfils_first_reply_time() -> None:
    interaction = ticket(customer(at("09:00")), status(at("09:45"), "closed"))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.elapsed_seconds) == ("achieved", 1, 2700.0)


def test_solving_after_the_deadline_leaves_the_breach() -> None:
    # Due 13:00, solved 14:00: the target had already passed, so the solve cannot make it achieved.
    interaction = ticket(customer(at("09:00")), status(at("14:00"), "solved"))
    result = only(measure_sla(sla("first_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.elapsed_seconds) == ("breached", 1, 18000.0)


def test_solving_fulfils_an_open_next_reply_time() -> None:
    # Follow-up 11:00 solved at 12:00 without an answer: NRT 11:00 -> 12:00 = 1h, achieved.
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), customer(at("11:00")), status(at("12:00"), "solved"))
    result = only(measure_sla(sla("next_reply_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.start_index, result.stop_index, result.elapsed_seconds) == ("achieved", 2, 3, 3600.0)


# ---- agent-created tickets --------------------------------------------------------------------------------


# 0 status open 09:00, 1 agent's outbound message 09:00, 2 customer answers 10:00, 3 agent 11:00.
OUTBOUND = ticket(
    status(at("09:00"), "open"),
    agent(at("09:00"), "We noticed a problem with your order"),
    customer(at("10:00"), "Oh, what happened?"),
    agent(at("11:00")),
)


def test_first_reply_time_does_not_apply_to_agent_created_tickets() -> None:
    result = only(measure_sla(sla("first_reply_time"), OUTBOUND, when("18:00"), ALWAYS_OPEN))
    assert result.state == "not_applicable"
    assert (result.elapsed_seconds, result.deadline, result.start_at) == (None, None, None)


def test_who_opened_the_ticket_is_judged_as_of() -> None:
    # Created 09:00, the agent's outbound message only at 09:05: at 09:02 nobody has written yet, so first
    # reply time runs (2 min counted); by 09:10 the ticket is known to be agent-created.
    interaction = ticket(agent(at("09:05"), "We noticed a problem with your order"))
    early = only(measure_sla(sla("first_reply_time"), interaction, when("09:02"), ALWAYS_OPEN))
    assert (early.state, early.elapsed_seconds) == ("pending", 120.0)
    assert only(measure_sla(sla("first_reply_time"), interaction, when("09:10"), ALWAYS_OPEN)).state == "not_applicable"


def test_customer_answer_to_an_agent_created_ticket_starts_next_reply_time() -> None:
    # The customer's 10:00 answer waits until 11:00: 1h, achieved against 4h (due 14:00).
    result = only(measure_sla(sla("next_reply_time"), OUTBOUND, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.start_index, result.stop_index, result.elapsed_seconds) == ("achieved", 2, 3, 3600.0)
    assert result.deadline == when("14:00")


# ---- next reply time ------------------------------------------------------------------------------------------


def test_next_reply_time_for_two_customer_follow_ups() -> None:
    # 0 customer 09:00 (first reply time's), 1 agent 10:00, 2 customer 11:00 (starts NRT #1), 3 customer 11:30
    # (same run), 4 internal note 12:00 (no reply), 5 agent 13:00 (stops #1), 6 customer 14:00 (starts #2).
    # Target 3h.  #1: 11:00 -> 13:00 = 7200 s, due 14:00, achieved.  #2: as_of 18:00, 4h = 14400 s counted,
    # due 17:00, breaching.
    interaction = ticket(
        customer(at("09:00")), agent(at("10:00")), customer(at("11:00")), customer(at("11:30"), "Any news?"),
        note(at("12:00")), agent(at("13:00")), customer(at("14:00"), "Still broken"),
    )
    first, second = measure_sla(sla("next_reply_time", {"*": "3h"}), interaction, when("18:00"), ALWAYS_OPEN)
    assert first == MetricInstance(
        sla_id="next_reply_time-policy",
        metric="next_reply_time",
        state="achieved",
        target_seconds=10800.0,
        elapsed_seconds=7200.0,
        start_index=2,
        start_at=when("11:00"),
        stop_index=5,
        stop_at=when("13:00"),
        deadline=when("14:00"),
    )
    assert (second.state, second.start_index, second.stop_index) == ("breaching", 6, None)
    assert (second.elapsed_seconds, second.deadline) == (14400.0, when("17:00"))


def test_next_reply_time_without_a_follow_up_is_not_applicable() -> None:
    result = only(measure_sla(sla("next_reply_time"), ticket(customer(at("09:00")), agent(at("10:00"))), when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.target_seconds, result.deadline) == ("not_applicable", 14400.0, None)


def test_next_reply_time_does_not_start_before_the_first_reply() -> None:
    # Two customer messages and no reply yet: both are first reply time's business.
    interaction = ticket(customer(at("09:00")), customer(at("09:30"), "Hello?"))
    assert only(measure_sla(sla("next_reply_time"), interaction, when("18:00"), ALWAYS_OPEN)).state == "not_applicable"


@pytest.mark.parametrize("extra", [{}, {"pause_on": ["pending", "on_hold"]}])
def test_reply_clocks_never_pause(extra: dict[str, Any]) -> None:
    # The agent answers at 10:00 and sets pending; the customer writes 11:00 and the ticket stays pending.
    # NRT runs on regardless: 11:00 -> 13:00 = 7200 s against 1h, due 12:00, breaching; nothing paused.
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), status(at("10:00"), "pending"), customer(at("11:00")))
    result = only(measure_sla(sla("next_reply_time", {"*": "1h"}, **extra), interaction, when("13:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.paused_seconds, result.deadline) == ("breaching", 7200.0, 0.0, when("12:00"))


# ---- periodic update ----------------------------------------------------------------------------------------


def test_periodic_update_between_agent_replies() -> None:
    # Target 2h, no pausing (Zendesk's periodic update).  Agent replies at 10:00, 11:00, 13:30; the customer
    # message at 10:30 changes nothing.  10:00 -> 11:00: 1h, due 12:00, achieved.  11:00 -> 13:30: 2h30,
    # due 13:00, breached.  13:30 -> as_of 14:00: 30 min, due 15:30, pending.
    interaction = ticket(
        customer(at("09:00")), agent(at("10:00")), customer(at("10:30")), agent(at("11:00")), agent(at("13:30"))
    )
    spec = sla("periodic_update", {"*": "2h"}, pause_on=[])
    first, second, third = measure_sla(spec, interaction, when("14:00"), ALWAYS_OPEN)
    assert (first.state, first.start_index, first.stop_index, first.elapsed_seconds, first.deadline) == (
        "achieved", 1, 3, 3600.0, when("12:00"),
    )
    assert (second.state, second.start_index, second.stop_index, second.elapsed_seconds, second.deadline) == (
        "breached", 3, 4, 9000.0, when("13:00"),
    )
    assert (third.state, third.start_index, third.stop_index, third.elapsed_seconds, third.deadline) == (
        "pending", 4, None, 1800.0, when("15:30"),
    )


def test_periodic_update_pauses_while_pending_by_default() -> None:
    # Reply 10:00 and pending 10:00-13:00, open again 13:00, as_of 14:00: 1h counted, 3h paused; the other
    # hour of the 2h target runs from as_of, so it is due 15:00.
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), status(at("10:00"), "pending"), status(at("13:00"), "open"))
    result = only(measure_sla(sla("periodic_update", {"*": "2h"}), interaction, when("14:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.paused_seconds, result.deadline) == ("pending", 3600.0, 10800.0, when("15:00"))


def test_periodic_update_stops_at_solve_and_a_comment_on_a_solved_ticket_owes_no_update() -> None:
    # Reply 10:00, solved 11:00 (1h, achieved), then a public comment at 12:00 on the solved ticket.
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), status(at("11:00"), "solved"), agent(at("12:00")))
    result = only(measure_sla(sla("periodic_update", {"*": "2h"}), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.start_index, result.stop_index, result.elapsed_seconds) == ("achieved", 1, 2, 3600.0)


# ---- requester wait, agent work and resolution time ------------------------------------------------------------

# Statuses: new 09:00-09:30, open 09:30-10:00, pending 10:00-13:00, open 13:00-14:00, on_hold 14:00-15:00,
# open 15:00-16:00, solved from 16:00 (event 8).
LIFECYCLE = ticket(
    customer(at("09:00")),
    status(at("09:30"), "open"),
    agent(at("09:45")),
    status(at("10:00"), "pending"),
    customer(at("13:00"), "Here is the tracking number"),
    status(at("13:00"), "open"),
    status(at("14:00"), "on_hold"),
    status(at("15:00"), "open"),
    status(at("16:00"), "solved"),
)


@pytest.mark.parametrize(
    ("metric", "extra", "elapsed", "paused"),
    [
        # requester wait: new+open+on_hold = 09-10 (1h) + 13-16 (3h); pending 10-13 (3h) paused
        ("requester_wait_time", {}, 4 * HOUR, 3 * HOUR),
        # an explicit pause_on wins over the metric's default
        ("requester_wait_time", {"pause_on": ["pending", "on_hold"]}, 3 * HOUR, 4 * HOUR),
        # agent work: new+open = 09-10, 13-14, 15-16 = 3h; pending and on_hold (4h) paused
        ("agent_work_time", {}, 3 * HOUR, 4 * HOUR),
        # resolution: default pause_on [pending, on_hold] as agent work here
        ("resolution_time", {}, 3 * HOUR, 4 * HOUR),
        # resolution without pauses (Zendesk's total resolution time): 09:00 -> 16:00 = 7h
        ("resolution_time", {"pause_on": []}, 7 * HOUR, 0.0),
    ],
)
def test_status_metrics_count_the_right_statuses(metric: str, extra: dict[str, Any], elapsed: float, paused: float) -> None:
    result = only(measure_sla(sla(metric, {"*": "8h"}, **extra), LIFECYCLE, when("18:00"), ALWAYS_OPEN))
    assert (result.elapsed_seconds, result.paused_seconds) == (elapsed, paused)
    assert (result.state, result.start_index, result.start_at) == ("achieved", None, when("09:00"))
    assert (result.stop_index, result.stop_at) == (8, when("16:00"))


def test_requester_wait_time_deadline_walks_the_unpaused_stretches() -> None:
    # Target 3h: 09:00-10:00 uses 1h, pending is skipped, 13:00-15:00 uses the other 2h -> due 15:00;
    # solved 16:00 is late.  Target 5h: only 4h counted by the 16:00 solve -> deadline 16:00 + 1h = 17:00.
    tight = only(measure_sla(sla("requester_wait_time", {"*": "3h"}), LIFECYCLE, when("18:00"), ALWAYS_OPEN))
    assert (tight.state, tight.deadline, tight.elapsed_seconds) == ("breached", when("15:00"), 4 * HOUR)
    loose = only(measure_sla(sla("requester_wait_time", {"*": "5h"}), LIFECYCLE, when("18:00"), ALWAYS_OPEN))
    assert (loose.state, loose.deadline) == ("achieved", when("17:00"))


def test_agent_work_time_deadline_skips_on_hold() -> None:
    # Target 2h30: 09-10 (1h), 13-14 (2h), on_hold skipped, 15:00 + 30 min -> due 15:30; solved 16:00, late.
    result = only(measure_sla(sla("agent_work_time", {"*": "2h30m"}), LIFECYCLE, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.deadline, result.elapsed_seconds) == ("breached", when("15:30"), 3 * HOUR)


def test_time_in_pending_is_not_counted_for_requester_wait_time_while_running() -> None:
    # Pending since 10:00, as_of 12:00: 1h counted, 2h paused.  4h target: 3h remain, projected from as_of
    # as if the clock resumed now -> 15:00, pending.  30 min target: used up at 09:30 -> breaching although
    # the clock is paused.
    interaction = ticket(customer(at("09:00")), agent(at("09:30")), status(at("10:00"), "pending"))
    result = only(measure_sla(sla("requester_wait_time"), interaction, when("12:00"), ALWAYS_OPEN))
    assert (result.state, result.elapsed_seconds, result.paused_seconds, result.deadline) == ("pending", 3600.0, 7200.0, when("15:00"))
    late = only(measure_sla(sla("requester_wait_time", {"*": "30m"}), interaction, when("12:00"), ALWAYS_OPEN))
    assert (late.state, late.deadline) == ("breaching", when("09:30"))


# 0 customer 09:00, 1 agent 10:00, 2 solved 11:00, 3 customer 12:00, 4 open 12:00, 5 agent 12:30, 6 solved 13:00.
REOPENED = ticket(
    customer(at("09:00")), agent(at("10:00")), status(at("11:00"), "solved"),
    customer(at("12:00"), "It broke again"), status(at("12:00"), "open"), agent(at("12:30")), status(at("13:00"), "solved"),
)


@pytest.mark.parametrize(
    ("metric", "extra", "elapsed", "paused"),
    [
        # creation to the final solve, the solved hour 11-12 included: 4h
        ("resolution_time", {"pause_on": []}, 4 * HOUR, 0.0),
        # unless solved is listed in pause_on: 3h counted, 1h paused
        ("resolution_time", {"pause_on": ["solved"]}, 3 * HOUR, HOUR),
        # the customer was not waiting while the ticket was solved: 09-11 + 12-13 = 3h
        ("requester_wait_time", {}, 3 * HOUR, HOUR),
    ],
)
def test_reopened_ticket_stops_at_the_final_solve(metric: str, extra: dict[str, Any], elapsed: float, paused: float) -> None:
    result = only(measure_sla(sla(metric, {"*": "8h"}, **extra), REOPENED, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.stop_at) == ("achieved", 6, when("13:00"))
    assert (result.elapsed_seconds, result.paused_seconds) == (elapsed, paused)


def test_reopened_ticket_resumes_the_clock() -> None:
    # as_of 12:30: counted 09-11 (2h) + 12:00-12:30 (30 min) = 9000 s, paused (solved) 1h; 4h target leaves
    # 1h30 from as_of -> due 14:00, running.
    result = only(measure_sla(sla("requester_wait_time"), REOPENED, when("12:30"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.elapsed_seconds, result.paused_seconds) == ("pending", None, 9000.0, 3600.0)
    assert result.deadline == when("14:00")


def test_customer_writing_on_a_solved_ticket_starts_next_reply_time() -> None:
    # The 12:00 message after the solve is answered 12:30: 30 min.
    result = only(measure_sla(sla("next_reply_time"), REOPENED, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.start_index, result.stop_index, result.elapsed_seconds) == ("achieved", 3, 5, 1800.0)


def test_closing_a_solved_ticket_is_not_a_second_solve() -> None:
    # solved 11:00 then closed 12:00: resolution stops at the 11:00 solve, 2h.
    interaction = ticket(customer(at("09:00")), status(at("11:00"), "solved"), status(at("12:00"), "closed"))
    result = only(measure_sla(sla("resolution_time"), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.stop_index, result.stop_at, result.elapsed_seconds) == (1, when("11:00"), 7200.0)


def test_resolution_time_from_solved_at_without_status_events() -> None:
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), solved_at=at("15:00"))
    result = only(measure_sla(sla("resolution_time", {"*": "8h"}), interaction, when("18:00"), ALWAYS_OPEN))
    assert (result.state, result.stop_index, result.stop_at, result.elapsed_seconds) == ("achieved", None, when("15:00"), 6 * HOUR)


def test_resolution_time_in_business_hours_with_a_pending_night() -> None:
    # Berlin.  Mon 16:00 created, pending Mon 16:30 -> Tue 10:00, solved Tue 11:00; target 2h.
    # Counted: Mon 16:00-16:30 + Tue 10:00-11:00 = 5400 s.  Paused business time: Mon 16:30-17:00 +
    # Tue 09:00-10:00 = 5400 s (the closed night counts as neither).  Not used up by the solve, so the
    # deadline is Tue 11:00 + the remaining 30 min = 11:30; achieved.
    created = at("16:00")
    interaction = ticket(
        customer(created), status(at("16:30"), "pending"), status(at("10:00", "2026-03-03"), "open"),
        status(at("11:00", "2026-03-03"), "solved"), created=created,
    )
    result = only(measure_sla(sla("resolution_time", {"*": "2h"}), interaction, when("18:00", "2026-03-03"), BERLIN))
    assert (result.state, result.elapsed_seconds, result.paused_seconds) == ("achieved", 5400.0, 5400.0)
    assert result.deadline == when("11:30", "2026-03-03")


# ---- worst() ----------------------------------------------------------------------------------------------------


def test_worst_prefers_breaches_by_earliest_deadline_then_pending_then_achieved() -> None:
    achieved = instance("achieved", "10:00")
    pending_late, pending_soon = instance("pending", "15:00"), instance("pending", "14:00")
    breached = instance("breached", "13:00")
    breaching = instance("breaching", "12:00")
    not_applicable = instance("not_applicable", None)
    assert worst([achieved, pending_late, breached, breaching, not_applicable]) is breaching
    assert worst([achieved, breached, pending_late]) is breached
    assert worst([achieved, pending_late, pending_soon, not_applicable]) is pending_soon
    assert worst([not_applicable, achieved]) is achieved
    assert worst([not_applicable]) is not_applicable
    assert worst([]) is None


def test_worst_of_measured_next_reply_instances_is_the_breaching_one() -> None:
    interaction = ticket(customer(at("09:00")), agent(at("10:00")), customer(at("11:00")), agent(at("12:00")), customer(at("13:00")))
    instances = measure_sla(sla("next_reply_time", {"*": "1h"}), interaction, when("15:00"), ALWAYS_OPEN)
    # 11:00 -> 12:00 achieved (exactly 1h); 13:00 unanswered at 15:00, due 14:00: breaching.
    assert [item.state for item in instances] == ["achieved", "breaching"]
    chosen = worst(instances)
    assert chosen is not None and (chosen.start_index, chosen.deadline) == (4, when("14:00"))


# ---- properties ------------------------------------------------------------------------------------------------

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@st.composite
def lifecycles(draw: st.DrawFn) -> tuple[Interaction, datetime]:
    offsets = sorted(draw(st.lists(st.integers(0, 5 * 24 * 60), max_size=8)))
    events = [
        status((START + timedelta(minutes=minutes)).isoformat(), draw(st.sampled_from(STATUSES))) for minutes in offsets
    ]
    as_of = START + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
    return ticket(*events, created=START.isoformat()), as_of


@settings(max_examples=150, deadline=None)
@given(
    case=lifecycles(),
    metric=st.sampled_from(["requester_wait_time", "agent_work_time", "resolution_time"]),
    target_minutes=st.integers(0, 3 * 24 * 60),
    calendar=st.sampled_from([ALWAYS_OPEN, BERLIN]),
)
def test_status_clock_invariants(case: tuple[Interaction, datetime], metric: str, target_minutes: int, calendar: BusinessCalendar) -> None:
    """Counted and paused time partition the open time between start and stop; the state agrees with it."""
    interaction, as_of = case
    spec = SlaSpec.model_validate({"id": "p", "title": "p", "metric": metric, "targets": {"*": target_minutes * 60}})
    result = only(measure_sla(spec, interaction, as_of, calendar))
    assert result.elapsed_seconds is not None and result.deadline is not None and result.start_at is not None
    end = result.stop_at if result.stop_at is not None else as_of
    assert result.elapsed_seconds + result.paused_seconds == pytest.approx(calendar.business_seconds_between(result.start_at, end))
    assert result.deadline >= result.start_at
    target = target_minutes * 60
    if result.state in ("achieved", "pending"):
        assert result.elapsed_seconds <= target + 1e-6
    if result.elapsed_seconds > target + 1e-6:
        assert result.state in ("breached", "breaching")
    assert (result.state in ("achieved", "breached")) == (result.stop_at is not None)


@settings(max_examples=100, deadline=None)
@given(case=lifecycles(), target_minutes=st.integers(0, 3 * 24 * 60), calendar=st.sampled_from([ALWAYS_OPEN, BERLIN]))
def test_a_ruleset_s_slas_share_one_history_without_changing_a_result(
    case: tuple[Interaction, datetime], target_minutes: int, calendar: BusinessCalendar
) -> None:
    """sla_instances reads the events once per interaction for all SLAs; each SLA measures as on its own."""
    from servicerules.measures.catalogue import InteractionContext, RulesetResources
    from servicerules.measures.sla import METRICS, sla_instances, worst_instance

    interaction, as_of = case
    specs = [
        SlaSpec.model_validate({"id": metric, "title": metric, "metric": metric, "calendar": "desk",
                                "targets": {"*": target_minutes * 60}})
        for metric in METRICS
    ]
    ctx = InteractionContext(interaction, as_of, RulesetResources(calendars={"desk": calendar}))
    for spec in specs:
        alone = measure_sla(spec, interaction, as_of, calendar)
        assert sla_instances(ctx, spec) == alone
        assert worst_instance(ctx, spec) == worst(alone)


BERLIN_ZONE = ZoneInfo("Europe/Berlin")
DST_START = datetime(2026, 3, 28, 20, 0, tzinfo=timezone.utc)  # Berlin springs forward the next night


@st.composite
def conversations(draw: st.DrawFn) -> list[tuple[datetime, dict[str, Any]]]:
    """Events a few minutes to hours apart (seconds and microseconds too) across a change of daylight saving."""
    instant = DST_START + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    events = []
    for _ in range(draw(st.integers(0, 8))):
        instant += timedelta(microseconds=draw(st.integers(0, 5 * 3600 * 10**6)))
        kind = draw(st.sampled_from(["customer", "agent", "status"]))
        if kind == "status":
            event = status("", draw(st.sampled_from(STATUSES)))
        else:
            event = customer("") if kind == "customer" else agent("")
        events.append((instant, event))
    return events


@settings(max_examples=150, deadline=None)
@given(events=conversations(), as_of_hours=st.integers(0, 60), metric=st.sampled_from(["first_reply_time", "next_reply_time", "resolution_time"]))
def test_results_do_not_depend_on_how_the_timestamps_are_zoned(
    events: list[tuple[datetime, dict[str, Any]]], as_of_hours: int, metric: str
) -> None:
    """The same instants written in UTC (one zone object shared by every timestamp, which the clocks read
    as wall-clock differences), with per-timestamp offsets, and as Berlin times of one ZoneInfo (whose
    wall-clock differences are wrong across the change of daylight saving) measure the same."""
    created = DST_START

    def interaction(zone: Any, as_text: bool) -> Interaction:
        def written(at: datetime) -> Any:
            local = at.astimezone(zone)
            return local.isoformat().replace("+00:00", "Z") if as_text else local

        return Interaction.model_validate(
            {"id": "T-1", "channel": "email", "created_at": written(created),
             "events": [{**event, "at": written(at)} for at, event in events]}
        )

    as_of = created + timedelta(hours=as_of_hours)
    spec = sla(metric, {"*": "3h"})
    results = []
    for zone, as_text in ((timezone.utc, True), (BERLIN_ZONE, True), (BERLIN_ZONE, False)):
        for calendar in (ALWAYS_OPEN, BERLIN):
            results.append([
                (i.state, i.elapsed_seconds, i.paused_seconds, i.deadline and utc(i.deadline), i.start_index,
                 i.stop_index, i.start_at and utc(i.start_at), i.stop_at and utc(i.stop_at))
                for i in measure_sla(spec, interaction(zone, as_text), as_of, calendar)
            ])
    assert results[0:2] == results[2:4] == results[4:6]


def utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc)
