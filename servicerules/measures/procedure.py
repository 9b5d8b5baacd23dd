"""Procedure: required actions and their order, pulling up the account first, escalation to a manager.

**Required order.** A ruleset's ``procedures:`` say which action events (``type: action``, field ``action``)
may only happen after others::

    procedures:
      - action: refund_issued
        requires: [identity_verified]
        within: 30m          # optional: the refund must follow the verification within 30 minutes

A prerequisite counts when an action event with that name comes *earlier in the event list* (any author,
automated or not: an IVR that verifies the caller counts). When a ruleset declares no procedures,
:data:`DEFAULT_PROCEDURES` apply: ``refund_issued``, ``account_changed``, ``account_disclosed`` and
``address_changed`` require ``identity_verified``. Declaring any procedure replaces the defaults entirely;
a ruleset that wants them as well lists them. Several procedures for one action add up (all of their
``requires`` must be met). ``within`` is measured from the latest occurrence of each prerequisite before
the action.

**Manager involvement** is an action ``manager_notified`` or ``manager_approved``, or any message, note
or action authored by a ``manager``. Escalation times run from the first *trigger*, an ``escalated`` action
or the customer message the text fact ``escalation.trigger_index`` points at (anger, legal or regulator threat,
repeated contact)
(see :func:`escalation_trigger_index`), to the first manager involvement at or after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from servicerules.measures.catalogue import CATALOGUE, EventPointer, InteractionContext, fact, seconds_between
from servicerules.measures.conversation import action_indices, first_reply_index
from servicerules.model.interaction import Event
from servicerules.model.ruleset import ProcedureSpec

__all__ = [
    "ACCOUNT_LOOKUP_ACTIONS",
    "DEFAULT_PROCEDURES",
    "ESCALATION_TEXT_FACT",
    "MANAGER_ACTIONS",
    "ProcedureCheck",
    "escalation_trigger_index",
    "first_action_index",
    "is_manager_involvement",
    "procedure_checks",
    "procedures",
]

FAMILY = "procedure"

DEFAULT_PROCEDURES: tuple[ProcedureSpec, ...] = tuple(
    ProcedureSpec(action=action, requires=["identity_verified"])
    for action in ("refund_issued", "account_changed", "account_disclosed", "address_changed")
)
"""Used when a ruleset declares no ``procedures:``: account and money actions need a verified identity."""

ACCOUNT_LOOKUP_ACTIONS = frozenset({"account_pulled_up", "account_lookup"})
MANAGER_ACTIONS = frozenset({"manager_notified", "manager_approved"})
ESCALATION_TEXT_FACT = "escalation.trigger_index"


def procedures(ctx: InteractionContext) -> tuple[ProcedureSpec, ...]:
    """The ruleset's procedures, or :data:`DEFAULT_PROCEDURES` when it declares none."""
    declared = tuple(ctx.resources.procedures)
    return declared if declared else DEFAULT_PROCEDURES


def _is_action(event: Event) -> bool:
    return event.type == "action" and bool(event.action)


def first_action_index(ctx: InteractionContext, action: str) -> int | None:
    """The index of the first ``action`` event, or None."""
    indices = action_indices(ctx).get(action)
    return indices[0] if indices else None


def is_manager_involvement(event: Event) -> bool:
    """A manager took part: a manager_notified/manager_approved action, or anything a manager authored."""
    if event.role == "manager" and event.type in ("message", "note", "action"):
        return True
    return event.type == "action" and event.action in MANAGER_ACTIONS


# -- required order ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureCheck:
    """The procedure verdict for one action event that has requirements."""

    action: str
    missing: str | None
    """The first required action that had not happened before, or None."""
    too_old: bool | None
    """Whether a prerequisite is older than the procedure's ``within``; None without ``within`` or when a
    prerequisite is missing."""


def _check_all(ctx: InteractionContext) -> dict[int, ProcedureCheck]:
    by_action: dict[str, list[ProcedureSpec]] = {}
    for spec in procedures(ctx):
        by_action.setdefault(spec.action, []).append(spec)
    actions = action_indices(ctx)
    if by_action.keys().isdisjoint(actions):
        return {}  # no action that a procedure constrains, nothing to check
    last_seen: dict[str, dt.datetime] = {}
    checks: dict[int, ProcedureCheck] = {}
    for index, action in sorted((i, name) for name, indices in actions.items() for i in indices):
        event = ctx.events[index]
        specs = by_action.get(action)
        if specs:
            missing = next((r for s in specs for r in s.requires if r not in last_seen), None)
            too_old: bool | None = None
            timed = [s for s in specs if s.within is not None]
            if missing is None and timed:
                too_old = any(
                    seconds_between(last_seen[r], event.at) > float(s.within or 0.0) for s in timed for r in s.requires
                )
            checks[index] = ProcedureCheck(action, missing, too_old)
        last_seen[action] = event.at
    return checks


