"""Lexicon matching (Unicode word boundaries, case folding) and the text facts built on it.

Every expectation is written by hand; comments say why a case must come out the way it does.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

import servicerules
from servicerules.measures import CATALOGUE, text as text_module, text_facts
from servicerules.measures.catalogue import NO_RESOURCES, InteractionContext, RulesetResources
from servicerules.measures.lexicons import DEFAULT_LEXICONS, default_lexicon
from servicerules.measures.text import Keywords, LexiconMatcher, name_matcher
from servicerules.measures.text_facts import is_shouting
from servicerules.model.interaction import Interaction

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def lexicon(*phrases: str, patterns: tuple[str, ...] = ()) -> LexiconMatcher:
    return LexiconMatcher.build("test", {"*": phrases}, patterns)


# -- LexiconMatcher ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        # full case folding: ß folds to ss both ways, and the capital ẞ too
        ("straße", "STRASSE 5", True),
        ("straße", "Strasse 5", True),
        ("strasse", "Hauptstraße", False),  # a whole word, not the end of a compound
        ("strasse", "in der Straße", True),
        ("strasse", "STRAẞE", True),
        ("grüß gott", "GRÜSS GOTT beisammen", True),
        ("grüß gott", "Gru\u0308ß Gott", True),  # decomposed ü (u + combining diaeresis) is NFKC-normalised
        # German compounds need the trailing * …
        ("entschuldig*", "Entschuldigung für die Verspätung", True),
        ("entschuldig*", "wir ENTSCHULDIGEN uns", True),
        ("entschuldig*", "unentschuldigt", False),  # … which extends to the right only
        ("entschuldig", "Entschuldigung", False),
        # Danish letters æ ø å are letters: no boundary inside "kæreste"
        ("kære", "KÆRE Mette", True),
        ("kære", "min kæreste", False),
        ("tak", "Tak for hjælpen", True),
        ("tak", "vi har takket nej", False),
        ("på gensyn", "PÅ GENSYN", True),
        ("søren", "Hej SØREN!", True),
        # Hindi: vowel signs (matras) and the virama are combining marks, part of the word
        ("नमस्ते", "नमस्ते राहुल", True),
        ("नमस्ते", "राहुल, नमस्ते।", True),  # the danda is punctuation
        ("नमस्ते", "नमस्तेजी", False),  # inside a longer Devanagari word
        ("नमस्त", "नमस्ते", False),  # stops before the vowel sign े, which belongs to the word
        ("ते", "नमस्ते", False),  # starts after the virama ्, also part of the word
        ("दवा", "यह दवाई लें", False),
        ("दवा*", "यह दवाई लें", True),
        ("माफ़ी", "माफ़ी चाहते हैं", True),  # phrase with precomposed फ़ (U+095E), text with फ + nukta
        ("क्षमा", "क्\u200dषमा करें", True),  # a zero-width joiner inside the word does not split it
        # whitespace and punctuation
        ("guten tag", "Guten\n  Tag, Frau Novak", True),
        ("i'm", "I’m Sam", True),  # typographic apostrophe
        ("!!!", "where is it!!!", True),  # no word boundary needed before punctuation
        ("hi", "hi-fi", True),  # a hyphen is a boundary
        ("hi", "this", False),
    ],
)
def test_phrase_matching(phrase: str, text: str, expected: bool) -> None:
    assert lexicon(phrase).matches(text) is expected


def test_empty_phrases_and_empty_text() -> None:
    assert not lexicon("", "  ", "*").matches("anything")
    assert not lexicon("hello").matches(None)
    assert not lexicon("hello").matches("")


def test_patterns_and_phrases_are_one_lexicon() -> None:
    matcher = lexicon("hello", patterns=(r"order\s+#?\d{4}",))
    assert matcher.matches("Order #1234 is late")
    assert matcher.matches("hello")
    assert not matcher.matches("order 12")


def test_finditer_reports_every_match_in_the_normalised_text() -> None:
    matches = list(lexicon("sorry").finditer("Sorry, SORRY and sorry’s"))
    assert [m.group() for m in matches] == ["Sorry", "SORRY", "sorry"]
    assert matches[2].string == "Sorry, SORRY and sorry's"


def test_matching_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A matcher compiles its expression once, when built; matching only searches."""
    matcher = lexicon("hello", "entschuldig*")
    greeting = default_lexicon("greeting")

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("compiled while matching")

    monkeypatch.setattr(text_module.regex, "compile", refuse)
    assert matcher.matches("Hello!") and greeting is not None and greeting.matches("Hej Mette")


# -- the keyword prefilter -------------------------------------------------------------------------------------
#
# A matcher first checks that the text contains, in any case, the longest word of some phrase (or a keyword of
# its patterns) and skips the regular expression otherwise. It must never change an answer.


def unfiltered(matcher: LexiconMatcher) -> LexiconMatcher:
    """The same lexicon searched without the prefilter (a never-matching pattern without keywords turns it off)."""
    return LexiconMatcher.build(matcher.name, matcher.phrases, (*matcher.patterns, "(?!)"))


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        # regex lets "i" match the Turkish dotted İ and "I" the dotless ı, where casefold() does not
        ("ing", "İNG", True),
        ("I'm", "ı'm here", True),
        ("hi", "Hİ there", True),
        # full case folding both ways: ß/ẞ against ss
        ("strasse", "STRAẞE", True),
        ("straße", "STRASSE", True),
        ("grüß gott", "GRÜSS GOTT", True),
        # a character Python's Unicode database may not know yet: the text is searched without prefilter
        ("strasse", "stra\U0001df95e", regex.search("strasse", "stra\U0001df95e", regex.I | regex.F | regex.V1) is not None),
        # emoji and other blocks outside the prefilter's alphabet
        ("sorry", "SORRY 😀", True),
        ("sorry", "so rry 😀", False),
    ],
)
def test_prefilter_agrees_with_the_regular_expression(phrase: str, text: str, expected: bool) -> None:
    assert lexicon(phrase).matches(text) is expected
    assert unfiltered(lexicon(phrase)).matches(text) is expected


