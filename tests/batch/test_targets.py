"""Aggregate targets (servicerules.batch.targets): figures worked out by hand on small call and e-mail sets.

Contributions are built through the real fact reader of a loaded ruleset (``CompiledRuleset._prepare``),
as the batch runner does.

The ten calls of :data:`CALLS` (queue wait, outcome):

====  =======  ==========  ======  ================  ==========
call  wait     outcome     agents  created (UTC)     team
====  =======  ==========  ======  ================  ==========
C1    5 s      answered    a1      03-02 09:00       red
C2    8 s      answered    a1      03-02 09:10       red
C3    10 s     answered    a2      03-02 09:29:59    red
C4    12 s     answered    a2      03-02 09:30       red
C5    15 s     answered    a1, a2  03-02 09:45       blue
C6    18 s     answered    a1      03-03 14:00       blue
C7    20 s     answered    a2      03-03 14:05       blue
C8    45 s     answered    a1      03-03 14:10       blue
C9    30 s     abandoned   -       03-03 14:20       -
C10   3 s      abandoned   -       03-03 14:40       -
====  =======  ==========  ======  ================  ==========

Service level (answered within 20 s, 20 s itself included): 7 of 10 = 70%; without the short abandon C10
in the denominator: 7 of 9. Average speed of answer over the 8 answered calls:
(5+8+10+12+15+18+20+45) / 8 = 133 / 8 = 16.625 s. Abandonment: C9 and C10 of 10 = 20%; short abandons
left out of the numerator only: 1/10; out of both: 1/9.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import pickle
import re
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import servicerules
from servicerules.batch.readers import RawRecord, SourcePosition
from servicerules.batch.runner import check_records
from servicerules.batch.targets import (
    CompiledTarget,
    Contribution,
    TargetAccumulator,
    TargetResult,
    check_targets,
    compile_targets,
    format_result,
    program_targets,
    target_contributions,
)
from servicerules.compiler import expr as ast
from servicerules.engine import CompiledRuleset
from servicerules.errors import RulesetError
from servicerules.measures.calendar import BusinessCalendar
from servicerules.measures.catalogue import lookup
from servicerules.measures.lexicons import DEFAULT_LEXICONS, default_lexicon
from servicerules.measures.text import LexiconMatcher
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import RulesetSpec, TargetSpec

UTC = dt.timezone.utc

PHONE = """
ruleset: phone-targets
version: "1"
targets:
  - id: sl-80-20
    title: 80% of queued calls answered within 20 s
    kind: share
    when: exists(call.queue_wait)
    condition: call.answered and call.queue_wait <= 20s
    objective: 0.8
  - id: sl-80-20-no-short
    title: 80% of queued calls answered within 20 s, short abandons left out
    kind: share
    when: exists(call.queue_wait) and not call.short_abandon
    condition: call.answered and call.queue_wait <= 20s
    objective: 0.8
  - id: asa
    title: Average speed of answer at most 30 s
    kind: average
    when: call.answered
    value: call.queue_wait
    objective: 30  # seconds
    comparison: "<="
  - id: abandonment
    title: Abandonment at most 5% (short abandons not counted as abandoned)
    kind: rate
    when: exists(call.queue_wait)
    condition: call.abandoned and not call.short_abandon
    objective: 0.05
    comparison: "<="
  - id: abandonment-no-short
    title: Abandonment at most 5% (short abandons left out entirely)
    kind: rate
    when: exists(call.queue_wait) and not call.short_abandon
    condition: call.abandoned
    objective: 0.05
    comparison: "<="
  - id: abandonment-raw
    title: Abandonment, every abandon
    kind: rate
    when: exists(call.queue_wait)
    condition: call.abandoned
    objective: 0.25
    comparison: "<="
