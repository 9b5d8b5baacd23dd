"""Python helpers: the fluent InteractionBuilder and assert_violates / assert_complies with exact messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import servicerules
from servicerules.errors import InteractionError
from servicerules.testing import InteractionBuilder, assert_complies, assert_violates

STARTER = Path(__file__).resolve().parents[2] / "rulesets" / "starter.yaml"


@pytest.fixture(scope="module")
def policy():
    ruleset = servicerules.load(STARTER, backend="reference")
    yield ruleset
    ruleset.close()


def late_email() -> InteractionBuilder:
    return (
        InteractionBuilder("email", id="EM-1", created_at="2026-03-01T09:00:00+01:00", customer={"name": "Jana"})
        .customer("Where is my parcel?", at="+0m")
        .autoresponder("We have your message.", after="1m")
        .note("Carrier says it is lost.", after="2h")
        .agent("Hello Jana, it ships today. Let us know if anything else comes up.", at="+30h")
        .status("solved", after="10m")
    )


def test_builder_expands_like_a_test_file():
    built = late_email().build()
    assert built.id == "EM-1" and built.channel == "email"
    assert [(e.type, e.role, e.public, e.automated, e.at.isoformat()) for e in built.events] == [
        ("message", "customer", True, False, "2026-03-01T09:00:00+01:00"),
        ("message", "system", True, "autoresponder", "2026-03-01T09:01:00+01:00"),
        ("note", "agent", False, False, "2026-03-01T11:01:00+01:00"),
        ("message", "agent", True, False, "2026-03-02T15:00:00+01:00"),
        ("status", None, True, False, "2026-03-02T15:10:00+01:00"),
    ]
    assert built.solved_at == dt.datetime.fromisoformat("2026-03-02T15:10:00+01:00")
    assert late_email().compact()["events"][0] == {"from": "customer", "text": "Where is my parcel?", "at": "+0m"}


def test_builder_defaults_and_other_events():
    chat = (
        InteractionBuilder("phone")
        .event(type="call.queued", from_="customer")
        .event(type="call.answered", from_="agent", after="40s")
        .action("identity_verified", after="1m", attributes={"method": "dob"})
        .set(priority="urgent")
        .build()
    )
    assert (chat.id, chat.created_at.isoformat(), chat.priority) == ("interaction", "2026-03-02T09:00:00+00:00", "urgent")
    assert [e.type for e in chat.events] == ["call.queued", "call.answered", "action"]
    assert chat.events[2].attributes == {"method": "dob"}


def test_builder_reports_bad_input():
    with pytest.raises(InteractionError) as info:
        InteractionBuilder("chat").customer("hi", at="+5x").build()
    assert info.value.codes == ["SR112"]


def test_assert_violates_returns_the_violation(policy):
    violation = assert_violates(policy, late_email(), "reply.email-first-reply", as_of="2026-03-02T18:00:00Z")
    assert violation.message == "The customer waited 1d 6h for a first personal reply (target 24h)."
    card = InteractionBuilder("chat").customer("hi").customer("4111 1111 1111 1111", after="1m")
    assert assert_violates(str(STARTER), card, "privacy.card-number-in-message", event=1).evidence.event_index == 1


def test_assert_violates_explains_a_miss(policy):
    with pytest.raises(AssertionError) as info:
        assert_violates(policy, late_email(), "protocol.greeting")
    assert str(info.value) == (
        "expected violation of protocol.greeting, but the rule was compliant\n"
        "violations found (1):\n"
        "  reply.email-first-reply [major] at event 3: The customer waited 1d 6h for a first personal reply (target 24h)."
    )
    with pytest.raises(AssertionError) as info:
        assert_violates(policy, late_email(), "reply.chat-first-reply")
    assert str(info.value).splitlines()[0] == (
        "expected violation of reply.chat-first-reply, but the rule did not apply (its 'when' was false, or a fact it needs is unknown)"
    )


def test_assert_violates_explains_a_wrong_event(policy):
    card = InteractionBuilder("chat").customer("hi").customer("4111 1111 1111 1111", after="1m")
    with pytest.raises(AssertionError) as info:
        assert_violates(policy, card, "privacy.card-number-in-message", event=0)
    assert str(info.value).splitlines()[0] == "expected violation of privacy.card-number-in-message at event 0, found it at event 1"


def test_assert_complies(policy):
    quick = InteractionBuilder("chat").customer("hi").agent("Hello, how can I help?", after="30s")
    report = assert_complies(policy, quick)
    assert report.violations == []
    assert_complies(policy, late_email(), "protocol.greeting")
    assert_complies(policy, late_email(), "reply.chat-first-reply")  # not applicable counts as complying
    card = InteractionBuilder("chat").customer("4111 1111 1111 1111").agent("Hello, please do not send card numbers.", after="3m")
    with pytest.raises(AssertionError) as info:
        assert_complies(policy, card, as_of="+1h")
    assert str(info.value) == (
        "unexpected violation reply.chat-first-reply at event 1: The chat waited 3m for an agent (target 2 minutes).\n"
        "unexpected violation privacy.card-number-in-message at event 0: Message 0 contains what looks like a card number (customer)."
    )
    with pytest.raises(AssertionError) as info:
        assert_complies(policy, late_email().build(), "reply.email-first-reply")
    assert str(info.value) == (
        "unexpected violation reply.email-first-reply at event 3: The customer waited 1d 6h for a first personal reply (target 24h)."
    )


def test_unknown_rule_is_a_usage_error(policy):
    with pytest.raises(ValueError, match=r"unknown rule 'reply.emial-first-reply' in ruleset starter; did you mean 'reply.email-first-reply'\?"):
        assert_violates(policy, late_email(), "reply.emial-first-reply")
