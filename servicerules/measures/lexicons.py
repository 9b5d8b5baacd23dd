"""Default lexicons shipped with servicerules, per language (English, German, Danish, Hindi).

A ruleset's own ``lexicons:`` entry with the same name replaces a default (phrases *and* patterns). Phrases
are matched by :class:`~servicerules.measures.text.LexiconMatcher`: case-insensitive, on Unicode word
boundaries, a trailing ``*`` matches a word prefix (German compounds). Where a phrase list cannot say it,
a lexicon also has regular expressions (:data:`DEFAULT_PATTERNS`), matched with the same flags on the same
normalised text: a request with words in between ("send us **your** card number"), a self-introduction
followed by a capitalised name ("I'm Sam", "ich bin Anna").

Some judgement calls, so that a rule built on a default does not fire on everyday phrasing:

* ``apology`` holds apologies only. "Unfortunately" / "leider" / "desværre" / "दुर्भाग्य से" introduce bad
  news rather than apologise; counting them would make every "Unfortunately we cannot refund…" its own
  apology and ``apology_before_denial`` meaningless.
* ``repeated_contact`` does not contain a bare "again" / "igen" / "फिर से" ("thanks again", "tak igen")
  nor a bare "several times" / "mehrmals" / "flere gange" / "कई बार" ("I've reset it several times", "min
  router mister forbindelsen flere gange"): those repeat a thanks or a fault, not a contact. It names the
  contact ("writing again", "called several times", "already called", "skriver igen", "फिर से संपर्क").
* ``legal_threat`` has no bare "Gericht" (also a dish) or "sue" (also a name): "vor Gericht",
  "gerichtlich…", "sue you", "suing".
* ``card_request`` and ``password_request`` need a request (a verb of asking, or "what is your …");
  the measures in :mod:`~servicerules.measures.privacy` also drop negated matches ("never send us your
  card number").
* ``health_terms`` includes "Rezept" as the brief lists it, although it also means a cooking recipe; a
  ruleset for a kitchen shop can override the lexicon.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from servicerules.measures.text import LexiconMatcher

__all__ = ["DEFAULT_LEXICONS", "DEFAULT_PATTERNS", "DEFAULT_PATTERN_KEYWORDS", "DEFAULT_PATTERN_WORDS", "default_lexicon"]

# Regular-expression building blocks: a word boundary before (_B) and after (_E), a short gap of words that
# does not cross a sentence end, a capitalised name (case-sensitive inside the case-insensitive lexicon).
# Letter classes are scoped case-sensitive, (?-i:…): each holds every case variant of its members, so the
# answer is the same, and `regex` tests such a class faster without IGNORECASE (see text._WORD).
_L = r"(?-i:[\p{L}\p{M}\p{N}_])"
_LETTER = r"(?-i:\p{L})"
_B = rf"(?<!{_L})"
_E = rf"(?!{_L})"
_GAP = r"(?:\s+[^\s.!?।]+){0,5}?\s+"
_NAME = r"(?-i:\p{Lu}[\p{L}\p{M}'-]*)" + _E

DEFAULT_LEXICONS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "greeting": {
        "en": ("hello", "hi", "hey", "dear", "good morning", "good afternoon", "good evening", "greetings",
               "thanks for reaching out", "thank you for contacting", "thanks for contacting"),
        "de": ("hallo", "guten tag", "guten morgen", "guten abend", "liebe", "lieber", "sehr geehrte",
               "sehr geehrter", "grüß gott", "grüezi", "moin", "servus"),
        "da": ("hej", "goddag", "godmorgen", "god morgen", "godaften", "kære", "hejsa"),
        "hi": ("नमस्ते", "नमस्कार", "प्रिय", "सुप्रभात", "शुभ संध्या", "हैलो", "हेलो"),
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
        "en": ("sorry", "apologise", "apologize", "apologising", "apologizing", "apologies", "we regret",
               "i regret", "please forgive"),
        "de": ("entschuldig*", "tut mir leid", "tut uns leid", "bedauer*", "verzeih*"),
        "da": ("undskyld*", "beklager", "tilgiv*"),
        "hi": ("क्षमा", "माफ़ी", "माफी", "माफ़ करें", "माफ करें", "खेद", "सॉरी"),
    },
    "thanks": {
        "en": ("thank you", "thanks", "thank u", "thx", "many thanks", "much appreciated",
               "appreciate your patience", "appreciate your understanding"),
        "de": ("danke", "vielen dank", "herzlichen dank", "besten dank", "dankeschön", "danke schön",
               "bedanke*", "bedanken"),
        "da": ("tak", "mange tak", "tusind tak", "takker"),
        "hi": ("धन्यवाद", "शुक्रिया", "आभार", "आभारी", "थैंक यू"),
    },
    "denial": {
        "en": ("not eligible", "ineligible", "no longer eligible", "has been declined", "has been denied",
               "has been rejected", "was declined", "was denied", "was rejected", "have to decline",
               "must decline", "decline your request", "deny your request", "reject your request",
               "outside the return window", "outside the return period", "not covered by the warranty",
               "not covered by our", "not possible to refund", "cannot be refunded", "can't be refunded",
               "is non-refundable", "is not refundable"),
        "de": ("nicht erstatten", "keine erstattung", "keine rückerstattung", "nicht möglich", "ablehnen",
               "lehnen wir", "abgelehnt", "nicht berechtigt", "keinen anspruch", "kein anspruch",
               "nicht erstattungsfähig", "außerhalb der rückgabefrist", "rückgabefrist ist abgelaufen"),
        "da": ("ikke muligt", "ikke berettiget", "ingen refusion", "ingen tilbagebetaling", "afvis*", "afslå*",
               "afslag", "kan vi ikke", "kan desværre ikke", "kan ikke refundere", "uden for returfristen"),
        "hi": ("संभव नहीं", "अस्वीकार", "नहीं कर सकते", "नहीं कर पाएंगे", "नहीं कर पाएँगे", "पात्र नहीं",
               "रिफंड नहीं", "धनवापसी नहीं", "खारिज"),
    },
    "anger": {
        "en": ("furious", "unacceptable", "disgusting", "disgraceful", "outrageous", "ridiculous", "appalling",
               "pathetic", "worst service", "worst customer service", "worst company", "terrible service",
               "horrible service", "fed up", "sick and tired", "sick of", "angry", "livid", "rip off",
               "ripoff", "scam", "disgrace", "useless", "pissed off", "hate this", "hate you", "hate your",
               "fuck*", "bullshit", "wtf"),
        "de": ("wütend", "unverschämt*", "frechheit", "inakzeptabel", "skandal*", "katastroph*", "sauer",
               "stinksauer", "verärgert", "zumutung", "abzocke", "betrug", "schlechtester service",
               "schlechtesten service", "die nase voll", "mir reicht's", "mir reicht es"),
        "da": ("sur", "utilfreds", "elendig", "elendigt", "vred", "rasende", "uacceptabel*", "skandal*",
               "latterlig*", "træt af", "dårligste service", "svindel", "frækt"),
        "hi": ("बकवास", "बहुत बुरा", "बहुत बुरी", "गुस्सा", "नाराज़", "नाराज", "शर्मनाक", "धोखा", "धोखाधड़ी",
               "घटिया", "बेकार सेवा"),
    },
    "legal_threat": {
        "en": ("lawyer", "lawyers", "attorney", "solicitor", "sue you", "sue your", "i will sue", "i'll sue",
               "going to sue", "suing", "lawsuit", "court", "legal action", "legal proceedings",
               "small claims"),
        "de": ("anwalt*", "anwältin", "rechtsanwalt*", "klage*", "verklage*", "vor gericht", "gerichtlich*",
               "gerichtsverfahren", "rechtliche schritte", "juristische schritte"),
        "da": ("advokat*", "retssag*", "sagsøg*", "i retten", "for retten", "domstol*", "retslige skridt",
               "juridiske skridt"),
        "hi": ("वकील", "अदालत", "कोर्ट", "कानूनी कार्रवाई", "कानूनी नोटिस", "मुकदमा"),
    },
    "regulator_threat": {
        "en": ("ombudsman", "regulator", "cfpb", "consumer financial protection bureau", "fca",
               "financial conduct authority", "ftc", "federal trade commission", "trading standards",
               "better business bureau", "bbb", "consumer protection", "consumer forum", "consumer court",
               "banking ombudsman", "rbi", "data protection authority", "attorney general"),
        "de": ("bafin", "verbraucherzentrale", "schlichtungsstelle", "ombudsmann", "aufsichtsbehörde",
               "bundesnetzagentur", "datenschutzbehörde", "verbraucherschutz"),
        "da": ("forbrugerombudsmanden", "forbrugerrådet", "forbrugerklagenævnet", "ankenævn*",
               "finanstilsynet", "datatilsynet", "tilsynsmyndighed*"),
        "hi": ("उपभोक्ता फोरम", "उपभोक्ता फ़ोरम", "उपभोक्ता अदालत", "उपभोक्ता न्यायालय", "लोकपाल",
               "आरबीआई", "उपभोक्ता हेल्पलाइन"),
    },
    "repeated_contact": {
        "en": ("second time", "third time", "fourth time", "fifth time", "called several times",
               "called multiple times", "written several times", "emailed several times", "contacted you several times",
               "contacted you multiple times", "already called", "already contacted", "already written",
               "already wrote", "already emailed", "already told you", "already explained", "called before",
               "contacted you before", "yet again", "again and again", "writing again", "contacting you again",
               "calling again", "asking again", "previous ticket", "previous case", "last time i called"),
        "de": ("schon wieder", "zum zweiten mal", "zum dritten mal", "zum vierten mal", "zum wiederholten mal",
               "zum x-ten mal", "mehrmals angerufen", "mehrfach angerufen", "mehrmals geschrieben",
               "mehrfach geschrieben", "bereits angerufen", "schon angerufen",
               "bereits geschrieben", "schon geschrieben", "bereits kontaktiert", "bereits gemeldet",
               "schon gemeldet"),
        "da": ("igen og igen", "for anden gang", "for tredje gang", "for fjerde gang", "ringet flere gange",
               "skrevet flere gange", "allerede ringet", "allerede skrevet", "allerede kontaktet",
               "har ringet før", "skrevet før", "skriver igen", "ringer igen", "henvender mig igen", "kontakter jer igen"),
        "hi": ("फिर से संपर्क", "फिर से लिख*", "फिर से कॉल", "दोबारा संपर्क", "दोबारा लिख*", "दोबारा कॉल",
               "दूसरी बार", "तीसरी बार", "कई बार कॉल", "कई बार संपर्क", "कई बार शिकायत", "पहले भी",
               "पहले ही कॉल", "पहले ही शिकायत"),
    },
    "self_introduction": {
        "en": ("my name is", "my name's", "you're speaking with", "you are speaking with", "you're chatting with",
               "you are chatting with", "you're talking to", "you are talking to"),
        "de": ("mein name ist", "ich heiße", "sie sprechen mit", "sie schreiben mit", "hier spricht",
               "hier schreibt"),
        "da": ("mit navn er", "jeg hedder", "du taler med", "du skriver med", "du chatter med"),
        "hi": ("मेरा नाम",),
    },
    "card_request": {
        "en": ("what is your card number", "what's your card number", "your card number please",
               "card number please", "the long number on your card", "the 16 digits on your card",
               "the three digits on the back", "the 3 digits on the back"),
        "de": ("wie lautet ihre kartennummer", "wie lautet ihre kreditkartennummer", "wie lautet die prüfnummer",
               "ihre kartennummer bitte"),
        "da": ("hvad er dit kortnummer", "hvad er jeres kortnummer", "dit kortnummer tak"),
        "hi": ("आपका कार्ड नंबर क्या है", "कार्ड नंबर क्या है"),
    },
    "password_request": {
        "en": ("what is your password", "what's your password", "your password please", "what is your pin",
               "what's your pin", "what is your account password", "what's your account password",
               "what is your login password", "what's your login password"),
        "de": ("wie lautet ihr passwort", "wie lautet ihr kennwort", "wie lautet ihre pin", "ihr passwort bitte"),
        "da": ("hvad er din adgangskode", "hvad er dit kodeord", "hvad er din pinkode"),
        "hi": ("आपका पासवर्ड क्या है", "पासवर्ड क्या है", "ओटीपी क्या है"),
    },
    "health_terms": {
        "en": ("diagnosis", "diagnosed", "prescription", "prescribed", "medical condition", "medical record*",
               "medication", "illness", "disease", "disability", "pregnant", "pregnancy", "surgery",
               "chronic", "mental health", "cancer", "diabetes", "depression", "hiv"),
        "de": ("diagnose", "diagnostiziert", "rezept", "e-rezept", "krankheit*", "erkrank*", "medikament*",
               "krankschreibung", "krankgeschrieben", "arbeitsunfähig*", "schwanger*", "behinderung",
               "chronisch*", "ärztliches attest", "depression*", "diabetes"),
        "da": ("diagnose", "diagnosticeret", "recept", "sygdom*", "syg", "medicin", "sygemelding", "sygemeldt",
               "gravid", "graviditet", "handicap", "kronisk", "lægeerklæring"),
        "hi": ("निदान", "बीमारी", "बीमार", "दवा*", "डॉक्टर का पर्चा", "इलाज", "रोग", "गर्भवती", "मधुमेह",
               "कैंसर"),
    },
}

_REQUEST_VERBS_EN = (
    r"(?:send|provide|share|give|tell|confirm|post|dm|message|reply\s+with|read\s+out|spell\s+out"
    r"|(?:we|i)(?:'ll|'d)?\s+(?:will\s+|would\s+)?(?:need|require))"
)
_REQUEST_VERBS_DE = rf"(?:send|schick|teil|geb|gib|nenn|übermittel|mitteil|bestätig|benötig|brauch){_LETTER}*"
_REQUEST_VERBS_DA = rf"(?:send|oplys|angiv|giv|skriv|bekræft|fortæl|del|har\s+brug\s+for|skal\s+bruge){_LETTER}*"
_REQUEST_VERBS_HI = (
    r"(?:भेजें|भेजिए|भेजिये|भेज\s+दें|भेजो|बताएं|बताएँ|बताइए|बताइये|बताओ|दें|दीजिए|दीजिये|शेयर\s+करें"
    r"|शेयर\s+कीजिए|साझा\s+करें|साझा\s+कीजिए|लिखें|लिखिए|प्रदान\s+करें)"
)
_CARD_NOUN_EN = (
    r"(?:(?:credit|debit|bank)\s+)?(?:card\s+(?:number|no|details|info(?:rmation)?|data)|card's\s+(?:number|details)"
    r"|cvv2?|cvc2?|security\s+code|expiry\s+date|expiration\s+date)"
)
_CARD_NOUN_DE = rf"(?:{_LETTER}*karten(?:nummer|daten|angaben|informationen)|{_LETTER}*prüfnummer|sicherheitscode|cvv2?|cvc2?|ablaufdatum)"
_CARD_NOUN_DA = (
    rf"(?:{_LETTER}*kort(?:nummer|nummeret|oplysninger|oplysningerne|data|detaljer)|sikkerhedskode(?:n)?|kontrolcifre"
    r"|cvv2?|cvc2?|udløbsdato(?:en)?)"
)
_CARD_NOUN_HI = r"(?:कार्ड\s+(?:नंबर|नम्बर|संख्या|का\s+विवरण|विवरण|डिटेल्स|डिटेल)|सीवीवी|cvv|एक्सपायरी\s+डेट|समाप्ति\s+तिथि)"
# Every card noun above contains one of these as a whole word (whitespace before a noun, a word boundary
# after it: "card" in "card's details"; "code" in "security code", rarer in a reply than "security") …
_CARD_NOUN_WORDS = (
    "card", "cvv", "cvv2", "cvc", "cvc2", "code", "expiry", "expiration",
    "sicherheitscode", "ablaufdatum",
    "kontrolcifre",
    "कार्ड", "सीवीवी", "एक्सपायरी", "समाप्ति",
)  # fmt: skip
# … or one of these inside a word ("karten": Kreditkartennummer; "sikkerhedskode": sikkerhedskoden).
_CARD_NOUN_PARTS = ("karten", "prüfnummer", "kort", "sikkerhedskode", "udløbsdato")
_PASSWORD_NOUN_EN = (
    r"(?:password|passcode|pass\s+code|pin(?:\s+(?:code|number))?|login\s+(?:details|credentials|data|info)"
    r"|credentials|one[-\s]time\s+(?:password|code|passcode)|otp|2fa\s+code)"
)
_PASSWORD_NOUN_DE = (
    rf"(?:{_LETTER}*passwort|{_LETTER}*kennwort|pin|pin-code|zugangsdaten|anmeldedaten|login-daten|logindaten|tan"
    r"|einmalpasswort)"
)
_PASSWORD_NOUN_DA = (
    r"(?:adgangskode(?:n)?|kodeord(?:et)?|password(?:et)?|pinkode(?:n)?|pin-kode(?:n)?|pin|loginoplysninger"
    r"|engangskode(?:n)?|mitid-kode(?:n)?|nemid-kode(?:n)?)"
)
_PASSWORD_NOUN_HI = r"(?:पासवर्ड|पिन|ओटीपी|otp|लॉगिन\s+विवरण|गुप्त\s+कोड)"
# Every password noun above contains one of these as a whole word ("pin" in pin-code, pin-kode). Of "one-time
# code", "pass code" and "login details" it is the last word: "time", "pass" and "login" ("I've reset the
# login") are everyday words that would send many replies to the patterns …
_PASSWORD_NOUN_WORDS = (
    "password", "passcode", "code", "pin", "details", "data", "info", "credentials", "otp", "2fa",
    "zugangsdaten", "anmeldedaten", "logindaten", "tan",
    "loginoplysninger", "mitid", "nemid",
    "पासवर्ड", "पिन", "ओटीपी", "लॉगिन", "गुप्त",
)  # fmt: skip
# … or one of these inside a word ("passwort": Einmalpasswort; "password": passwordet; "kode": adgangskode,
# kodeord, pinkode, engangskode; "login-daten", where "daten" alone would be any data).
_PASSWORD_NOUN_PARTS = ("passwort", "kennwort", "password", "kode", "login-daten")


def _verb_then_noun(verbs: str, noun: str) -> str:
    return f"{_B}{verbs}{_GAP}{noun}{_E}"


def _noun_then_verb(noun: str, verbs: str) -> str:
    # Verb-final word order: German subordinate clauses and questions, Hindi.
    return f"{_B}{noun}{_GAP}{verbs}{_E}"


DEFAULT_PATTERNS: Mapping[str, tuple[str, ...]] = {
    "self_introduction": (
        # "I'm Sam", "I am Priya" - but not "I'm Sorry" or "I am Happy to help" in title case.
        rf"{_B}i(?:'m|\s+am)\s+(?!(?:sorry|afraid|happy|glad|sure|not|here|so|very|really|just|still|also|now"
        rf"|back|available|unable|able|pleased|delighted|the|a|an|your|from|with|on|in|at|checking|looking|going)"
        rf"{_E}){_NAME}",
        rf"{_B}this\s+is\s+{_NAME}\s+(?:from|at|with|of|here|speaking)",
        rf"{_B}ich\s+bin\s+(?!(?:ihr|ihre|ihnen|sie|der|die|das|dein|deine|ein|eine|kein|keine|nicht|gerne|gern"
        rf"|leider|sehr|froh|sicher|hier|da|jetzt|heute|auch|noch|für|von|mit|so|zuständig|erreichbar){_E}){_NAME}",
        rf"{_B}jeg\s+er\s+(?!(?:ked|glad|sikker|ikke|her|din|jeres|en|et|den|det){_E}){_NAME}",
        r"मैं\s+(?-i:[\p{L}\p{M}]+)(?:\s+(?-i:[\p{L}\p{M}]+))?\s+बोल\s+रह(?-i:\p{M}*)" + _E,
    ),
    "card_request": (
        _verb_then_noun(_REQUEST_VERBS_EN, _CARD_NOUN_EN),
        _verb_then_noun(_REQUEST_VERBS_DE, _CARD_NOUN_DE),
        _noun_then_verb(rf"(?:ihre|deine|eure|die)\s+(?:vollständige\s+)?{_CARD_NOUN_DE}", _REQUEST_VERBS_DE),
        _verb_then_noun(_REQUEST_VERBS_DA, _CARD_NOUN_DA),
        _noun_then_verb(_CARD_NOUN_HI, _REQUEST_VERBS_HI),
    ),
    "password_request": (
        _verb_then_noun(_REQUEST_VERBS_EN, _PASSWORD_NOUN_EN),
        _verb_then_noun(_REQUEST_VERBS_DE, _PASSWORD_NOUN_DE),
        _noun_then_verb(rf"(?:ihr|ihre|dein|deine|das|die)\s+{_PASSWORD_NOUN_DE}", _REQUEST_VERBS_DE),
        _verb_then_noun(_REQUEST_VERBS_DA, _PASSWORD_NOUN_DA),
        _noun_then_verb(_PASSWORD_NOUN_HI, _REQUEST_VERBS_HI),
    ),
}
"""Regular expressions that belong to a default lexicon besides its phrases."""

DEFAULT_PATTERN_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "self_introduction": ("बोल",),  # मैं … बोल रहा
    # each request pattern needs a noun of the lexicon's kind
    "card_request": _CARD_NOUN_PARTS,
    "password_request": _PASSWORD_NOUN_PARTS,
}
"""For each entry of :data:`DEFAULT_PATTERNS`: words of which every match of one of its patterns contains at
least one (in any case) or one of :data:`DEFAULT_PATTERN_WORDS` as a whole word. The lexicon's prefilter
skips the regular expressions for a text without any of them and without a word of a phrase, so a pattern
changed here must keep its words listed."""

DEFAULT_PATTERN_WORDS: Mapping[str, tuple[str, ...]] = {
    # "m" (I'm), "am" (I am), "this" (this is), "bin" (ich bin), "jeg" (jeg er)
    "self_introduction": ("m", "am", "this", "bin", "jeg"),
    "card_request": _CARD_NOUN_WORDS,
    "password_request": _PASSWORD_NOUN_WORDS,
}
"""The whole-word keywords of :data:`DEFAULT_PATTERNS` (see :data:`DEFAULT_PATTERN_KEYWORDS`)."""


@lru_cache(maxsize=None)
def default_lexicon(name: str) -> LexiconMatcher | None:
    """The shipped lexicon ``name``, compiled once per process; None if there is none."""
    phrases = DEFAULT_LEXICONS.get(name)
    if phrases is None:
        return None
    return LexiconMatcher.build(
        name, phrases, DEFAULT_PATTERNS.get(name, ()), DEFAULT_PATTERN_KEYWORDS.get(name), DEFAULT_PATTERN_WORDS.get(name, ())
    )
