"""Procedure facts: required order of actions, account pulled up first, escalation to a manager.

Times are seconds after T0; every expected value is worked out by hand next to the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import servicerules
from servicerules.measures.catalogue import CATALOGUE, FactSpec, InteractionContext, RulesetResources
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import ProcedureSpec

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def action(seconds: float, name: str, role: str | None = "agent", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"at": at(seconds), "type": "action", "action": name, **extra}
    if role is not None:
        event["author"] = {"role": role}
    return event


def message(seconds: float, role: str, text: str = "…", **extra: Any) -> dict[str, Any]:
    return {"at": at(seconds), "type": "message", "author": {"role": role}, "text": text, **extra}


def record(*events: dict[str, Any], priority: str = "normal") -> dict[str, Any]:
    return {"id": "T-1", "channel": "chat", "created_at": at(0), "priority": priority, "events": list(events)}


def context(*events: dict[str, Any], procedures: tuple[ProcedureSpec, ...] = (), as_of: float | None = None,
            priority: str = "normal") -> InteractionContext:
    """A context as of ``as_of`` seconds after T0, else as of the last event."""
    interaction = Interaction.parse(record(*events, priority=priority))
    if as_of is not None:
        moment = T0 + dt.timedelta(seconds=as_of)
    else:
        moment = interaction.events[-1].at if interaction.events else T0
    return InteractionContext(interaction, moment, RulesetResources(procedures=procedures))


def fact(name: str, ctx: InteractionContext) -> Any:
    return CATALOGUE[name].compute(ctx)


def event_fact(name: str, ctx: InteractionContext, index: int) -> Any:
    spec = CATALOGUE[name]
    assert spec.scope == "event"
    return spec.compute(ctx, index)


@pytest.fixture
def no_text_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escalation facts without a text detector, whatever the catalogue holds today."""
    monkeypatch.delitem(CATALOGUE, "escalation.trigger_index", raising=False)


# -- required order (default procedures) ------------------------------------------------------------------


def test_refund_before_identity_verification_is_flagged() -> None:
    ctx = context(message(0, "customer"), action(60, "refund_issued"), action(120, "identity_verified"))
    assert event_fact("event.missing_prerequisite", ctx, 1) == "identity_verified"
    assert event_fact("event.missing_prerequisite", ctx, 2) is None  # identity_verified has no requirement
    assert event_fact("event.missing_prerequisite", ctx, 0) is None  # not an action
    assert fact("procedure.out_of_order_count", ctx) == 1
    assert fact("procedure.first_out_of_order_action", ctx) == "refund_issued"


def test_refund_after_identity_verification_is_fine() -> None:
    ctx = context(message(0, "customer"), action(60, "identity_verified"), action(120, "refund_issued"))
    assert event_fact("event.missing_prerequisite", ctx, 2) is None
    assert fact("procedure.out_of_order_count", ctx) == 0
    assert fact("procedure.first_out_of_order_action", ctx) is None


@pytest.mark.parametrize("name", ["refund_issued", "account_changed", "account_disclosed", "address_changed"])
def test_default_procedures_require_identity_verification(name: str) -> None:
    ctx = context(action(0, name))
    assert event_fact("event.missing_prerequisite", ctx, 0) == "identity_verified"


def test_unconstrained_actions_have_no_prerequisite() -> None:
    ctx = context(action(0, "coupon_issued"), action(10, "survey_sent"))
    assert event_fact("event.missing_prerequisite", ctx, 0) is None
    assert event_fact("event.prerequisite_too_old", ctx, 0) is None
    assert fact("procedure.out_of_order_count", ctx) == 0


def test_count_and_first_of_several_out_of_order_actions() -> None:
    ctx = context(action(0, "address_changed"), action(10, "refund_issued"), action(20, "identity_verified"),
                  action(30, "account_changed"))
    assert fact("procedure.out_of_order_count", ctx) == 2
    assert fact("procedure.first_out_of_order_action", ctx) == "address_changed"


# -- procedures declared by the ruleset ------------------------------------------------------------------


