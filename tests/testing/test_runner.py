"""The policy-test runner: results, exact failure explanations, positioned errors, coverage, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import servicerules.testing._runner as runner_module
from servicerules.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

pytestmark = pytest.mark.filterwarnings("error")

HEAD = """\
ruleset: starter.yaml
defaults: {as_of: "2026-03-02T18:00:00Z", channel: email, created_at: "2026-03-01T09:00:00+01:00"}
cases:
"""

LATE_EMAIL = """\
  - note: late e-mail
    interaction:
      customer: {name: Jana}
      events:
        - {at: "+0m", from: customer, text: "Where is my parcel?"}
        - {at: "+30h", from: agent, text: "It ships today."}
"""


def failures(run) -> list[str]:
    return [f.message for c in run.cases for f in c.failures]


def rendered(run) -> list[str]:
    return [d.render() for d in run.errors]


# -- the shipped example ---------------------------------------------------------------------------------


def test_the_starter_fixture_passes_on_every_backend(backend):
    run = run_tests([FIXTURES], backend=backend)
    assert (run.passed, run.failed, run.errors, run.exit_code()) == (11, 0, [], 0)
    assert run.summary() == "11 passed, 0 failed"
    (file,) = run.files
    assert (file.path, file.ruleset, file.ruleset_name) == (str(FIXTURES / "starter.test.yaml"), str(ROOT / "rulesets" / "starter.yaml"), "starter")
    first = file.cases[0]
    assert (first.name, first.line, first.interaction_id) == ("an e-mail answered after 30 hours breaches the first-reply target", 13, "case-1")
    assert file.cases[9].interaction_id == "EM-CARD-1"  # from cases/card-number.json
    (coverage,) = run.coverage
    assert (coverage.name, coverage.covered, coverage.total, coverage.percent, coverage.cases) == ("starter", 14, 14, 100.0, 11)


# -- failures --------------------------------------------------------------------------------------------


def test_each_kind_of_difference_is_explained_in_one_line(write):
    write("x.test.yaml", HEAD + LATE_EMAIL + """\
    expect:
      violations:
        - {rule: reply.email-first-reply, severity: critical, message_contains: "waited 2d"}
        - reply.chat-first-reply
        - reply.autoresponder-only
      absent: [protocol.greeting]
      compliant: [protocol.closing, reply.email-first-reply]
      not_applicable: [privacy.card-number-in-message]
      actions: [reply-now, coach-closing]
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert failures(run) == [
        'expected violation of reply.email-first-reply with severity critical and a message containing "waited 2d", '
        'found it with severity major and message "The customer waited 1d 6h for a first personal reply (target 24h)."',
        "expected violation of reply.chat-first-reply, but the rule did not apply (its 'when' was false, or a fact it needs is unknown)",
        "expected violation of reply.autoresponder-only, but the rule was compliant",
        "unexpected violation protocol.greeting at event 1: The first reply to Jana did not open with a greeting.",
        "expected protocol.closing to be compliant, but it did not apply",
        "expected reply.email-first-reply to be compliant, but it was violated: The customer waited 1d 6h for a first personal reply (target 24h).",
        "expected privacy.card-number-in-message not to apply, but it was compliant",
        "expected recommended action coach-closing, found reply-now, review-queue-staffing, coach-greeting",
    ]
    (case,) = run.cases
    assert case.status == "fail" and case.where == "x.test.yaml:4"
    assert [(f.kind, f.rule) for f in case.failures][:4] == [
        ("mismatch", "reply.email-first-reply"), ("missing", "reply.chat-first-reply"),
        ("missing", "reply.autoresponder-only"), ("unexpected", "protocol.greeting"),
    ]
    assert case.explain().splitlines()[-3:] == [
        "violations found (2):",
        "  reply.email-first-reply [major] at event 1: The customer waited 1d 6h for a first personal reply (target 24h).",
        "  protocol.greeting [minor] at event 1: The first reply to Jana did not open with a greeting.",
    ]
    assert (run.failed, run.exit_code()) == (1, 1)