"""

# (id, wait seconds, answered?, agents, created_at, team)
CALLS: list[tuple[str, float, bool, list[str], dt.datetime, str | None]] = [
    ("C1", 5, True, ["a1"], dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "red"),
    ("C2", 8, True, ["a1"], dt.datetime(2026, 3, 2, 9, 10, tzinfo=UTC), "red"),
    ("C3", 10, True, ["a2"], dt.datetime(2026, 3, 2, 9, 29, 59, tzinfo=UTC), "red"),
    ("C4", 12, True, ["a2"], dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "red"),
    ("C5", 15, True, ["a1", "a2"], dt.datetime(2026, 3, 2, 9, 45, tzinfo=UTC), "blue"),
    ("C6", 18, True, ["a1"], dt.datetime(2026, 3, 3, 14, 0, tzinfo=UTC), "blue"),
    ("C7", 20, True, ["a2"], dt.datetime(2026, 3, 3, 14, 5, tzinfo=UTC), "blue"),
    ("C8", 45, True, ["a1"], dt.datetime(2026, 3, 3, 14, 10, tzinfo=UTC), "blue"),
    ("C9", 30, False, [], dt.datetime(2026, 3, 3, 14, 20, tzinfo=UTC), None),
    ("C10", 3, False, [], dt.datetime(2026, 3, 3, 14, 40, tzinfo=UTC), None),
]


def call(ident: str, wait: float, answered: bool, agents: Sequence[str], created: dt.datetime, team: str | None) -> dict[str, Any]:
    def at(seconds: float) -> str:
        return (created + dt.timedelta(seconds=seconds)).isoformat()

    if answered:
        events = [{"at": at(0), "type": "call.queued"}, {"at": at(wait), "type": "call.answered"},
                  {"at": at(wait + 240), "type": "call.ended"}]
    else:
        events = [{"at": at(0), "type": "call.queued"}, {"at": at(wait), "type": "call.abandoned"}]
    record: dict[str, Any] = {
        "id": ident,
        "channel": "phone",
        "created_at": at(0),
        "agents": [{"id": a} for a in agents],
        "events": events,
    }
    if team is not None:
        record["team"] = team
    return record


def calls() -> list[dict[str, Any]]:
    return [call(*row) for row in CALLS]


def email(ident: str, created: dt.datetime, reply_after: float | None, *, agent: str = "e1", channel: str = "email") -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {"at": created.isoformat(), "type": "message", "author": {"role": "customer"}, "text": "Where is my order?"}
    ]
    if reply_after is not None:
        events.append({"at": (created + dt.timedelta(seconds=reply_after)).isoformat(), "type": "message",
                       "author": {"role": "agent", "id": agent}, "text": "Hello, it ships today."})
    return {"id": ident, "channel": channel, "created_at": created.isoformat(), "events": events}


@pytest.fixture(scope="module")
def phone() -> Any:
    ruleset = servicerules.load(PHONE, backend="reference")
    yield ruleset
    ruleset.close()


def accumulate(ruleset: CompiledRuleset, records: Sequence[dict[str, Any]], as_of: dt.datetime | None = None) -> TargetAccumulator:
    targets = program_targets(ruleset.program)
    accumulator = TargetAccumulator(targets)
    for record in records:
        accumulator.add(contributions(ruleset, targets, record, as_of))
    return accumulator


def contributions(ruleset: CompiledRuleset, targets: Sequence[CompiledTarget], record: dict[str, Any], as_of: dt.datetime | None = None) -> list[Contribution]:
    model = Interaction.parse(record)
    reader, _facts = ruleset._prepare(model, as_of)
    return target_contributions(targets, reader.getter(None), model, reader.ctx.as_of)


def by_id(results: Sequence[TargetResult]) -> dict[str, TargetResult]:
    out: dict[str, TargetResult] = {}
    for result in results:
        assert result.target_id not in out, "ungrouped targets have one result each"
        out[result.target_id] = result
    return out


def figures(result: TargetResult) -> tuple[Any, ...]:
    return (result.status, result.numerator, result.denominator, result.sum, result.count, result.unknown)


# -- hand-computed figures ---------------------------------------------------------------------------


def test_service_level_asa_and_abandonment_of_ten_calls(phone: CompiledRuleset) -> None:
    results = by_id(accumulate(phone, calls()).results())

    sl = results["sl-80-20"]
    assert figures(sl) == ("missed", 7, 10, None, None, 0)
    assert sl.achieved == 0.7 and sl.objective == 0.8 and sl.comparison == ">=" and sl.unit == "ratio"

    no_short = results["sl-80-20-no-short"]
    assert figures(no_short) == ("missed", 7, 9, None, None, 0)
    assert no_short.achieved == pytest.approx(7 / 9)

    asa = results["asa"]
    assert figures(asa) == ("met", None, None, 133.0, 8, 0)
    assert asa.achieved == 16.625 and asa.objective == 30.0 and asa.unit == "seconds"

    assert figures(results["abandonment"]) == ("missed", 1, 10, None, None, 0)
    assert results["abandonment"].achieved == 0.1
    assert figures(results["abandonment-no-short"]) == ("missed", 1, 9, None, None, 0)
    assert figures(results["abandonment-raw"]) == ("met", 2, 10, None, None, 0)
    assert results["abandonment-raw"].achieved == 0.2  # <= 0.25


def test_objective_reached_exactly_is_met(phone: CompiledRuleset) -> None:
    # 8 answered within 20 s of 10: exactly 80%, and 0.8 >= 0.8.
    rows = list(CALLS)
    rows[7] = ("C8", 19, True, ["a1"], rows[7][4], "blue")
    results = by_id(accumulate(phone, [call(*r) for r in rows]).results())
    assert results["sl-80-20"].achieved == 0.8
    assert results["sl-80-20"].status == "met"


def test_interactions_outside_when_are_not_counted(phone: CompiledRuleset) -> None:
    """E-mails have no call facts: exists(call.queue_wait) is false, call.answered unknown; neither counts."""
    mails = [email(f"E{i}", dt.datetime(2026, 3, 2, 8, i, tzinfo=UTC), 600) for i in range(5)]
    targets = program_targets(phone.program)
    for mail in mails:
        assert contributions(phone, targets, mail) == []
    results = by_id(accumulate(phone, calls() + mails).results())
    assert figures(results["sl-80-20"]) == ("missed", 7, 10, None, None, 0)
    assert figures(results["asa"]) == ("met", None, None, 133.0, 8, 0)


def test_a_call_still_waiting_at_as_of_counts_as_not_answered(phone: CompiledRuleset) -> None:
    created = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    waiting = {"id": "W", "channel": "phone", "created_at": created.isoformat(),
               "events": [{"at": created.isoformat(), "type": "call.queued"}]}
    results = by_id(accumulate(phone, [waiting], as_of=created + dt.timedelta(seconds=8)).results())
    assert figures(results["sl-80-20"]) == ("missed", 0, 1, None, None, 0)
    assert figures(results["abandonment"]) == ("met", 0, 1, None, None, 0)
    assert figures(results["asa"])[0] == "no_data"


# -- unknown condition and value --------------------------------------------------------------------------

EMAIL = """
ruleset: email-targets
version: "1"
targets:
  - id: email-first-reply
    title: 95% of e-mails answered within a day (unanswered ones unknown)
    kind: share
    when: interaction.channel == "email"
    condition: first_reply_time <= 1d
    objective: 0.95
  - id: email-first-reply-strict
    title: 95% of e-mails answered within a day (unanswered ones count once a day has passed)
    kind: share
    when: interaction.channel == "email"
    condition: (first_reply_time ?? unanswered_for) <= 1d
    objective: 0.95
  - id: email-mean-first-reply
    title: Mean first reply time at most 4h
    kind: average
    when: interaction.channel == "email"
    value: first_reply_time
    objective: 14400  # 4h in seconds
    comparison: "<="
  - id: chat-first-reply
    title: Chats answered within a minute
    kind: share
    when: interaction.channel == "chat"
    condition: first_reply_time <= 1m
    objective: 0.9
    group_by: [agent]
"""


@pytest.fixture(scope="module")
def mail_rules() -> Any:
    ruleset = servicerules.load(EMAIL, backend="reference")
    yield ruleset
    ruleset.close()


def test_unknown_condition_is_left_out_and_counted_as_unknown(mail_rules: CompiledRuleset) -> None:
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    mails = [email("E1", t, 2 * 3600), email("E2", t, 30 * 3600), email("E3", t, None)]
    as_of = t + dt.timedelta(days=2)
    results = by_id(accumulate(mail_rules, mails, as_of=as_of).results())
    # E3 has no reply: first_reply_time <= 1d is unknown, so E3 is neither met nor missed.
    assert figures(results["email-first-reply"]) == ("missed", 1, 2, None, None, 1)
    assert results["email-first-reply"].achieved == 0.5
    # unanswered_for (2 days at as_of) makes E3 a miss.
    assert figures(results["email-first-reply-strict"]) == ("missed", 1, 3, None, None, 0)
    # Mean of the known first reply times: (2h + 30h) / 2 = 16h; E3's unknown value is left out.
    assert figures(results["email-mean-first-reply"]) == ("missed", None, None, 32 * 3600.0, 2, 1)
    assert results["email-mean-first-reply"].achieved == 16 * 3600.0


def test_a_group_of_unknowns_only_has_no_data(mail_rules: CompiledRuleset) -> None:
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    results = by_id(accumulate(mail_rules, [email("E3", t, None)], as_of=t + dt.timedelta(hours=1)).results())
    assert figures(results["email-first-reply"]) == ("no_data", 0, 0, None, None, 1)
    assert results["email-first-reply"].achieved is None
    assert figures(results["email-mean-first-reply"]) == ("no_data", None, None, 0.0, 0, 1)


def test_no_data(mail_rules: CompiledRuleset) -> None:
    results = accumulate(mail_rules, []).results()
    assert [(r.target_id, r.group, r.status, r.achieved) for r in results] == [
        ("email-first-reply", {}, "no_data", None),
        ("email-first-reply-strict", {}, "no_data", None),
        ("email-mean-first-reply", {}, "no_data", None),
        ("chat-first-reply", {}, "no_data", None),  # grouped, nothing counted: one line, empty group
    ]
    assert [format_result(r) for r in results][2:] == [
        "email-mean-first-reply: nothing counted, objective <= 4h: no data",
        "chat-first-reply: nothing counted, objective >= 90.0%: no data",
    ]


# -- grouping -------------------------------------------------------------------------------------------

GROUPED = """
ruleset: grouped
version: "1"
targets:
  - id: sl-by-channel
    title: Answered within 20 s, per channel
    kind: share
    when: exists(call.queue_wait) or interaction.channel == "email"
    condition: (call.answered and call.queue_wait <= 20s) ?? (first_reply_time <= 1h)
    objective: 0.8
    group_by: [channel]
  - id: sl-by-day
    title: Service level per day
    kind: share
    when: exists(call.queue_wait)
    condition: call.answered and call.queue_wait <= 20s
    objective: 0.8
    group_by: [day]
  - id: asa-by-agent
    title: Average speed of answer per agent
    kind: average
    when: call.answered
    value: call.queue_wait
    objective: 12  # seconds
    comparison: "<="
    group_by: [agent]
  - id: sl-by-interval
    title: Service level per half hour
    kind: share
    when: exists(call.queue_wait)
    condition: call.answered and call.queue_wait <= 20s
    objective: 0.8
    group_by: [interval_30m]
  - id: sl-by-team-and-agent
    title: Service level per team and agent
    kind: share
    when: exists(call.queue_wait)
    condition: call.answered and call.queue_wait <= 20s
    objective: 0.8
    group_by: [team, agent]
