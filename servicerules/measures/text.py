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

import itertools
import re
import threading
import unicodedata
import weakref
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Mapping, NamedTuple

import regex

__all__ = ["Keywords", "LexiconMatcher", "NameMatcher", "name_matcher", "normalise_text", "phrase_is_empty"]

# A word character. The class holds every case variant of its members, so IGNORECASE cannot change what it
# matches, but `regex` checks a class case-insensitively with a costlier test per character: the scoped
# (?-i:) halves the time of a lexicon search and cuts the compile time of a name matcher from ~1.4 to ~0.2 ms.
# tests/measures/test_text.py checks every code point.
_WORD = r"(?-i:[\p{L}\p{M}\p{N}_])"
_FLAGS = regex.IGNORECASE | regex.FULLCASE | regex.VERSION1 | regex.UNICODE
_IS_WORD = regex.compile(_WORD)

# Apostrophe look-alikes (’ ‘ ʼ ′ ＇ — NFKC already folds the full-width one) and invisible joiners.
_TRANSLATE = {0x2019: "'", 0x2018: "'", 0x02BC: "'", 0x2032: "'", 0x200C: None, 0x200D: None, 0x00AD: None}
_TRANSLATED = tuple(map(chr, _TRANSLATE))


@lru_cache(maxsize=4096)
def normalise_text(text: str) -> str:
    # Cached: one message is normalised for a dozen lexicons and detectors in a row.
    if text.isascii():
        return text  # NFKC leaves ASCII as it is, and every character _TRANSLATE replaces is beyond ASCII
    normalised = unicodedata.normalize("NFKC", text)
    # translate() builds the string anew character by character: only when there is something to replace.
    # Seven substring tests cost a seventh of one search for a class of the seven in `re` (which tests a class
    # at every character), and in a Latin-1 text the six beyond it are ruled out without a look.
    return normalised.translate(_TRANSLATE) if any(map(normalised.__contains__, _TRANSLATED)) else normalised


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
_SETTLED_BLOCKS = ((0, 0x24F), (0x900, 0x97F), (0x2000, 0x206F), (0x20A0, 0x20BF))
_SETTLED_CHARS = [chr(c) for first, last in _SETTLED_BLOCKS for c in range(first, last + 1)]


def _char_class(chars: Iterable[str]) -> str:
    """``chars`` as a `re` character class, consecutive code points as ranges."""
    ranges: list[list[int]] = []
    for code in sorted(map(ord, chars)):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges) + "]"


_SETTLED_TEXT = re.compile(_char_class(_SETTLED_CHARS) + "*")
_LATIN_1, _SETTLED, _UNSETTLED = 1, 2, 3


@lru_cache(maxsize=512)
def _alphabet(text: str) -> int:
    """Of a text that is not ASCII: _LATIN_1 when each of its characters is below U+0100 (all settled), else
    _SETTLED or _UNSETTLED. Cached: the facts ask it of each text again and again (for the prefilter, the
    digit count, shouting, names), and `re` tests each character of a text against a class in about 50
    instructions."""
    if len(text.encode("latin-1", "ignore")) == len(text):  # a copy of the text where it is Latin-1
        return _LATIN_1
    return _SETTLED if _SETTLED_TEXT.fullmatch(text) is not None else _UNSETTLED


def is_settled(text: str) -> bool:
    """Whether ``text`` is made of characters of the settled blocks only."""
    return text.isascii() or _alphabet(text) != _UNSETTLED


def is_latin_1(text: str) -> bool:
    """Whether ``text`` is made of characters below U+0100 only (Latin-1; ASCII among them): then
    ``text.encode("latin-1")`` maps each character to one byte, for bytes.translate()."""
    return text.isascii() or _alphabet(text) == _LATIN_1


def settled_class(pattern: str) -> str:
    """The characters of the settled blocks that the `regex` character class ``pattern`` matches, as a `re`
    character class: on a settled text (:func:`is_settled`) it matches what ``pattern`` does, and `re` is
    faster."""
    cls = regex.compile(pattern, regex.VERSION1)
    return _char_class(c for c in _SETTLED_CHARS if cls.match(c))


