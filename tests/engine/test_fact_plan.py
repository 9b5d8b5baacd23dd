"""The fact plan: a rule's other facts are only computed where its ``when`` holds, without changing a verdict.

The engine computes first the facts the rules' guards (their lowered ``when``) read, and the facts of the
rules without a guard; the rest only for facts where a rule reading them has a TRUE guard. A fact left out
is absent, as an unknown one is, so every rule's verdict must be the one the engine would give with every
fact computed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import servicerules
from servicerules.compiler.reference import ReferenceBackend
from servicerules.engine import CompiledRuleset, _FactReader, _normalise
from servicerules.measures.catalogue import InteractionContext
from servicerules.model.interaction import Interaction

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc


def every_fact(policy: CompiledRuleset, model: Interaction, as_of: dt.datetime) -> list[dict[str, Any]]:
    """The engine facts with every column computed, as the engine built them before it had a plan."""
    program = policy.program
    reader = _FactReader(InteractionContext(model, as_of, program.resources), program.local_facts)
    facts = []
    for index, columns, derived, kind in [(None, program.interaction_columns, program.interaction_derived, "i")] + [
        (i, program.event_columns, program.event_derived, "e") for i in range(len(reader.ctx.events))  # up to as_of
    ]:
        get = reader.getter(index)
        fact: dict[str, Any] = {"kind": kind}
        for column in columns:
            value = get(column.name, column.type)
            if value is not None:
                fact[column.key] = value
        for column in derived:
            value = _normalise(column.fn(get), column.type)
            if value is not None:
                fact[column.key] = value
        facts.append(fact)
    return facts if program.needs_events else facts[:1]


def examples() -> list[Interaction]:
    lines = (ROOT / "examples" / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    return [Interaction.parse(line) for line in lines if line.strip()]


def crafted() -> list[Interaction]:
    """Shapes the examples lack: a complaint, an urgent chat, a social post, a call, each with an action."""
    base = json.loads((ROOT / "examples" / "interactions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    events = base["events"] + [
        {"at": "2026-02-24T09:00:00Z", "type": "action", "action": "refund_issued", "author": {"role": "agent"}},
        {"at": "2026-02-24T09:05:00Z", "type": "status", "status": "solved"},
    ]
    return [
        Interaction.parse({**base, "channel": channel, "priority": priority, "attributes": attributes, "events": events})
        for channel, priority, attributes in (
            ("chat", "urgent", {"kind": "complaint", "previous_contacts": 2}),
            ("social", "high", {"kind": "complaint"}),
            ("phone", "low", {}),
        )
    ]


def interactions() -> list[Interaction]:
    return examples() + crafted()


@pytest.mark.parametrize("ruleset", ["charter", "starter"])
def test_planned_facts_give_the_verdicts_of_every_fact(ruleset: str) -> None:
    policy = servicerules.load(ROOT / "rulesets" / f"{ruleset}.yaml", backend="reference")
    matcher = ReferenceBackend(policy.program.ir)
    for model in interactions():
        for as_of in (None, model.created_at + dt.timedelta(hours=3)):
            moment = as_of or servicerules.engine.default_as_of(model)
            planned = policy._prepare(model, as_of)[1]
            complete = every_fact(policy, model, moment)
            assert matcher.match(planned) == matcher.match(complete), (ruleset, model.id, as_of)
            # what the plan computes, it computes alike; it only ever leaves keys out, or a whole event fact on
            # which no rule fires (a placeholder that no engine rule matches keeps the facts' positions)
            for position, (kept, full) in enumerate(zip(planned, complete)):
                if kept == {"kind": "-"}:
                    assert position > 0 and not [f for f in matcher.match(complete) if f.fact_index == position]
                else:
                    assert kept.items() <= full.items()


def test_a_guarded_fact_is_not_computed_where_its_when_is_false() -> None:
    policy = servicerules.load(ROOT / "rulesets" / "charter.yaml", backend="reference")
    chat = crafted()[0]
    reader, _facts = policy._prepare(chat, None)
    # the e-mail SLAs only apply to e-mail and web forms: their clocks were never run for this chat ...
    assert "sla.email_first_reply.breached" not in reader.interaction
    assert "sla:email-first-reply" not in reader.ctx._cache
    # ... while the chat SLA's was
    assert "sla.chat_first_reply.breached" in reader.interaction
    # an event rule guarded by event.type == "action" reads its fact only for the action events
    action = next(i for i, e in enumerate(chat.events) if e.type == "action")
    message = next(i for i, e in enumerate(chat.events) if e.type == "message")
    assert "event.missing_prerequisite" in reader.events[action]
    assert "event.missing_prerequisite" not in reader.events[message]
    report = policy.evaluate(chat)
    outcome = {o.rule_id: o.status for o in report.outcomes}
    assert outcome["email-first-reply"] == "not_applicable"
    assert outcome["chat-first-reply"] in ("violated", "compliant")


def test_facts_left_out_are_still_read_for_targets_and_reports() -> None:
    # the aggregate targets read SLA facts through the same reader, computing what the rules skipped
    policy = servicerules.load(ROOT / "rulesets" / "charter.yaml", backend="reference")
    email = next(m for m in examples() if m.channel == "email")
    chat = crafted()[0]
    for model in (email, chat):
        reader, _facts = policy._prepare(model, None)
        get = reader.getter(None)
        fresh = _FactReader(InteractionContext(model, reader.ctx.as_of, policy.program.resources), policy.program.local_facts)
        for name in ("sla.email_first_reply.state", "sla.email_first_reply.elapsed", "call.queue_wait", "reference.given"):
            spec = reader.spec(name)
            assert get(name, spec.type) == fresh.getter(None)(name, spec.type)


def test_event_facts_no_rule_can_fire_on_are_left_out() -> None:
    policy = servicerules.load(ROOT / "rulesets" / "charter.yaml", backend="reference")
    chat = crafted()[0]
    _reader, facts = policy._prepare(chat, None)
    kinds = {event.type: facts[index + 1]["kind"] for index, event in enumerate(chat.events)}
    # no charter rule reads a status event: only rules guarded by a type of message, note or action, and the
    # public-reply rule, whose fact is unknown outside social channels
    assert kinds["status"] == "-"
    assert kinds["message"] == "e" and kinds["action"] == "e"
    # on the social channel the public-reply rule reads the company's messages, but still no status event
    social = crafted()[1]
    _reader, facts = policy._prepare(social, None)
    assert {facts[i + 1]["kind"] for i, e in enumerate(social.events) if e.type == "status"} == {"-"}


RULESET_WITH_AN_ALWAYS_APPLICABLE_EVENT_RULE = """
ruleset: every-event
version: "1"
rules:
  - id: typed
    title: every event is of a known type
    severity: info
    scope: event
    violated_if: not exists(event.type) or event.type == "note"
    message: {en: "untyped"}