TRICKY = ["İ", "ı", "ß", "ẞ", "ſ", "K", "Σ", "ς", "\u0307", "\u200d", "\u00ad", "’", "!", " ", "\n", "😀", "\U0001df95", "ﬀ", "４"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(DEFAULT_LEXICONS)),
    st.lists(
        st.one_of(
            st.sampled_from([p for langs in DEFAULT_LEXICONS.values() for ps in langs.values() for p in ps]),
            st.sampled_from(TRICKY),
            st.text(max_size=6),
        ),
        max_size=6,
    ),
    st.sampled_from([str, str.upper, str.swapcase, lambda t: t.replace("i", "İ").replace("I", "ı")]),
)
def test_default_lexicons_find_what_they_find_without_the_prefilter(name: str, parts: list[str], case: Any) -> None:
    matcher = default_lexicon(name)
    assert matcher is not None
    text = case(" ".join(parts))
    found, expected = matcher.search(text), unfiltered(matcher).search(text)
    assert (found and found.span()) == (expected and expected.span())
    assert [m.span() for m in matcher.finditer(text)] == [m.span() for m in unfiltered(matcher).finditer(text)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # one example for each of the default lexicons' regular expressions (their keywords must cover them)
        ("self_introduction", "I'm Sam from support"),
        ("self_introduction", "I AM Priya"),
        ("self_introduction", "This is Anna from billing"),
        ("self_introduction", "Ich bin Jonas"),
        ("self_introduction", "Jeg er Mette"),
        ("self_introduction", "मैं राहुल बोल रहा हूँ"),
        ("card_request", "Please send us your credit card number"),
        ("card_request", "could you confirm the CVV"),
        ("card_request", "SHARE THE EXPIRY DATE"),
        ("card_request", "Bitte schicken Sie uns Ihre Kreditkartennummer"),
        ("card_request", "Teilen Sie uns die Prüfnummer mit"),
        ("card_request", "ob Sie uns Ihre vollständige Kartennummer senden"),
        ("card_request", "Send venligst dit kortnummer"),
        ("card_request", "oplys sikkerhedskoden"),
        ("card_request", "कार्ड नंबर भेजें"),
        ("password_request", "please tell me your password"),
        ("password_request", "send the one-time code"),
        ("password_request", "give us your 2FA code"),
        ("password_request", "provide your login details"),
        ("password_request", "Nennen Sie mir Ihr Kennwort"),
        ("password_request", "schicken Sie die TAN"),
        ("password_request", "ob Sie uns Ihre Zugangsdaten geben"),
        ("password_request", "Oplys din MitID-kode"),
        ("password_request", "ओटीपी बताएं"),
    ],
)
def test_pattern_keywords_cover_the_default_patterns(name: str, text: str) -> None:
    matcher = default_lexicon(name)
    assert matcher is not None and matcher.pattern_keywords
    assert unfiltered(matcher).matches(text), "example no longer matches: pick one that does"
    assert matcher.matches(text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # the other alternatives of the request nouns, each found through a whole word or a word part
        ("card_request", "please provide the security code"),
        ("card_request", "send us the card's details"),
        ("card_request", "confirm the CVC2"),
        ("card_request", "tell me the expiration date"),
        ("card_request", "Nennen Sie uns das Ablaufdatum"),
        ("card_request", "bitte senden Sie den Sicherheitscode"),
        ("card_request", "oplys kontrolcifre"),
        ("card_request", "send venligst udløbsdatoen"),
        ("card_request", "bekræft kortnummeret"),
        ("card_request", "सीवीवी भेजें"),
        ("card_request", "एक्सपायरी डेट बताएं"),
        ("password_request", "send us your passcode"),
        ("password_request", "tell me the pass code"),
        ("password_request", "confirm your PIN number"),
        ("password_request", "send us your credentials"),
        ("password_request", "reply with the OTP"),
        ("password_request", "Schicken Sie uns Ihr Einmalpasswort"),
        ("password_request", "geben Sie die Login-Daten"),
        ("password_request", "oplys din pinkode"),
        ("password_request", "oplys din pin-koden"),
        ("password_request", "send din NemID-kode"),
        ("password_request", "giv os loginoplysninger"),
        ("password_request", "लॉगिन विवरण भेजें"),
        ("password_request", "गुप्त कोड बताएं"),
    ],
)
def test_pattern_words_cover_the_default_patterns(name: str, text: str) -> None:
    matcher = default_lexicon(name)
    assert matcher is not None
    assert unfiltered(matcher).matches(text), "example no longer matches: pick one that does"
    assert matcher.matches(text)


PUNCTUATED = ["e-rezept", "mir reicht's", "!!!", "i'm", "sue you", "afvis*", "x-ten*", "dr. no", "a-b-c", "’s", "ok!",
              "pin-kode*", "नमस्ते", "क्षमा*", "groß", "ſtraße"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PUNCTUATED), min_size=1, max_size=3),
    st.lists(
        st.one_of(st.sampled_from(PUNCTUATED), st.sampled_from(TRICKY + ["-", "'", "*", "x", "_", "1"]), st.text(max_size=4)),
        max_size=6,
    ),
    st.sampled_from([str, str.upper, str.swapcase]),
    st.sampled_from(["", " ", "-"]),
)
def test_whole_word_prefilter_agrees_with_the_regular_expression(
    phrases: list[str], parts: list[str], case: Any, glue: str
) -> None:
    # phrases with inner punctuation, prefixes and no word at all, in texts that glue words onto them
    matcher = lexicon(*phrases)
    text = case(glue.join(parts))
    assert [m.span() for m in matcher.finditer(text)] == [m.span() for m in unfiltered(matcher).finditer(text)]


# The classes that lexicon expressions scope case-sensitively, (?-i:…), to be searched faster: each must hold
# every case variant of its members, so that IGNORECASE could not have changed what it matches.
@pytest.mark.parametrize("cls", [r"[\p{L}\p{M}\p{N}_]", r"[\p{L}\p{M}]", r"\p{L}", r"\p{M}", r"[\p{L}\p{M}'-]"])
def test_scoped_letter_classes_are_closed_under_case(cls: str) -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    flags = regex.IGNORECASE | regex.FULLCASE | regex.VERSION1
    assert regex.findall(cls, every, flags) == regex.findall(cls, every, regex.VERSION1)