def _fold(text: str) -> str:
    if "\u0130" in text or "\u0131" in text:  # not translate() on every text: it is slow
        text = text.translate(_TURKISH_I)
    return text.casefold()


def _folded_alphabet() -> list[str]:
    """Every character a prefiltered text can hold once folded: the settled blocks and their case folds."""
    return sorted(set(_SETTLED_CHARS) | {f for c in _SETTLED_CHARS for f in _fold(c)})


# `regex`'s word characters (_WORD) of the folded alphabet: the keyword prefilter looks for whole words there.
_FOLDED_WORD_CHARS = frozenset(c for c in _folded_alphabet() if _IS_WORD.match(c))
_FOLDED_NON_WORD_CHARS = frozenset(_folded_alphabet()) - _FOLDED_WORD_CHARS
# A text's words are found without a regular expression (`re`'s findall() takes about twice as long): its
# non-word characters become spaces, through bytes.translate() on its Latin-1 form where it has one, else the
# ASCII ones through bytes.translate() on its UTF-8 form (a non-ASCII character's bytes are all above 127;
# str.translate() is slow) and the others through `re`; str.split() then cuts the words out.
_SPACE_FOR_LATIN_1_NON_WORD = bytes(0x20 if chr(b) in _FOLDED_NON_WORD_CHARS else b for b in range(256))
_SPACE_FOR_ASCII_NON_WORD = bytes(0x20 if b < 128 and chr(b) in _FOLDED_NON_WORD_CHARS else b for b in range(256))
_NON_ASCII_NON_WORD = re.compile(_char_class(c for c in _FOLDED_NON_WORD_CHARS if not c.isascii()))


class _Keys(NamedTuple):
    """What one :class:`Keywords` looks for, case-folded (see there)."""

    substrings: tuple[str, ...]
    groups: Mapping[str, tuple[tuple[str, ...], ...]]
    """Each whole-word key with the further words of each of its groups."""
    prefixes: tuple[str, ...]


# Every live Keywords has a *slot*, a small number, and the keys of all of them make one table
# (:class:`_KeywordTable`). A text is looked up in it once for all lexicons: its words are cut out once
# (:func:`_word_index`), and each word is classified once (which slots it is a whole-word key of, begins with
# a word start of, or contains a substring keyword of) and remembered, as most words recur from text to
# text. A lexicon's prefilter then only asks whether its slot is among the text's.
_KEYS: dict[int, _Keys] = {}
"""The keys of each live :class:`Keywords`, by slot."""
_TABLE: "_KeywordTable | None" = None
"""The table of :data:`_KEYS`, built when first needed after a change. A text's slots are worked out again
for each new table: a lexicon added since must find its words, and a slot may have been handed on."""
_TABLES_BUILT = itertools.count()
_KEYS_LOCK = threading.Lock()
_RELEASED: deque[int] = deque()
"""Slots of :class:`Keywords` that were garbage-collected, freed at the next registration: a service that
loads ruleset after ruleset, each with lexicons of its own, would otherwise keep every word it ever saw. A
finaliser may run in any thread at any allocation, also one made while the lock is held: it only appends
here."""


def _register(keys: _Keys) -> int:
    """A slot for a new :class:`Keywords` with these keys."""
    global _TABLE
    with _KEYS_LOCK:
        while _RELEASED:
            del _KEYS[_RELEASED.popleft()]
        slot = next(n for n in itertools.count() if n not in _KEYS)
        _KEYS[slot] = keys
        _TABLE = None  # tables are built under the lock: none without these keys can be stored after this
    return slot


def _all_keys() -> frozenset[str]:
    """Every whole-word key of every registered :class:`Keywords` (the lexicons' words: a few thousand at
    most): a look at what the table holds."""
    with _KEYS_LOCK:
        return frozenset(key for k in _KEYS.values() for key in k.groups)


def _current_table() -> _KeywordTable:
    global _TABLE
    with _KEYS_LOCK:
        if _TABLE is None:
            _TABLE = _KeywordTable(_KEYS)
        return _TABLE


def _is_word(key: str) -> bool:
    """Whether ``key`` (folded) is made of word characters only: in a text, then, it can only be inside a word."""
    return bool(key) and all(c in _FOLDED_WORD_CHARS for c in key)


