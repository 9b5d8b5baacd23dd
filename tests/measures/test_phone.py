"""Call handling facts. Each expected value is worked out by hand from the event times (seconds after T0)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import servicerules
from servicerules.measures.catalogue import CATALOGUE, InteractionContext
from servicerules.model.interaction import Interaction

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PHONE_FACTS = (
    "call.queued_at",
    "call.queue_wait",
    "call.total_queue_wait",
    "call.answered",
    "call.abandoned",
    "call.short_abandon",
    "call.hold_time",
    "call.hold_count",
    "call.longest_hold",
    "call.transfer_count",
    "call.handle_time",
    "call.talk_time",
)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def record(*events: tuple[float, str], channel: str = "phone") -> dict[str, Any]:
    return {
        "id": "CALL-1",
        "channel": channel,
        "created_at": at(0),
        "events": [{"at": at(s), "type": kind} for s, kind in events],
    }


def facts(*events: tuple[float, str], as_of: float | None = None, channel: str = "phone") -> dict[str, Any]:
    interaction = Interaction.parse(record(*events, channel=channel))
    end = as_of if as_of is not None else (events[-1][0] if events else 0)
    ctx = InteractionContext(interaction, T0 + dt.timedelta(seconds=end))
    return {name: CATALOGUE[name].compute(ctx) for name in PHONE_FACTS}


def test_registered_in_the_phone_family() -> None:
    for name in PHONE_FACTS:
        spec = CATALOGUE[name]
        assert spec.family == "phone" and spec.scope == "interaction"
        assert spec.description and spec.example


def test_answered_in_15_seconds() -> None:
    got = facts((0, "call.queued"), (15, "call.answered"), (315, "call.ended"))
    assert got == {
        "call.queued_at": T0,
        "call.queue_wait": 15.0,
        "call.total_queue_wait": 15.0,
        "call.answered": True,
        "call.abandoned": False,
        "call.short_abandon": False,
        "call.hold_time": 0.0,
        "call.hold_count": 0,
        "call.longest_hold": 0.0,
        "call.transfer_count": 0,
        "call.handle_time": 300.0,  # 15 s -> 315 s
        "call.talk_time": 300.0,
    }


def test_answered_in_45_seconds() -> None:
    got = facts((0, "call.queued"), (45, "call.answered"), (105, "call.ended"))
    assert got["call.queue_wait"] == 45.0
    assert got["call.answered"] is True
    assert got["call.handle_time"] == 60.0


def test_short_abandon_after_3_seconds() -> None:
    got = facts((0, "call.queued"), (3, "call.abandoned"))
    assert got["call.queue_wait"] == 3.0
    assert got["call.answered"] is False
    assert got["call.abandoned"] is True
    assert got["call.short_abandon"] is True
    assert got["call.handle_time"] is None and got["call.talk_time"] is None


def test_abandon_after_60_seconds_is_not_short() -> None:
    got = facts((0, "call.queued"), (60, "call.abandoned"))
    assert got["call.queue_wait"] == 60.0
    assert got["call.abandoned"] is True
    assert got["call.short_abandon"] is False


def test_short_abandon_threshold_is_strictly_under_5_seconds() -> None:
    assert facts((0, "call.queued"), (5, "call.abandoned"))["call.short_abandon"] is False
    assert facts((0, "call.queued"), (4.5, "call.abandoned"))["call.short_abandon"] is True


def test_abandon_without_a_queue_start_has_no_known_wait() -> None:
    got = facts((0, "call.abandoned"))
    assert got["call.abandoned"] is True
    assert got["call.queue_wait"] is None
    assert got["call.short_abandon"] is None
    assert got["call.queued_at"] is None


def test_two_holds() -> None:
    got = facts(
        (0, "call.queued"),
        (20, "call.answered"),
        (80, "hold.started"),
        (140, "hold.ended"),  # 60 s
        (200, "hold.started"),
        (230, "hold.ended"),  # 30 s
        (500, "call.ended"),
    )
    assert got["call.hold_time"] == 90.0
    assert got["call.hold_count"] == 2
    assert got["call.longest_hold"] == 60.0
    assert got["call.handle_time"] == 480.0  # 20 s -> 500 s
    assert got["call.talk_time"] == 390.0  # 480 - 90


def test_unended_hold_counts_to_call_end() -> None:
    got = facts((0, "call.answered"), (100, "hold.started"), (250, "call.ended"))
    assert got["call.queue_wait"] is None  # no call.queued
    assert got["call.hold_time"] == 150.0
    assert got["call.handle_time"] == 250.0
    assert got["call.talk_time"] == 100.0


def test_unended_hold_and_call_count_to_as_of() -> None:
    got = facts((0, "call.answered"), (100, "hold.started"), as_of=400)
    assert got["call.hold_time"] == 300.0
    assert got["call.hold_count"] == 1
    assert got["call.handle_time"] == 400.0
    assert got["call.talk_time"] == 100.0


def test_repeated_hold_start_continues_the_hold_and_stray_end_is_ignored() -> None:
    got = facts(
        (0, "call.answered"),
        (10, "hold.ended"),  # no hold running: ignored
        (20, "hold.started"),
        (30, "hold.started"),  # still the same hold
        (50, "hold.ended"),
        (100, "call.ended"),
    )
    assert got["call.hold_count"] == 1
    assert got["call.hold_time"] == 30.0
    assert got["call.talk_time"] == 70.0


def test_queued_at_is_the_first_queue_entry_not_the_interaction_s_start() -> None:
    # The interaction starts (voice menu) at 0; the caller reaches the queue 75 s later.
    got = facts((0, "note"), (75, "call.queued"), (90, "call.answered"), (200, "call.ended"))
    assert got["call.queued_at"] == T0 + dt.timedelta(seconds=75)
    assert got["call.queue_wait"] == 15.0


def test_blind_transfer_queues_again() -> None:
    got = facts(
        (0, "call.queued"),
        (10, "call.answered"),
        (70, "transfer"),
        (70, "call.queued"),
        (100, "call.answered"),
        (400, "call.ended"),
    )
    assert got["call.queue_wait"] == 10.0  # the first queue only
    assert got["call.queued_at"] == T0  # the first queue's entry, not the second's
    assert got["call.total_queue_wait"] == 40.0  # 10 + 30
    assert got["call.transfer_count"] == 1
    assert got["call.handle_time"] == 360.0  # (10 -> 70) + (100 -> 400)
    assert got["call.talk_time"] == 360.0


def test_warm_transfer_stays_connected() -> None:
    got = facts(
        (0, "call.queued"),
        (12, "call.answered"),
        (100, "transfer"),
        (130, "call.answered"),
        (200, "call.ended"),
    )
    assert got["call.queue_wait"] == 12.0
    assert got["call.total_queue_wait"] == 12.0
    assert got["call.transfer_count"] == 1
    assert got["call.handle_time"] == 188.0  # 12 -> 200


def test_abandon_in_the_queue_after_a_transfer() -> None:
    got = facts(
        (0, "call.queued"),
        (8, "call.answered"),
        (50, "transfer"),
        (50, "call.queued"),
        (52, "call.abandoned"),
    )
    assert got["call.answered"] is True
    assert got["call.abandoned"] is True
    assert got["call.short_abandon"] is True  # 2 s in the second queue
    assert got["call.queue_wait"] == 8.0
    assert got["call.total_queue_wait"] == 10.0
    assert got["call.handle_time"] == 42.0  # 8 -> 50


def test_still_queued_at_as_of() -> None:
    got = facts((0, "call.queued"), as_of=30)
    assert got["call.queue_wait"] == 30.0
    assert got["call.answered"] is False
    assert got["call.abandoned"] is False
    assert got["call.handle_time"] is None


def test_events_after_as_of_are_not_seen_yet() -> None:
    # At as_of = 30 s the caller is still waiting; the answer at 40 s and the hold after it have not happened.
    later = [(0.0, "call.queued"), (40.0, "call.answered"), (50.0, "hold.started"), (60.0, "hold.ended"), (90.0, "call.ended")]
    got = facts(*later, as_of=30)
    assert got == facts((0, "call.queued"), as_of=30)
    assert got["call.queue_wait"] == 30.0 and got["call.answered"] is False
    # Before the call was queued it is no call at all: every fact is unknown, as for an e-mail.
    assert set(facts(*[(s + 100, kind) for s, kind in later], as_of=30).values()) == {None}


def test_dropped_line_is_not_an_abandon() -> None:
    got = facts((0, "call.queued"), (25, "call.ended"))
    assert got["call.queue_wait"] == 25.0
    assert got["call.answered"] is False
    assert got["call.abandoned"] is False
    assert got["call.short_abandon"] is False


def test_an_end_logged_before_the_answer_ends_the_wait() -> None:
    # Two systems' clocks (the queue's and the agent's) in one log: the wait ends at the first of answer,
    # abandon and end that follows the queue start, as documented; a mapping keeps the events on one clock.
    got = facts((0, "call.queued"), (14, "call.ended"), (31, "call.answered"))
    assert got["call.queue_wait"] == 14.0
    assert got["call.answered"] is True


def test_times_in_a_named_zone_count_real_seconds_across_a_clock_change() -> None:
    # Naive times read with default_timezone share one ZoneInfo, and Python subtracts datetimes that share a
    # zone by their wall clocks: across the spring-forward night (02:00 CET is 03:00 CEST) a 20 s wait was
    # 3620 s, and a service level counted the call as answered after an hour.
    def call(*events: tuple[str, str]) -> Interaction:
        data = {"id": "CALL-DST", "channel": "phone", "created_at": "2026-03-29T01:58:30",
                "events": [{"at": f"2026-03-29T{time}", "type": kind} for time, kind in events]}
        return Interaction.parse(data, default_timezone="Europe/Berlin")

    def fact(name: str, interaction: Interaction, as_of: dt.datetime | None = None) -> Any:
        return CATALOGUE[name].compute(InteractionContext(interaction, as_of or interaction.events[-1].at))

    waited = call(("01:59:50", "call.queued"), ("03:00:10", "call.answered"))
    assert fact("call.queue_wait", waited) == 20
    still_queued = dt.datetime(2026, 3, 29, 3, 0, 5, tzinfo=waited.created_at.tzinfo)
    assert (fact("call.queue_wait", waited, still_queued), fact("call.answered", waited, still_queued)) == (15, False)
    held = call(("01:59:40", "call.queued"), ("01:59:50", "call.answered"), ("01:59:55", "hold.started"),
                ("03:00:25", "hold.ended"), ("03:01:50", "call.ended"))
    assert [fact(name, held) for name in ("call.queue_wait", "call.hold_time", "call.handle_time", "call.talk_time")] == [10, 30, 120, 90]


def test_an_email_has_no_call_facts() -> None:
    interaction = Interaction.parse(
        {"id": "E-1", "channel": "email", "created_at": at(0),
         "events": [{"at": at(0), "type": "message", "author": {"role": "customer"}, "text": "Hi"}]}
    )
    ctx = InteractionContext(interaction, T0)
    assert {name: CATALOGUE[name].compute(ctx) for name in PHONE_FACTS} == {name: None for name in PHONE_FACTS}


def test_a_transferred_chat_counts_its_transfer_only() -> None:
    got = facts((0, "transfer"), channel="chat")
    assert got["call.transfer_count"] == 1
    assert got["call.hold_time"] is None
    assert got["call.answered"] is None


EVENT_KINDS = ("call.queued", "call.answered", "call.abandoned", "call.ended", "hold.started", "hold.ended", "transfer")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 120), st.sampled_from(EVENT_KINDS)), max_size=12), st.integers(0, 600))
def test_any_event_sequence_gives_consistent_figures(steps: list[tuple[int, str]], extra: int) -> None:
    # Events in time order: cumulative gaps.
    events, clock = [], 0
    for gap, kind in steps:
        clock += gap
        events.append((float(clock), kind))
    got = facts(*events, as_of=clock + extra)
    for name in ("call.queue_wait", "call.total_queue_wait", "call.hold_time", "call.longest_hold",
                 "call.handle_time", "call.talk_time"):
        assert got[name] is None or got[name] >= 0, name
    if got["call.handle_time"] is not None:
        assert got["call.talk_time"] <= got["call.handle_time"]
    if got["call.queue_wait"] is not None:
        assert got["call.queue_wait"] <= got["call.total_queue_wait"]
    if got["call.hold_time"] is not None:
        assert got["call.longest_hold"] <= got["call.hold_time"]


RULESET = """
ruleset: phone-charter
version: "1.0"
rules:
  - id: phone.answer-20s
    title: Calls are answered within 20 seconds
    severity: major
    when: call.answered
    violated_if: call.queue_wait > 20s
    message: "The caller waited {call.queue_wait}."
  - id: phone.abandon
    title: Callers do not give up waiting
    severity: minor
    violated_if: call.abandoned and not call.short_abandon
  - id: phone.hold
    title: Holds stay under 2 minutes in total
    severity: minor
    violated_if: call.hold_time > 2m
