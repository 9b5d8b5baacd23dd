#!/usr/bin/env python3
"""Write the example interaction logs in this directory.

    python examples/make_examples.py            # writes interactions.jsonl and invalid.jsonl
    python examples/make_examples.py --check    # exits 1 if the files on disk are not what it would write
    python examples/make_examples.py --expected # prints the outcome each interaction is written to produce

Every interaction below is a hand-written scenario for a fictional retailer ("Kestrel Home": electronics,
household goods and a streaming subscription) with support teams for billing, tech-support and returns.
Nothing is random and nothing is taken from a real data set, so the output is byte-for-byte reproducible.
Standard library only.

Times are written as offsets from the interaction's creation (``Thread``), so the events are in time
order by construction; every timestamp carries an offset: the customer's local offset for people,
``Z`` for system events (a ticketing system stores UTC). The evaluation time the examples are written
for is 2026-03-02T18:00:00Z (``./dev example`` passes it as ``--as-of``).

Each scenario states which outcome it is meant to have for each rule of ``rulesets/starter.yaml``
(``expect=``, letters below; ``v`` violated, ``c`` compliant, anything not listed not applicable).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INTERACTIONS = HERE / "interactions.jsonl"
INVALID = HERE / "invalid.jsonl"

AS_OF = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.timezone.utc)
WINDOW_START = dt.datetime(2026, 2, 23, 0, 0, tzinfo=dt.timezone.utc)

RULES = {
    "E": "reply.email-first-reply",
    "C": "reply.chat-first-reply",
    "S": "reply.social-first-reply",
    "A": "reply.autoresponder-only",
    "G": "protocol.greeting",
    "L": "protocol.closing",
    "P": "privacy.card-number-in-message",
}

# Fixed UTC offsets for late February / early March 2026 (no daylight saving time yet in either
# Europe, which switches on 29 March, or the US, which switches on 8 March).
UTC = dt.timezone.utc
BERLIN = dt.timezone(dt.timedelta(hours=1))
COPENHAGEN = dt.timezone(dt.timedelta(hours=1))
KOLKATA = dt.timezone(dt.timedelta(hours=5, minutes=30))
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
LONDON = UTC

ZONES = {
    "Europe/Berlin": BERLIN,
    "Europe/Copenhagen": COPENHAGEN,
    "Asia/Kolkata": KOLKATA,
    "America/New_York": NEW_YORK,
    "Europe/London": LONDON,
}

# -- people ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    team: str | None = None
    role: str = "agent"

    def author(self) -> dict[str, Any]:
        return {"role": self.role, "id": self.id, "name": self.name}


LENA = Person("ag-101", "Lena Hoffmann", "billing")
JONAS = Person("ag-102", "Jonas Weber", "returns")
SOFIE = Person("ag-103", "Sofie Larsen", "returns")
FREDERIK = Person("ag-104", "Frederik Nielsen", "tech-support")
PRIYA = Person("ag-105", "Priya Sharma", "billing")
ARJUN = Person("ag-106", "Arjun Mehta", "tech-support")
EMILY = Person("ag-107", "Emily Carter", "tech-support")
MARCUS = Person("ag-108", "Marcus Brown", "returns")
CLAUDIA = Person("mg-201", "Claudia Richter", "cs-leads", role="manager")

MAILER = Person("sys-mailer", "Kestrel Auto-Reply", role="system")
SOCIAL_BOT = Person("sys-social", "Kestrel Social Inbox", role="system")
TELEPHONY = Person("sys-telephony", "Kestrel Phone System", role="system")
AVA = Person("bot-ava", "Ava (virtual assistant)", role="bot")


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    tier: str
    locale: str
    timezone: str
    segment: str | None = None

    @property
    def tz(self) -> dt.tzinfo:
        return ZONES[self.timezone]

    def author(self) -> dict[str, Any]:
        return {"role": "customer", "id": self.id, "name": self.name}

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "tier": self.tier}
        if self.segment:
            out["segment"] = self.segment
        out["locale"] = self.locale
        out["timezone"] = self.timezone
        return out


def _c(cid: str, name: str, tier: str, locale: str, timezone: str, segment: str | None = None) -> Customer:
    return Customer(cid, name, tier, locale, timezone, segment)


TOM = _c("C-10017", "Tom Walsh", "gold", "en-US", "America/New_York")
SABINE = _c("C-10023", "Sabine Schmidt", "silver", "de-DE", "Europe/Berlin")
OLIVIA = _c("C-10031", "Olivia Grant", "bronze", "en-GB", "Europe/London")
JAMES = _c("C-10044", "James O'Connor", "silver", "en-US", "America/New_York")
KLAUS = _c("C-10052", "Klaus Meyer", "guest", "de-DE", "Europe/Berlin")
AISHA = _c("C-10058", "Aisha Khan", "bronze", "en-IN", "Asia/Kolkata")
METTE = _c("C-10063", "Mette Jensen", "gold", "da-DK", "Europe/Copenhagen")
RAHUL = _c("C-10071", "राहुल वर्मा", "silver", "hi-IN", "Asia/Kolkata")
DANIEL = _c("C-10079", "Daniel Kim", "bronze", "en-US", "America/New_York")
GRACE = _c("C-10085", "Grace Miller", "silver", "en-US", "America/New_York")
THOMAS = _c("C-10090", "Thomas Bauer", "silver", "de-DE", "Europe/Berlin")
NEHA = _c("C-10096", "Neha Patel", "gold", "en-US", "America/New_York")
ROBERT = _c("C-10102", "Robert Hughes", "gold", "en-US", "America/New_York")
LAURA = _c("C-10109", "Laura Bennett", "silver", "en-GB", "Europe/London")
BEN = _c("C-10115", "Ben Turner", "guest", "en-GB", "Europe/London")
LARS = _c("C-10121", "Lars Poulsen", "bronze", "da-DK", "Europe/Copenhagen")
WAGNER = _c("C-10127", "Michael Wagner", "gold", "de-DE", "Europe/Berlin")
SUNITA = _c("C-10133", "सुनीता अग्रवाल", "bronze", "hi-IN", "Asia/Kolkata")
PETRA = _c("C-10139", "Petra Schulz", "silver", "de-DE", "Europe/Berlin", segment="business")
CHLOE = _c("C-10144", "Chloe Martin", "bronze", "en-GB", "Europe/London")
NINA = _c("C-10150", "Nina Rossi", "silver", "en-US", "America/New_York")
JULIA = _c("C-10156", "Julia Neumann", "bronze", "de-DE", "Europe/Berlin")
DEV = _c("C-10161", "Dev Malhotra", "gold", "en-IN", "Asia/Kolkata")
VIKRAM = _c("C-10167", "Vikram Shah", "silver", "en-IN", "Asia/Kolkata", segment="business")
MADS = _c("C-10172", "Mads Kristensen", "guest", "da-DK", "Europe/Copenhagen")
SARAH = _c("C-10178", "Sarah Collins", "silver", "en-US", "America/New_York")
MEERA = _c("C-10183", "Meera Iyer", "gold", "en-IN", "Asia/Kolkata")
KEVIN = _c("C-10189", "Kevin Walker", "bronze", "en-US", "America/New_York")
KRUEGER = _c("C-10194", "Stefan Krüger", "silver", "de-DE", "Europe/Berlin")
AMIT = _c("C-10199", "अमित कुमार", "bronze", "hi-IN", "Asia/Kolkata")
ELLA = _c("C-10203", "Ella Thompson", "guest", "en-GB", "Europe/London")
KWAME = _c("C-10208", "Kwame Osei", "silver", "en-GB", "Europe/London")
CARLOS = _c("C-10214", "Carlos Rivera", "bronze", "en-US", "America/New_York")
YILMAZ = _c("C-10219", "Emre Yılmaz", "silver", "de-DE", "Europe/Berlin")
JORDAN = _c("C-10225", "Jordan Price", "guest", "en-US", "America/New_York")
FREJA = _c("C-10230", "Freja Holm", "silver", "da-DK", "Europe/Copenhagen")
PAUL = _c("C-10236", "Paul Edwards", "gold", "en-GB", "Europe/London")
KAVYA = _c("C-10241", "काव्या रेड्डी", "silver", "hi-IN", "Asia/Kolkata")
MAYA = _c("C-10247", "Maya Goldberg", "guest", "en-US", "America/New_York")
LIAM = _c("C-10252", "Liam Foster", "bronze", "en-GB", "Europe/London")
FELIX = _c("C-10258", "Felix Braun", "guest", "de-DE", "Europe/Berlin")
ANDERS = _c("C-10263", "Anders Møller", "bronze", "da-DK", "Europe/Copenhagen")
RYAN = _c("C-10269", "Ryan Cooper", "guest", "en-US", "America/New_York")
ANJALI = _c("C-10274", "अंजलि सिंह", "silver", "hi-IN", "Asia/Kolkata")
SAM = _c("C-10280", "Sam Patel", "bronze", "en-GB", "Europe/London")
OWEN = _c("C-10285", "Owen Harris", "silver", "en-US", "America/New_York")
JANA = _c("C-10291", "Jana Novak", "bronze", "de-DE", "Europe/Berlin")
HELEN = _c("C-10296", "Helen Brooks", "gold", "en-US", "America/New_York")
MONIKA = _c("C-10302", "Monika Lehmann", "silver", "de-DE", "Europe/Berlin")
RAJESH = _c("C-10307", "राजेश गुप्ता", "gold", "hi-IN", "Asia/Kolkata")
KAREN = _c("C-10313", "Karen Lund", "silver", "da-DK", "Europe/Copenhagen")
DAVID = _c("C-10318", "David Evans", "bronze", "en-GB", "Europe/London")
ANNA = _c("C-10324", "Anna Zimmermann", "gold", "de-DE", "Europe/Berlin")
LEO = _c("C-10329", "Leo Martinez", "bronze", "en-US", "America/New_York")
CHRIS = _c("C-10335", "Chris Baker", "guest", "en-US", "America/New_York")
SILKE = _c("C-10340", "Silke Hartmann", "guest", "de-DE", "Europe/Berlin")
PETER = _c("C-10346", "Peter Clarke", "silver", "en-GB", "Europe/London")
SOREN = _c("C-10351", "Søren Dahl", "gold", "da-DK", "Europe/Copenhagen")
EMMA = _c("C-10357", "Emma Davies", "silver", "en-GB", "Europe/London")
ZOE = _c("C-10362", "Zoe Mitchell", "bronze", "en-US", "America/New_York")

# -- durations, timestamps, card numbers ----------------------------------------------------------------

_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def duration(text: str) -> dt.timedelta:
    """``"1d2h"``, ``"40s"``, ``"6m"`` → timedelta."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"bad duration {text!r}")
    return dt.timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def iso(moment: dt.datetime, tz: dt.tzinfo) -> str:
    text = moment.astimezone(tz).isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Same shape as servicerules.measures.privacy: 13-19 digits, single spaces or dashes between them.