_Found = tuple[frozenset[int], tuple[tuple[int, tuple[str, ...]], ...]]
"""What a word of a text says: the slots it is enough for, and (slot, further words) for the groups whose key
it is, which need their further words in the text too."""
_WORDS_KEPT = 20_000
"""How many words a table remembers (of each kind) before it starts afresh: order numbers, names and typos
never stop coming."""


class _KeywordTable:
    """The keys of every live :class:`Keywords`, and for each word of a text the slots whose prefilter it lets
    pass."""

    __slots__ = ("number", "_exact", "_starts", "_start", "_parts", "_part", "_scattered", "_quiet", "_loud")

    def __init__(self, keys: Mapping[int, _Keys]):
        self.number = next(_TABLES_BUILT)
        """Which table this is: what a text's slots were worked out with (not the table itself, which a cached
        text would keep alive, with the words it remembers)."""
        exact: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        starts: dict[str, set[int]] = {}
        parts: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        scattered: list[tuple[str, bool, int]] = []
        for slot, k in keys.items():
            for key, groups in k.groups.items():
                exact.setdefault(key, []).extend((slot, rest) for rest in groups)
            for prefix in k.prefixes:
                if _is_word(prefix):
                    starts.setdefault(prefix, set()).add(slot)
                else:
                    scattered.append((" " + prefix, True, slot))
            for part in k.substrings:
                # A keyword with a character that is no word character ("login-daten") is inside no one word,
                # but a word of the text holds its longest run of word characters.
                runs = "".join(c if c in _FOLDED_WORD_CHARS else " " for c in part).split()
                if not runs:
                    scattered.append((part, False, slot))
                elif runs == [part]:
                    parts.setdefault(part, []).append((slot, ()))
                else:
                    parts.setdefault(max(runs, key=len), []).append((slot, (part,)))
        self._exact = {key: tuple(found) for key, found in exact.items()}
        """Each whole-word key, and (slot, further words) for each group it is the key of."""
        # The trie pattern finds the longest word start a word begins with; the word begins with every start
        # that is a prefix of that one, and the one stands for them all.
        self._starts = {
            p: frozenset(s for n in range(1, len(p) + 1) for s in starts.get(p[:n], ())) for p in starts
        }
        self._start = re.compile(_trie_pattern(starts)) if starts else None
        self._parts = tuple(parts.items())
        """Each substring keyword of word characters (or the longest such run of one that has others), and the
        slots it is enough for, or (slot, (keyword,)) to confirm."""
        self._part = re.compile(_trie_pattern(parts)) if parts else None
        self._scattered = tuple(scattered)
        """Keys without a word character (or a word start with a character that is no word character),
        (key, whether it is looked for in the spaced text, slot): searched in each text as a whole."""
        self._quiet: set[str] = set()
        """Words seen that let no prefilter pass (nearly all)."""
        self._loud: dict[str, _Found] = {}
        """Words seen that do, and what they let pass."""

    def _classify(self, word: str) -> _Found | None:
        """What a word says (None: nothing), remembered. A full memory is replaced, not emptied: another
        thread may be reading it."""
        found: list[tuple[int, tuple[str, ...]]] = list(self._exact.get(word, ()))
        if self._start is not None and (start := self._start.match(word)) is not None:
            found.extend((slot, ()) for slot in self._starts[start.group()])
        if self._part is not None and self._part.search(word) is not None:
            found.extend(f for part, owners in self._parts if part in word for f in owners)
        if not found:
            if len(self._quiet) >= _WORDS_KEPT:
                self._quiet = set()
            self._quiet.add(word)
            return None
        if len(self._loud) >= _WORDS_KEPT:
            self._loud = {}
        what = self._loud[word] = _found(found)
        return what

    def slots(self, index: _WordIndex) -> frozenset[int]:
        """The slots of the :class:`Keywords` that may match the text of ``index``."""
        folded = index.folded
        passing: set[int] = set()
        quiet, loud = self._quiet, self._loud
        # Most of the cost is hashing the words, which any look-up of them pays; a set of them first, for a
        # difference() in C, costs more than the loop.
        for word in index.spaced.split():
            if word in quiet:
                continue
            found = loud.get(word) or self._classify(word)
            if found is not None:
                slots, conditional = found
                passing |= slots
                for slot, rest in conditional:
                    for other in rest:
                        if other not in folded:
                            break
                    else:
                        passing.add(slot)
        for key, in_spaced, slot in self._scattered:
            if key in (index.spaced if in_spaced else folded):
                passing.add(slot)
        return frozenset(passing)


