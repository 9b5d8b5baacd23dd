"""Personal data: card numbers, CVVs, IBANs, contact and health data, requests for secrets, and masking.

Card numbers are the networks' published test numbers, never real cards. Check digits in this file are
computed by :func:`luhn_complete`, written here independently of the code under test.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.measures import CATALOGUE, privacy
from servicerules.measures.catalogue import InteractionContext, RulesetResources
from servicerules.measures.privacy import (
    find_card_numbers,
    find_cvv,
    find_ibans,
    find_phone_numbers,
    iban_valid,
    iin_plausible,
    luhn_valid,
    mask_text,
)
from servicerules.measures.text import LexiconMatcher
from servicerules.model.interaction import Interaction

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the digit that makes the whole number pass the Luhn check."""
    for check in "0123456789":
        digits = [int(c) for c in prefix + check]
        odd = digits[-1::-2]
        even = [sum(divmod(2 * d, 10)) for d in digits[-2::-2]]
        if (sum(odd) + sum(even)) % 10 == 0:
            return prefix + check
    raise AssertionError("unreachable")


def cards(text: str) -> list[str]:
    return [digits for _start, _end, digits in find_card_numbers(text)]


# -- card numbers --------------------------------------------------------------------------------------------------


def test_luhn_complete_agrees_with_the_published_test_numbers() -> None:
    assert luhn_complete("411111111111111") == "4111111111111111"
    assert luhn_complete("550000000000000") == "5500000000000004"
    assert luhn_complete("34000000000000") == "340000000000009"
    assert luhn_valid("6011000000000004") and not luhn_valid("6011000000000005")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 please", ["4111111111111111"]),
        ("card 4111 1111 1111 1111 please", ["4111111111111111"]),
        ("Mastercard 5500 0000 0000 0004.", ["5500000000000004"]),
        ("Amex 3400-000000-00009", ["340000000000009"]),  # 15 digits, 4-6-5 grouping
        ("Discover 6011000000000004", ["6011000000000004"]),
        ("Visa-13: 4222222222222", ["4222222222222"]),
        (f"Visa-19: {luhn_complete('411111111111111111')}", [luhn_complete("411111111111111111")]),
        ("Karte ४१११ ११११ ११११ ११११", ["4111111111111111"]),  # Devanagari digits
        ("4111 1111 1111 1111 123", ["4111111111111111"]),  # the card, then its CVV in the same run
        ("two: 4111111111111111 and 5500-0000-0000-0004", ["4111111111111111", "5500000000000004"]),
    ],
)
def test_card_numbers_found(text: str, expected: list[str]) -> None:
    assert cards(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 7302 1185 4420 9136",  # 16 digits, fails Luhn
        "order 1234567890123456",  # fails Luhn
        f"ref {luhn_complete('41111111111')}",  # Luhn-valid but 12 digits
        f"ref {luhn_complete('4111111111111111111')}",  # Luhn-valid but 20 digits
        f"ref {luhn_complete('411111111111111')}9",  # a valid card glued to a 17th digit
        "4111 1111-1111 1111",  # spaces and dashes mixed in one number
        "4111  1111  1111  1111",  # double spaces
        "4111.1111.1111.1111",  # dots
        f"ref {luhn_complete('700000000000000')}",  # Luhn-valid, but no network issues numbers starting 7
        f"ref {luhn_complete('340000000000000')}",  # Luhn-valid, but an Amex has 15 digits, not 16
        f"ref {luhn_complete('41111111111111')}",  # Luhn-valid, but a Visa has 13, 16 or 19 digits
        "phone +49 171 1234567",
    ],
)
def test_card_numbers_not_found(text: str) -> None:
    assert cards(text) == []


def test_card_span_covers_the_digits_and_separators() -> None:
    assert find_card_numbers("Card: 5500-0000-0000-0004!") == [(6, 25, "5500000000000004")]


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("4111111111111111", True),
        ("4222222222222", True),
        ("411111111111111", False),  # Visa 15
        ("340000000000009", True),
        ("3400000000000000", False),  # Amex 16
        ("5500000000000004", True),
        ("55000000000000049", False),  # Mastercard 17
        ("2221000000000009", True),  # Mastercard 2-series
        ("6011000000000004", True),
        ("3530111333300000", True),  # JCB
        ("5019717010103742", True),  # Dankort
        ("0000000000000000", False),
        ("7000000000000005", False),
    ],
)
def test_iin_plausible(digits: str, expected: bool) -> None:
    assert iin_plausible(digits) is expected


