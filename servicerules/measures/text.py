"""Multilingual phrase matching for lexicons.

durable_rules' regex dialect cannot do this (no ``\\b``, ASCII-only case folding, see
notes/durable-rules.md), so lexicons are matched here, in Python, and the engine only sees booleans.

Matching is case-insensitive with full Unicode case folding (``STRASSE`` matches ``straße``), on NFKC-
normalised text, and on *word* boundaries defined over letters, combining marks and digits, so Devanagari
vowel signs (which are marks, not letters) do not split a Hindi word, and Danish æ/ø/å are letters like
any other. A phrase ending in ``*`` matches as a prefix, for German compounds (``entschuldig*`` matches
``Entschuldigung`` and ``entschuldigen``). Whitespace in a phrase matches any run of whitespace.

Before matching, text and phrases are normalised the same way (:func:`normalise_text`): NFKC, typographic
apostrophes become ``'`` (``I’m`` matches ``i'm``), and the invisible joiners (ZWJ, ZWNJ, soft hyphen) that
shape Devanagari conjuncts or hyphenate long German words are dropped, so they never split a word.
A word boundary is only required where the phrase itself begins or ends with a word character: ``!!!``
matches in ``wow!!!``.

Most texts contain no phrase of a given lexicon, and the lexicon's regular expression (Unicode lookarounds,
full case folding) costs 3-30 µs per text, so each matcher first runs a *prefilter* (:class:`Keywords`): a
match of a phrase contains every word of it, so a text that contains, case-insensitively, no longest word
of any phrase (nor a keyword of the lexicon's patterns) cannot match, and that test takes about 1 µs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Mapping

import regex

__all__ = ["Keywords", "LexiconMatcher", "name_matcher", "normalise_text"]

_WORD = r"[\p{L}\p{M}\p{N}_]"
_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.VERSION1 | regex.UNICODE
_IS_WORD = regex.compile(_WORD)

# Apostrophe look-alikes (’ ‘ ʼ ′ ＇ — NFKC already folds the full-width one) and invisible joiners.
_TRANSLATE = {0x2019: "'", 0x2018: "'", 0x02BC: "'", 0x2032: "'", 0x200C: None, 0x200D: None, 0x00AD: None}
_TRANSLATED = re.compile("[" + "".join(map(chr, _TRANSLATE)) + "]")


@lru_cache(maxsize=4096)
def normalise_text(text: str) -> str:
    # Cached: one message is normalised for a dozen lexicons and detectors in a row.
    if text.isascii():
        return text  # NFKC leaves ASCII as it is, and every character _TRANSLATE replaces is beyond ASCII
    normalised = unicodedata.normalize("NFKC", text)
    # translate() builds the string anew character by character: only when there is something to replace
    return normalised.translate(_TRANSLATE) if _TRANSLATED.search(normalised) else normalised


# -- the keyword prefilter -----------------------------------------------------------------------------------
#
# It must never reject a text the regular expression would match. Case-insensitive matching in `regex`
# (FULLCASE) compares full case folds, as str.casefold does, except that for Turkish it also lets "i" match
# "İ" and "I" match "ı": _fold maps both to "i" first. And `regex` may know a newer Unicode version than
# Python's unicodedata (a character Python does not know yet can fold to "ss" there), so keywords are only
# made of, and texts only prefiltered when made of, characters of blocks complete long before any Python
# we run on (Latin, Devanagari, punctuation, currency signs); any other text goes straight to the regex.

_TURKISH_I = {0x130: "i", 0x131: "i"}
_KEYWORD_CHARS = re.compile(r"[\x21-\x7e\xa0-\u017f\u0900-\u097f]+")
_SETTLED_TEXT = re.compile(r"[\x00-\u024f\u0900-\u097f\u2000-\u206f\u20a0-\u20bf]*")


def _fold(text: str) -> str:
    if "\u0130" in text or "\u0131" in text:  # not translate() on every text: it is slow
        text = text.translate(_TURKISH_I)
    return text.casefold()


@lru_cache(maxsize=4096)
def _prefilter_text(text: str) -> str | None:
    """The case-folded text the prefilter searches, or None when the text may not be prefiltered."""
    if not text.isascii() and _SETTLED_TEXT.fullmatch(text) is None:
        return None
    return _fold(text)


@dataclass(frozen=True)
class Keywords:
    """A necessary condition for a match of a regular expression compiled with IGNORECASE | FULLCASE: the
    text it searches contains one of ``words`` (in any case)."""

    words: tuple[str, ...]
    _pattern: "re.Pattern[str]" = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = sorted({_fold(w) for w in self.words}, key=len)
        # A word that contains a shorter keyword adds nothing: the shorter one is found wherever it is.
        kept: list[str] = []
        for word in folded:
            if not any(k in word for k in kept):
                kept.append(word)
        object.__setattr__(self, "_pattern", re.compile(_trie_pattern(kept) if kept else r"(?!)"))

    @classmethod
    def usable(cls, words: Iterable[str]) -> "Keywords | None":
        """Keywords over these words, or None when one of them has a character the prefilter cannot vouch
        for (then every text must be searched)."""
        chosen = tuple(words)
        if not all(_KEYWORD_CHARS.fullmatch(w) for w in chosen):
            return None
        return cls(chosen)

    def may_match(self, text: str) -> bool:
        """False only when no match is possible in this text (the one the regular expression searches)."""
        folded = _prefilter_text(text)
        return folded is None or self._pattern.search(folded) is not None


_Trie = dict[str, "_Trie"]


def _trie_pattern(words: Iterable[str]) -> str:
    """An alternation of ``words`` with common prefixes factored out ("sorry|sore" → "sor(?:ry|e)"): the same
    strings, but ``re`` tries one branch per character instead of every word at every position (2x faster
    for lexicons of 50 words)."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here
    return _trie_branches(root)


