"""Personal data in text: detection of card data, bank accounts, contact and health data, and masking.

No report, log line or error message may repeat a full card number. Evidence excerpts and string fact
values pass through :func:`mask_text`. Detection (the facts) and masking (the excerpts) deliberately use
different strictness:

* **Detection** of a card number (:func:`find_card_numbers`) wants few false alarms: 13-19 digits, grouped
  by single spaces *or* single dashes (not both in one number), Luhn-valid, and a length that the card
  network of its leading digits (IIN) actually issues: a Visa has 13, 16 or 19 digits, an Amex 15
  starting 34/37, a Mastercard 16, and nothing starts with 0 or 7.
* **Masking** (:func:`mask_text`) must never miss: any Luhn-valid run of 13-19 digits, whatever the
  separators (spaces, dashes, dots, up to three in a row, mixed) and whatever the IIN. A mistyped IBAN is
  masked as well as a valid one.

A card number is masked to at most its first 6 and last 4 digits (the PCI DSS display limit), and always
with at least 6 digits hidden: a 16-19 digit number keeps 6 + 4, a 15-digit Amex 5 + 4, 14 digits 4 + 4 and
13 digits 3 + 4 (``4111111111111111`` → ``411111••••••1111``). Digits are looked at as groups: in
``4111 1111 1111 1111 123`` (a card followed by its CVV) the first four groups are the card. A run of more
than 19 digits *without* separators is not taken for a card. Other masks: the digits of a CVV next to a
card-security word (``CVV •••``), an IBAN down to its country and check digits (``DE89 •••• •••• ••••
•••• ••``), an e-mail address down to its first character and domain (``j•••@example.com``) and a phone
number down to its last two digits (``+49 171 1234567`` → ``+•• ••• •••••67``).

A phone number is recognised by its shape (international ``+``/``00`` prefix, national trunk ``0``,
North-American ``(555) 123-4567``, Danish ``12 34 56 78``) or, for any 7-15 digit number, by a phone word
just before it ("call me on", "Telefon", "mobil", "फ़ोन"), so that order numbers are left readable.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Iterator

import regex

from servicerules.measures.text import Keywords, LexiconMatcher, normalise_text

__all__ = [
    "find_card_numbers",
    "find_cvv",
    "find_emails",
    "find_ibans",
    "find_phone_numbers",
    "iban_valid",
    "iin_plausible",
    "luhn_valid",
    "mask_text",
]

_MASK = "•"
_L = r"(?-i:[\p{L}\p{M}\p{N}_])"  # scoped case-sensitive: same answer, faster (see text._WORD)

# Card numbers, CVVs, IBANs and phone numbers all need a decimal digit, e-mail addresses an "@". Most message
# text has neither, and one search for a digit lets every detector skip its costlier scans. It is `regex`'s
# \d, the class the detectors use (Python's `re` may know fewer digits).
_DIGIT = regex.compile(r"\d")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


# Outside ASCII, `regex`'s \d is Unicode's decimal digits, and `regex` is slow to scan a non-ASCII text for
# them (1-2 µs for a line of Hindi). The blocks most text is written in (Latin, Devanagari, punctuation,
# currency signs) have none but Devanagari's, so `re` first looks for one of those or for a character of
# any other block, and only then does `regex` count (tests/measures/test_privacy_fast.py checks that every
# non-ASCII \d sends the count there). Nor is there any below U+0660, so a text without a character from
# U+0640 up (most German and Danish texts) is spared that scan too.
_MAYBE_NON_ASCII_DIGIT = re.compile(r"[\u0250-\u08ff\u0966-\u096f\u0980-\u1fff\u2070-\u209f\u20c0-\U0010ffff]")
# What each byte of a text's UTF-8 form says about digits: "0" an ASCII digit (a byte of its own: every byte
# of a longer sequence is above 0x7f), "\xff" the lead byte of a character from U+0640 up, " " nothing.
_DIGIT_BYTES = bytes(0x30 if 0x30 <= b <= 0x39 else 0xFF if b >= 0xD9 else 0x20 for b in range(256))
_NON_ASCII_DIGIT = regex.compile(r"[\d--[\x00-\x7f]]", regex.VERSION1)


def _digit_count(text: str) -> int:
    """How many of `regex`'s \\d the text has. A detector reads only such digits, so a text with fewer than
    it needs (13 for a card number, 7 for a phone number, 3 for a CVV) is skipped: texts with an order number
    or a date are common, texts with a card number rare."""
    # bytes.translate() and bytes.count(), in C (a translate() that deletes bytes costs more)
    data = text.encode("utf-8", "surrogatepass").translate(_DIGIT_BYTES)
    count = data.count(b"0")
    if not text.isascii() and b"\xff" in data and _MAYBE_NON_ASCII_DIGIT.search(text) is not None:
        count += len(_NON_ASCII_DIGIT.findall(text))
    return count


_CARD_MIN_DIGITS = 13
_CVV_MIN_DIGITS = 3
_PHONE_MIN_DIGITS = 7


# -- card numbers ---------------------------------------------------------------------------------------

_SPACES = " \u00a0\u2009\u202f"
_DASHES = "-\u2010\u2011\u2012\u2013"
# Detection: digit groups joined by exactly one space-like or dash-like character.
_STRICT_RUN = regex.compile(rf"(?<!\d)\d+(?:[{_SPACES}{regex.escape(_DASHES)}]\d+)*")
# Masking: any short run of spaces, dashes, dots, slashes or underscores between the groups, and of the
# invisible characters (format characters: zero-width spaces, soft hyphens) and combining marks (accents on
# digits) that do not show between them: a number a reader sees whole is masked whole.
_LENIENT_RUN = regex.compile(r"(?<!\d)\d+(?:[\s.\-\u2010-\u2015\u2212\uff0d/_\p{Cf}\p{M}]{1,3}\d+)*")
_GROUP = regex.compile(r"\d+")

# (first IIN, last IIN, allowed lengths): the issuer identification ranges of the card networks.
_IIN_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("1", "1", frozenset({15})),  # UATP
    ("2200", "2204", frozenset(range(16, 20))),  # Mir
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("300", "305", frozenset({14, 16, 17, 18, 19})),  # Diners Club
    ("3095", "3095", frozenset({14, 16, 17, 18, 19})),
    ("34", "34", frozenset({15})),  # American Express
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("36", "36", frozenset({14, 16, 17, 18, 19})),
    ("37", "37", frozenset({15})),
    ("38", "39", frozenset({14, 16, 17, 18, 19})),
    ("4", "4", frozenset({13, 16, 19})),  # Visa (incl. Electron, Visa/Dankort)
    ("50", "50", frozenset(range(13, 20))),  # Maestro, Dankort 5019, Verve, RuPay 508
    ("51", "55", frozenset({16})),  # Mastercard
    ("56", "69", frozenset(range(13, 20))),  # Maestro, Discover, UnionPay, RuPay
    ("81", "82", frozenset(range(16, 20))),  # RuPay, UnionPay
    ("9792", "9792", frozenset({16})),  # Troy
)


def _ascii_digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII (Devanagari ४ → 4, full-width ４ → 4); other characters dropped."""
    if text.isascii():  # the usual case, without a call per character
        return text if text.isdigit() else "".join(c for c in text if "0" <= c <= "9")
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # 2 * d, minus 9 when that has two digits


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of decimal digits, ASCII or not."""
    # Every second digit from the right is doubled: summed by slices, not a loop step per digit.
    total = sum(map(int, digits[::-2])) + sum(_LUHN_DOUBLED[int(char)] for char in digits[-2::-2])
    return total % 10 == 0


def iin_plausible(digits: str) -> bool:
    """Whether a card network issues numbers of this length that start with these digits."""
    for low, high, lengths in _IIN_RANGES:
        head = digits[: len(low)]
        if low <= head <= high and len(digits) in lengths:
            return True
    return False


def _groups(text: str, run: "regex.Match[str]") -> list[tuple[int, int]]:
    return [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]


def _card_windows(text: str, run: "regex.Match[str]", *, strict: bool) -> Iterator[tuple[int, int, str]]:
    """``(start, end, digits)`` of every run of whole digit groups with 13-19 Luhn-valid digits."""
    groups = _groups(text, run)
    group_digits = [_ascii_digits(text[start:end]) for start, end in groups]
    if sum(map(len, group_digits)) < 13:
        return  # dates, amounts, order numbers: too few digits for any card number
    for a in range(len(groups)):
        digits = ""
        kinds: set[bool] = set()
        for b in range(a, len(groups)):
            if b > a:
                kinds.add(text[groups[b - 1][1]] in _SPACES)
            digits += group_digits[b]
            if len(digits) > 19:
                break
            if len(digits) < 13 or not luhn_valid(digits):
                continue
            if strict and (len(kinds) > 1 or not iin_plausible(digits)):
                continue
            yield groups[a][0], groups[b][1], digits


def find_card_numbers(text: str, digits: int | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, digits)`` of each card number in ``text``: 13-19 digits with single spaces or single
    dashes (one kind per number), Luhn-valid and IIN-plausible. Overlapping candidates: the leftmost, then
    the longest, wins. ``digits``: how many decimal digits ``text`` has, when the caller knows already."""
    found: list[tuple[int, int, str]] = []
    if (_digit_count(text) if digits is None else digits) < _CARD_MIN_DIGITS:
        return found
    for run in _STRICT_RUN.finditer(text):
        if run.end() - run.start() < _CARD_MIN_DIGITS:
            continue  # a date, an amount, an order number: too short to hold that many digits
        windows = sorted(_card_windows(text, run, strict=True), key=lambda w: (w[0], -(w[1] - w[0])))
        for window in windows:
            if not found or window[0] >= found[-1][1]:
                found.append(window)
    return found