"""


@pytest.fixture(scope="module")
def grouped() -> Any:
    ruleset = servicerules.load(GROUPED, backend="reference")
    yield ruleset
    ruleset.close()


def rows_of(results: Sequence[TargetResult], target_id: str) -> list[tuple[dict[str, str | None], tuple[Any, ...]]]:
    return [(r.group, figures(r)) for r in results if r.target_id == target_id]


def test_group_by_channel(grouped: CompiledRuleset) -> None:
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    mails = [email("E1", t, 600), email("E2", t, 7200)]
    results = accumulate(grouped, calls() + mails).results()
    assert rows_of(results, "sl-by-channel") == [
        ({"channel": "email"}, ("missed", 1, 2, None, None, 0)),
        ({"channel": "phone"}, ("missed", 7, 10, None, None, 0)),
    ]


def test_group_by_day_in_utc(grouped: CompiledRuleset) -> None:
    results = accumulate(grouped, calls()).results()
    # 2 March: C1-C5, all within 20 s. 3 March: C6, C7 within; C8 late; C9, C10 abandoned.
    assert rows_of(results, "sl-by-day") == [
        ({"day": "2026-03-02"}, ("met", 5, 5, None, None, 0)),
        ({"day": "2026-03-03"}, ("missed", 2, 5, None, None, 0)),
    ]


def test_group_by_agent_counts_a_shared_call_for_each_agent(grouped: CompiledRuleset) -> None:
    results = accumulate(grouped, calls()).results()
    # a1: C1 5, C2 8, C5 15, C6 18, C8 45 -> 91 / 5; a2: C3 10, C4 12, C5 15, C7 20 -> 57 / 4.
    assert rows_of(results, "asa-by-agent") == [
        ({"agent": "a1"}, ("missed", None, None, 91.0, 5, 0)),
        ({"agent": "a2"}, ("missed", None, None, 57.0, 4, 0)),
    ]
    # Abandoned calls reached no agent: their group is agent None, listed last.
    assert rows_of(results, "sl-by-team-and-agent") == [
        ({"team": "blue", "agent": "a1"}, ("missed", 2, 3, None, None, 0)),  # C5, C6 within; C8 late
        ({"team": "blue", "agent": "a2"}, ("met", 2, 2, None, None, 0)),  # C5, C7
        ({"team": "red", "agent": "a1"}, ("met", 2, 2, None, None, 0)),  # C1, C2
        ({"team": "red", "agent": "a2"}, ("met", 2, 2, None, None, 0)),  # C3, C4
        ({"team": None, "agent": None}, ("missed", 0, 2, None, None, 0)),  # C9, C10
    ]


def test_agents_from_message_authors_when_none_are_declared(mail_rules: CompiledRuleset) -> None:
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    chats = [email("H1", t, 30, agent="sam", channel="chat"), email("H2", t, 90, agent="kim", channel="chat"),
             email("H3", t, 20, agent="sam", channel="chat")]
    results = accumulate(mail_rules, chats).results()
    assert rows_of(results, "chat-first-reply") == [
        ({"agent": "kim"}, ("missed", 0, 1, None, None, 0)),
        ({"agent": "sam"}, ("met", 2, 2, None, None, 0)),
    ]


def test_agents_who_write_after_as_of_are_not_grouped_yet(mail_rules: CompiledRuleset, backend: str) -> None:
    # sam answers the chat after 30 s; kim joins an hour later. At 10 minutes, only sam has written.
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    chat = email("H1", t, 30, agent="sam", channel="chat")
    chat["events"].append({"at": (t + dt.timedelta(hours=1)).isoformat(), "type": "message",
                           "author": {"role": "agent", "id": "kim"}, "text": "Taking over, hello."})
    early = t + dt.timedelta(minutes=10)
    assert rows_of(accumulate(mail_rules, [chat], as_of=early).results(), "chat-first-reply") == [
        ({"agent": "sam"}, ("met", 1, 1, None, None, 0)),
    ]
    assert [c.group for c in contributions(mail_rules, program_targets(mail_rules.program), chat) if c.group] == [("kim",), ("sam",)]
    policy = servicerules.load(EMAIL, backend=backend)
    records = [RawRecord(SourcePosition("mem", 1, 1), chat)]
    for when, agents in ((early, ["sam"]), (t + dt.timedelta(hours=2), ["kim", "sam"])):
        for jobs in (1, 2):
            summary = check_records(policy, iter(records), jobs=jobs, as_of=when)
            assert sorted(summary.by_agent) == agents, (when, jobs)
    policy.close()


def test_group_by_half_hour(grouped: CompiledRuleset) -> None:
    results = accumulate(grouped, calls()).results()
    assert rows_of(results, "sl-by-interval") == [
        ({"interval_30m": "2026-03-02T09:00Z"}, ("met", 3, 3, None, None, 0)),  # C1, C2, C3 (09:29:59)
        ({"interval_30m": "2026-03-02T09:30Z"}, ("met", 2, 2, None, None, 0)),  # C4 (09:30), C5
        ({"interval_30m": "2026-03-03T14:00Z"}, ("missed", 2, 4, None, None, 0)),  # C6-C9
        ({"interval_30m": "2026-03-03T14:30Z"}, ("missed", 0, 1, None, None, 0)),  # C10
    ]


def test_day_and_interval_use_utc_whatever_the_offset_of_created_at(grouped: CompiledRuleset) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    late = call("L", 5, True, ["a1"], dt.datetime(2026, 3, 3, 0, 40, tzinfo=berlin), "red")  # 2 March 23:40 UTC
    targets = [t for t in program_targets(grouped.program) if t.id in ("sl-by-day", "sl-by-interval")]
    assert [c.group for c in contributions(grouped, targets, late)] == [("2026-03-02",), ("2026-03-02T23:30Z",)]


def _lexicons() -> dict[str, LexiconMatcher]:
    out: dict[str, LexiconMatcher] = {}
    for name in DEFAULT_LEXICONS:
        matcher = default_lexicon(name)
        assert matcher is not None
        out[name] = matcher
    return out


def test_a_target_calendar_sets_the_zone_of_day_and_interval(grouped: CompiledRuleset) -> None:
    kolkata = BusinessCalendar.from_spec("india", {"timezone": "Asia/Kolkata", "hours": {"mon": ["09:00-17:00"]}})
    spec = RulesetSpec(
        ruleset="x", version="1",
        targets=[TargetSpec(id="t", title="t", kind="share", when="exists(call.queue_wait)",
                                     condition="call.answered", objective=0.8, group_by=["day", "interval_30m"],
                                     calendar="india")],
    )
    targets = compile_targets(spec, lookup, _lexicons(), calendars={"india": kolkata})
    late = call("L", 5, True, ["a1"], dt.datetime(2026, 3, 2, 19, 0, tzinfo=UTC), "red")  # 3 March 00:30 IST
    assert [c.group for c in contributions(grouped, targets, late)] == [("2026-03-03", "2026-03-03T00:30+05:30")]
    with pytest.raises(RulesetError) as info:
        compile_targets(spec, lookup, _lexicons(), calendars={})
    assert info.value.codes == ["SR205"]


# -- merging, pickling, JSON ------------------------------------------------------------------------------


def test_merge_of_two_accumulators_equals_one_over_all(grouped: CompiledRuleset, phone: CompiledRuleset) -> None:
    for ruleset in (grouped, phone):
        records = calls()
        whole = accumulate(ruleset, records)
        first, second = accumulate(ruleset, records[:4]), accumulate(ruleset, records[4:])
        first.merge(second)
        assert first.results() == whole.results()
        other_way = accumulate(ruleset, records[4:])
        other_way.merge(accumulate(ruleset, records[:4]))
        assert other_way.results() == whole.results()


def test_accumulators_and_contributions_cross_processes_by_pickle(phone: CompiledRuleset) -> None:
    targets = program_targets(phone.program)
    sent = [contributions(phone, targets, record) for record in calls()]
    received = pickle.loads(pickle.dumps(sent))
    assert received == sent
    worker = accumulate(phone, calls()[:6])
    parent = accumulate(phone, calls()[6:])
    parent.merge(pickle.loads(pickle.dumps(worker)))
    assert parent.results() == accumulate(phone, calls()).results()


def test_merging_accumulators_of_other_targets_is_refused(phone: CompiledRuleset, grouped: CompiledRuleset) -> None:
    with pytest.raises(ValueError, match="different targets"):
        accumulate(phone, []).merge(accumulate(grouped, []))
    with pytest.raises(ValueError, match="target #99"):
        accumulate(phone, []).add([Contribution(99, (), True, None)])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
)
def test_averages_are_identical_however_the_batch_is_split(values: list[float], cuts: list[int]) -> None:
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(id="avg", title="avg", kind="average", value="call.queue_wait", objective=20.0)])
    targets = compile_targets(spec, lookup, {})
    whole = TargetAccumulator(targets)
    whole.add(Contribution(0, (), None, v) for v in values)
    bounds = [0, *sorted(min(c, len(values)) for c in cuts), len(values)]
    parts = []
    for lo, hi in zip(bounds, bounds[1:]):
        part = TargetAccumulator(targets)
        part.add(Contribution(0, (), None, v) for v in values[lo:hi])
        parts.append(part)
    merged = TargetAccumulator(targets)
    for part in reversed(parts):
        merged.merge(part)
    assert merged.results() == whole.results()
    if values:
        # the sum of the values as the decimals they print as, rounded once
        with decimal.localcontext(decimal.Context(prec=200)):
            assert whole.results()[0].sum == float(sum(decimal.Decimal(repr(v)) for v in values))


@pytest.mark.parametrize(
    ("values", "objective", "comparison"),
    [
        ([3.3, 3.3, 3.3], 3.3, ">="),  # 3 x 3.3 is 9.899999999999999 in binary floating point, /3 < 3.3
        ([3.3, 3.3, 3.3], 3.3, "<="),
        ([0.1, 0.2, 0.3], 0.2, ">="),  # 0.1 + 0.2 + 0.3 is 0.6000000000000001
        ([0.1, 0.2, 0.3], 0.2, "<="),
        ([29.7, 30.3], 30, "<="),
        ([2.0**60], 1.152921504606847e18, ">="),  # a whole number too large to be exact: the decimal it prints as
    ],
)
def test_an_average_equal_to_the_objective_is_met(values: list[float], objective: float, comparison: str) -> None:
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="avg", title="avg", kind="average", value="call.queue_wait", objective=objective, comparison=comparison,
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add(Contribution(0, (), None, v) for v in values)
    (result,) = accumulator.results()
    assert (result.status, result.achieved) == ("met", objective)


def _average_of(values: list[float], objective: float = 3.3) -> TargetAccumulator:
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="avg", title="avg", kind="average", value="interaction.attributes.score", objective=objective,
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add(Contribution(0, (), None, v) for v in values)
    return accumulator


def _average_figures(accumulator: TargetAccumulator) -> tuple[Any, ...]:
    (result,) = accumulator.results()
    return result.status, result.achieved, result.sum, result.count


@pytest.mark.parametrize(
    ("values", "figures"),
    [
        # the sum is beyond a float's range: the mean is not, and the sum is null
        ([1e308, 1e308], ("met", 1e308, None, 2)),
        ([-1e308, -1e308], ("missed", -1e308, None, 2)),
        ([1.7976931348623157e308] * 3, ("met", 1.7976931348623157e308, None, 3)),
        # past the largest float on the way, back in range at the end
        ([1e308, 1e308, -1e308, -1e308, 5.0], ("met", 1.0, 5.0, 5)),
        ([1.5e308, 1.5e308, -1.5e308, -1.3e308], ("met", 5e306, 2e307, 4)),
    ],
)
def test_an_average_of_values_near_the_largest_float_does_not_overflow(values: list[float], figures: tuple[Any, ...]) -> None:
    accumulator = _average_of(values, objective=0)
    assert _average_figures(accumulator) == figures
    (result,) = accumulator.results()
    json.dumps(result.to_dict(), allow_nan=False)  # no Infinity in the summary


def test_worker_sums_beyond_a_float_s_range_merge_exactly() -> None:
    # each worker's sum overflows a float, one up and one down; together they are back in range
    up, down = _average_of([1.5e308, 1.5e308]), _average_of([-1.5e308, -1.3e308])
    assert _average_figures(up) == ("met", 1.5e308, None, 2)
    assert _average_figures(down) == ("missed", -1.4e308, None, 2)
    for first, second in ((up, down), (down, up)):
        merged = _average_of([])
        merged.merge(pickle.loads(pickle.dumps(first)))
        merged.merge(pickle.loads(pickle.dumps(second)))
        assert _average_figures(merged) == ("met", 5e306, 2e307, 4)


def test_a_summary_with_an_average_beyond_a_float_s_sum_is_valid_json(tmp_path: Path) -> None:
    from servicerules.batch.output import SummaryJsonWriter
    from servicerules.batch.runner import check_files
    from servicerules.batch.summary_schema import summary_adapter

    ruleset = servicerules.load('ruleset: x\nversion: "1"\ntargets:\n  - {id: score, title: Score, kind: average, '
                                'value: interaction.attributes.score, objective: 3.3}\n')
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": f"S{i}", "channel": "chat", "created_at": "2026-03-01T10:00:00Z",
                                        "attributes": {"score": 1e308}}) + "\n" for i in range(4)), encoding="utf-8")

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the summary")

    try:
        for jobs in (1, 2):  # in worker processes, whose sums are merged
            path = tmp_path / f"summary-{jobs}.json"
            summary = check_files(ruleset, [str(data)], jobs=jobs, chunk_size=1, sinks=[SummaryJsonWriter(str(path))])
            assert summary.jobs == jobs
            document = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
            assert summary_adapter().validate_python(document) == document
            (target,) = document["targets"]
            assert (target["status"], target["achieved"], target["sum"], target["count"]) == ("met", 1e308, None, 4)
    finally:
        ruleset.close()

@pytest.mark.parametrize(
    ("hits", "count", "objective", "comparison", "status"),
    [
        (4, 5, 0.8, ">=", "met"),
        (7, 10, 0.7, ">=", "met"),
        (7, 10, 0.7, "<=", "met"),
        (1, 20, 0.05, "<=", "met"),
        (799_999, 1_000_000, 0.8, ">=", "missed"),
        (800_001, 1_000_000, 0.8, "<=", "missed"),
        (1, 3, 0.3333333333333333, ">=", "met"),  # one third is above the decimal 0.3333333333333333
        (1, 3, 0.3333333333333333, "<=", "missed"),
    ],
)
def test_a_share_is_compared_exactly(hits: int, count: int, objective: float, comparison: str, status: str) -> None:
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="sl", title="sl", kind="share", condition="call.answered", objective=objective, comparison=comparison,
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add([Contribution(0, (), True, None)] * hits + [Contribution(0, (), False, None)] * (count - hits))
    assert accumulator.results()[0].status == status


def test_results_are_json_serialisable(grouped: CompiledRuleset) -> None:
    results = accumulate(grouped, calls()).results()
    data = json.loads(json.dumps([r.to_dict() for r in results]))
    assert data[0] == {
        "target_id": "sl-by-channel",
        "title": "Answered within 20 s, per channel",
        "kind": "share",
        "group": {"channel": "phone"},
        "status": "missed",
        "achieved": 0.7,
        "objective": 0.8,
        "comparison": ">=",
        "numerator": 7,
        "denominator": 10,
        "sum": None,
        "count": None,
        "unknown": 0,
        "unit": "ratio",
        "severity": "major",
    }
    assert data[-1]["group"] == {"team": None, "agent": None}


def test_result_order_is_target_order_then_sorted_groups(grouped: CompiledRuleset) -> None:
    shuffled = calls()[::-1]
    assert accumulate(grouped, shuffled).results() == accumulate(grouped, calls()).results()
    ids = [r.target_id for r in accumulate(grouped, calls()).results()]
    assert list(dict.fromkeys(ids)) == ["sl-by-channel", "sl-by-day", "asa-by-agent", "sl-by-interval", "sl-by-team-and-agent"]


def test_format_result(phone: CompiledRuleset, grouped: CompiledRuleset) -> None:
    lines = [format_result(r) for r in accumulate(phone, calls()).results()]
    assert lines == [
        "sl-80-20: 70.0% (7/10), objective >= 80.0%: missed",
        "sl-80-20-no-short: 77.8% (7/9), objective >= 80.0%: missed",
        "asa: 17s (mean of 8), objective <= 30s: met",
        "abandonment: 10.0% (1/10), objective <= 5.0%: missed",
        "abandonment-no-short: 11.1% (1/9), objective <= 5.0%: missed",
        "abandonment-raw: 20.0% (2/10), objective <= 25.0%: met",
    ]
    grouped_lines = [format_result(r) for r in accumulate(grouped, calls()).results() if r.target_id == "sl-by-team-and-agent"]
    assert grouped_lines[-1] == "sl-by-team-and-agent [team=(none), agent=(none)]: 0.0% (0/2), objective >= 80.0%: missed"


# -- the targets' facts and compile-time checks ----------------------------------------------------------


def test_compiled_targets_name_their_facts_and_groups(grouped: CompiledRuleset, phone: CompiledRuleset) -> None:
    targets = {t.id: t for t in program_targets(phone.program)}
    assert targets["sl-80-20"].facts == ("call.queue_wait", "call.answered")
    assert targets["asa"].facts == ("call.answered", "call.queue_wait")
    assert targets["abandonment"].facts == ("call.queue_wait", "call.abandoned", "call.short_abandon")
    assert targets["asa"].unit == "seconds" and targets["sl-80-20"].unit == "ratio"
    assert [t.group_by for t in program_targets(grouped.program)] == [
        ("channel",), ("day",), ("agent",), ("interval_30m",), ("team", "agent")
    ]


def test_targets_on_sla_facts(backend: str) -> None:
    """95% of e-mails get a first reply within one business day (8 open hours, Mon-Fri 09-17 Berlin)."""
    text = """