def test_event_mismatches_name_both_events(write):
    write("x.test.yaml", HEAD + """\
  - note: card numbers
    interaction:
      events:
        - {from: customer, text: "My card is 4111 1111 1111 1111"}
        - {after: 1m, from: customer, text: "Sorry, 5500-0000-0000-0004 is the right one"}
        - {after: 1h, from: agent, text: "Hello, please never send card numbers."}
    expect:
      violations:
        - {rule: privacy.card-number-in-message, event: 2}
        - {rule: reply.email-first-reply, event: 1}
      only: true
""")
    assert failures(run_tests(["x.test.yaml"], backend="reference")) == [
        "expected violation of privacy.card-number-in-message at event 2, found it at events 0 and 1",
        "expected violation of reply.email-first-reply at event 1, but the rule was compliant",
    ]


def test_event_null_means_the_interaction(write):
    write("x.test.yaml", HEAD + """\
  - note: card number at event 0
    interaction:
      events: [{from: customer, text: "My card is 4111 1111 1111 1111"}]
    expect:
      violations: [{rule: privacy.card-number-in-message, event: null}]
""")
    assert failures(run_tests(["x.test.yaml"], backend="reference")) == [
        "expected violation of privacy.card-number-in-message on the interaction, found it at event 0",
    ]


def test_only_reports_every_unmatched_violation_once(write):
    write("x.test.yaml", HEAD + LATE_EMAIL + """\
    expect:
      violations: [reply.email-first-reply]
      absent: [protocol.greeting]
      only: true
""")
    assert failures(run_tests(["x.test.yaml"], backend="reference")) == [
        "unexpected violation protocol.greeting at event 1: The first reply to Jana did not open with a greeting.",
    ]


