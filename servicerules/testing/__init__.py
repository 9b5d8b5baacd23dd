"""Policy testing: ``*.test.yaml`` cases beside a ruleset, their runner and coverage, and Python helpers.

Run test files (``servicerules test`` does the same)::

    from servicerules.testing import run_tests
    run = run_tests(["rulesets/"])
    print(run.summary())          # "12 passed, 0 failed"

Or write unit tests in Python::

    from servicerules.testing import InteractionBuilder, assert_violates
    chat = InteractionBuilder("chat").customer("Hi?", at="+0m").agent("Hello!", at="+3m")
    assert_violates("rulesets/starter.yaml", chat, "reply.chat-first-reply")

The pytest plugin (``servicerules.testing.pytest_plugin``) collects ``*.test.yaml`` files as test items.
See docs/how-to/write-policy-tests.md and docs/reference/policy-tests.md.
"""

from servicerules.testing._codes import TEST_CODES
from servicerules.testing._compact import expand_interaction
from servicerules.testing._coverage import RuleCoverage, RulesetCoverage
from servicerules.testing._expect import Failure
from servicerules.testing._helpers import InteractionBuilder, assert_complies, assert_violates
from servicerules.testing._model import PolicyTestFile
from servicerules.testing._output import render_json, render_junit, render_pretty
from servicerules.testing._runner import CaseResult, FileResult, RulesetCache, TestRun, run_tests
from servicerules.testing._schema import policy_test_schema

__all__ = [
    "TEST_CODES",
    "CaseResult",
    "Failure",
    "FileResult",
    "InteractionBuilder",
    "PolicyTestFile",
    "RuleCoverage",
    "RulesetCache",
    "RulesetCoverage",
    "TestRun",
    "assert_complies",
    "assert_violates",
    "expand_interaction",
    "policy_test_schema",
    "render_json",
    "render_junit",
    "render_pretty",
    "run_tests",
]
