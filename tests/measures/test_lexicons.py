"""The shipped lexicons' pattern keywords: a necessary condition for a match of their regular expressions.

The prefilter may only skip a text the patterns cannot match. The texts here are built from the patterns'
own pieces (a request verb, a few words in between, a noun in each of its spellings), so that most of them
do match, with the separators and case changes the patterns allow and a few that they do not.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.measures.lexicons import default_lexicon
from servicerules.measures.text import LexiconMatcher

VERBS = [
    "send", "provide", "share", "give", "tell", "confirm", "post", "dm", "message", "reply with", "read out",
    "spell out", "we need", "I'll require", "we'd need", "schicken Sie", "teilen", "nennen", "bestätigen",
    "brauchen", "oplys", "angiv", "giv", "har brug for", "skal bruge", "ihre", "die", "das", "deine",
]  # fmt: skip
NOUNS = {
    "card_request": [
        "card number", "credit card details", "debit card info", "bank card information", "card no", "card data",
        "card's number", "card's details", "cvv", "cvv2", "cvc", "security code", "expiry date",
        "expiration date", "Kreditkartennummer", "Kartendaten", "Prüfnummer", "Sicherheitscode", "Ablaufdatum",
        "kortnummeret", "kortoplysningerne", "sikkerhedskoden", "kontrolcifre", "udløbsdatoen", "कार्ड नंबर",
        "कार्ड का विवरण", "सीवीवी", "एक्सपायरी डेट", "समाप्ति तिथि",
    ],
    "password_request": [
        "password", "passcode", "pass code", "pin", "pin code", "pin number", "login details",
        "login credentials", "login data", "login info", "login information", "credentials",
        "one-time password", "one time code", "one-time passcode", "otp", "2fa code", "Passwort",
        "Einmalpasswort", "Kennwort", "pin-code", "Zugangsdaten", "Anmeldedaten", "Login-Daten", "Logindaten",
        "TAN", "adgangskoden", "kodeordet", "passwordet", "pinkode", "pin-koden", "loginoplysninger",
        "engangskoden", "MitID-kode", "NemID-koden", "पासवर्ड", "पिन", "ओटीपी", "लॉगिन विवरण", "गुप्त कोड",
    ],
}  # fmt: skip
HINDI_VERBS = ["भेजें", "बताएं", "दीजिए", "शेयर करें", "लिखिए"]
FILLERS = ["your", "us", "the", "Ihre", "mir", "dit", "venligst", "full", "time", "login", "pass", "security", "x"]
SEPARATORS = [" ", "  ", "\n", "\t", "\u00a0", "-", ". ", "\u2009"]
CASES = [str, str.upper, str.title, str.swapcase, lambda t: t.replace("i", "İ").replace("I", "ı")]


def unfiltered(matcher: LexiconMatcher) -> LexiconMatcher:
    """The same lexicon searched without the prefilter (a never-matching pattern without keywords turns it off)."""
    return LexiconMatcher.build(matcher.name, matcher.phrases, (*matcher.patterns, "(?!)"))


def _words(parts: list[str], separators: list[str]) -> str:
    return "".join(p + separators[i % len(separators)] for i, p in enumerate(parts))


@pytest.mark.parametrize("name", sorted(NOUNS))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_prefilter_never_skips_a_request_the_patterns_match(name: str, data: Any) -> None:
    pieces = [
        data.draw(st.sampled_from([*VERBS, *HINDI_VERBS])),
        *data.draw(st.lists(st.sampled_from(FILLERS), max_size=3)),
        data.draw(st.sampled_from(NOUNS[name])),
        data.draw(st.sampled_from(["", *HINDI_VERBS, "mit", "please", "?"])),
    ]
    separators = data.draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=4))
    case = data.draw(st.sampled_from(CASES))
    text = case(_words(pieces, separators))
    matcher = default_lexicon(name)
    assert matcher is not None
    assert matcher.matches(text) == unfiltered(matcher).matches(text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # one example for each noun whose keyword is not its first word
        ("card_request", "please confirm the security code"),
        ("password_request", "send us the pass code"),
        ("password_request", "send the one time passcode"),
        ("password_request", "tell me your login info"),
        ("password_request", "provide your login\ndata"),
        ("password_request", "schicken Sie Ihre Login-Daten"),
    ],
)
def test_requests_named_by_their_last_word_are_found(name: str, text: str) -> None:
    matcher = default_lexicon(name)
    assert matcher is not None
    assert matcher.matches(text)


@pytest.mark.parametrize(
    "text",
    # everyday uses of the words the keywords no longer include
    ["I've reset the login for your account", "at this time", "you can pass it on", "one more time"],
)
def test_everyday_words_do_not_reach_the_password_patterns(text: str) -> None:
    matcher = default_lexicon("password_request")
    assert matcher is not None and matcher._keywords is not None
    assert not matcher._keywords.may_match(text)