def _kept_leading(length: int) -> int:
    # PCI DSS: at most the first 6 and last 4 digits; also hide at least 6, so short numbers keep fewer.
    return max(0, min(6, length - 10))


def _mask_cards(text: str) -> str:
    if _digit_count(text) < _CARD_MIN_DIGITS:
        return text
    pieces: list[str] = []
    last = 0
    for run in _LENIENT_RUN.finditer(text):
        if run.end() - run.start() < _CARD_MIN_DIGITS:
            continue
        windows = sorted(_card_windows(text, run, strict=False))
        clusters: list[list[tuple[int, int, str]]] = []
        ends: list[int] = []  # each cluster's end: a run of digit groups can hold thousands of windows
        for window in windows:
            if clusters and window[0] < ends[-1]:
                clusters[-1].append(window)
                ends[-1] = max(ends[-1], window[1])
            else:
                clusters.append([window])
                ends.append(window[1])
        for cluster, end in zip(clusters, ends):
            start = cluster[0][0]
            digits = [c for c in text[start:end] if c.isdecimal()]
            keep = min(_kept_leading(len(w[2])) for w in cluster)
            masked = "".join(digits[:keep]) + _MASK * (len(digits) - keep - 4) + "".join(digits[-4:])
            pieces.append(text[last:start])
            pieces.append(masked)
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


