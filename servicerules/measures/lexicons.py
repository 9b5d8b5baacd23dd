"""Default lexicons shipped with servicerules, per language (English, German, Danish, Hindi).

A ruleset's own ``lexicons:`` entry with the same name replaces a default. Phrases are matched by
:class:`~servicerules.measures.text.LexiconMatcher`: case-insensitive, on Unicode word boundaries, a
trailing ``*`` matches a word prefix (German compounds).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from servicerules.measures.text import LexiconMatcher

__all__ = ["DEFAULT_LEXICONS", "default_lexicon"]

DEFAULT_LEXICONS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "greeting": {
        "en": ("hello", "hi", "hey", "dear", "good morning", "good afternoon", "good evening", "greetings",
               "thanks for reaching out", "thank you for contacting", "thanks for contacting"),
        "de": ("hallo", "guten tag", "guten morgen", "guten abend", "liebe", "lieber", "sehr geehrte",
               "sehr geehrter", "grüß gott", "grüezi", "moin", "servus"),
        "da": ("hej", "goddag", "godmorgen", "god morgen", "godaften", "kære", "hejsa"),
        "hi": ("नमस्ते", "नमस्कार", "प्रिय", "सुप्रभात", "शुभ संध्या"),
    },
    "closing": {
        "en": ("anything else", "further questions", "any other questions", "happy to help", "let us know if",
               "let me know if", "is there anything", "have a great day", "have a nice day"),
        "de": ("noch fragen", "weitere fragen", "gerne helfe", "melden sie sich gerne", "kann ich sonst noch",
               "einen schönen tag", "schönen tag noch"),
        "da": ("andre spørgsmål", "yderligere spørgsmål", "vend endelig tilbage", "kan jeg hjælpe med andet",
               "hav en god dag", "god dag"),
        "hi": ("और कोई सहायता", "कोई और प्रश्न", "आपका दिन शुभ हो", "और कुछ"),
    },
    "apology": {
        "en": ("sorry", "apologise", "apologize", "apologies", "we regret", "i regret", "unfortunately"),
        "de": ("entschuldig*", "tut mir leid", "tut uns leid", "bedauer*", "leider"),
        "da": ("undskyld*", "beklager", "desværre"),
        "hi": ("क्षमा", "माफ़ी", "माफी", "खेद है", "दुर्भाग्य से"),
    },
}


@lru_cache(maxsize=None)
def default_lexicon(name: str) -> LexiconMatcher | None:
    phrases = DEFAULT_LEXICONS.get(name)
    return LexiconMatcher.build(name, phrases) if phrases is not None else None
