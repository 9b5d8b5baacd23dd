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
        (i, program.event_columns, program.event_derived, "e") for i in range(len(model.events))
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
            # what the plan computes, it computes alike; it only ever leaves keys out
            for kept, full in zip(planned, complete):
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
