"""``servicerules test`` as the CLI will mount it: exact pretty output, JSON, JUnit XML and exit codes."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest

from servicerules.testing.command import add_arguments, run_command

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
ruleset: starter.yaml
defaults: {as_of: "2026-03-02T18:00:00Z", channel: email, created_at: "2026-03-01T09:00:00+01:00", customer: {name: Jana}}
cases:
"""

CASES = """\
  - note: a late e-mail
    interaction:
      events:
        - {at: "+0m", from: customer, text: "Where is my parcel?"}
        - {at: "+30h", from: agent, text: "It ships today."}
    expect:
      violations: [{rule: reply.email-first-reply, event: 0}]
      only: true
  - note: a quick greeting reply
    interaction:
      events:
        - {from: customer, text: "Hi"}
        - {after: 5m, from: agent, text: "Hello Jana!"}
    expect: {only: true}
  - note: not yet
    skip: true
    expect: {only: true}
  - note: a typo
    interaction:
      events: [{from: customr, text: "Hi"}]
    expect: {only: true}
"""


def call(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="servicerules test")
    add_arguments(parser)
    out, err = StringIO(), StringIO()
    code = run_command(parser.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_pretty_output(write):
    write("starter.test.yaml", HEAD + CASES)
    code, out, err = call("starter.test.yaml")
    assert code == 2
    assert err == ""
    assert out == """\
FAIL starter.test.yaml:4: a late e-mail
    expected violation of reply.email-first-reply at event 0, found it at event 1
    unexpected violation protocol.greeting at event 1: The first reply to Jana did not open with a greeting.
    violations found (2):
      reply.email-first-reply [major] at event 1: The customer waited 1d 6h for a first personal reply (target 24h).
      protocol.greeting [minor] at event 1: The first reply to Jana did not open with a greeting.

ERROR starter.test.yaml:21: a typo
    starter.test.yaml:23:23: SR112 invalid value 'customr' for 'from': input should be 'customer', 'agent', 'bot', 'manager' or 'system'
              events: [{from: customr, text: "Hi"}]
                              ^
        hint: did you mean 'customer'?

1 passed, 1 failed, 1 error, 1 skipped
"""


def test_verbose_lists_passes_and_skips(write):
    write("starter.test.yaml", HEAD + CASES)
    _, out, _ = call("starter.test.yaml", "-v")
    assert "\n\nPASS starter.test.yaml:12: a quick greeting reply\nSKIP starter.test.yaml:18: not yet (skip: true)\n\nERROR" in out


def test_coverage_table_of_the_shipped_fixture(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = call("tests/testing/fixtures", "--coverage", "--backend", "reference", "--coverage-min", "90")
    assert code == 0
    assert out == """\
coverage of rulesets/starter.yaml (starter 1.0.0): 100% (14 of 14)
    rule                            violated  compliant  n/a  not yet seen
    reply.email-first-reply                2          3    6
    reply.chat-first-reply                 1          2    8
    reply.social-first-reply               1          1    9
    reply.autoresponder-only               1          6    4
    protocol.greeting                      1          8    2
    protocol.closing                       1          1    9
    privacy.card-number-in-message         1          9    1

11 passed, 0 failed
"""


def test_coverage_min_fails_a_passing_run(write):
    write("starter.test.yaml", HEAD + CASES.split("  - note: a quick")[0].replace("event: 0", "event: 1").replace("only: true", "absent: [reply.chat-first-reply]"))
    code, out, _ = call("starter.test.yaml", "--coverage-min", "75", "--coverage")
    assert code == 1
    assert "    reply.email-first-reply                1          0    0  never compliant\n" in out
    assert out.endswith("1 passed, 0 failed\ncoverage of starter.yaml is 28.6%, under the minimum of 75%\n")


def test_coverage_under_the_minimum_never_reads_as_equal_to_it(write):
    # 4 of 14 is 28.57…%, which rounds to the minimum of 28.6%: the line must show that it is under it
    write("starter.test.yaml", HEAD + CASES.split("  - note: a quick")[0].replace("event: 0", "event: 1").replace("only: true", "absent: [reply.chat-first-reply]"))
    code, out, _ = call("starter.test.yaml", "--coverage-min", "28.6")
    assert code == 1
    assert out.endswith("coverage of starter.yaml is 28.57%, under the minimum of 28.6%\n")
    assert call("starter.test.yaml", "--coverage-min", "28.5")[0] == 0


def test_fail_on_empty(write):
    write("starter.test.yaml", HEAD)
    assert call("starter.test.yaml") == (0, "0 passed, 0 failed\nno test cases found\n", "")
    assert call("starter.test.yaml", "--fail-on-empty")[0] == 1
    assert call("starter.test.yaml", "--fail-on-empty", "--format", "json")[0] == 1


def test_json_output(write):
    write("starter.test.yaml", HEAD + CASES)
    code, out, _ = call("starter.test.yaml", "--format", "json")
    document = json.loads(out)
    assert code == 2
    assert document["schema_version"] == "1"
    assert document["summary"] == {"files": 1, "cases": 4, "passed": 1, "failed": 1, "errors": 1, "skipped": 1, "exit_code": 2}
    assert [e["code"] for e in document["errors"]] == ["SR112"]
    (file,) = document["files"]
    assert (file["file"], file["ruleset"], file["ruleset_name"], file["ruleset_version"], file["errors"]) == (
        "starter.test.yaml", "starter.yaml", "starter", "1.0.0", [])
    late = file["cases"][0]
    assert {k: late[k] for k in ("index", "name", "line", "status", "interaction_id")} == {
        "index": 0, "name": "a late e-mail", "line": 4, "status": "fail", "interaction_id": "case-1"}
    assert late["failures"][0] == {
        "kind": "mismatch",
        "rule": "reply.email-first-reply",
        "message": "expected violation of reply.email-first-reply at event 0, found it at event 1",
        "expected": "violation of reply.email-first-reply at event 0",
        "found": "reply.email-first-reply [major] at event 1: The customer waited 1d 6h for a first personal reply (target 24h).",
    }
    assert late["violations"][1] == {"rule_id": "protocol.greeting", "severity": "minor", "event_index": 1,
                                     "message": "The first reply to Jana did not open with a greeting."}
    assert [c["status"] for c in file["cases"]] == ["fail", "pass", "skip", "error"]
    assert file["cases"][3]["errors"][0]["line"] == 23
    (coverage,) = document["coverage"]
    assert (coverage["ruleset"], coverage["cases"], coverage["covered"], coverage["total"]) == ("starter.yaml", 2, 6, 14)
    assert (document["coverage_min"], document["coverage_below_min"]) == (None, [])


def test_junit_output_parses(write, tmp_path):
    write("starter.test.yaml", HEAD + CASES)
    write("broken.test.yaml", "ruleset: nowhere.yaml\n")
    code, out, _ = call(".", "--format", "junit", "--junit-xml", "report.xml")
    assert code == 2
    assert out == (tmp_path / "report.xml").read_text(encoding="utf-8")
    root = ET.fromstring(out.split("\n", 1)[1])
    broken, suite = root.findall("testsuite")
    assert (broken.get("name"), broken.get("tests"), broken.get("errors")) == ("broken.test.yaml", "1", "1")
    assert broken.find("testcase/error").get("message").startswith("broken.test.yaml:1:10: SR501 ruleset file 'nowhere.yaml' not found")
    assert [(suite.get(k)) for k in ("name", "tests", "failures", "errors", "skipped")] == ["starter.test.yaml", "4", "1", "1", "1"]
    late, quick, skipped, typo = suite.findall("testcase")
    assert (late.get("name"), late.get("classname")) == ("a late e-mail", "starter.test.yaml")
    failure = late.find("failure")
    assert failure.get("message") == "expected violation of reply.email-first-reply at event 0, found it at event 1"
    assert "violations found (2):" in failure.text
    assert quick.find("failure") is None and quick.find("error") is None
    assert skipped.find("skipped").get("message") == "skip: true"
    assert "SR112 invalid value 'customr'" in typo.find("error").get("message")


def test_unwritable_junit_file_is_an_error(write):
    write("starter.test.yaml", HEAD)
    code, _, err = call("starter.test.yaml", "--junit-xml", "missing-dir/report.xml")
    assert code == 2
    assert err == "servicerules: error: cannot write missing-dir/report.xml: No such file or directory\n"


def test_bad_coverage_min_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        call("--coverage-min", "120")
    assert info.value.code == 2
    assert "argument --coverage-min: percentage '120' is outside 0-100" in capsys.readouterr().err


def test_default_path_is_the_working_directory(write):
    write("sub/a.test.yaml", HEAD.replace("starter.yaml", "../starter.yaml") + CASES.split("  - note: a quick")[0])
    code, out, _ = call()
    assert code == 1 and out.startswith("FAIL sub/a.test.yaml:4: a late e-mail\n")


def test_junit_lists_missing_paths_in_their_own_suite(write):
    write("starter.test.yaml", HEAD)
    code, out, _ = call("starter.test.yaml", "nowhere", "--format", "junit")
    assert code == 2
    missing, empty = ET.fromstring(out.split("\n", 1)[1]).findall("testsuite")
    assert (missing.get("name"), missing.find("testcase/error").get("message")) == (
        "servicerules test", "SR501 no such file or directory: 'nowhere'")
    assert (empty.get("name"), empty.get("tests")) == ("starter.test.yaml", "0")


def test_sla_rules_are_marked_in_the_coverage_table(write):
    write("sla.yaml", """\
        ruleset: sla-demo
        version: "2"
        slas:
          - {id: email-first-reply, title: First reply in 4h, metric: first_reply_time, targets: {"*": 4h}}
        """)
    write("sla.test.yaml", """\
        ruleset: sla.yaml
        cases:
          - interaction:
              channel: email
              created_at: "2026-03-01T09:00:00Z"
              events: [{from: customer, text: "hi"}, {after: 1h, from: agent, text: "Hello"}]
            expect: {compliant: [email-first-reply]}
        """)
    assert call("sla.test.yaml", "--coverage") == (0, """\
coverage of sla.yaml (sla-demo 2): 50% (1 of 2)
    rule                     violated  compliant  n/a  not yet seen
    email-first-reply (SLA)         0          1    0  never violated

1 passed, 0 failed
""", "")
