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
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Mapping

import regex

__all__ = ["LexiconMatcher", "name_matcher", "normalise_text"]

_WORD = r"[\p{L}\p{M}\p{N}_]"
_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.VERSION1 | regex.UNICODE
_IS_WORD = regex.compile(_WORD)

# Apostrophe look-alikes (’ ‘ ʼ ′ ＇ — NFKC already folds the full-width one) and invisible joiners.
_TRANSLATE = {0x2019: "'", 0x2018: "'", 0x02BC: "'", 0x2032: "'", 0x200C: None, 0x200D: None, 0x00AD: None}


def normalise_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE)


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
    _compiled: "regex.Pattern[str]" = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        phrases = [p for ps in self.phrases.values() for p in map(_phrase_pattern, ps) if p]
        patterns = [f"(?:{p})" for p in self.patterns]
        # Phrases and patterns in separate groups: one flat alternation of both is ~25 times slower, as the
        # regex module then stops treating the phrases as one set of literals.
        groups = [f"(?:{'|'.join(alternatives)})" for alternatives in (phrases, patterns) if alternatives]
        source = "|".join(groups) or r"(?!)"
        object.__setattr__(self, "_compiled", regex.compile(source, _FLAGS))

    @classmethod
    def build(cls, name: str, phrases: Mapping[str, Iterable[str]], patterns: Iterable[str] = ()) -> "LexiconMatcher":
        return cls(name, {lang: tuple(ps) for lang, ps in phrases.items()}, tuple(patterns))

    def search(self, text: str | None) -> "regex.Match[str] | None":
        """The first match in the *normalised* text (``match.string``), or None."""
        if not text:
            return None
        return self._compiled.search(normalise_text(text))

    def finditer(self, text: str | None) -> Iterator["regex.Match[str]"]:
        """Every non-overlapping match; positions refer to the normalised text, ``match.string``."""
        if not text:
            return iter(())
        return self._compiled.finditer(normalise_text(text))

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
