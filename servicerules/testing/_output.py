"""Rendering a :class:`TestRun`: pretty text for people, JSON for tools, JUnit XML for CI.

All three are deterministic for the same inputs (JSON carries no timings; JUnit does, as CI expects).
The JSON layout is documented in docs/reference/policy-tests.md ("JSON output").
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from servicerules._junit import JUnitCase, JUnitSuite, junit_xml
from servicerules.errors import Diagnostic, Location
from servicerules.testing._coverage import RulesetCoverage
from servicerules.testing._runner import CaseResult, TestRun

__all__ = ["JSON_SCHEMA_VERSION", "render_coverage", "render_json", "render_junit", "render_pretty"]

JSON_SCHEMA_VERSION = "1"

_Key = tuple[str, Location | None, str]


def _key(d: Diagnostic) -> _Key:
    return (d.code, d.location, d.message)


def _indent(text: str, by: int = 4) -> str:
    return textwrap.indent(text, " " * by)


def _percent(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") + "%"


def _under(value: float, minimum: float) -> tuple[str, str]:
    """``value`` and ``minimum`` (value < minimum) with as many decimals as it takes for them to differ: 28.57%
    under 28.6%, not 28.6% under 28.6% (rounding keeps the order, so the first figure is then the smaller)."""
    digits = 1
    while _percent(value, digits) == _percent(minimum, digits) and digits < 12:
        digits += 1
    return _percent(value, digits), _percent(minimum, digits)


def render_coverage(coverage: RulesetCoverage) -> str:
    """One ruleset's coverage: the headline figure, then a row per rule with what no test has shown yet."""
    lines = [
        f"coverage of {coverage.ruleset} ({coverage.name} {coverage.version}): "
        f"{_percent(coverage.percent)} ({coverage.covered} of {coverage.total})"
    ]
    names = [r.rule_id + (" (SLA)" if r.sla else "") for r in coverage.rules]
    width = max([len("rule")] + [len(n) for n in names])
    lines.append(f"    {'rule':<{width}}  violated  compliant  n/a  not yet seen")
    for name, rule in zip(names, coverage.rules):
        row = f"    {name:<{width}}  {rule.violated:>8}  {rule.compliant:>9}  {rule.not_applicable:>3}  {', '.join(rule.missing)}"
        lines.append(row.rstrip())
    return "\n".join(lines)


def _case_block(case: CaseResult) -> str:
    if case.status == "fail":
        return f"FAIL {case.where}: {case.name}\n" + _indent(case.explain())
    if case.status == "error":
        return f"ERROR {case.where}: {case.name}\n" + "\n".join(_indent(d.render()) for d in case.errors)
    if case.status == "skip":
        return f"SKIP {case.where}: {case.name} ({case.skip_reason})"
    return f"PASS {case.where}: {case.name}"


def render_pretty(
    run: TestRun,
    *,
    verbose: bool = False,
    show_coverage: bool = False,
    coverage_min: float | None = None,
) -> str:
    """Failures and errors in file order (passes and skips too with ``verbose``), coverage tables with
    ``show_coverage``, then the summary line ``N passed, M failed``."""
    blocks: list[str] = []
    in_files = {_key(d) for f in run.files for d in f.errors} | {_key(d) for c in run.cases for d in c.errors}
    printed: set[_Key] = set()
    for d in run.errors:
        if _key(d) not in in_files:
            printed.add(_key(d))
            blocks.append("ERROR " + d.render())
    for file in run.files:
        for d in file.errors:
            if _key(d) not in printed:
                printed.add(_key(d))
                blocks.append("ERROR " + d.render())
        for case in file.cases:
            if case.status in ("fail", "error") or verbose:
                blocks.append(_case_block(case))
    if show_coverage:
        blocks.extend(render_coverage(c) for c in run.coverage)
    tail = [run.summary()]
    if not run.cases:
        tail.append("no test cases found")
    for coverage in run.below(coverage_min):
        assert coverage_min is not None
        shown, minimum = _under(coverage.percent, coverage_min)
        tail.append(f"coverage of {coverage.ruleset} is {shown}, under the minimum of {minimum}")
    blocks.append("\n".join(tail))
    return _join(blocks) + "\n"


def _join(blocks: list[str]) -> str:
    """Blank lines around multi-line blocks; one-line PASS/SKIP entries stay together."""
    text = ""
    for i, block in enumerate(blocks):
        if i:
            together = "\n" not in block and "\n" not in blocks[i - 1] and block.startswith(("PASS", "SKIP")) and blocks[i - 1].startswith(("PASS", "SKIP"))
            text += "\n" if together else "\n\n"
        text += block
    return text


def render_json(run: TestRun, *, exit_code: int, coverage_min: float | None = None) -> str:
    """The run as one JSON document (see docs/reference/policy-tests.md)."""
    document: dict[str, Any] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "summary": {
            "files": len(run.files),
            "cases": len(run.cases),
            "passed": run.passed,
            "failed": run.failed,
            "errors": len(run.errors),
            "skipped": run.skipped,
            "exit_code": exit_code,
        },
        "errors": [d.to_dict() for d in run.errors],
        "files": [f.to_dict() for f in run.files],
        "coverage": [c.to_dict() for c in run.coverage],
        "coverage_min": coverage_min,
        "coverage_below_min": [c.ruleset for c in run.below(coverage_min)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_junit(run: TestRun) -> str:
    """One ``<testsuite>`` per test file, one ``<testcase>`` per case; a file that could not run is one
    ``<testcase>`` with an ``<error>``."""
    suites: list[JUnitSuite] = []
    in_files = {_key(d) for f in run.files for d in f.errors} | {_key(d) for c in run.cases for d in c.errors}
    loose = [d for d in run.errors if _key(d) not in in_files]
    if loose:
        suites.append(JUnitSuite("servicerules test", [JUnitCase("paths", "servicerules test", error="\n".join(d.render() for d in loose))]))
    for file in run.files:
        cases: list[JUnitCase] = []
        if file.errors:
            cases.append(JUnitCase(file.path, file.path, error="\n".join(d.render() for d in file.errors)))
        for case in file.cases:
            if case.status == "fail":
                cases.append(JUnitCase(case.name, file.path, case.time, failure=case.failures[0].message, failure_text=case.explain()))
            elif case.status == "error":
                cases.append(JUnitCase(case.name, file.path, case.time, error="\n".join(d.render() for d in case.errors)))
            elif case.status == "skip":
                cases.append(JUnitCase(case.name, file.path, skipped=case.skip_reason or "skipped"))
            else:
                cases.append(JUnitCase(case.name, file.path, case.time))
        suites.append(JUnitSuite(file.path, cases, sum(c.time for c in file.cases)))
    return junit_xml(suites)