def test_folding_keeps_word_characters_apart_from_the_others() -> None:
    # The whole-word prefilter tells word characters from the others in the case-folded text by a set of its
    # own: there, on every character a prefiltered text can hold, it must agree with `regex`'s word class, and
    # folding must turn a word character into word characters only, anything else into no word character.
    is_word = regex.compile(r"[\p{L}\p{M}\p{N}_]")
    for char in text_module._folded_alphabet():
        assert (char in text_module._FOLDED_WORD_CHARS) == (is_word.match(char) is not None), hex(ord(char))
        if text_module._word_index(char) is not None:
            word = is_word.match(char) is not None
            assert all((is_word.match(f) is not None) == word for f in text_module._fold(char)), hex(ord(char))


# Texts of the settled blocks (the ones the prefilter reads), with the characters where words may split wrongly:
# non-ASCII punctuation (danda, euro, dashes, no-break space), Devanagari signs, letters that fold to two.
SETTLED = st.one_of(
    st.characters(max_codepoint=0x24F),
    st.characters(min_codepoint=0x900, max_codepoint=0x97F),
    st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
    st.characters(min_codepoint=0x20A0, max_codepoint=0x20BF),
    st.sampled_from(["İ", "ı", "ß", "ŉ", "ǅ", "।", "€", "–", "\xa0", "\u200d", "\u093c", "\x1c", "\x85", "\u2028", "‿"]),
)


@settings(max_examples=500, deadline=None)
@given(st.text(SETTLED, max_size=30))
def test_word_index_finds_the_words_of_the_regular_expression(text: str) -> None:
    # The index cuts a text into words by turning every other character into a space; its words must be the
    # maximal runs of `regex`'s word characters in the folded text, in order.
    index = text_module._word_index(text)
    assert index is not None
    assert index.spaced.split() == regex.findall(r"[\p{L}\p{M}\p{N}_]+", index.folded)
    assert index.spaced.startswith(" ")


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(SETTLED, st.sampled_from(TRICKY), st.characters()), max_size=12))
def test_a_text_s_alphabet_and_normal_form(text: str) -> None:
    # What is worked out once per text (and cached) is what it stands for.
    settled = set(text_module._SETTLED_CHARS)
    assert text_module.is_settled(text) is all(c in settled for c in text)
    assert text_module.is_latin_1(text) is all(c <= "\xff" for c in text)
    assert text_module.normalise_text(text) == unicodedata.normalize("NFKC", text).translate(text_module._TRANSLATE)


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.characters(max_codepoint=0xFF), st.sampled_from(["µ", "ß", "ÿ", "\xa0", "\xad", "×"])), max_size=30))
def test_word_index_of_latin_1_texts_finds_the_words_of_the_regular_expression(text: str) -> None:
    # A Latin-1 text (most German and Danish ones) is cut into words through its Latin-1 bytes: the same words.
    index = text_module._word_index(text)
    assert index is not None
    assert index.spaced.split() == regex.findall(r"[\p{L}\p{M}\p{N}_]+", index.folded)
    assert index.spaced.startswith(" ")


# -- one table of the keywords of every lexicon ----------------------------------------------------------------
#
# Each text is looked up once for the keywords of all live Keywords (text._KeywordTable), each of its words
# classified once and remembered. Whatever the table remembers, each Keywords must answer what its definition
# says about that text.


def keywords_by_definition(keywords: Keywords, text: str) -> bool:
    """What Keywords.may_match answers, by the definition in its docstring, on the text's word index (each
    Keywords on its own, as before the table)."""
    index = text_module._word_index(text)
    if index is None:
        return True
    fold, words = text_module._fold, set(index.spaced.split())
    substrings = [fold(w) for w in keywords.words]
    # A word start that holds a substring keyword is left out, as found anyway; it is not, where the start
    # has a character that is no word character (a space in the spaced text, which phrases never give).
    starts = [fold(p) for p in keywords.word_starts if not any(s in fold(p) for s in substrings)]
    return (
        any(s in index.folded for s in substrings)
        or any(fold(key) in words and all(fold(w) in index.folded for w in rest) for key, *rest in keywords.whole_words)
        or any(" " + start in index.spaced for start in starts)
    )


# Keys that are prefixes or parts of one another (across Keywords too), that hold characters that are no word
# characters, that fold to other lengths, and none at all.
KEY_PIECES = ["card", "car", "cardigan", "kort", "kortnummer", "kode", "login-daten", "login", "daten", "!!!", "'s", "i'm",
              "e-rezept", "rezept", "straße", "STRASSE", "ss", "नमस्ते", "नम", "entschuldig", "Ent", "x", "sur", "pin",
              "µ", "μ", "İ", "ı", "i", "a b", " ", "-", ""]  # fmt: skip
KEYS = st.one_of(st.sampled_from(KEY_PIECES), st.text(SETTLED, max_size=3))
KEYWORDS = st.tuples(
    st.lists(KEYS, max_size=3).map(tuple),
    st.lists(st.lists(KEYS, min_size=1, max_size=3).map(tuple), max_size=3).map(tuple),
    st.lists(KEYS, max_size=3).map(tuple),
)


@settings(max_examples=400, deadline=None)
@example([((), (), ("card",)), ((), (), ("car",))], [["Cardigan"]], str, "")  # word starts of other Keywords
@example([(("login-daten",), (), ()), ((), (("daten",),), ())], [["die", "Login", "daten"], ["LOGIN-DATEN"]], str, " ")
@given(
    st.lists(KEYWORDS, min_size=2, max_size=4),
    st.lists(st.lists(st.one_of(st.sampled_from(KEY_PIECES + TRICKY), st.text(SETTLED, max_size=4)), max_size=6), min_size=1, max_size=4),
    st.sampled_from([str, str.upper, str.title]),
    st.sampled_from(["", " ", "-", "."]),
)
def test_the_keyword_table_answers_what_each_keywords_defines(
    specs: list[Any], texts: list[list[str]], case: Any, glue: str
) -> None:
    # A first Keywords sees the texts alone; then others join (a new table), and the texts are asked again.
    first = Keywords(*specs[0])
    samples = [case(glue.join(parts)) for parts in texts]
    for text in samples:
        assert first.may_match(text) is keywords_by_definition(first, text), text
    everyone = [first, *(Keywords(*spec) for spec in specs[1:])]
    for _ in range(2):  # the second time from what the table and the texts' indexes remember
        for keywords in everyone:
            for text in samples:
                assert keywords.may_match(text) is keywords_by_definition(keywords, text), (keywords, text)