ruleset: email-sla
version: "1"
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
slas:
  - id: email-first-reply
    title: First reply within one business day
    metric: first_reply_time
    when: interaction.channel == "email"
    calendar: office
    targets: {"*": 8h}
targets:
  - id: email-first-reply-95
    title: 95% of e-mails get a first reply within one business day
    kind: share
    when: sla.email_first_reply.state in ["achieved", "breached", "breaching"]
    condition: sla.email_first_reply.state == "achieved"
    objective: 0.95
"""
    ruleset = servicerules.load(text, backend=backend)
    try:
        berlin = dt.timezone(dt.timedelta(hours=1))
        friday = dt.datetime(2026, 3, 6, 16, 0, tzinfo=berlin)  # 1 open hour left on Friday
        as_of = dt.datetime(2026, 3, 10, 10, 0, tzinfo=berlin)  # Tuesday 10:00
        # Deadline of the three Friday e-mails: Monday 16:00 (1 open hour on Friday, 7 on Monday).
        mails = [
            email("E1", friday, 67 * 3600),  # Monday 11:00: achieved
            email("E2", friday, 74 * 3600),  # Monday 18:00: breached
            email("E3", friday, None),  # no reply by Tuesday 10:00: breaching
            email("E4", dt.datetime(2026, 3, 10, 9, 30, tzinfo=berlin), None),  # pending at as_of: not counted
            # answered as E1 was, but the SLA covers e-mails only: its facts are unknown, not "achieved"
            email("C1", friday, 67 * 3600, channel="chat"),
            email("S1", friday, 67 * 3600, channel="social"),
        ]
        results = by_id(accumulate(ruleset, mails, as_of=as_of).results())
        assert figures(results["email-first-reply-95"]) == ("missed", 1, 3, None, None, 0)
    finally:
        ruleset.close()


def test_the_charter_s_one_business_day_target() -> None:
    """Counted: e-mails answered, and e-mails unanswered for more than one business day (10 open hours,
    Mon-Fri 08-18 Berlin), whatever the SLA target of their priority."""
    ruleset = servicerules.load(Path(__file__).parents[2] / "rulesets" / "charter.yaml", backend="reference")
    try:
        berlin = dt.timezone(dt.timedelta(hours=1))
        as_of = dt.datetime(2026, 3, 11, 12, 0, tzinfo=berlin)  # Wednesday noon

        def mail(ident: str, created: dt.datetime, reply_after: float | None, priority: str, channel: str = "email") -> dict[str, Any]:
            return {**email(ident, created, reply_after, channel=channel), "priority": priority}

        mails = [
            # Wednesday 09:00, 3 open hours unanswered: past the urgent 2h target, but not yet one business day
            mail("U1", dt.datetime(2026, 3, 11, 9, 0, tzinfo=berlin), None, "urgent"),
            # Monday 16:00, unanswered: 2 + 10 + 4 = 16 open hours, within the low 20h target but a miss here
            mail("L1", dt.datetime(2026, 3, 9, 16, 0, tzinfo=berlin), None, "low"),
            # Tuesday 08:00, answered at 13:00: 5 open hours, a hit
            mail("N1", dt.datetime(2026, 3, 10, 8, 0, tzinfo=berlin), 5 * 3600, "normal"),
            # Monday 08:00, answered Tuesday 09:00: 10 + 1 = 11 open hours, a miss
            mail("H1", dt.datetime(2026, 3, 9, 8, 0, tzinfo=berlin), 25 * 3600, "high"),
            # a chat is not an e-mail: the e-mail SLA's facts are unknown there
            mail("C1", dt.datetime(2026, 3, 10, 8, 0, tzinfo=berlin), 60, "normal", channel="chat"),
        ]
        results = by_id(accumulate(ruleset, mails, as_of=as_of).results())
        assert figures(results["email-first-reply-one-day"]) == ("missed", 1, 3, None, None, 0)
    finally:
        ruleset.close()


def _problems(targets_yaml: str) -> list[tuple[str, str, tuple[str | int, ...]]]:
    spec = RulesetSpec.model_validate(
        {"ruleset": "x", "version": "1", "targets": json.loads(targets_yaml)}
    )
    _targets, problems = check_targets(spec, lookup, _lexicons())
    return [(p.code, p.message, p.path) for p in problems]


def test_checks_the_compiler_does_not_make_yet() -> None:
    assert _problems('[{"id": "a", "title": "a", "kind": "share", "objective": 80}]') == [
        ("SR111", "a share target needs a 'condition': what counts in the numerator", ("targets", 0)),
        ("SR112", "the objective of a share is a fraction from 0 to 1, found 80", ("targets", 0, "objective")),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "rate", "condition": "call.abandoned", "value": "call.queue_wait", "objective": 0.05}]') == [
        ("SR112", "a rate target has no 'value'", ("targets", 0, "value")),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "average", "condition": "call.answered", "objective": 30}]') == [
        ("SR111", "an average target needs a 'value': the expression whose mean is taken", ("targets", 0)),
        ("SR112", "an average target has no 'condition'", ("targets", 0, "condition")),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "average", "value": "interaction.channel", "objective": 30}]') == [
        ("SR202", "the value of an average must be a number or a duration, this is a string", ("targets", 0, "value")),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "share", "condition": "call.answered", "objective": 0.8, "group_by": ["day", "day"]}]') == [
        ("SR112", "group_by names 'day' twice", ("targets", 0, "group_by", 1)),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "share", "when": "call.queue_wait", "condition": "call.answerd", "objective": 0.8}]') == [
        ("SR202", "a condition must be true or false, this is a duration", ("targets", 0, "when")),
        ("SR201", "unknown fact 'call.answerd'", ("targets", 0, "condition")),
    ]
    assert _problems('[{"id": "a", "title": "a", "kind": "share", "condition": "call.answered and", "objective": 0.8}]')[0][0] == "SR200"
    assert _problems('[{"id": "a", "title": "a", "kind": "average", "value": "interaction.attributes.csat", "objective": 4}]') == []


def test_a_free_attribute_is_averaged_as_a_number() -> None:
    spec = RulesetSpec.model_validate({"ruleset": "x", "version": "1", "targets": [
        {"id": "csat", "title": "CSAT", "kind": "average", "value": "interaction.attributes.csat", "objective": 4}]})
    (target,) = compile_targets(spec, lookup, _lexicons())
    assert target.unit == "number"
    assert target.value is not None and target.value(lambda name, type_: 4.5 if type_ == "number" else "4.5") == 4.5


def test_an_average_leaves_out_numbers_it_cannot_add(backend: str) -> None:
    # NaN and infinities, and an int beyond a float's range (it raised OverflowError from evaluation)
    policy = servicerules.load('ruleset: x\nversion: "1"\ntargets:\n  - {id: csat, title: CSAT, kind: average, '
                               'value: interaction.attributes.csat, objective: 4}\n', backend=backend)
    record = {"id": "A", "channel": "email", "created_at": "2026-03-02T09:00:00Z"}
    values = [policy.target_contributions({**record, "attributes": {"csat": csat}})[0].value
              for csat in (4.5, 10**400, math.nan, math.inf)]
    policy.close()
    assert values == [4.5, None, None, None]


def test_program_targets_locates_problems_in_the_file() -> None:
    text = 'ruleset: x\nversion: "1"\ntargets:\n  - id: a\n    title: a\n    kind: average\n    value: interaction.channel\n    objective: 30\n'
    with pytest.raises(RulesetError) as info:  # the compiler's targets pass reports it when loading
        servicerules.load(text, backend="reference")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "SR202"
    assert diagnostic.location is not None and (diagnostic.location.line, diagnostic.location.col) == (7, 12)


CALENDAR_TARGETS = """\
ruleset: x
version: "1"
calendars:
  desk: {timezone: America/New_York, hours: {mon: ["09:00-17:00"]}}