# -- CVV ------------------------------------------------------------------------------------------------

_CVV = regex.compile(
    rf"(?<!{_L})(?:cvv2?|cvc2?|cav2|csc|card\s+security\s+code|security\s+code|card\s+verification\s+(?:code|value|number)"
    r"|(?:3|4|three|four)[-\s]digit\s+(?:security\s+)?code|digits\s+on\s+the\s+back|sicherheitscode|(?-i:\p{L}*)prüfnummer"
    rf"|prüfziffer(?:n)?|sikkerhedskode(?:n)?|kontrolcifre|kontrolnummer(?:et)?|सीवीवी|सुरक्षा\s+कोड)(?!{_L})"
    r"[^\d]{0,40}?(?<!\d)(\d{3,4})(?!\d)",
    regex.IGNORECASE | regex.FULLCASE | regex.VERSION1,
)
# Every card-security word of _CVV contains one of these ("security": card security code, security code;
# "digit": 3-digit code, digits on the back).
_CVV_WORDS = Keywords(
    ("cvv", "cvc", "cav2", "csc", "security", "verification", "digit", "sicherheitscode", "prüfnummer", "prüfziffer",
     "sikkerhedskode", "kontrolcifre", "kontrolnummer", "सीवीवी", "सुरक्षा")
)  # fmt: skip