def test_as_of_relative_to_created_at_and_locale(write):
    write("x.test.yaml", HEAD + """\
  - note: still waiting after 3 days, judged in German
    as_of: "+3d"
    locale: de
    interaction:
      events: [{from: customer, text: "Hallo?"}]
    expect:
      violations:
        - {rule: reply.email-first-reply, message: "Der Kunde wartete 3d auf die erste persönliche Antwort (Ziel: 24 Std.)."}
        - {rule: reply.autoresponder-only, message_contains: "Seit 3d nur automatische Antworten"}
      only: true
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert (failures(run), run.passed) == ([], 1)
    assert run.cases[0].report.as_of.isoformat() == "2026-03-04T09:00:00+01:00"


def test_skipped_cases_are_counted_but_not_run(write):
    write("x.test.yaml", HEAD + LATE_EMAIL + """\
    skip: waiting for the new charter
    expect: {violations: [reply.chat-first-reply]}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert (run.summary(), run.cases[0].skip_reason, run.exit_code()) == ("0 passed, 0 failed, 1 skipped", "waiting for the new charter", 0)


# -- errors ----------------------------------------------------------------------------------------------


def test_schema_errors_point_at_the_test_file(write):
    write("x.test.yaml", """\
        rulset: starter.yaml
        cases: []
        """)
    run = run_tests(["x.test.yaml"], backend="reference")
    assert rendered(run) == [
        "x.test.yaml:1:1: SR110 unknown field 'rulset'\n    rulset: starter.yaml\n    ^\n    hint: did you mean 'ruleset'?",
        "x.test.yaml:1:1: SR111 missing required field 'ruleset'\n    rulset: starter.yaml\n    ^",
    ]
    assert (run.exit_code(), run.summary()) == (2, "0 passed, 0 failed, 2 errors")


def test_a_case_with_schema_errors_does_not_stop_the_others(write):
    write("x.test.yaml", HEAD + """\
  - note: broken
    interaction:
      events:
        - {at: "+5x", from: customer, text: "hi"}
    expect: {violatons: [reply.email-first-reply]}
  - note: fine
    interaction:
      events: [{from: customer, text: "hi"}, {after: 1h, from: agent, text: "Hello, sure."}]
    expect: {only: true}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [(c.name, c.status) for c in run.cases] == [("broken", "error"), ("fine", "pass")]
    assert [d.render().splitlines()[0] for d in run.errors] == [
        "x.test.yaml:7:16: SR112 'at': invalid relative time '+5x'; write + and a duration after created_at, e.g. +5m, +2h30m, +1d",
        "x.test.yaml:8:14: SR110 unknown field 'violatons'",
    ]
    assert run.errors[1].hint == "did you mean 'violations'?"
    assert run.exit_code() == 2


def test_an_event_index_must_be_a_number_not_a_boolean(write):
    # YAML reads 'true' as a boolean; taken as 1 it would check the wrong event without a word
    write("x.test.yaml", HEAD + LATE_EMAIL + """\
    expect: {violations: [{rule: reply.email-first-reply, event: true}]}
""" + LATE_EMAIL + """\
    expect: {violations: [{rule: reply.email-first-reply, event: 1}]}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [c.status for c in run.cases] == ["error", "pass"]
    (error,) = run.errors
    assert (error.code, str(error.location)) == ("SR112", "x.test.yaml:10:66")
    assert "integer" in error.message


def test_unknown_rules_and_actions_are_errors_with_hints(write):
    write("x.test.yaml", HEAD + LATE_EMAIL + """\
    expect:
      violations: [{rule: reply.emial-first-reply}]
      absent: [greeting]
      actions: [reply-nwo]
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [(d.code, str(d.location), d.message, d.hint) for d in run.errors] == [
        ("SR502", "x.test.yaml:11:27", "unknown rule 'reply.emial-first-reply' in ruleset starter", "did you mean 'reply.email-first-reply'?"),
        ("SR502", "x.test.yaml:12:16", "unknown rule 'greeting' in ruleset starter", "did you mean 'protocol.greeting'?"),
        ("SR503", "x.test.yaml:13:17", "unknown action 'reply-nwo' in ruleset starter", "did you mean 'reply-now'?"),
    ]
    assert run.cases[0].status == "error" and run.exit_code() == 2


def test_invalid_interactions_point_at_the_case(write):
    write("x.test.yaml", HEAD + """\
  - note: events out of order
    interaction:
      events:
        - {at: "+2h", from: customer, text: "hi"}
        - {at: "+1h", from: agent, text: "Hello"}
    expect: {only: true}
  - note: neither interaction nor file
    expect: {only: true}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [(d.code, str(d.location), d.message) for d in run.errors] == [
        ("SR312", "x.test.yaml:8:16",
         "event 1 at 2026-03-01T10:00:00+01:00 is earlier than event 0 at 2026-03-01T11:00:00+01:00; events must be in time order"),
        ("SR111", "x.test.yaml:10:5", "missing required field 'interaction' (or 'interaction_file')"),
    ]


def test_times_out_of_range_are_errors_at_their_place_not_exceptions(write):
    write("x.test.yaml", HEAD + """\
  - note: as_of too far to write
    as_of: "+99999999999d"
    interaction: {events: [{from: customer, text: "hi"}]}
    expect: {}
  - note: as_of past the year 9999
    as_of: "+4000000d"
    interaction: {events: [{from: customer, text: "hi"}]}
    expect: {}
  - note: an endless gap
    interaction: {events: [{from: customer, text: "hi"}, {after: .inf, from: agent, text: "Hello"}]}
    expect: {}
  - note: fine
    interaction: {events: [{from: customer, text: "hi"}]}
    expect: {}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [c.status for c in run.cases] == ["error", "error", "error", "pass"]
    assert [(d.code, str(d.location)) for d in run.errors] == [
        ("SR112", "x.test.yaml:5:12"), ("SR112", "x.test.yaml:9:12"), ("SR112", "x.test.yaml:13:66"),
    ]
    assert run.exit_code() == 2


def test_an_interaction_the_engine_rejects_is_an_error_of_its_case(write):
    # the charter measures business time; its calendar cannot count hours in the last days of the year 9999
    shutil.copy(ROOT / "rulesets" / "charter.yaml", "charter.yaml")
    write("x.test.yaml", HEAD.replace("starter.yaml", "charter.yaml") + """\
  - note: the end of time
    as_of: "9999-12-31T23:59:59Z"
    interaction:
      created_at: "9999-12-31T20:00:00Z"
      events: [{from: customer, text: "hi"}]
    expect: {}
  - note: fine
    interaction: {events: [{from: customer, text: "hi"}]}
    expect: {}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [c.status for c in run.cases] == ["error", "pass"]
    (error,) = run.errors
    assert (error.code, str(error.location)) == ("SR402", "x.test.yaml:4:5")
    assert "could not be evaluated" in error.message
    assert run.exit_code() == 2


def test_a_missing_default_is_reported_where_the_case_is(write):
    write("x.test.yaml", """\
        ruleset: starter.yaml
        cases:
          - note: no channel anywhere
            interaction:
              created_at: "2026-03-01T09:00:00+01:00"
            expect: {only: true}
        """)
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [(d.code, str(d.location), d.message) for d in run.errors] == [
        ("SR111", "x.test.yaml:5:7", "missing required field 'channel'"),
    ]


def test_missing_ruleset_and_broken_ruleset(write):
    write("a.test.yaml", "ruleset: startr.yaml\ncases: []\n")
    write("broken.yaml", "ruleset: b\nversion: '1'\nrules:\n  - id: r\n    title: t\n    severity: minor\n    violated_if: nope > 1\n")
    write("b.test.yaml", "ruleset: broken.yaml\ncases: []\n")
    write("c.test.yaml", "ruleset: broken.yaml\ncases: []\n")
    run = run_tests(["."], backend="reference")
    assert [d.render() for d in run.errors] == [
        "a.test.yaml:1:10: SR501 ruleset file 'startr.yaml' not found (looked for startr.yaml)\n"
        "    ruleset: startr.yaml\n             ^\n    hint: did you mean 'starter.yaml'?",
        "broken.yaml:7:18: SR201 unknown fact 'nope'\n        violated_if: nope > 1\n                     ^",
    ]  # the broken ruleset is reported once, though two test files use it
    assert [f.errors[0].code for f in run.files] == ["SR501", "SR201", "SR201"]
    assert run.exit_code() == 2


def test_files_that_are_not_utf8_are_errors_at_the_bad_byte(write, workdir):
    (workdir / "latin1.yaml").write_bytes("ruleset: l\nversion: '1'\ndescription: caf\xe9\nrules: []\n".encode("latin-1"))
    write("a.test.yaml", "ruleset: latin1.yaml\ncases: []\n")
    (workdir / "b.test.yaml").write_bytes("ruleset: starter.yaml\ndescription: \xfcber\ncases: []\n".encode("latin-1"))
    (workdir / "event.yaml").write_bytes("events:\n  - {from: customer, text: gr\xfc\xdf}\n".encode("latin-1"))
    write("c.test.yaml", HEAD + "  - {interaction_file: event.yaml, expect: {}}\n")
    run = run_tests(["a.test.yaml", "b.test.yaml", "c.test.yaml"], backend="reference")
    assert [(d.code, str(d.location), d.hint) for d in run.errors] == [
        ("SR501", "latin1.yaml:3:17", "save the file as UTF-8"),
        ("SR501", "b.test.yaml:2:14", "save the file as UTF-8"),
        ("SR501", "event.yaml:2:30", "save the file as UTF-8"),
    ]
    assert "not UTF-8" in run.errors[0].message
    assert [c.status for c in run.cases] == ["error"]
    assert run.exit_code() == 2


def test_a_missing_ruleset_is_never_mistaken_for_a_policy_test_file(write):
    # the test file was copied away from its ruleset: its own name is close to the ruleset's, but no ruleset
    write("refunds.test.yaml", "ruleset: refunds.yaml\ncases: []\n")
    write("refunds.test.yml", "ruleset: refunds.yaml\ncases: []\n")
    run = run_tests(["refunds.test.yaml"], backend="reference")
    [error] = run.errors
    assert (error.code, error.hint) == ("SR501", "the path is relative to the test file")


def test_empty_and_unparsable_test_files(write):
    write("empty.test.yaml", "")
    write("bad.test.yaml", "ruleset: [\n")
    run = run_tests(["."], backend="reference")
    assert [(d.code, str(d.location)) for d in run.errors] == [("SR100", "bad.test.yaml:2:1"), ("SR500", "empty.test.yaml:1:1")]
    assert run.errors[-1].message == "a policy-test file must be a YAML mapping, this document is empty"


def test_interaction_files(write):
    write("cases/ok.yaml", """\
        id: T-1
        created_at: "2026-03-01T09:00:00+01:00"
        events:
          - {from: customer, text: "hi"}
          - {after: 25h, from: agent, text: "Hello"}
        """)
    write("cases/naive.yaml", 'created_at: "2026-03-01T09:00:00+01:00"\nevents:\n  - {at: "2026-03-01T10:00:00", from: customer}\n')
    write("cases/bad.json", '{"created_at": "2026-03-01T09:00:00+01:00",\n "events": [}\n')
    write("x.test.yaml", HEAD + """\
  - {note: ok, interaction_file: cases/ok.yaml, expect: {violations: [reply.email-first-reply], only: true}}
  - {note: naive, interaction_file: cases/naive.yaml, expect: {only: true}}
  - {note: bad json, interaction_file: cases/bad.json, expect: {only: true}}
  - {note: missing, interaction_file: cases/nope.json, expect: {only: true}}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [c.status for c in run.cases] == ["pass", "error", "error", "error"]
    assert run.cases[0].interaction_id == "T-1"
    assert [(d.code, str(d.location), d.message) for d in run.errors] == [
        ("SR311", "cases/naive.yaml:3:10", "events[0].at: timestamp '2026-03-01T10:00:00' has no time zone; write it with an offset "
         "(2026-03-01T10:00:00+01:00, 2026-03-01T10:00:00Z), or give its zone (a mapping's timezone; default_timezone in Python)"),
        ("SR301", "cases/bad.json:2:13", "malformed JSON: Expecting value"),
        ("SR501", "x.test.yaml:7:39", "cannot read interaction file: No such file or directory: 'cases/nope.json'"),
    ]


def test_discovery(write):
    case = LATE_EMAIL + "    expect: {violations: [reply.email-first-reply]}\n"
    write("a/one.test.yaml", HEAD.replace("starter.yaml", "../starter.yaml") + case)
    write("a/b/two.test.yml", HEAD.replace("starter.yaml", "../../starter.yaml") + case)
    write(".hidden/three.test.yaml", "not: even valid\n")
    write("a/notes.yaml", "not: a test file\n")
    run = run_tests(["a", "a/one.test.yaml", "nowhere"], backend="reference")
    assert [f.path for f in run.files] == ["a/b/two.test.yml", "a/one.test.yaml"]  # sorted, each once
    assert rendered(run) == ["SR501 no such file or directory: 'nowhere'"]
    assert (run.passed, run.exit_code()) == (2, 2)


def test_each_ruleset_is_loaded_once(write, monkeypatch):
    loads: list[str] = []
    real = runner_module.parse_ruleset_text

    def counting(text, file):
        loads.append(file)
        return real(text, file)

    monkeypatch.setattr(runner_module, "parse_ruleset_text", counting)
    for name in ("a", "b", "c"):
        write(f"{name}.test.yaml", HEAD + LATE_EMAIL + "    expect: {violations: [reply.email-first-reply]}\n")
    run = run_tests(["."], backend="reference")
    assert (run.passed, loads) == (3, ["starter.yaml"])


# -- coverage and exit codes -----------------------------------------------------------------------------

SLA_RULESET = """\
ruleset: sla-demo
version: "2"
slas:
  - id: email-first-reply
    title: E-mail first reply within 4 hours
    metric: first_reply_time
    when: interaction.channel == "email"
    targets: {"*": 4h}
rules:
  - id: greeting
    title: Greet
    severity: minor
    when: has_personal_reply
    violated_if: not (first_reply.text mentions greeting)
"""


def test_coverage_counts_sla_rules_and_ignores_not_applicable(write):
    write("sla.yaml", SLA_RULESET)
    write("sla.test.yaml", """\
        ruleset: sla.yaml
        defaults: {channel: email, created_at: "2026-03-01T09:00:00+01:00"}
        cases:
          - note: late and greeted
            interaction:
              events: [{from: customer, text: "hi"}, {after: 5h, from: agent, text: "Hello!"}]
            expect: {violations: [{rule: email-first-reply, event: 1}], compliant: [greeting]}
          - note: a chat is not covered by the SLA; unanswered, so greeting does not apply
            interaction: {channel: chat, events: [{from: customer, text: "hi"}]}
            expect: {not_applicable: [email-first-reply, greeting]}
        """)
    run = run_tests(["sla.test.yaml"], backend="reference")
    assert run.passed == 2
    (coverage,) = run.coverage
    assert [r.to_dict() for r in coverage.rules] == [
        {"rule_id": "greeting", "sla": False, "violated": 0, "compliant": 1, "not_applicable": 1, "fired": False, "not_fired": True},
        {"rule_id": "email-first-reply", "sla": True, "violated": 1, "compliant": 0, "not_applicable": 1, "fired": True, "not_fired": False},
    ]
    assert (coverage.covered, coverage.total, coverage.percent) == (2, 4, 50.0)
    assert [r.missing for r in coverage.rules] == [["never violated"], ["never compliant"]]
    assert run.exit_code(coverage_min=50) == 0
    assert run.exit_code(coverage_min=50.1) == 1
    assert [c.ruleset for c in run.below(60)] == ["sla.yaml"]


def test_exit_codes(write):
    empty = run_tests([], backend="reference")
    assert (empty.exit_code(), empty.exit_code(fail_on_empty=True)) == (0, 1)
    write("x.test.yaml", HEAD)
    assert run_tests(["x.test.yaml"], backend="reference").exit_code(fail_on_empty=True) == 1
    write("y.test.yaml", HEAD + LATE_EMAIL + "    expect: {violations: [reply.chat-first-reply]}\n")
    failing = run_tests(["y.test.yaml"], backend="reference")
    assert failing.exit_code() == 1
    write("z.test.yaml", "cases: 3\n")
    assert run_tests(["y.test.yaml", "z.test.yaml"], backend="reference").exit_code() == 2  # errors beat failures


# -- robustness ------------------------------------------------------------------------------------------

_SHARED_CACHE = runner_module.RulesetCache("reference")

_value = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=8)
    | st.sampled_from(["+5m", "30m", "2026-03-01T09:00:00+01:00", "customer", "agent", "email", "chat",
                       "reply.email-first-reply", "protocol.greeting", "reply-now", "solved"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["interaction", "events", "at", "after", "from", "text", "expect", "violations", "rule", "event",
                         "only", "absent", "actions", "channel", "created_at", "as_of", "note", "status", "skip", "x"]),
        inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=_value, raw=st.text(max_size=40))
def test_any_test_file_gives_a_result_never_an_exception(tmp_path, cases, raw):
    import yaml

    path = tmp_path / "fuzz.test.yaml"
    path.write_text(yaml.safe_dump({"ruleset": str(ROOT / "rulesets" / "starter.yaml"), "cases": cases}), encoding="utf-8")
    run = run_tests([path], cache=_SHARED_CACHE)
    assert run.exit_code() in (0, 1, 2)
    assert all(c.status in ("pass", "fail", "error", "skip") for c in run.cases)
    path.write_text(raw, encoding="utf-8")
    assert run_tests([path], cache=_SHARED_CACHE).exit_code() in (0, 1, 2)


def test_case_names_are_unique_and_on_one_line(write):
    write("x.test.yaml", HEAD + LATE_EMAIL + "    expect: {}\n" + LATE_EMAIL + "    expect: {}\n" + """\
  - note: |
      a note
      on two lines
    interaction: {events: []}
    expect: {}
  - interaction: {events: []}
    expect: {}
""")
    run = run_tests(["x.test.yaml"], backend="reference")
    assert [c.name for c in run.cases] == ["late e-mail", "late e-mail [2]", "a note on two lines", "case 4"]
    assert [c.interaction_id for c in run.cases] == ["case-1", "case-2", "case-3", "case-4"]


def test_case_names_stay_unique_when_a_note_looks_like_a_numbered_name(write):
    write("x.test.yaml", HEAD + """\
  - {note: "late [2]", interaction: {events: []}, expect: {}}
  - {note: late, interaction: {events: []}, expect: {}}
  - {note: late, interaction: {events: []}, expect: {}}
  - {note: case 4, interaction: {events: []}, expect: {}}
  - {interaction: {events: []}, expect: {}}
""")
    names = [c.name for c in run_tests(["x.test.yaml"], backend="reference").cases]
    assert len(set(names)) == len(names), names
    assert names[:2] == ["late [2]", "late"] and names[3] == "case 4"
