"""Exact error text for bad rulesets: what a policy author reads."""

from __future__ import annotations

import textwrap

import pytest

import servicerules
from servicerules.errors import RulesetError

HEADER = """\
ruleset: demo
version: "1"
lexicons:
  greeting:
    phrases:
      en: [hello]
actions:
  coach:
    title: Coach
rules:
"""


def errors_of(rules_yaml: str) -> RulesetError:
    text = HEADER + textwrap.indent(textwrap.dedent(rules_yaml), "  ")
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    return info.value


def rule(violated_if: str, *, when: str | None = None, scope: str = "interaction", extra: str = "") -> str:
    lines = ["- id: r1", "  title: t", "  severity: minor", f"  scope: {scope}"]
    if when is not None:
        lines.append(f"  when: {when}")
    lines.append(f"  violated_if: {violated_if}")
    return "\n".join(lines) + "\n" + extra


def test_unknown_fact_with_suggestion_exact_text():
    err = errors_of(rule("first_reply_tme > 4h"))
    assert err.render() == (
        "<string>:15:18: SR201 unknown fact 'first_reply_tme'\n"
        "        violated_if: first_reply_tme > 4h\n"
        "                     ^\n"
        "    hint: did you mean 'first_reply_time'?"
    )


def test_duration_compared_with_plain_number_exact_text():
    err = errors_of(rule("first_reply_time > 14400"))
    assert err.render() == (
        "<string>:15:35: SR202 cannot compare duration with number\n"
        "        violated_if: first_reply_time > 14400\n"
        "                                      ^\n"
        "    hint: write durations with a unit: 4h, 30m, 2d (not a plain number)"
    )


def test_unknown_lexicon_exact_text():
    err = errors_of(rule("first_reply.text mentions greetng"))
    assert err.render() == (
        "<string>:15:44: SR203 unknown lexicon 'greetng'\n"
        "        violated_if: first_reply.text mentions greetng\n"
        "                                               ^\n"
        "    hint: did you mean 'greeting'?"
    )


def test_single_equals_is_a_syntax_error_pointing_at_it():
    err = errors_of(rule("interaction.channel = 'email'"))
    (diag,) = err.diagnostics
    assert (diag.code, diag.location.line, diag.location.col) == ("SR200", 15, 38)
    assert diag.message == "unexpected character '='"
    assert diag.hint == "use == for comparison"


def test_event_fact_in_interaction_rule():
    err = errors_of(rule("event.text mentions greeting"))
    (diag,) = err.diagnostics
    assert diag.code == "SR209"
    assert diag.message == "'event.text' is an event fact, but this rule has scope: interaction"
    assert diag.hint == "add 'scope: event' to the rule to check each event"


def test_event_fact_in_an_sla_or_a_target_names_them_not_a_rule():
    text = """
ruleset: demo
version: "1"
slas:
  - {id: s, title: S, metric: first_reply_time, when: event.has_card_number, targets: {"*": 1h}}
targets:
  - {id: t, title: T, kind: share, condition: event.has_cvv, objective: 0.5}
"""
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    err = info.value
    assert [(d.code, d.location.line, d.message) for d in err.diagnostics] == [
        ("SR209", 5, "'event.has_card_number' is an event fact, but SLAs read the interaction as a whole"),
        ("SR209", 7, "'event.has_cvv' is an event fact, but targets read the interaction as a whole"),
    ]
    assert all("interaction fact" in (d.hint or "") for d in err.diagnostics)


def test_unknown_action_and_bad_template_and_unknown_field_are_all_reported_sorted():
    err = errors_of(
        rule(
            "first_reply_time > 4h",
            extra="  actions: [coach, coachh]\n  message: 'Hi {customer.nme}'\n  mesage: typo\n",
        )
    )
    assert [(d.code, d.location.line, d.location.col) for d in err.diagnostics] == [
        ("SR204", 16, 22),
        ("SR208", 17, 19),
        ("SR110", 18, 5),
    ]
    messages = {d.code: (d.message, d.hint) for d in err.diagnostics}
    assert messages["SR204"] == ("unknown action 'coachh'", "did you mean 'coach'?")
    assert messages["SR208"] == ("message names unknown fact 'customer.nme'", "did you mean 'customer.name'?")
    assert messages["SR110"] == ("unknown field 'mesage'", "did you mean 'message'?")


def test_schema_errors_and_expression_errors_of_other_rules_come_together():
    err = errors_of(
        "- id: a\n  title: t\n  severity: urgent\n  violated_if: x\n"
        "- id: b\n  title: t\n  severity: minor\n  violated_if: first_reply_tme > 1h\n"
    )
    assert [(d.code, d.location.line) for d in err.diagnostics] == [("SR112", 13), ("SR201", 18)]
    assert err.diagnostics[0].message == (
        "invalid value 'urgent' for 'severity': input should be 'info', 'minor', 'major' or 'critical'"
    )


