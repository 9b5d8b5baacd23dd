"""The pytest plugin, run with pytester: collection, passing and failing cases, broken test files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

STARTER = Path(__file__).resolve().parents[2] / "rulesets" / "starter.yaml"
PLUGIN = ("-p", "servicerules.testing.pytest_plugin", "-p", "no:cacheprovider", "--servicerules-backend=reference")

TESTS = """\
ruleset: starter.yaml
defaults: {as_of: "2026-03-02T18:00:00Z", channel: email, created_at: "2026-03-01T09:00:00+01:00", customer: {name: Jana}}
cases:
  - note: a late e-mail breaches the first-reply target
    interaction:
      events:
        - {at: "+0m", from: customer, text: "Where is my parcel?"}
        - {at: "+30h", from: agent, text: "Hello Jana, it ships today."}
    expect:
      violations: [{rule: reply.email-first-reply, severity: major}]
  - note: a late e-mail, expected at the wrong event
    interaction:
      events:
        - {at: "+0m", from: customer, text: "Where is my parcel?"}
        - {at: "+30h", from: agent, text: "It ships today."}
    expect:
      violations: [{rule: reply.email-first-reply, event: 0}]
      only: true
  - interaction:
      events: [{from: customer, text: "hi"}, {after: 1h, from: agent, text: "Hi Jana!"}]
    expect: {only: true}
  - note: later
    skip: the new charter is not out yet
    expect: {only: true}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Load the plugin explicitly, never also through an installed entry point (that would register it twice).
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    shutil.copy(STARTER, pytester.path / "starter.yaml")
    pytester.makefile(".test.yaml", starter=TESTS)
    return pytester


def test_each_case_is_an_item_named_by_its_note(project: pytest.Pytester):
    result = project.runpytest(*PLUGIN, "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "starter.test.yaml::a late e-mail breaches the first-reply target",
        "starter.test.yaml::a late e-mail, expected at the wrong event",
        "starter.test.yaml::case 3",
        "starter.test.yaml::later",
        "4 tests collected*",
    ])


def test_pass_fail_and_skip(project: pytest.Pytester):
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_skipped_case_is_reported_at_its_line_in_the_test_file(project: pytest.Pytester):
    line = TESTS.splitlines().index("  - note: later") + 1
    result = project.runpytest(*PLUGIN, "-rs", "-k", "later")
    result.assert_outcomes(skipped=1, deselected=3)
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] starter.test.yaml:{line}: the new charter is not out yet"])
    assert "pytest_plugin.py" not in result.stdout.str()


def test_failure_output_is_an_explanation_and_a_diff_not_a_traceback(project: pytest.Pytester):
    result = project.runpytest(*PLUGIN, "-k", "wrong")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines([
        "*_ policy test: a late e-mail, expected at the wrong event _*",
        "policy test failed: starter.test.yaml:11: a late e-mail, expected at the wrong event",
        "",
        "expected violation of reply.email-first-reply at event 0, found it at event 1",
        "unexpected violation protocol.greeting at event 1: The first reply to Jana did not open with a greeting.",
        "",
        "expected (-) and found (+):",
        "- violation of reply.email-first-reply at event 0",
        "+ reply.email-first-reply [major] at event 1: The customer waited 1d 6h for a first personal reply (target 24h).",
        "- no other violation (only: true)",
        "+ protocol.greeting [minor] at event 1: The first reply to Jana did not open with a greeting.",
        "",
        "violations found (2):",
        "  reply.email-first-reply [major] at event 1: The customer waited 1d 6h for a first personal reply (target 24h).",
        "  protocol.greeting [minor] at event 1: The first reply to Jana did not open with a greeting.",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "runtest" not in result.stdout.str()


def test_marker_selects_policy_tests(project: pytest.Pytester):
    project.makepyfile(test_plain="def test_python():\n    pass\n")
    result = project.runpytest(*PLUGIN, "-m", "policy_test", "--strict-markers")
    result.assert_outcomes(passed=2, failed=1, skipped=1, deselected=1)


def test_a_broken_test_file_is_a_collection_error_with_its_position(project: pytest.Pytester):
    project.makefile(".test.yaml", broken="rulset: starter.yaml\ncases: []\n")
    result = project.runpytest(*PLUGIN, "broken.test.yaml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting broken.test.yaml*"])
    output = result.stdout.str()
    assert "broken.test.yaml:1:1: SR110 unknown field 'rulset'\n    rulset: starter.yaml\n    ^\n    hint: did you mean 'ruleset'?\n" in output
    assert "broken.test.yaml:1:1: SR111 missing required field 'ruleset'\n" in output
    assert "Traceback" not in output


def test_a_case_with_schema_errors_fails_alone(project: pytest.Pytester):
    project.makefile(".test.yaml", typo="ruleset: starter.yaml\ncases:\n  - note: typo\n    expct: {only: true}\n")
    result = project.runpytest(*PLUGIN, "typo.test.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "typo.test.yaml:3:5: SR111 missing required field 'expect' in cases[0]",
        "typo.test.yaml:4:5: SR110 unknown field 'expct'",
        "        expct: {only: true}",
        "        ^",
        "    hint: did you mean 'expect'?",
    ])