def test_a_slot_handed_on_does_not_answer_for_its_former_keywords() -> None:
    # The slot of a collected Keywords goes to a new one: what a text said about the old one must not stick.
    import gc

    text = "Die Quokkafütterung ist heute"
    old = Keywords((), (("zorblax",),))
    slot = old._slot
    assert not old.may_match(text)
    del old
    gc.collect()
    new = [Keywords((), (("heute",),))]
    while new[-1]._slot != slot:  # slots are handed out lowest first: others may have been freed below it
        new.append(Keywords((), (("heute",),)))
    assert all(keywords.may_match(text) for keywords in new)


def test_a_table_that_forgets_words_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # A table remembers only so many words: past that it starts afresh, and must still find every keyword.
    monkeypatch.setattr(text_module, "_WORDS_KEPT", 3)
    matcher = default_lexicon("anger")
    assert matcher is not None
    texts = [f"order {n} is late, this is {word}" for n, word in enumerate(["unacceptable", "fine", "a SCAM", "ok"] * 5)]
    for text in texts:
        text_module._word_index.cache_clear()  # each text worked out again, on a table that keeps forgetting
        assert matcher.matches(text) is unfiltered(matcher).matches(text), text


def test_lexicons_built_and_collected_in_other_threads_leave_matching_right() -> None:
    # Rulesets loaded in one thread (new lexicons, new tables, slots freed and handed on) while others match.
    import gc
    import sys
    import threading

    texts = [f"Hallo, {word} {n}" for n in range(40) for word in ("das ist eine Frechheit", "danke", "ANWALT", "gut")]
    names = ["anger", "thanks", "legal_threat", "greeting"]
    matchers = {name: default_lexicon(name) for name in names}
    expected = {(name, text): unfiltered(m).matches(text) for name, m in matchers.items() if m for text in texts}
    failures: list[Any] = []
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            LexiconMatcher.build("churn", {"de": [f"frechheit{n}", "danke schön", f"wort{n}*"]}).matches(texts[n % len(texts)])
            n += 1
            if n % 10 == 0:
                gc.collect()

    def match() -> None:
        for _ in range(3):
            for (name, text), answer in expected.items():
                if matchers[name].matches(text) is not answer:  # type: ignore[union-attr]
                    failures.append((name, text))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        churner = threading.Thread(target=churn)
        churner.start()
        workers = [threading.Thread(target=match) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        stop.set()
        churner.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failures


def test_a_lexicon_with_patterns_but_no_keywords_is_never_prefiltered() -> None:
    matcher = lexicon("hello", patterns=(r"order\s+#?\d{4}",))
    assert matcher.matches("ORDER 1234")  # no phrase word in it: only the pattern can say so


def test_default_lexicons_are_built_once() -> None:
    assert default_lexicon("anger") is default_lexicon("anger")
    assert default_lexicon("no-such-lexicon") is None


def test_every_default_lexicon_has_all_four_languages() -> None:
    for name, phrases in DEFAULT_LEXICONS.items():
        assert set(phrases) == {"en", "de", "da", "hi"}, name
    for name in ("thanks", "denial", "anger", "legal_threat", "regulator_threat", "repeated_contact",
                 "self_introduction", "card_request", "password_request", "health_terms"):
        assert name in DEFAULT_LEXICONS


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("Jana Novak", "Hi Jana,", True),
        ("Jana Novak", "Dear Ms NOVAK", True),
        ("Jana Novak", "Hi Janaina", False),
        ("Dr. Jana Novak", "Dear Dr. Smith", False),  # the title is not a name
        ("J. Novak", "J. we will call", False),  # nor is an initial
        ("Jürgen Groß", "Sehr geehrter Herr GROSS", True),
        ("Søren Østergaard", "Kære SØREN", True),
        ("राहुल शर्मा", "नमस्ते राहुल जी", True),
        ("राहुल शर्मा", "नमस्ते राहुलजी", False),
    ],
)
def test_name_matcher(name: str, text: str, expected: bool) -> None:
    matcher = name_matcher(name)
    assert matcher is not None and matcher.matches(text) is expected


def test_name_matcher_of_only_a_title_is_none() -> None:
    assert name_matcher("Mr") is None
    assert name_matcher("  ") is None


# Names and the texts that mention them: Latin and Devanagari (with vowel signs and a virama, which must not
# split a word), letters that fold to two ("ß") or that `regex` folds differently from str.casefold ("İ",
# "ı"), other scripts, regular-expression metacharacters, apostrophes, hyphens and invisible joiners.
NAME_PIECES = ["jana", "NOVAK", "Groß", "GROSS", "ss", "Søren", "ÆBLE", "o'brien", "Jean-Luc", "राहुल", "शर्मा", "जी",
               "\u093f", "\u094d", "Ωmega", "Анна", "李", "a.b", "(x)", "[jo]", "c++", "$5", "^a|b", "x*", "?", "\\",
               "{2}", "_", "1", "İlker", "ılık", "ǅ", "ŉ", "µ"]
NAME_GLUE = ["", " ", "-", ",", ".", "'", "\n", "a", "ा", "\u200d", "!", "4"]


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(NAME_PIECES), st.text(min_size=1, max_size=5)), min_size=1, max_size=3),
    st.lists(st.one_of(st.sampled_from(NAME_PIECES), st.sampled_from(NAME_GLUE), st.sampled_from(TRICKY), st.text(max_size=3)),
             max_size=8),
    st.sampled_from([str, str.upper, str.lower, str.title, str.casefold, str.swapcase]),
    st.sampled_from(["", " ", "-", "\u094d"]),
)
def test_name_matcher_agrees_with_the_regular_expression(
    pieces: list[str], others: list[str], case: Any, glue: str
) -> None:
    # The name's own parts, in another case, glued to other words or not: the matcher without a regular
    # expression must find exactly what the lexicon regex of the same parts finds.
    name = " ".join(pieces)
    parts = text_module._name_parts(name)
    matcher = name_matcher(name)
    assert (matcher is None) == (not parts)
    if matcher is None:
        return
    reference = text_module._regex_name_matcher(tuple(parts))
    for text in (glue.join([*others, case(name)]), glue.join([case(p) for p in pieces] + others), case(glue.join(others))):
        assert matcher.matches(text) is reference.matches(text), (parts, text)
        normalised = text_module.normalise_text(text)
        assert matcher.matches_normalised(normalised, normalised.casefold()) is reference.matches(text)