def _found(found: Iterable[tuple[int, tuple[str, ...]]]) -> _Found:
    """(slot, further words) pairs as a :data:`_Found`."""
    pairs = list(found)
    return frozenset(s for s, rest in pairs if not rest), tuple((s, rest) for s, rest in pairs if rest)


_NO_SLOTS: tuple[int, frozenset[int]] = (-1, frozenset())


class _WordIndex:
    """What the keyword prefilter looks at in one text, built once and shared by every lexicon."""

    __slots__ = ("folded", "spaced", "_slots")

    def __init__(self, folded: str, latin_1: bool):
        self.folded = folded
        """The case-folded text (substring keywords, a group's further words)."""
        if latin_1:
            spaced = folded.encode("latin-1").translate(_SPACE_FOR_LATIN_1_NON_WORD).decode("latin-1")
        else:
            spaced = _NON_ASCII_NON_WORD.sub(" ", folded).encode().translate(_SPACE_FOR_ASCII_NON_WORD).decode()
        self.spaced = " " + spaced
        """Its whole words (maximal runs of word characters, _FOLDED_WORD_CHARS) with each other character a
        space, and a space before all: a word begins with ``p`` iff ``" " + p`` is in it."""
        self._slots = _NO_SLOTS
        """The number of the table the slots were worked out with, and the slots of the lexicons that may
        match."""

    def slots(self) -> frozenset[int]:
        """The slots of the :class:`Keywords` that may match this text (worked out again for a new table)."""
        table = _TABLE
        if table is None:
            table = _current_table()
        known = self._slots  # one read: another thread may store its own pair meanwhile
        if known[0] == table.number:
            return known[1]
        slots = table.slots(self)
        self._slots = (table.number, slots)
        return slots


@lru_cache(maxsize=256)
def _word_index(text: str) -> _WordIndex | None:
    """The prefilter's view of ``text``, or None when the text may not be prefiltered. Cached: the facts of
    one interaction run one after the other, each checking the same texts against other lexicons (a few
    hundred entries cover an interaction; each holds several times its text)."""
    if text.isascii():
        return _WordIndex(_fold(text), latin_1=True)
    alphabet = _alphabet(text)
    if alphabet == _UNSETTLED:
        return None
    # Folding keeps a Latin-1 text in Latin-1, but for the micro sign (µ folds to the Greek μ).
    return _WordIndex(_fold(text), latin_1=alphabet == _LATIN_1 and "\xb5" not in text)


@dataclass(frozen=True)
class Keywords:
    """A necessary condition for a match of a regular expression compiled with IGNORECASE | FULLCASE: the
    text it searches contains (in any case) one of ``words``; or a whole word (no word character, as lexicon
    phrases define it, right before or after it) that is the first of a group of ``whole_words`` while the
    group's other words are in the text too; or a word that begins with one of ``word_starts``.

    Whole words make the prefilter sharp: "sur" (Danish, angry) is in "sure" and "pin" in "shipping", but
    neither is a whole word there; and "not possible to refund" needs "refund", not just "possible".
    Each text is looked up once for all live Keywords (:class:`_KeywordTable`); one then only asks whether
    it is among those the text may match."""

    words: tuple[str, ...]
    whole_words: tuple[tuple[str, ...], ...] = ()
    word_starts: tuple[str, ...] = ()
    _slot: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        substrings = _without_longer(sorted({_fold(w) for w in self.words}, key=len))
        groups: dict[str, list[tuple[str, ...]]] = {}
        for key, *rest in self.whole_words:
            groups.setdefault(_fold(key), []).append(tuple(_fold(w) for w in rest))
        prefixes = {_fold(w) for w in self.word_starts}
        # Where a shorter substring keyword is found anyway, a longer keyword containing it adds nothing.
        keys = _Keys(
            tuple(substrings),
            {k: tuple(g) for k, g in groups.items() if not any(s in k for s in substrings)},
            tuple(sorted(p for p in prefixes if not any(s in p for s in substrings))),
        )
        slot = _register(keys)
        object.__setattr__(self, "_slot", slot)
        weakref.finalize(self, _RELEASED.append, slot)

    @classmethod
    def usable(
        cls, words: Iterable[str], whole_words: Iterable[tuple[str, ...]] = (), word_starts: Iterable[str] = ()
    ) -> "Keywords | None":
        """Keywords over these words, or None when a key has a character the prefilter cannot vouch for (then
        every text must be searched). A group's further words with such a character are left out."""
        chosen, starts = tuple(words), tuple(word_starts)
        groups = tuple((key, *(w for w in rest if _KEYWORD_CHARS.fullmatch(w))) for key, *rest in whole_words)
        if not all(_KEYWORD_CHARS.fullmatch(w) for w in (*chosen, *starts, *(g[0] for g in groups))):
            return None
        return cls(chosen, groups, starts)

    def may_match(self, text: str) -> bool:
        """False only when no match is possible in this text (the one the regular expression searches)."""
        index = _word_index(text)
        return index is None or self._slot in index.slots()


