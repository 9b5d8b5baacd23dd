"""Refund and return eligibility, and whether a refund was handled accordingly.

The facts combine three sources:

* the order, ``interaction.attributes.order``: ``purchase_date``, ``delivered_at``, ``amount``,
  ``currency``, ``receipt`` (bool), ``packaging`` (bool: the original packaging was kept), ``condition``,
  ``category``;
* the customer's ``tier``;
* the ruleset's ``refunds:`` policy (:class:`~servicerules.model.ruleset.RefundPolicySpec`)::

      refunds:
        basis: purchase               # or delivery
        windows: {gold: null, silver: 183d, bronze: 90d, guest: 30d}   # null = unlimited
        proof: [receipt, packaging]   # any one of them
        allowed_conditions: [new, unopened]
        excluded_categories: [gift_card]
        manager_approval_above: 500

**When the window is measured.** Days are counted up to the customer's *refund request*, taken as the
first customer message (the interaction's ``created_at`` when there is none, e.g. a call). Not ``as_of``:
eligibility is decided by when the customer asked, so an agent who takes three days to answer does not
make the customer ineligible, and evaluating the same record again next month (a batch re-run, a policy
diff) gives the same answer. A date after the request (an order placed later in a long thread) gives a
negative number of days, which is within any window.

**Dates.** Order dates may be ISO dates or date-times. A date without a time is the start of that day, and
a date-time without an offset is a wall-clock time, both in the customer's ``timezone`` when given, else in
UTC; a customer ``timezone`` that is not an IANA zone name leaves such values unknown rather than guessed.
``2026-01-01`` bought, asked on ``2026-01-31T15:00Z`` (UTC customer) is 30.625 days: outside a 30-day
window, so a policy meaning "through the 30th day" writes ``31d``.

**Tiers.** The customer's tier is looked up exactly, then case-insensitively, then under ``*``; a customer
without a tier gets the ``*`` window. A tier the policy does not cover (and no ``*``) leaves the window
unknown. Conditions and categories compare case-insensitively. ``receipt`` and ``packaging`` must be JSON
booleans, ``amount`` a number (or a numeric string); anything else is unknown.

**Eligibility** is the conjunction of: within the window, proof present, condition allowed, category not
excluded, in three-valued logic: a single known failure makes ``refund.eligible`` false even when other
data is missing; otherwise missing data makes it null. Manager approval is not part of eligibility; it is
a separate requirement (``refund.needs_manager_approval``). The policy's alternatives are those of its
schema: proof is any one of ``proof``, and every other condition must hold as well. (Some policies, such
as the public ABCD agent guidelines, accept the window *or* a receipt *or* the original packaging; write
that as ``refund.within_window or refund.has_proof``.)

The refund amount compared with ``manager_approval_above`` is the ``amount`` attribute of the first
``refund_issued`` action when it has one (a partial refund), else the order's ``amount``; currencies are
not converted.

Every fact that needs the policy is null when the ruleset has no ``refunds:`` section.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicerules.measures.catalogue import EventPointer, InteractionContext, fact, seconds_between
from servicerules.measures.conversation import first_customer_index
from servicerules.measures.procedure import first_action_index, is_manager_involvement
from servicerules.model.ruleset import RefundPolicySpec

__all__ = ["order_moment", "refund_policy", "refund_request_time", "tier_window"]

FAMILY = "refund"

DAY = 86400.0
UNLIMITED = "unlimited"


# -- three-valued logic -----------------------------------------------------------------------------------


def _and(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


# -- inputs -------------------------------------------------------------------------------------------------


def refund_policy(ctx: InteractionContext) -> RefundPolicySpec | None:
    policy = ctx.resources.refunds
    return policy if isinstance(policy, RefundPolicySpec) else None


def _order(ctx: InteractionContext) -> Mapping[str, Any] | None:
    order = ctx.interaction.attributes.get("order")
    return order if isinstance(order, dict) else None


def _order_value(ctx: InteractionContext, key: str) -> Any:
    order = _order(ctx)
    return order.get(key) if order is not None else None


def _customer_zone(ctx: InteractionContext) -> dt.tzinfo | None:
    """The zone for dates without an offset: the customer's, UTC when none is given, None when invalid."""
    customer = ctx.interaction.customer
    name = customer.timezone if customer is not None else None
    if not name:
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def order_moment(value: Any, zone: dt.tzinfo | None) -> dt.datetime | None:
    """An order date as an aware instant: see the module docs for dates and times without an offset."""
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read Z
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None and moment.tzinfo.utcoffset(moment) is not None:
        return moment
    return moment.replace(tzinfo=zone) if zone is not None else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range (10**400)
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _label(value: Any) -> str | None:
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None