_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def has_card_number(text: str) -> bool:
    return any(luhn_valid(re.sub(r"[ -]", "", m.group())) for m in _CARD.finditer(text))


# Test numbers published by the card networks (never real cards), and an order number of the same shape
# that fails the Luhn check, so it must not be taken for a card.
TEST_VISA = "4111 1111 1111 1111"
TEST_MASTERCARD = "5500-0000-0000-0004"
ORDER_NUMBER_16 = "7302 1185 4420 9136"
assert luhn_valid(TEST_VISA.replace(" ", "")) and luhn_valid(TEST_MASTERCARD.replace("-", ""))
assert not luhn_valid(ORDER_NUMBER_16.replace(" ", ""))

# -- the thread builder ---------------------------------------------------------------------------------


@dataclass
class Thread:
    """One interaction, written event by event.

    ``after`` is a duration after the previous event (``"5m"``) or, with a leading ``@``, after the
    interaction's creation (``"@30h"``).
    """

    id: str
    channel: str
    start: dt.datetime
    customer: Customer
    team: str
    language: str
    subject: str | None = None
    priority: str = "normal"
    expect: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    tz: dt.tzinfo | None = None  # offset for people's timestamps; default: the customer's
    created_tz: dt.tzinfo | None = None
    events: list[tuple[dt.datetime, dt.tzinfo, dict[str, Any]]] = field(default_factory=list)
    staff: list[Person] = field(default_factory=list)
    solved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    cards: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError(f"{self.id}: start must be timezone-aware")
        self.tz = self.tz or self.customer.tz
        self.now = self.start

    # timing
    def _when(self, after: str) -> dt.datetime:
        moment = self.start + duration(after[1:]) if after.startswith("@") else self.now + duration(after)
        if moment < self.now:
            raise ValueError(f"{self.id}: event at {moment} is before the previous one at {self.now}")
        self.now = moment
        return moment

    def _add(self, after: str, kind: str, who: Person | Customer | None, tz: dt.tzinfo | None = None, **fields: Any) -> dt.datetime:
        moment = self._when(after)
        event: dict[str, Any] = {"type": kind}
        if who is not None:
            event["author"] = who.author()
            if isinstance(who, Person) and who.role in ("agent", "manager") and who not in self.staff:
                self.staff.append(who)
        event.update({k: v for k, v in fields.items() if v is not None})
        zone = tz or (UTC if isinstance(who, Person) and who.role in ("system", "bot") else self.tz)
        self.events.append((moment, zone, event))
        return moment

    # messages
    def said(self, after: str, text: str, *, card: bool = False) -> "Thread":
        if card:
            self.cards.add(len(self.events))
        self._add(after, "message", self.customer, public=True, text=text)
        return self

    def reply(self, after: str, agent: Person, text: str, **attributes: Any) -> "Thread":
        self._add(after, "message", agent, public=True, text=text, attributes=attributes or None)
        return self

    def auto(self, after: str, text: str, kind: str = "autoresponder", by: Person = MAILER) -> "Thread":
        self._add(after, "message", by, public=True, automated=kind, text=text)
        return self

    def macro(self, after: str, agent: Person, text: str) -> "Thread":
        self._add(after, "message", agent, public=True, automated="macro", text=text)
        return self

    def bot(self, after: str, text: str) -> "Thread":
        self._add(after, "message", AVA, public=True, automated="bot", text=text)
        return self

    def note(self, after: str, agent: Person, text: str) -> "Thread":
        self._add(after, "note", agent, public=False, text=text)
        return self

    # workflow
    def status(self, after: str, status: str, by: Person = MAILER) -> "Thread":
        moment = self._add(after, "status", by, status=status)
        if status == "solved":
            self.solved_at = moment
        elif status == "closed":
            self.closed_at = moment
        return self

    def action(self, after: str, by: Person, action: str, **attributes: Any) -> "Thread":
        self._add(after, "action", by, action=action, attributes=attributes or None)
        return self

    def transfer(self, after: str, by: Person, to_team: str, text: str | None = None) -> "Thread":
        self._add(after, "transfer", by, text=text, attributes={"from_team": by.team or "bot", "to_team": to_team})
        return self

    def call(self, after: str, kind: str, by: Person | None = None, **attributes: Any) -> "Thread":
        self._add(after, kind, by or TELEPHONY, attributes=attributes or None)
        return self

    # output
    def record(self) -> dict[str, Any]:
        if not (WINDOW_START <= self.start and self.now <= AS_OF):
            raise ValueError(f"{self.id}: outside the example window")
        for index, (_, _, event) in enumerate(self.events):
            text = event.get("text") or ""
            if has_card_number(text) != (index in self.cards):
                raise ValueError(f"{self.id}: event {index} card number detection differs from the scenario")
        out: dict[str, Any] = {"id": self.id, "channel": self.channel, "created_at": iso(self.start, self.created_tz or self.tz)}
        if self.solved_at:
            out["solved_at"] = iso(self.solved_at, UTC)
        if self.closed_at:
            out["closed_at"] = iso(self.closed_at, UTC)
        out["priority"] = self.priority
        out["language"] = self.language
        if self.subject:
            out["subject"] = self.subject
        out["customer"] = self.customer.record()
        out["agents"] = [{"id": p.id, "name": p.name, "team": p.team} for p in self.staff]
        out["team"] = self.team
        out["events"] = [{"at": iso(moment, zone), **event} for moment, zone, event in self.events]
        if self.attributes:
            out["attributes"] = self.attributes
        return out

    def expected(self) -> dict[str, str]:
        given = dict(item.split(":") for item in self.expect.split())
        names = {"v": "violated", "c": "compliant"}
        return {rule: names[given[letter]] if letter in given else "not_applicable" for letter, rule in RULES.items()}