def find_cvv(text: str, digits: int | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of each 3-4 digit code within 40 characters after a card-security word ("CVV 123",
    "security code: 4567", "Prüfnummer 123", "sikkerhedskode 123"). ``digits`` as in find_card_numbers."""
    if (_digit_count(text) if digits is None else digits) < _CVV_MIN_DIGITS or not _CVV_WORDS.may_match(text):
        return []
    return [m.span(1) for m in _CVV.finditer(text)]


# -- IBAN -----------------------------------------------------------------------------------------------

# ISO 13616 registry: country -> IBAN length.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
    "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# An IBAN-shaped string: a country and check digits at the start of a word, the rest of that group, then
# more groups of ASCII letters and digits, each after a single space.
_IBAN_HEAD = regex.compile(r"(?<![\p{L}\p{N}])[A-Za-z]{2}\d{2}[A-Za-z0-9]*")
_IBAN_GROUP = re.compile(r" [A-Za-z0-9]+")


# A valid IBAN is ASCII: its country and check digits are two ASCII letters, then two ASCII digits. With each
# ASCII letter of a text's UTF-8 form made "a", each ASCII digit "0" and every other byte a space, one substring
# search tells whether it has that shape anywhere, and spares the scan for candidates (whose digits `regex`
# reads as any \d) in almost every text: a regular expression would try a match at every letter.
_IBAN_SHAPE = bytes(
    ord("a") if chr(b).isascii() and chr(b).isalpha() else ord("0") if chr(b) in "0123456789" else ord(" ")
    for b in range(256)
)


def _may_hold_valid_iban(text: str) -> bool:
    return b"aa00" in text.encode("utf-8", "surrogatepass").translate(_IBAN_SHAPE)


def iban_valid(iban: str) -> bool:
    """Whether ``iban`` (spaces allowed) has a known country, that country's length and a valid mod-97 checksum."""
    compact = iban.replace(" ", "").upper()
    if not compact.isascii() or not compact.isalnum() or _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban_candidates(text: str) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, checksum_ok)`` of each IBAN-shaped string: a known country, then whole space-separated
    groups adding up to exactly that country's length."""
    if not _has_digit(text):
        return
    pos = 0
    while True:
        match = _IBAN_HEAD.search(text, pos)
        if match is None:
            return
        expected = _IBAN_LENGTHS.get(match.group()[:2].upper())
        found = None
        if expected is not None:
            # Group by group, only as far as the country's length: a text of thousands of such groups
            # ("AB12 AB12 ...") is then read once, not once per candidate.
            end = match.end()
            # letters and digits as `[A-Za-z0-9]` counts them: not a check digit of another script
            count = end - match.start() - sum(not c.isascii() for c in match.group()[2:4])
            while count < expected:
                group = _IBAN_GROUP.match(text, end)
                if group is None:
                    break
                count += group.end() - group.start() - 1
                end = group.end()
            if count == expected:
                found = end
        if found is None:
            pos = match.start() + 1
            continue
        yield match.start(), found, iban_valid(text[match.start() : found])
        pos = found


