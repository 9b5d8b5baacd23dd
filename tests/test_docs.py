"""The documentation's examples run: rulesets compile (or fail with the documented codes), Python examples
execute and print what the docs show, ``servicerules lint`` / ``check`` sessions reproduce their output, every
error code is documented and every relative link resolves.

Conventions in ``docs/**/*.md`` (directives are HTML comments, invisible when rendered):

* A fenced ``yaml`` block whose first line that is not a comment starts with ``ruleset:`` is a complete
  ruleset: it must compile (reference backend). ``<!-- doc-test: error SR201 SR202 -->`` before it: it must
  fail with exactly these codes, in this order.
* ``<!-- doc-test: file NAME -->`` writes the next block to ``NAME`` in the document's working directory;
  ``<!-- doc-test: append NAME -->`` appends it after a blank line (and the file, once it is a ruleset, must compile);
  ``<!-- doc-test: patch SRC DEST -->`` before a ``diff`` block applies its ``-``/``+`` lines to ``SRC``.
  Directives combine with ``;``.
* A ``python`` block whose first line is ``# doc-test`` is executed (blocks of one document share a namespace
  and a working directory, in document order). ``<!-- doc-test: output -->`` before the ``text`` block that
  follows it: that is exactly what the Python block prints.
* In ``console`` blocks, ``$ servicerules lint …`` must print exactly the lines that follow it;
  ``$ servicerules check …`` and ``$ servicerules map …`` too, up to the elapsed time, the backend name and
  line wrapping;
  ``$ echo $?`` shows the exit status of the command before it. Other commands are not run.
  ``<!-- doc-test: skip -->`` exempts a block.

Every document runs in a fresh directory holding links to the repository's ``examples/``, ``rulesets/``
and ``schemas/``, so commands are written as if run from the repository root.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import servicerules
from servicerules.cli import run
from servicerules.errors import CODES, RulesetError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOC_FILES = sorted(DOCS.rglob("*.md"))
LINKED_DIRS = ("examples", "rulesets", "schemas")

_FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    directives: dict[str, list[str]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def _parse_directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    pending: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        if directive:
            pending.update(_parse_directives(directive.group(1)))
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            indent, ticks, lang = fence.groups()
            body: list[str] = []
            j = i + 1
            while j < len(lines) and lines[j].strip() != ticks:
                body.append(lines[j])
                j += 1
            text = textwrap.dedent("\n".join(body)) if indent else "\n".join(body)
            found.append(Block(path, i + 1, lang, text + "\n" if body else "", pending))
            pending = {}
            i = j + 1
            continue
        if line.strip():
            pending = {}  # a directive applies to the block right after it (blank lines allowed)
        i += 1
    return found


ALL_BLOCKS = [b for doc in DOC_FILES for b in blocks_of(doc)]


def _is_ruleset(text: str) -> bool:
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        return line.startswith("ruleset:")
    return False


def _ruleset_blocks() -> list[Block]:
    return [b for b in ALL_BLOCKS if b.lang == "yaml" and "skip" not in b.directives and (_is_ruleset(b.text) or "error" in b.directives)]


def _check_ruleset(text: str, expected_codes: list[str] | None, where: str) -> None:
    if expected_codes is None:
        try:
            servicerules.load(text, backend="reference")
        except RulesetError as exc:  # pragma: no cover - shows the problem
            pytest.fail(f"{where}: documented ruleset does not compile:\n{exc.render()}")
        return
    with pytest.raises(RulesetError) as info:
        servicerules.load(text, backend="reference")
    assert info.value.codes == expected_codes, f"{where}: expected {expected_codes}, got:\n{info.value.render()}"


@pytest.mark.parametrize("block", _ruleset_blocks(), ids=lambda b: b.where)
def test_documented_rulesets_compile_or_fail_as_documented(block: Block) -> None:
    _check_ruleset(block.text, block.directives.get("error"), block.where)


# -- executable documents --------------------------------------------------------------------------------


def _apply_diff(source: str, diff: str, where: str) -> str:
    """Replace each run of ``-`` lines by the ``+`` lines after it (context lines are ignored)."""
    groups: list[tuple[list[str], list[str]]] = []
    removed: list[str] = []
    added: list[str] = []
    for line in diff.splitlines():
        if line.startswith("-"):
            if added:
                groups.append((removed, added))
                removed, added = [], []
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            if removed or added:
                groups.append((removed, added))
                removed, added = [], []
    if removed or added:
        groups.append((removed, added))
    for old, new in groups:
        old_text = "\n".join(old) + "\n"
        assert source.count(old_text) == 1, f"{where}: the diff's lines {old!r} do not occur exactly once"
        source = source.replace(old_text, "\n".join(new) + "\n" if new else "")
    return source


def _normalise_check_output(text: str) -> str:
    text = re.sub(r"\bin\s+\d+\.\d+s\b", "in <elapsed>", text)
    text = re.sub(r"\(backend (?:durable_rules|reference)\)", "(backend <backend>)", text)
    return " ".join(text.split())


def _console_commands(text: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:].strip(), []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(cmd, "\n".join(out) + "\n" if out else "") for cmd, out in pairs]


def _run_console(block: Block) -> None:
    last_code: int | None = None
    for command, expected in _console_commands(block.text):
        if command == "echo $?":
            assert last_code is not None, f"{block.where}: 'echo $?' without a servicerules command before it"
            assert expected.strip() == str(last_code), f"{block.where}: exit status {last_code}, docs say {expected.strip()}"
            continue
        argv = shlex.split(command)
        if argv[:1] != ["servicerules"] or argv[1:2] not in (["lint"], ["check"], ["map"]):
            last_code = None
            continue
        out, err = io.StringIO(), io.StringIO()
        last_code = run(argv[1:], out, err)
        actual = out.getvalue() + err.getvalue()
        if argv[1] == "lint":
            assert actual == expected, f"{block.where}: output of '{command}' differs:\n{actual}"
        else:
            assert _normalise_check_output(actual) == _normalise_check_output(expected), (
                f"{block.where}: output of '{command}' differs:\n{actual}"
            )


def _exec_python(block: Block, namespace: dict[str, object]) -> str:
    stdout = io.StringIO()
    code = compile(block.text, block.where, "exec")
    with contextlib.redirect_stdout(stdout):
        exec(code, namespace)  # noqa: S102 - running the documentation's own examples
    return stdout.getvalue()


def _executable_docs() -> list[Path]:
    def runs(b: Block) -> bool:
        if "skip" in b.directives:
            return False
        if b.lang == "python":
            return b.text.startswith("# doc-test")
        if b.lang == "console":
            return any(c.startswith(("servicerules lint", "servicerules check", "servicerules map")) for c, _ in _console_commands(b.text))
        return bool({"file", "append", "patch"} & set(b.directives))

    return [doc for doc in DOC_FILES if any(runs(b) for b in blocks_of(doc))]


@pytest.mark.parametrize("doc", _executable_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_document_examples_run(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in LINKED_DIRS:
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {"__name__": "__doc_test__"}
    printed: tuple[str, str] | None = None  # (where, stdout) of the last Python block
    for block in blocks_of(doc):
        d = block.directives
        if "skip" in d:
            continue
        if "output" in d:
            assert printed is not None, f"{block.where}: output block without a '# doc-test' Python block before it"
            assert printed[1] == block.text, f"{printed[0]} printed:\n{printed[1]}\nbut {block.where} shows:\n{block.text}"
            printed = None
            continue
        if "file" in d:
            (work / d["file"][0]).write_text(block.text, encoding="utf-8")
        if "append" in d:
            target = work / d["append"][0]
            before = target.read_text(encoding="utf-8") if target.exists() else ""
            target.write_text(before + ("\n" if before else "") + block.text, encoding="utf-8")
            if _is_ruleset(target.read_text(encoding="utf-8")):
                _check_ruleset(target.read_text(encoding="utf-8"), d.get("error"), block.where)
        if "patch" in d:
            source, dest = d["patch"]
            text = _apply_diff((work / source).read_text(encoding="utf-8"), block.text, block.where)
            (work / dest).write_text(text, encoding="utf-8")
        if block.lang == "python" and block.text.startswith("# doc-test"):
            printed = (block.where, _exec_python(block, namespace))
        elif block.lang == "console":
            _run_console(block)
    servicerules_objects = [v for v in namespace.values() if isinstance(v, servicerules.CompiledRuleset)]
    for ruleset in servicerules_objects:
        ruleset.close()


# -- coverage of the reference -----------------------------------------------------------------------------


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+\s+(SR\d{3})\b", text, flags=re.MULTILINE))
    missing = sorted(set(CODES) - headings)
    assert not missing, f"docs/reference/errors.md has no section for {missing}"
    unknown = sorted(headings - set(CODES))
    assert not unknown, f"docs/reference/errors.md documents codes that do not exist: {unknown}"


_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match and not in_fence:
            slug = _slug(match.group(1))
            n = counts.get(slug, 0)
            anchors.add(slug if n == 0 else f"{slug}-{n}")
            counts[slug] = n + 1
    return anchors


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # not inside code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    return _LINK.findall(text)


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_the_documentation_map_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = {(DOCS / target.partition("#")[0]).resolve() for target in _links(DOCS / "index.md") if not target.startswith("http")}
    missing = [str(p.relative_to(DOCS)) for p in DOC_FILES if p.name != "index.md" and p.resolve() not in listed]
    assert index and not missing, f"docs/index.md does not link {missing}"
