"""The policy-test runner: discover ``*.test.yaml`` files, load each ruleset once, run every case.

A case *passes* when its report meets every expectation, *fails* with one explanation per difference, or
ends in *error* when it cannot run (an invalid interaction, an unknown rule id in an expectation …). Problems
in test files and rulesets are diagnostics with ``file:line:col``; they make the run exit 2. The pytest
plugin uses the same :func:`load_test_file` and :func:`run_case`, so both report the same results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from pydantic import ValidationError

from servicerules.compiler import compile_program
from servicerules.engine import CompiledRuleset, parse_ruleset_text
from servicerules.errors import Diagnostic, EvaluationError, InteractionError, Location, RulesetError, did_you_mean
from servicerules.loader import SourceDocument, load_yaml
from servicerules.model._diagnostics import ruleset_diagnostics
from servicerules.model.interaction import Interaction
from servicerules.report import Report
from servicerules.testing._codes import EMPTY_TEST_FILE, NOT_FOUND, UNKNOWN_ACTION, UNKNOWN_RULE
from servicerules.testing._compact import CASE_ONLY_DEFAULTS, expand_interaction
from servicerules.testing._coverage import RulesetCoverage
from servicerules.testing._expect import Failure, check_expectations, describe_violation
from servicerules.testing._model import PolicyTestCase, PolicyTestFile
from servicerules.testing._times import resolve_time

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_OK",
    "TEST_FILE_SUFFIXES",
    "CaseResult",
    "FileResult",
    "LoadedTestFile",
    "RulesetCache",
    "TestRun",
    "discover",
    "is_test_file",
    "load_test_file",
    "run_case",
    "run_tests",
]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
TEST_FILE_SUFFIXES = (".test.yaml", ".test.yml")
_SKIP_DIRS = frozenset({"__pycache__", "node_modules"})

DocPath = tuple[str | int, ...]
CaseStatus = Literal["pass", "fail", "error", "skip"]


def is_test_file(path: str | Path) -> bool:
    return Path(path).name.endswith(TEST_FILE_SUFFIXES)


def _display(path: Path) -> str:
    return os.path.normpath(path)


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Test files named by ``paths``: files as given, directories searched for ``*.test.yaml`` / ``*.test.yml``
    (hidden directories, ``__pycache__`` and ``node_modules`` skipped), each once, in sorted order."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                inside.extend(Path(root) / f for f in files if is_test_file(f))
            found.extend(sorted(inside))
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Diagnostic(NOT_FOUND, f"no such file or directory: '{given}'"))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values()), problems


class RulesetCache:
    """Compiled rulesets by resolved path: each ruleset is loaded (and its errors reported) once per run."""

    def __init__(self, backend: str = "auto") -> None:
        self.backend = backend
        self._entries: dict[Path, CompiledRuleset | RulesetError] = {}

    def load(self, path: Path, display: str | None = None) -> CompiledRuleset:
        """The compiled ruleset at ``path``; ``display`` names the file in diagnostics (default: ``path``).
        Raises :class:`RulesetError` (cached too) or :class:`OSError`."""
        key = path.resolve()
        entry = self._entries.get(key)
        if entry is None:
            try:
                text = path.read_text(encoding="utf-8")
                spec, doc = parse_ruleset_text(text, display or _display(path))
                entry = CompiledRuleset(compile_program(spec, doc), backend=self.backend)
            except RulesetError as exc:
                entry = exc
            self._entries[key] = entry
        if isinstance(entry, RulesetError):
            raise entry
        return entry

    def close(self) -> None:
        for entry in self._entries.values():
            if isinstance(entry, CompiledRuleset):
                entry.close()
        self._entries.clear()


@dataclass
class LoadedTestFile:
    """A test file read and validated, with its ruleset.

    ``errors`` are problems that stop every case (YAML, file-level schema, the ruleset); schema problems
    inside one case are in ``case_errors`` and stop only that case (its entry in ``case_specs`` is None).
    """

    path: Path
    shown: str | None = None
    """How to name the file in output (default: ``path``)."""
    doc: SourceDocument | None = None
    spec: PolicyTestFile | None = None
    case_specs: list[PolicyTestCase | None] = field(default_factory=list)
    case_errors: dict[int, list[Diagnostic]] = field(default_factory=dict)
    ruleset_path: Path | None = None
    ruleset: CompiledRuleset | None = None
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.shown or _display(self.path)

    def display_of(self, relative: str) -> str:
        """How to name a file the test file refers to (relative to the test file)."""
        return os.path.normpath(os.path.join(os.path.dirname(self.display), relative))

    @property
    def ruleset_display(self) -> str | None:
        return self.display_of(self.spec.ruleset) if self.spec is not None and self.ruleset_path is not None else None

    @property
    def runnable(self) -> bool:
        return not self.errors and self.spec is not None and self.ruleset is not None

    @property
    def case_count(self) -> int:
        return len(self.case_specs) if self.runnable else 0

    def case_note(self, index: int) -> str | None:
        spec = self.case_specs[index]
        if spec is not None:
            return spec.note
        raw = _data_at(self.doc, ("cases", index, "note")) if self.doc is not None else None
        return raw if isinstance(raw, str) else None

    def case_name(self, index: int) -> str:
        """The case's ``note`` (on one line), or ``case <number>``; a repeated name gets `` [2]``, `` [3]`` …
        (the next number that no case is named by: a note may itself read ``late [2]``)."""
        bases = [_base_name(self.case_note(i), i) for i in range(len(self.case_specs))]
        taken = set(bases)
        for i, base in enumerate(bases):
            name, number = base, bases[:i + 1].count(base)
            if number > 1:
                while f"{base} [{number}]" in taken:
                    number += 1
                name = f"{base} [{number}]"
                taken.add(name)
            if i == index:
                return name
        raise IndexError(index)

    def case_line(self, index: int) -> int | None:
        if self.doc is None:
            return None
        loc = self.doc.location(("cases", index))
        return loc.line if loc else None


def _base_name(note: str | None, index: int) -> str:
    if note and note.strip():
        return " ".join(note.split())
    return f"case {index + 1}"


def load_test_file(path: Path, cache: RulesetCache, *, display: str | None = None) -> LoadedTestFile:
    """Read, validate and load the ruleset of one test file; ``display`` names it in output (default: ``path``)."""
    loaded = LoadedTestFile(path, display)
    display = loaded.display
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        loaded.errors.append(_not_utf8(exc, "test file", display))
        return loaded
    except OSError as exc:
        loaded.errors.append(Diagnostic(NOT_FOUND, f"cannot read test file: {_os_reason(exc)}", Location(display, 1, 1)))
        return loaded
    try:
        doc = load_yaml(text, display)
    except RulesetError as exc:
        loaded.errors.extend(exc.diagnostics)
        return loaded
    loaded.doc = doc
    if not isinstance(doc.data, dict):
        found = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        loaded.errors.append(
            Diagnostic(EMPTY_TEST_FILE, f"a policy-test file must be a YAML mapping, this document is {found}",
                       doc.location(()) or Location(display, 1, 1),
                       hint="start with 'ruleset: <path of the ruleset>' and 'cases:'")
        )
        return loaded
    if not _validate(loaded, doc):
        return loaded
    assert loaded.spec is not None
    ruleset_path = path.parent / loaded.spec.ruleset
    loaded.ruleset_path = ruleset_path
    if not ruleset_path.is_file():
        # rulesets only: a policy-test file (this one, say) is never the ruleset meant
        siblings = [p.name for p in ruleset_path.parent.glob("*.y*ml") if not p.name.endswith(TEST_FILE_SUFFIXES)] \
            if ruleset_path.parent.is_dir() else []
        hint = did_you_mean(ruleset_path.name, siblings) or "the path is relative to the test file"
        loaded.errors.append(
            doc.diagnostic(NOT_FOUND, f"ruleset file '{loaded.spec.ruleset}' not found (looked for {loaded.ruleset_display})",
                           ("ruleset",), hint=hint)
        )
        return loaded
    try:
        loaded.ruleset = cache.load(ruleset_path, loaded.ruleset_display)
    except RulesetError as exc:
        loaded.errors.extend(exc.diagnostics)
    except UnicodeDecodeError as exc:
        loaded.errors.append(_not_utf8(exc, "ruleset", loaded.ruleset_display or str(ruleset_path)))
    except OSError as exc:
        loaded.errors.append(doc.diagnostic(NOT_FOUND, f"cannot read ruleset: {_os_reason(exc)}", ("ruleset",)))
    return loaded


def _validate(loaded: LoadedTestFile, doc: SourceDocument) -> bool:
    """Validate the file; a case with schema errors is set aside (its errors kept) so the others still run."""
    try:
        loaded.spec = PolicyTestFile.model_validate(doc.data)
        loaded.case_specs = list(loaded.spec.cases)
        return True
    except ValidationError as exc:
        diagnostics = sorted(ruleset_diagnostics(exc, doc, PolicyTestFile), key=Diagnostic.sort_key)
    for d in diagnostics:
        if len(d.path) >= 2 and d.path[0] == "cases" and isinstance(d.path[1], int):
            loaded.case_errors.setdefault(d.path[1], []).append(d)
        else:
            loaded.errors.extend(diagnostics)
            return False
    raw_cases = doc.data["cases"]
    loaded.spec = PolicyTestFile.model_validate({**doc.data, "cases": []})
    loaded.case_specs = [
        None if i in loaded.case_errors else PolicyTestCase.model_validate(raw) for i, raw in enumerate(raw_cases)
    ]
    return True


def _not_utf8(exc: UnicodeDecodeError, what: str, display: str) -> Diagnostic:
    """SR501 at the first byte of a file that is not UTF-8 (line and column counted in the text before it)."""
    data = bytes(exc.object)
    before = data[:exc.start]
    line = before.count(b"\n") + 1
    col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
    return Diagnostic(NOT_FOUND, f"cannot read {what}: it is not UTF-8 (byte 0x{data[exc.start]:02x})",
                      Location(display, line, col), hint="save the file as UTF-8")


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: '{exc.filename}'" if exc.filename else exc.strerror
    return str(exc)


@dataclass
class CaseResult:
    """The result of one case. ``report`` is the evaluation (``None`` when the case could not run)."""

    file: str
    index: int
    """0-based position in ``cases:``."""
    name: str
    note: str | None
    line: int | None
    status: CaseStatus
    failures: list[Failure] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    interaction_id: str | None = None
    report: Report | None = None
    skip_reason: str | None = None
    time: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def explain(self) -> str:
        """The failures, one per line, then the violations the report holds."""
        return "\n".join([f.message for f in self.failures] + self.listing())

    def listing(self) -> list[str]:
        """``violations found (N):`` and one line per violation of the report (nothing without a report)."""
        if self.report is None:
            return []
        found = self.report.violations
        head = f"violations found ({len(found)}):" if found else "violations found: none"
        return [head] + ["  " + describe_violation(v) for v in found]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "note": self.note,
            "line": self.line,
            "status": self.status,
            "interaction_id": self.interaction_id,
            "failures": [f.to_dict() for f in self.failures],
            "errors": [d.to_dict() for d in self.errors],
            "violations": [
                {"rule_id": v.rule_id, "severity": v.severity.value, "event_index": v.evidence.event_index, "message": v.message}
                for v in (self.report.violations if self.report is not None else [])
            ],
            "skip_reason": self.skip_reason,
        }


def run_case(loaded: LoadedTestFile, index: int) -> CaseResult:
    """Run case ``index`` of a loaded test file (which must be ``runnable``)."""
    assert loaded.runnable
    case = loaded.case_specs[index]
    result = CaseResult(loaded.display, index, loaded.case_name(index), loaded.case_note(index), loaded.case_line(index), "pass")
    if case is None:
        result.status = "error"
        result.errors = list(loaded.case_errors[index])
        return result
    if case.skip is not False:
        result.status = "skip"
        result.skip_reason = case.skip if isinstance(case.skip, str) else "skip: true"
        return result
    started = time.perf_counter()
    try:
        _run(loaded, index, case, result)
    finally:
        result.time = time.perf_counter() - started
    return result


def _run(loaded: LoadedTestFile, index: int, case: PolicyTestCase, result: CaseResult) -> None:
    doc, ruleset = loaded.doc, loaded.ruleset
    assert doc is not None and ruleset is not None
    base: DocPath = ("cases", index)
    result.errors.extend(_reference_errors(loaded, index, case))
    interaction = _interaction(loaded, index, case, result.errors)
    if result.errors or interaction is None:
        result.status = "error"
        return
    result.interaction_id = interaction.id
    defaults = loaded.spec.defaults if loaded.spec is not None else None
    as_of_value, as_of_path = (case.as_of, base + ("as_of",))
    if as_of_value is None and defaults is not None and defaults.as_of is not None:
        as_of_value, as_of_path = defaults.as_of, ("defaults", "as_of")
    as_of: dt.datetime | None = None
    if as_of_value is not None:
        try:
            as_of = resolve_time(as_of_value, interaction.created_at)
        except ValueError as exc:  # a relative as_of that ends past the year 9999
            result.errors.append(doc.diagnostic("SR112", f"as_of '{as_of_value}': {exc}", as_of_path))
            result.status = "error"
            return
        if as_of.tzinfo is None:
            result.errors.append(doc.diagnostic("SR311", f"as_of '{as_of_value}' has no time zone", as_of_path,
                                                hint="write it with an offset, e.g. 2026-03-02T18:00:00Z"))
            result.status = "error"
            return
    locale = case.locale or (defaults.locale if defaults is not None else None)
    try:
        report = ruleset.evaluate(interaction, as_of=as_of, locale=locale)
    except InteractionError as exc:  # valid, but the engine cannot evaluate it (SR402: dates near the year 9999 …)
        result.errors.extend(doc.diagnostic(d.code, d.message, base, hint=d.hint) for d in exc.diagnostics)
        result.status = "error"
        return
    except EvaluationError as exc:
        result.errors.extend(
            doc.diagnostic(d.code, f"evaluation failed: {d.message}", base, hint=d.hint) for d in exc.diagnostics
        )
        result.status = "error"
        return
    result.report = report
    result.failures = check_expectations(case.expect, report)
    result.status = "fail" if result.failures else "pass"


def _reference_errors(loaded: LoadedTestFile, index: int, case: PolicyTestCase) -> list[Diagnostic]:
    """Unknown rule and action ids in the expectations, and a missing or doubled interaction source."""
    doc, ruleset = loaded.doc, loaded.ruleset
    assert doc is not None and ruleset is not None
    base: DocPath = ("cases", index)
    problems: list[Diagnostic] = []
    if case.interaction is None and case.interaction_file is None:
        problems.append(doc.diagnostic("SR111", "missing required field 'interaction' (or 'interaction_file')", base))
    elif case.interaction is not None and case.interaction_file is not None:
        problems.append(doc.diagnostic("SR112", "give either 'interaction' or 'interaction_file', not both",
                                       base + ("interaction_file",), key=True))
    rule_ids = [r.spec.id for r in ruleset.rules]
    disabled = {r.id for r in ruleset.program.spec.rules if not r.enabled}
    expect = base + ("expect",)
    references: list[tuple[str, DocPath]] = []
    for j, expected in enumerate(case.expect.violations):
        raw = _data_at(doc, expect + ("violations", j))
        references.append((expected.rule, expect + ("violations", j) + (("rule",) if isinstance(raw, dict) else ())))
    for section in ("absent", "compliant", "not_applicable"):
        references.extend((rule, expect + (section, k)) for k, rule in enumerate(getattr(case.expect, section)))
    for rule, path in references:
        if rule not in rule_ids:
            if rule in disabled:
                hint: str | None = "it is disabled (enabled: false), so it is never evaluated"
            else:
                hint = did_you_mean(rule, rule_ids)
            problems.append(doc.diagnostic(UNKNOWN_RULE, f"unknown rule '{rule}' in ruleset {ruleset.name}", path, hint=hint))
    action_ids = list(ruleset.program.spec.actions)
    for k, action in enumerate(case.expect.actions):
        if action not in action_ids:
            problems.append(doc.diagnostic(UNKNOWN_ACTION, f"unknown action '{action}' in ruleset {ruleset.name}",
                                           expect + ("actions", k), hint=did_you_mean(action, action_ids)))
    return problems


def _data_at(doc: SourceDocument, path: DocPath) -> Any:
    """The raw value at ``path``, or None."""
    try:
        return doc.data_at(path)
    except (KeyError, IndexError, TypeError):
        return None


def _interaction(loaded: LoadedTestFile, index: int, case: PolicyTestCase, errors: list[Diagnostic]) -> Interaction | None:
    """The case's interaction, expanded and validated; problems go to ``errors`` with file positions."""
    doc = loaded.doc
    assert doc is not None
    base: DocPath = ("cases", index)
    defaults_raw = doc.data.get("defaults") or {}
    defaults = {k: v for k, v in defaults_raw.items() if k not in CASE_ONLY_DEFAULTS} if isinstance(defaults_raw, dict) else {}
    source: SourceDocument | None = doc
    if case.interaction is not None:
        raw = _data_at(doc, base + ("interaction",))
        root: DocPath = base + ("interaction",)
    elif case.interaction_file is not None:
        read = _read_interaction_file(loaded, index, case.interaction_file, errors)
        if read is None:
            return None
        raw, source = read
        root = ()
    else:
        return None

    def locate(exc: InteractionError) -> None:
        for d in exc.diagnostics:
            if d.code == "SR312" and not d.path:  # the model names the event only in its message
                match = re.match(r"event (\d+) ", d.message)
                if match:
                    d = Diagnostic(d.code, d.message, d.location, d.hint, path=("events", int(match.group(1)), "at"))
            head = d.path[0] if d.path else None
            if isinstance(raw, dict) and head is not None and head not in raw and head in defaults:
                errors.append(doc.diagnostic(d.code, d.message, ("defaults",) + d.path, hint=d.hint))
            elif source is not None:
                errors.append(source.diagnostic(d.code, d.message, root + d.path, hint=d.hint))
            else:  # a JSON file that only json.loads could read: point at the case's interaction_file
                errors.append(doc.diagnostic(d.code, f"{case.interaction_file}: {d.message}", base + ("interaction_file",), hint=d.hint))

    try:
        expanded = expand_interaction(raw, defaults, default_id=f"case-{index + 1}")
        return Interaction.parse(expanded)
    except InteractionError as exc:
        locate(exc)
        return None


