"""Evaluation is *as of* ``as_of``: what happened after it is not known yet, for every fact and rule."""

from __future__ import annotations

import datetime as dt

import pytest

import servicerules

UTC = dt.timezone.utc

RULES = """
ruleset: as-of
version: "1"
rules:
  - id: unanswered
    title: E-mails are answered within 1h
    severity: major
    when: interaction.channel == "email"
    violated_if: (first_reply_time ?? unanswered_for) > 1h
  - id: has-reply
    title: Has a personal reply
    severity: minor
    violated_if: not has_personal_reply
  - id: autoresponder
    title: Not left with the autoresponder alone
    severity: minor
    violated_if: autoresponder_only
  - id: card
    title: No card numbers
    severity: critical
    scope: event
    when: event.type == "message"
    violated_if: event.has_card_number
  - id: card-anywhere
    title: No card data in the interaction
    severity: critical
    violated_if: privacy.has_card_data
  - id: solved
    title: Solved
    severity: info
    violated_if: not interaction.is_solved or interaction.solved_at == null
"""

# An e-mail at 09:00 with an autoresponder at 09:01; the agent answers the next day at 15:00 with a card
# number in the reply, and the ticket is solved at 15:05.
EMAIL = {
    "id": "E-1",
    "channel": "email",
    "created_at": "2026-03-02T09:00:00Z",
    "solved_at": "2026-03-03T15:05:00Z",
    "events": [
        {"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "Where is my refund?"},
        {"at": "2026-03-02T09:01:00Z", "type": "message", "author": {"role": "bot"}, "automated": True,
         "text": "We have received your message."},
        {"at": "2026-03-03T15:00:00Z", "type": "message", "author": {"role": "agent", "id": "a1"},
         "text": "Hello, the card 4111 1111 1111 1111 was refunded."},
    ],
}


@pytest.fixture
def policy(backend: str):  # type: ignore[no-untyped-def]
    loaded = servicerules.load(RULES, backend=backend)
    yield loaded
    loaded.close()


def _violated(report: servicerules.Report) -> set[str]:
    return set(report.violated_rules())


def test_two_hours_after_the_email_nothing_later_is_known(policy) -> None:  # type: ignore[no-untyped-def]
    report = policy.evaluate(EMAIL, as_of=dt.datetime(2026, 3, 2, 11, tzinfo=UTC))
    # waiting 2h with no personal reply, only the autoresponder; the later card number and solve are unknown
    assert _violated(report) == {"unanswered", "has-reply", "autoresponder", "solved"}
    (late,) = [v for v in report.violations if v.rule_id == "unanswered"]
    assert late.evidence.facts == {"interaction.channel": "email", "first_reply_time": None, "unanswered_for": 7200.0}


def test_once_the_reply_exists_it_counts(policy) -> None:  # type: ignore[no-untyped-def]
    report = policy.evaluate(EMAIL, as_of=dt.datetime(2026, 3, 3, 15, 2, tzinfo=UTC))
    # replied after 30h (late), the card number is in the reply (event 2), not solved yet
    assert _violated(report) == {"unanswered", "card", "card-anywhere", "solved"}
    assert [v.evidence.event_index for v in report.violations if v.rule_id == "card"] == [2]


def test_after_the_solve_everything_counts(policy) -> None:  # type: ignore[no-untyped-def]
    report = policy.evaluate(EMAIL, as_of=dt.datetime(2026, 3, 4, tzinfo=UTC))
    assert _violated(report) == {"unanswered", "card", "card-anywhere"}


def test_an_event_at_as_of_itself_is_seen(policy) -> None:  # type: ignore[no-untyped-def]
    report = policy.evaluate(EMAIL, as_of=dt.datetime(2026, 3, 3, 15, tzinfo=UTC))
    assert "card" in _violated(report) and "has-reply" not in _violated(report)


def test_batch_verdicts_agree_with_the_report(policy) -> None:  # type: ignore[no-untyped-def]
    as_of = dt.datetime(2026, 3, 2, 11, tzinfo=UTC)
    (verdicts,) = policy.verdicts_many([EMAIL], as_of=as_of)
    violated = {policy.rules[i].spec.id for i, status in verdicts.statuses.items() if status == "violated"}
    assert violated == {"unanswered", "has-reply", "autoresponder", "solved"}


def test_an_interaction_created_after_as_of_is_rejected(policy) -> None:  # type: ignore[no-untyped-def]
    # At 08:00 the e-mail of 09:00 did not exist: it was evaluated with no events, compliant with every rule.
    before = dt.datetime(2026, 3, 2, 8, tzinfo=UTC)
    with pytest.raises(servicerules.InteractionError) as info:
        policy.evaluate(EMAIL, as_of=before)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "SR313"
    assert diagnostic.message.startswith("the interaction was created at 2026-03-02T09:00:00Z, after as_of 2026-03-02T08:00:00Z")
    with pytest.raises(servicerules.InteractionError):
        policy.target_contributions(EMAIL, as_of=before)
    later = {**EMAIL, "id": "E-2", "created_at": "2026-03-02T07:00:00Z"}
    for many in (policy.evaluate_many, policy.verdicts_many):
        results = list(many([later, EMAIL, later], as_of=before, errors="collect"))
        assert [isinstance(r, servicerules.Rejection) for r in results] == [False, True, False]
        assert results[1].index == 1 and results[1].error.codes == ["SR313"]
        with pytest.raises(servicerules.InteractionError):
            list(many([later, EMAIL], as_of=before))
    # created exactly at as_of: it exists
    assert policy.evaluate(EMAIL, as_of=dt.datetime(2026, 3, 2, 9, tzinfo=UTC)).interaction_id == "E-1"
