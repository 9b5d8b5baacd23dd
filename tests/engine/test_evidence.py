"""Where a violation's evidence points: the event an interaction rule's facts describe."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest

import servicerules
from servicerules.cli import run
from servicerules.measures import CATALOGUE
from servicerules.measures.catalogue import EventPointer, fact
from servicerules.testing import InteractionBuilder

RULESET = """
ruleset: evidence
version: "1"
rules:
  - id: greeting
    severity: minor
    title: The first reply greets
    violated_if: not first_reply.has_greeting
  - id: closing
    severity: minor
    title: The last reply offers help
    violated_if: not last_reply.offers_help
  - id: refund-proof
    severity: minor
    title: Refunds only with proof
    when: refund.issued
    violated_if: not (interaction.attributes.receipt ?? false)
  - id: anger-to-manager
    severity: minor
    title: Angry customers reach a manager
    when: customer.anger
    violated_if: not escalation.reached_manager
  - id: unanswered
    severity: minor
    title: Nobody waits a day
    violated_if: unanswered_for > 1d
  - id: resolved
    severity: minor
    title: A resolution is recorded
    violated_if: not resolution.recorded
"""

AS_OF = dt.datetime(2026, 3, 5, 12, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module", params=["reference", "durable_rules"])
def policy(request):
    return servicerules.load(RULESET, backend=request.param)


def pointers(report: servicerules.Report) -> dict[str, int | None]:
    return {v.rule_id: v.evidence.event_index for v in report.violations}


def test_protocol_rules_point_at_the_reply_they_judge(policy):
    chat = (
        InteractionBuilder("email", created_at="2026-03-02T09:00:00+01:00")
        .customer("Where is my parcel?")
        .agent("It ships today.", after="1h")
        .customer("Thanks", after="1h")
        .agent("Tracking number follows.", after="1h")
    )
    report = policy.evaluate(chat.build(), as_of=AS_OF)
    assert pointers(report)["greeting"] == 1  # the first personal reply
    assert pointers(report)["closing"] == 3  # the last one
    greeting = next(v for v in report.violations if v.rule_id == "greeting")
    assert (greeting.evidence.excerpt, greeting.evidence.at) == ("It ships today.", report_event_at(chat, 1))


def report_event_at(builder: InteractionBuilder, index: int):
    return builder.build().events[index].at


def test_a_when_fact_points_when_violated_if_reads_none(policy):
    refund = (
        InteractionBuilder("email", created_at="2026-03-02T09:00:00+01:00")
        .customer("Refund please")
        .agent("Hello, done. Anything else?", after="5m")
        .action("refund_issued", after="1m")
    )
    assert pointers(policy.evaluate(refund.build(), as_of=AS_OF))["refund-proof"] == 2  # refund.issued: the action


def test_violated_if_facts_point_before_when_facts(policy):
    angry = (
        InteractionBuilder("email", created_at="2026-03-02T09:00:00+01:00")
        .customer("Where is my parcel?")
        .action("escalated", after="1m")
        .customer("This is unacceptable!", after="1h")
    )
    # customer.anger (the when) would point at event 2; escalation.reached_manager (violated_if) points at
    # the first escalation trigger, the escalated action
    assert pointers(policy.evaluate(angry.build(), as_of=AS_OF))["anger-to-manager"] == 1


def test_an_unanswered_customer_is_pointed_at_and_a_fact_about_no_event_points_nowhere(policy):
    waiting = InteractionBuilder("email", created_at="2026-03-02T09:00:00+01:00").note("triage").customer(
        "Hello?", after="1m"
    )
    found = pointers(policy.evaluate(waiting.build(), as_of=AS_OF))
    assert found["unanswered"] == 1  # the customer's first message, not the note before it
    assert found["resolved"] is None  # resolution.recorded describes no event


def test_the_catalogue_says_where_each_fact_points():
    assert CATALOGUE["first_reply.has_greeting"].about is not None
    assert CATALOGUE["first_reply.has_greeting"].about.event == "the first personal reply"
    assert CATALOGUE["resolution.recorded"].about is None
    assert all(spec.about is None for spec in CATALOGUE.values() if spec.scope == "event")


def test_facts_json_lists_the_evidence():
    out, err = StringIO(), StringIO()
    assert run(["facts", "--format", "json"], out, err) == 0
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert rows["refund.issued_while_ineligible"]["evidence"] == "the first refund_issued action"
    assert rows["interaction.channel"]["evidence"] is None


def test_only_interaction_facts_can_point_at_an_event():
    with pytest.raises(RuntimeError, match="only interaction facts"):
        fact("event.test_pointer", "bool", "x", "true", family="event", scope="event",
             about=EventPointer("the event", lambda ctx: 0))(lambda ctx, index: True)
    assert "event.test_pointer" not in CATALOGUE
