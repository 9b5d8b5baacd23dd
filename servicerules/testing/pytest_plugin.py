"""pytest plugin: ``*.test.yaml`` policy-test files become pytest items, one per case.

Enabled by the package's ``pytest11`` entry point, which is named after this module so that naming the
plugin again (``pytest -p servicerules.testing.pytest_plugin`` or ``pytest_plugins = [...]`` in a
``conftest.py``, the way to enable it where the package is not installed) finds it already registered;
``-p no:servicerules.testing.pytest_plugin`` turns it off.

Items are named by their case's ``note`` (``case <number>`` without one) and carry the ``policy_test``
marker, so ``-k`` and ``-m policy_test`` select them. A failing case is reported with its explanation and
a diff of expected (``-``) and found (``+``), not a traceback; a broken test file or ruleset is a
collection error showing its diagnostics with ``file:line:col``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest

from servicerules.errors import Diagnostic
from servicerules.testing._runner import CaseResult, LoadedTestFile, RulesetCache, is_test_file, load_test_file, run_case

__all__ = ["PolicyCaseItem", "PolicyTestFailed", "PolicyTestProblem", "PolicyTestYamlFile"]

_CACHE = pytest.StashKey[RulesetCache]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("servicerules", "servicerules policy tests (*.test.yaml)")
    group.addoption(
        "--servicerules-backend",
        choices=("auto", "durable_rules", "reference"),
        default="auto",
        help="matching backend for policy tests (default: auto)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "policy_test: a case of a servicerules *.test.yaml file")
    config.stash[_CACHE] = RulesetCache(str(config.getoption("servicerules_backend")))


def pytest_unconfigure(config: pytest.Config) -> None:
    cache = config.stash.get(_CACHE, None)
    if cache is not None:
        cache.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> "PolicyTestYamlFile | None":
    if is_test_file(file_path):
        return PolicyTestYamlFile.from_parent(parent, path=file_path)
    return None


def _shown(path: Path, config: pytest.Config) -> str:
    """The path relative to where pytest was started (as pytest names test files), if it is below it."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


class PolicyTestProblem(Exception):
    """A test file, its ruleset or one case has errors (shown as diagnostics, not as a traceback)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class PolicyTestFailed(Exception):
    """A case ran and its report differs from the expectations."""

    def __init__(self, result: CaseResult) -> None:
        self.result = result
        super().__init__(result.explain())

    def render(self) -> str:
        result = self.result
        lines = [f"policy test failed: {result.where}: {result.name}", ""]
        lines.extend(f.message for f in result.failures)
        lines.extend(["", "expected (-) and found (+):"])
        for failure in result.failures:
            lines.append(f"- {failure.expected}")
            lines.append(f"+ {failure.found}")
        listing = result.listing()
        if listing:
            lines.append("")
            lines.extend(listing)
        return "\n".join(lines)


class PolicyTestYamlFile(pytest.File):
    """A ``*.test.yaml`` file: loads it and its ruleset (cached for the session) and yields its cases."""

    def collect(self) -> Iterable[pytest.Item]:
        loaded = load_test_file(self.path, self.config.stash[_CACHE], display=_shown(self.path, self.config))
        if not loaded.runnable:
            raise PolicyTestProblem(loaded.errors)
        for index in range(loaded.case_count):
            name = loaded.case_name(index).replace("::", ":")
            yield PolicyCaseItem.from_parent(self, name=name, loaded=loaded, index=index)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, PolicyTestProblem):
            return excinfo.value.render()
        return super().repr_failure(excinfo)


class PolicyCaseItem(pytest.Item):
    """One case of a policy-test file."""

    def __init__(self, *, loaded: LoadedTestFile, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.index = index
        self.add_marker("policy_test")

    def runtest(self) -> None:
        result = run_case(self.loaded, self.index)
        if result.status == "skip":
            # at the case's line (reportinfo), as pytest reports a skip mark, not at this line of the plugin
            raise pytest.skip.Exception(result.skip_reason or "skipped", _use_item_location=True)
        if result.status == "error":
            raise PolicyTestProblem(result.errors)
        if result.status == "fail":
            raise PolicyTestFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (PolicyTestFailed, PolicyTestProblem)):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.loaded.case_line(self.index)
        return self.path, (line - 1 if line else None), f"policy test: {self.name}"