targets:
  - id: a
    title: a
    kind: share
    when: exists(call.queue_wait)
    condition: call.answered
    objective: 0.8
    group_by: [day, interval_30m]
    calendar: desk
"""


def test_a_target_s_calendar_groups_days_and_half_hours_in_its_time_zone(backend: str) -> None:
    ruleset = servicerules.load(CALENDAR_TARGETS, backend=backend)
    try:
        # 03:10 UTC on 9 March 2026 is 23:10 on 8 March in New York (EDT since that morning: -04:00)
        late = call("L", 5, True, ["a1"], dt.datetime(2026, 3, 9, 3, 10, tzinfo=UTC), "red")
        noon = call("N", 5, True, ["a1"], dt.datetime(2026, 3, 9, 16, 45, tzinfo=UTC), "red")
        results = accumulate(ruleset, [late, noon]).results()
        assert [r.group for r in results] == [
            {"day": "2026-03-08", "interval_30m": "2026-03-08T23:00-04:00"},
            {"day": "2026-03-09", "interval_30m": "2026-03-09T12:30-04:00"},
        ]
    finally:
        ruleset.close()


def test_a_time_the_calendar_skips_is_grouped_in_the_half_hour_it_is(backend: str) -> None:
    # 02:30 on the spring-forward night in New York, read with default_timezone, is 03:30 EDT (07:30 UTC), the
    # same instant as 03:30-04:00. It was grouped under a half hour no New York clock shows, 02:30-05:00.
    ruleset = servicerules.load(CALENDAR_TARGETS, backend=backend)
    try:
        naive = call("G", 5, True, ["a1"], dt.datetime(2026, 3, 8, 2, 30), "red")
        skipped = Interaction.parse(naive, default_timezone="America/New_York")
        aware = Interaction.parse(call("A", 5, True, ["a1"], dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "red"))
        groups = {c.group for i in (skipped, aware) for c in ruleset.target_contributions(i)}
        assert groups == {("2026-03-08", "2026-03-08T03:30-04:00")}
    finally:
        ruleset.close()


def test_half_hours_of_the_repeated_hour_are_listed_in_time_order(backend: str) -> None:
    # Berlin's fall-back night repeats 02:00-03:00: first in summer time (+02:00), then in winter time (+01:00)
    ruleset = servicerules.load(CALENDAR_TARGETS.replace("America/New_York", "Europe/Berlin"), backend=backend)
    try:
        moments = [dt.datetime(2026, 10, 25, hour, minute, tzinfo=UTC) for hour, minute in ((1, 40), (0, 10), (1, 10), (0, 40))]
        records = [call(f"C{n}", 5, True, ["a1"], moment, "red") for n, moment in enumerate(moments)]
        assert [r.group["interval_30m"] for r in accumulate(ruleset, records).results()] == [
            "2026-10-25T02:00+02:00", "2026-10-25T02:30+02:00", "2026-10-25T02:00+01:00", "2026-10-25T02:30+01:00"]
    finally:
        ruleset.close()


def test_a_target_s_calendar_must_exist_and_must_have_day_or_half_hour_groups() -> None:
    unknown = CALENDAR_TARGETS.replace("calendar: desk", "calendar: dsk")
    with pytest.raises(RulesetError) as info:
        servicerules.load(unknown, backend="reference")
    [(code, message, hint, line_col)] = [(d.code, d.message, d.hint, (d.location.line, d.location.col) if d.location else None) for d in info.value.diagnostics]
    assert (code, message, hint, line_col) == ("SR205", "unknown calendar 'dsk'", "did you mean 'desk'?", (13, 15))
    ungrouped = CALENDAR_TARGETS.replace("group_by: [day, interval_30m]", "group_by: [agent]")
    with pytest.raises(RulesetError) as info:
        servicerules.load(ungrouped, backend="reference")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "SR112" and diagnostic.message.startswith("'calendar' sets the time zone of the day and interval_30m groups")
    assert diagnostic.location is not None and diagnostic.location.line == 13


GROUP_TIME_TARGETS = """\
ruleset: x
version: "1"
targets:
  - id: offered
    title: calls by the half hour they were offered to the queue
    kind: share
    when: interaction.channel == "phone"
    condition: call.answered
    objective: 0.8
    group_by: [interval_30m]
    group_time: call.queued_at
  - id: offered-or-opened
    title: the same, falling back to the interaction's start
    kind: share
    when: interaction.channel == "phone"
    condition: call.answered
    objective: 0.8
    group_by: [day, interval_30m]
    group_time: call.queued_at ?? interaction.created_at
  - id: opened
    title: the default, the interaction's start
    kind: share
    when: interaction.channel == "phone"
    condition: call.answered
    objective: 0.8
    group_by: [interval_30m]