def at(text: str, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


def order(number: str, date: str, amount: float, currency: str, category: str, receipt: bool = True) -> dict[str, Any]:
    return {"order": {"number": number, "purchase_date": date, "amount": amount, "currency": currency, "receipt": receipt, "category": category}}


ACK_EN = "We have received your message (ticket {id}). Our team answers e-mails within 24 hours, usually much sooner."
ACK_DE = "Wir haben Ihre Nachricht erhalten (Ticket {id}). Unser Team beantwortet E-Mails innerhalb von 24 Stunden."
ACK_DA = "Vi har modtaget din besked (sag {id}). Vores team svarer på e-mails inden for 24 timer."
ACK_HI = "हमें आपका संदेश मिल गया है (टिकट {id})। हमारी टीम 24 घंटे के भीतर उत्तर देगी।"


# ======================================================================================================
# E-mail and web forms
# ======================================================================================================


def email_and_web() -> list[Thread]:
    out = []

    t = Thread("EM-1001", "email", at("2026-02-23T08:40:00", NEW_YORK), TOM, "billing", "en",
               subject="Charged twice for February subscription", priority="normal",
               expect="E:c A:c G:c L:c P:c", tz=NEW_YORK,
               attributes={"subscription": {"plan": "Kestrel Stream Plus", "amount": 14.99, "currency": "USD"}})
    t.said("0s", "Hello, I was charged twice for my February subscription (invoice INV-2026-0211, $14.99 each, both on Feb 1). Could you refund one of them? Thanks, Tom")
    t.auto("1m", ACK_EN.format(id="EM-1001"))
    t.reply("@2h", PRIYA, "Hi Tom, thanks for flagging this. I can see two charges of $14.99 on February 1: the second was a payment retry that should have been voided. I've refunded it, so it will be back on your card within 3-5 business days. Let me know if anything else looks off on your account.")
    t.action("1m", PRIYA, "refund_issued", amount=14.99, currency="USD", reason="duplicate_charge")
    t.status("1m", "pending", PRIYA)
    t.said("40m", "Great, thank you for sorting it out so quickly!")
    t.status("2h", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1002", "email", at("2026-02-23T10:05:00", BERLIN), SABINE, "billing", "de",
               subject="Erstattung für Rücksendung 100-48213", expect="E:c A:c G:c L:c P:c",
               attributes=order("100-48213", "2026-01-28", 49.9, "EUR", "household"))
    t.said("0s", "Guten Tag, ich habe meine Bestellung 100-48213 (Wasserkocher) am 10.02. zurückgeschickt, aber noch keine Erstattung erhalten. Können Sie bitte nachsehen? Viele Grüße, Sabine Schmidt")
    t.auto("1m", ACK_DE.format(id="EM-1002"))
    t.note("@1h50m", LENA, "Rücksendung laut Lager am 14.02. eingegangen, Ware einwandfrei. Erstattung war nicht ausgelöst.")
    t.action("5m", LENA, "refund_issued", amount=49.9, currency="EUR")
    t.reply("5m", LENA, "Hallo Frau Schmidt, vielen Dank für Ihre Geduld. Ihre Rücksendung ist am 14.02. bei uns eingegangen und geprüft worden. Ich habe die Erstattung über 49,90 € soeben veranlasst; der Betrag ist in 3-5 Werktagen auf Ihrem Konto. Haben Sie noch Fragen, melden Sie sich gerne. Viele Grüße, Lena Hoffmann")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("EM-1003", "email", at("2026-02-24T07:50:00", LONDON), OLIVIA, "returns", "en",
               subject="Cracked screen protector in order 100-51877", expect="E:v A:c G:c L:v P:c",
               attributes=order("100-51877", "2026-02-19", 24.0, "GBP", "accessories"))
    t.said("0s", "Hello, my order 100-51877 arrived this morning and the screen protector inside is cracked. Can you send me a return label? Olivia")
    t.auto("1m", ACK_EN.format(id="EM-1003"))
    t.note("@29h40m", MARCUS, "Weekend backlog, picking up the oldest returns first.")
    t.reply("@30h", MARCUS, "Hi Olivia, I'm sorry for the slow reply; we've had an unusually high volume of e-mails this week. I've sent a prepaid return label to your e-mail address. As soon as the parcel is scanned we'll ship the replacement.")
    t.status("1m", "pending", MARCUS)
    t.said("2h", "Got it, the parcel is at the post office now.")
    t.reply("3h", MARCUS, "Thanks Olivia. The replacement has been dispatched today; the tracking link is in your account under Orders.")
    t.status("2m", "solved", MARCUS)
    out.append(t)

    t = Thread("EM-1004", "email", at("2026-02-25T14:20:00", NEW_YORK), JAMES, "billing", "en",
               subject="Billed after cancelling", priority="high", expect="E:v A:v P:c",
               attributes={"subscription": {"plan": "Kestrel Stream Basic", "cancelled_on": "2026-02-20", "amount": 8.99, "currency": "USD"}})
    t.said("0s", "Hello, I cancelled my plan on February 20 (I have the confirmation e-mail) but I was billed $8.99 again on February 24. Please refund the charge and confirm that the subscription is really cancelled.")
    t.auto("1m", ACK_EN.format(id="EM-1004"))
    t.said("@2d1h", "Following up on this. Two days and still no answer. Is anyone reading these?")
    t.auto("1m", "Your ticket EM-1004 is still open and has been moved up in our queue. Thank you for your patience.", kind="trigger")
    out.append(t)

    t = Thread("WEB-1005", "web", at("2026-03-02T10:10:00", BERLIN), KLAUS, "returns", "de",
               subject="Frage zur Garantie: Akku-Staubsauger lädt nicht", expect="E:c A:c P:c",
               attributes={"form": "warranty_claim", **order("100-39904", "2025-10-14", 189.0, "EUR", "household")})
    t.said("0s", "Hallo, mein Akku-Staubsauger (gekauft am 14.10.2025) lädt seit gestern nicht mehr, die Ladeanzeige bleibt aus. Fällt das noch unter die Garantie? Ich habe die Rechnung noch.")
    t.auto("1m", ACK_DE.format(id="WEB-1005"))
    out.append(t)

    t = Thread("WEB-1006", "web", at("2026-03-01T11:30:00", KOLKATA), AISHA, "tech-support", "en",
               subject="App crashes on the invoices screen", priority="high", expect="E:v A:c P:c",
               attributes={"form": "technical_issue", "device": {"os": "Android 14", "app_version": "5.2.0"}})
    t.said("0s", "The Kestrel app crashes every time I open the Invoices screen since the update to 5.2.0 (Android 14, Pixel 7). Reinstalling did not help. I need the January invoice for my tax return.")
    t.auto("1m", ACK_EN.format(id="WEB-1006"))
    t.note("@5h", ARJUN, "Reproduced on a Pixel 7 test device with 5.2.0. Linked to bug APP-3312, fix planned for 5.2.1. Customer still needs a reply with a workaround (invoice download on the website).")
    out.append(t)

    t = Thread("EM-1007", "email", at("2026-02-24T09:30:00", COPENHAGEN), METTE, "returns", "da",
               subject="Forkert størrelse sko", expect="E:c A:c G:c P:c",
               attributes=order("100-50122", "2026-02-18", 899.0, "DKK", "fashion"))
    t.said("0s", "Hej, jeg har modtaget et par sko i den forkerte størrelse (bestilt 42, fik 40). Hvordan bytter jeg dem? Mvh Mette")
    t.auto("1m", ACK_DA.format(id="EM-1007"))
    t.reply("@5h", SOFIE, "Hej Mette, tak for din besked, og undskyld fejlen. Jeg har sendt dig en returlabel på mail. Så snart vi har modtaget skoene, sender vi størrelse 42 med det samme. Venlig hilsen Sofie")
    t.status("1m", "pending", SOFIE)
    out.append(t)

    t = Thread("EM-1008", "email", at("2026-02-26T10:15:00", KOLKATA), RAHUL, "billing", "hi",
               subject="बिल दो बार कटा", expect="E:c A:c G:c L:c P:c",
               attributes={"subscription": {"plan": "Kestrel Stream Plus", "amount": 799, "currency": "INR"}})
    t.said("0s", "नमस्ते, मेरे खाते से फ़रवरी का बिल दो बार कटा है (₹799 दो बार)। कृपया एक राशि वापस कर दें। धन्यवाद, राहुल वर्मा")
    t.auto("1m", ACK_HI.format(id="EM-1008"))
    t.reply("@3h", PRIYA, "नमस्ते राहुल जी, असुविधा के लिए खेद है। मैंने दूसरी कटौती (₹799) की वापसी शुरू कर दी है; राशि 5-7 कार्यदिवसों में आपके खाते में आ जाएगी।")
    t.action("1m", PRIYA, "refund_issued", amount=799, currency="INR")
    t.said("1h", "धन्यवाद, बहुत जल्दी जवाब मिला।")
    t.reply("20m", PRIYA, "आपका स्वागत है। कोई और प्रश्न हो तो बेझिझक बताइए।")
    t.status("1m", "solved", PRIYA)
    out.append(t)

    t = Thread("EM-1009", "email", at("2026-02-24T13:05:00", NEW_YORK), DANIEL, "tech-support", "en",
               subject="Password reset link always expired", expect="E:c A:c G:v L:c P:c")
    t.said("0s", "Every password reset link you send me says 'link expired' as soon as I click it. I've tried four times now.")
    t.auto("1m", ACK_EN.format(id="EM-1009"))
    t.reply("@1h", EMILY, "Reset links are valid for 30 minutes, and the ones you received went to an older address still on file, which is why they arrived late. I've updated your e-mail address and sent a fresh link just now. Let me know if it still fails.")
    t.said("25m", "That worked, I'm back in. Thanks.")
    t.status("3h", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1010", "email", at("2026-02-25T11:12:00", NEW_YORK), GRACE, "billing", "en",
               subject="Payment keeps getting declined", expect="E:c A:c G:c L:c P:v",
               attributes={"payment": {"method": "card", "declines": 3}})
    t.said("0s", f"Hi, my payment keeps getting declined when I try to renew. The card is {TEST_VISA}, exp 09/28. Can you check what's wrong on your side?", card=True)
    t.auto("1m", ACK_EN.format(id="EM-1010"))
    t.note("@1h20m", PRIYA, "Customer wrote a full card number in the e-mail. Redaction requested with privacy (PRIV-118). Declines are 3-D Secure failures at the issuing bank.")
    t.reply("10m", PRIYA, "Hello Grace, thanks for reaching out. For your security, please never send card details by e-mail; we have removed them from our records. The three declines come from your bank's 3-D Secure check, not from us, so the bank can unblock online payments for you. Let us know if the next attempt fails and we'll look again.")
    t.status("1m", "pending", PRIYA)
    t.said("5h", "The bank fixed it, the renewal went through. Thank you!")
    t.status("4h", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1011", "email", at("2026-02-26T08:45:00", BERLIN), THOMAS, "returns", "de",
               subject=f"Rücksendung Bestellnummer {ORDER_NUMBER_16}", expect="E:c A:c G:c L:c P:c",
               attributes=order(ORDER_NUMBER_16.replace(" ", ""), "2026-02-11", 129.0, "EUR", "electronics"))
    t.said("0s", f"Guten Morgen, ich möchte den Bluetooth-Lautsprecher aus meiner Bestellung {ORDER_NUMBER_16} zurückgeben, der Klang ist verzerrt. Wie gehe ich vor? Thomas Bauer")
    t.auto("1m", ACK_DE.format(id="EM-1011"))
    t.reply("@4h", JONAS, "Guten Tag Herr Bauer, das tut mir leid. Ich habe Ihnen ein kostenloses Rücksendeetikett per E-Mail geschickt. Sobald der Lautsprecher bei uns ist, erstatten wir die 129,00 € innerhalb von 5 Werktagen. Wenn Sie weitere Fragen haben, melden Sie sich gerne. Viele Grüße, Jonas Weber")
    t.status("1m", "solved", JONAS)
    out.append(t)

    t = Thread("EM-1012", "email", at("2026-02-27T09:00:00", NEW_YORK), NEHA, "returns", "en",
               subject="Your order 100-53390 will arrive later than planned", priority="low", expect="E:c G:c P:c",
               attributes={"direction": "outbound", **order("100-53390", "2026-02-24", 349.0, "USD", "electronics")})
    t.reply("0s", MARCUS, "Hello Ms. Patel, your order 100-53390 (espresso machine) is delayed by the winter storm in the Midwest. The new delivery date is Thursday, March 5. Nothing needs to be done on your side; if you'd rather cancel, just reply to this e-mail.")
    t.status("1m", "pending", MARCUS)
    out.append(t)

    t = Thread("EM-1013", "email", at("2026-02-24T16:30:00", NEW_YORK), ROBERT, "returns", "en",
               subject="Refund for headphones", priority="high", expect="E:c A:c G:c L:c P:c",
               attributes=order("100-44120", "2026-01-05", 129.0, "USD", "electronics"))
    t.said("0s", "I'd like to return the noise-cancelling headphones from order 100-44120. The left ear cup rattles. Please refund me.")
    t.auto("1m", ACK_EN.format(id="EM-1013"))
    t.reply("@3h", MARCUS, "Hi Robert, I'm sorry to hear about the rattle. I've checked the order: it was delivered on January 9, and the 30-day return window ended on February 8, so I can't approve a refund. The headphones are still under the one-year warranty, though, and I can start a repair for you.")
    t.action("1m", MARCUS, "refund_denied", reason="outside_return_window")
    t.said("1h", "This is ridiculous. I've been a gold member for six years. I want to speak to a manager.")
    t.action("10m", MARCUS, "escalated", to="cs-leads")
    t.action("0s", MAILER, "manager_notified", manager=CLAUDIA.id)
    t.note("1m", MARCUS, "Escalated: gold customer, 16 days past the return window, defect reported. Goodwill credit?")
    t.reply("@1d1h", CLAUDIA, "Dear Mr Hughes, I'm Claudia Richter, team lead in customer service. Marcus was right about the return window, but given the defect and your long membership, I've added a store credit of $60 to your account as a goodwill gesture, and a free warranty repair is still available.")
    t.action("2m", CLAUDIA, "credit_issued", amount=60, currency="USD")
    t.said("2h", "OK, I'll accept that. Thank you.")
    t.reply("30m", CLAUDIA, "Thank you, Mr Hughes. Is there anything else I can do for you?")
    t.status("1d", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1014", "email", at("2026-02-26T12:40:00", LONDON), LAURA, "tech-support", "en",
               subject="Smart plug won't connect to Wi-Fi", expect="E:v A:c G:c P:c",
               attributes={"device": {"model": "KS-Plug Mini", "firmware": "2.4.1"}})
    t.said("0s", "Hello, the smart plug I bought last week won't connect to my Wi-Fi. The light just keeps blinking orange. I've reset it several times.")
    t.auto("1m", ACK_EN.format(id="EM-1014"))
    t.macro("20m", FREDERIK, "Thanks for contacting Kestrel support. While we look into this, our Wi-Fi set-up guide may help: kestrel.example/help/wifi")
    t.reply("@26h", FREDERIK, "Hi Laura, sorry for the wait. A blinking orange light means the plug can't see a 2.4 GHz network. Many routers now combine 2.4 and 5 GHz under one name; could you try switching the 5 GHz band off for a few minutes while you pair the plug?")
    t.status("1m", "pending", FREDERIK)
    out.append(t)

    t = Thread("WEB-1015", "web", at("2026-02-27T15:00:00", LONDON), BEN, "tech-support", "en",
               subject="Can't log in", expect="E:c A:c G:v L:v P:c", attributes={"form": "account_access"})
    t.said("0s", "I can't log in, it says my account is locked. I haven't changed anything.")
    t.auto("1m", ACK_EN.format(id="WEB-1015"))
    t.reply("@2h", EMILY, "Your account was locked after five failed sign-in attempts this morning. I've unlocked it; you can sign in again now.")
    t.said("15m", "ok thanks")
    t.status("5m", "solved", EMILY)
    out.append(t)

    t = Thread("EM-1016", "email", at("2026-02-23T08:20:00", COPENHAGEN), LARS, "tech-support", "da",
               subject="Router mister forbindelsen", expect="E:v A:c G:c L:c P:c",
               attributes={"device": {"model": "KS-Mesh 3", "firmware": "1.9.0"}})
    t.said("0s", "Hej. Min router mister forbindelsen flere gange om dagen, og så skal jeg genstarte den. Det er begyndt efter den sidste opdatering.")
    t.auto("1m", ACK_DA.format(id="EM-1016"))
    t.reply("@28h", FREDERIK, "Kære Lars, undskyld den lange ventetid. Firmware 1.9.0 har en kendt fejl med netop dette symptom. Jeg har skubbet version 1.9.2 til din router, som installeres i nat. Har du andre spørgsmål, så vend endelig tilbage.")
    t.said("1d", "Det virker nu, tak!")
    t.status("2h", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1017", "email", at("2026-02-25T09:10:00", BERLIN), WAGNER, "billing", "de",
               subject="Rechnung Februar: falsche Anschrift", priority="low", expect="E:c A:c G:c L:c P:c")
    t.said("0s", "Sehr geehrte Damen und Herren, auf meiner Rechnung für Februar steht noch meine alte Anschrift. Bitte stellen Sie die Rechnung neu aus. Mit freundlichen Grüßen, Michael Wagner")
    t.auto("1m", ACK_DE.format(id="EM-1017"))
    t.reply("@6h", LENA, "Sehr geehrter Herr Wagner, vielen Dank für den Hinweis. Ich habe Ihre Anschrift aktualisiert und die Februar-Rechnung neu ausgestellt; Sie finden sie in Ihrem Kundenkonto unter Rechnungen. Kann ich sonst noch etwas für Sie tun? Mit freundlichen Grüßen, Lena Hoffmann")
    t.status("2d", "closed", MAILER)
    out.append(t)

    t = Thread("EM-1018", "email", at("2026-02-28T09:40:00", KOLKATA), SUNITA, "returns", "hi",
               subject="ऑर्डर अभी तक नहीं आया", expect="E:c A:c G:v P:c",
               attributes=order("100-55012", "2026-02-21", 2499.0, "INR", "household"))
    t.said("0s", "मेरा ऑर्डर 100-55012 एक हफ़्ते से 'रास्ते में' दिखा रहा है। कृपया बताइए कि यह कब तक पहुँचेगा।")
    t.auto("1m", ACK_HI.format(id="EM-1018"))
    t.reply("@4h", PRIYA, "आपका ऑर्डर कूरियर के गोदाम में अटका था और आज फिर से भेज दिया गया है। यह सोमवार तक पहुँच जाएगा; ट्रैकिंग लिंक आपके ईमेल पर भेज दिया गया है।")
    t.status("1m", "pending", PRIYA)
    out.append(t)

    t = Thread("WEB-1019", "web", at("2026-02-28T13:00:00", BERLIN), PETRA, "billing", "de",
               subject="Rechnung mit USt-IdNr. benötigt", expect="E:v A:v P:c",
               attributes={"form": "invoice_request", "company": "Schulz Architektur GmbH"})
    t.said("0s", "Guten Tag, für unsere Buchhaltung benötigen wir die Rechnungen von Januar und Februar mit unserer USt-IdNr. und dem Firmennamen Schulz Architektur GmbH. Bitte senden Sie uns korrigierte Rechnungen zu.")
    t.auto("1m", ACK_DE.format(id="WEB-1019"))
    out.append(t)

    t = Thread("EM-1020", "email", at("2026-02-26T17:30:00", LONDON), CHLOE, "returns", "en",
               subject="Exchange a lamp for a different colour", priority="low", expect="E:c A:c G:c L:c P:c",
               attributes=order("100-52877", "2026-02-20", 45.0, "GBP", "household"))
    t.said("0s", "Hello, could I exchange the table lamp I ordered (white) for the green one? It's unused and still in the box.")
    t.auto("1m", ACK_EN.format(id="EM-1020"))
    t.reply("@23h", MARCUS, "Good morning Chloe, of course. I've set up the exchange: a courier will collect the white lamp on Monday and bring the green one at the same time, so there's no need to print anything. Happy to help if you need anything before then.")
    t.status("2m", "solved", MARCUS)
    out.append(t)

    t = Thread("EM-1021", "email", at("2026-02-27T10:00:00", NEW_YORK), NINA, "billing", "en",
               subject="Unknown charge from Kestrel", expect="E:c A:c G:c L:v P:c")
    t.said("0s", "Hi, there's a $29.99 charge from Kestrel on my statement from Feb 25 that I don't recognise. What is it?")
    t.auto("1m", ACK_EN.format(id="EM-1021"))
    t.reply("@3h", PRIYA, "Hi Nina, that is the annual renewal of Kestrel Cloud Backup, which was activated with your smart camera last year. If you don't want it, I can cancel it and reverse the charge. Let me know if you'd like that.")
    t.said("1h", "Yes please cancel it and refund.")
    t.action("30m", PRIYA, "refund_issued", amount=29.99, currency="USD")
    t.reply("1m", PRIYA, "Done. The renewal is cancelled and the $29.99 has been reversed.")
    t.status("1m", "solved", PRIYA)
    out.append(t)

    t = Thread("WEB-1022", "web", at("2026-03-02T08:30:00", BERLIN), JULIA, "billing", "de",
               subject="Lastschrift statt Kreditkarte", expect="E:c A:c G:c P:c",
               attributes={"form": "payment_method"})
    t.said("0s", "Kann ich mein Abo auf Lastschrift umstellen? Ich möchte die Kreditkarte nicht mehr verwenden.")
    t.auto("1m", ACK_DE.format(id="WEB-1022"))
    t.reply("@45m", LENA, "Guten Morgen Frau Neumann, ja, das geht. Ich habe Ihnen einen Link zum SEPA-Lastschriftmandat geschickt. Sobald Sie es bestätigt haben, stellen wir die Zahlung ab dem nächsten Monat um.")
    t.status("1m", "pending", LENA)
    out.append(t)

    t = Thread("EM-1023", "email", at("2026-03-01T09:05:00", KOLKATA), DEV, "tech-support", "en",
               subject="Someone logged into my account", priority="urgent", expect="E:c A:c G:c L:c P:c",
               attributes={"security": {"suspicious_logins": 2, "country": "unknown"}})
    t.said("0s", "URGENT: I got two login alerts from a device I don't own and my profile e-mail was changed. Please lock my account.")
    t.auto("1m", ACK_EN.format(id="EM-1023"))
    t.reply("@15m", ARJUN, "Hello Dev, I've locked your account and signed out all devices. To restore access I need to verify it's you; I've sent a one-time code to your phone number ending in 47.")
    t.said("10m", "Code is 583920.")
    t.action("2m", ARJUN, "identity_verified", method="sms_otp")
    t.action("1m", ARJUN, "escalated", to="security")
    t.note("1m", ARJUN, "Security team ticket SEC-2207 opened. E-mail restored to the original address.")
    t.reply("5m", ARJUN, "Thanks Dev, you're verified. Your original e-mail address is restored and our security team is reviewing the logins. Please set a new password using the link I just sent. Is there anything else you've noticed on the account?")
    t.status("2h", "solved", ARJUN)
    out.append(t)

    t = Thread("WEB-1024", "web", at("2026-02-27T11:00:00", KOLKATA), VIKRAM, "billing", "en",
               subject="Bulk order invoice for 12 monitors", priority="low", expect="E:c A:c G:c L:c P:c",
               attributes={"form": "business_enquiry", **order("100-51003", "2026-02-16", 215880.0, "INR", "electronics")})
    t.said("0s", "We ordered 12 monitors for our office (order 100-51003) and need a single GST invoice instead of 12 separate ones.")
    t.auto("1m", ACK_EN.format(id="WEB-1024"))
    t.reply("@20h", PRIYA, "Good afternoon Mr. Shah, I've merged the 12 invoices into one GST invoice for order 100-51003; it's attached and also available in your business account. If you have further questions about the invoice, just reply here.")
    t.status("1d", "solved", MAILER)
    out.append(t)

    t = Thread("EM-1025", "email", at("2026-02-26T19:45:00", COPENHAGEN), MADS, "returns", "da",
               subject="Returnering af kaffemaskine", expect="E:v A:v P:c",
               attributes=order("100-52214", "2026-02-09", 1299.0, "DKK", "household"))
    t.said("0s", "Hej, jeg vil gerne returnere kaffemaskinen fra ordre 100-52214. Den er ubrugt. Hvordan får jeg en returlabel?")
    t.auto("1m", ACK_DA.format(id="EM-1025"))
    t.said("@3d", "Jeg har stadig ikke hørt noget. Returfristen udløber snart.")
    t.auto("1m", "Din sag EM-1025 er stadig åben. Vi vender tilbage så hurtigt som muligt.", kind="trigger")
    out.append(t)

    return out


# ======================================================================================================
# Chats
# ======================================================================================================


def chats() -> list[Thread]:
    out = []

    t = Thread("CH-2001", "chat", at("2026-02-27T14:02:10", NEW_YORK), TOM, "returns", "en",
               subject="Where is my order?", expect="C:c G:c L:c P:c",
               attributes={"chat": {"entry_page": "/orders/100-52210", "queue_position_at_start": 1}})
    t.said("0s", "hi, has my order 100-52210 shipped yet?")
    t.reply("40s", MARCUS, "Hi Tom, let me check that for you. It left our warehouse this morning and is expected on Thursday.")
    t.said("50s", "perfect thanks")
    t.reply("20s", MARCUS, "You're welcome! Anything else I can help with today?")
    t.said("30s", "no that's all")
    t.status("1m", "solved", MARCUS)
    out.append(t)

    t = Thread("CH-2002", "chat", at("2026-02-23T12:15:00", NEW_YORK), SARAH, "billing", "en",
               subject="Promo code not applied", expect="C:v G:c L:c P:c",
               attributes={"chat": {"queue_position_at_start": 9}})
    t.said("0s", "My promo code SPRING20 wasn't applied at checkout, I paid full price.")
    t.said("3m", "hello? anyone there?")
    t.reply("@6m", PRIYA, "Hello Sarah, I'm sorry for the wait, we're very busy right now. I can see the order; the code was valid, so I've refunded the 20% difference ($18.40).")
    t.action("1m", PRIYA, "refund_issued", amount=18.4, currency="USD", reason="promo_not_applied")
    t.said("1m", "ok great")
    t.reply("30s", PRIYA, "Is there anything else I can do for you?")
    t.said("40s", "no, bye")
    t.status("30s", "solved", PRIYA)
    out.append(t)

    t = Thread("CH-2003", "chat", at("2026-02-24T19:30:00", KOLKATA), MEERA, "tech-support", "en",
               subject="TV app keeps buffering", expect="C:c G:c L:c P:c",
               attributes={"chat": {"started_with": "bot"}, "device": {"model": "KS-Stick 4K"}})
    t.said("0s", "The Kestrel app on my TV stick keeps buffering on every film.")
    t.bot("5s", "I'm Ava, Kestrel's virtual assistant. Buffering is often caused by the Wi-Fi connection. Have you tried restarting your TV stick and router?")
    t.said("20s", "yes already did that. agent please")
    t.transfer("5s", AVA, "tech-support", "Customer asked for a human agent.")
    t.reply("@1m30s", ARJUN, "Hi Meera, Arjun here from tech support. Your stick is on firmware 3.1, which has a streaming bug; I've pushed 3.2 to it. Please restart it once more in two minutes.")
    t.said("4m", "it works now!! no more buffering")
    t.reply("30s", ARJUN, "Great to hear. Is there anything else I can help you with?")
    t.said("20s", "no thanks")
    t.status("10s", "solved", ARJUN)
    out.append(t)

    t = Thread("CH-2004", "chat", at("2026-02-25T21:10:00", LONDON), PAUL, "billing", "en",
               subject="Refund status", expect="C:v G:v L:c P:c",
               attributes={"chat": {"started_with": "bot"}})
    t.said("0s", "Where is my refund for the returned coffee grinder?")
    t.bot("4s", "I can help with refunds! Please enter your order number.")
    t.said("30s", "100-47765")
    t.bot("3s", "Thanks. Refunds usually arrive within 5-7 business days after we receive the item. Would you like to talk to an agent?")
    t.said("15s", "yes")
    t.transfer("2s", AVA, "billing")
    t.reply("@4m", LENA, "Looking at your account now. The refund of £39.00 was issued on February 20 and should reach your card by Friday at the latest.")
    t.said("1m", "ok, thanks for checking")
    t.reply("20s", LENA, "Let me know if you have further questions.")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("CH-2005", "chat", at("2026-02-26T18:40:00", BERLIN), KRUEGER, "billing", "de",
               subject="Gutschein nicht eingelöst", expect="C:c G:c L:v P:c")
    t.said("0s", "Guten Abend, mein Geschenkgutschein über 25 € wurde bei der Bestellung nicht abgezogen.")
    t.reply("50s", LENA, "Guten Tag Herr Krüger, ich sehe mir das gleich an. Wie lautet die Bestellnummer?")
    t.said("40s", "100-52990")
    t.action("2m", LENA, "credit_issued", amount=25, currency="EUR")
    t.reply("10s", LENA, "Die Gutschrift über 25 € ist gebucht. Schönen Abend noch!")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("CH-2006", "chat", at("2026-02-28T10:20:00", COPENHAGEN), METTE, "returns", "da",
               subject="Status på ombytning", expect="C:c G:c L:c P:c")
    t.said("0s", "Hej, er mine sko i str. 42 sendt afsted?")
    t.reply("30s", SOFIE, "Hej Mette, ja, de blev sendt i går og leveres i morgen. Kan jeg hjælpe med andet?")
    t.said("40s", "Nej tak, det var alt!")
    t.status("1m", "solved", SOFIE)
    out.append(t)

    t = Thread("CH-2007", "chat", at("2026-02-27T16:00:00", KOLKATA), AMIT, "tech-support", "hi",
               subject="वाई-फ़ाई कैमरा ऑफ़लाइन", expect="C:c G:c L:c P:c",
               attributes={"device": {"model": "KS-Cam 2"}})
    t.said("0s", "मेरा कैमरा ऐप में ऑफ़लाइन दिखा रहा है, जबकि वाई-फ़ाई चल रहा है।")
    t.reply("1m", ARJUN, "नमस्कार अमित जी, कृपया कैमरे के पीछे का रीसेट बटन 10 सेकंड तक दबाइए और फिर ऐप में 'कैमरा जोड़ें' चुनिए।")
    t.said("5m", "हो गया, अब कैमरा ऑनलाइन है।")
    t.reply("30s", ARJUN, "बहुत बढ़िया! क्या मैं आपकी और कोई सहायता कर सकता हूँ?")
    t.said("30s", "नहीं, धन्यवाद।")
    t.status("1m", "solved", ARJUN)
    out.append(t)

    t = Thread("CH-2008", "chat", at("2026-03-02T16:55:00", LONDON), ELLA, "returns", "en",
               subject="Return label", expect="C:v P:c",
               attributes={"chat": {"queue_position_at_start": 14, "ended_by": "customer"}})
    t.said("0s", "Hi, how do I print a return label for order 100-56001?")
    t.said("6m", "Still waiting...")
    t.said("8m", "I'll try again tomorrow.")
    t.status("1m", "closed", MAILER)
    out.append(t)

    t = Thread("CH-2009", "chat", at("2026-02-24T11:05:00", LONDON), KWAME, "billing", "en",
               subject="Card update failing", expect="C:c G:c L:c P:v")
    t.said("0s", f"I want to update my card but the form keeps failing. New card {TEST_MASTERCARD}, can you just put it in for me?", card=True)
    t.reply("1m10s", LENA, "Hello Mr Osei, please don't share card numbers in chat: we can't store them this way and I've asked for that message to be removed. I'll send you a secure payment link instead.")
    t.note("30s", LENA, "Customer typed a full card number in chat; masking requested (PRIV-121).")
    t.said("3m", "ok, the link worked, card is updated")
    t.reply("20s", LENA, "Perfect. Let me know if there's anything else.")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("CH-2010", "chat", at("2026-02-25T15:40:00", NEW_YORK), CARLOS, "tech-support", "en",
               subject="Charged for a device that won't turn on", expect="C:c G:v L:c P:c",
               attributes={"device": {"model": "KS-Speaker Go"}})
    t.said("0s", "I was charged for the speaker but it won't even turn on.")
    t.reply("1m30s", PRIYA, "Let me look into that for you. The payment is fine on our side, so this sounds like a device problem; I'm moving you to tech support.")
    t.transfer("30s", PRIYA, "tech-support")
    t.reply("1m", EMILY, "Hi Carlos, Emily from tech support. Please hold the power button and the volume-down button together for 15 seconds.")
    t.said("1m", "it turned on!")
    t.reply("20s", EMILY, "Happy to help, enjoy the speaker!")
    t.status("1m", "solved", EMILY)
    out.append(t)

    t = Thread("CH-2011", "chat", at("2026-03-01T13:15:00", BERLIN), YILMAZ, "tech-support", "de",
               subject="Update hängt bei 80 %", expect="C:c G:c P:c")
    t.said("0s", "Das Update meiner Mesh-Router hängt seit einer Stunde bei 80 %.")
    t.reply("35s", FREDERIK, "Hallo Herr Yılmaz, bitte trennen Sie den Hauptrouter für 30 Sekunden vom Strom und starten Sie das Update dann in der App erneut.")
    t.said("2m", "Ich probiere das heute Abend, jetzt bin ich nicht zu Hause.")
    t.status("1m", "pending", FREDERIK)
    out.append(t)

    t = Thread("CH-2012", "chat", at("2026-02-28T20:05:00", NEW_YORK), JORDAN, "returns", "en",
               subject="Return window for a gift", expect="C:v G:c L:c P:c")
    t.said("0s", "I got a blender as a gift and want to return it, do I need the receipt?")
    t.reply("2m30s", MARCUS, "Hey Jordan, sorry about the short wait. For gifts you only need the order number from the gift slip; you'll receive store credit instead of a refund.")
    t.said("1m", "got it, I have the slip")
    t.reply("30s", MARCUS, "Great. Anything else I can help with?")
    t.status("1m", "solved", MARCUS)
    out.append(t)

    t = Thread("CH-2013", "chat", at("2026-03-01T09:30:00", COPENHAGEN), FREJA, "returns", "da",
               subject="Hvor er min pakke?", expect="C:c G:v L:c P:c")
    t.said("0s", "Min pakke skulle være kommet i går, men den er ikke her.")
    t.reply("1m", SOFIE, "Din pakke ligger i pakkeshoppen på Nørrebrogade, fordi chaufføren ikke kunne aflevere den. Du kan hente den fra i dag kl. 12.")
    t.said("1m", "Ah, tak.")
    t.reply("20s", SOFIE, "Hvis der er andre spørgsmål, så vend endelig tilbage.")
    t.status("1m", "solved", SOFIE)
    out.append(t)

    t = Thread("CH-2014", "chat", at("2026-02-26T21:00:00", LONDON), LIAM, "tech-support", "en",
               subject="Remote not pairing", expect="C:c G:c L:v P:c",
               attributes={"device": {"model": "KS-Stick 4K"}})
    t.said("0s", "My new remote doesn't pair with the TV stick.")
    t.reply("1m55s", EMILY, "Hello Liam! Hold the Home button for 10 seconds until the light flashes blue, with the remote close to the stick.")
    t.said("1m", "done, it works")
    t.reply("15s", EMILY, "Great, have a lovely evening!")
    t.status("30s", "solved", EMILY)
    out.append(t)

    t = Thread("CH-2015", "chat", at("2026-03-02T11:00:00", KOLKATA), KAVYA, "billing", "hi",
               subject="ईएमआई विकल्प", expect="C:v G:c P:c", attributes={"chat": {"started_with": "bot"}})
    t.said("0s", "क्या मैं लैपटॉप ईएमआई पर खरीद सकती हूँ?")
    t.bot("5s", "मैं Ava हूँ, Kestrel की वर्चुअल सहायक। ईएमआई के लिए मैं आपको किसी सहकर्मी से जोड़ रही हूँ।")
    t.transfer("5s", AVA, "billing")
    t.reply("@3m", PRIYA, "नमस्ते काव्या जी, हाँ, ₹30,000 से अधिक की खरीद पर 3, 6 और 12 महीने की ईएमआई उपलब्ध है। मैं आपको विवरण ईमेल पर भेज रही हूँ।")
    t.said("2m", "ठीक है, मैं ईमेल देखकर बताती हूँ।")
    t.status("1m", "pending", PRIYA)
    out.append(t)

    return out


# ======================================================================================================
# Social media
# ======================================================================================================


def social() -> list[Thread]:
    out = []

    t = Thread("SO-3001", "social", at("2026-02-24T10:00:00", NEW_YORK), MAYA, "tech-support", "en",
               expect="S:c A:c G:c P:c",
               attributes={"social": {"platform": "x", "handle": "@maya_writes", "post_type": "public_mention"}})
    t.said("0s", "@KestrelHome my smart bulbs all went offline this morning, is there an outage??")
    t.reply("20m", EMILY, "Hi @maya_writes, yes: a cloud outage affected smart bulbs between 9:10 and 10:05 ET. It's fixed now; the bulbs reconnect on their own within a few minutes. Sorry for the trouble!")
    t.said("15m", "@KestrelHome yep they're back, thanks")
    out.append(t)

    t = Thread("SO-3002", "social", at("2026-02-25T12:30:00", LONDON), RYAN, "returns", "en",
               expect="S:v A:c G:c P:c",
               attributes={"social": {"platform": "facebook", "post_type": "page_comment"}})
    t.said("0s", "Ordered a sofa cushion set three weeks ago and it STILL hasn't shipped. Not impressed, Kestrel.")
    t.reply("3h", MARCUS, "Hello Ryan, we're sorry about the delay. Could you send us a private message with your order number so we can check what happened?")
    t.said("1h", "Sent you a DM.")
    out.append(t)

    t = Thread("SO-3003", "social", at("2026-02-27T12:00:00", NEW_YORK), KEVIN, "returns", "en",
               expect="S:v A:v P:c",
               attributes={"social": {"platform": "facebook", "post_type": "direct_message"}})
    t.said("0s", "I've been trying to return a broken air fryer for a week. Your website return form just errors out. What am I supposed to do?")
    t.auto("1s", "Thanks for your message! Our social team replies Monday to Friday, 8am-8pm. For faster help visit kestrel.example/help.", by=SOCIAL_BOT)
    t.said("@1d2h", "Hello?? Still waiting.")
    t.auto("1s", "Thanks for your message! Our social team replies Monday to Friday, 8am-8pm. For faster help visit kestrel.example/help.", by=SOCIAL_BOT)
    out.append(t)

    t = Thread("SO-3004", "social", at("2026-02-26T13:10:00", BERLIN), FELIX, "returns", "de",
               expect="S:c A:c G:v P:c",
               attributes={"social": {"platform": "instagram", "post_type": "comment"}})
    t.said("0s", "Meine Bestellung kam komplett zerdrückt an 😡 Karton total kaputt.")
    t.reply("45m", JONAS, "Das tut uns wirklich leid! Schick uns bitte eine DM mit deiner Bestellnummer und einem Foto, dann kümmern wir uns sofort um Ersatz.")
    out.append(t)

    t = Thread("SO-3005", "social", at("2026-02-28T15:20:00", COPENHAGEN), ANDERS, "tech-support", "da",
               expect="S:c A:c G:c P:c",
               attributes={"social": {"platform": "facebook", "post_type": "page_comment"}})
    t.said("0s", "Er der andre, hvis Kestrel-app ikke vil logge ind i dag?")
    t.reply("10m", FREDERIK, "Hej Anders, vi havde en kort fejl på login-serveren i eftermiddag. Den er rettet nu, så prøv gerne igen. Beklager ulejligheden!")
    out.append(t)

    t = Thread("SO-3006", "social", at("2026-03-02T12:30:00", NEW_YORK), OWEN, "tech-support", "en",
               expect="S:c A:c P:c",
               attributes={"social": {"platform": "x", "handle": "@owenh", "post_type": "public_mention"}})
    t.said("0s", "@KestrelHome doorbell camera stopped recording motion events since yesterday. Any known issue?")
    out.append(t)

    t = Thread("SO-3007", "social", at("2026-02-26T19:00:00", KOLKATA), ANJALI, "billing", "hi",
               expect="S:c A:c G:c P:c",
               attributes={"social": {"platform": "instagram", "post_type": "direct_message"}})
    t.said("0s", "मेरा कैशबैक अभी तक नहीं आया, ऑफ़र में 10% लिखा था।")
    t.reply("35m", PRIYA, "नमस्ते अंजलि जी, कैशबैक ऑर्डर डिलीवर होने के 7 दिन बाद जमा होता है। आपका ऑर्डर 24 फ़रवरी को डिलीवर हुआ था, इसलिए राशि 3 मार्च तक आ जाएगी।")
    t.said("10m", "ठीक है, धन्यवाद!")
    out.append(t)

    t = Thread("SO-3008", "social", at("2026-02-25T09:15:00", LONDON), SAM, "billing", "en",
               expect="S:c A:c G:c P:c",
               attributes={"social": {"platform": "x", "handle": "@sampatel_uk", "post_type": "direct_message"}})
    t.said("0s", "Hi, I got charged for a Kestrel Stream free trial I cancelled on day 3.")
    t.reply("50m", PRIYA, "Hello Sam, sorry about that! I can see the cancellation on day 3, so the charge was a mistake. I've refunded the £7.99; it'll show on your statement in a few days.")
    t.action("1m", PRIYA, "refund_issued", amount=7.99, currency="GBP", reason="trial_cancelled")
    t.said("30m", "Brilliant, cheers.")
    t.status("1h", "solved", MAILER)
    out.append(t)

    t = Thread("SO-3009", "social", at("2026-02-23T18:00:00", NEW_YORK), HELEN, "tech-support", "en",
               expect="S:v A:c G:c P:c",
               attributes={"social": {"platform": "facebook", "post_type": "direct_message"}})
    t.said("0s", "The thermostat app shows the wrong temperature, it says 64 but the room is clearly warmer.")
    t.auto("1s", "Thanks for your message! Our social team replies Monday to Friday, 8am-8pm. For faster help visit kestrel.example/help.", by=SOCIAL_BOT)
    t.reply("@2h", EMILY, "Hi Helen, sorry for the slow reply this evening. The sensor can be recalibrated in the app under Settings > Sensor offset; set it to the difference you measure with another thermometer.")
    out.append(t)

    t = Thread("SO-3010", "social", at("2026-03-01T11:00:00", BERLIN), JANA, "returns", "de",
               expect="S:c A:c G:c P:c",
               attributes={"social": {"platform": "facebook", "post_type": "direct_message"}})
    t.said("0s", "Kann ich die Jacke auch im Laden zurückgeben, obwohl ich online bestellt habe?")
    t.reply("55m", JONAS, "Hallo Jana, ja, das geht in jeder Kestrel-Filiale. Bring einfach die Jacke und die Bestellbestätigung mit.")
    out.append(t)

    return out


# ======================================================================================================
# Phone calls (the text rules do not apply; internal notes after a call are still checked for card data)
# ======================================================================================================


def phone() -> list[Thread]:
    out = []

    t = Thread("PH-4001", "phone", at("2026-02-24T10:12:00", NEW_YORK), HELEN, "billing", "en",
               subject="Question about annual plan", expect="",
               attributes={"call": {"queue": "billing-en", "direction": "inbound", "ani": "+1 212 555 0147"}})
    t.call("0s", "call.queued")
    t.call("45s", "call.answered", PRIYA)
    t.action("1m", PRIYA, "identity_verified", method="security_question")
    t.call("2m", "hold.started", PRIYA)
    t.call("2m", "hold.ended", PRIYA)
    t.call("4m", "call.ended", PRIYA, talk_seconds=555, hold_seconds=120)
    t.status("1m", "solved", PRIYA)
    out.append(t)

    t = Thread("PH-4002", "phone", at("2026-02-25T17:48:00", LONDON), DAVID, "tech-support", "en",
               expect="", attributes={"call": {"queue": "tech-en", "direction": "inbound", "ani": "+44 20 7946 0321"}})
    t.call("0s", "call.queued")
    t.call("3m10s", "call.abandoned", wait_seconds=190)
    out.append(t)

    t = Thread("PH-4003", "phone", at("2026-02-26T09:05:00", BERLIN), ANNA, "billing", "de",
               subject="Erstattung Küchenmaschine", expect="P:c",
               attributes={"call": {"queue": "returns-de", "direction": "inbound"}, **order("100-47311", "2026-02-02", 89.9, "EUR", "household")})
    t.call("0s", "call.queued")
    t.call("20s", "call.answered", JONAS)
    t.action("1m", JONAS, "identity_verified", method="order_number_and_postcode")
    t.transfer("3m", JONAS, "billing")
    t.call("40s", "call.answered", LENA)
    t.action("4m", LENA, "refund_issued", amount=89.9, currency="EUR")
    t.call("2m", "call.ended", LENA, talk_seconds=660)
    t.note("1m", LENA, "Erstattung 89,90 € für die Küchenmaschine veranlasst; Rücksendung war am 20.02. eingegangen. Kundin informiert.")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("PH-4004", "phone", at("2026-02-27T15:30:00", KOLKATA), RAJESH, "tech-support", "hi",
               subject="सेट-टॉप बॉक्स में आवाज़ नहीं", expect="P:c",
               attributes={"call": {"queue": "tech-hi", "direction": "inbound"}})
    t.call("0s", "call.queued")
    t.call("1m", "call.answered", ARJUN)
    t.call("6m", "hold.started", ARJUN)
    t.call("3m", "hold.ended", ARJUN)
    t.call("5m", "call.ended", ARJUN, talk_seconds=900, hold_seconds=180)
    t.note("2m", ARJUN, "HDMI audio setting was on 'passthrough'; switched to PCM, sound works. ग्राहक संतुष्ट।")
    t.status("1m", "solved", ARJUN)
    out.append(t)

    t = Thread("PH-4005", "phone", at("2026-02-28T11:40:00", COPENHAGEN), SOREN, "returns", "da",
               subject="Klage over levering", priority="high", expect="",
               attributes={"call": {"queue": "returns-da", "direction": "inbound"}})
    t.call("0s", "call.queued")
    t.call("15s", "call.answered", SOFIE)
    t.action("2m", SOFIE, "identity_verified", method="order_number_and_postcode")
    t.action("6m", SOFIE, "escalated", to="cs-leads")
    t.action("0s", MAILER, "manager_notified", manager=CLAUDIA.id)
    t.call("1m", "call.ended", SOFIE, talk_seconds=555)
    t.status("1m", "pending", SOFIE)
    out.append(t)

    t = Thread("PH-4006", "phone", at("2026-03-02T14:05:00", LONDON), PETER, "tech-support", "en",
               expect="", priority="normal",
               attributes={"call": {"queue": "tech-en", "direction": "inbound"}})
    t.call("0s", "call.queued")
    t.call("6m", "call.answered", EMILY, wait_seconds=360)
    t.call("3m", "hold.started", EMILY)
    t.call("1m30s", "hold.ended", EMILY)
    t.call("4m", "hold.started", EMILY)
    t.call("2m", "hold.ended", EMILY)
    t.call("3m", "call.ended", EMILY, talk_seconds=810, hold_seconds=210)
    t.action("1m", MAILER, "survey_sent", channel="sms")
    t.status("0s", "solved", EMILY)
    out.append(t)

    t = Thread("PH-4007", "phone", at("2026-02-23T16:20:00", NEW_YORK), CHRIS, "returns", "en",
               expect="",
               attributes={"call": {"queue": "returns-en", "direction": "inbound", "callback": True}})
    t.call("0s", "call.queued")
    t.call("4m", "call.abandoned", wait_seconds=240)
    t.action("1m", MAILER, "callback_scheduled", at_local="2026-02-23T17:00:00-05:00")
    t.call("@40m", "call.answered", MARCUS, direction="outbound")
    t.call("7m", "call.ended", MARCUS, talk_seconds=420)
    t.status("1m", "solved", MARCUS)
    out.append(t)

    t = Thread("PH-4008", "phone", at("2026-03-01T10:15:00", BERLIN), MONIKA, "billing", "de",
               subject="Doppelte Abbuchung", expect="P:c",
               attributes={"call": {"queue": "billing-de", "direction": "inbound"}})
    t.call("0s", "call.queued")
    t.call("1m5s", "call.answered", LENA)
    t.action("1m", LENA, "identity_verified", method="customer_number")
    t.call("5m", "call.ended", LENA, talk_seconds=360)
    t.note("2m", LENA, "Kundennummer 40212233, doppelte Abbuchung vom 27.02. ist eine Vormerkung der Bank und verfällt automatisch. Keine Erstattung nötig.")
    t.status("1m", "solved", LENA)
    out.append(t)

    t = Thread("PH-4009", "phone", at("2026-02-25T13:30:00", NEW_YORK), ZOE, "returns", "en",
               subject="Late delivery", expect="",
               attributes={"call": {"queue": "returns-en", "direction": "inbound"}})
    t.call("0s", "call.queued")
    t.call("1m20s", "call.answered", MARCUS)
    t.action("5m", MARCUS, "coupon_issued", code_type="10_percent", reason="late_delivery")
    t.call("2m", "call.ended", MARCUS, talk_seconds=420)
    t.status("0s", "solved", MARCUS)
    out.append(t)

    return out


# ======================================================================================================
# SMS and in person
# ======================================================================================================


def sms_and_in_person() -> list[Thread]:
    out = []

    t = Thread("SMS-5001", "sms", at("2026-02-26T08:10:00", NEW_YORK), LEO, "returns", "en",
               expect="G:c P:c", attributes={"sms": {"short_code": "58372"}})
    t.said("0s", "Where is my parcel? Order 100-53001")
    t.reply("10m", MARCUS, "Hi Leo, your parcel is out for delivery today between 1 and 5 pm. Reply STOP to opt out of texts.")
    t.status("1h", "solved", MARCUS)
    out.append(t)

    t = Thread("SMS-5002", "sms", at("2026-03-01T19:45:00", LONDON), EMMA, "billing", "en",
               expect="G:v P:c", attributes={"sms": {"short_code": "58372"}})
    t.said("0s", "Can I pay my invoice in two parts?")
    t.reply("25m", PRIYA, "Yes, you can split any invoice over £100 into two payments. Use the 'Pay in parts' option in your account.")
    out.append(t)

    t = Thread("SMS-5003", "sms", at("2026-02-28T12:00:00", BERLIN), SILKE, "returns", "de",
               expect="G:c P:c", attributes={"sms": {"short_code": "58372"}})
    t.said("0s", "Wann wird meine Waschmaschine geliefert?")
    t.reply("15m", JONAS, "Hallo Frau Hartmann, die Lieferung ist für Mittwoch zwischen 8 und 12 Uhr geplant. Der Fahrer ruft 30 Minuten vorher an.")
    out.append(t)

    t = Thread("IP-6001", "in_person", at("2026-02-27T11:20:00", BERLIN), ANNA, "returns", "de",
               subject="Rückgabe im Laden: Toaster", expect="P:c",
               attributes={"store": "Berlin-Mitte", **order("100-50777", "2026-02-15", 34.99, "EUR", "household")})
    t.note("0s", JONAS, "Kundin bringt Toaster zurück, originalverpackt, Kassenbon vorhanden.")
    t.action("3m", JONAS, "refund_issued", amount=34.99, currency="EUR", method="original_payment")
    t.status("1m", "solved", JONAS)
    out.append(t)

    t = Thread("IP-6002", "in_person", at("2026-02-28T15:45:00", LONDON), DAVID, "returns", "en",
               subject="Return without receipt", expect="P:c",
               attributes={"store": "London Oxford Street", **order("unknown", "unknown", 59.0, "GBP", "electronics", receipt=False)})
    t.note("0s", MARCUS, "Customer wants to return headphones without a receipt or order number. Not found under his account or e-mail.")
    t.action("5m", MARCUS, "refund_denied", reason="no_proof_of_purchase")
    t.action("1m", MARCUS, "coupon_issued", code_type="5_pounds_goodwill")
    t.status("1m", "solved", MARCUS)
    out.append(t)

    t = Thread("SMS-5004", "sms", at("2026-03-02T09:10:00", COPENHAGEN), KAREN, "tech-support", "da",
               expect="P:c", attributes={"sms": {"short_code": "1918"}})
    t.said("0s", "Min kode til appen virker ikke, kan I sende en ny?")
    t.auto("5s", "Din nye engangskode er sendt. Den er gyldig i 10 minutter.", kind="trigger")
    out.append(t)

    return out


# ======================================================================================================
# Invalid records (invalid.jsonl): one valid record, then three that must be rejected
# ======================================================================================================


def invalid_records() -> list[dict[str, Any]]:
    t = Thread("EM-9001", "email", at("2026-03-02T09:00:00", BERLIN), FELIX, "returns", "de",
               subject="Rücksendung", expect="E:c A:c G:c P:c")
    t.said("0s", "Ich möchte die Jacke zurückschicken. Wie geht das?")
    t.reply("1h", JONAS, "Hallo Herr Braun, ich habe Ihnen gerade ein Rücksendeetikett geschickt.")
    valid = t.record()

    naive = {
        "id": "EM-9002",
        "channel": "email",
        "created_at": "2026-03-01T09:00:00",  # no offset: which 09:00?
        "language": "en",
        "customer": {"id": "C-10346", "name": "Peter Clarke"},
        "events": [
            {"at": "2026-03-01T09:00:00", "type": "message", "author": {"role": "customer"}, "text": "Where is my order?"},
        ],
    }
    out_of_order = {
        "id": "CH-9003",
        "channel": "chat",
        "created_at": "2026-03-01T14:00:00+01:00",
        "language": "de",
        "events": [
            {"at": "2026-03-01T14:00:00+01:00", "type": "message", "author": {"role": "customer"}, "text": "Hallo, ist jemand da?"},
            {"at": "2026-03-01T14:05:00+01:00", "type": "message", "author": {"role": "agent", "id": "ag-101"}, "text": "Hallo, wie kann ich helfen?"},
            {"at": "2026-03-01T14:01:00+01:00", "type": "message", "author": {"role": "customer"}, "text": "Meine Bestellung fehlt."},
        ],
    }
    typo = {
        "id": "SO-9004",
        "chanel": "social",  # misspelt "channel"
        "created_at": "2026-03-01T12:00:00Z",
        "language": "en",
        "events": [
            {"at": "2026-03-01T12:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "@KestrelHome is the app down?"},
        ],
    }
    return [valid, naive, out_of_order, typo]


# ======================================================================================================


def threads() -> list[Thread]:
    return email_and_web() + chats() + social() + phone() + sms_and_in_person()


def render(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ from the generated ones")
    parser.add_argument("--expected", action="store_true", help="print the intended outcome per interaction and rule as JSON lines")
    args = parser.parse_args(argv)

    all_threads = threads()
    ids = [t.id for t in all_threads]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate interaction ids")

    if args.expected:
        for t in all_threads:
            print(json.dumps({"id": t.id, "outcomes": t.expected()}))
        return 0

    files = {INTERACTIONS: render([t.record() for t in all_threads]), INVALID: render(invalid_records())}
    if args.check:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            print("out of date: " + ", ".join(stale) + " (run python examples/make_examples.py)", file=sys.stderr)
            return 1
        return 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.name}: {text.count(chr(10))} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