# -- CVV ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CVV 123", "123"),
        ("my cvc2 is 987", "987"),
        ("security code: 4567", "4567"),
        ("Prüfnummer 123", "123"),
        ("Die Kartenprüfnummer lautet 321.", "321"),
        ("sikkerhedskode 123", "123"),
        ("the 3-digit code on the back is 555", "555"),
        ("CVV (on the back, next to the signature) 246", "246"),  # 37 characters away
    ],
)
def test_cvv_found(text: str, code: str) -> None:
    assert [text[s:e] for s, e in find_cvv(text)] == [code]


@pytest.mark.parametrize(
    "text",
    [
        "order 123",  # no card-security word
        "my card ends in 1234",  # "card" alone is not enough: that is the last four
        "CVV 12345",  # five digits
        "CVV 12",
        "CVV? I did not get any email about it from your team so far, sorry: 123",  # more than 40 characters
    ],
)
def test_cvv_not_found(text: str) -> None:
    assert find_cvv(text) == []


# -- IBAN -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("DE89370400440532013000", True),
        ("de89 3704 0044 0532 0130 00", True),
        ("DE89 3704 0044 0532 0130 01", False),  # one digit changed: mod 97 catches it
        ("DE88 3704 0044 0532 0130 00", False),  # check digits changed
        ("DE89 3704 0044 0532 0130 0", False),  # too short for Germany
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DK50 0040 0440 1162 43", True),
        ("XX89 3704 0044 0532 0130 00", False),  # no such country
    ],
)
def test_iban_valid(iban: str, expected: bool) -> None:
    assert iban_valid(iban) is expected


def test_ibans_found_in_text() -> None:
    text = "IBAN: DE89 3704 0044 0532 0130 00, or GB82WEST12345698765432 thanks"
    assert [text[s:e] for s, e in find_ibans(text)] == ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"]
    assert find_ibans("IBAN DE89 3704 0044 0532 0130 01") == []


# -- phone numbers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("reach me at +49 171 1234567 tonight", "+49 171 1234567"),
        ("ring 0171-1234567", "0171-1234567"),
        ("(555) 123-4567", "(555) 123-4567"),
        ("ring på 12 34 56 78", "12 34 56 78"),
        ("call me on 9876543210", "9876543210"),
        ("मेरा फ़ोन नंबर 9876543210 है", "9876543210"),
    ],
)
def test_phone_numbers_found(text: str, phone: str) -> None:
    assert [text[s:e] for s, e in find_phone_numbers(text)] == [phone]


@pytest.mark.parametrize(
    "text",
    ["order 9876543210", "Date 2026-03-02", "order 1234567", "€ 1.299,00", "am 01.02.2026 10:00 Uhr",
     "on 02/03/2026 09:15", "ticket EM-1013"],
)
def test_phone_numbers_not_found(text: str) -> None:
    assert find_phone_numbers(text) == []


