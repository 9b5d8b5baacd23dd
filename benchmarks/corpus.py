"""A deterministic generated corpus of interactions for the benchmarks (no real data needed)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Iterator

CHANNELS = ["email", "chat", "social", "phone", "web"]
TIERS = ["gold", "silver", "bronze", "guest", None]
GREETINGS = ["Hello {n},", "Hi {n}!", "Guten Tag {n},", "Hej {n},", "नमस्ते {n} जी,", ""]
CLOSINGS = ["Anything else I can help with?", "Haben Sie noch Fragen?", "Have a great day.", ""]
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def interaction(i: int, rng: random.Random, events: int = 10) -> dict[str, Any]:
    created = START + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 7))
    name = rng.choice(["Jana", "Tom", "Mette", "Rahul", "Anna"])
    at = created
    evs = []
    for k in range(events):
        at += dt.timedelta(minutes=rng.randrange(1, 240))
        customer = k % 2 == 0
        if customer:
            text = rng.choice(["Where is my order?", "I was charged twice.", "Card 4111 1111 1111 1111 please refund",
                               "This is unacceptable!", "Thanks"])
            evs.append({"at": at.isoformat(), "type": "message", "author": {"role": "customer"}, "text": text})
        else:
            auto = rng.random() < 0.1
            text = f"{rng.choice(GREETINGS).format(n=name)} we are on it. {rng.choice(CLOSINGS)}"
            evs.append({"at": at.isoformat(), "type": "message",
                        "author": {"role": "agent", "id": f"a{rng.randrange(8)}", "name": "Sam"},
                        "automated": "autoresponder" if auto else False, "text": text})
    solved = rng.random() < 0.7
    return {
        "id": f"B-{i}",
        "channel": rng.choice(CHANNELS),
        "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
        "language": rng.choice(["en", "de", "da", "hi", "fr"]),
        "team": rng.choice(["billing", "returns", "tech", "unassigned"]),
        "created_at": created.isoformat(),
        "solved_at": at.isoformat() if solved else None,
        "customer": {"id": f"c{i}", "name": name, "tier": rng.choice(TIERS)},
        "events": evs,
        "attributes": {"order": {"amount": rng.randrange(5, 3000)}, "csat": rng.randrange(1, 6)},
    }


def corpus(n: int, seed: int = 7, events: int = 10) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        yield interaction(i, rng, events)
