"""The shortcuts of the privacy detectors and facts agree with the straightforward way of getting the answer.

Each test compares a fast path with what it stands for: the digit count with `regex`'s \\d, the detectors'
early exits with the same detector run without them, and the event and interaction facts (which share one
analysis of the interaction's texts) with the facts' definitions written out from the public detectors.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any
from unittest import mock

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.measures import CATALOGUE, privacy
from servicerules.measures.catalogue import InteractionContext, RulesetResources
from servicerules.measures.lexicons import default_lexicon
from servicerules.measures.privacy import find_card_numbers, find_cvv, find_emails, find_ibans, find_phone_numbers
from servicerules.measures.text import LexiconMatcher, normalise_text
from servicerules.model.interaction import Interaction

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# -- the digit count ------------------------------------------------------------------------------------------------


def test_every_non_ascii_digit_sends_the_count_to_regex() -> None:
    # _digit_count counts ASCII digits by bytes and asks `regex` about the rest only where a character could
    # be one: every character `regex` calls a digit, in all of Unicode, must be among those.
    every_char = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    non_ascii_digits = privacy._DIGIT.findall(every_char)
    assert len(non_ascii_digits) > 600  # Devanagari, full-width, mathematical, … digits
    assert all(privacy._MAYBE_NON_ASCII_DIGIT.match(d) for d in non_ascii_digits)


def test_no_character_below_u0640_beyond_ascii_is_a_digit() -> None:
    # so the digits of a text without a character from U+0640 up (its UTF-8 bytes tell) are its ASCII digits
    assert privacy._DIGIT.findall("".join(map(chr, range(0x80, 0x640)))) == []
    assert privacy._DIGIT.match("\u0660")


DIGITISH = ["7", "42", "४", "१२३", "１２", "𝟙", "²", "①", "ä", "अ", "ß", "\ud800", "€", "٣", " "]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(DIGITISH), st.text(max_size=4)), max_size=10))
def test_digit_count_is_regex_digits(parts: list[str]) -> None:
    text = "".join(parts)
    assert privacy._digit_count(text) == len(privacy._DIGIT.findall(text))


# -- the detectors' early exits -------------------------------------------------------------------------------------

IBANISH = ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "DE88 3704",
           "de89 3704 0044 0532 0130 00", "DE८९ 3704 0044 0532 0130 00", "xDE89", "AB12", "a1b2", "ǅ12", "ä12", "9",
           " ", "-"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(IBANISH), st.text(max_size=4)), max_size=8))
def test_iban_shape_check_never_hides_an_iban(parts: list[str]) -> None:
    text = "".join(parts)
    assert privacy._may_hold_valid_iban(text) is (re.search(r"[A-Za-z]{2}[0-9]{2}", text) is not None)
    found = find_ibans(text)
    with mock.patch.object(privacy, "_may_hold_valid_iban", lambda _text: True):
        assert find_ibans(text) == found


PHONEISH = ["+49 171 1234567", "0171 1234567", "(555) 123-4567", "1-800-555-0199", "12 34 56 78", "+45 70 20 30 40",
            "0049 30 1234567", "1234567", "123", "(12)", "call me on ", "Telefon: ", "फ़ोन ", "01.02.2026", "/", ".",
            "-", " ", "(", ")", "+", "४५६"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PHONEISH), st.text(max_size=3)), max_size=8))
def test_short_number_skip_never_hides_a_phone_number(parts: list[str]) -> None:
    # With a minimum of 0 digits, find_phone_numbers neither skips the text nor any number in it.
    text = "".join(parts)
    found = find_phone_numbers(text)
    with mock.patch.object(privacy, "_PHONE_MIN_DIGITS", 0):
        assert find_phone_numbers(text) == found


# -- the facts ------------------------------------------------------------------------------------------------------

PIECES = [
    "4111 1111 1111 1111", "4111-1111-1111-1111", "Visa 4222222222222", "Amex 3400-000000-00009", "Karte ४१११ ११११ ११११ ११११", "4111 1111 1111 1111 123", "CVV 123",
    "CVV ¹²³", "security code: 4567", "Prüfnummer १२३", "DE89 3704 0044 0532 0130 00", "jana.novak@example.com",
    "support@kestrel.example", "+49 171 1234567", "0800 123 4567", "call me on 7654321", "order 7302 1185 4420 9136",
    "Please send us your card number", "What is your password?", "never send your card number",
    "Könnten Sie mir bitte Ihre Kartennummer schicken?", "कृपया अपना ओटीपी बताएं", "my diagnosis", "Krankheit",
    "बीमारी", "PAN please", "01.02.2026", "ǅ", "ﬁ", " ", ". ", "\n",
]  # fmt: skip
CHANNELS = ["chat", "email", "social", "social", "sms", "web", "phone", "in_person"]
ROLES = ["customer", "agent", "agent", "manager", "bot", "system"]

pieces = st.sampled_from(PIECES)
texts = st.one_of(st.none(), st.lists(st.one_of(pieces, pieces, st.text(max_size=3)), max_size=5).map("".join))


@st.composite
def interactions(draw: st.DrawFn) -> dict[str, Any]:
    events = []
    for minute in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["message", "message", "note", "status"]))
        event: dict[str, Any] = {"at": (T0 + dt.timedelta(minutes=minute)).isoformat(), "type": kind}
        if kind == "status":
            event["status"] = "open"
        else:
            event["author"] = {"role": draw(st.sampled_from(ROLES))}
            event["public"] = draw(st.sampled_from([True, True, False]))
            event["text"] = draw(texts)
        events.append(event)
    return {"id": "T-1", "channel": draw(st.sampled_from(CHANNELS)), "created_at": T0.isoformat(), "events": events}


REQUEST_LEXICONS = {"event.agent_requests_card_data": "card_request", "event.agent_requests_password": "password_request"}


def defined(name: str, interaction: Interaction, index: int | None, lexicon: Any) -> Any:
    """The fact ``name`` as its description defines it, from the public detectors and the lexicons."""
    events = interaction.events
    present = [e.text for e in events if e.text is not None]
    if name == "privacy.card_numbers_count":
        return sum(len(find_card_numbers(t)) for t in present) if present else None
    if name == "privacy.has_card_data":
        return any(find_card_numbers(t) or find_cvv(normalise_text(t)) for t in present) if present else None
    if name == "privacy.has_health_data":
        return any(lexicon("health_terms").matches(t) for t in present) if present else None
    assert index is not None
    event = events[index]
    text = event.text
    company_public = event.type == "message" and event.public and event.role in ("agent", "manager", "bot", "system")
    if name in REQUEST_LEXICONS:
        if interaction.channel not in ("chat", "email", "social", "sms", "web") or not company_public or text is None:
            return None
        return any(not privacy._negated(m) for m in lexicon(REQUEST_LEXICONS[name]).finditer(text))
    if name == "event.personal_data_in_public_reply":
        if interaction.channel != "social" or not company_public or text is None:
            return None
        emails = [text[s:e] for s, e in find_emails(text)]
        phones = [text[s:e] for s, e in find_phone_numbers(text)]
        return (
            any(not privacy._is_role_mailbox(a) for a in emails)
            or any(not privacy._is_service_number(p) for p in phones)
            or bool(find_card_numbers(text))
            or bool(find_ibans(text))
        )
    if text is None:
        return None
    return {
        "event.has_card_number": lambda: bool(find_card_numbers(text)),
        "event.has_cvv": lambda: bool(find_cvv(normalise_text(text))),
        "event.has_iban": lambda: bool(find_ibans(text)),
        "event.has_health_data": lambda: lexicon("health_terms").matches(text),
    }[name]()


PRIVACY_FACTS = sorted(name for name, spec in CATALOGUE.items() if spec.family == "privacy")
OWN_CARD_REQUEST = RulesetResources(
    lexicons={"card_request": LexiconMatcher.build("card_request", {"en": ["pan please"]})}
)


@settings(max_examples=300, deadline=None)
@given(interactions(), st.permutations(PRIVACY_FACTS), st.booleans())
def test_facts_are_their_definitions(data: dict[str, Any], order: list[str], own_lexicon: bool) -> None:
    # in any order of asking (the facts share what they work out about the interaction's texts)
    interaction = Interaction.parse(data)
    resources = OWN_CARD_REQUEST if own_lexicon else RulesetResources()
    ctx = InteractionContext(interaction, T0 + dt.timedelta(days=1), resources)

    def lexicon(name: str) -> Any:
        return resources.lexicons.get(name) or default_lexicon(name)

    for name in order:
        spec = CATALOGUE[name]
        if spec.scope == "interaction":
            assert spec.compute(ctx) == defined(name, interaction, None, lexicon), name
            continue
        for index in range(len(interaction.events)):
            assert spec.compute(ctx, index) == defined(name, interaction, index, lexicon), (name, index)