# -- masking --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Card 4111 1111 1111 1111 charged", "Card 411111••••••1111 charged"),
        ("5500-0000-0000-0004", "550000••••••0004"),
        # shorter numbers keep fewer leading digits, so that at least six are always hidden
        ("Amex 3400-000000-00009", "Amex 34000••••••0009"),
        ("4222222222222", "422••••••2222"),
        (luhn_complete("411111111111111111"), "411111•••••••••" + luhn_complete("411111111111111111")[-4:]),
        # masking does not need the strict shape: mixed separators, dots, double spaces, tabs
        ("4111 1111-1111 1111", "411111••••••1111"),
        ("4111.1111.1111.1111", "411111••••••1111"),
        ("4111  1111 - 1111\t1111", "411111••••••1111"),
        ("४१११ ११११ ११११ ११११", "४१११११••••••११११"),
        # invisible characters, accents, slashes and other dashes between the digits hide nothing
        ("4111\u200b1111\u200b1111\u200b1111", "411111••••••1111"),
        ("4111\u00ad1111\u2060\u200c1111\u200d1111", "411111••••••1111"),
        ("4\u03031\u03031\u03031 1111 1111 1111", "411111••••••1111"),
        ("4111/1111/1111/1111", "411111••••••1111"),
        ("4111_1111_1111_1111", "411111••••••1111"),
        ("4111\uff0d1111\u22121111－1111", "411111••••••1111"),
        ("card 4111 1111 1111 1111 CVV 123", "card 411111••••••1111 CVV •••"),
        ("4111 1111 1111 1111 123", "411111••••••1111 123"),
        ("order 1234567890123456", "order 1234567890123456"),  # not Luhn-valid: left alone
        ("IBAN DE89 3704 0044 0532 0130 00.", "IBAN DE89 •••• •••• •••• •••• ••."),
        ("IBAN DE89 3704 0044 0532 0130 01", "IBAN DE89 •••• •••• •••• •••• ••"),  # a mistyped IBAN too
        ("security code: 4567", "security code: ••••"),
        ("write to jana.novak@example.com", "write to j•••@example.com"),
        ("call me on +49 171 1234567", "call me on +•• ••• •••••67"),
        ("order 9876543210", "order 9876543210"),
        ("geliefert am 01.02.2026 10:00 Uhr", "geliefert am 01.02.2026 10:00 Uhr"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_iban_digits_are_not_reread_as_a_card() -> None:
    # 89 3704 0044 0532 0130 00 would hold Luhn-valid 13-19 digit windows; the IBAN mask comes first.
    assert mask_text("DE89 3704 0044 0532 0130 00") == "DE89 •••• •••• •••• •••• ••"


_SEPARATORS = st.sampled_from(["", "", " ", "-", ".", "  ", " - ", "\u00a0", "\t", "–", "\u200b", "\u2060", "\u00ad",
                               "/", "_", "\uff0d", "\u2212", "\u0303", " /"])
_TEXT = st.text(st.characters(blacklist_categories=("Nd", "No", "Cs")), max_size=30)
_RUN_SEPARATOR = re.compile(r"[\s.\-\u2010-\u2015\u2212\uff0d/_\u200b\u2060\u00ad\u0303]{1,3}")  # what _SEPARATORS draws


@st.composite
def embedded_cards(draw: st.DrawFn) -> tuple[str, str]:
    """A random Luhn-valid 13-19 digit number, split into random groups by random separators, inside random
    text without digits."""
    length = draw(st.integers(13, 19))
    body = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - 1, max_size=length - 1)))
    card = luhn_complete(body)
    pieces = [card[0]]
    for digit in card[1:]:
        pieces.append(draw(_SEPARATORS) + digit)
    return card, draw(_TEXT) + " " + "".join(pieces) + " " + draw(_TEXT)


def _digit_runs(text: str) -> list[str]:
    """Digits that read as one number: consecutive digits joined only by spaces, dashes or dots."""
    runs, current, pending = [], "", ""
    for char in text:
        if char.isdecimal():
            current += char
            pending = ""
        elif current and _RUN_SEPARATOR.fullmatch(pending + char):
            pending += char
        else:
            if current:
                runs.append(current)
            current, pending = "", ""
    if current:
        runs.append(current)
    return runs


@settings(max_examples=400, deadline=None)
@given(embedded_cards())
def test_masked_text_never_reveals_a_card(sample: tuple[str, str]) -> None:
    card, text = sample
    masked = mask_text(text)
    digits = "".join(c for c in masked if c.isdecimal())
    assert card not in digits
    windows = {card[i : i + 7] for i in range(len(card) - 6)}
    for run in _digit_runs(masked):
        assert not any(run[i : i + 7] in windows for i in range(len(run) - 6)), (text, masked)
    # what is left of the card is a prefix of at most six digits and the last four
    assert any(digits == card[:keep] + card[-4:] and len(card) - keep - 4 >= 6 for keep in range(7)), (text, masked)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="@")))
def test_text_without_digits_or_addresses_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789४१२３", max_size=24))
def test_luhn_valid_agrees_with_the_independent_check(digits: str) -> None:
    ascii_digits = "".join(str(int(c)) for c in digits)
    assert luhn_valid(digits) is (luhn_complete(ascii_digits[:-1]) == ascii_digits if ascii_digits else True)


