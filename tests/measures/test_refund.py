"""Refund and return eligibility facts.

The policy below follows the tiers of a real public agent policy (ABCD guidelines: gold unlimited, silver
6 months, bronze 90 days, guest 30 days; a receipt or the original packaging as proof). The customer asks
for the refund at 2026-04-01 12:00 UTC; day counts are worked out by hand next to each case
(2026-01-01 00:00 -> 2026-04-01 00:00 is 31 + 28 + 31 = 90 days, and 12:00 adds 0.5).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import servicerules
from servicerules.measures.catalogue import CATALOGUE, InteractionContext, RulesetResources
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import RefundPolicySpec

UTC = dt.timezone.utc
CREATED = "2026-04-01T11:58:00+00:00"
ASKED = "2026-04-01T12:00:00+00:00"
AS_OF = dt.datetime(2026, 4, 3, 9, 0, tzinfo=UTC)  # two days later: must not change any day count

POLICY: dict[str, Any] = {
    "basis": "purchase",
    "windows": {"gold": None, "silver": "183d", "bronze": "90d", "guest": "30d"},
    "proof": ["receipt", "packaging"],
    "allowed_conditions": ["new", "unopened"],
    "excluded_categories": ["gift_card"],
    "manager_approval_above": 500,
}

GOOD_ORDER: dict[str, Any] = {
    "purchase_date": "2026-03-20",
    "amount": 120,
    "currency": "EUR",
    "receipt": True,
    "packaging": False,
    "condition": "new",
    "category": "shoes",
}


def record(
    order: dict[str, Any] | None = None,
    *,
    tier: str | None = "bronze",
    timezone: str | None = None,
    events: list[dict[str, Any]] | None = None,
    customer_message: bool = True,
) -> dict[str, Any]:
    customer: dict[str, Any] = {"id": "C-1", "name": "Crystal Minh"}
    if tier is not None:
        customer["tier"] = tier
    if timezone is not None:
        customer["timezone"] = timezone
    base: list[dict[str, Any]] = (
        [{"at": ASKED, "type": "message", "author": {"role": "customer"}, "text": "I need to return an item"}]
        if customer_message
        else []
    )
    data: dict[str, Any] = {
        "id": "R-1",
        "channel": "chat",
        "created_at": CREATED,
        "customer": customer,
        "events": base + (events or []),
    }
    if order is not None:
        data["attributes"] = {"order": order}
    return data


def context(
    order: dict[str, Any] | None = None,
    *,
    policy: dict[str, Any] | None = POLICY,
    **kwargs: Any,
) -> InteractionContext:
    refunds = RefundPolicySpec.model_validate(policy) if policy is not None else None
    return InteractionContext(Interaction.parse(record(order, **kwargs)), AS_OF, RulesetResources(refunds=refunds))


def fact(name: str, ctx: InteractionContext) -> Any:
    return CATALOGUE[name].compute(ctx)


def order(**changes: Any) -> dict[str, Any]:
    changed = dict(GOOD_ORDER)
    for key, value in changes.items():
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = value
    return changed


def action(at: str, name: str, role: str = "agent", **attributes: Any) -> dict[str, Any]:
    return {"at": at, "type": "action", "action": name, "author": {"role": role}, "attributes": attributes}


LATER = "2026-04-01T12:10:00+00:00"
LATEST = "2026-04-01T12:20:00+00:00"


# -- days and windows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "purchase", "days", "window", "within"),
    [
        ("bronze", "2026-01-01", 90.5, 90.0, False),
        ("bronze", "2026-01-02", 89.5, 90.0, True),
        ("silver", "2025-10-01", 182.5, 183.0, True),  # Oct..Mar = 31+30+31+31+28+31 = 182 days
        ("silver", "2025-09-30", 183.5, 183.0, False),
        ("guest", "2026-03-03", 29.5, 30.0, True),  # Mar 3 -> Apr 1 = 29 days
        ("guest", "2026-03-02", 30.5, 30.0, False),
        ("gold", "2020-01-01", 2282.5, None, True),  # 366+365+365+365+366+365 = 2192, + 90
    ],
)
def test_windows_by_tier(tier: str, purchase: str, days: float, window: float | None, within: bool) -> None:
    ctx = context(order(purchase_date=purchase), tier=tier)
    assert fact("refund.days_since_purchase", ctx) == pytest.approx(days)
    assert fact("refund.window_days", ctx) == window
    assert fact("refund.within_window", ctx) is within
    assert fact("refund.eligible", ctx) is within  # the rest of GOOD_ORDER is fine


def test_tier_lookup_is_case_insensitive_and_falls_back_to_star() -> None:
    assert fact("refund.window_days", context(GOOD_ORDER, tier="Silver")) == 183.0
    starred = dict(POLICY, windows={"gold": None, "*": "14d"})
    assert fact("refund.window_days", context(GOOD_ORDER, tier="platinum", policy=starred)) == 14.0
    assert fact("refund.window_days", context(GOOD_ORDER, tier=None, policy=starred)) == 14.0


def test_tier_not_covered_is_unknown() -> None:
    ctx = context(GOOD_ORDER, tier="platinum")
    assert fact("refund.window_days", ctx) is None
    assert fact("refund.within_window", ctx) is None
    assert fact("refund.eligible", ctx) is None
    assert fact("refund.within_window", context(GOOD_ORDER, tier=None)) is None


def test_days_are_counted_to_the_request_not_to_as_of() -> None:
    asked = context(order(purchase_date="2026-01-02"))
    assert fact("refund.days_since_purchase", asked) == pytest.approx(89.5)  # as_of would give 91.375
    # No customer message (a phone call): the interaction's creation, 11:58 -> 90 d + 718 min
    call = context(order(purchase_date="2026-01-02"), customer_message=False)
    assert fact("refund.days_since_purchase", call) == pytest.approx(89 + 718 / 1440)


def test_date_only_is_the_start_of_the_day_in_the_customers_zone() -> None:
    # 2026-01-01 00:00 in Berlin (CET, UTC+1) is 2025-12-31 23:00 UTC: one hour more than in UTC
    ctx = context(order(purchase_date="2026-01-01"), timezone="Europe/Berlin")
    assert fact("refund.days_since_purchase", ctx) == pytest.approx(90.5 + 1 / 24)


@pytest.mark.parametrize(
    ("purchase", "timezone", "days"),
    [
        ("2026-03-31T12:00:00+02:00", None, 1 + 2 / 24),  # 10:00 UTC on Mar 31
        ("2026-03-31T12:00:00Z", None, 1.0),
        ("2026-03-31T12:00:00", "America/New_York", 20 / 24),  # EDT (UTC-4) since Mar 8: 16:00 UTC
        ("2026-03-31T12:00:00", None, 1.0),  # no zone: UTC
        ("2026-03-31T12:00:00+02:00", "Mars/Olympus", 1 + 2 / 24),  # an offset needs no zone
        ("2026-04-02", None, -0.5),  # bought after asking: negative, inside any window
    ],
)
def test_date_times(purchase: str, timezone: str | None, days: float) -> None:
    ctx = context(order(purchase_date=purchase), timezone=timezone)
    assert fact("refund.days_since_purchase", ctx) == pytest.approx(days)


@pytest.mark.parametrize("value", ["last week", "", 20260101, True, None])
def test_unreadable_dates_are_unknown(value: Any) -> None:
    ctx = context(order(purchase_date=value))
    assert fact("refund.days_since_purchase", ctx) is None
    assert fact("refund.within_window", ctx) is None
    assert fact("refund.eligible", ctx) is None


def test_invalid_customer_zone_leaves_a_date_unknown() -> None:
    ctx = context(order(purchase_date="2026-01-01"), timezone="Mars/Olympus")
    assert fact("refund.days_since_purchase", ctx) is None


def test_delivery_basis() -> None:
    by_delivery = dict(POLICY, basis="delivery")
    ctx = context(order(purchase_date="2025-06-01", delivered_at="2026-03-20"), policy=by_delivery)
    assert fact("refund.days_since_delivery", ctx) == pytest.approx(12.5)  # Mar 20 -> Apr 1 = 12 days
    assert fact("refund.days_since_purchase", ctx) == pytest.approx(304.5)  # Jun 1 2025 -> Apr 1 2026
    assert fact("refund.within_window", ctx) is True
    assert fact("refund.within_window", context(order(delivered_at=None), policy=by_delivery)) is None
    assert fact("refund.within_window", context(GOOD_ORDER)) is True  # purchase basis ignores delivery


# -- proof, condition, category, amount ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("receipt", "packaging", "proof", "expected"),
    [
        (True, False, ["receipt", "packaging"], True),
        (False, True, ["receipt", "packaging"], True),  # original packaging is an alternative
        (False, False, ["receipt", "packaging"], False),
        (False, None, ["receipt", "packaging"], None),  # packaging unknown
        (None, True, ["receipt", "packaging"], True),  # one known proof is enough
        (False, True, ["receipt"], False),  # receipt-only policy
        ("yes", None, ["receipt"], None),  # not a JSON boolean
        (None, None, [], True),  # no proof required
    ],
)
def test_has_proof(receipt: Any, packaging: Any, proof: list[str], expected: bool | None) -> None:
    ctx = context(order(receipt=receipt, packaging=packaging), policy=dict(POLICY, proof=proof))
    assert fact("refund.has_proof", ctx) is expected


def test_no_proof_makes_the_order_ineligible() -> None:
    assert fact("refund.eligible", context(order(receipt=False, packaging=False))) is False
    assert fact("refund.eligible", context(order(receipt=False, packaging=True))) is True


@pytest.mark.parametrize(("condition", "expected"), [("new", True), ("Unopened", True), ("damaged", False), (None, None)])
def test_condition_ok(condition: str | None, expected: bool | None) -> None:
    assert fact("refund.condition_ok", context(order(condition=condition))) is expected


def test_any_condition_when_the_policy_lists_none() -> None:
    ctx = context(order(condition=None), policy=dict(POLICY, allowed_conditions=None))
    assert fact("refund.condition_ok", ctx) is True


@pytest.mark.parametrize(("category", "expected"), [("Gift_Card", True), ("shoes", False), (None, None)])
def test_category_excluded(category: str | None, expected: bool | None) -> None:
    assert fact("refund.category_excluded", context(order(category=category))) is expected


def test_nothing_excluded_by_a_policy_without_exclusions() -> None:
    ctx = context(order(category=None), policy=dict(POLICY, excluded_categories=[]))
    assert fact("refund.category_excluded", ctx) is False


def test_excluded_category_is_ineligible_even_without_a_date() -> None:
    ctx = context(order(category="gift_card", purchase_date=None))
    assert fact("refund.within_window", ctx) is None
    assert fact("refund.eligible", ctx) is False


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(750, True), (500, False), (499.99, False), ("612.50", True), ("a lot", None), (None, None),
     (10**400, None), (float("nan"), None), ("1e400", None)],  # an int beyond a float raised OverflowError
)
def test_needs_manager_approval(amount: Any, expected: bool | None) -> None:
    assert fact("refund.needs_manager_approval", context(order(amount=amount))) is expected


def test_approval_uses_the_refunded_amount_of_a_partial_refund() -> None:
    partial = context(order(amount=750), events=[action(LATER, "identity_verified"), action(LATEST, "refund_issued", amount=100)])
    assert fact("refund.needs_manager_approval", partial) is False


def test_no_approval_threshold() -> None:
    ctx = context(order(amount=10_000), policy=dict(POLICY, manager_approval_above=None))
    assert fact("refund.needs_manager_approval", ctx) is False


def test_without_a_refunds_policy() -> None:
    ctx = context(GOOD_ORDER, policy=None, events=[action(LATER, "refund_issued")])
    for name in ("refund.window_days", "refund.within_window", "refund.has_proof", "refund.condition_ok",
                 "refund.category_excluded", "refund.needs_manager_approval", "refund.eligible",
                 "refund.issued_while_ineligible", "refund.issued_without_approval"):
        assert fact(name, ctx) is None, name
    assert fact("refund.days_since_purchase", ctx) == pytest.approx(12.5)  # Mar 20 -> Apr 1
    assert fact("refund.issued", ctx) is True


def test_without_order_data() -> None:
    ctx = context(None, tier="silver")
    assert fact("refund.eligible", ctx) is None
    assert fact("refund.days_since_purchase", ctx) is None
    assert fact("refund.needs_manager_approval", ctx) is None


# -- handling ------------------------------------------------------------------------------------------------


def test_refund_issued_while_ineligible() -> None:
    ctx = context(order(purchase_date="2026-01-01"), events=[action(LATER, "refund_issued")])  # bronze, 90.5 days
    assert fact("refund.issued", ctx) is True
    assert fact("refund.eligible", ctx) is False
    assert fact("refund.issued_while_ineligible", ctx) is True


def test_refund_issued_while_eligible() -> None:
    ctx = context(order(purchase_date="2026-01-02"), events=[action(LATER, "refund_issued")])  # 89.5 days
    assert fact("refund.issued_while_ineligible", ctx) is False


def test_refund_issued_with_unknown_eligibility() -> None:
    ctx = context(order(condition=None), events=[action(LATER, "refund_issued")])
    assert fact("refund.issued_while_ineligible", ctx) is None


def test_no_refund_is_never_issued_while_ineligible() -> None:
    ctx = context(order(purchase_date="2026-01-01"))
    assert fact("refund.issued", ctx) is False
    assert fact("refund.issued_while_ineligible", ctx) is False


def test_refund_denied_while_eligible() -> None:
    ctx = context(order(purchase_date="2026-01-02"), events=[action(LATER, "refund_denied")])
    assert fact("refund.denied", ctx) is True
    assert fact("refund.denied_while_eligible", ctx) is True
    fair = context(order(purchase_date="2026-01-01"), events=[action(LATER, "refund_denied")])
    assert fact("refund.denied_while_eligible", fair) is False


@pytest.mark.parametrize(
    ("events", "approved"),
    [
        ([action(LATER, "manager_approved", role="manager"), action(LATEST, "refund_issued")], True),
        ([action(LATER, "manager_notified"), action(LATEST, "refund_issued")], True),
        ([{"at": LATER, "type": "note", "public": False, "author": {"role": "manager"}, "text": "OK to refund"},
          action(LATEST, "refund_issued")], True),
        ([action(LATER, "refund_issued", role="manager")], True),  # the manager did it
        ([action(LATER, "refund_issued"), action(LATEST, "manager_approved")], False),  # too late
        ([action(LATER, "refund_issued")], False),
        ([action(LATER, "manager_notified")], True),  # no refund: anywhere
    ],
)
def test_manager_approved(events: list[dict[str, Any]], approved: bool) -> None:
    assert fact("refund.manager_approved", context(GOOD_ORDER, events=events)) is approved


def test_refund_above_the_limit_without_approval() -> None:
    ctx = context(order(amount=750), events=[action(LATER, "refund_issued")])
    assert fact("refund.needs_manager_approval", ctx) is True
    assert fact("refund.issued_without_approval", ctx) is True
    approved = context(order(amount=750), events=[action(LATER, "manager_approved"), action(LATEST, "refund_issued")])
    assert fact("refund.issued_without_approval", approved) is False
    small = context(order(amount=200), events=[action(LATER, "refund_issued")])
    assert fact("refund.issued_without_approval", small) is False
    unknown = context(order(amount=None), events=[action(LATER, "refund_issued")])
    assert fact("refund.issued_without_approval", unknown) is None


def test_facts_are_registered_and_documented() -> None:
    names = [n for n, s in CATALOGUE.items() if s.family == "refund"]
    assert sorted(names) == sorted([
        "refund.days_since_purchase", "refund.days_since_delivery", "refund.window_days", "refund.within_window",
        "refund.has_proof", "refund.condition_ok", "refund.category_excluded", "refund.needs_manager_approval",
        "refund.eligible", "refund.issued", "refund.denied", "refund.manager_approved",
        "refund.issued_while_ineligible", "refund.denied_while_eligible", "refund.issued_without_approval",
    ])
    for name in names:
        spec = CATALOGUE[name]
        assert spec.scope == "interaction" and spec.description and spec.example
        assert "|" not in spec.description


# -- through the engine ----------------------------------------------------------------------------------------

RULESET = """
ruleset: returns
version: "1.0"
refunds:
  basis: purchase
  windows: {gold: null, silver: 183d, bronze: 90d, guest: 30d}
  proof: [receipt, packaging]
  allowed_conditions: [new, unopened]
  excluded_categories: [gift_card]
  manager_approval_above: 500