def test_a_broken_ruleset_is_a_collection_error(project: pytest.Pytester):
    project.makefile(".yaml", bad="ruleset: bad\nversion: '1'\nrules:\n  - {id: r, title: t, severity: minor, violated_if: nope > 1}\n")
    project.makefile(".test.yaml", uses_bad="ruleset: bad.yaml\ncases: []\n")
    result = project.runpytest(*PLUGIN, "uses_bad.test.yaml")
    result.assert_outcomes(errors=1)
    assert "bad.yaml:4:53: SR201 unknown fact 'nope'" in result.stdout.str()


def test_a_ruleset_that_is_not_utf8_is_a_collection_error_not_a_traceback(project: pytest.Pytester):
    (project.path / "latin1.yaml").write_bytes("ruleset: l\nversion: 'caf\xe9'\nrules: []\n".encode("latin-1"))
    project.makefile(".test.yaml", uses_latin1="ruleset: latin1.yaml\ncases: []\n")
    result = project.runpytest(*PLUGIN, "uses_latin1.test.yaml")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "latin1.yaml:2:14: SR501 cannot read ruleset: it is not UTF-8" in output
    assert "UnicodeDecodeError" not in output


def test_a_case_with_an_invalid_interaction_fails_with_its_diagnostic(project: pytest.Pytester):
    project.makefile(".test.yaml", naive=(
        "ruleset: starter.yaml\ncases:\n"
        "  - note: naive\n    interaction: {channel: chat, created_at: '2026-03-01T09:00:00'}\n    expect: {only: true}\n"
    ))
    result = project.runpytest(*PLUGIN, "naive.test.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["naive.test.yaml:4:46: SR311 created_at: timestamp '2026-03-01T09:00:00' has no time zone*"])


def test_the_backend_option_and_the_default(project: pytest.Pytester):
    result = project.runpytest("-p", "servicerules.testing.pytest_plugin", "-p", "no:cacheprovider", "-k", "breaches")
    result.assert_outcomes(passed=1, deselected=3)
    result = project.runpytest("-p", "servicerules.testing.pytest_plugin", "--servicerules-backend=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


ENTRY_POINT = "servicerules.testing.pytest_plugin"
"""The pytest11 entry-point name to register the plugin under: its module path, so that enabling it once more
(``-p`` or ``pytest_plugins``) finds it already registered instead of failing."""


def test_enabling_the_installed_plugin_again_is_harmless(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    dist = project.path / "site" / "servicerules_plugin_probe-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: servicerules-plugin-probe\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(f"[pytest11]\n{ENTRY_POINT} = servicerules.testing.pytest_plugin\n")
    monkeypatch.setenv("PYTHONPATH", str(project.path / "site"))
    project.makeconftest('pytest_plugins = ["servicerules.testing.pytest_plugin"]')
    result = project.runpytest_subprocess("-p", "servicerules.testing.pytest_plugin", "-p", "no:cacheprovider",
                                          "--servicerules-backend=reference", "-k", "breaches")
    result.assert_outcomes(passed=1, deselected=3)
    disabled = project.runpytest_subprocess("-p", f"no:{ENTRY_POINT}", "-p", "no:cacheprovider", "starter.test.yaml")
    assert disabled.ret == pytest.ExitCode.USAGE_ERROR  # the file is not collected: "not found"
    assert "no match in any of" in disabled.stderr.str() + disabled.stdout.str()