def test_a_name_never_seen_compiles_no_regular_expression() -> None:
    matcher = text_module.NameMatcher(["Søren", "शर्मा", "O'Brien"])
    assert matcher.matches("Kære SØREN,") and matcher.matches("नमस्ते शर्मा जी") and matcher.matches("Dear Mr O’BRIEN")
    assert not matcher.matches("Kære Sørensen") and not matcher.matches("शर्माजी")
    assert matcher._compiled is None
    # a name in a script the folding is not vouched for goes to the regular expression
    assert text_module.NameMatcher(["Анна"]).matches("Привет, АННА!")


# -- building interactions ------------------------------------------------------------------------------------


def msg(role: str, text: str | None, minute: int, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"at": (T0 + dt.timedelta(minutes=minute)).isoformat(), "type": "message",
                             "author": {"role": role}, "text": text}
    author = extra.pop("author", None)
    if author:
        event["author"].update(author)
    event.update(extra)
    return event


def action(name: str, minute: int) -> dict[str, Any]:
    return {"at": (T0 + dt.timedelta(minutes=minute)).isoformat(), "type": "action",
            "author": {"role": "agent"}, "action": name}


def context(
    *events: dict[str, Any],
    customer: str | None = "Jana Novak",
    agents: list[dict[str, Any]] | None = None,
    attributes: dict[str, Any] | None = None,
    as_of: dt.datetime | None = None,
    resources: RulesetResources = NO_RESOURCES,
) -> InteractionContext:
    data: dict[str, Any] = {"id": "T-1", "channel": "email", "created_at": T0.isoformat(), "events": list(events)}
    if customer is not None:
        data["customer"] = {"name": customer}
    if agents:
        data["agents"] = agents
    if attributes:
        data["attributes"] = attributes
    return InteractionContext(Interaction.parse(data), as_of or T0 + dt.timedelta(days=1), resources)


def fact(name: str, ctx: InteractionContext, index: int | None = None) -> Any:
    spec = CATALOGUE[name]
    return spec.compute(ctx) if index is None else spec.compute(ctx, index)


ASK = msg("customer", "Where is my parcel?", 0)


# -- the first reply -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Hi Jana, it ships today.", True),
        ("Guten Tag Frau Novak, das Paket ist unterwegs.", True),
        ("Hej Jana, pakken er sendt.", True),
        ("नमस्ते जाना जी, आपका पार्सल भेज दिया गया है।", True),
        ("It ships today.", False),
        ("It ships today with the hi-fi set.", True),  # "hi" within the opening counts …
        ("It ships today. " + "x" * 150 + " hi", False),  # … but not past the first 160 characters
    ],
)
def test_first_reply_has_greeting(reply: str, expected: bool) -> None:
    assert fact("first_reply.has_greeting", context(ASK, msg("agent", reply, 30))) is expected


def test_greeting_is_judged_on_the_personal_reply_not_the_autoresponder() -> None:
    ctx = context(
        ASK,
        msg("system", "Hello! We got your e-mail.", 1, automated="autoresponder"),
        msg("agent", "It ships today.", 30),
    )
    assert fact("first_reply.has_greeting", ctx) is False


def test_first_reply_facts_are_null_without_a_personal_reply() -> None:
    ctx = context(ASK, msg("system", "Hello Jana, thanks for writing", 1, automated="autoresponder"))
    for name in ("first_reply.has_greeting", "first_reply.introduces_agent", "first_reply.addresses_customer",
                 "last_reply.offers_help", "last_reply.thanks"):
        assert fact(name, ctx) is None, name


@pytest.mark.parametrize(
    ("reply", "author", "expected"),
    [
        ("Hello, my name is Sam and I will help.", {}, True),
        ("Hi, I'm Sam from Kestrel.", {}, True),
        ("Hi, I’m Sam.", {}, True),
        ("Hi, I'm sorry for the delay.", {}, False),
        ("Hi, I'm Happy to help.", {}, False),
        ("This is Priya from billing.", {}, True),
        ("Guten Tag, mein Name ist Anna.", {}, True),
        ("Guten Tag, ich bin Anna vom Kundenservice.", {}, True),
        ("Guten Tag, ich bin froh, dass es geklappt hat.", {}, False),
        ("Hej, jeg hedder Mette.", {}, True),
        ("Hej, mit navn er Mette.", {}, True),
        ("नमस्ते, मेरा नाम राहुल है।", {}, True),
        ("नमस्ते, मैं राहुल बोल रहा हूँ।", {}, True),
        ("It ships today.\nBest regards, Priya", {"name": "Priya Sharma"}, True),
        ("It ships today.\nBest regards, the team", {"name": "Priya Sharma"}, False),
        ("It ships today.", {}, False),
    ],
)
def test_first_reply_introduces_agent(reply: str, author: dict[str, str], expected: bool) -> None:
    ctx = context(ASK, msg("agent", reply, 30, author=author))
    assert fact("first_reply.introduces_agent", ctx) is expected


def test_agent_name_comes_from_the_agents_list_when_the_event_has_only_an_id() -> None:
    reply = msg("agent", "It ships today. – Lena", 30, author={"id": "a7"})
    assert fact("first_reply.introduces_agent", context(ASK, reply, agents=[{"id": "a7", "name": "Lena Berg"}])) is True
    assert fact("first_reply.introduces_agent", context(ASK, reply, agents=[{"id": "a8", "name": "Lena Berg"}])) is False


@pytest.mark.parametrize(
    ("customer", "reply", "expected"),
    [
        ("Jana Novak", "Hi Jana, it ships today.", True),
        ("Jana Novak", "Dear Ms Novak, it ships today.", True),
        ("Jana Novak", "HELLO JANA", True),
        ("Jana Novak", "Hello, it ships today.", False),
        ("Jana Novak", "Hi Janaina", False),
        ("Jürgen Groß", "Sehr geehrter Herr Gross,", True),
        ("Søren Østergaard", "Kære Søren", True),
        ("राहुल शर्मा", "नमस्ते राहुल जी", True),
        ("राहुल शर्मा", "नमस्ते जी", False),
        (None, "Hi Jana", None),  # unknown name: not applicable
        ("Mr", "Hi Mr", None),  # nothing but a title to look for
    ],
)
def test_first_reply_addresses_customer(customer: str | None, reply: str, expected: bool | None) -> None:
    ctx = context(ASK, msg("agent", reply, 30), customer=customer)
    assert fact("first_reply.addresses_customer", ctx) is expected