def find_ibans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each valid IBAN (known country and length, mod-97 checksum)."""
    if not _may_hold_valid_iban(text):
        return []
    return [(s, e) for s, e, ok in _iban_candidates(text) if ok]


def _mask_ibans(text: str) -> str:
    candidates = list(_iban_candidates(text))
    if not candidates:
        return text
    out = list(text)
    for start, end, _ok in candidates:
        for i in range(start + 4, end):
            if out[i] != " ":
                out[i] = _MASK
    return "".join(out)


# -- e-mail and phone -----------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_ROLE_MAILBOXES = frozenset(
    ("support", "service", "services", "customerservice", "customercare", "care", "help", "helpdesk",
     "servicedesk", "info", "contact", "kontakt", "hello", "hej", "team", "noreply", "donotreply", "billing",
     "returns", "sales", "privacy", "dpo", "datenschutz", "kundenservice", "kundendienst", "kundeservice",
     "feedback", "complaints", "beschwerde", "social", "press", "office", "mail", "post")
)  # fmt: skip

_PHONE = regex.compile(r"(?<![\p{L}\p{N}+])\+?\(?\d+\)?(?:(?:[ .\-/]{1,2}|(?<=\)))\(?\d+\)?)*")
# A phone word, then at most three words ("call me on", "Telefonnummer lautet"), right before the number.
_PHONE_WORD = regex.compile(
    normalise_text(
        r"(?<!(?-i:[\p{L}\p{M}]))(?:phone|tel|telephone|mobile|cell|call\s+(?:me|us)|text\s+me|whatsapp|sms|telefon"
        r"|handy|mobil|rufnummer|tlf|ring|फ़ोन|फोन|मोबाइल|व्हाट्सएप)(?-i:[\p{L}\p{M}]*)"
        r"(?:[^\p{L}\p{N}]+(?-i:[\p{L}\p{M}]+)){0,3}[^\p{L}\p{N}]*$"
    ),
    regex.IGNORECASE | regex.VERSION1,
)
_NANP = regex.compile(r"(?:\+?1[ .\-])?\(?[2-9]\d{2}\)?[ .\-]?\d{3}[ .\-]\d{4}")
_DANISH = regex.compile(r"(?:\+45 ?)?\d{2} \d{2} \d{2} \d{2}")
_DATE = regex.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})(?!\d)")


def find_emails(text: str) -> list[tuple[int, int]]:
    if "@" not in text:
        return []
    return [m.span() for m in _EMAIL.finditer(text)]


def find_phone_numbers(text: str, digits: int | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of each phone number (see the module docstring for what counts). ``digits`` as in
    find_card_numbers."""
    found: list[tuple[int, int]] = []
    if (_digit_count(text) if digits is None else digits) < _PHONE_MIN_DIGITS:
        return found
    for match in _PHONE.finditer(text):
        if match.end() - match.start() < _PHONE_MIN_DIGITS:
            continue  # every kind of phone number below has at least 7 digits
        raw = match.group().rstrip(")")
        if raw.startswith("(") and ")" not in raw:
            raw = raw[1:]
        start = match.start() + match.group().index(raw)
        number = _ascii_digits(raw)
        n = len(number)
        if _DATE.search(raw) and not raw.startswith("+"):
            continue  # "01.02.2026 10:00" is a date and a time
        if raw.startswith("+"):
            phone = 8 <= n <= 15
        elif number.startswith("00"):
            phone = 10 <= n <= 15
        elif number.startswith("0"):
            phone = 9 <= n <= 12
        else:
            phone = bool(_NANP.fullmatch(raw) or _DANISH.fullmatch(raw))
        if not phone and 7 <= n <= 15:
            phone = _PHONE_WORD.search(normalise_text(text[max(0, start - 40) : start])) is not None
        if phone:
            found.append((start, start + len(raw)))
    return found


def _is_role_mailbox(address: str) -> bool:
    local = address.split("@", 1)[0].casefold()
    return re.sub(r"[._+\-]", "", local) in _ROLE_MAILBOXES or local.startswith(("noreply", "no-reply", "no.reply"))


_SERVICE_PREFIXES = {
    "1": ("800", "833", "844", "855", "866", "877", "888"),  # North America: toll-free
    "44": ("3", "80", "84", "87"),  # UK: 03 (charged as a geographic call), 080 (free), 084/087 (service)
    "49": ("800", "180"),  # Germany: 0800 (free), 0180 (service)
    "45": ("80", "70"),  # Denmark: 80 (free), 70 (shared cost)
    "91": ("1800",),  # India: 1800 (toll-free); +91 800… is a mobile
    "33": ("80",),  # France: 080x (free)
    "31": ("800",),  # the Netherlands: 0800 (free)
    "41": ("800",),  # Switzerland: 0800 (free)
    "43": ("800",),  # Austria: 0800 (free)
}
"""Service numbers for organisations after each country code. Each country's list is its own: 844 is
toll-free after +1, but after a German 0 it is an area code (08441 Pfaffenhofen), where the number is
anybody's."""

_NATIONAL_FREE = "800"
"""After a national 0, with no country to tell: 0800 is free in most of Europe (UK, Germany, France,
Austria, Switzerland, the Netherlands). So is German 0180 service, in 11 digits or more (a French 01 80…
has 10: a Paris line). Not 03, 0808 or 084…: those are German area codes too (033… Brandenburg, 08081
Dorfen, 0844… Upper Bavaria), so only their +44 form counts."""


