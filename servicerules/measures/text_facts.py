"""Text facts: how the agent writes, and what the customer's words signal.

Agent protocol: a greeting in the opening of the first personal reply, the agent introducing themself,
the customer addressed by name, a closing that offers further help and thanks, an apology no later than
the first denial. Customer signals (escalation triggers): anger, legal threats, regulator threats,
repeated contact. "Personal reply" has the meaning of :mod:`servicerules.measures.conversation` (public,
by an agent or manager, not automated).

Every phrase list is a lexicon read through ``ctx.resources.lexicon(name)``, so a ruleset's ``lexicons:``
entry of the same name replaces the shipped default (:mod:`servicerules.measures.lexicons`); the lexicons
are compiled once per ruleset. Two signals are not words and so not in a lexicon: shouting (three or more
words in capitals in a row, one of them at least four letters long: "THIS IS UNACCEPTABLE", but not
"DHL UPS GLS") and three or more exclamation marks. Both count as anger.

A fact is null ("not applicable") when what it talks about does not exist: no personal reply yet, no
customer name, no customer message with text, no denial.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import regex

from servicerules.measures.catalogue import EventPointer, InteractionContext, fact
from servicerules.measures.conversation import (
    FIRST_REPLY,
    LAST_REPLY,
    first_reply_index,
    is_customer_message,
    is_personal_reply,
    last_reply_index,
)
from servicerules.measures.text import (
    LexiconMatcher,
    is_latin_1,
    is_settled,
    name_matcher,
    normalise_text,
    settled_class,
)
from servicerules.model.interaction import Event

__all__ = ["DENIAL_ACTIONS", "GREETING_WINDOW", "is_shouting"]

FAMILY = "text"

GREETING_WINDOW = 160
"""A greeting counts in the first this-many characters of a message: "hi" in a product name further down
("the hi-fi set") is not a greeting."""

DENIAL_ACTIONS = frozenset(
    ("refund_denied", "return_denied", "exchange_denied", "replacement_denied", "claim_denied",
     "compensation_denied", "request_denied")
)  # fmt: skip
"""Action events that deny the customer's request."""

_CAPITAL = r"\p{Lu}"
_CAPS_LETTER = r"[\p{Lu}\p{M}'ß]"
_CAPS_GAP = r"[\s,;:.!?\-]"
_CAPS_WORD = rf"(?-i:{_CAPITAL}{_CAPS_LETTER}*)"
_SHOUT = regex.compile(
    rf"(?<![\p{{L}}\p{{M}}\p{{N}}]){_CAPS_WORD}(?:{_CAPS_GAP}+{_CAPS_WORD}){{2,}}(?![\p{{L}}\p{{M}}\p{{N}}])",
    regex.VERSION1,
)
_LETTERS = regex.compile(r"[\p{L}\p{M}]+")
# Three capitalised words in a row, without the word boundaries: in `re`, exact on texts of the settled blocks,
# where it spares most texts (a sentence rarely has three capitalised words in a row) the slower _SHOUT.
_CAPITALS, _CAPS_LETTERS, _CAPS_GAPS = map(settled_class, (_CAPITAL, _CAPS_LETTER, _CAPS_GAP))
_THREE_CAPS_WORDS = re.compile(f"{_CAPITALS}{_CAPS_LETTERS}*{_CAPS_GAPS}+" * 2 + _CAPITALS)
# A word of 4 letters in capitals is 4 characters in a row of [\p{Lu}\p{M}ß] (the letters of _CAPS_LETTER): in
# a Latin-1 text, each of those becomes "A", each other character " ", and one substring test looks for "AAAA".
# Most texts have none, and a search of _THREE_CAPS_WORDS tests each character against a class, ten times slower.
_CAPS_RUN_LETTER = regex.compile(r"[\p{Lu}\p{M}ß]", regex.VERSION1)
_LATIN_1_CAPITALS = bytes(ord("A") if _CAPS_RUN_LETTER.match(chr(b)) else ord(" ") for b in range(256))


