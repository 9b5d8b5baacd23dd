"""Measures benchmark: compute every fact of the catalogue for every interaction (and every event fact for
every event) of a generated corpus, as a ruleset using all of them would, on one core.

    ./dev bench measures [--n 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from servicerules.measures import CATALOGUE
from servicerules.measures.catalogue import InteractionContext, RulesetResources
from servicerules.model.interaction import Interaction

from benchmarks.corpus import corpus

AS_OF = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)


def run(n: int) -> list[tuple[str, float]]:
    models = [Interaction.parse(d) for d in corpus(n)]
    resources = RulesetResources()  # shipped default lexicons
    interaction_facts = [s for s in CATALOGUE.values() if s.scope == "interaction"]
    event_facts = [s for s in CATALOGUE.values() if s.scope == "event"]
    figures = []
    for label, specs, per_event in (
        (f"all {len(interaction_facts)} interaction facts", interaction_facts, False),
        (f"all {len(event_facts)} event facts for each of ~10 events", event_facts, True),
    ):
        best = 0.0
        for _ in range(3):
            start = time.perf_counter()
            for model in models:
                ctx = InteractionContext(model, AS_OF, resources)
                if per_event:
                    for index in range(len(model.events)):
                        for spec in specs:
                            spec.compute(ctx, index)
                else:
                    for spec in specs:
                        spec.compute(ctx)
            best = max(best, n / (time.perf_counter() - start))
        figures.append((label, best))
    families = sorted({s.family for s in interaction_facts})
    for family in families:
        specs = [s for s in interaction_facts if s.family == family]
        start = time.perf_counter()
        for model in models:
            ctx = InteractionContext(model, AS_OF, resources)
            for spec in specs:
                spec.compute(ctx)
        figures.append((f"  family {family} ({len(specs)} facts)", n / (time.perf_counter() - start)))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks measures")
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args(argv)
    print(f"measures benchmark: {len(CATALOGUE)} facts, {args.n} generated interactions of 10 events, one core")
    for label, rate in run(args.n):
        print(f"  {label:<60} {rate:>12,.0f} interactions/s")
