"""Facts about the interaction record itself and its conversation: who wrote what, and when.

A *personal reply* is a public message from an agent or manager that is not automated: an autoresponder
acknowledgement, a macro sent by a trigger or a bot answer does not count, and neither does an internal
note (as in Zendesk's and Freshdesk's first-reply semantics).
"""

from __future__ import annotations

import datetime as dt

import regex

from servicerules.measures.catalogue import DYNAMIC_PREFIXES, EventPointer, InteractionContext, fact, seconds_between
from servicerules.model.interaction import Event

_STAFF = ("agent", "manager")


def is_message(event: Event) -> bool:
    return event.type == "message"


# These two ask about every event of an interaction for many facts: they read the fields directly rather
# than through Event.role and Event.is_automated (a staff author is never the bot or system that would
# make a message automated).


def is_customer_message(event: Event) -> bool:
    author = event.author
    return event.type == "message" and author is not None and author.role == "customer"


def is_personal_reply(event: Event) -> bool:
    if event.type != "message" or not event.public or event.automated is not False:
        return False
    author = event.author
    return author is not None and author.role in _STAFF


# Found once per interaction, by functions defined once: many facts of every family ask for these.


def _find_first_reply(ctx: InteractionContext) -> int | None:
    for index, event in enumerate(ctx.events):
        if is_personal_reply(event):
            return index
    return None


def _find_first_customer_message(ctx: InteractionContext) -> int | None:
    for index, event in enumerate(ctx.events):
        if is_customer_message(event):
            return index
    return None


def first_reply_index(ctx: InteractionContext) -> int | None:
    return ctx.cached("first_reply_index", _find_first_reply)  # type: ignore[no-any-return]


FIRST_REPLY = EventPointer("the first personal reply", first_reply_index)


def first_customer_index(ctx: InteractionContext) -> int | None:
    return ctx.cached("first_customer_index", _find_first_customer_message)  # type: ignore[no-any-return]


FIRST_CUSTOMER_MESSAGE = EventPointer("the customer's first message", first_customer_index)


def _event_at(ctx: InteractionContext, index: int | None) -> dt.datetime | None:
    return ctx.events[index].at if index is not None else None


def _event_text(ctx: InteractionContext, index: int | None) -> str | None:
    return ctx.events[index].text if index is not None else None


# -- the interaction record ------------------------------------------------------------------------------

FAMILY = "interaction"


@fact("interaction.id", "string", "the interaction's id", '"T-1042"', family=FAMILY)
def _id(ctx: InteractionContext) -> str:
    return ctx.interaction.id


@fact("interaction.channel", "string", "email, chat, phone, social, sms, web, in_person or a custom channel", '"email"', family=FAMILY)
def _channel(ctx: InteractionContext) -> str:
    return ctx.interaction.channel


@fact("interaction.priority", "string", "low, normal, high or urgent", '"high"', family=FAMILY)
def _priority(ctx: InteractionContext) -> str:
    return ctx.interaction.priority


@fact("interaction.language", "string", "BCP 47 language tag of the interaction", '"de"', family=FAMILY)
def _language(ctx: InteractionContext) -> str | None:
    return ctx.interaction.language


@fact("interaction.subject", "string", "subject line", '"Refund for order 1234"', family=FAMILY)
def _subject(ctx: InteractionContext) -> str | None:
    return ctx.interaction.subject


@fact("interaction.team", "string", "team that handled the interaction", '"billing"', family=FAMILY)
def _team(ctx: InteractionContext) -> str | None:
    return ctx.interaction.team


@fact("interaction.created_at", "timestamp", "when the interaction was opened", "2026-03-02T09:15:00+01:00", family=FAMILY)
def _created_at(ctx: InteractionContext) -> dt.datetime:
    return ctx.interaction.created_at


@fact(
    "interaction.solved_at", "timestamp", "when it was solved (null while open at as_of)", "2026-03-02T11:00:00+01:00",
    family=FAMILY,
)
def _solved_at(ctx: InteractionContext) -> dt.datetime | None:
    at = ctx.interaction.solved_at
    return at if at is not None and at <= ctx.as_of else None


@fact(
    "interaction.closed_at", "timestamp", "when it was closed (null while open at as_of)", "2026-03-05T11:00:00+01:00",
    family=FAMILY,
)
def _closed_at(ctx: InteractionContext) -> dt.datetime | None:
    at = ctx.interaction.closed_at
    return at if at is not None and at <= ctx.as_of else None


@fact("interaction.event_count", "number", "number of events up to as_of", "12", family=FAMILY)
def _event_count(ctx: InteractionContext) -> int:
    return len(ctx.events)