def test_only_the_first_personal_reply_counts_for_addressing() -> None:
    ctx = context(ASK, msg("agent", "It ships today.", 30), msg("agent", "Hi Jana, it has arrived.", 90))
    assert fact("first_reply.addresses_customer", ctx) is False


# -- the last reply ---------------------------------------------------------------------------------------------


def test_last_reply_offers_help_reads_the_last_personal_reply() -> None:
    offers, plain = "Is there anything else I can do?", "Refund issued."
    assert fact("last_reply.offers_help", context(ASK, msg("agent", plain, 30), msg("agent", offers, 60))) is True
    assert fact("last_reply.offers_help", context(ASK, msg("agent", offers, 30), msg("agent", plain, 60))) is False
    assert fact("last_reply.offers_help", context(ASK, msg("agent", "Haben Sie weitere Fragen?", 30))) is True


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Thanks for your patience!", True),
        ("Thank you, Jana.", True),
        ("Vielen Dank für Ihre Geduld.", True),
        ("Mange tak for din tålmodighed.", True),
        ("आपके धैर्य के लिए धन्यवाद।", True),
        ("शुक्रिया!", True),
        ("Refund issued.", False),
        ("Vi har takket nej til tilbuddet.", False),  # "takket" is not "tak"
    ],
)
def test_last_reply_thanks(reply: str, expected: bool) -> None:
    assert fact("last_reply.thanks", context(ASK, msg("agent", reply, 30))) is expected


# -- apology before denial ----------------------------------------------------------------------------------------


def test_apology_before_a_denial_action() -> None:
    ctx = context(ASK, msg("agent", "I'm so sorry about this.", 30), action("refund_denied", 40))
    assert fact("apology_before_denial", ctx) is True


def test_apology_only_after_the_denial_action_is_too_late() -> None:
    ctx = context(ASK, action("refund_denied", 20), msg("agent", "Sorry about that.", 30))
    assert fact("apology_before_denial", ctx) is False


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Sorry, but this order is not eligible for a refund.", True),  # the denying message itself
        ("Unfortunately this order is not eligible for a refund.", False),  # "unfortunately" is no apology
        ("Es tut uns leid, aber eine Rückgabe ist nicht möglich.", True),
        ("Eine Rückgabe ist leider nicht möglich.", False),
        ("Vi beklager, men det er ikke muligt at returnere varen.", True),
        ("क्षमा करें, यह रिफंड संभव नहीं है।", True),
    ],
)
def test_apology_in_the_denying_reply(reply: str, expected: bool) -> None:
    assert fact("apology_before_denial", context(ASK, msg("agent", reply, 30))) is expected


def test_no_denial_means_not_applicable() -> None:
    assert fact("apology_before_denial", context(ASK, msg("agent", "Refund issued, sorry for the wait.", 30))) is None
    # the customer's own words are not the company's denial
    assert fact("apology_before_denial", context(msg("customer", "Am I not eligible?", 0))) is None
    # an earlier denial in an internal note does not count either
    note = {**msg("agent", "Not eligible, deny it.", 10), "type": "note", "public": False}
    assert fact("apology_before_denial", context(ASK, note)) is None


# -- autoresponder only ------------------------------------------------------------------------------------------


AUTO = msg("system", "We received your message.", 1, automated="autoresponder")


def test_autoresponder_only() -> None:
    assert fact("autoresponder_only", context(ASK, AUTO)) is True
    assert fact("autoresponder_only", context(ASK, AUTO, msg("agent", "Hi Jana", 30))) is False
    assert fact("autoresponder_only", context(ASK, msg("bot", "I am the Kestrel bot.", 1))) is True


def test_autoresponder_only_ignores_replies_after_as_of() -> None:
    ctx = context(ASK, AUTO, msg("agent", "Hi Jana", 300), as_of=T0 + dt.timedelta(hours=2))
    assert fact("autoresponder_only", ctx) is True


def test_autoresponder_only_is_null_when_nothing_was_sent_or_nobody_wrote() -> None:
    assert fact("autoresponder_only", context(ASK)) is None  # plainly unanswered
    assert fact("autoresponder_only", context(AUTO)) is None  # no customer message
    internal = {**msg("system", "Auto-assigned to billing", 1, automated="trigger"), "public": False}
    assert fact("autoresponder_only", context(ASK, internal)) is None  # the customer saw nothing


# -- escalation triggers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is unacceptable.", True),
        ("Worst service ever", True),
        ("It's a disgrace, your app is useless", True),
        ("I hate this company", True),
        ("wtf, where is my refund", True),
        ("Fucking hell, two weeks now", True),
        ("I hate to bother you again, sorry", False),  # a courtesy, not anger
        ("Which is more useful?", False),
        ("Das ist eine Frechheit!", True),
        ("Ich bin wirklich wütend.", True),
        ("Jeg er meget utilfreds.", True),
        ("Det er elendig service", True),
        ("यह बकवास सेवा है", True),
        ("WHERE IS MY ORDER", True),  # shouting
        ("Where is it!!!", True),
        ("I ordered via DHL UPS GLS", False),  # acronyms are not shouting
        ("I AM OK", False),  # three capitals, none of four letters
        ("Thanks!", False),
        ("Where is my parcel?", False),
    ],
)
def test_customer_anger(text: str, expected: bool) -> None:
    assert fact("customer.anger", context(msg("customer", text, 0))) is expected