def procedure_checks(ctx: InteractionContext) -> dict[int, ProcedureCheck]:
    """Event index -> :class:`ProcedureCheck` for every action event that a procedure constrains."""
    return ctx.cached("procedure.checks", _check_all)  # type: ignore[no-any-return]


def _out_of_order(ctx: InteractionContext) -> list[ProcedureCheck]:
    return [check for _index, check in sorted(procedure_checks(ctx).items()) if check.missing is not None]


def _first_out_of_order(ctx: InteractionContext) -> int | None:
    return min((i for i, check in procedure_checks(ctx).items() if check.missing is not None), default=None)


_OUT_OF_ORDER = EventPointer("the first action taken before one of its required actions", _first_out_of_order)


@fact(
    "event.missing_prerequisite",
    "string",
    "for an action event that a procedure constrains (ruleset procedures, else the defaults: refund_issued, "
    "account_changed, account_disclosed and address_changed require identity_verified): the first required "
    "action that had not happened before it; null when all happened or the event is not such an action",
    '"identity_verified"',
    family=FAMILY,
    scope="event",
)
def _missing_prerequisite(ctx: InteractionContext, index: int) -> str | None:
    check = procedure_checks(ctx).get(index)
    return check.missing if check is not None else None


@fact(
    "event.prerequisite_too_old",
    "bool",
    "for a constrained action event whose procedure has within: whether it came more than within after "
    "the latest occurrence of a prerequisite; null without within or when a prerequisite is missing",
    "true",
    family=FAMILY,
    scope="event",
)
def _prerequisite_too_old(ctx: InteractionContext, index: int) -> bool | None:
    check = procedure_checks(ctx).get(index)
    return check.too_old if check is not None else None


@fact(
    "procedure.out_of_order_count",
    "number",
    "how many action events came before one of their required actions (see event.missing_prerequisite)",
    "1",
    family=FAMILY,
    about=_OUT_OF_ORDER,
)
def _out_of_order_count(ctx: InteractionContext) -> int:
    return len(_out_of_order(ctx))


@fact(
    "procedure.first_out_of_order_action",
    "string",
    "the first action taken before one of its required actions; null when every action was in order",
    '"refund_issued"',
    family=FAMILY,
    about=_OUT_OF_ORDER,
)
def _first_out_of_order_action(ctx: InteractionContext) -> str | None:
    found = _out_of_order(ctx)
    return found[0].action if found else None


# -- account pulled up first ---------------------------------------------------------------------------------


def _agent_actions(events: Iterable[Event]) -> list[tuple[int, Event]]:
    # Actions a person took: not the customer's, not flagged automated (trigger, macro, bot). Action
    # records written by the help desk with a system author still count: that is how most tools log clicks.
    return [
        (i, e) for i, e in enumerate(events) if _is_action(e) and e.role != "customer" and e.automated is False
    ]


def _first_lookup_index(ctx: InteractionContext) -> int | None:
    found = [i for action in ACCOUNT_LOOKUP_ACTIONS if (i := first_action_index(ctx, action)) is not None]
    return min(found) if found else None


@fact(
    "account.pulled_up_first",
    "bool",
    "the agent's first action was pulling up the customer's account (account_pulled_up or account_lookup) "
    "before any other action such as a refund or an account change; null when the account was never pulled up",
    "true",
    family=FAMILY,
)
def _pulled_up_first(ctx: InteractionContext) -> bool | None:
    if _first_lookup_index(ctx) is None:
        return None
    actions = _agent_actions(ctx.events)
    return bool(actions) and actions[0][1].action in ACCOUNT_LOOKUP_ACTIONS


@fact(
    "account.pulled_up_before_first_reply",
    "bool",
    "the account was pulled up (account_pulled_up or account_lookup) before the first personal reply, or "
    "there is no personal reply; null when the account was never pulled up",
    "false",
    family=FAMILY,
)
def _pulled_up_before_reply(ctx: InteractionContext) -> bool | None:
    lookup = _first_lookup_index(ctx)
    if lookup is None:
        return None
    reply = first_reply_index(ctx)
    return reply is None or lookup < reply