def _is_service_number(raw: str) -> bool:
    """Toll-free and shared-cost service numbers (0800, 1-800, +45 80…, +44 3…): a company's line, not a
    person's."""
    digits = _ascii_digits(raw)
    if raw.startswith("+") or digits.startswith("00"):
        number = digits[2:] if digits.startswith("00") else digits
        country = next((code for code in _SERVICE_PREFIXES if number.startswith(code)), None)
        return country is not None and number[len(country) :].lstrip("0").startswith(_SERVICE_PREFIXES[country])
    if digits.startswith("0"):
        return digits[1:].startswith(_NATIONAL_FREE) or (digits.startswith("0180") and len(digits) >= 11)
    if len(digits) == 8:  # a Danish number has no trunk prefix
        return digits.startswith(_SERVICE_PREFIXES["45"])
    if len(digits) == 11 and digits.startswith("1800"):  # India's 1800 xxx xxxx, or North America's 1 800…
        return True
    north_american = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    return len(north_american) == 10 and north_american.startswith(_SERVICE_PREFIXES["1"])


def _mask_keep_last(text: str, spans: list[tuple[int, int]], keep: int) -> str:
    if not spans:
        return text
    out = list(text)
    for start, end in spans:
        positions = [i for i in range(start, end) if out[i].isdecimal()]
        for i in positions[: max(0, len(positions) - keep)]:
            out[i] = _MASK
    return "".join(out)


def mask_text(text: str) -> str:
    """``text`` with IBANs, card numbers, CVVs, e-mail addresses and phone numbers masked.

    Each step works on the output of the previous one, so a later step never sees digits an earlier one
    has hidden (an IBAN's digits are not re-read as a card number)."""
    out = text
    digits = _digit_count(out)  # masking only ever removes digits: a bound for every step below
    if digits:
        out = _mask_ibans(out)
        if digits >= _CARD_MIN_DIGITS:
            out = _mask_cards(out)
        if digits >= _CVV_MIN_DIGITS:
            out = _mask_keep_last(out, find_cvv(out), 0)
    if "@" in out:
        out = _EMAIL.sub(lambda m: f"{m.group(1)}{_MASK * 3}@{m.group(2)}", out)
    if digits >= _PHONE_MIN_DIGITS:
        out = _mask_keep_last(out, find_phone_numbers(out), 2)
    return out


# -- requests for card data or passwords --------------------------------------------------------------------

_NEGATION = frozenset(
    ("not", "never", "dont", "nobody", "nicht", "nie", "niemals", "niemand", "niemandem", "niemanden",
     "keinesfalls", "ikke", "aldrig", "ingen", "undlad", "undlade", "मत", "न", "नहीं", "कभी")
)  # fmt: skip
_TOKEN = regex.compile(r"[\p{L}\p{M}']+")
_SENTENCE_END = regex.compile(r"[.!?।\n]")


def _negated(match: "regex.Match[str]") -> bool:
    """A negation word inside the match or among the 4 words either side of it, in the same sentence
    ("never send your card number", "Senden Sie Ihre Kartennummer bitte nicht", "कभी साझा न करें")."""
    text = match.string
    before = _SENTENCE_END.split(text[: match.start()])[-1]
    after = _SENTENCE_END.split(text[match.end() :])[0]
    words = (
        _TOKEN.findall(before)[-4:] + _TOKEN.findall(match.group()) + _TOKEN.findall(after)[:4]
    )
    return any(w.casefold() in _NEGATION or w.casefold().endswith("n't") for w in words)


def requests_in(matcher: LexiconMatcher, text: str | None) -> bool:
    """Whether ``text`` has a match of ``matcher`` that is not negated."""
    # finditer() is at once empty where the prefilter rules a match out (most texts), and a request is usually
    # its first match: one search, where matches() and then finditer() searched the text twice (a request
    # lexicon's expressions cost some 40 µs a search).
    for match in matcher.finditer(text):
        if not _negated(match):
            return True
    return False


# -- facts ----------------------------------------------------------------------------------------------

from servicerules.measures.catalogue import InteractionContext, fact  # noqa: E402
from servicerules.model.interaction import Event  # noqa: E402