def test_declared_procedures_replace_the_defaults() -> None:
    declared = (ProcedureSpec(action="refund_issued", requires=["account_pulled_up", "identity_verified"]),)
    ctx = context(action(0, "identity_verified"), action(10, "refund_issued"), action(20, "account_changed"),
                  procedures=declared)
    assert event_fact("event.missing_prerequisite", ctx, 1) == "account_pulled_up"
    assert event_fact("event.missing_prerequisite", ctx, 2) is None  # not declared any more
    ok = context(action(0, "account_pulled_up"), action(5, "identity_verified"), action(10, "refund_issued"),
                 procedures=declared)
    assert event_fact("event.missing_prerequisite", ok, 2) is None


def test_first_missing_requirement_in_declared_order() -> None:
    declared = (ProcedureSpec(action="credit_issued", requires=["account_pulled_up", "identity_verified"]),)
    ctx = context(action(0, "credit_issued"), procedures=declared)
    assert event_fact("event.missing_prerequisite", ctx, 0) == "account_pulled_up"


def test_several_procedures_for_one_action_add_up() -> None:
    declared = (
        ProcedureSpec(action="refund_issued", requires=["identity_verified"]),
        ProcedureSpec(action="refund_issued", requires=["manager_approved"]),
    )
    ctx = context(action(0, "identity_verified"), action(10, "refund_issued"), procedures=declared)
    assert event_fact("event.missing_prerequisite", ctx, 1) == "manager_approved"


# -- within --------------------------------------------------------------------------------------------------

WITHIN_30M = (ProcedureSpec.model_validate({"action": "refund_issued", "requires": ["identity_verified"], "within": "30m"}),)


@pytest.mark.parametrize(
    ("refund_at", "expected"),
    [(1200, False), (1800, False), (1801, True), (2400, True)],  # 20 min, exactly 30 min, 30 min 1 s, 40 min
)
def test_prerequisite_too_old(refund_at: int, expected: bool) -> None:
    ctx = context(action(0, "identity_verified"), action(refund_at, "refund_issued"), procedures=WITHIN_30M)
    assert event_fact("event.prerequisite_too_old", ctx, 1) is expected
    assert event_fact("event.missing_prerequisite", ctx, 1) is None


def test_within_counts_from_the_latest_verification() -> None:
    # verified at 0 and again at 50 min; refund at 60 min is 10 min after the latest
    ctx = context(action(0, "identity_verified"), action(3000, "identity_verified"), action(3600, "refund_issued"),
                  procedures=WITHIN_30M)
    assert event_fact("event.prerequisite_too_old", ctx, 2) is False


def test_within_counts_real_time_across_a_clock_change() -> None:
    # 01:50 CET to 03:10 CEST is 20 minutes, within 30; by the wall clocks of the shared ZoneInfo that
    # default_timezone gives naive times, it was 80 minutes, too old
    data = {"id": "T-1", "channel": "chat", "created_at": "2026-03-29T01:50:00", "events": [
        {"at": "2026-03-29T01:50:00", "type": "action", "action": "identity_verified", "author": {"role": "agent"}},
        {"at": "2026-03-29T03:10:00", "type": "action", "action": "refund_issued", "author": {"role": "agent"}}]}
    interaction = Interaction.parse(data, default_timezone="Europe/Berlin")
    ctx = InteractionContext(interaction, interaction.events[-1].at, RulesetResources(procedures=WITHIN_30M))
    assert event_fact("event.prerequisite_too_old", ctx, 1) is False


def test_too_old_is_unknown_when_missing_or_without_limit() -> None:
    missing = context(action(0, "refund_issued"), procedures=WITHIN_30M)
    assert event_fact("event.prerequisite_too_old", missing, 0) is None
    no_limit = context(action(0, "identity_verified"), action(99999, "refund_issued"))
    assert event_fact("event.prerequisite_too_old", no_limit, 1) is None


# -- account pulled up first -------------------------------------------------------------------------------


def test_account_pulled_up_after_greeting_before_other_actions() -> None:
    # As in real agent chats: greet, ask for the name, pull up the account, then act.
    ctx = context(message(0, "agent", "Hi! How can I help?"), message(30, "customer"),
                  action(60, "account_pulled_up"), action(90, "identity_verified"), action(120, "refund_issued"))
    assert fact("account.pulled_up_first", ctx) is True
    assert fact("account.pulled_up_before_first_reply", ctx) is False