CVV_WORDS = ["CVV", "cvc2", "CAV2", "csc", "card security code", "Security Code", "card verification value",
             "3-digit code", "four digit security code", "digits on the back", "Sicherheitscode", "KARTENPRÜFNUMMER",
             "Prüfziffern", "sikkerhedskoden", "kontrolcifre", "Kontrolnummeret", "सीवीवी", "सुरक्षा कोड", "code", "card"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(CVV_WORDS), st.sampled_from(["123", "4567", "12", "१२३", "is", ":", "İ", "ß"]),
                       st.text(max_size=5)), max_size=6),
    st.sampled_from([str, str.upper, str.lower]),
)
def test_cvv_prefilter_never_hides_a_code(parts: list[str], case: Any) -> None:
    # find_cvv only runs its expression on text with a digit and a card-security word; the answer is the same
    text = case(" ".join(parts))
    assert find_cvv(text) == [m.span(1) for m in privacy._CVV.finditer(text)]


DIGIT_PIECES = ["4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "4111111111111", "1234567",
                "+49 171 1234567", "0171 1234567", "(555) 123-4567", "12 34 56 78", "DE89 3704 0044 0532 0130 00",
                "CVV 123", "security code: 4567", "Prüfnummer १२३", "call me on", "01.02.2026", "#12345", "４１１１",
                "j@x.io", "1", "12", "123", "-", " ", ".", "  "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(DIGIT_PIECES), st.text(max_size=4)), max_size=8))
def test_digit_count_prefilters_never_hide_a_finding(parts: list[str]) -> None:
    # the detectors and mask_text skip a text with fewer digits than they need; counted generously, the
    # answers are the same
    text = "".join(parts)
    filtered = (find_card_numbers(text), find_cvv(text), find_phone_numbers(text), mask_text(text))
    with mock.patch.object(privacy, "_digit_count", lambda _text: 10**6):
        assert (find_card_numbers(text), find_cvv(text), find_phone_numbers(text), mask_text(text)) == filtered


@pytest.mark.parametrize("text", ["", "no digits", "１２３", "४५६ 7", "a1b2c3", "𝟙𝟚"])
def test_digit_count_counts_what_the_detectors_read(text: str) -> None:
    assert privacy._digit_count(text) == len(privacy._DIGIT.findall(text))


def test_digit_runs_helper() -> None:
    assert _digit_runs("ab 4111 11•• 1111 x 12-34") == ["411111", "1111", "1234"]


# -- facts ----------------------------------------------------------------------------------------------------------


def msg(role: str, text: str | None, minute: int, **extra: Any) -> dict[str, Any]:
    event = {"at": (T0 + dt.timedelta(minutes=minute)).isoformat(), "type": "message", "author": {"role": role},
             "text": text}
    event.update(extra)
    return event


def context(*events: dict[str, Any], channel: str = "chat", resources: RulesetResources | None = None) -> InteractionContext:
    data = {"id": "T-1", "channel": channel, "created_at": T0.isoformat(), "events": list(events)}
    interaction = Interaction.parse(data)
    as_of = T0 + dt.timedelta(days=1)
    return InteractionContext(interaction, as_of) if resources is None else InteractionContext(interaction, as_of, resources)


def fact(name: str, ctx: InteractionContext, index: int | None = None) -> Any:
    spec = CATALOGUE[name]
    return spec.compute(ctx) if index is None else spec.compute(ctx, index)


def test_event_card_cvv_iban_facts() -> None:
    ctx = context(
        msg("customer", "My card is 4111 1111 1111 1111, CVV 123", 0),
        msg("customer", "IBAN DE89 3704 0044 0532 0130 00", 1),
        msg("customer", "order 7302 1185 4420 9136", 2),
        {"at": (T0 + dt.timedelta(minutes=3)).isoformat(), "type": "status", "status": "pending"},
    )
    assert [fact("event.has_card_number", ctx, i) for i in range(4)] == [True, False, False, None]
    assert [fact("event.has_cvv", ctx, i) for i in range(4)] == [True, False, False, None]
    assert [fact("event.has_iban", ctx, i) for i in range(4)] == [False, True, False, None]