FAMILY = "privacy"

INSECURE_CHANNELS = ("chat", "email", "social", "sms", "web")
"""Channels where card data and passwords travel as plain, stored text."""
_COMPANY_ROLES = ("agent", "manager", "bot", "system")


def _company_public_message(event: Event) -> bool:
    return event.type == "message" and event.public and event.role in _COMPANY_ROLES


def _has_cvv(text: str, digits: int) -> bool:
    normalised = normalise_text(text)
    if normalised is text:
        return bool(find_cvv(text, digits))
    # NFKC can make digits (superscript ² → 2), so the raw text's count does not hold; counting the digits
    # of the normalised text costs more than looking for a card-security word first.
    return _CVV_WORDS.may_match(normalised) and bool(find_cvv(normalised))


def _has_personal_contact(text: str, digits: int | None = None) -> bool:
    emails = (text[s:e] for s, e in find_emails(text))
    phones = (text[s:e] for s, e in find_phone_numbers(text, digits))
    return any(not _is_role_mailbox(a) for a in emails) or any(not _is_service_number(p) for p in phones)


class _Texts:
    """The event texts of one interaction as the privacy facts read them, cached on its context: the event
    facts are asked for every message, and what they share is worked out once for all of them. Which events
    the request and public-reply facts are about at all (the channel, the author's role) is decided once
    too, so for every other event they cost a list look-up."""

    __slots__ = ("texts", "digits", "cards", "requestable", "public_replies", "_resources", "_lexicons")

    def __init__(self, ctx: InteractionContext):
        events = ctx.events
        self.texts = [e.text for e in events]
        self.digits = [_digit_count(t) if t else 0 for t in self.texts]
        """How many digits each text has, for the detectors that skip texts with too few."""
        self.cards = [-1 if d >= _CARD_MIN_DIGITS else 0 for d in self.digits]
        """How many card numbers each text has; -1 until counted (:meth:`count_cards`)."""
        channel = ctx.interaction.channel
        company = [t is not None and _company_public_message(e) for e, t in zip(events, self.texts)]
        unasked = [False] * len(events)
        self.requestable = company if channel in INSECURE_CHANNELS else unasked
        """The events a request for card data or a password is looked for in."""
        self.public_replies = company if channel == "social" else unasked
        self._resources = ctx.resources
        self._lexicons: dict[str, LexiconMatcher] = {}

    def count_cards(self, index: int) -> int:
        count = self.cards[index]
        if count < 0:
            count = self.cards[index] = len(find_card_numbers(self.texts[index] or "", self.digits[index]))
        return count

    def lexicon(self, name: str) -> LexiconMatcher:
        # looked up once per interaction: resources.lexicon() falls back to the shipped default through an
        # import and a cache, on each of the dozen calls an interaction makes
        matcher = self._lexicons.get(name)
        if matcher is None:
            matcher = self._lexicons[name] = self._resources.lexicon(name)
        return matcher


_TEXTS = "privacy.texts"


def _card_counts(ctx: InteractionContext) -> list[int] | None:
    """Card numbers per event with text; None when no event has text (a call without a transcript)."""
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    counts = [texts.count_cards(i) for i, text in enumerate(texts.texts) if text is not None]
    return counts or None