@fact("interaction.is_solved", "bool", "whether the interaction has been solved or closed by as_of", "true", family=FAMILY)
def _is_solved(ctx: InteractionContext) -> bool:
    i = ctx.interaction
    done = i.solved_at or i.closed_at
    return done is not None and done <= ctx.as_of


@fact("as_of", "timestamp", "the evaluation time passed to evaluate() (never the wall clock)", "2026-03-02T18:00:00Z", family=FAMILY)
def _as_of(ctx: InteractionContext) -> dt.datetime:
    return ctx.as_of


@fact("customer.id", "string", "customer id", '"C-77"', family=FAMILY)
def _customer_id(ctx: InteractionContext) -> str | None:
    c = ctx.interaction.customer
    return c.id if c else None


@fact("customer.name", "string", "customer's name", '"Jana Novak"', family=FAMILY)
def _customer_name(ctx: InteractionContext) -> str | None:
    c = ctx.interaction.customer
    return c.name if c else None


@fact("customer.tier", "string", "loyalty tier (gold, silver, bronze, guest…)", '"gold"', family=FAMILY)
def _customer_tier(ctx: InteractionContext) -> str | None:
    c = ctx.interaction.customer
    return c.tier if c else None


@fact("customer.segment", "string", "customer segment", '"business"', family=FAMILY)
def _customer_segment(ctx: InteractionContext) -> str | None:
    c = ctx.interaction.customer
    return c.segment if c else None


@fact("customer.locale", "string", "customer's preferred locale", '"de-DE"', family=FAMILY)
def _customer_locale(ctx: InteractionContext) -> str | None:
    c = ctx.interaction.customer
    return c.locale if c else None


DYNAMIC_PREFIXES["interaction.attributes."] = ("interaction", lambda ctx: ctx.interaction.attributes)
DYNAMIC_PREFIXES["customer.attributes."] = (
    "interaction",
    lambda ctx: ctx.interaction.customer.attributes if ctx.interaction.customer else None,
)

# -- the conversation --------------------------------------------------------------------------------------

FAMILY = "conversation"


@fact("message_count", "number", "public and internal messages", "6", family=FAMILY)
def _message_count(ctx: InteractionContext) -> int:
    return sum(1 for e in ctx.events if is_message(e))


@fact("customer_message_count", "number", "messages written by the customer", "3", family=FAMILY)
def _customer_message_count(ctx: InteractionContext) -> int:
    return sum(1 for e in ctx.events if is_customer_message(e))


@fact("agent_message_count", "number", "personal replies (public, human, not automated)", "2", family=FAMILY)
def _agent_message_count(ctx: InteractionContext) -> int:
    return sum(1 for e in ctx.events if is_personal_reply(e))


@fact("has_personal_reply", "bool", "whether an agent replied personally (automated replies do not count)", "true", family=FAMILY)
def _has_personal_reply(ctx: InteractionContext) -> bool:
    return first_reply_index(ctx) is not None