def _without_longer(words: list[str]) -> list[str]:
    """``words`` (shortest first) without those that contain a shorter one: it is found wherever they are."""
    kept: list[str] = []
    for word in words:
        if not any(k in word for k in kept):
            kept.append(word)
    return kept


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


_WORD_RUN = regex.compile(_WORD + "+")


def _phrase_keywords(phrase: str) -> tuple[str, tuple[str, ...]] | None:
    """What every match of the phrase contains: ``("whole", (key, *others))``: its longest run of word
    characters as a whole word (its regex bounds every run on both sides, by whitespace, a non-word
    character of the phrase or a word boundary), and its other runs; else ``("start", (run,))``, the run a
    trailing ``*`` extends, at the start of a word; else ``("part", (word,))``, its longest word anywhere."""
    phrase = normalise_text(phrase.strip())
    prefix = phrase.endswith("*")
    if prefix:
        phrase = phrase[:-1].rstrip()
    runs = [(m.group(), prefix and m.end() == len(phrase)) for m in _WORD_RUN.finditer(phrase)]
    whole = sorted((run for run, open_end in runs if not open_end), key=len, reverse=True)
    if whole:
        return "whole", (whole[0], *whole[1:], *(run for run, open_end in runs if open_end))
    if runs:
        return "start", (runs[-1][0],)
    words = phrase.split()
    return ("part", (max(words, key=len),)) if words else None


def phrase_is_empty(phrase: str) -> bool:
    """Whether a lexicon phrase has no word to match (``""``, spaces, a lone ``*``): it would match nothing."""
    return _phrase_pattern(phrase) is None


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
    pattern_words: tuple[str, ...] = field(default=(), compare=False)
    """Like ``pattern_keywords``, but each found only as a whole word (no word character right before or
    after it): a match of a pattern contains one of ``pattern_keywords`` or one of these whole."""
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
            chosen = [k for ps in self.phrases.values() for k in map(_phrase_keywords, ps) if k]
            keywords = Keywords.usable(
                [*(ws[0] for kind, ws in chosen if kind == "part"), *(self.pattern_keywords or ())],
                [*(ws for kind, ws in chosen if kind == "whole"), *((w,) for w in self.pattern_words)],
                [ws[0] for kind, ws in chosen if kind == "start"],
            )
        object.__setattr__(self, "_keywords", keywords)

    @classmethod
    def build(
        cls,
        name: str,
        phrases: Mapping[str, Iterable[str]],
        patterns: Iterable[str] = (),
        pattern_keywords: Iterable[str] | None = None,
        pattern_words: Iterable[str] = (),
    ) -> "LexiconMatcher":
        return cls(
            name,
            {lang: tuple(ps) for lang, ps in phrases.items()},
            tuple(patterns),
            tuple(pattern_keywords) if pattern_keywords is not None else None,
            tuple(pattern_words),
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
        # _normalised() and Keywords.may_match() written out: two calls less, for each of the dozen lexicons
        # that ask about each text
        if not text:
            return False
        normalised = normalise_text(text)
        keywords = self._keywords
        if keywords is not None:
            index = _word_index(normalised)
            if index is not None and keywords._slot not in index.slots():
                return False
        return self._compiled.search(normalised) is not None


_HONORIFICS = frozenset(
    ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "hr", "fr", "fru",
     "jr", "sr", "श्री", "श्रीमती", "सुश्री", "कुमारी", "डॉ")
)