@fact(
    "event.has_card_number",
    "bool",
    "the event's text contains a card number: 13-19 digits, grouped by single spaces or single dashes (one "
    "kind per number), Luhn-valid, with a length its card network issues (Visa 13/16/19, Amex 15, "
    "Mastercard 16…); null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_card_number(ctx: InteractionContext, index: int) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    return None if texts.texts[index] is None else texts.count_cards(index) > 0


@fact(
    "event.has_cvv",
    "bool",
    "the event's text has a 3-4 digit code within 40 characters after a card-security word (CVV, CVC, "
    "security code, Prüfnummer, Sicherheitscode, sikkerhedskode, सीवीवी); null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_cvv(ctx: InteractionContext, index: int) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    text = texts.texts[index]
    return None if text is None else _has_cvv(text, texts.digits[index])


@fact(
    "event.has_iban",
    "bool",
    "the event's text contains a valid IBAN (known country, that country's length, mod-97 checksum; "
    "groups of four separated by single spaces allowed); null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_iban(ctx: InteractionContext, index: int) -> bool | None:
    text = ctx.events[index].text
    return None if text is None else bool(find_ibans(text))


@fact(
    "event.has_health_data",
    "bool",
    "the event's text mentions health data (lexicon health_terms: diagnosis, prescription, Krankheit, "
    "sygdom, बीमारी…); null when the event has no text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_health_data(ctx: InteractionContext, index: int) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    text = texts.texts[index]
    return None if text is None else texts.lexicon("health_terms").matches(text)


@fact(
    "event.personal_data_in_public_reply",
    "bool",
    "a public message by the company side (agent, manager, bot or system) on a social channel contains "
    "personal data: an e-mail address (not a role mailbox such as support@ or info@), a phone number (not a "
    "toll-free or service number: 0800, German 0180, 1-800 and the other North American toll-free codes, Danish "
    "70/80, UK +44 3/80/84/87, French +33 80, Dutch, Swiss and Austrian 800; each country's codes count only after its own country code "
    "or national form, so a national 03, 0808 or 0844 number, which is also a German area code, counts as "
    "personal), a card number or an IBAN. Null for any other event or channel, and for a message without text",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_personal_data_public(ctx: InteractionContext, index: int) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    if not texts.public_replies[index]:
        return None
    text = texts.texts[index] or ""
    return texts.count_cards(index) > 0 or bool(find_ibans(text)) or _has_personal_contact(text, texts.digits[index])


def _agent_request(ctx: InteractionContext, index: int, lexicon: str) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    return requests_in(texts.lexicon(lexicon), texts.texts[index]) if texts.requestable[index] else None


@fact(
    "event.agent_requests_card_data",
    "bool",
    "a company-side message (agent, manager, bot or system) on chat, email, social, sms or web asks for card "
    "data (lexicon card_request: \"please send us your card number\", \"wie lautet Ihre Kartennummer\", "
    "\"send venligst dit kortnummer\", \"अपना कार्ड नंबर भेजें\"); a negated request (\"never send your "
    "card number\") does not count. Null for other events and channels (phone is the secure route)",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_agent_requests_card(ctx: InteractionContext, index: int) -> bool | None:
    return _agent_request(ctx, index, "card_request")


@fact(
    "event.agent_requests_password",
    "bool",
    "a company-side message on chat, email, social, sms or web asks for a password, PIN or one-time code "
    "(lexicon password_request: \"what is your password\", \"nennen Sie mir Ihr Passwort\", \"hvad er din "
    "adgangskode\", \"ओटीपी बताएं\"); negated requests do not count. Null for other events and channels",
    "false",
    family=FAMILY,
    scope="event",
)
def _event_agent_requests_password(ctx: InteractionContext, index: int) -> bool | None:
    return _agent_request(ctx, index, "password_request")


@fact(
    "privacy.card_numbers_count",
    "number",
    "how many card numbers (as in event.has_card_number) the interaction's texts contain, counting each "
    "occurrence (a number pasted twice is two exposures); null when no event has text",
    "1",
    family=FAMILY,
)
def _card_numbers_count(ctx: InteractionContext) -> int | None:
    counts = _card_counts(ctx)
    return None if counts is None else sum(counts)


@fact(
    "privacy.has_card_data",
    "bool",
    "some event's text contains a card number or a CVV; null when no event has text",
    "true",
    family=FAMILY,
)
def _has_card_data(ctx: InteractionContext) -> bool | None:
    counts = _card_counts(ctx)
    if counts is None:
        return None
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    return sum(counts) > 0 or any(
        _has_cvv(text, texts.digits[i]) for i, text in enumerate(texts.texts) if text is not None
    )


@fact(
    "privacy.has_health_data",
    "bool",
    "some event's text mentions health data (lexicon health_terms); null when no event has text",
    "false",
    family=FAMILY,
)
def _has_health_data(ctx: InteractionContext) -> bool | None:
    texts: _Texts = ctx.cached(_TEXTS, _Texts)
    present = [text for text in texts.texts if text is not None]
    if not present:
        return None
    matcher = texts.lexicon("health_terms")
    return any(matcher.matches(t) for t in present)