@fact(
    "first_reply_time",
    "duration",
    "calendar time from the interaction's creation to the first personal reply; null until there is one",
    "2h 5m",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_time(ctx: InteractionContext) -> float | None:
    at = _event_at(ctx, first_reply_index(ctx))
    return seconds_between(ctx.interaction.created_at, at) if at is not None else None


@fact(
    "unanswered_for",
    "duration",
    "calendar time from creation to as_of while no personal reply exists; null once replied",
    "7h",
    family=FAMILY,
    about=FIRST_CUSTOMER_MESSAGE,
)
def _unanswered_for(ctx: InteractionContext) -> float | None:
    if first_reply_index(ctx) is not None:
        return None
    return max(0.0, seconds_between(ctx.interaction.created_at, ctx.as_of))


@fact("first_reply.index", "number", "event index of the first personal reply", "2", family=FAMILY, about=FIRST_REPLY)
def _first_reply_index(ctx: InteractionContext) -> int | None:
    return first_reply_index(ctx)


@fact(
    "first_reply.at",
    "timestamp",
    "time of the first personal reply",
    "2026-03-02T10:02:00+01:00",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_at(ctx: InteractionContext) -> dt.datetime | None:
    return _event_at(ctx, first_reply_index(ctx))


@fact(
    "first_reply.text",
    "string",
    "text of the first personal reply",
    '"Hello Jana, thanks for…"',
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_text(ctx: InteractionContext) -> str | None:
    return _event_text(ctx, first_reply_index(ctx))


@fact(
    "first_customer_message.text",
    "string",
    "text of the customer's first message",
    '"My order never arrived"',
    family=FAMILY,
    about=FIRST_CUSTOMER_MESSAGE,
)
def _first_customer_text(ctx: InteractionContext) -> str | None:
    return _event_text(ctx, first_customer_index(ctx))


@fact(
    "first_customer_message.at",
    "timestamp",
    "time of the customer's first message",
    "2026-03-02T09:15:00+01:00",
    family=FAMILY,
    about=FIRST_CUSTOMER_MESSAGE,
)
def _first_customer_at(ctx: InteractionContext) -> dt.datetime | None:
    return _event_at(ctx, first_customer_index(ctx))


def _find_last_reply(ctx: InteractionContext) -> int | None:
    events = ctx.events
    for index in range(len(events) - 1, -1, -1):
        if is_personal_reply(events[index]):
            return index
    return None


def last_reply_index(ctx: InteractionContext) -> int | None:
    return ctx.cached("last_reply_index", _find_last_reply)  # type: ignore[no-any-return]


LAST_REPLY = EventPointer("the last personal reply", last_reply_index)


@fact(
    "last_reply.text",
    "string",
    "text of the last personal reply",
    '"Anything else I can help with?"',
    family=FAMILY,
    about=LAST_REPLY,
)
def _last_reply_text(ctx: InteractionContext) -> str | None:
    return _event_text(ctx, last_reply_index(ctx))


@fact("last_reply.index", "number", "event index of the last personal reply", "7", family=FAMILY, about=LAST_REPLY)
def _last_reply_index_fact(ctx: InteractionContext) -> int | None:
    return last_reply_index(ctx)


# -- each event (rules with scope: event) --------------------------------------------------------------

FAMILY = "event"


@fact("event.index", "number", "position of the event in the interaction (0-based)", "3", family=FAMILY, scope="event")
def _ev_index(ctx: InteractionContext, index: int) -> int:
    return index


@fact("event.type", "string", "message, note, status, call.queued, …, action", '"message"', family=FAMILY, scope="event")
def _ev_type(ctx: InteractionContext, index: int) -> str:
    return ctx.events[index].type


@fact("event.at", "timestamp", "when the event happened", "2026-03-02T09:15:00+01:00", family=FAMILY, scope="event")
def _ev_at(ctx: InteractionContext, index: int) -> dt.datetime:
    return ctx.events[index].at


@fact("event.author.role", "string", "customer, agent, bot, system or manager", '"agent"', family=FAMILY, scope="event")
def _ev_role(ctx: InteractionContext, index: int) -> str | None:
    return ctx.events[index].role


@fact("event.author.id", "string", "author's id", '"agent-7"', family=FAMILY, scope="event")
def _ev_author_id(ctx: InteractionContext, index: int) -> str | None:
    a = ctx.events[index].author
    return a.id if a else None


@fact("event.author.name", "string", "author's name", '"Sam"', family=FAMILY, scope="event")
def _ev_author_name(ctx: InteractionContext, index: int) -> str | None:
    a = ctx.events[index].author
    return a.name if a else None


@fact("event.public", "bool", "visible to the customer", "true", family=FAMILY, scope="event")
def _ev_public(ctx: InteractionContext, index: int) -> bool:
    return ctx.events[index].public


@fact("event.automated", "bool", "sent by automation (autoresponder, macro, trigger, bot) or by a bot/system author", "false", family=FAMILY, scope="event")
def _ev_automated(ctx: InteractionContext, index: int) -> bool:
    return ctx.events[index].is_automated


@fact("event.text", "string", "message or note text", '"Hello, how can I help?"', family=FAMILY, scope="event")
def _ev_text(ctx: InteractionContext, index: int) -> str | None:
    return ctx.events[index].text


@fact("event.status", "string", "new status, for status events", '"pending"', family=FAMILY, scope="event")
def _ev_status(ctx: InteractionContext, index: int) -> str | None:
    return ctx.events[index].status


@fact("event.action", "string", "action taken, for action events (refund_issued, identity_verified…)", '"refund_issued"', family=FAMILY, scope="event")
def _ev_action(ctx: InteractionContext, index: int) -> str | None:
    return ctx.events[index].action


@fact("event.is_personal_reply", "bool", "a public, human, not automated agent or manager message", "true", family=FAMILY, scope="event")
def _ev_personal(ctx: InteractionContext, index: int) -> bool:
    return is_personal_reply(ctx.events[index])


@fact("event.is_first_reply", "bool", "this event is the first personal reply", "true", family=FAMILY, scope="event")
def _ev_first_reply(ctx: InteractionContext, index: int) -> bool:
    return first_reply_index(ctx) == index


@fact("event.since_previous", "duration", "time since the previous event (null for the first)", "12m", family=FAMILY, scope="event")
def _ev_since_previous(ctx: InteractionContext, index: int) -> float | None:
    if index == 0:
        return None
    return seconds_between(ctx.events[index - 1].at, ctx.events[index].at)


DYNAMIC_PREFIXES["event.attributes."] = ("event", lambda ctx, index: ctx.events[index].attributes)


# -- outcomes recorded as actions --------------------------------------------------------------------------

FAMILY = "conversation"

RESOLUTION_ACTIONS = frozenset(
    {"refund_issued", "credit_issued", "coupon_issued", "replacement_sent", "exchange_offered", "explanation_given",
     "repair_arranged", "compensation_issued"}
)
"""Action names that record how a complaint was resolved (credit, coupon, refund, replacement, explanation…)."""


class _Outcomes:
    """The actions and the first solving status event, found in one pass: facts of several families
    (refunds, procedures, escalation, outcomes) ask about them, and reading each event's fields again for
    each costs more than the comparisons."""

    __slots__ = ("actions", "solve_index")

    def __init__(self, ctx: InteractionContext):
        self.actions: dict[str, list[int]] = {}
        """Action name -> the indices of its events, in order."""
        self.solve_index: int | None = None
        """The first status event that solved or closed the interaction."""
        for index, event in enumerate(ctx.events):
            kind = event.type
            if kind == "action":
                if event.action:
                    self.actions.setdefault(event.action, []).append(index)
            elif kind == "status" and self.solve_index is None and event.status in ("solved", "closed"):
                self.solve_index = index


def _outcomes(ctx: InteractionContext) -> _Outcomes:
    return ctx.cached("conversation.outcomes", _Outcomes)  # type: ignore[no-any-return]


def action_indices(ctx: InteractionContext) -> dict[str, list[int]]:
    """Action name -> the indices of its events, in order (found once per interaction)."""
    return _outcomes(ctx).actions


def _action_indices(ctx: InteractionContext, names: frozenset[str] | set[str]) -> list[int]:
    actions = action_indices(ctx)
    found = [i for name in names for i in actions.get(name, ())]  # of ctx.events, which end at as_of
    return sorted(found)


def _solve_index(ctx: InteractionContext) -> int | None:
    return _outcomes(ctx).solve_index


_RESOLUTION = EventPointer("the first solved or closed status event", _solve_index)


@fact(
    "resolution.recorded",
    "bool",
    "an action event records the resolution: refund_issued, credit_issued, coupon_issued, replacement_sent, "
    "exchange_offered, explanation_given, repair_arranged or compensation_issued",
    "true",
    family=FAMILY,
)
def _resolution_recorded(ctx: InteractionContext) -> bool:
    return bool(_action_indices(ctx, RESOLUTION_ACTIONS))


@fact("survey.sent", "bool", "a survey_sent action event exists (feedback survey)", "true", family=FAMILY)
def _survey_sent(ctx: InteractionContext) -> bool:
    return bool(_action_indices(ctx, {"survey_sent"}))


@fact(
    "survey.sent_after_resolution",
    "bool",
    "a survey_sent action comes at or after the first solved/closed status event (or solved_at); null while unsolved",
    "true",
    family=FAMILY,
    about=_RESOLUTION,
)
def _survey_after_resolution(ctx: InteractionContext) -> bool | None:
    solve = _solve_index(ctx)
    solved_at = ctx.events[solve].at if solve is not None else ctx.interaction.solved_at or ctx.interaction.closed_at
    if solved_at is None or solved_at > ctx.as_of:
        return None
    return any(ctx.events[i].at >= solved_at for i in _action_indices(ctx, {"survey_sent"}))


@fact(
    "reference.given",
    "bool",
    "the first personal reply gives a reference (ticket, case or reference number, with a digit, at most two "
    "words after the keyword: 'Ref. AB-1234', 'Vorgangsnummer lautet 123456', 'sagsnummer er 5521', "
    "'संदर्भ संख्या 88123'); null until there is a reply",
    "true",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _reference_given(ctx: InteractionContext) -> bool | None:
    text = _event_text(ctx, first_reply_index(ctx))
    return None if text is None else _REFERENCE.search(text) is not None


_REFERENCE = regex.compile(
    r"(?i)(?<![\p{L}\p{M}])(?:ref(?:erence)?|ticket|case|vorgang(?:snummer)?|aktenzeichen|referenz|sag(?:snummer)?"
    r"|sagsnr|संदर्भ(?: संख्या)?|टिकट)(?![\p{L}\p{M}])\.?\s*(?:no\.?|nr\.?|number|nummer|#|:)?"
    r"(?:\s+[\p{L}\p{M}]{1,8}){0,2}\s*[#:]?\s*(?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{3,}"
)