# -- names ---------------------------------------------------------------------------------------------------
#
# A customer's name is new in almost every interaction, and a regular expression for it costs ~0.25 ms to
# compile, ten times what matching it costs. So a name is looked for with str.find in the case-folded text,
# with the regex's word boundaries checked on the characters either side. That finds the same matches as
# the regex (tests/measures/test_text.py compares the two on random names and texts) where both the text and
# the name are made of the settled blocks (the keyword prefilter's alphabet, where folding keeps word and
# non-word characters apart) without the Turkish dotted and dotless i (`regex` lets "I" match "ı", casefold
# does not), and where each part of the name begins and ends with a word character: a match must then begin
# and end on whole characters of the text, as the regex's do, even where folding lengthens one ("ß" → "ss").
# Elsewhere the regex is compiled after all (once per name, and only when such a text comes along).

_TURKISH_I_CHARS = re.compile("[\u0130\u0131]")


def _foldable(text: str) -> bool:
    """Whether a name can be found in ``text`` (normalised) by case folding: see above."""
    return is_settled(text) and _TURKISH_I_CHARS.search(text) is None


class NameMatcher:
    """Any part of a person's name as a whole word, case-insensitively: what a :class:`LexiconMatcher` with
    the parts as phrases matches, without compiling one for every name."""

    __slots__ = ("parts", "_folded", "_compiled")

    def __init__(self, parts: Iterable[str]):
        self.parts = tuple(parts)
        is_word = _FOLDED_WORD_CHARS.__contains__
        plain = all(_foldable(p) and is_word(p[0]) and is_word(p[-1]) for p in self.parts)
        self._folded = tuple(p.casefold() for p in self.parts) if plain else None
        self._compiled: LexiconMatcher | None = None

    def matches(self, text: str | None) -> bool:
        """Whether a part of the name is in ``text`` as a whole word (any case)."""
        if not text:
            return False
        return self.matches_normalised(normalise_text(text))

    def matches_normalised(self, normalised: str, folded: str | None = None) -> bool:
        """:meth:`matches` for a text already normalised (:func:`normalise_text`); ``folded``, when given, must
        be its case fold, ``normalised.casefold()``."""
        parts = self._folded
        if parts is None or not _foldable(normalised):
            return self._regex().matches(normalised)
        if folded is None:
            folded = normalised.casefold()
        words = _FOLDED_WORD_CHARS
        end = len(folded)
        for part in parts:
            size = len(part)
            start = folded.find(part)
            while start >= 0:
                after = start + size
                if (start == 0 or folded[start - 1] not in words) and (after == end or folded[after] not in words):
                    return True
                start = folded.find(part, start + 1)
        return False

    def _regex(self) -> LexiconMatcher:
        if self._compiled is None:
            self._compiled = _regex_name_matcher(self.parts)
        return self._compiled


def _regex_name_matcher(parts: tuple[str, ...]) -> LexiconMatcher:
    """The name's parts as a lexicon: what :class:`NameMatcher` must agree with."""
    return LexiconMatcher.build("name", {"*": parts})


def _name_parts(name: str) -> list[str]:
    parts = []
    for raw in normalise_text(name).split():
        part = raw.strip(".,;:()*\"'")
        if len(part) >= 2 and part.casefold() not in _HONORIFICS:
            parts.append(part)
    return parts


@lru_cache(maxsize=1024)
def name_matcher(name: str) -> NameMatcher | None:
    """A matcher for any part of a person's name (``"Dr. Jana Novak"`` → ``jana``, ``novak``): whole words,
    case-insensitive. Titles and one-letter initials are left out; None when nothing is left to look for.
    Cheap to build (no regular expression to compile for Latin or Devanagari names), cached for the names
    that recur (agents')."""
    parts = _name_parts(name)
    return NameMatcher(parts) if parts else None


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
