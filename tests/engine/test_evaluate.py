"""End-to-end evaluation through each backend: what a library user sees."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import pickle
import re
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import servicerules
from servicerules import InteractionError, Rejection
from servicerules.compiler.ir import Scope

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[2]

RULESET = """
ruleset: demo
version: "2.1"
default_locale: en
lexicons:
  greeting:
    phrases:
      en: [hello, hi]
      de: [hallo, guten tag]
      da: [hej]
      hi: [नमस्ते]
actions:
  coach:
    title: Coach the agent
    owner: team_lead
    due_in: 2d
rules:
  - id: greet
    title: First reply greets
    severity: minor
    when: has_personal_reply
    violated_if: not (first_reply.text mentions greeting)
    message:
      en: "No greeting for {customer.name}."
      de: "Keine Begrüßung für {customer.name}."
    actions: [coach]
  - id: reply-time
    title: Reply within 4h
    severity: major
    when: interaction.channel == "email"
    violated_if: (first_reply_time ?? unanswered_for) > 4h
    message: "Waited {first_reply_time ?? unanswered_for}."
  - id: card
    title: No card numbers
    severity: critical
    scope: event
    when: event.type == "message"
    violated_if: event.has_card_number
    message: "Card number in message {event.index}."
  - id: big-order
    title: Large orders need a manager
    severity: major
    mode: warn
    violated_if: interaction.attributes.order.amount > 500
