"""The policy-testing pages run: their test files are written, their ``servicerules test`` sessions rerun.

``tests/test_docs.py`` compiles YAML blocks that start with ``ruleset:`` as rulesets and runs self-contained
``# doc-test`` Python blocks. Policy-test files start with ``ruleset:`` too, so the pages mark them
``<!-- doc-test: skip; policy-file NAME -->``; this module runs those pages in document order:

* ``policy-file NAME`` (or ``file NAME``) writes the next block to ``NAME`` in the page's working directory,
  ``policy-append NAME`` appends it (as is: a block of cases continues the file's ``cases:`` list),
  ``patch SRC DEST`` applies a ``diff`` block to ``SRC`` as ``tests/test_docs.py`` does (a ruleset the cases use);
* in ``console`` blocks, ``$ servicerules test …`` must print exactly the lines that follow it (standard
  output, then standard error) and ``$ echo $?`` shows its exit status; other commands are not run, nor is
  the ``echo $?`` after them;
* a ``python`` block marked ``policy-run`` is executed (blocks of a page share a namespace), and the block
  marked ``policy-output`` after it is exactly what it printed.

Each page runs in a fresh directory with links to ``examples/``, ``rulesets/`` and ``schemas/``, so commands
read as if run from the repository root; files are never written through those links.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from servicerules.testing.command import add_arguments, run_command

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "docs" / "how-to" / "write-policy-tests.md",
    ROOT / "docs" / "how-to" / "test-a-policy-change.md",
    ROOT / "docs" / "reference" / "policy-tests.md",
]

_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    line: int
    lang: str
    text: str
    directives: dict[str, list[str]] = field(default_factory=dict)


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    pending: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        fence = _FENCE.match(lines[i])
        if directive:
            for part in directive.group(1).split(";"):
                words = part.split()
                if words:
                    pending[words[0]] = words[1:]
        elif fence:
            end = i + 1
            while end < len(lines) and lines[end].strip() != fence.group(1):
                end += 1
            body = lines[i + 1:end]
            found.append(Block(i + 1, fence.group(2), "\n".join(body) + "\n" if body else "", pending))
            pending = {}
            i = end
        elif lines[i].strip():
            pending = {}
        i += 1
    return found


def apply_diff(source: str, diff: str, where: str) -> str:
    """The ``patch`` directive of ``tests/test_docs.py``, so both runners read a page's diff blocks alike."""
    spec = importlib.util.spec_from_file_location("_docs_runner", ROOT / "tests" / "test_docs.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    result: str = module._apply_diff(source, diff, where)
    return result


def run_servicerules_test(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="servicerules test")
    add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    code = run_command(parser.parse_args(argv), out, err)
    return code, out.getvalue() + err.getvalue()


def test_pages_exist_and_have_runnable_examples():
    for page in PAGES:
        kinds = {k for b in blocks(page) for k in b.directives}
        assert "policy-file" in kinds, f"{page} has no policy-test file example"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("examples", "rulesets", "schemas"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {"__name__": "__policy_doc_test__"}
    printed: tuple[int, str] | None = None
    where = str(page.relative_to(ROOT))
    for block in blocks(page):
        d = block.directives
        target = (d.get("policy-file") or d.get("file") or d.get("policy-append") or [None])[0]
        if target:
            path = work / target
            assert path.resolve().is_relative_to(work.resolve()), f"{where}:{block.line}: would write into the repository"
            path.parent.mkdir(parents=True, exist_ok=True)
            before = path.read_text(encoding="utf-8") if "policy-append" in d and path.exists() else ""
            path.write_text(before + block.text, encoding="utf-8")
        if "patch" in d:
            source, dest = d["patch"]
            patched = apply_diff((work / source).read_text(encoding="utf-8"), block.text, f"{where}:{block.line}")
            assert (work / dest).resolve().is_relative_to(work.resolve()), f"{where}:{block.line}: would write into the repository"
            (work / dest).write_text(patched, encoding="utf-8")
        if "policy-run" in d:
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                exec(compile(block.text, f"{where}:{block.line}", "exec"), namespace)  # noqa: S102
            printed = (block.line, stdout.getvalue())
        if "policy-output" in d:
            assert printed is not None, f"{where}:{block.line}: policy-output without a policy-run block before it"
            assert printed[1] == block.text, f"{where}:{printed[0]} printed:\n{printed[1]}\nbut {where}:{block.line} shows:\n{block.text}"
            printed = None
        if block.lang == "console":
            last: int | None = None
            ran = False  # whether the command before an 'echo $?' was run here
            commands: list[tuple[str, list[str]]] = []
            for line in block.text.splitlines():
                if line.startswith("$ "):
                    commands.append((line[2:], []))
                elif commands:
                    commands[-1][1].append(line)
            for command, lines in commands:
                expected = "\n".join(lines) + "\n" if lines else ""
                if command.strip() == "echo $?":
                    if not ran:
                        continue
                    assert last is not None and expected.strip() == str(last), f"{where}:{block.line}: exit status {last}, page says {expected.strip()}"
                    continue
                argv = shlex.split(command)
                ran = argv[:2] == ["servicerules", "test"]
                if not ran:
                    last = None
                    continue
                last, actual = run_servicerules_test(argv[2:])
                assert actual == expected, f"{where}:{block.line}: '{command}' printed:\n{actual}"