def test_a_pattern_in_a_message_keeps_its_case():
    # the pattern is what to write: lower-casing it ('^[a-za-z]…') would forbid capitals the name may have
    err = errors_of("- id: 1st-reply\n  title: t\n  severity: minor\n  violated_if: has_personal_reply\n")
    (diag,) = err.diagnostics
    assert (diag.code, diag.message) == (
        "SR112", "invalid value '1st-reply' for 'id': string should match pattern '^[A-Za-z][A-Za-z0-9_.\\-]*$'",
    )


def test_a_bad_lexicon_name_is_reported_at_the_name_with_a_usable_one():
    source = (
        "ruleset: x\nversion: '1'\nlexicons:\n  my-lex:\n    phrases: {en: [hello]}\n"
        "rules:\n  - id: r\n    title: t\n    severity: minor\n    violated_if: false\n"
    )
    with pytest.raises(RulesetError) as info:
        servicerules.load(source, backend="reference")
    (diag,) = info.value.diagnostics
    assert diag.location is not None
    assert (diag.code, diag.message, diag.location.line, diag.location.col) == (
        "SR112", "invalid name 'my-lex' in 'lexicons': string should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'", 4, 3,
    )
    assert diag.hint is not None and diag.hint.endswith(": 'my_lex'")


def test_missing_required_field_names_the_rule():
    err = errors_of("- id: a\n  title: t\n  severity: minor\n")
    (diag,) = err.diagnostics
    assert (diag.code, diag.message, diag.location.line, diag.location.col) == (
        "SR111", "missing required field 'violated_if' in rules[0]", 11, 5,
    )


def test_duplicate_rule_id():
    err = errors_of(rule("first_reply_time > 1h") + rule("first_reply_time > 2h"))
    (diag,) = err.diagnostics
    assert diag.code == "SR113"
    assert diag.message == "duplicate id 'r1' (first used at line 11)"
    assert diag.location.line == 16


@pytest.mark.parametrize(
    "condition, code, message",
    [
        ("customer.tier > 'gold'", "SR202", "'>' cannot order string values"),
        ("first_reply_time", "SR202", "a condition must be true or false, this is a duration"),
        ("has_personal_reply and 3", "SR202", "'and' needs true/false operands, found a number"),
        ("interaction.channel in 'email'", "SR202", "'in' needs a list such as [\"email\", \"chat\"] on its right"),
        ("interaction.channel in [1, 2]", "SR202", "cannot look for a string in a list of number values"),
        ("first_reply.text matches '(unclosed'", "SR206", "invalid regular expression: missing ) at position 9"),
        ("size(first_reply.text) > 3", "SR207", "unknown function 'size'"),
        ("exists(first_reply.text, 1)", "SR207", "exists() takes exactly one argument"),
        ("first_reply_time + 5 > 1h", "SR202", "cannot apply '+' to duration and number"),
        ("interaction.attributes.x * interaction.created_at > 5", "SR202", "cannot apply '*' to number and timestamp"),
        ("greeting", "SR202", "'greeting' is a lexicon, not a fact"),
        ("interaction.created_at > 'yesterday'", "SR202", "cannot compare timestamp with string"),
    ],
)
def test_type_errors(condition, code, message):
    err = errors_of(rule(f'"{condition}"' if "'" not in condition else condition))
    (diag,) = err.diagnostics
    assert (diag.code, diag.message) == (code, message)


@pytest.mark.parametrize(
    "condition, at",
    [
        ("interaction.attributes.a < 1 / 0", "1 / 0"),
        ("interaction.attributes.a in [2, 1 / 0]", "1 / 0"),
        ("(interaction.attributes.a ?? 1 / 0) > 3", "1 / 0"),
        ("1 / 0 == 2", "1 / 0"),
        ("first_reply_time > 1w / (2 - 2)", "1w"),
        ("interaction.attributes.a < 1e308 * 10", "1e308"),
        ("first_reply_time > 1e308 * 1w", "1e308"),
        ("interaction.attributes.a > -(1e300 * 1e300)", "(1e300"),
    ],
)
def test_a_constant_without_a_value_is_an_error_at_it(condition, at):
    # division by zero or a result beyond a number's range: neither backend can compare a fact with it (and
    # an unknown constant would make the rule silently compliant or not applicable for every interaction)
    err = errors_of(rule(f'"{condition}"'))
    (diag,) = err.diagnostics
    assert diag.code == "SR200"
    assert diag.message == "this constant has no value: it divides by zero or is beyond a number's range"
    line = diag.source_line
    assert (diag.location.line, diag.location.col) == (15, line.index(condition) + condition.index(at) + 1)


