"""One error tree for servicerules.

Two families under :class:`ServiceRulesError`, as in jsonschema's SchemaError / ValidationError:

* :class:`RulesetError` — the policy author's ruleset is wrong (YAML, schema, expressions, references).
  Carries every :class:`Diagnostic` found in the file, sorted by location.
* :class:`InteractionError` — an interaction (input data) is wrong; the record is rejected with a reason.
* :class:`EvaluationError` — evaluation could not complete (for example the matching engine failed).

Every diagnostic has a stable code (listed in ``docs/reference/errors.md``), a message, a location
(``file:line:col``, 1-based) where one exists, the offending source line with a caret, and a hint.
"""

from __future__ import annotations

import difflib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "CODES",
    "DateOutOfRange",
    "Diagnostic",
    "EvaluationError",
    "InteractionError",
    "Location",
    "RulesetError",
    "ServiceRulesError",
    "did_you_mean",
    "out_of_date_range",
]

CODES: dict[str, str] = {
    # ruleset files and their schema
    "SR100": "YAML syntax error",
    "SR101": "duplicate key in a mapping",
    "SR102": "ruleset document is empty or not a mapping",
    "SR103": "file cannot be read",
    "SR110": "unknown field",
    "SR111": "missing required field",
    "SR112": "invalid value",
    "SR113": "duplicate id",
    # expressions, templates and references
    "SR200": "expression syntax error",
    "SR201": "unknown fact",
    "SR202": "type mismatch",
    "SR203": "unknown lexicon",
    "SR204": "unknown action",
    "SR205": "unknown calendar",
    "SR206": "invalid regular expression",
    "SR207": "unknown function or wrong arguments",
    "SR208": "invalid message template",
    "SR209": "event fact used outside an event-scoped rule",
    "SR210": "an SLA's 'when' depends on its own facts",
    # input records
    "SR301": "malformed JSON",
    "SR302": "record is not a JSON object",
    "SR303": "bad text encoding",
    "SR304": "truncated input",
    "SR305": "CSV row with the wrong number of fields",
    "SR306": "record too large",
    "SR310": "record cannot be mapped onto an interaction",
    "SR311": "timestamp without a time zone",
    "SR312": "events not in time order",
    "SR313": "interaction created after as_of",
    # evaluation
    "SR400": "matching engine error",
    "SR401": "batch worker process failed",
    "SR402": "interaction could not be validated or evaluated (internal error)",
    "SR403": "an input could not be read (to the end)",
    # policy tests
    "SR500": "policy-test file is empty or not a mapping",
    "SR501": "file not found or unreadable (a test path, a test file's ruleset, an interaction file)",
    "SR502": "unknown rule in a policy-test expectation",
    "SR503": "unknown action in a policy-test expectation",
}


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A position in a source file; ``line`` and ``col`` are 1-based (col counts characters, not bytes)."""

    file: str | None
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file or '<string>'}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    location: Location | None = None
    hint: str | None = None
    source_line: str | None = field(default=None, compare=False)
    path: tuple[str | int, ...] = field(default=(), compare=False)
    """Where in the document (or interaction record) the problem is, e.g. ``("rules", 3, "when")``."""

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file or "", loc.line, loc.col, self.code) if loc else ("~", 0, 0, self.code)

    def render(self) -> str:
        """``file:line:col: CODE message``, the source line, a caret under the column, then the hint."""
        head = f"{self.location}: " if self.location else ""
        lines = [f"{head}{self.code} {self.message}"]
        if self.source_line is not None and self.location is not None:
            text = self.source_line.rstrip("\n")
            lines.append(f"    {text}")
            lines.append("    " + " " * (self.location.col - 1) + "^")
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "code": self.code,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "hint": self.hint,
            "path": list(self.path),
        }

    def __str__(self) -> str:
        return self.render()


class ServiceRulesError(Exception):
    """Base of every error servicerules raises on purpose."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its diagnostics, not from its text (``args``), whatever a subclass's __init__ takes: a
        # process pool pickles a worker's exception, and one that cannot be unpickled breaks the whole pool.
        return (_rebuild_error, (type(self), self.diagnostics), self.__dict__ or None)


def _rebuild_error(cls: type[ServiceRulesError], diagnostics: tuple[Diagnostic, ...]) -> ServiceRulesError:
    error = cls.__new__(cls)
    ServiceRulesError.__init__(error, diagnostics)
    return error


class RulesetError(ServiceRulesError):
    """The ruleset (YAML, schema, expressions or references) is wrong. Holds all problems of the file."""


class InteractionError(ServiceRulesError):
    """An interaction record is invalid and was rejected; the diagnostics give the reason."""


class EvaluationError(ServiceRulesError):
    """Evaluation failed for a reason other than bad input (for example the engine reported an error)."""


def internal_error(exc: BaseException, doing: str) -> InteractionError:
    """SR402 for an interaction whose validation or evaluation (``doing``) raised ``exc``, an exception that
    is not the record's fault, naming the exception and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    text = str(exc)
    if len(text) > 300:  # an exception may quote a whole text of the record
        text = text[:300] + "…"
    if out_of_date_range(exc):
        message = (
            f"this interaction could not be {doing}: a time of the record, or as_of, is too close to the year 1 or "
            f"9999 to compute with ({type(exc).__name__}: {text})"
        )
        hint = "check the record's timestamps and as_of"
    else:
        message = f"this interaction could not be {doing}: {type(exc).__name__}: {text}{where}"
        hint = "this is a bug in servicerules, not in the record: please report it with the record"
    return InteractionError([Diagnostic("SR402", message, hint=hint)])


class DateOutOfRange(ValueError):
    """A computation with dates (a business calendar's) went beyond the dates it supports."""


def out_of_date_range(exc: BaseException) -> bool:
    """Whether ``exc`` says that a time was too close to the year 1 or 9999 to compute with: the fault of the
    record (or of as_of), not a bug."""
    return isinstance(exc, DateOutOfRange) or (isinstance(exc, OverflowError) and "date" in str(exc))


def ruleset_unreadable(path: str | Path, exc: OSError) -> str:
    """The commands' message for a ruleset file that cannot be opened, in the words of ``lint``'s SR103
    and of ``input file not found`` rather than an OS error's ``[Errno 2] No such file or directory: 'x'``."""
    return f"cannot read the ruleset {str(path)!r}: {exc.strerror or exc}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, as in rule-engine: "did you mean 'first_reply_time'?"."""
    pool: Sequence[str] = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        # a suffix or prefix of a dotted name often tells more than edit distance ("reply_time")
        tail = [c for c in pool if c.endswith("." + name) or c.split(".")[-1] == name]
        close = tail[:1]
    return f"did you mean '{close[0]}'?" if close else None
