"""Multilingual phrase matching for lexicons.

durable_rules' regex dialect cannot do this (no ``\\b``, ASCII-only case folding, see
notes/durable-rules.md), so lexicons are matched here, in Python, and the engine only sees booleans.

Matching is case-insensitive with full Unicode case folding (``STRASSE`` matches ``straße``), on NFKC-
normalised text, and on *word* boundaries defined over letters, combining marks and digits, so Devanagari
vowel signs (which are marks, not letters) do not split a Hindi word, and Danish æ/ø/å are letters like
any other. A phrase ending in ``*`` matches as a prefix, for German compounds (``entschuldig*`` matches
``Entschuldigung`` and ``entschuldigen``). Whitespace in a phrase matches any run of whitespace.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import regex

__all__ = ["LexiconMatcher", "normalise_text"]

_WORD = r"[\p{L}\p{M}\p{N}_]"
_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.VERSION1 | regex.UNICODE


def normalise_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _phrase_pattern(phrase: str) -> str:
    phrase = normalise_text(phrase.strip())
    prefix = phrase.endswith("*")
    if prefix:
        phrase = phrase[:-1]
    words = [regex.escape(w) for w in phrase.split()]
    body = r"\s+".join(words)
    tail = _WORD + "*" if prefix else ""
    return f"(?<!{_WORD}){body}{tail}(?!{_WORD})"


@dataclass(frozen=True)
class LexiconMatcher:
    """One compiled lexicon: all phrases of all its languages plus extra regular expressions."""

    name: str
    phrases: Mapping[str, tuple[str, ...]]
    patterns: tuple[str, ...] = ()
    _compiled: "regex.Pattern[str]" = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alternatives = [_phrase_pattern(p) for ps in self.phrases.values() for p in ps if p.strip()]
        alternatives.extend(f"(?:{p})" for p in self.patterns)
        source = "|".join(alternatives) or r"(?!)"
        object.__setattr__(self, "_compiled", regex.compile(source, _FLAGS))

    @classmethod
    def build(cls, name: str, phrases: Mapping[str, Iterable[str]], patterns: Iterable[str] = ()) -> "LexiconMatcher":
        return cls(name, {lang: tuple(ps) for lang, ps in phrases.items()}, tuple(patterns))

    def search(self, text: str | None) -> "regex.Match[str] | None":
        if not text:
            return None
        return self._compiled.search(normalise_text(text))

    def matches(self, text: str | None) -> bool:
        return self.search(text) is not None


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
