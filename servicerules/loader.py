"""YAML loading that keeps source positions.

``yaml.safe_load`` forgets where things were, so its users cannot point at a mistake (the lesson of
ansible-rulebook). This loader composes the node tree, builds plain Python data from it and records, for
every mapping key and value, the line and column where it starts. Duplicate keys are errors (PyYAML
silently keeps the last one). Later stages turn a document path such as ``("rules", 2, "when")`` plus an
offset inside an expression back into ``file:line:col``.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servicerules.errors import Diagnostic, Location, RulesetError

__all__ = ["SourceDocument", "load_yaml", "read_source"]

DocPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Pos:
    line: int  # 0-based, as PyYAML marks
    col: int
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"


@dataclass
class SourceDocument:
    """A loaded YAML document with the position of every key and value."""

    text: str
    file: str | None
    data: Any
    values: dict[DocPath, _Pos] = field(default_factory=dict)
    keys: dict[DocPath, _Pos] = field(default_factory=dict)
    raw: dict[DocPath, str] = field(default_factory=dict)
    """The source text of plain (unquoted) scalars, e.g. ``1.10`` that YAML reads as the float 1.1."""

    def __post_init__(self) -> None:
        self._lines = self.text.splitlines()

    def source_line(self, line: int) -> str | None:
        """The text of 1-based ``line``, or None past the end."""
        return self._lines[line - 1] if 0 < line <= len(self._lines) else None

    def location(self, path: DocPath, *, key: bool = False) -> Location | None:
        """Where the value (or, with ``key=True``, the key) at ``path`` starts; nearest ancestor if absent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while True:
            pos = table.get(probe) or (self.values.get(probe) if key else None)
            if pos is not None:
                return Location(self.file, pos.line + 1, pos.col + 1)
            if not probe:
                return Location(self.file, 1, 1) if self.text else None
            probe = probe[:-1]

    def scalar_location(self, path: DocPath, offset: int) -> Location | None:
        """Where character ``offset`` of the string scalar at ``path`` sits in the file."""
        pos = self.values.get(tuple(path))
        if pos is None:
            return self.location(path)
        if pos.style in ("|", ">"):
            # Block scalar: the content starts on the next line at the block's indentation.
            value = self.data_at(path)
            text = value if isinstance(value, str) else ""
            line_no = pos.line + 1
            before = text[:offset]
            line_no += before.count("\n")
            col_in_line = len(before) - (before.rfind("\n") + 1)
            source = self.source_line(line_no + 1) or ""
            indent = len(source) - len(source.lstrip(" "))
            return Location(self.file, line_no + 1, indent + col_in_line + 1)
        shift = 1 if pos.style in ("'", '"') else 0
        return Location(self.file, pos.line + 1, pos.col + shift + offset + 1)

    def data_at(self, path: DocPath) -> Any:
        node = self.data
        for part in path:
            node = node[part]
        return node

    def diagnostic(
        self,
        code: str,
        message: str,
        path: DocPath,
        *,
        hint: str | None = None,
        key: bool = False,
        offset: int | None = None,
    ) -> Diagnostic:
        loc = self.scalar_location(path, offset) if offset is not None else self.location(path, key=key)
        return Diagnostic(
            code=code,
            message=message,
            location=loc,
            hint=hint,
            source_line=self.source_line(loc.line) if loc else None,
            path=tuple(path),
        )


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans: only ``true`` and ``false`` (in three spellings) are
    booleans. YAML 1.1's ``yes``/``no``/``on``/``off`` stay text, so a Norwegian lexicon (``no:``), a
    locale ``no`` or a status ``on`` mean what they say."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


_MERGE_TAG = "tag:yaml.org,2002:merge"


MAX_VALUES = 1_000_000
"""The most values (scalars, lists and mappings) one YAML document may build into, an alias counted once per
use: a few lines of aliases of aliases can stand for billions."""