# -- escalation to a manager ----------------------------------------------------------------------------------


def _text_trigger_index(ctx: InteractionContext) -> int | None:
    """The first customer message carrying an escalation trigger, from the text measures, if registered."""
    spec = CATALOGUE.get(ESCALATION_TEXT_FACT)
    if spec is None:
        return None
    index = spec.compute(ctx)
    return index if isinstance(index, int) else None


def _find_trigger(ctx: InteractionContext) -> int | None:
    escalated = first_action_index(ctx, "escalated")
    flagged = _text_trigger_index(ctx)
    found = [i for i in (escalated, flagged) if i is not None]
    return min(found) if found else None


def escalation_trigger_index(ctx: InteractionContext) -> int | None:
    """Index of the first escalation trigger: an ``escalated`` action, or the first customer message with an
    escalation trigger in its text (``escalation.trigger_index``)."""
    return ctx.cached("procedure.escalation_trigger", _find_trigger)  # type: ignore[no-any-return]


_ESCALATION = EventPointer("the first escalation trigger (an escalated action or a customer message)", escalation_trigger_index)


def _manager_index(ctx: InteractionContext, start: int) -> int | None:
    return next((i for i in range(start, len(ctx.events)) if is_manager_involvement(ctx.events[i])), None)


def _seconds(start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, seconds_between(start, end))


@fact(
    "escalation.time_to_manager",
    "duration",
    "from the first escalation trigger (an escalated action, or a customer message flagged by "
    "escalation.trigger_index) to the first manager involvement after it (manager_notified or manager_approved "
    "action, or a manager's message or note); null when nothing triggered an escalation or no manager has "
    "taken part yet (see escalation.waiting_for_manager)",
    "25m",
    family=FAMILY,
    about=_ESCALATION,
)
def _time_to_manager(ctx: InteractionContext) -> float | None:
    trigger = escalation_trigger_index(ctx)
    if trigger is None:
        return None
    manager = _manager_index(ctx, trigger)
    return _seconds(ctx.events[trigger].at, ctx.events[manager].at) if manager is not None else None


@fact(
    "escalation.reached_manager",
    "bool",
    "after the first escalation trigger a manager took part (manager_notified or manager_approved action, or "
    "a manager's message or note); null when nothing triggered an escalation",
    "true",
    family=FAMILY,
    about=_ESCALATION,
)
def _reached_manager(ctx: InteractionContext) -> bool | None:
    trigger = escalation_trigger_index(ctx)
    if trigger is None:
        return None
    return _manager_index(ctx, trigger) is not None


@fact(
    "escalation.waiting_for_manager",
    "duration",
    "from the first escalation trigger to as_of while no manager has taken part; null once one has or when "
    "nothing triggered an escalation. Write (escalation.time_to_manager ?? escalation.waiting_for_manager) > 1h",
    "3h",
    family=FAMILY,
    about=_ESCALATION,
)
def _waiting_for_manager(ctx: InteractionContext) -> float | None:
    trigger = escalation_trigger_index(ctx)
    if trigger is None or _manager_index(ctx, trigger) is not None:
        return None
    return _seconds(ctx.events[trigger].at, ctx.as_of)


@fact(
    "urgent.time_to_manager",
    "duration",
    "for an urgent-priority interaction: from its creation to the first manager involvement; null when the "
    "interaction is not urgent or no manager has taken part yet (see urgent.waiting_for_manager)",
    "40m",
    family=FAMILY,
)
def _urgent_time_to_manager(ctx: InteractionContext) -> float | None:
    if ctx.interaction.priority != "urgent":
        return None
    manager = _manager_index(ctx, 0)
    return _seconds(ctx.interaction.created_at, ctx.events[manager].at) if manager is not None else None


@fact(
    "urgent.waiting_for_manager",
    "duration",
    "for an urgent-priority interaction no manager has taken part in yet: from its creation to as_of; null "
    "otherwise. Write (urgent.time_to_manager ?? urgent.waiting_for_manager) > 1h",
    "2h",
    family=FAMILY,
)
def _urgent_waiting(ctx: InteractionContext) -> float | None:
    if ctx.interaction.priority != "urgent" or _manager_index(ctx, 0) is not None:
        return None
    return _seconds(ctx.interaction.created_at, ctx.as_of)