def refund_request_time(ctx: InteractionContext) -> dt.datetime:
    """When the customer asked: the first customer message, else the interaction's creation."""
    index = first_customer_index(ctx)
    return ctx.events[index].at if index is not None else ctx.interaction.created_at


def _days_since(ctx: InteractionContext, key: str) -> float | None:
    moment = order_moment(_order_value(ctx, key), _customer_zone(ctx))
    if moment is None:
        return None
    return seconds_between(moment, refund_request_time(ctx)) / DAY


def tier_window(policy: RefundPolicySpec, tier: str | None) -> float | str | None:
    """The window in seconds for ``tier``, :data:`UNLIMITED`, or None when the policy does not cover it."""
    windows = policy.windows
    key: str | None = None
    if tier is not None:
        if tier in windows:
            key = tier
        else:
            folded = tier.strip().casefold()
            key = next((k for k in windows if k.strip().casefold() == folded), None)
    if key is None and "*" in windows:
        key = "*"
    if key is None:
        return None
    seconds = windows[key]
    return UNLIMITED if seconds is None else float(seconds)


def _window(ctx: InteractionContext) -> float | str | None:
    policy = refund_policy(ctx)
    if policy is None:
        return None
    customer = ctx.interaction.customer
    return tier_window(policy, customer.tier if customer is not None else None)


def _refund_amount(ctx: InteractionContext) -> float | None:
    issued = first_action_index(ctx, "refund_issued")
    if issued is not None:
        partial = _number(ctx.events[issued].attributes.get("amount"))
        if partial is not None:
            return partial
    return _number(_order_value(ctx, "amount"))


# -- eligibility --------------------------------------------------------------------------------------------


@fact(
    "refund.days_since_purchase",
    "number",
    "days (fractional) from the order's purchase_date to the refund request (the customer's first message, "
    "else the interaction's creation); a date without time is the start of that day in the customer's time "
    "zone, else UTC. Null without a readable purchase_date",
    "41.5",
    family=FAMILY,
)
def _days_since_purchase(ctx: InteractionContext) -> float | None:
    return _days_since(ctx, "purchase_date")


@fact(
    "refund.days_since_delivery",
    "number",
    "days (fractional) from the order's delivered_at to the refund request (the customer's first message, "
    "else the interaction's creation); null without a readable delivered_at",
    "12.25",
    family=FAMILY,
)
def _days_since_delivery(ctx: InteractionContext) -> float | None:
    return _days_since(ctx, "delivered_at")


@fact(
    "refund.window_days",
    "number",
    "the return window in days for the customer's tier under the ruleset's refunds policy (tier, else '*'); "
    "null for an unlimited window, a tier the policy does not cover, or no refunds policy",
    "90",
    family=FAMILY,
)
def _window_days(ctx: InteractionContext) -> float | None:
    window = _window(ctx)
    return window / DAY if isinstance(window, float) else None


@fact(
    "refund.within_window",
    "bool",
    "the refund request came within the tier's window, counted from purchase or delivery as the policy's "
    "basis says; true for an unlimited window; null when the date, the tier's window or the policy is unknown",
    "true",
    family=FAMILY,
)
def _within_window(ctx: InteractionContext) -> bool | None:
    policy = refund_policy(ctx)
    window = _window(ctx)
    if policy is None or window is None:
        return None
    if window == UNLIMITED:
        return True
    days = _days_since(ctx, "purchase_date" if policy.basis == "purchase" else "delivered_at")
    if days is None or not isinstance(window, float):
        return None
    return days * DAY <= window


@fact(
    "refund.has_proof",
    "bool",
    "the order has one of the proofs the policy accepts (receipt, or original packaging kept), any one "
    "suffices; null when none is known to be present and some are unknown, or without a refunds policy",
    "true",
    family=FAMILY,
)
def _has_proof(ctx: InteractionContext) -> bool | None:
    policy = refund_policy(ctx)
    if policy is None:
        return None
    if not policy.proof:
        return True
    present = [_flag(_order_value(ctx, kind)) for kind in policy.proof]
    if any(p is True for p in present):
        return True
    return False if all(p is False for p in present) else None


@fact(
    "refund.condition_ok",
    "bool",
    "the item's condition is one the policy allows (case-insensitive; true when the policy allows any); "
    "null when the condition is unknown or there is no refunds policy",
    "true",
    family=FAMILY,
)
def _condition_ok(ctx: InteractionContext) -> bool | None:
    policy = refund_policy(ctx)
    if policy is None:
        return None
    if policy.allowed_conditions is None:
        return True
    condition = _label(_order_value(ctx, "condition"))
    if condition is None:
        return None
    return condition in {c.strip().casefold() for c in policy.allowed_conditions}