def is_shouting(text: str) -> bool:
    """Three or more capitalised words in a row (one of them 4+ letters long), or "!!!"."""
    text = normalise_text(text)
    if "!!!" in text:
        return True
    if is_latin_1(text) and b"AAAA" not in text.encode("latin-1").translate(_LATIN_1_CAPITALS):
        return False
    if is_settled(text) and _THREE_CAPS_WORDS.search(text) is None:
        return False
    return any(
        any(len(word) >= 4 for word in _LETTERS.findall(run.group())) for run in _SHOUT.finditer(text)
    )


def _lexicon(ctx: InteractionContext, name: str) -> LexiconMatcher:
    return ctx.resources.lexicon(name)  # type: ignore[no-any-return]


def _opening(text: str) -> str:
    return text.strip()[:GREETING_WINDOW]


def _author_name(ctx: InteractionContext, event: Event) -> str | None:
    """The author's name on the event, else the name of the interaction's agent with that id."""
    author = event.author
    if author is None:
        return None
    if author.name:
        return author.name
    return next((a.name for a in ctx.interaction.agents if a.id == author.id and author.id and a.name), None)


def _reply_text(ctx: InteractionContext, index: int | None) -> str | None:
    return ctx.events[index].text if index is not None else None


# -- the agent's replies ------------------------------------------------------------------------------------


