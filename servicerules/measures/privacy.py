"""Personal data in text: detection of payment cards and masking for evidence excerpts.

No report, log line or error message may repeat a full card number. Evidence excerpts pass through
:func:`mask_text`, which keeps at most the first 6 and last 4 digits of a Luhn-valid card number (the
PCI DSS display rule) and masks e-mail addresses and IBANs.
"""

from __future__ import annotations

import re

__all__ = ["find_card_numbers", "luhn_valid", "mask_text"]

# 13-19 digits, optionally grouped by single spaces or dashes; not glued to other digits
_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2})(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_card_numbers(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, digits)`` of each Luhn-valid 13-19 digit number in ``text``."""
    found = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append((match.start(), match.end(), digits))
    return found


def _mask_card(digits: str) -> str:
    return digits[:6] + "•" * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> str:
    """``text`` with card numbers, e-mail addresses and IBANs masked."""
    out = text
    for start, end, digits in reversed(find_card_numbers(text)):
        out = out[:start] + _mask_card(digits) + out[end:]
    out = _EMAIL.sub(lambda m: f"{m.group(1)}•••@{m.group(2)}", out)
    out = _IBAN.sub(lambda m: f"{m.group(1)}••••••••", out)
    return out


# -- facts ----------------------------------------------------------------------------------------------

from servicerules.measures.catalogue import InteractionContext, fact  # noqa: E402

FAMILY = "privacy"


@fact(
    "event.has_card_number",
    "bool",
    "the event's text contains a Luhn-valid 13-19 digit card number (spaces and dashes allowed)",
    "true",
    family=FAMILY,
    scope="event",
)
def _event_has_card_number(ctx: InteractionContext, index: int) -> bool | None:
    text = ctx.events[index].text
    return None if text is None else bool(find_card_numbers(text))