def _read_interaction_file(
    loaded: LoadedTestFile, index: int, name: str, errors: list[Diagnostic]
) -> tuple[Any, SourceDocument | None] | None:
    doc = loaded.doc
    assert doc is not None
    key: DocPath = ("cases", index, "interaction_file")
    path = loaded.path.parent / name
    display = loaded.display_of(name)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(_not_utf8(exc, "interaction file", display))
        return None
    except OSError as exc:
        errors.append(doc.diagnostic(NOT_FOUND, f"cannot read interaction file: {_os_reason(exc)}", key,
                                     hint="the path is relative to the test file"))
        return None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(Diagnostic("SR301", f"malformed JSON: {exc.msg}", Location(display, exc.lineno, exc.colno)))
            return None
        try:
            return data, load_yaml(text, display)  # positions, where the YAML reader agrees with JSON
        except RulesetError:
            return data, None
    try:
        source = load_yaml(text, display)
    except RulesetError as exc:
        errors.extend(exc.diagnostics)
        return None
    if not isinstance(source.data, Mapping):
        errors.append(Diagnostic("SR302", "an interaction file must hold one mapping", Location(display, 1, 1)))
        return None
    return source.data, source


@dataclass
class FileResult:
    """One test file: its cases, or the problems that kept them from running."""

    path: str
    ruleset: str | None
    ruleset_name: str | None = None
    ruleset_version: str | None = None
    cases: list[CaseResult] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "ruleset": self.ruleset,
            "ruleset_name": self.ruleset_name,
            "ruleset_version": self.ruleset_version,
            "errors": [d.to_dict() for d in self.errors],
            "cases": [c.to_dict() for c in self.cases],
        }