DURATION_FIELDS = {
    "catalogue due_in": "actions:\n  call:\n    title: Call\n    due_in: {d}\n",
    "rule's due_in": "actions:\n  call: {{title: Call}}\nrules:\n  - {{id: r, title: t, severity: minor, violated_if: 'true', actions: [{{id: call, due_in: {d}}}]}}\n",
    "SLA target": "slas:\n  - {{id: s, title: t, metric: first_reply_time, targets: {{'*': {d}}}}}\n",
    "refund window": "refunds:\n  windows: {{'*': {d}}}\n",
    "procedure within": "procedures:\n  - {{action: refund_issued, requires: [identity_verified], within: {d}}}\n",
}


@pytest.mark.parametrize("field", DURATION_FIELDS)
@pytest.mark.parametrize("duration", [".inf", ".nan", "1.0e+20", "100000000w", "36526d", "3155760001"])
def test_a_duration_that_is_not_finite_or_beyond_100_years_is_an_error(field, duration):
    # .inf and .nan were taken, and evaluate() raised OverflowError or ValueError on every interaction; a huge
    # one rejected every interaction (SR402, blaming the record's times) after up to a minute of work
    text = 'ruleset: demo\nversion: "1"\n' + DURATION_FIELDS[field].format(d=duration)
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    (diag,) = info.value.diagnostics
    assert diag.code == "SR112"
    assert "a duration must be finite and at most 100 years (36525d)" in diag.message
    assert diag.location.line == text.count("\n")
    # 100 years itself is allowed
    servicerules.load(text.replace(duration, "36525d"), backend="reference").close()


@pytest.mark.parametrize("hours", ["{}", "{mon: [], sat: []}"])
def test_a_calendar_without_business_hours_is_an_error(hours):
    # an SLA on it never accrues business time: evaluate() raised ValueError on every interaction
    text = (
        'ruleset: demo\nversion: "1"\ncalendars:\n  closed:\n    timezone: UTC\n'
        f"    hours: {hours}\n"
        "slas:\n  - {id: s, title: t, metric: first_reply_time, calendar: closed, targets: {'*': 4h}}\n"
    )
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.location.line, diag.location.col) == ("SR112", 6, 12)
    assert diag.message == "calendar 'closed' has no business hours, so it never accrues business time"
    assert diag.hint == "give at least one day's hours, e.g. mon: ['09:00-17:00']"


@pytest.mark.parametrize("phrase", ['""', '"*"', '"   "', '" * "'])
def test_an_empty_lexicon_phrase_is_an_error_at_it(phrase):
    # it was dropped without a word: a lexicon of nothing but such phrases never matched
    text = (
        'ruleset: demo\nversion: "1"\nlexicons:\n  thanks:\n    phrases:\n'
        f"      en: [thanks, {phrase}]\n"
        "rules:\n  - {id: r, title: t, severity: minor, violated_if: 'not (last_reply.text mentions thanks)'}\n"
    )
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.location.line, diag.location.col) == ("SR112", 6, 20)
    assert diag.message == "lexicon 'thanks' has an empty phrase"
    assert diag.hint == "a phrase needs at least one word; remove it"


def test_a_free_attribute_in_arithmetic_is_named_in_the_hint():
    err = errors_of(rule('"interaction.attributes.x * interaction.created_at > 5"'))
    (diag,) = err.diagnostics
    assert diag.hint == (
        "'interaction.attributes.x' is a free attribute, read here as a number: in '+' and '-' an attribute "
        "takes the other side's type, elsewhere it is a number"
    )
    # a timestamp attribute minus a timestamp, or a timestamp minus one, is a duration
    for condition in ("interaction.attributes.sent - interaction.created_at > 2d", "as_of - interaction.attributes.sent > 2d"):
        assert servicerules.load(HEADER + textwrap.indent(rule(condition), "  "), backend="reference").rules[0].spec.id == "r1"


def test_lint_reports_every_problem_of_a_file(tmp_path):
    from io import StringIO

    from servicerules.cli import run

    path = tmp_path / "bad.yaml"
    path.write_text(HEADER + "  - id: r1\n    title: t\n    severity: minor\n    violated_if: first_reply_tme > 4h\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    assert run(["lint", str(path)], out, err) == 2
    assert out.getvalue() == (
        f"{path}:14:18: SR201 unknown fact 'first_reply_tme'\n"
        "        violated_if: first_reply_tme > 4h\n"
        "                     ^\n"
        "    hint: did you mean 'first_reply_time'?\n"
        "1 error\n"
    )


@pytest.mark.parametrize("key", ["bool", "a[b"])
def test_unknown_top_level_key_named_like_a_pydantic_branch(key):
    with pytest.raises(RulesetError) as info:
        servicerules.load(f'ruleset: demo\nversion: "1"\n"{key}": 1\n', backend="reference")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.message, diag.location.line) == ("SR110", f"unknown field '{key}'", 3)