def test_digits_counted_once_per_event_still_see_what_normalisation_adds() -> None:
    # The facts count an event's digits once for every detector; a CVV written in superscripts has no digit
    # until NFKC makes it one, and must still be found, as find_cvv on the normalised text finds it.
    ctx = context(msg("customer", "CVV ¹²³", 0), msg("customer", "card 4111-1111-1111-1111 and CVV 123", 1))
    assert [fact("event.has_cvv", ctx, i) for i in range(2)] == [True, True]
    assert fact("event.has_card_number", ctx, 1) is True
    assert fact("privacy.card_numbers_count", ctx) == 1
    assert fact("privacy.has_card_data", ctx) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My diagnosis came back yesterday", True),
        ("I need the prescription refilled", True),
        ("Meine Krankheit ist chronisch", True),
        ("Ich bin krankgeschrieben", True),
        ("Jeg har en sygdom", True),
        ("Min recept er udløbet", True),
        ("मुझे यह बीमारी है", True),
        ("मेरी दवाई खत्म हो गई", True),
        ("Where is my parcel?", False),
        ("Ich bin krank vor Sorge um das Paket", False),  # "krank" alone is not in the lexicon
    ],
)
def test_event_has_health_data(text: str, expected: bool) -> None:
    assert fact("event.has_health_data", context(msg("customer", text, 0)), 0) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@jana we sent the label to jana.novak@example.com", True),
        ("@jana we will call you on +49 171 1234567", True),
        ("@jana please DM us or write to support@kestrel.example", False),  # a role mailbox
        ("@jana call our hotline 0800 123 4567", False),  # toll-free: the company's line
        ("@jana call us on +45 70 20 30 40", False),  # Danish shared-cost service number
        ("@jana contact +44 333 103 1031 option 1, 4, 3", False),  # UK 03: an organisation's number
        ("@jana ring +44 345 600 0145", False),
        ("@jana we will ring you on +44 7700 900123", True),  # a UK mobile
        # national 03331 is also a German area code (Angermünde): a person's number there
        ("@jana call 03331 031 031", True),
        ("@jana your card 4111 1111 1111 1111 was refunded", True),
        ("@jana refunded to DE89 3704 0044 0532 0130 00", True),
        ("@jana it ships today", False),
    ],
)
def test_personal_data_in_a_public_social_reply(text: str, expected: bool) -> None:
    ctx = context(msg("customer", "@kestrel where is my parcel", 0), msg("agent", text, 5), channel="social")
    assert fact("event.personal_data_in_public_reply", ctx, 1) is expected


@pytest.mark.parametrize(
    ("number", "personal"),
    [
        # UK numbers for organisations (docs/reference/facts.md: "UK +44 3/80/84/87"), written with +44 or 0044
        ("+44 300 123 4567", False),  # 03: charged as a geographic call
        ("+44 808 157 0192", False),  # 080: free
        ("+44 843 123 4567", False),  # 084: 843 is a toll-free code nowhere else
        ("+44 845 600 0145", False),
        ("+44 870 123 4567", False),  # 087
        ("+44 871 123 4567", False),
        ("0044 345 600 0145", False),
        ("0044 808 157 0192", False),
        ("0044 845 600 0145", False),
        ("0044 870 123 4567", False),
        # national: 0800 is toll-free across Europe; 03 and 0808 are German area codes too, so a person's
        ("0800 157 0192", False),
        ("0808 157 0192", True),  # also 08081 Dorfen
        ("0300 123 4567", True),
        # personal: UK mobiles and geographic numbers in every form, and a 3 after another country's code
        ("07700 900123", True),
        ("+44 7700 900123", True),
        ("0044 7700 900123", True),
        ("020 7946 0018", True),
        ("+44 20 7946 0018", True),
        ("+44 1632 960123", True),
        ("+49 30 1234567", True),  # Berlin
    ],
)
def test_uk_service_numbers_are_not_personal_data_in_a_public_social_reply(number: str, personal: bool) -> None:
    text = f"@jana call {number} today"
    assert [text[s:e] for s, e in find_phone_numbers(text)] == [number]  # found whole: the number decides
    ctx = context(msg("customer", "@kestrel where is my parcel", 0), msg("agent", text, 5), channel="social")
    assert fact("event.personal_data_in_public_reply", ctx, 1) is personal


