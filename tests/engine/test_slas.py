"""SLAs declared in a ruleset: compiled to rules, measured in business time, reported with their instances."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import servicerules
from servicerules.errors import RulesetError

BERLIN_HOURS = "{mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00']}"

RULESET = f"""
ruleset: sla-demo
version: "1"
calendars:
  berlin:
    timezone: Europe/Berlin
    hours: {BERLIN_HOURS}
    holidays: {{country: DE}}
actions:
  reply-now:
    title: Reply now
    owner: agent
    due_in: 1h
slas:
  - id: email-first-reply
    title: E-mail first reply within 4 business hours
    metric: first_reply_time
    when: interaction.channel == "email"
    calendar: berlin
    targets: {{urgent: 1h, "*": 4h}}
    severity: major
    actions: [reply-now]
    message:
      en: "First reply {{sla.email_first_reply.state}}: {{sla.email_first_reply.elapsed}} of {{sla.email_first_reply.target}}."
rules:
  - id: gold-waited
    title: Gold customers wait at most 2 business hours
    severity: minor
    when: customer.tier == "gold"
    violated_if: sla.email_first_reply.elapsed > 2h
"""


def ticket(reply_at: str | None, *, channel: str = "email", priority: str = "normal") -> dict:
    events = [{"at": "2026-03-06T16:00:00+01:00", "type": "message", "author": {"role": "customer"}, "text": "Help"}]
    if reply_at:
        events.append({"at": reply_at, "type": "message", "author": {"role": "agent"}, "text": "Hello"})
    return {"id": "T", "channel": channel, "priority": priority, "created_at": "2026-03-06T16:00:00+01:00",
            "customer": {"tier": "gold"}, "events": events}


@pytest.fixture
def policy(backend):
    return servicerules.load(RULESET, backend=backend)


def test_friday_ticket_answered_monday_morning_is_within_four_business_hours(policy):
    report = policy.evaluate(ticket("2026-03-09T11:00:00+01:00"))  # 67 calendar hours later
    (sla,) = report.slas
    assert (sla.sla_id, sla.metric, sla.state) == ("email-first-reply", "first_reply_time", "achieved")
    (instance,) = sla.instances
    assert instance.elapsed == 3 * 3600  # Fri 16-17 and Mon 09-11
    assert instance.deadline == dt.datetime(2026, 3, 9, 11, 0, tzinfo=dt.timezone.utc)  # Mon 12:00 Berlin
    assert instance.stop_index == 1
    assert [v.rule_id for v in report.violations] == ["gold-waited"]  # 3h > 2h for gold


def test_late_reply_is_a_violation_pointing_at_the_reply(policy):
    report = policy.evaluate(ticket("2026-03-09T13:30:00+01:00"))
    violation = next(v for v in report.violations if v.rule_id == "email-first-reply")
    assert violation.message == "First reply breached: 5h 30m of 4h."
    assert violation.evidence.event_index == 1
    assert violation.evidence.facts["sla.email_first_reply.deadline"] == "2026-03-09T12:00:00+01:00"
    assert violation.actions[0].id == "reply-now"
    assert "sla" in violation.tags


def test_no_reply_is_breaching_at_as_of(policy):
    early = policy.evaluate(ticket(None), as_of=dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.timezone.utc))
    late = policy.evaluate(ticket(None), as_of=dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.timezone.utc))
    assert early.slas[0].state == "pending"
    assert late.slas[0].state == "breaching"
    assert "email-first-reply" in late.violated_rules()


def test_sla_with_false_when_is_not_applicable(policy):
    report = policy.evaluate(ticket("2026-03-09T11:00:00+01:00", channel="chat"))
    assert report.slas[0].state == "not_applicable" and report.slas[0].instances == []
    assert "email-first-reply" in report.not_applicable_rules()


def test_urgent_target(policy):
    report = policy.evaluate(ticket("2026-03-09T09:30:00+01:00", priority="urgent"))
    assert report.slas[0].state == "breached"  # 1h target: Fri 16:00-17:00 used it up


def test_sla_errors_point_into_the_slas_section():
    broken = RULESET.replace("calendar: berlin", "calendar: berlinn").replace('when: interaction.channel == "email"', "when: interaction.chanel == 'email'")
    with pytest.raises(RulesetError) as info:
        servicerules.load(broken)
    assert [(d.code, d.message, d.hint, d.location.line) for d in info.value.diagnostics] == [
        ("SR201", "unknown fact 'interaction.chanel'", "did you mean 'interaction.channel'?", 18),
        ("SR205", "unknown calendar 'berlinn'", "did you mean 'berlin'?", 19),
    ]


def test_sla_facts_are_unknown_where_its_when_is_false(policy):
    # The gold customer's chat would be 3 business hours into the e-mail clock (> 2h), but the e-mail SLA
    # does not cover chats: its facts are unknown there, so the rule reading them does not apply either.
    report = policy.evaluate(ticket("2026-03-09T11:00:00+01:00", channel="chat"))
    assert "gold-waited" in report.not_applicable_rules()
    assert report.violations == []


SLA_CHAIN = """
ruleset: chain
version: "1"
slas:
  - id: first
    title: First reply within 1h
    metric: first_reply_time
    when: interaction.channel == "email"
    targets: {"*": 1h}
  - id: next
    title: Next replies within 1h, once the first reply was on time
    metric: next_reply_time
    when: sla.first.state == "achieved"
    targets: {"*": 1h}
