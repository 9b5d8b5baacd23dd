"""Engine benchmark: 20 rules over precomputed facts — durable_rules vs the reference evaluator vs plain
Python doing the same checks by hand — plus full ``evaluate()`` (validation, measures, matching, report).

    ./dev bench engine [--n 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any, Callable

import servicerules
from servicerules.compiler.backends import durable_available
from servicerules.compiler._durable import DurableBackend
from servicerules.model.interaction import Interaction

from benchmarks.corpus import corpus

RULES = Path(__file__).with_name("rules20.yaml")
AS_OF = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)


def _best(fn: Callable[[], int], repeat: int = 3) -> float:
    """Items per second, best of ``repeat`` runs (the machine is shared and noisy)."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        best = max(best, count / (time.perf_counter() - start))
    return best


def _gt(a: Any, b: float) -> bool | None:
    return None if a is None else a > b


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def hand_written(v: dict[str, Any]) -> list[tuple[str, bool]]:
    """The 20 rules of rules20.yaml written by hand in Python, with the same three-valued semantics.

    Returns (rule id, violated?) for every applicable rule.
    """
    out: list[tuple[str, bool]] = []

    def rule(rule_id: str, when: bool | None, violated: bool | None) -> None:
        if when is True and violated is not None:
            out.append((rule_id, violated))

    ch, prio, tier = v.get("interaction.channel"), v.get("interaction.priority"), v.get("customer.tier")
    frt, unans = v.get("first_reply_time"), v.get("unanswered_for")
    cmc, amc, mc = v.get("customer_message_count"), v.get("agent_message_count"), v.get("message_count")
    amount, csat = v.get("interaction.attributes.order.amount"), v.get("interaction.attributes.csat")
    solved, replied = v.get("interaction.is_solved"), v.get("has_personal_reply")
    lang, team, events = v.get("interaction.language"), v.get("interaction.team"), v.get("interaction.event_count")
    rule("r01", None if ch is None else ch == "email", _gt(frt, 86400))
    rule("r02", None if ch is None else ch == "chat", _gt(frt, 120))
    rule("r03", None if ch is None else ch == "social", _gt(frt, 3600))
    rule("r04", True, _gt(unans, 172800))
    rule("r05", None if prio is None else prio == "urgent", _gt(frt, 3600))
    rule("r06", None if tier is None else tier == "gold", _gt(frt, 14400))
    rule("r07", _gt(cmc, 0), None if replied is None else not replied)
    rule("r08", solved, None if amc is None else amc == 0)
    rule("r09", True, _gt(mc, 12))
    rule("r10", True, _gt(cmc, 6))
    rule("r11", None if tier is None else tier in ("guest", "bronze"), _gt(amount, 500))
    rule("r12", True, None if csat is None else csat < 3)
    rule("r13", True, None if lang is None else lang not in ("en", "de", "da", "hi"))
    rule("r14", True, None if team is None else team == "unassigned")
    rule("r15", True, _gt(events, 30))
    rule("r16", None if prio is None else prio == "urgent", None if solved is None else not solved)
    rule("r17", None if ch is None else ch == "phone", None if amc is None else amc < 1)
    rule("r18", None if tier is None else tier == "silver", _gt(amount, 2000))
    rule("r19", True, _and(None if csat is None else csat <= 2, _gt(frt, 28800)))
    rule("r20", None if prio is None else prio in ("high", "urgent"), _or(_gt(frt, 28800), _gt(unans, 28800)))
    return out


def run(n: int) -> list[tuple[str, float]]:
    backends = ["durable_rules", "reference"] if durable_available() else ["reference"]
    policies = {b: servicerules.load(RULES, backend=b) for b in backends}
    reference = policies["reference"]
    models = [Interaction.parse(d) for d in corpus(n)]
    prepared = [reference._prepare(m, AS_OF) for m in models]
    facts = [p[1] for p in prepared]
    # the same facts by name, for the hand-written checks
    columns = reference.program.interaction_columns
    named = [{c.name: f[0].get(c.key) for c in columns} for f in facts]
    for values in named:  # hand-written Python reads timestamps/durations as the engine does (numbers)
        for key in ("interaction.is_solved", "has_personal_reply"):
            values.setdefault(key, None)

    # all three agree on every interaction before anything is timed
    engine_rules = reference.program.ir.engine_rules
    for backend, policy in policies.items():
        for i in range(min(n, 2000)):
            got = sorted((engine_rules[f.engine_rule].name.split("#")[0], engine_rules[f.engine_rule].verdict.value == "violated")
                         for f in policy._backend.match(facts[i]))
            assert got == sorted(hand_written(named[i])), (backend, i, got, sorted(hand_written(named[i])))

    figures: list[tuple[str, float]] = []
    for backend, policy in policies.items():
        engine = policy._backend

        def one_by_one(engine: Any = engine) -> int:
            for f in facts:
                engine.match(f)
            return n

        def batched(engine: Any = engine) -> int:
            for start in range(0, n, 256):
                engine.match_many(facts[start:start + 256])
            return n

        figures.append((f"{backend}: match, one interaction per call", _best(one_by_one)))
        figures.append((f"{backend}: match_many, 256 per call", _best(batched)))
        if backend == "durable_rules":
            # what one more engine ruleset costs: each fact is asserted, drained and retracted once per ruleset
            with DurableBackend(policy.program.ir, rules_per_handle=20) as split:

                def split_batched(engine: Any = split) -> int:
                    for start in range(0, n, 256):
                        engine.match_many(facts[start:start + 256])
                    return n

                figures.append((f"{backend}: match_many, split into {split.handle_count} engine rulesets", _best(split_batched)))

    def plain() -> int:
        for values in named:
            hand_written(values)
        return n

    figures.append(("plain Python, the same 20 checks by hand", _best(plain)))
    m = min(n, 5000)
    for backend, policy in policies.items():
        def full(policy: Any = policy) -> int:
            for report in policy.evaluate_many(models[:m], as_of=AS_OF):
                pass
            return m

        figures.append((f"{backend}: evaluate_many end to end (measures + matching + report)", _best(full, 2)))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks engine")
    parser.add_argument("--n", type=int, default=20000, help="interactions in the generated corpus")
    args = parser.parse_args(argv)
    print(f"engine benchmark: {RULES.name}, 20 rules, {args.n} generated interactions, one core")
    for label, rate in run(args.n):
        print(f"  {label:<72} {rate:>12,.0f} interactions/s")