def test_the_earlier_of_both_lookup_actions_counts() -> None:
    ctx = context(message(0, "customer"), action(10, "account_lookup"), message(30, "agent", "Hello Jana"),
                  action(40, "account_pulled_up"))
    assert fact("account.pulled_up_before_first_reply", ctx) is True


def test_account_lookup_before_the_first_reply() -> None:
    ctx = context(message(0, "customer"), action(10, "account_lookup"), message(30, "agent", "Hello Jana"))
    assert fact("account.pulled_up_first", ctx) is True
    assert fact("account.pulled_up_before_first_reply", ctx) is True


def test_other_action_before_pulling_up_the_account() -> None:
    ctx = context(message(0, "customer"), action(10, "identity_verified"), action(20, "account_pulled_up"))
    assert fact("account.pulled_up_first", ctx) is False


def test_automated_and_customer_actions_do_not_count_as_the_agents_first() -> None:
    ctx = context(action(0, "survey_sent", role="system", automated="trigger"),
                  action(5, "callback_scheduled", role="customer"),
                  action(10, "account_pulled_up", role="system"))
    assert fact("account.pulled_up_first", ctx) is True


def test_never_pulled_up_is_unknown() -> None:
    ctx = context(message(0, "customer"), action(10, "refund_issued"))
    assert fact("account.pulled_up_first", ctx) is None
    assert fact("account.pulled_up_before_first_reply", ctx) is None


# -- escalation to a manager -----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_text_trigger")
def test_escalation_reaches_manager_in_10_minutes() -> None:
    ctx = context(message(0, "customer"), action(60, "escalated"), action(660, "manager_notified"))
    assert fact("escalation.time_to_manager", ctx) == 600.0
    assert fact("escalation.reached_manager", ctx) is True
    assert fact("escalation.waiting_for_manager", ctx) is None


@pytest.mark.usefixtures("no_text_trigger")
def test_a_managers_message_is_involvement() -> None:
    ctx = context(message(0, "customer"), action(60, "escalated"), message(1260, "manager", "I'm the shift lead"))
    assert fact("escalation.time_to_manager", ctx) == 1200.0


@pytest.mark.usefixtures("no_text_trigger")
def test_escalation_without_a_manager_yet() -> None:
    ctx = context(message(0, "customer"), action(60, "escalated"), as_of=3660)
    assert fact("escalation.time_to_manager", ctx) is None
    assert fact("escalation.reached_manager", ctx) is False
    assert fact("escalation.waiting_for_manager", ctx) == 3600.0


@pytest.mark.usefixtures("no_text_trigger")
def test_manager_involvement_before_the_trigger_does_not_count() -> None:
    ctx = context(message(0, "manager", "Welcome"), action(60, "escalated"), as_of=120)
    assert fact("escalation.reached_manager", ctx) is False
    assert fact("escalation.waiting_for_manager", ctx) == 60.0


@pytest.mark.usefixtures("no_text_trigger")
def test_no_trigger_no_escalation_facts() -> None:
    ctx = context(message(0, "customer"), action(60, "manager_notified"))
    assert fact("escalation.time_to_manager", ctx) is None
    assert fact("escalation.reached_manager", ctx) is None
    assert fact("escalation.waiting_for_manager", ctx) is None


def test_text_trigger_starts_the_escalation_clock() -> None:
    ctx = context(message(0, "customer", "Where is my parcel?"), message(100, "customer", "I will call my lawyer"),
                  message(150, "agent", "the lawyer…"), action(400, "escalated"), action(700, "manager_notified"))
    assert fact("escalation.time_to_manager", ctx) == 600.0  # from the customer's legal threat at 100 s


def test_text_trigger_and_a_manager_message() -> None:
    ctx = context(message(0, "customer", "Hello"), message(50, "customer", "still nothing"),
                  message(200, "customer", "my lawyer will hear of this"), message(260, "customer", "hello?"),
                  message(1100, "manager", "I am sorry"))
    assert fact("escalation.time_to_manager", ctx) == 900.0  # 200 s -> 1100 s