"""


def test_an_sla_when_may_read_another_sla_s_facts(backend):
    policy = servicerules.load(SLA_CHAIN, backend=backend)
    as_of = dt.datetime(2026, 3, 9, tzinfo=dt.timezone.utc)
    # customer 09:00, agent 09:30 (first reply on time), customer 10:00, agent 12:00 (next reply 2h late)
    times = ["09:00", "09:30", "10:00", "12:00"]
    events = [
        {"at": f"2026-03-06T{t}:00Z", "type": "message", "author": {"role": "customer" if i % 2 == 0 else "agent"}, "text": "x"}
        for i, t in enumerate(times)
    ]
    record = {"id": "E", "channel": "email", "created_at": "2026-03-06T09:00:00Z", "events": events}
    email = policy.evaluate(record, as_of=as_of)
    assert {s.sla_id: s.state for s in email.slas} == {"first": "achieved", "next": "breached"}
    chat = policy.evaluate({**record, "channel": "chat"}, as_of=as_of)
    assert {s.sla_id: s.state for s in chat.slas} == {"first": "not_applicable", "next": "not_applicable"}


@pytest.mark.parametrize(
    ("first_when", "cycles"),
    [
        # first reads itself; next reads first, but first does not read next: next is not in a cycle
        ('sla.first.count > 0', [(8, "first", "first → first")]),
        # first reads next, whose own when reads first: each of the two depends on itself through the other
        ('sla.next.state == "achieved"',
         [(8, "first", "first → next → first"), (13, "next", "next → first → next")]),
    ],
)
def test_an_sla_when_cannot_depend_on_its_own_facts(first_when: str, cycles: list[tuple[int, str, str]]):
    text = SLA_CHAIN.replace('when: interaction.channel == "email"', f"when: {first_when}")
    with pytest.raises(RulesetError) as info:
        servicerules.load(text)
    hint = "an SLA's facts are unknown where its 'when' is not true; test the underlying facts instead"
    assert [(d.code, d.message, d.hint, d.location.line, d.location.col) for d in info.value.diagnostics] == [
        ("SR210", f"the 'when' of SLA '{sla}' depends on its own facts ({chain})", hint, line, 11)  # at its value
        for line, sla, chain in cycles
    ]


def test_an_sla_gate_and_the_rules_compute_a_fact_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # the gate of the SLA and the rule both read interaction.subject: one computation per interaction
    import dataclasses

    from servicerules.measures import CATALOGUE

    calls: list[str] = []
    spec = CATALOGUE["interaction.subject"]

    def counting(ctx: Any) -> Any:
        calls.append(ctx.interaction.id)
        return spec.compute(ctx)

    monkeypatch.setitem(CATALOGUE, "interaction.subject", dataclasses.replace(spec, compute=counting))
    policy = servicerules.load(
        """
ruleset: shared
version: "1"
slas:
  - id: refunds
    title: Refund requests answered within 1h
    metric: first_reply_time
    when: interaction.subject ?? "" == "Refund"
    targets: {"*": 1h}
rules:
  - id: no-subject
    title: Tickets have a subject
    severity: info
    violated_if: interaction.subject == null
""",
        backend="reference",
    )
    record = {"id": "T-9", "channel": "email", "subject": "Refund", "created_at": "2026-03-02T09:00:00Z",
              "events": [{"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "hi"}]}
    report = policy.evaluate(record, as_of=dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc))
    assert [s.state for s in report.slas] == ["breaching"]  # the gate read the subject
    assert calls == ["T-9"]