"""


def test_no_event_fact_is_left_out_when_a_rule_may_fire_on_any_event() -> None:
    # the rule's violated half fires where event.type is absent: no key is needed, so every event is matched
    policy = servicerules.load(RULESET_WITH_AN_ALWAYS_APPLICABLE_EVENT_RULE, backend="reference")
    for model in interactions():
        _reader, facts = policy._prepare(model, None)
        assert all(fact["kind"] == "e" for fact in facts[1:])


def test_keys_a_condition_needs_to_be_true() -> None:
    from servicerules.compiler.ir import ALWAYS, NEVER, AllOf, AnyOf, Compare, Present
    from servicerules.engine import _required

    a, b = Compare("a", "==", 1), Compare("b", ">", 2.5)
    assert _required(a) == {"a"}
    assert _required(Present("a", True)) == {"a"}
    assert _required(Present("a", False)) == set()  # TRUE exactly where the key is absent
    assert _required(AllOf((a, b))) == {"a", "b"}
    assert _required(AnyOf((a, b))) == set()  # either key alone may do
    assert _required(AnyOf((AllOf((a, b)), a))) == {"a"}
    assert _required(ALWAYS) == set()
    assert _required(NEVER) is None
    assert _required(AllOf((a, NEVER))) is None
    assert _required(AnyOf((NEVER, b))) == {"b"}


RULESET_GUARDED_BY_FREE_ATTRIBUTES = """
ruleset: free-attributes
version: "1"
rules:
  - id: orders-need-a-subject
    title: an interaction about an order has a subject
    severity: info
    when: interaction.attributes.order != null
    violated_if: interaction.subject == null
    message: {en: "no subject"}
  - id: tagged-events-are-notes
    title: only notes carry tags
    severity: info
    scope: event
    when: exists(event.attributes.tags)
    violated_if: event.type != "note"
    message: {en: "tags on a non-note"}
"""


@pytest.mark.parametrize("order", [{"amount": 900}, [1, 2], "A-1"])
def test_a_guard_on_a_free_attribute_holding_a_list_or_dict_is_evaluated(backend: str, order: Any) -> None:
    # free attributes may hold lists and dicts, which cannot key the memo of guard outcomes
    policy = servicerules.load(RULESET_GUARDED_BY_FREE_ATTRIBUTES, backend=backend)
    events = [
        {"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "hi",
         "attributes": {"tags": ["vip", "order"]}},
        {"at": "2026-03-02T09:01:00Z", "type": "note", "author": {"role": "agent"}, "text": "ok",
         "attributes": {"tags": {"kind": "internal"}}},
        {"at": "2026-03-02T09:02:00Z", "type": "status", "status": "open"},
    ]
    record = {"id": "x", "channel": "email", "created_at": "2026-03-02T09:00:00Z", "attributes": {"order": order},
              "events": events}
    for _ in range(2):  # the second time through, outcomes of hashable guard values come from the memo
        report = policy.evaluate(record, as_of=dt.datetime(2026, 3, 3, tzinfo=UTC))
        outcomes = {o.rule_id: o.status for o in report.outcomes}
        assert outcomes["orders-need-a-subject"] == "violated"
        assert outcomes["tagged-events-are-notes"] == "violated"
        assert [v.evidence.event_index for v in report.violations if v.rule_id == "tagged-events-are-notes"] == [0]