# -- urgent interactions -------------------------------------------------------------------------------------


def test_urgent_time_to_manager() -> None:
    ctx = context(message(0, "customer"), message(300, "agent"), action(1200, "manager_notified"), priority="urgent")
    assert fact("urgent.time_to_manager", ctx) == 1200.0
    assert fact("urgent.waiting_for_manager", ctx) is None


def test_urgent_without_a_manager_yet() -> None:
    ctx = context(message(0, "customer"), priority="urgent", as_of=5400)
    assert fact("urgent.time_to_manager", ctx) is None
    assert fact("urgent.waiting_for_manager", ctx) == 5400.0


def test_not_urgent() -> None:
    ctx = context(message(0, "customer"), action(60, "manager_notified"), priority="high")
    assert fact("urgent.time_to_manager", ctx) is None
    assert fact("urgent.waiting_for_manager", ctx) is None


# -- through the engine ----------------------------------------------------------------------------------------

RULESET = """
ruleset: procedures
version: "1.0"
procedures:
  - action: refund_issued
    requires: [identity_verified]
    within: 30m
  - action: account_changed
    requires: [account_pulled_up, identity_verified]
actions:
  review-case:
    title: Review the case with the agent
    owner: team_lead
rules:
  - id: proc.verify-first
    title: Verify the customer's identity before money or account actions
    severity: critical
    scope: event
    violated_if: event.missing_prerequisite != null
    message: "{event.action} came before {event.missing_prerequisite}."
    actions: [review-case]
  - id: proc.verify-fresh
    title: A refund follows the verification within 30 minutes
    severity: minor
    scope: event
    violated_if: event.prerequisite_too_old
  - id: esc.manager-1h
    title: Escalations reach a manager within an hour
    severity: major
    violated_if: (escalation.time_to_manager ?? escalation.waiting_for_manager) > 1h
"""


def _violations(report: servicerules.Report) -> list[tuple[str, int | None]]:
    return [(v.rule_id, v.evidence.event_index) for v in report.violations]


def test_end_to_end(backend: str, no_text_trigger: None) -> None:
    policy = servicerules.load(RULESET, backend=backend)
    early = policy.evaluate(record(message(0, "customer"), action(60, "refund_issued"), action(90, "identity_verified")))
    assert _violations(early) == [("proc.verify-first", 1)]
    assert early.violations[0].message == "refund_issued came before identity_verified."
    assert [a.id for a in early.violations[0].actions] == ["review-case"]

    fine = policy.evaluate(record(message(0, "customer"), action(60, "identity_verified"), action(600, "refund_issued")))
    assert _violations(fine) == []

    stale = policy.evaluate(record(action(0, "identity_verified"), action(2400, "refund_issued")))
    assert _violations(stale) == [("proc.verify-fresh", 1)]

    account = policy.evaluate(record(action(0, "identity_verified"), action(10, "account_changed")))
    assert _violations(account) == [("proc.verify-first", 1)]  # account_pulled_up missing

    slow = policy.evaluate(record(message(0, "customer"), action(60, "escalated"), action(4000, "manager_notified")))
    assert _violations(slow) == [("esc.manager-1h", 1)]  # the evidence is the escalation the manager came late to
    waiting = policy.evaluate(record(message(0, "customer"), action(60, "escalated")),
                              as_of=T0 + dt.timedelta(hours=2))
    assert _violations(waiting) == [("esc.manager-1h", 1)]


def test_end_to_end_default_procedures(backend: str) -> None:
    policy = servicerules.load(
        """
ruleset: defaults
version: "1"
rules:
  - id: verify
    title: Verify first
    severity: critical
    violated_if: procedure.out_of_order_count > 0
    message: "{procedure.first_out_of_order_action} before verification"
""",
        backend=backend,
    )
    report = policy.evaluate(record(action(0, "address_changed"), action(10, "identity_verified")))
    assert [v.message for v in report.violations] == ["address_changed before verification"]
    assert policy.evaluate(record(action(0, "identity_verified"), action(10, "address_changed"))).violations == []