"""


def interaction(**changes):
    data = {
        "id": "T-1",
        "channel": "email",
        "created_at": "2026-03-02T09:00:00+01:00",
        "customer": {"name": "Jana Novak", "locale": "en"},
        "events": [
            {"at": "2026-03-02T09:00:00+01:00", "type": "message", "author": {"role": "customer"}, "text": "Where is my parcel?"},
            {"at": "2026-03-02T09:01:00+01:00", "type": "message", "author": {"role": "system"}, "automated": "autoresponder", "text": "Hello, we got your mail"},
            {"at": "2026-03-02T10:00:00+01:00", "type": "message", "author": {"role": "agent", "id": "a1"}, "text": "Hi Jana, it ships today."},
        ],
    }
    data.update(changes)
    return data


@pytest.fixture
def policy(backend):
    loaded = servicerules.load(RULESET, backend=backend)
    yield loaded
    loaded.close()


def statuses(report):
    return {o.rule_id: o.status for o in report.outcomes}


def test_compliant_interaction(policy, backend):
    report = policy.evaluate(interaction())
    assert report.violations == []
    assert statuses(report) == {"greet": "compliant", "reply-time": "compliant", "card": "compliant", "big-order": "not_applicable"}
    assert report.compliant
    assert report.ruleset.backend == backend
    assert (report.ruleset.name, report.ruleset.version) == ("demo", "2.1")
    assert report.ruleset.hash.startswith("sha256:") and len(report.ruleset.hash) == 71


def test_autoresponder_does_not_count_as_the_reply(policy):
    data = interaction()
    data["events"][2]["text"] = "It ships today."  # no greeting in the personal reply
    report = policy.evaluate(data)
    assert [v.rule_id for v in report.violations] == ["greet"]
    violation = report.violations[0]
    assert violation.message == "No greeting for Jana Novak."
    assert violation.evidence.facts == {"has_personal_reply": True, "first_reply.text": "It ships today."}
    assert violation.actions[0].owner == "team_lead"
    assert violation.actions[0].due_at == dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # as_of (last event) + 2d


def test_unanswered_email_breaches_at_as_of_and_reply_rules_are_not_applicable(policy):
    data = interaction(events=interaction()["events"][:2])
    early = policy.evaluate(data, as_of=dt.datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    late = policy.evaluate(data, as_of=dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    assert statuses(early)["reply-time"] == "compliant"
    assert statuses(late)["reply-time"] == "violated"
    assert statuses(late)["greet"] == "not_applicable"
    assert late.violations[0].message == "Waited 6h."  # the first known of the two facts
    assert late.violations[0].evidence.facts["unanswered_for"] == 6 * 3600  # 08:00Z to 14:00Z


def test_as_of_defaults_to_the_last_timestamp_not_the_clock(policy):
    report = policy.evaluate(interaction())
    assert report.as_of == dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_event_scope_points_at_the_message_and_masks_the_card(policy):
    data = interaction()
    data["events"][0]["text"] = "Card 4111 1111 1111 1111 charged twice, order 1234567890123456"
    report = policy.evaluate(data)
    (violation,) = [v for v in report.violations if v.rule_id == "card"]
    assert violation.evidence.event_index == 0
    assert violation.evidence.at == dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert violation.evidence.excerpt == "Card 411111••••••1111 charged twice, order 1234567890123456"
    assert violation.message == "Card number in message 0."
    assert "4111 1111 1111 1111" not in report.to_json()


def test_locale_variants(policy):
    data = interaction(customer={"name": "Jana", "locale": "de-DE"})
    data["events"][2]["text"] = "Ihr Paket kommt heute."
    (violation,) = policy.evaluate(data).violations
    assert (violation.locale, violation.message) == ("de", "Keine Begrüßung für Jana.")
    (forced,) = policy.evaluate(data, locale="fr").violations
    assert (forced.locale, forced.message) == ("en", "No greeting for Jana.")


@pytest.mark.parametrize(
    "text, greeted",
    [
        ("Guten Tag Frau Müller", True),
        ("GUTEN TAG", True),
        ("Hej Mette, tak for din besked", True),
        ("नमस्ते राहुल जी, आपका ऑर्डर", True),
        ("Hinweis: Ihr Paket", False),  # "Hi" inside a word is not a greeting
        ("Chill, it ships", False),
    ],
)
def test_multilingual_greetings(policy, text, greeted):
    data = interaction()
    data["events"][2]["text"] = text
    assert statuses(policy.evaluate(data))["greet"] == ("compliant" if greeted else "violated")


def test_free_attributes_take_the_type_the_rule_uses(policy):
    big = policy.evaluate(interaction(attributes={"order": {"amount": 900}}))
    small = policy.evaluate(interaction(attributes={"order": {"amount": 20.5}}))
    text = policy.evaluate(interaction(attributes={"order": {"amount": "900"}}))
    assert statuses(big)["big-order"] == "violated"
    assert big.compliant  # mode: warn does not make the interaction non-compliant
    assert big.violations[0].mode.value == "warn"
    assert statuses(small)["big-order"] == "compliant"
    assert statuses(text)["big-order"] == "not_applicable"


def test_free_attributes_in_arithmetic_take_the_other_sides_type(backend):
    """A timestamp held in an attribute (a mapped export's 'date sent to company') minus the interaction's
    creation is a duration; a timestamp plus an attribute reads it as a duration (seconds)."""
    rules = """
ruleset: attributes
version: "1"
rules:
  - {id: slow, title: t, severity: minor, violated_if: interaction.attributes.sent_at - interaction.created_at > 2d}
  - {id: ago, title: t, severity: minor, violated_if: as_of - interaction.attributes.sent_at > 30d}
  - {id: grace, title: t, severity: minor, violated_if: interaction.created_at + interaction.attributes.grace > as_of}
"""
    loaded = servicerules.load(rules, backend=backend)
    try:
        as_of = dt.datetime(2026, 3, 5, tzinfo=UTC)
        late = loaded.evaluate(interaction(attributes={"sent_at": "2026-03-05T09:00:00+01:00", "grace": 7 * 86400}), as_of=as_of)
        early = loaded.evaluate(interaction(attributes={"sent_at": "2026-03-03T09:00:00+01:00", "grace": 60}), as_of=as_of)
        other = loaded.evaluate(interaction(attributes={"sent_at": 900, "grace": "soon"}), as_of=as_of)
    finally:
        loaded.close()
    assert statuses(late) == {"slow": "violated", "ago": "compliant", "grace": "violated"}
    assert statuses(early) == {"slow": "compliant", "ago": "compliant", "grace": "compliant"}
    assert statuses(other) == {"slow": "not_applicable", "ago": "not_applicable", "grace": "not_applicable"}


def test_a_free_attribute_coalesced_with_null_is_still_read_as_the_rule_uses_it(backend):
    """`x ?? null` is x: coalescing a free attribute with null does not take away the type the rule reads
    it as (it was a compile error, "a condition must be true or false, this is a any")."""
    rules = """
ruleset: coalesce
version: "1"
rules:
  - {id: vip, title: t, severity: minor, violated_if: "interaction.attributes.vip ?? null"}
  - {id: big, title: t, severity: minor, violated_if: "(null ?? interaction.attributes.amount) > 500"}
"""
    loaded = servicerules.load(rules, backend=backend)
    try:
        results = [
            statuses(loaded.evaluate(interaction(attributes=attributes)))
            for attributes in ({"vip": True, "amount": 900}, {"vip": False, "amount": 20}, {"vip": "yes", "amount": "900"}, {})
        ]
    finally:
        loaded.close()
    assert results == [
        {"vip": "violated", "big": "violated"},
        {"vip": "compliant", "big": "compliant"},
        {"vip": "not_applicable", "big": "not_applicable"},
        {"vip": "not_applicable", "big": "not_applicable"},
    ]


def test_numbers_beyond_a_float_and_non_finite_numbers_are_no_crash(backend):
    """A host's dict may hold any Python number: an int beyond a float's range compares exactly but is unknown
    in arithmetic with a decimal (it has no float), NaN and infinities are unknown, and a message shows an int
    too long to print as unknown. None of them raises (an OverflowError came out of evaluate())."""
    rules = """
ruleset: numbers
version: "1"
rules:
  - {id: big, title: t, severity: minor, violated_if: interaction.attributes.x > 5, message: "x is {interaction.attributes.x}"}
  - {id: half, title: t, severity: minor, violated_if: interaction.attributes.x + 0.5 > 5}
  - {id: late, title: t, severity: minor, violated_if: interaction.created_at + interaction.attributes.x > interaction.created_at}
"""
    loaded = servicerules.load(rules, backend=backend)
    try:
        huge, endless = loaded.evaluate(interaction(attributes={"x": 10**400})), loaded.evaluate(interaction(attributes={"x": 10**5000}))
        unknown = [loaded.evaluate(interaction(attributes={"x": x})) for x in (float("nan"), float("inf"), -float("inf"))]
    finally:
        loaded.close()
    assert statuses(huge) == {"big": "violated", "half": "not_applicable", "late": "not_applicable"}
    assert huge.violations[0].message == f"x is {10**400}" and endless.violations[0].message == "x is unknown"
    assert '"interaction.attributes.x":1' + "0" * 5000 + "}" in endless.to_json()  # JSON writes any int
    assert all(set(statuses(report).values()) == {"not_applicable"} for report in unknown)


def test_a_condition_with_very_many_alternatives_loads_and_matches(backend):
    """A condition whose disjunctive normal form has more alternatives than the Rete network takes (four
    clauses of eleven alternatives each: 14641) loads with either backend and gives the same outcomes; it
    loaded with the reference backend only, and durable_rules (the default) raised ValueError at load and
    in check, after lint had said the file was fine."""
    values = list(range(10))
    clauses = [f"(interaction.attributes.{n} in {values} or interaction.attributes.z{n} == 1)" for n in "abcd"]
    rules = f"""
ruleset: wide
version: "1"
rules:
  - id: wide
    title: t
    severity: minor
    when: {" and ".join(clauses)}
    violated_if: {" and ".join(clauses)}
  - id: when-wide
    title: t
    severity: minor
    when: {" and ".join(clauses)}
    violated_if: interaction.attributes.flag
slas:
  - id: sla-wide
    title: t
    metric: first_reply_time
    severity: major
    when: {" and ".join(clauses)}
    targets: {{"*": 4h}}
"""
    cases = [
        ({"a": 1, "b": 2, "c": 3, "d": 4, "flag": True}, "violated", "violated"),
        ({"a": 1, "b": 2, "c": 3, "zd": 1, "flag": False}, "violated", "compliant"),
        ({"a": 1, "b": 2, "c": 3, "d": 40, "zd": 2}, "not_applicable", "not_applicable"),
        ({"a": 1, "b": 2, "c": 3}, "not_applicable", "not_applicable"),
    ]
    loaded = servicerules.load(rules, backend=backend)
    try:
        results = [statuses(loaded.evaluate(interaction(attributes=attributes))) for attributes, _, _ in cases]
    finally:
        loaded.close()
    # answered within the hour: the SLA is met wherever its 'when' holds, and not applicable where 'wide' is
    sla = {"violated": "compliant", "not_applicable": "not_applicable"}
    assert results == [{"wide": wide, "when-wide": flag, "sla-wide": sla[wide]} for _, wide, flag in cases]


def test_a_ruleset_used_in_a_with_block_is_closed_at_its_end(backend):
    with servicerules.load(RULESET, backend=backend) as loaded:
        assert statuses(loaded.evaluate(interaction()))["greet"] == "compliant" and not loaded.closed
    assert loaded.closed
    with pytest.raises(servicerules.EvaluationError) as info:
        loaded.evaluate(interaction())
    assert info.value.codes == ["SR400"]


def test_interactions_are_isolated(policy):
    bad = interaction(id="A", attributes={"order": {"amount": 900}})
    good = interaction(id="B")
    alone = policy.evaluate(good)
    policy.evaluate(bad)
    assert policy.evaluate(good) == alone


def test_evaluate_many_matches_evaluate_and_keeps_rejections_in_place(policy):
    items = [interaction(id=f"T-{i}", attributes={"order": {"amount": i * 100}}) for i in range(7)]
    items.insert(3, {"id": "broken"})
    results = list(policy.evaluate_many(items, errors="collect", batch_size=3))
    assert len(results) == 8
    assert isinstance(results[3], Rejection) and results[3].index == 3
    assert results[3].error.codes[0] == "SR111"
    expected = [policy.evaluate(i) for i in items[:3] + items[4:]]
    assert [r for r in results if not isinstance(r, Rejection)] == expected
    with pytest.raises(InteractionError):
        list(policy.evaluate_many(items))


@pytest.mark.parametrize("errors", ["raise", "collect"])
def test_when_the_input_fails_the_interactions_read_before_it_are_still_yielded(policy, errors):
    """A source that fails part-way (a database cursor whose connection drops): the records it gave before
    were consumed, so their reports must come out before the source's exception, not be dropped with the
    batch they were waiting in."""
    items = [interaction(id=f"T-{i}", attributes={"order": {"amount": i * 97}}) for i in range(45)]
    items[3]["created_at"] = "2026-03-02T09:00:00"  # invalid: a Rejection with errors="collect"
    read: list[dict] = []

    def rows():
        for item in items[:40]:
            read.append(item)
            yield item
        raise ConnectionError("the database went away")

    got = []
    with pytest.raises((ConnectionError, InteractionError)) as info:
        for result in policy.evaluate_many(rows(), errors=errors, batch_size=16):
            got.append(result)
    expected = list(policy.evaluate_many(read, errors="collect"))
    if errors == "raise":  # the invalid record raises first, after the reports before it
        assert info.type is InteractionError and got == expected[:3]
    else:
        assert info.type is ConnectionError and len(read) == 40
        assert [r.error.codes if isinstance(r, Rejection) else r for r in got] == [
            r.error.codes if isinstance(r, Rejection) else r for r in expected
        ]


@pytest.mark.parametrize("batch_size", [1, 16, 32, 64])
def test_when_the_input_fails_every_report_before_it_comes_first(policy, batch_size):
    items = [interaction(id=f"T-{i}", attributes={"order": {"amount": i * 97}}) for i in range(40)]

    def rows():
        yield from items
        raise ConnectionError("the database went away")

    got = []
    with pytest.raises(ConnectionError):
        for result in policy.evaluate_many(rows(), batch_size=batch_size):
            got.append(result)
    assert got == [policy.evaluate(item) for item in items]
    got = []
    with pytest.raises(ConnectionError):
        for verdicts in policy.verdicts_many(rows(), batch_size=batch_size):
            got.append(verdicts)
    assert got == list(policy.verdicts_many(items))


def _failing_for(interaction_id, real):
    """``real``, raising for the interaction ``interaction_id``: a bug that only some data reaches."""

    def wrapper(ctx_or_placeholder, *args):
        ctx = args[0].ctx if args else ctx_or_placeholder  # measures get the context; _display_first a reader
        if ctx.interaction.id == interaction_id:
            raise ZeroDivisionError("a bug")
        return real(ctx_or_placeholder, *args)

    return wrapper


def test_an_interaction_whose_measures_raise_is_rejected_alone(policy, monkeypatch):
    from servicerules.measures import privacy

    monkeypatch.setattr(privacy, "_Texts", _failing_for("boom", privacy._Texts))
    items = [interaction(id="A"), interaction(id="boom"), interaction(id="C", events=[])]
    expected = [policy.evaluate(items[0]), policy.evaluate(items[2])]
    for many in (policy.evaluate_many, policy.verdicts_many):
        results = list(many(items, errors="collect", batch_size=2))
        assert [r.index for r in results if isinstance(r, Rejection)] == [1]
        (diagnostic,) = results[1].error.diagnostics
        assert diagnostic.code == "SR402"
        assert re.fullmatch(
            r"this interaction could not be evaluated: ZeroDivisionError: a bug \(at test_evaluate\.py:\d+ in wrapper\)",
            diagnostic.message,
        )
        assert "report it" in diagnostic.hint
        assert [r.interaction_id for r in (results[0], results[2])] == ["A", "C"]
    assert [results[0].statuses, results[2].statuses] == [
        {i: o.status for i, o in enumerate(r.outcomes) if o.status != "not_applicable"} for r in expected
    ]
    with pytest.raises(ZeroDivisionError):
        list(policy.evaluate_many(items))
    with pytest.raises(ZeroDivisionError):
        policy.evaluate(items[1])


def test_an_interaction_the_backend_cannot_match_is_rejected_alone(policy, monkeypatch):
    # A value the matching backend refuses (a NaN reached durable_rules that way) failed the whole batch.
    real = policy._backend.match_many

    def refusing(batches):
        if any(facts[0].get(key) == "chat" for facts in batches for key in facts[0]):
            raise ValueError("fact key 'f1': cannot be matched")
        return real(batches)

    monkeypatch.setattr(policy._backend, "match_many", refusing)
    items = [interaction(id="A"), interaction(id="boom", channel="chat"), interaction(id="C", events=[])]
    for many in (policy.evaluate_many, policy.verdicts_many):
        results = list(many(items, errors="collect", batch_size=3))
        assert [isinstance(r, Rejection) for r in results] == [False, True, False]
        assert [results[0].interaction_id, results[2].interaction_id] == ["A", "C"]
        assert results[1].index == 1 and results[1].error.codes == ["SR402"]
        assert "ValueError: fact key 'f1': cannot be matched" in results[1].error.diagnostics[0].message
    with pytest.raises(ValueError):
        list(policy.evaluate_many(items, batch_size=3))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_free_attribute_that_is_nan_or_infinite_is_null(backend, value):
    # json.loads reads NaN and 1e999; no JSON number is either. The durable backend raised on them, and the
    # reference backend compared them (inf > 500 was a violation).
    rules = RULESET + """  - id: rated
    title: Rated
    severity: minor
    violated_if: interaction.attributes.csat == null
"""
    loaded = servicerules.load(rules, backend=backend)
    record = interaction(attributes={"order": {"amount": value}, "csat": value})
    for given in (record, json.dumps(record)):  # a dict, and JSON text with NaN / Infinity
        report = loaded.evaluate(given)
        assert "big-order" not in report.violated_rules()
        (rated,) = [v for v in report.violations if v.rule_id == "rated"]
        assert rated.evidence.facts == {"interaction.attributes.csat": None}
    loaded.close()


def test_times_too_close_to_the_year_9999_reject_the_interaction_and_say_so():
    charter = servicerules.load(Path(__file__).resolve().parents[2] / "rulesets" / "charter.yaml", backend="reference")
    late = "9999-12-31T22:00:00+00:00"
    record = {"id": "Y", "channel": "email", "created_at": late,
              "events": [{"at": late, "type": "message", "author": {"role": "customer"}, "text": "Hello"}]}
    as_of = dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone.utc)
    (result,) = charter.evaluate_many([record], as_of=as_of, errors="collect")
    assert isinstance(result, Rejection)
    (diagnostic,) = result.error.diagnostics
    assert diagnostic.code == "SR402" and diagnostic.hint == "check the record's timestamps and as_of"
    assert diagnostic.message.startswith(
        "this interaction could not be evaluated: a time of the record, or as_of, is too close to the year 1 or 9999 "
        "to compute with (DateOutOfRange: calendar 'support-hours': 9999-12 is outside the supported date range)"
    )
    # evaluate() and errors="raise" raise the same InteractionError (they raised the calendar's DateOutOfRange),
    # the latter after the reports of the interactions before it
    with pytest.raises(InteractionError) as info:
        charter.evaluate(record, as_of=as_of)
    assert info.value.diagnostics == result.error.diagnostics
    yielded = []
    with pytest.raises(InteractionError, match="SR402"):
        for report in charter.evaluate_many([interaction(id="A"), record, interaction(id="B")], as_of=as_of):
            yielded.append(report.interaction_id)
    assert yielded == ["A"]
    with pytest.raises(InteractionError, match="SR402"):
        charter.evaluate(interaction(events=interaction()["events"][:1]), as_of=dt.datetime.max.replace(tzinfo=dt.timezone.utc))


def test_an_interaction_whose_report_cannot_be_built_is_rejected_alone(policy, monkeypatch):
    from servicerules import engine

    monkeypatch.setattr(engine, "_display_first", _failing_for("boom", engine._display_first))
    ungreeted = interaction()
    ungreeted["events"][2]["text"] = "It ships today."  # the greet rule's message names the customer
    items = [dict(ungreeted, id="A"), dict(ungreeted, id="boom")]
    results = list(policy.evaluate_many(items, errors="collect"))
    assert results[0] == policy.evaluate(items[0]) and results[0].violations
    assert isinstance(results[1], Rejection) and results[1].error.codes == ["SR402"]
    assert "in wrapper" in results[1].error.diagnostics[0].message


def test_a_naive_as_of_is_the_callers_error_not_each_records(policy):
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        list(policy.evaluate_many([interaction()] * 3, as_of=dt.datetime(2026, 3, 3), errors="collect"))


def test_the_callers_mistakes_are_raised_at_the_call_and_say_what_to_pass(policy):
    # They raised AttributeError from deep inside, or (one dict to evaluate_many) yielded a rejection per key.
    with pytest.raises(TypeError, match="as_of must be a timezone-aware datetime, not str"):
        policy.evaluate(interaction(), as_of="2026-03-03T00:00:00Z")
    with pytest.raises(TypeError, match="as_of must be a timezone-aware datetime, not date"):
        policy.verdicts_many([interaction()], as_of=dt.date(2026, 3, 3))
    with pytest.raises(TypeError, match="locale must be a str"):
        policy.evaluate(interaction(), locale=7)
    for one in (interaction(), json.dumps(interaction()), servicerules.Interaction.parse(interaction())):
        with pytest.raises(TypeError, match=r"interactions must be an iterable of interactions, not one \w+: pass \[interaction\]"):
            policy.evaluate_many(one, errors="collect")
    with pytest.raises(ValueError, match="errors must be 'raise' or 'collect', not 'skip'"):
        policy.evaluate_many([interaction()], errors="skip")
    # batch_size=None (check_records' "the default") raised a TypeError at the first record, from inside
    for many in (policy.evaluate_many, policy.verdicts_many):
        for size in (None, "8", 2.5, True):
            with pytest.raises(TypeError, match=r"batch_size must be a positive int"):
                many([interaction()], batch_size=size)
        for size in (0, -3):
            with pytest.raises(ValueError, match=r"batch_size must be a positive int"):
                many([interaction()], batch_size=size)
    with pytest.raises(TypeError, match=r"a ruleset is a path \(str or pathlib.Path\) or its YAML text \(str\) \(decode bytes first\), not bytes"):
        servicerules.load(RULESET.encode())


class _NoOffset(dt.tzinfo):
    """A tzinfo that knows no offset (as a zone database lookup that failed can give): the datetime stays naive."""

    def utcoffset(self, moment: dt.datetime | None) -> None:
        return None

    def dst(self, moment: dt.datetime | None) -> None:
        return None


def test_an_as_of_whose_zone_has_no_offset_is_naive(policy):
    # Its tzinfo is set, but Python counts it as naive: evaluate raised "TypeError: can't compare offset-naive
    # and offset-aware datetimes" from inside evaluation, and evaluate_many(errors="collect") rejected every record
    as_of = dt.datetime(2026, 3, 3, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        policy.evaluate(interaction(), as_of=as_of)
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        policy.evaluate_many([interaction()], as_of=as_of, errors="collect")
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        policy.target_contributions(interaction(), as_of=as_of)


def test_what_is_not_iterable_is_refused_at_the_call(policy):
    # evaluate_many(None) returned a generator that raised "'NoneType' object is not iterable" when first read
    for many in (policy.evaluate_many, policy.verdicts_many):
        for value in (None, 7):
            with pytest.raises(TypeError, match=f"interactions must be an iterable of interactions, not {type(value).__name__}"):
                many(value)


@pytest.mark.parametrize("name", ["starter", "charter"])
def test_verdicts_many_say_what_the_reports_say(name):
    policy = servicerules.load(ROOT / "rulesets" / f"{name}.yaml")
    items = [json.loads(line) for line in (ROOT / "examples" / "interactions.jsonl").read_text().splitlines()]
    items.insert(5, {"id": "broken"})
    reports = list(policy.evaluate_many(items, errors="collect", batch_size=7))
    verdicts = list(policy.verdicts_many(items, errors="collect", batch_size=7))
    assert isinstance(verdicts[5], Rejection) and verdicts[5].index == 5
    assert sum(bool(r.violations) for r in reports if not isinstance(r, Rejection)) > 10
    for report, verdict in zip(reports, verdicts):
        if isinstance(report, Rejection):
            assert isinstance(verdict, Rejection)
            continue
        assert verdict.interaction_id == report.interaction_id
        applied = {i: o.status for i, o in enumerate(report.outcomes) if o.status != "not_applicable"}
        assert verdict.statuses == applied
        ids = [policy.rules[i].spec.id for i, found in verdict.violations.items() for _ in found]
        assert ids == [v.rule_id for v in report.violations]  # in the report's order, one per violation
        # where each was found: an event rule's at its event (the evidence says so too), an interaction
        # rule's on the interaction (its evidence may point at an event its facts are about)
        event_rules = {rule.spec.id for rule in policy.rules if rule.scope is Scope.EVENT}
        found = [e for i, events in verdict.violations.items() if policy.rules[i].spec.id in event_rules for e in events]
        assert found == [v.evidence.event_index for v in report.violations if v.rule_id in event_rules]
        assert all(e is None for i, events in verdict.violations.items() if policy.rules[i].spec.id not in event_rules for e in events)


def test_pickled_ruleset_recompiles_and_agrees(policy):
    clone = pickle.loads(pickle.dumps(policy))
    data = interaction(attributes={"order": {"amount": 900}})
    assert clone.backend == policy.backend
    assert clone.evaluate(data) == policy.evaluate(data)


def test_errors_and_rejections_survive_pickling(policy):
    """A process pool sends a worker's exception back pickled: an InteractionError that could not be
    unpickled broke the whole pool (BrokenProcessPool) for one invalid record."""
    with pytest.raises(InteractionError) as info:
        policy.evaluate({"id": "x", "channel": "email", "created_at": "2026-03-02T09:00:00"})
    (rejection,) = policy.evaluate_many([{"id": "x", "channel": "email", "created_at": "2026-03-02T09:00:00"}], errors="collect")
    with pytest.raises(servicerules.RulesetError) as bad_ruleset:
        servicerules.load("ruleset: demo\nversion: 1\nrules: 3\n")
    for error in (info.value, rejection.error, bad_ruleset.value, servicerules.EvaluationError([servicerules.Diagnostic("SR400", "x")])):
        clone = pickle.loads(pickle.dumps(error))
        assert type(clone) is type(error)
        assert clone.diagnostics == error.diagnostics
        assert str(clone) == str(error)
    clone = pickle.loads(pickle.dumps(rejection))
    assert (clone.index, clone.error.diagnostics) == (rejection.index, rejection.error.diagnostics)


def test_two_versions_side_by_side(backend):
    strict = servicerules.load(RULESET.replace("> 4h", "> 30m").replace('"2.1"', '"2.2"'), backend=backend)
    lenient = servicerules.load(RULESET, backend=backend)
    data = interaction()
    assert statuses(strict.evaluate(data))["reply-time"] == "violated"
    assert statuses(lenient.evaluate(data))["reply-time"] == "compliant"
    assert strict.evaluate(data).ruleset.version == "2.2"


def test_thread_safe_evaluation(policy):
    items = [interaction(id=f"T-{i}", attributes={"order": {"amount": i * 37}}) for i in range(60)]
    for i, item in enumerate(items):
        if i % 3 == 0:
            item["events"][2]["text"] = "no greeting 4111 1111 1111 1111"
    expected = [policy.evaluate(i) for i in items]
    results: dict[int, list] = {}

    def work(n: int) -> None:
        results[n] = [policy.evaluate(i) for i in items]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n] == expected for n in range(8))


def test_report_json_round_trips_and_is_deterministic(policy):
    data = interaction(attributes={"order": {"amount": 900}})
    data["events"][0]["text"] = "4111-1111-1111-1111"
    first = policy.evaluate(data).to_json()
    again = policy.evaluate(copy.deepcopy(data)).to_json()
    assert first == again
    parsed = json.loads(first)
    assert list(parsed) == ["schema_version", "interaction_id", "as_of", "ruleset", "violations", "outcomes", "slas"]
    assert [v["rule_id"] for v in parsed["violations"]] == ["card", "big-order"]
    assert servicerules.Report.model_validate_json(first).to_json() == first


def test_invalid_interaction_raises_with_reason(policy):
    with pytest.raises(InteractionError) as info:
        policy.evaluate({"id": "x", "channel": "email", "created_at": "2026-03-02T09:00:00"})
    assert info.value.codes == ["SR311"]


def test_reports_built_without_revalidation_equal_validated_ones(policy):
    data = interaction(attributes={"order": {"amount": 900}})
    data["events"][0]["text"] = "card 4111 1111 1111 1111"
    data["events"][2]["text"] = "Sorted."
    report = policy.evaluate(data)
    assert len(report.violations) == 3
    revalidated = servicerules.Report.model_validate_json(report.to_json())
    assert revalidated == report
    assert revalidated.to_json() == report.to_json()


def test_recommended_actions_are_due_in_the_zone_of_each_interactions_as_of(policy):
    # The same interaction written in two zones: the same instants. Reports share cached actions per as_of,
    # and aware datetimes of one instant are equal whatever their zones; due_at must keep each one's zone.
    def ungreeted(zone):
        data = interaction()
        shift = lambda text: dt.datetime.fromisoformat(text).astimezone(zone).isoformat()
        for event in data["events"]:
            event["at"] = shift(event["at"])
        data["created_at"] = shift(data["created_at"])
        data["events"][2]["text"] = "It ships today."
        return data

    berlin, kolkata = dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=5, minutes=30))
    first, second = (policy.evaluate(ungreeted(zone)) for zone in (berlin, kolkata))
    assert first.as_of == second.as_of  # one instant
    due = [r.violations[0].actions[0].due_at for r in (first, second)]
    assert [d.isoformat() for d in due] == ["2026-03-04T10:00:00+01:00", "2026-03-04T14:30:00+05:30"]
    assert json.loads(second.to_json())["violations"][0]["actions"][0]["due_at"] == "2026-03-04T14:30:00+05:30"


def test_recommended_actions_are_due_in_real_time_across_a_change_of_daylight_saving_time(policy):
    # Berlin moves its clocks from 02:00 to 03:00 on 2026-03-29: two days (the coach action's due_in) after
    # noon on the 28th is 13:00 on the 30th by the clock, not 12:00.
    data = interaction()
    data["events"][2]["text"] = "It ships today."
    berlin = ZoneInfo("Europe/Berlin")
    (action,) = policy.evaluate(data, as_of=dt.datetime(2026, 3, 28, 12, tzinfo=berlin)).violations[0].actions
    assert action.due_in == 2 * 86400
    assert action.due_at.isoformat() == "2026-03-30T13:00:00+02:00"
    assert action.due_at.tzinfo is berlin


def test_report_caches_stay_bounded_whatever_the_locales_and_times(policy):
    from servicerules.engine import _CACHE_LIMIT

    data = interaction()
    data["events"][2]["text"] = "It ships today."
    for k in range(_CACHE_LIMIT + 50):
        data["customer"]["locale"] = f"x{k}"
        policy.evaluate(data, as_of=dt.datetime(2026, 3, 3, tzinfo=UTC) + dt.timedelta(seconds=k))
    assert 0 < len(policy._templates) <= _CACHE_LIMIT
    assert 0 < len(policy._actions) <= _CACHE_LIMIT


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1e23, "100000000000000000000000"), (2.5e16, "25000000000000000"), (1234.5, "1234.5"), (3.0, "3"),
     (math.nan, "unknown"), (math.inf, "unknown"), (10**30, str(10**30))],
)
def test_a_number_in_a_message_is_written_as_its_decimal(value, shown):
    # 1e23 was written as the binary float's digits, 99999999999999991611392, and a NaN as "nan"
    rules = 'ruleset: x\nversion: "1"\nrules:\n  - id: r\n    title: R\n    severity: minor\n' \
            '    violated_if: interaction.attributes.a > 0 or interaction.attributes.a == null\n' \
            '    message: "a is {interaction.attributes.a}"\n'
    loaded = servicerules.load(rules, backend="reference")
    report = loaded.evaluate({"id": "A", "channel": "email", "created_at": "2026-03-02T09:00:00Z", "attributes": {"a": value}})
    assert [v.message for v in report.violations] == [f"a is {shown}"]
    loaded.close()