"""


def _ids(report: servicerules.Report) -> list[str]:
    return [v.rule_id for v in report.violations]


def _status(report: servicerules.Report) -> dict[str, str]:
    return {o.rule_id: o.status for o in report.outcomes}


def test_end_to_end(backend: str) -> None:
    policy = servicerules.load(RULESET, backend=backend)
    fast = policy.evaluate(record((0, "call.queued"), (15, "call.answered"), (200, "call.ended")))
    assert _ids(fast) == []
    slow = policy.evaluate(
        record((0, "call.queued"), (45, "call.answered"), (60, "hold.started"), (190, "hold.ended"), (300, "call.ended"))
    )
    assert _ids(slow) == ["phone.answer-20s", "phone.hold"]  # 45 s wait, 130 s hold
    assert slow.violations[0].message == "The caller waited 45s."
    short = policy.evaluate(record((0, "call.queued"), (3, "call.abandoned")))
    assert _ids(short) == []
    gave_up = policy.evaluate(record((0, "call.queued"), (60, "call.abandoned")))
    assert _ids(gave_up) == ["phone.abandon"]
    email = policy.evaluate(
        {"id": "E-1", "channel": "email", "created_at": at(0),
         "events": [{"at": at(0), "type": "message", "author": {"role": "customer"}, "text": "Hi"}]}
    )
    assert set(_status(email).values()) == {"not_applicable"}


def test_unanswered_call_is_not_applicable_to_the_answer_target() -> None:
    # Reference backend: it is the oracle for outcomes (a false bool `when` must give not_applicable).
    policy = servicerules.load(RULESET, backend="reference")
    report = policy.evaluate(record((0, "call.queued"), (3, "call.abandoned")))
    assert _status(report) == {"phone.answer-20s": "not_applicable", "phone.abandon": "compliant", "phone.hold": "compliant"}


@pytest.mark.parametrize("name", PHONE_FACTS)
def test_every_fact_is_documented_with_an_example(name: str) -> None:
    spec = CATALOGUE[name]
    assert "|" not in spec.description and "\n" not in spec.description  # rendered in a Markdown table
    assert spec.example