@pytest.mark.parametrize(
    ("number", "personal"),
    [
        # a toll-free code of one country is an area code in another: each country's list is its own
        ("+49 8441 123456", True),  # Pfaffenhofen, though 844 is toll-free after +1
        ("08441 123456", True),
        ("08331 123456", True),  # Memmingen (833)
        ("01 80 12 34 56", True),  # a Paris line, though German service numbers start 0180
        ("0180 5 123456", False),  # German service: 11 digits
        ("+49 180 5 123456", False),
        ("+1 844 555 0100", False),  # North American toll-free
        ("1-844-555-0100", False),
        ("(888) 555-0100", False),
        ("+33 800 123 456", False),  # French, Austrian, Swiss free numbers
        ("+43 800 123456", False),
        ("+41 800 123 456", False),
    ],
)
def test_service_numbers_are_told_apart_from_area_codes_country_by_country(number: str, personal: bool) -> None:
    text = f"@jana call {number} today"
    assert [text[s:e] for s, e in find_phone_numbers(text)] == [number]
    ctx = context(msg("customer", "@kestrel where is my parcel", 0), msg("agent", text, 5), channel="social")
    assert fact("event.personal_data_in_public_reply", ctx, 1) is personal


def test_personal_data_in_public_reply_is_only_about_public_company_messages_on_social() -> None:
    email = "mail jana.novak@example.com"
    social = context(
        msg("customer", email, 0),
        msg("agent", email, 1, public=False),
        msg("bot", email, 2),
        channel="social",
    )
    assert [fact("event.personal_data_in_public_reply", social, i) for i in range(3)] == [None, None, True]
    assert fact("event.personal_data_in_public_reply", context(msg("agent", email, 0), channel="email"), 0) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please send us your card number and the CVV.", True),
        ("What's your card number?", True),
        ("We will need your full card details to proceed.", True),
        ("Könnten Sie mir bitte Ihre Kartennummer schicken?", True),
        ("Bitte teilen Sie uns Ihre Kreditkartennummer mit.", True),
        ("Send venligst dit kortnummer.", True),
        ("Hvad er dit kortnummer?", True),
        ("कृपया अपना कार्ड नंबर भेजें।", True),
        # negated: the opposite of a request
        ("Please never send your card number by chat.", False),
        ("Please don't share your card details here.", False),
        ("Bitte senden Sie uns niemals Ihre Kartennummer.", False),
        ("Senden Sie Ihre Kartennummer bitte nicht per E-Mail.", False),
        ("Send aldrig dit kortnummer.", False),
        ("अपना कार्ड नंबर कभी साझा न करें।", False),
        # no request at all
        ("The card ending 1111 was refunded.", False),
        ("You can update your card details in the app.", False),
    ],
)
def test_agent_requests_card_data(text: str, expected: bool) -> None:
    assert fact("event.agent_requests_card_data", context(msg("agent", text, 0)), 0) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is your password?", True),
        ("Please send me your login details.", True),
        ("Could you tell me the one-time code we sent?", True),
        ("Nennen Sie mir bitte Ihr Passwort.", True),
        ("Hvad er din adgangskode?", True),
        ("कृपया अपना ओटीपी बताएं", True),
        ("You can reset your password here.", False),
        ("We will never ask for your password.", False),
        ("Teilen Sie niemandem Ihr Passwort mit.", False),
        ("Del aldrig din adgangskode med nogen.", False),
    ],
)
def test_agent_requests_password(text: str, expected: bool) -> None:
    assert fact("event.agent_requests_password", context(msg("agent", text, 0)), 0) is expected


def test_requests_are_judged_only_for_company_messages_on_insecure_channels() -> None:
    ask = "Please send us your card number."
    assert fact("event.agent_requests_card_data", context(msg("agent", ask, 0), channel="email"), 0) is True
    assert fact("event.agent_requests_card_data", context(msg("bot", ask, 0), channel="web"), 0) is True
    assert fact("event.agent_requests_card_data", context(msg("agent", ask, 0), channel="phone"), 0) is None
    assert fact("event.agent_requests_card_data", context(msg("customer", ask, 0)), 0) is None
    assert fact("event.agent_requests_password", context(msg("agent", None, 0)), 0) is None