class _Builder:
    """Builds Python data from a composed node tree, recording positions and duplicate keys."""

    def __init__(self, doc: SourceDocument):
        self.doc = doc
        self.constructor = YamlLoader("")  # only its scalar constructors are used
        self.problems: list[Diagnostic] = []
        self._merged: dict[yaml.Node, int] = {}
        """How many pairs of each flattened mapping node a merge key brought in (they come first)."""
        self._open: set[int] = set()
        """The collections being built (an alias to one of them is inside the node it names)."""
        self._built = 0

    def _duplicate(self, key: Any, key_node: yaml.Node, first: yaml.Node, path: DocPath) -> Diagnostic:
        child = path + (key if isinstance(key, (str, int)) else str(key),)
        mark = key_node.start_mark
        return Diagnostic(
            code="SR101",
            message=f"duplicate key '{key}' (first defined at line {first.start_mark.line + 1})",
            location=Location(self.doc.file, mark.line + 1, mark.column + 1),
            hint="each key may appear once in a mapping; merge the two entries",
            source_line=self.doc.source_line(mark.line + 1),
            path=child,
        )

    def build(self, node: yaml.Node, path: DocPath) -> Any:
        self._built += 1
        if self._built > MAX_VALUES:  # aliases of aliases ("billion laughs") would be built for hours
            raise yaml.constructor.ConstructorError(
                None, None,
                f"the document holds more than {MAX_VALUES:,} values, an alias counted each time it is used "
                "(aliases of aliases multiply)", self._where(path),
            )
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._open:  # a recursive alias (fields: &f {a: *f}) would be built forever
                raise yaml.constructor.ConstructorError(
                    None, None, "an alias refers to a mapping or list that contains it (a recursive alias)", self._where(path)
                )
            self._open.add(id(node))
            try:
                return self._build(node, path)
            finally:
                self._open.discard(id(node))
        return self._build(node, path)

    def _where(self, path: DocPath) -> yaml.Mark | None:
        """The position of the key (or of the list's) that holds ``path``: an alias has no node of its own."""
        for end in range(len(path), -1, -1):
            pos = self.doc.keys.get(path[:end]) or self.doc.values.get(path[:end])
            if pos is not None:
                return yaml.Mark(self.doc.file or "<string>", 0, pos.line, pos.col, None, 0)
        return None

    def _build(self, node: yaml.Node, path: DocPath) -> Any:
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        self.doc.values[path] = _Pos(node.start_mark.line, node.start_mark.column, style)
        if isinstance(node, yaml.ScalarNode) and style is None:
            self.doc.raw[path] = node.value
        if isinstance(node, yaml.MappingNode):
            merged = self._merged.get(node)
            if merged is None:  # not flattened yet (an aliased node is built once per alias)
                explicit = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
                self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<): merged pairs come first
                merged = self._merged[node] = len(node.value) - explicit
            # A key written in this mapping overrides a merged one, as a merged one does another merged after it
            # (PyYAML orders them so); only two written keys clash.
            chosen: dict[Any, tuple[yaml.Node, yaml.Node, bool]] = {}
            for position, (key_node, value_node) in enumerate(node.value):
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
                written = position >= merged
                first = chosen.get(key)
                if first is not None and written and first[2]:
                    self.problems.append(self._duplicate(key, key_node, first[0], path))
                    continue
                chosen[key] = (key_node, value_node, written)
            result: dict[Any, Any] = {}
            for key, (key_node, value_node, _) in chosen.items():
                child = path + (key if isinstance(key, (str, int)) else str(key),)
                self.doc.keys[child] = _Pos(key_node.start_mark.line, key_node.start_mark.column)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def _syntax_hint(exc: yaml.MarkedYAMLError, doc: SourceDocument) -> str | None:
    """What to write instead, for the YAML errors an unquoted text causes: a column header such as
    ``Resolved?`` or ``Answered: Y/N`` inside ``{…}``, a message with ``: `` in it. PyYAML names only the
    token it did not expect, often on the next line."""
    problem, context = exc.problem or "", exc.context or ""
    if problem == "mapping values are not allowed here":  # also a key indented too far: no hint then
        mark = exc.problem_mark
        line = (doc.source_line(mark.line + 1) or "") if mark is not None else ""
        key, colon, _ = line[:mark.column if mark is not None else 0].partition(": ")
        if not colon:
            return None
        value = line[len(key) + 2:].strip()
        example = f'{key.strip()}: "{value}"' if '"' not in value and " #" not in value else 'message: "Note: the reply…"'
        return f'quote a value that holds ": ", which YAML reads as a key: {example}'
    if not context.startswith("while parsing a flow"):
        return None
    got = problem.rpartition("but got ")[2]
    opened, mark = exc.context_mark, exc.problem_mark
    if opened is None or mark is None:
        return None
    quote = (f"inside {{…}} and […], {got} is YAML syntax: quote a text that holds it "
             '({column: "Resolved?"}, {column: "Answered: Y/N"})')
    if got == "'?'" or (got == "':'" and mark.line == opened.line):
        return quote
    if mark.line == opened.line:
        return None
    unclosed = f"the '{'{' if 'mapping' in context else '['}' at line {opened.line + 1}, column {opened.column + 1} is not closed"
    if " #" in (doc.source_line(opened.line + 1) or ""):
        return f'{unclosed}: \' #\' starts a comment, which hid the rest of that line; quote a text that holds " #" ({{column: "Note #1"}})'
    return f"{unclosed}; or, {quote}" if got == "':'" else unclosed  # a ':' of a key on the next line, or inside the brackets


def load_yaml(text: str, file: str | None = None) -> SourceDocument:
    """Parse one YAML document keeping positions. Raises :class:`RulesetError` (SR100, SR101)."""
    doc = SourceDocument(text=text, file=file, data=None)
    try:
        node = yaml.compose(text, Loader=YamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise RulesetError(
            [Diagnostic("SR100", message, loc, hint=_syntax_hint(exc, doc),
                        source_line=doc.source_line(loc.line) if loc else None)]
        ) from None
    except yaml.YAMLError as exc:
        raise RulesetError([Diagnostic("SR100", str(exc), Location(file, 1, 1))]) from None
    if node is None:
        doc.data = None
        return doc
    builder = _Builder(doc)
    try:
        doc.data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else None
        raise RulesetError([Diagnostic("SR100", str(exc.problem), loc)]) from None
    if builder.problems:
        raise RulesetError(builder.problems)
    return doc


def read_source(path_or_text: str | Path) -> tuple[str, str | None]:
    """``(text, file name)`` for a path, or the text itself when it is YAML rather than a path."""
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8"), str(path_or_text)
    if not isinstance(path_or_text, str):
        hint = " (decode bytes first)" if isinstance(path_or_text, (bytes, bytearray)) else ""
        raise TypeError(f"a ruleset is a path (str or pathlib.Path) or its YAML text (str){hint}, not {type(path_or_text).__name__}")
    if "\n" not in path_or_text.strip():
        # a ruleset needs several lines (ruleset, version, rules): one line is a path
        if not path_or_text:  # Path("") is the current directory: IsADirectoryError about '.'
            raise FileNotFoundError(errno.ENOENT, "no ruleset: the path (or YAML text) is an empty string", path_or_text)
        return Path(path_or_text).read_text(encoding="utf-8"), path_or_text
    return path_or_text, None