actions:
  reverse-refund:
    title: Review the refund with finance
    owner: team_lead
  offer-refund:
    title: Contact the customer and offer the refund
    owner: agent
    due_in: 1d
rules:
  - id: refund.ineligible
    title: No refunds outside the return policy
    severity: major
    violated_if: refund.issued_while_ineligible
    message: "Refunded {refund.days_since_purchase} days after purchase; the {customer.tier} window is {refund.window_days} days."
    actions: [reverse-refund]
  - id: refund.wrongly-denied
    title: Eligible returns are not denied
    severity: major
    violated_if: refund.denied_while_eligible
    actions: [offer-refund]
  - id: refund.approval
    title: Large refunds need a manager
    severity: critical
    violated_if: refund.issued_without_approval
  - id: refund.abcd-alternatives
    title: Within the window, or with a receipt or the original packaging
    severity: info
    mode: advisory
    when: refund.denied
    violated_if: refund.within_window or refund.has_proof
"""


def _ids(report: servicerules.Report) -> list[str]:
    return [v.rule_id for v in report.violations]


def test_end_to_end(backend: str) -> None:
    policy = servicerules.load(RULESET, backend=backend)
    late = policy.evaluate(record(order(purchase_date="2026-01-01"), events=[action(LATER, "refund_issued")]), as_of=AS_OF)
    assert _ids(late) == ["refund.ineligible"]
    assert late.violations[0].message == "Refunded 90.5 days after purchase; the bronze window is 90 days."
    assert [a.id for a in late.violations[0].actions] == ["reverse-refund"]

    on_time = policy.evaluate(record(order(purchase_date="2026-01-02"), events=[action(LATER, "refund_issued")]))
    assert _ids(on_time) == []

    denied = policy.evaluate(record(order(purchase_date="2026-01-02"), events=[action(LATER, "refund_denied")]))
    assert _ids(denied) == ["refund.wrongly-denied", "refund.abcd-alternatives"]

    big = policy.evaluate(record(order(amount=900), tier="gold", events=[action(LATER, "refund_issued")]))
    assert _ids(big) == ["refund.approval"]
    approved = policy.evaluate(
        record(order(amount=900), tier="gold",
               events=[action(LATER, "manager_approved", role="manager"), action(LATEST, "refund_issued")])
    )
    assert _ids(approved) == []

    # Silver, 8 months ago, with a receipt: out of the window, so denying is right under this policy,
    # but a receipt alone would have sufficed under the ABCD guidelines' reading (advisory rule).
    silver = policy.evaluate(
        record(order(purchase_date="2025-08-01"), tier="silver", events=[action(LATER, "refund_denied")])
    )
    assert _ids(silver) == ["refund.abcd-alternatives"]


def test_end_to_end_unknown_eligibility_is_not_applicable(backend: str) -> None:
    policy = servicerules.load(RULESET, backend=backend)
    report = policy.evaluate(record(order(purchase_date=None), tier="bronze", events=[action(LATER, "refund_issued")]))
    outcomes = {o.rule_id: o.status for o in report.outcomes}
    assert outcomes["refund.ineligible"] == "not_applicable"
    assert report.violations == []