def test_request_lexicon_can_be_replaced_by_the_ruleset() -> None:
    resources = RulesetResources(lexicons={"card_request": LexiconMatcher.build("card_request", {"en": ["pan please"]})})
    ctx = context(msg("agent", "PAN please", 0), msg("agent", "Please send us your card number.", 1), resources=resources)
    assert [fact("event.agent_requests_card_data", ctx, i) for i in range(2)] == [True, False]


def test_interaction_privacy_facts() -> None:
    ctx = context(
        msg("customer", "Card 4111 1111 1111 1111, or Amex 3400-000000-00009", 0),
        msg("customer", "again: 4111111111111111", 1),  # the same card again is another exposure
        msg("agent", "Got it, sorry to hear about the diagnosis.", 2),
    )
    assert fact("privacy.card_numbers_count", ctx) == 3
    assert fact("privacy.has_card_data", ctx) is True
    assert fact("privacy.has_health_data", ctx) is True


def test_cvv_alone_is_card_data() -> None:
    ctx = context(msg("customer", "the CVV is 123", 0))
    assert (fact("privacy.card_numbers_count", ctx), fact("privacy.has_card_data", ctx)) == (0, True)


def test_interaction_privacy_facts_without_any_text_are_null() -> None:
    call = {"at": T0.isoformat(), "type": "call.queued"}
    ctx = context(call, channel="phone")
    names = ("privacy.card_numbers_count", "privacy.has_card_data", "privacy.has_health_data")
    assert [fact(n, ctx) for n in names] == [None, None, None]
    clean = context(msg("customer", "Where is my parcel?", 0))
    assert [fact(n, clean) for n in names] == [0, False, False]


def test_no_text_or_privacy_fact_value_holds_a_card_number() -> None:
    ctx = context(
        msg("customer", "Card 4111 1111 1111 1111 CVV 123, IBAN DE89 3704 0044 0532 0130 00", 0),
        msg("agent", "Hi, please never send your card number. Sorry!", 1),
    )
    for name, spec in CATALOGUE.items():
        if spec.family not in ("privacy", "text"):
            continue
        values = [spec.compute(ctx)] if spec.scope == "interaction" else [spec.compute(ctx, i) for i in range(2)]
        for value in values:
            assert value is None or isinstance(value, (bool, int)), name
            assert "4111111111111111" not in re.sub(r"\D", "", str(value)), name


PRIVACY_FACTS = {
    "event.has_card_number": ("bool", "event"),
    "event.has_cvv": ("bool", "event"),
    "event.has_iban": ("bool", "event"),
    "event.has_health_data": ("bool", "event"),
    "event.personal_data_in_public_reply": ("bool", "event"),
    "event.agent_requests_card_data": ("bool", "event"),
    "event.agent_requests_password": ("bool", "event"),
    "privacy.card_numbers_count": ("number", "interaction"),
    "privacy.has_card_data": ("bool", "interaction"),
    "privacy.has_health_data": ("bool", "interaction"),
}


def test_privacy_facts_are_catalogued_and_documented() -> None:
    registered = {name: (s.type, s.scope) for name, s in CATALOGUE.items() if s.family == "privacy"}
    assert registered == PRIVACY_FACTS
    for name in PRIVACY_FACTS:
        spec = CATALOGUE[name]
        assert len(spec.description) > 40 and spec.example, name
        assert "|" not in spec.description + spec.example, name


@pytest.mark.parametrize(
    ("unit", "hidden"),
    [("4111-1111-1111-1111 ", "1111-1111"), ("DE89 3704 0044 0532 0130 00 ", "3704 0044"), ("AB12 ", None)],
    ids=["card numbers", "ibans", "iban-shaped groups"],
)
def test_masking_a_long_text_takes_linear_time(unit: str, hidden: str | None) -> None:
    # 80,000 characters of digit groups: masking was quadratic in such a run (over a minute per megabyte of
    # card numbers, 10 s here) and held a host's evaluate() for as long.
    text = unit * (80_000 // len(unit))
    started = time.perf_counter()
    masked = mask_text(text)
    assert time.perf_counter() - started < 2.0
    assert hidden not in masked if hidden else masked == text