@fact(
    "first_reply.has_greeting",
    "bool",
    "the first personal reply opens with a greeting (lexicon greeting, within its first 160 characters: "
    "\"Hello\", \"Guten Tag\", \"Hej\", \"नमस्ते\"); null until there is a personal reply with text",
    "true",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_has_greeting(ctx: InteractionContext) -> bool | None:
    text = _reply_text(ctx, first_reply_index(ctx))
    return None if text is None else _lexicon(ctx, "greeting").matches(_opening(text))


@fact(
    "first_reply.introduces_agent",
    "bool",
    "in the first personal reply the agent introduces themself: their name (from the event's author, else "
    "the interaction's agents list) appears as a word, or a self-introduction (lexicon self_introduction: "
    "\"my name is\", \"I'm Sam\", \"mein Name ist\", \"ich bin Anna\", \"mit navn er\", \"jeg hedder\", "
    "\"मेरा नाम\"); null until there is a personal reply with text",
    "true",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_introduces_agent(ctx: InteractionContext) -> bool | None:
    index = first_reply_index(ctx)
    text = _reply_text(ctx, index)
    if index is None or text is None:
        return None
    if _lexicon(ctx, "self_introduction").matches(text):
        return True
    name = _author_name(ctx, ctx.events[index])
    matcher = name_matcher(name) if name else None
    return matcher is not None and matcher.matches(text)


@fact(
    "first_reply.addresses_customer",
    "bool",
    "the first personal reply uses the customer's first or last name (customer.name; whole words, any "
    "case, titles such as Mr or Frau ignored: \"Hi Jana\", \"Sehr geehrter Herr Novak\", \"नमस्ते राहुल जी\"); "
    "null when the customer's name is unknown or there is no personal reply with text yet",
    "true",
    family=FAMILY,
    about=FIRST_REPLY,
)
def _first_reply_addresses_customer(ctx: InteractionContext) -> bool | None:
    customer = ctx.interaction.customer
    matcher = name_matcher(customer.name) if customer is not None and customer.name else None
    text = _reply_text(ctx, first_reply_index(ctx))
    if matcher is None or text is None:
        return None
    return matcher.matches(text)


@fact(
    "last_reply.offers_help",
    "bool",
    "the last personal reply offers further help (lexicon closing: \"anything else\", \"weitere Fragen\", "
    "\"andre spørgsmål\", \"और कोई सहायता\"); null until there is a personal reply with text",
    "true",
    family=FAMILY,
    about=LAST_REPLY,
)
def _last_reply_offers_help(ctx: InteractionContext) -> bool | None:
    text = _reply_text(ctx, last_reply_index(ctx))
    return None if text is None else _lexicon(ctx, "closing").matches(text)


@fact(
    "last_reply.thanks",
    "bool",
    "the last personal reply thanks the customer (lexicon thanks: \"thank you\", \"thanks\", \"vielen Dank\", "
    "\"mange tak\", \"धन्यवाद\", \"शुक्रिया\"); null until there is a personal reply with text",
    "true",
    family=FAMILY,
    about=LAST_REPLY,
)
def _last_reply_thanks(ctx: InteractionContext) -> bool | None:
    text = _reply_text(ctx, last_reply_index(ctx))
    return None if text is None else _lexicon(ctx, "thanks").matches(text)


def _first_denial_index(ctx: InteractionContext) -> int | None:
    def find(c: InteractionContext) -> int | None:
        denial = _lexicon(c, "denial")
        for i, event in enumerate(c.events):
            if event.type == "action" and event.action in DENIAL_ACTIONS:
                return i
            if is_personal_reply(event) and denial.matches(event.text):
                return i
        return None

    return ctx.cached("text.first_denial_index", find)  # type: ignore[no-any-return]


_DENIAL = EventPointer("the first denial (action or personal reply)", _first_denial_index)


@fact(
    "apology_before_denial",
    "bool",
    "when the interaction has a denial (an action event refund_denied, return_denied, exchange_denied, "
    "replacement_denied, claim_denied, compensation_denied or request_denied, or a personal reply matching "
    "lexicon denial: \"not eligible\", \"we cannot refund\", \"abgelehnt\", \"ikke muligt\", \"संभव नहीं\"), "
    "whether a personal reply at or before the first denial apologises (lexicon apology; the denying "
    "message itself counts); null when there is no denial",
    "true",
    family=FAMILY,
    about=_DENIAL,
)
def _apology_before_denial(ctx: InteractionContext) -> bool | None:
    denial = _first_denial_index(ctx)
    if denial is None:
        return None
    apology = _lexicon(ctx, "apology")
    return any(is_personal_reply(e) and apology.matches(e.text) for e in ctx.events[: denial + 1])


@fact(
    "autoresponder_only",
    "bool",
    "by as_of the customer has had automated public messages (autoresponder, macro, trigger, bot or "
    "system author) but no personal reply; false once a personal reply exists by as_of; null when the "
    "customer wrote nothing by as_of or nothing at all was sent back (an unanswered contact: see "
    "unanswered_for)",
    "true",
    family=FAMILY,
)
def _autoresponder_only(ctx: InteractionContext) -> bool | None:
    events = ctx.events  # up to as_of
    if not any(is_customer_message(e) for e in events):
        return None
    if any(is_personal_reply(e) for e in events):
        return False
    automated = any(e.type == "message" and e.public and e.is_automated and e.role != "customer" for e in events)
    return True if automated else None


# -- the customer's words: escalation triggers --------------------------------------------------------------


_TRIGGERS = ("anger", "legal_threat", "regulator_threat", "repeated_contact")
"""The escalation triggers in customer words, each a lexicon of that name (anger also counts shouting)."""


class _Triggers:
    """The escalation triggers in the customer's messages with text, each looked for only when first asked:
    escalation.triggered stops at the first trigger found, escalation.trigger_index at the first message with
    one, so most messages are never scanned with most lexicons."""

    __slots__ = ("resources", "messages", "found")

    def __init__(self, ctx: InteractionContext):
        # Not ctx itself: this object lives in ctx's cache, and a reference cycle would keep the whole
        # interaction alive until the garbage collector's next full pass.
        self.resources = ctx.resources
        self.messages = [(i, e.text) for i, e in enumerate(ctx.events) if is_customer_message(e) and e.text is not None]
        self.found: dict[str, list[bool | None]] = {kind: [None] * len(self.messages) for kind in _TRIGGERS}
        """For each kind, whether each message carries it; None until asked."""

    def has(self, position: int, kind: str) -> bool:
        """Whether the ``position``-th customer message with text carries trigger ``kind``."""
        found = self.found[kind]
        carries = found[position]
        if carries is None:
            text = self.messages[position][1]
            matcher: LexiconMatcher = self.resources.lexicon(kind)
            carries = found[position] = matcher.matches(text) or (kind == "anger" and is_shouting(text))
        return carries

    def anywhere(self, kind: str) -> bool | None:
        """Whether some customer message carries ``kind``; None when no customer message has text."""
        if not self.messages:
            return None
        for position in range(len(self.messages)):
            if self.has(position, kind):
                return True
        return False

    def first_index(self, kinds: tuple[str, ...] = _TRIGGERS) -> int | None:
        """The event index of the first customer message carrying one of ``kinds`` (by default any trigger)."""
        for position, (index, _text) in enumerate(self.messages):
            if any(self.has(position, kind) for kind in kinds):
                return index
        return None


def _triggers(ctx: InteractionContext) -> _Triggers:
    return ctx.cached("text.triggers", _Triggers)  # type: ignore[no-any-return]


def _any_signal(ctx: InteractionContext, kind: str) -> bool | None:
    return _triggers(ctx).anywhere(kind)


def _first_with(ctx: InteractionContext, kinds: tuple[str, ...] = _TRIGGERS) -> int | None:
    return _triggers(ctx).first_index(kinds)


# Where a violation of a rule reading a trigger fact points: the first customer message carrying it.
_TRIGGER = EventPointer("the first customer message carrying an escalation trigger", _first_with)
_ANGER = EventPointer("the first customer message showing anger", functools.partial(_first_with, kinds=("anger",)))
_LEGAL_THREAT = EventPointer(
    "the first customer message threatening legal action", functools.partial(_first_with, kinds=("legal_threat",))
)
_REGULATOR_THREAT = EventPointer(
    "the first customer message threatening to go to a regulator",
    functools.partial(_first_with, kinds=("regulator_threat",)),
)
_REPEATED_CONTACT = EventPointer(
    "the first customer message saying the contact is repeated",
    functools.partial(_first_with, kinds=("repeated_contact",)),
)


def _previous_contacts(ctx: InteractionContext) -> int | float | None:
    """The ``previous_contacts`` attribute as a number (also written as decimal digits), else None."""
    value: Any = ctx.interaction.attributes.get("previous_contacts")
    if isinstance(value, str):
        text = value.strip()
        # isdecimal(), not isdigit(): "¹" is a digit that float() cannot read. Not int(): it refuses 4,300 digits.
        return float(text) if text.isdecimal() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # not float(value): an integer beyond 1e308 would overflow
    return None


@fact(
    "customer.anger",
    "bool",
    "a customer message shows anger: lexicon anger (\"furious\", \"unacceptable\", \"worst service\", "
    "\"wütend\", \"Frechheit\", \"utilfreds\", \"elendig\", \"बकवास\"), shouting (3+ words in capitals in a "
    "row) or \"!!!\"; null when no customer message has text",
    "true",
    family=FAMILY,
    about=_ANGER,
)
def _customer_anger(ctx: InteractionContext) -> bool | None:
    return _any_signal(ctx, "anger")


@fact(
    "customer.legal_threat",
    "bool",
    "a customer message threatens legal action (lexicon legal_threat: \"lawyer\", \"sue you\", \"court\", "
    "\"Anwalt\", \"Klage\", \"vor Gericht\", \"advokat\", \"retssag\", \"वकील\", \"अदालत\"); null when no "
    "customer message has text",
    "false",
    family=FAMILY,
    about=_LEGAL_THREAT,
)
def _customer_legal_threat(ctx: InteractionContext) -> bool | None:
    return _any_signal(ctx, "legal_threat")


@fact(
    "customer.regulator_threat",
    "bool",
    "a customer message threatens to go to a regulator or ombudsman (lexicon regulator_threat: "
    "\"ombudsman\", \"CFPB\", \"FCA\", \"BaFin\", \"Verbraucherzentrale\", \"Forbrugerombudsmanden\", "
    "\"consumer forum\", \"उपभोक्ता फोरम\"); null when no customer message has text",
    "false",
    family=FAMILY,
    about=_REGULATOR_THREAT,
)
def _customer_regulator_threat(ctx: InteractionContext) -> bool | None:
    return _any_signal(ctx, "regulator_threat")


@fact(
    "repeated_contact",
    "bool",
    "this is not the customer's first contact about the matter: interaction.attributes.previous_contacts "
    "is 1 or more, or a customer message says so (lexicon repeated_contact: \"third time\", \"already "
    "called\", \"schon wieder\", \"zum dritten Mal\", \"skriver igen\", \"allerede ringet\", \"फिर से "
    "संपर्क\"); null when neither the attribute nor a customer message with text exists",
    "true",
    family=FAMILY,
    about=_REPEATED_CONTACT,
)
def _repeated_contact(ctx: InteractionContext) -> bool | None:
    previous = _previous_contacts(ctx)
    if previous is not None and previous >= 1:
        return True
    said = _any_signal(ctx, "repeated_contact")
    if said is None:
        return None if previous is None else False
    return said


@fact(
    "escalation.triggered",
    "bool",
    "any escalation trigger: customer.anger, customer.legal_threat, customer.regulator_threat or "
    "repeated_contact. True if one is true; null if none is true and one is null; else false",
    "true",
    family=FAMILY,
    about=_TRIGGER,
)
def _escalation_triggered(ctx: InteractionContext) -> bool | None:
    unknown = False
    for trigger in (_customer_anger, _customer_legal_threat, _customer_regulator_threat, _repeated_contact):
        value = trigger(ctx)
        if value is True:
            return True  # the rest cannot change the answer: do not scan for them
        unknown = unknown or value is None
    return None if unknown else False


@fact(
    "escalation.trigger_index",
    "number",
    "event index of the first customer message carrying an escalation trigger (anger, legal or regulator "
    "threat, repeated contact in words); null when no message does (also when only the previous_contacts "
    "attribute says the contact is repeated)",
    "4",
    family=FAMILY,
    about=_TRIGGER,
)
def _escalation_trigger_index(ctx: InteractionContext) -> int | None:
    return _first_with(ctx)


# -- each event --------------------------------------------------------------------------------------------


@fact(
    "event.has_greeting",
    "bool",
    "the event's text opens with a greeting (lexicon greeting, within its first 160 characters); null when "
    "the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_greeting(ctx: InteractionContext, index: int) -> bool | None:
    text = ctx.events[index].text
    return None if text is None else _lexicon(ctx, "greeting").matches(_opening(text))


@fact(
    "event.mentions_anger",
    "bool",
    "the event's text shows anger (lexicon anger, shouting in capitals or \"!!!\", as in customer.anger), "
    "whoever wrote it; null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_mentions_anger(ctx: InteractionContext, index: int) -> bool | None:
    text = ctx.events[index].text
    return None if text is None else _lexicon(ctx, "anger").matches(text) or is_shouting(text)


@fact(
    "event.has_apology",
    "bool",
    "the event's text apologises (lexicon apology: \"sorry\", \"we apologise\", \"Entschuldigung\", "
    "\"beklager\", \"क्षमा\"); null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_apology(ctx: InteractionContext, index: int) -> bool | None:
    text = ctx.events[index].text
    return None if text is None else _lexicon(ctx, "apology").matches(text)