"""


def _queued_late(ident: str, created: dt.datetime, menu_seconds: float) -> dict[str, Any]:
    """A call whose caller spends ``menu_seconds`` in the voice menu before reaching the queue."""
    record = call(ident, 10, True, ["a1"], created, None)
    for event in record["events"]:
        event["at"] = (dt.datetime.fromisoformat(event["at"]) + dt.timedelta(seconds=menu_seconds)).isoformat()
    return record


def test_group_time_places_a_call_in_the_half_hour_it_reached_the_queue(backend: str) -> None:
    ruleset = servicerules.load(GROUP_TIME_TARGETS, backend=backend)
    try:
        # opened at 23:58 on 2 March, queued 3 minutes later: 00:01 on 3 March
        late = _queued_late("L", dt.datetime(2026, 3, 2, 23, 58, tzinfo=UTC), 180)
        # no queue event at all (the caller hung up in the voice menu)
        menu = {"id": "M", "channel": "phone", "created_at": "2026-03-02T09:10:00+00:00",
                "events": [{"at": "2026-03-02T09:10:00+00:00", "type": "call.abandoned"}]}
        results = accumulate(ruleset, [late, menu]).results()
        assert rows_of(results, "offered") == [
            ({"interval_30m": "2026-03-03T00:00Z"}, ("met", 1, 1, None, None, 0)),
            ({"interval_30m": None}, ("missed", 0, 1, None, None, 0)),  # no queue entry: the (none) group
        ]
        assert rows_of(results, "offered-or-opened") == [
            ({"day": "2026-03-02", "interval_30m": "2026-03-02T09:00Z"}, ("missed", 0, 1, None, None, 0)),
            ({"day": "2026-03-03", "interval_30m": "2026-03-03T00:00Z"}, ("met", 1, 1, None, None, 0)),
        ]
        assert rows_of(results, "opened") == [
            ({"interval_30m": "2026-03-02T09:00Z"}, ("missed", 0, 1, None, None, 0)),
            ({"interval_30m": "2026-03-02T23:30Z"}, ("met", 1, 1, None, None, 0)),
        ]
    finally:
        ruleset.close()


def test_group_time_may_read_a_timestamp_attribute() -> None:
    source = GROUP_TIME_TARGETS.replace("group_time: call.queued_at\n", "group_time: interaction.attributes.offered_at\n", 1)
    ruleset = servicerules.load(source, backend="reference")
    try:
        first = call("A", 5, True, ["a1"], dt.datetime(2026, 3, 2, 9, 10, tzinfo=UTC), None)
        first["attributes"] = {"offered_at": "2026-03-02T10:45:00+01:00"}  # 09:45 UTC
        second = call("B", 5, True, ["a1"], dt.datetime(2026, 3, 2, 9, 10, tzinfo=UTC), None)
        second["attributes"] = {"offered_at": "not a time"}
        results = accumulate(ruleset, [first, second]).results()
        assert [r.group for r in results if r.target_id == "offered"] == [{"interval_30m": "2026-03-02T09:30Z"}, {"interval_30m": None}]
    finally:
        ruleset.close()


def test_group_time_must_be_a_timestamp_and_needs_day_or_half_hour_groups() -> None:
    def diagnostics(source: str) -> list[tuple[str, str, int | None, int | None]]:
        with pytest.raises(RulesetError) as info:
            servicerules.load(source, backend="reference")
        return [(d.code, d.message, d.location.line if d.location else None, d.location.col if d.location else None)
                for d in info.value.diagnostics]

    assert diagnostics(GROUP_TIME_TARGETS.replace("group_time: call.queued_at\n", "group_time: call.queue_wait\n", 1)) == [
        ("SR202", "group_time must be a timestamp, this is a duration", 11, 17)]
    assert diagnostics(GROUP_TIME_TARGETS.replace("group_time: call.queued_at\n", "group_time: call.queued_att\n", 1))[0][:1] == ("SR201",)
    assert diagnostics(GROUP_TIME_TARGETS.replace("group_by: [interval_30m]\n    group_time", "group_by: [agent]\n    group_time", 1)) == [
        ("SR112", "'group_time' places interactions in day and interval_30m groups, and this target groups by neither", 11, 17)]


def test_already_reported_syntax_errors_are_not_reported_again() -> None:
    spec = RulesetSpec.model_validate({"ruleset": "x", "version": "1", "targets": [
        {"id": "a", "title": "a", "kind": "share", "condition": "call.answered and", "objective": 0.8},
        {"id": "b", "title": "b", "kind": "share", "condition": "call.answered", "objective": 0.8}]})
    parsed: dict[tuple[str | int, ...], ast.Node] = {("targets", 1, "condition"): ast.parse_expression("call.answered")}
    targets, problems = check_targets(spec, lookup, _lexicons(), parsed=parsed)
    assert problems == [] and [t.id for t in targets] == ["b"] and targets[0].index == 1


# -- the examples of docs/reference/targets.md --------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "targets.md"


def _doc_block(lang: str, first_line: str) -> str:
    blocks = re.findall(r"```" + lang + r"\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    (block,) = [b for b in blocks if b.startswith(first_line)]
    return str(block)


def test_the_documented_phone_figures() -> None:
    ruleset = servicerules.load(_doc_block("yaml", "ruleset: phone-charter"), backend="reference")
    try:
        results = accumulate(ruleset, calls()).results()
    finally:
        ruleset.close()
    lines = [format_result(r) for r in results]
    for shown in _doc_block("text", "phone.service-level").splitlines():
        assert shown in lines
    assert json.loads(_doc_block("json", "{")) == results[0].to_dict()


def test_the_documented_unanswered_email_target() -> None:
    ruleset = servicerules.load(_doc_block("yaml", "ruleset: email-first-reply"), backend="reference")
    t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    mails = [email("E1", t, 2 * 3600), email("E2", t, 30 * 3600), email("E3", t, None),
             email("E4", t + dt.timedelta(days=2) - dt.timedelta(hours=1), None)]
    try:
        results = by_id(accumulate(ruleset, mails, as_of=t + dt.timedelta(days=2)).results())
    finally:
        ruleset.close()
    # E1 in time, E2 late, E3 unanswered for 2 days: missed; E4 unanswered for 1 hour: undecided, not counted.
    assert figures(results["email.first-reply-1d"]) == ("missed", 1, 3, None, None, 0)


def test_batch_runs_accumulate_targets_identically_in_worker_processes(tmp_path: Path) -> None:
    from servicerules.batch.runner import check_files

    lines = []
    for i, (wait, outcome) in enumerate([(10, "answered"), (45, "answered"), (60, "abandoned"), (2, "abandoned"), (15, "answered")] * 4):
        start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=10 * i)
        events = [{"at": start.isoformat(), "type": "call.queued"},
                  {"at": (start + dt.timedelta(seconds=wait)).isoformat(), "type": f"call.{outcome}"}]
        lines.append(json.dumps({"id": f"C{i}", "channel": "phone", "created_at": start.isoformat(), "events": events}))
    data = tmp_path / "calls.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ruleset = servicerules.load(Path(__file__).resolve().parents[2] / "rulesets" / "charter.yaml")
    serial = check_files(ruleset, [str(data)], jobs=1)
    parallel = check_files(ruleset, [str(data)], jobs=2, chunk_size=3)
    assert parallel.jobs == 2
    assert serial.to_dict()["targets"] == parallel.to_dict()["targets"]
    level = next(t for t in serial.to_dict()["targets"] if t["target_id"] == "phone-service-level")
    # 20 queued calls, 4 short abandons excluded: 8 answered within 20 s of 16
    assert (level["numerator"], level["denominator"], level["status"]) == (8, 16, "missed")
    abandonment = next(t for t in serial.to_dict()["targets"] if t["target_id"] == "phone-abandonment")
    assert (abandonment["numerator"], abandonment["denominator"]) == (4, 16)


def test_the_charter_s_phone_targets_over_the_bank_calls_mapping(bank_calls_log: Any) -> None:
    """The queue wait of a mapped call is the log's own q_time, also after a short service whose end the
    service's clock (behind the queue's) logs before the caller left the queue. A call an agent took at once
    (no queue in the log) is answered within 20 s, as in any call centre's service level."""
    from servicerules.batch.mapping import load_mapping, read_mapped
    from servicerules.batch.runner import check_records

    rows = [
        # answered after 31 s; the 15 s service ends (12:00:24 on its clock) before q_exit: a miss
        ["AA01", "1", "0", "0", "PS", "260302", "12:00:00", "12:00:10", "10", "12:00:10", "12:00:41", "31", "AGENT", "12:00:09", "12:00:24", "15", "DANA"],
        # answered after exactly 20 s: in time
        ["AA01", "2", "0", "0", "PS", "260302", "12:05:00", "12:05:10", "10", "12:05:10", "12:05:30", "20", "AGENT", "12:05:29", "12:07:00", "91", "DANA"],
        # abandoned after 30 s: in the denominator only
        ["AA01", "3", "0", "0", "PS", "260302", "12:10:00", "12:10:10", "10", "12:10:10", "12:10:40", "30", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        # answered at once, without a queue: in time
        ["AA01", "6", "0", "0", "PS", "260302", "12:25:00", "12:25:10", "10", "0:00:00", "0:00:00", "0", "AGENT", "12:25:09", "12:26:00", "51", "DANA"],
        # a short abandon (3 s), a phantom call and a hang-up in the voice menu: not counted
        ["AA01", "4", "0", "0", "PS", "260302", "12:15:00", "12:15:10", "10", "12:15:10", "12:15:13", "3", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        ["AA01", "5", "0", "0", "PS", "260302", "12:20:00", "12:20:10", "10", "12:20:10", "12:20:15", "5", "PHANTOM", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        ["AA01", "7", "0", "0", "PS", "260302", "12:30:00", "12:30:20", "20", "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
    ]  # fmt: skip
    path = bank_calls_log(rows)
    ruleset = servicerules.load(Path(__file__).resolve().parents[2] / "rulesets" / "charter.yaml", backend="reference")
    summary = check_records(ruleset, read_mapped(load_mapping("bank-calls"), str(path)))
    targets = {t["target_id"]: t for t in summary.to_dict()["targets"]}
    level = targets["phone-service-level"]
    assert (level["group"], level["numerator"], level["denominator"], level["status"]) == ({"day": "2026-03-02"}, 2, 4, "missed")
    abandonment = targets["phone-abandonment"]
    assert (abandonment["numerator"], abandonment["denominator"]) == (1, 4)


@pytest.mark.parametrize(
    ("kind", "values", "objective", "line"),
    [
        # rounding to whole seconds would print "30s ... objective <= 30s: missed"
        ("average", [30.1, 30.178], 30, "t: 30.1s (mean of 2), objective <= 30s: missed"),
        ("average", [0.1, 0.3], 0.2, "t: 0.2s (mean of 2), objective <= 0.2s: met"),
        ("average", [0.25], 0.2, "t: 0.25s (mean of 1), objective <= 0.2s: missed"),
        # the float mean rounds to 30.000000000000004; 12 decimals were not enough to show the difference
        ("average", [30, 30.000000000000004], 30, "t: 30.000000000000002s (mean of 2), objective <= 30s: missed"),
        ("share", [True] * 99_999 + [False], 1.0, "t: 99.999% (99,999/100,000), objective <= 100%: met"),
    ],
)
def test_printed_figures_never_look_equal_when_they_are_not(kind: str, values: list[Any], objective: float, line: str) -> None:
    average = kind == "average"
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="t", title="t", kind=kind, objective=objective, comparison="<=",
        **({"value": "call.queue_wait"} if average else {"condition": "call.answered"}),
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add(Contribution(0, (), None if average else v, v if average else None) for v in values)
    assert format_result(accumulator.results()[0]) == line


def test_bare_yaml_booleans_are_expressions(backend: str) -> None:
    # `condition: true` is a YAML boolean, not text: it means the expression true (count every e-mail)
    text = """
ruleset: booleans
version: "1"
rules:
  - id: never
    title: Never violated
    severity: info
    when: true
    violated_if: false
targets:
  - id: every-email
    title: Every e-mail
    kind: share
    when: interaction.channel == "email"
    condition: true
    objective: 1
"""
    ruleset = servicerules.load(text, backend=backend)
    try:
        created = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        mails = [email("E1", created, 60), email("E2", created, None), email("C1", created, 60, channel="chat")]
        assert figures(by_id(accumulate(ruleset, mails).results())["every-email"]) == ("met", 2, 2, None, None, 0)
        assert ruleset.evaluate(mails[0]).outcomes[0].status == "compliant"
    finally:
        ruleset.close()


def test_printed_figures_use_plain_decimals_never_exponents() -> None:
    # 59m 0.5s against one hour: both print as 1h (a part of a minute counts as a minute), then with seconds
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="t", title="t", kind="average", value="call.queue_wait", objective=3600, comparison="<=",
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add([Contribution(0, (), None, 3540.5)])
    assert format_result(accumulator.results()[0]) == "t: 3540s (mean of 1), objective <= 3600s: met"
    # a mean wait of 10 microseconds (a hundred calls answered at once, one after a millisecond) read 1e-05s
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add([Contribution(0, (), None, 0.001)] + [Contribution(0, (), None, 0.0)] * 99)
    assert format_result(accumulator.results()[0]) == "t: 0.00001s (mean of 100), objective <= 1h: met"
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add([Contribution(0, (), None, -0.000123456)])
    assert format_result(accumulator.results()[0]) == "t: -0.00012s (mean of 1), objective <= 1h: met"


@pytest.mark.parametrize(
    ("values", "objective", "line"),
    [
        ([12345, 12345], 10000, "t: 12345 (mean of 2), objective >= 10000: met"),  # not 1.234e+04
        ([0.00012, 0.00013], 0.0001, "t: 0.000125 (mean of 2), objective >= 0.0001: met"),
        ([123.456], 100, "t: 123.5 (mean of 1), objective >= 100: met"),
        ([2e20], 1e20, "t: 200000000000000000000 (mean of 1), objective >= 100000000000000000000: met"),
        # the decimals they print as, not the binary fractions nearest to them (99999999999999991611392)
        ([1e23], 1e23, "t: 100000000000000000000000 (mean of 1), objective >= 100000000000000000000000: met"),
        ([1e308, 1e308], 3.3, "t: 1" + "0" * 308 + " (mean of 2), objective >= 3.3: met"),
        # the exact mean is a hair below 1: the figure says so instead of "1 ... objective >= 1: missed"
        ([1, 0.9999999999999999], 1, "t: 0.99999999999999995 (mean of 2), objective >= 1: missed"),
    ],
)
def test_number_figures_are_plain_decimals_as_exact_as_the_verdict(values: list[float], objective: float, line: str) -> None:
    spec = RulesetSpec(ruleset="x", version="1", targets=[TargetSpec(
        id="t", title="t", kind="average", value="refund.days_since_purchase", objective=objective, comparison=">=",
    )])
    accumulator = TargetAccumulator(compile_targets(spec, lookup, {}))
    accumulator.add(Contribution(0, (), None, v) for v in values)
    assert format_result(accumulator.results()[0]) == line