@dataclass
class TestRun:
    """Everything a run found: per-file results, all problems (each once) and coverage per ruleset."""

    __test__ = False  # not a pytest test class, even when imported into a test module

    files: list[FileResult] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    """Every problem of the run, each once, in the order found: paths, test files, rulesets, cases."""
    coverage: list[RulesetCoverage] = field(default_factory=list)

    @property
    def cases(self) -> list[CaseResult]:
        return [c for f in self.files for c in f.cases]

    def count(self, status: CaseStatus) -> int:
        return sum(c.status == status for c in self.cases)

    @property
    def passed(self) -> int:
        return self.count("pass")

    @property
    def failed(self) -> int:
        return self.count("fail")

    @property
    def skipped(self) -> int:
        return self.count("skip")

    def below(self, coverage_min: float | None) -> list[RulesetCoverage]:
        """Rulesets whose coverage is under ``coverage_min`` percent."""
        if coverage_min is None:
            return []
        return [c for c in self.coverage if c.percent < coverage_min]

    def exit_code(self, *, fail_on_empty: bool = False, coverage_min: float | None = None) -> int:
        """2 when there are errors; else 1 when a case failed, no case was found (with ``fail_on_empty``) or a
        ruleset's coverage is under ``coverage_min``; else 0."""
        if self.errors:
            return EXIT_ERROR
        if self.failed or (fail_on_empty and not self.cases) or self.below(coverage_min):
            return EXIT_FAILED
        return EXIT_OK

    def summary(self) -> str:
        """``N passed, M failed`` (then errors and skipped cases, when there are any)."""
        parts = [f"{self.passed} passed", f"{self.failed} failed"]
        if self.errors:
            parts.append(f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return ", ".join(parts)


def run_tests(
    paths: Iterable[str | Path],
    *,
    backend: str = "auto",
    cache: RulesetCache | None = None,
) -> TestRun:
    """Discover and run policy tests under ``paths`` (files or directories).

    Each ruleset is loaded once (``cache`` may be shared between runs). Never raises for a bad test file or
    ruleset: the problem is in :attr:`TestRun.errors` and makes :meth:`TestRun.exit_code` return 2.
    """
    own_cache = cache is None
    rulesets = cache if cache is not None else RulesetCache(backend)
    run = TestRun()
    seen: set[tuple[str, Location | None, str]] = set()

    def note(diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            key = (d.code, d.location, d.message)
            if key not in seen:
                seen.add(key)
                run.errors.append(d)

    coverage: dict[Path, RulesetCoverage] = {}
    try:
        files, problems = discover(paths)
        note(problems)
        for path in files:
            loaded = load_test_file(path, rulesets)
            ruleset_display = loaded.ruleset_display
            result = FileResult(loaded.display, ruleset_display, errors=list(loaded.errors))
            note(loaded.errors)
            run.files.append(result)
            ruleset = loaded.ruleset
            if ruleset is None or not loaded.runnable:
                continue
            result.ruleset_name, result.ruleset_version = ruleset.name, ruleset.version
            assert loaded.ruleset_path is not None and ruleset_display is not None
            key = loaded.ruleset_path.resolve()
            if key not in coverage:
                coverage[key] = RulesetCoverage.of(ruleset_display, ruleset)
            for index in range(loaded.case_count):
                case = run_case(loaded, index)
                result.cases.append(case)
                note(case.errors)
                if case.report is not None:
                    coverage[key].record(case.report)
    finally:
        if own_cache:
            rulesets.close()
    run.coverage = list(coverage.values())
    return run