def _trie_branches(node: _Trie) -> str:
    branches = [re.escape(char) + _trie_branches(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if "" in node else body


def _phrase_keyword(phrase: str) -> str | None:
    """The longest word of a phrase, as it appears in the phrase's regex (every match contains it)."""
    phrase = normalise_text(phrase.strip())
    if phrase.endswith("*"):
        phrase = phrase[:-1].rstrip()
    words = phrase.split()
    return max(words, key=len) if words else None


def _phrase_pattern(phrase: str) -> str | None:
    phrase = normalise_text(phrase.strip())
    prefix = phrase.endswith("*")
    if prefix:
        phrase = phrase[:-1].rstrip()
    words = phrase.split()
    if not words:
        return None
    body = r"\s+".join(regex.escape(w) for w in words)
    # Boundaries only where the phrase has a word character at that end ("!!!" may follow a word).
    head = f"(?<!{_WORD})" if _IS_WORD.match(phrase[0]) else ""
    if prefix:
        tail = _WORD + "*" + f"(?!{_WORD})"
    else:
        tail = f"(?!{_WORD})" if _IS_WORD.match(phrase[-1]) else ""
    return f"{head}{body}{tail}"


@dataclass(frozen=True)
class LexiconMatcher:
    """One compiled lexicon: all phrases of all its languages plus extra regular expressions."""

    name: str
    phrases: Mapping[str, tuple[str, ...]]
    patterns: tuple[str, ...] = ()
    pattern_keywords: tuple[str, ...] | None = field(default=None, compare=False)
    """Words of which every match of one of ``patterns`` contains at least one (any case), for the
    prefilter; None when not known, and then every text is searched."""
    _compiled: "regex.Pattern[str]" = field(init=False, repr=False, compare=False)
    _keywords: Keywords | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        phrases = [p for ps in self.phrases.values() for p in map(_phrase_pattern, ps) if p]
        patterns = [f"(?:{p})" for p in self.patterns]
        # Phrases and patterns in separate groups: one flat alternation of both is ~25 times slower, as the
        # regex module then stops treating the phrases as one set of literals.
        groups = [f"(?:{'|'.join(alternatives)})" for alternatives in (phrases, patterns) if alternatives]
        source = "|".join(groups) or r"(?!)"
        object.__setattr__(self, "_compiled", regex.compile(source, _FLAGS))
        keywords: Keywords | None = None
        if not self.patterns or self.pattern_keywords is not None:
            words = [w for ps in self.phrases.values() for w in map(_phrase_keyword, ps) if w]
            keywords = Keywords.usable([*words, *(self.pattern_keywords or ())])
        object.__setattr__(self, "_keywords", keywords)

    @classmethod
    def build(
        cls,
        name: str,
        phrases: Mapping[str, Iterable[str]],
        patterns: Iterable[str] = (),
        pattern_keywords: Iterable[str] | None = None,
    ) -> "LexiconMatcher":
        return cls(
            name,
            {lang: tuple(ps) for lang, ps in phrases.items()},
            tuple(patterns),
            tuple(pattern_keywords) if pattern_keywords is not None else None,
        )

    def _normalised(self, text: str | None) -> str | None:
        """The normalised text, or None when it is empty or the prefilter rules a match out."""
        if not text:
            return None
        normalised = normalise_text(text)
        keywords = self._keywords
        if keywords is not None and not keywords.may_match(normalised):
            return None
        return normalised

    def search(self, text: str | None) -> "regex.Match[str] | None":
        """The first match in the *normalised* text (``match.string``), or None."""
        normalised = self._normalised(text)
        return None if normalised is None else self._compiled.search(normalised)

    def finditer(self, text: str | None) -> Iterator["regex.Match[str]"]:
        """Every non-overlapping match; positions refer to the normalised text, ``match.string``."""
        normalised = self._normalised(text)
        return iter(()) if normalised is None else self._compiled.finditer(normalised)

    def matches(self, text: str | None) -> bool:
        return self.search(text) is not None


_HONORIFICS = frozenset(
    ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "hr", "fr", "fru",
     "jr", "sr", "श्री", "श्रीमती", "सुश्री", "कुमारी", "डॉ")
)


@lru_cache(maxsize=4096)
def name_matcher(name: str) -> LexiconMatcher | None:
    """A matcher for any part of a person's name (``"Dr. Jana Novak"`` → ``jana``, ``novak``): whole words,
    case-insensitive. Titles and one-letter initials are left out; None when nothing is left to look for."""
    parts = []
    for raw in normalise_text(name).split():
        part = raw.strip(".,;:()*\"'")
        if len(part) >= 2 and part.casefold() not in _HONORIFICS:
            parts.append(part)
    if not parts:
        return None
    return LexiconMatcher.build("name", {"*": parts})


def check_pattern(pattern: str) -> str | None:
    """The error message for an invalid regular expression, or None when it compiles."""
    try:
        regex.compile(pattern, _FLAGS)
    except regex.error as exc:
        return str(exc)
    return None


def compile_pattern(pattern: str) -> "regex.Pattern[str]":
    """A user's ``matches`` pattern: Python syntax, Unicode-aware, searched anywhere in the text."""
    return regex.compile(pattern, regex.VERSION1 | regex.UNICODE)