@fact(
    "refund.category_excluded",
    "bool",
    "the item's category is one the policy never refunds (case-insensitive; false when nothing is excluded); "
    "null when the category is unknown or there is no refunds policy",
    "false",
    family=FAMILY,
)
def _category_excluded(ctx: InteractionContext) -> bool | None:
    policy = refund_policy(ctx)
    if policy is None:
        return None
    if not policy.excluded_categories:
        return False
    category = _label(_order_value(ctx, "category"))
    if category is None:
        return None
    return category in {c.strip().casefold() for c in policy.excluded_categories}


@fact(
    "refund.needs_manager_approval",
    "bool",
    "the refund amount (the refund_issued action's amount attribute, else the order's amount) is above the "
    "policy's manager_approval_above; false without a threshold; null when the amount or the policy is unknown",
    "true",
    family=FAMILY,
)
def _needs_manager_approval(ctx: InteractionContext) -> bool | None:
    policy = refund_policy(ctx)
    if policy is None:
        return None
    if policy.manager_approval_above is None:
        return False
    amount = _refund_amount(ctx)
    return amount > policy.manager_approval_above if amount is not None else None


def _eligible(ctx: InteractionContext) -> bool | None:
    if refund_policy(ctx) is None:
        return None
    return _and(_within_window(ctx), _has_proof(ctx), _condition_ok(ctx), _not(_category_excluded(ctx)))


@fact(
    "refund.eligible",
    "bool",
    "the order may be refunded: within the window, with proof, in an allowed condition, not an excluded "
    "category. False as soon as one condition fails; null when the data for the others is missing or there "
    "is no refunds policy. Manager approval is separate (refund.needs_manager_approval)",
    "false",
    family=FAMILY,
)
def _eligible_fact(ctx: InteractionContext) -> bool | None:
    return _eligible(ctx)


# -- handling -----------------------------------------------------------------------------------------------


def _first_refund(ctx: InteractionContext) -> int | None:
    return first_action_index(ctx, "refund_issued")


def _first_refund_denial(ctx: InteractionContext) -> int | None:
    return first_action_index(ctx, "refund_denied")


_REFUND = EventPointer("the first refund_issued action", _first_refund)
_REFUND_DENIAL = EventPointer("the first refund_denied action", _first_refund_denial)


@fact("refund.issued", "bool", "a refund_issued action was taken", "true", family=FAMILY, about=_REFUND)
def _issued(ctx: InteractionContext) -> bool:
    return _first_refund(ctx) is not None


@fact("refund.denied", "bool", "a refund_denied action was taken", "false", family=FAMILY, about=_REFUND_DENIAL)
def _denied(ctx: InteractionContext) -> bool:
    return _first_refund_denial(ctx) is not None


def _approved(ctx: InteractionContext) -> bool:
    issued = first_action_index(ctx, "refund_issued")
    if issued is not None and ctx.events[issued].role == "manager":
        return True  # the manager issued it personally
    end = issued if issued is not None else len(ctx.events)
    return any(is_manager_involvement(e) for e in ctx.events[:end])


@fact(
    "refund.manager_approved",
    "bool",
    "a manager was involved before the refund (a manager_approved or manager_notified action, a manager's "
    "message or note, or the manager issued the refund); without a refund, anywhere in the interaction",
    "true",
    family=FAMILY,
)
def _manager_approved(ctx: InteractionContext) -> bool:
    return _approved(ctx)


@fact(
    "refund.issued_while_ineligible",
    "bool",
    "a refund was issued although the order is not eligible; null when a refund was issued and eligibility "
    "is unknown. A manager-approved exception still counts: add 'and not refund.manager_approved' to allow it",
    "true",
    family=FAMILY,
    about=_REFUND,
)
def _issued_while_ineligible(ctx: InteractionContext) -> bool | None:
    if not _issued(ctx):
        return False  # as _and gives; eligibility (dates, zones, the policy) is only worked out when it matters
    return _and(True, _not(_eligible(ctx)))


@fact(
    "refund.denied_while_eligible",
    "bool",
    "a refund was denied although the order is eligible; null when a refund was denied and eligibility is unknown",
    "false",
    family=FAMILY,
    about=_REFUND_DENIAL,
)
def _denied_while_eligible(ctx: InteractionContext) -> bool | None:
    if not _denied(ctx):
        return False  # as _and gives, without working out eligibility
    return _and(True, _eligible(ctx))


@fact(
    "refund.issued_without_approval",
    "bool",
    "a refund above the policy's manager_approval_above was issued without a manager involved before it; "
    "null when a refund was issued and the need for approval is unknown",
    "true",
    family=FAMILY,
    about=_REFUND,
)
def _issued_without_approval(ctx: InteractionContext) -> bool | None:
    if not _issued(ctx):
        return False  # as _and gives, without working out the amount and approvals
    needs_approval = _needs_manager_approval(ctx)
    if needs_approval is False:
        return False  # as _and gives, without looking for a manager
    return _and(True, needs_approval, not _approved(ctx))