def test_anger_in_an_agent_message_is_not_the_customer_s() -> None:
    ctx = context(ASK, msg("agent", "This delay is unacceptable, sorry!", 30))
    assert fact("customer.anger", ctx) is False
    assert fact("event.mentions_anger", ctx, 1) is True  # the event fact looks at any author


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I will talk to my lawyer.", True),
        ("I'm going to sue you", True),
        ("See you in court.", True),
        ("Ich schalte meinen Anwalt ein.", True),
        ("Wir sehen uns vor Gericht.", True),
        ("Das Gericht war kalt.", False),  # "Gericht" is also a dish
        ("Jeg kontakter min advokat.", True),
        ("मैं अदालत जाऊंगा", True),
        ("Hi, this is Sue from accounts", False),  # a name, not a threat
    ],
)
def test_customer_legal_threat(text: str, expected: bool) -> None:
    assert fact("customer.legal_threat", context(msg("customer", text, 0))) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'll file a complaint with the CFPB.", True),
        ("Ich melde das der BaFin.", True),
        ("Ich gehe zur Verbraucherzentrale.", True),
        ("Jeg klager til Forbrugerombudsmanden.", True),
        ("मैं उपभोक्ता फोरम में शिकायत करूंगा", True),
        ("I'll go to the consumer forum", True),
        ("Where is my parcel?", False),
    ],
)
def test_customer_regulator_threat(text: str, expected: bool) -> None:
    assert fact("customer.regulator_threat", context(msg("customer", text, 0))) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is the third time I write about this.", True),
        ("I already called yesterday.", True),
        ("Ich schreibe schon wieder wegen der Rechnung.", True),
        ("Ich melde mich zum dritten Mal.", True),
        ("Jeg har allerede ringet to gange.", True),
        ("Jeg skriver igen om min ordre.", True),
        ("मैं फिर से संपर्क कर रहा हूँ", True),
        ("I have called several times about this.", True),
        ("Jeg har ringet flere gange.", True),
        ("I've reset it several times.", False),  # the fault repeats, not the contact
        ("Min router mister forbindelsen flere gange om dagen.", False),
        ("Ich habe das Gerät mehrmals neu gestartet.", False),
        ("Thanks again!", False),  # a bare "again" is not a repeat contact
        ("Tak igen!", False),
        ("Where is my parcel?", False),
    ],
)
def test_repeated_contact_in_words(text: str, expected: bool) -> None:
    assert fact("repeated_contact", context(msg("customer", text, 0))) is expected


def test_repeated_contact_from_the_previous_contacts_attribute() -> None:
    assert fact("repeated_contact", context(ASK, attributes={"previous_contacts": 2})) is True
    assert fact("repeated_contact", context(attributes={"previous_contacts": 1})) is True  # no text needed
    assert fact("repeated_contact", context(attributes={"previous_contacts": "3"})) is True
    assert fact("repeated_contact", context(ASK, attributes={"previous_contacts": 0})) is False
    assert fact("repeated_contact", context(attributes={"previous_contacts": 0})) is False
    assert fact("repeated_contact", context(attributes={"previous_contacts": True})) is None  # not a count
    assert fact("repeated_contact", context()) is None


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param("\u0967", True, id="devanagari-one"),  # a decimal digit
        pytest.param("\uff10", False, id="full-width-zero"),
        pytest.param("\u00b9", None, id="superscript-one"),  # a digit, but not one counts are written with
        pytest.param("1.5", None, id="fraction"),
        pytest.param("9" * 5000, True, id="5000-digits"),  # beyond what int() reads from text
        pytest.param(10**400, True, id="huge"),  # beyond what a float holds
        pytest.param(-(10**400), False, id="huge-negative"),
    ],
)
def test_previous_contacts_written_oddly(count: object, expected: bool | None) -> None:
    assert fact("repeated_contact", context(attributes={"previous_contacts": count})) is expected


def test_escalation_trigger_and_its_index() -> None:
    ctx = context(
        ASK,
        msg("agent", "Hi Jana, checking.", 30),
        msg("customer", "Still nothing. I will call my lawyer.", 60),
        msg("customer", "This is UNACCEPTABLE", 70),
    )
    assert fact("escalation.triggered", ctx) is True
    assert fact("escalation.trigger_index", ctx) == 2
    assert (fact("customer.legal_threat", ctx), fact("customer.anger", ctx)) == (True, True)


def test_no_escalation() -> None:
    ctx = context(ASK, msg("agent", "Hi Jana, it ships today.", 30))
    assert fact("escalation.triggered", ctx) is False
    assert fact("escalation.trigger_index", ctx) is None


def test_escalation_from_the_attribute_alone_has_no_message_index() -> None:
    ctx = context(ASK, attributes={"previous_contacts": 1})
    assert fact("escalation.triggered", ctx) is True
    assert fact("escalation.trigger_index", ctx) is None


def test_customer_facts_are_null_without_customer_text() -> None:
    call = {"at": T0.isoformat(), "type": "call.queued"}
    ctx = context(call, msg("agent", "Hello", 1))
    for name in ("customer.anger", "customer.legal_threat", "customer.regulator_threat", "repeated_contact",
                 "escalation.triggered", "escalation.trigger_index"):
        assert fact(name, ctx) is None, name
    # a known "no" for one trigger does not make the others known
    assert fact("escalation.triggered", context(call, attributes={"previous_contacts": 0})) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("THIS IS UNACCEPTABLE", True),
        ("I WANT MY MONEY back", True),
        ("ICH WILL MEIN GELD", True),
        ("DAS IST EINE FRECHHEIT", True),
        ("JEG ER MEGET SUR", True),
        ("JEG ER SÅ SUR", False),  # capitals, but no word of four letters
        ("My order from DHL", False),
        ("NOT OK AT ALL", False),  # no word of four letters
        ("!!", False),
        ("wow!!!!", True),
        ("Ｗow！！！", True),  # full-width exclamation marks fold to "!"
    ],
)
def test_is_shouting(text: str, expected: bool) -> None:
    assert is_shouting(text) is expected


def shouting_without_prefilter(text: str) -> bool:
    text = text_module.normalise_text(text)
    if regex.search("!{3,}", text):
        return True
    runs = text_facts._SHOUT.finditer(text)
    return any(any(len(word) >= 4 for word in text_facts._LETTERS.findall(run.group())) for run in runs)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["THIS", "IS", "UNACCEPTABLE", "I'M", "ÆRGERLIGT", "GRÜẞE", "STRAßE", "A", "OK", "Ǆ", "ǅ",
                             "ΣΟΣ", "А", "É", "E\u0301", "this", "Is", "Ok", "नमस्ते", "1234", "😀", "ǅAVOLA"]),
            st.sampled_from([" ", ", ", "-", " - ", ".", "!", "!!", "\n", "\x85", "\u2028", "\x1c", "\xa0", "_", "'", "।"]),
            st.text(SETTLED, max_size=3),
        ),
        max_size=10,
    )
)
def test_shouting_prefilter_agrees_with_the_regular_expression(parts: list[str]) -> None:
    # is_shouting rules most texts out with a `re` scan for three capitalised words in a row, exact on texts
    # of the settled blocks; it must answer what the `regex` scan alone answers.
    text = "".join(parts)
    assert is_shouting(text) is shouting_without_prefilter(text)


@settings(max_examples=300, deadline=None)
@example(["DIE", " ", "FÜR", " ", "GROßE"])  # no four capitals in a row without ß
@example(["JEG", " ", "ER", " ", "SÅDAN"])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["SÅDAN", "ÜBEL", "ÆØÅÆ", "ÉÉÉ", "GROßE", "ßßßß", "FÜR", "Ärger", "ÅH", "I'M", "µ", "ÿ", "DIE"]),
            st.sampled_from([" ", ", ", "-", "!", "\xa0", "\x85", "'", "×"]),
            st.text(st.characters(max_codepoint=0xFF), max_size=3),
        ),
        max_size=8,
    )
)
def test_shouting_in_latin_1_texts_agrees_with_the_regular_expression(parts: list[str]) -> None:
    # A Latin-1 text is ruled out by its bytes (no four capitals in a row) before any scan: with accented
    # capitals and ß, which are letters of a word in capitals too.
    text = "".join(parts)
    assert is_shouting(text) is shouting_without_prefilter(text)


# -- event facts ---------------------------------------------------------------------------------------------------


def test_event_text_facts() -> None:
    ctx = context(
        msg("customer", "Hallo, das ist eine Frechheit!", 0),
        msg("agent", "Hej Jana, undskyld ventetiden.", 30),
        action("refund_denied", 40),
    )
    assert [fact("event.has_greeting", ctx, i) for i in range(3)] == [True, True, None]
    assert [fact("event.mentions_anger", ctx, i) for i in range(3)] == [True, False, None]
    assert [fact("event.has_apology", ctx, i) for i in range(3)] == [False, True, None]


# -- a ruleset's lexicons replace the defaults ---------------------------------------------------------------------


def test_a_ruleset_lexicon_replaces_the_default() -> None:
    resources = RulesetResources(lexicons={"thanks": LexiconMatcher.build("thanks", {"en": ["cheers"]})})
    cheers = context(ASK, msg("agent", "Cheers, Jana!", 30), resources=resources)
    thank_you = context(ASK, msg("agent", "Thank you, Jana!", 30), resources=resources)
    assert fact("last_reply.thanks", cheers) is True
    assert fact("last_reply.thanks", thank_you) is False  # the default phrases are gone
    assert fact("last_reply.offers_help", thank_you) is False  # other lexicons keep their defaults


RULESET = """
ruleset: text-facts
version: "1"
lexicons:
  anger:
    phrases:
      en: [grr]
rules:
  - id: angry
    title: Angry customers are escalated
    severity: major
    violated_if: customer.anger
    message: "Angry customer."
"""


def test_ruleset_lexicon_reaches_the_fact_end_to_end() -> None:
    policy = servicerules.load(RULESET)
    try:
        def status(text: str) -> str:
            data = {"id": "T-1", "channel": "chat", "created_at": T0.isoformat(),
                    "events": [msg("customer", text, 0)]}
            (outcome,) = policy.evaluate(data).outcomes
            return str(outcome.status)

        assert status("grr, where is it") == "violated"
        assert status("This is unacceptable") == "compliant"  # the ruleset's anger lexicon has no such phrase
        assert status("WHERE IS MY ORDER") == "violated"  # shouting is not a lexicon phrase
    finally:
        policy.close()


# -- the catalogue ---------------------------------------------------------------------------------------------------

TEXT_FACTS = {
    "first_reply.has_greeting": ("bool", "interaction"),
    "first_reply.introduces_agent": ("bool", "interaction"),
    "first_reply.addresses_customer": ("bool", "interaction"),
    "last_reply.offers_help": ("bool", "interaction"),
    "last_reply.thanks": ("bool", "interaction"),
    "apology_before_denial": ("bool", "interaction"),
    "autoresponder_only": ("bool", "interaction"),
    "customer.anger": ("bool", "interaction"),
    "customer.legal_threat": ("bool", "interaction"),
    "customer.regulator_threat": ("bool", "interaction"),
    "repeated_contact": ("bool", "interaction"),
    "escalation.triggered": ("bool", "interaction"),
    "escalation.trigger_index": ("number", "interaction"),
    "event.has_greeting": ("bool", "event"),
    "event.mentions_anger": ("bool", "event"),
    "event.has_apology": ("bool", "event"),
}


def test_text_facts_are_catalogued_and_documented() -> None:
    registered = {name: (s.type, s.scope) for name, s in CATALOGUE.items() if s.family == "text"}
    assert registered == TEXT_FACTS
    for name in TEXT_FACTS:
        spec = CATALOGUE[name]
        assert len(spec.description) > 40 and spec.example, name
        assert "|" not in spec.description + spec.example, name  # the docs render a Markdown table


def test_a_lexicon_built_after_a_text_was_indexed_still_finds_its_words_there() -> None:
    # A text's word index keeps only words that are some lexicon's keys; a lexicon compiled later, with
    # new keys, must not be ruled out by an index made before it existed.
    text = "Die Quokkafütterung war ein Zorblaxerlebnis"
    first = lexicon("hello")
    assert not first.matches(text)  # the text is indexed now
    later = LexiconMatcher.build("made-up", {"de": ["zorblaxerlebnis"]})
    assert later.matches(text)
    assert later.matches(text.upper())


def test_the_keys_of_collected_lexicons_are_dropped_and_live_ones_kept() -> None:
    # A service that loads ruleset after ruleset, each with lexicons of its own, kept every word it ever
    # saw: 150,000 keys, about 20 MB, after 3,000 rulesets of 50 words.
    import gc

    kept = LexiconMatcher.build("kept", {"en": ["zorblax", "quux frob"]})
    for n in range(3):
        LexiconMatcher.build("dropped", {"en": [f"blorp{n}", f"snark{n} frob"]}).matches("blorp0 is here")
    gc.collect()
    LexiconMatcher.build("next", {"en": ["wibble"]})  # registering keys drops those of collected lexicons
    keys = text_module._all_keys()
    assert {"zorblax", "quux", "wibble"} <= keys and not any(k.startswith(("blorp", "snark")) for k in keys)
    assert kept.matches("a ZORBLAX said hi") and kept.matches("the quux frob") and not kept.matches("quux alone")
