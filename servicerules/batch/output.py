"""Sinks for batch results (violation files, rejected records, JUnit XML, summary JSON), the progress bar
and the terminal summary.

A sink receives every record's result in input order, in the parent process, whether the interactions
were evaluated serially or by worker processes: :meth:`BatchSink.add_outcome` for an evaluated
interaction, :meth:`BatchSink.add_rejected` for a rejected record, and :meth:`BatchSink.close` once at the
end with the final summary, also after an interrupt or an error (the runner closes every sink it is
given, whatever happens). Every file a sink writes is valid when it
is closed: a JSON array is closed, CSV rows are complete, JSON Lines end with a newline.
"""

from __future__ import annotations

import csv
import json
import os
import re
from fractions import Fraction
from typing import IO, Any, Callable, Iterable, Protocol, Sequence, TextIO, TypeVar

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.cells import cell_len
from rich.table import Column, Table
from rich.text import Text

from servicerules._junit import JUnitCase, JUnitSuite, junit_xml
from servicerules.batch.targets import TargetResult, format_result
from servicerules.batch.summary import BatchSummary, GroupStats, InteractionOutcome, RejectedRecord, RowDetail, ViolationRow, severity_threshold
from servicerules.model.interaction import Interaction
from servicerules.report import Violation

__all__ = [
    "CSV_COLUMNS",
    "OutcomeDigest",
    "VIOLATION_FORMATS",
    "BatchProgress",
    "BatchSink",
    "InteractionWriter",
    "JUnitWriter",
    "RejectsWriter",
    "SummaryJsonWriter",
    "SummaryPrinter",
    "ViolationWriter",
    "make_progress",
    "violation_format",
]

VIOLATION_FORMATS = ("jsonl", "json", "csv")

#: See :meth:`BatchSink.outcome_digest`.
OutcomeDigest = Callable[[Sequence[InteractionOutcome]], Any]

#: Columns of the CSV violation output, in order.
CSV_COLUMNS = (
    "interaction_id",
    "rule_id",
    "severity",
    "mode",
    "message",
    "event_index",
    "at",
    "excerpt",
    "actions",
    "ruleset",
    "version",
)

_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}


def violation_format(path: str | None, fmt: str | None = None) -> str:
    """The violation output format: ``fmt`` when given, else from the extension of ``path``
    (``.jsonl``/``.ndjson``, ``.json``, ``.csv``), else JSON Lines."""
    if fmt is not None:
        if fmt not in VIOLATION_FORMATS:
            raise ValueError(f"unknown violation format {fmt!r}; expected one of {', '.join(VIOLATION_FORMATS)}")
        return fmt
    if path:
        return _EXTENSIONS.get(os.path.splitext(path)[1].lower(), "jsonl")
    return "jsonl"


class BatchSink:
    """Receives the results of a batch run in input order. Every method does nothing by default."""

    #: How much of each violation the outcomes it receives must carry (building more costs time in the
    #: workers: ask only for what is used). The default fills every field of a row but its JSON text.
    violation_detail: RowDetail = RowDetail.ROWS

    def begin(self, summary: BatchSummary) -> None:
        """Called once before the first result, with the (empty) summary naming the ruleset."""

    def add_outcome(self, outcome: InteractionOutcome) -> None:
        """One evaluated interaction."""

    def outcome_digest(self) -> OutcomeDigest | None:
        """Optional, for speed: a function that folds consecutive outcomes into one value where they
        were evaluated (in a worker process), so that the sink does its per-interaction work there.
        When there is one, the runner calls :meth:`add_digest` once per chunk, in input order, instead of
        :meth:`add_outcome` for each interaction, and the sink must end up the same either way. Asked
        once, after :meth:`begin`; it must pickle (spawned workers receive a copy)."""
        return None

    def add_digest(self, digest: Any) -> None:
        """The :meth:`outcome_digest` of the next run of outcomes."""

    def add_rejected(self, rejected: RejectedRecord) -> None:
        """One record that could not be evaluated."""

    def close(self, summary: BatchSummary | None = None) -> None:
        """Called once at the end (also after an interrupt or an error) with the final summary; ``None``
        when the run never started (bad arguments, missing input, a sink whose :meth:`begin` raised):
        release resources, write nothing that needs a summary."""


# ------------------------------------------------------------------------------------------ violations


class ViolationWriter(BatchSink):
    """Writes violations as JSON Lines, one JSON array, or CSV (flat columns, see :data:`CSV_COLUMNS`).

    JSON Lines and JSON carry the full violation (the ``Violation`` schema of ``servicerules schema
    report``); CSV carries one row per violation with the action ids joined by ``;``. A JSON array is
    closed even when the run is interrupted, so the file is always valid JSON.

    A ``handle`` given to the constructor (an open file, ``sys.stdout``, an ``io.StringIO`` to read the
    text back) is completed and flushed by :meth:`close`, and stays open: it is the caller's to close.
    :meth:`open` closes the file it opened.
    """

    def __init__(self, handle: IO[str], fmt: str = "jsonl", *, ruleset: str = "", version: str = ""):
        self.handle = handle
        self.fmt = violation_format(None, fmt)
        self.count = 0
        self.ruleset = ruleset
        self.version = version
        self.violation_detail = RowDetail.ROWS if self.fmt == "csv" else RowDetail.JSON
        self._closed = False
        self._owns_handle = False  # set by open(): close() then closes the file too
        self._write_utf8: Callable[[bytes], object] | None = None  # writes encoded text as it is (see open)
        if self.fmt == "json":
            handle.write("[")
        elif self.fmt == "csv":
            header = _CsvRows()
            header.writer.writerow(CSV_COLUMNS)
            handle.write(header.text())

    @classmethod
    def open(cls, path: str, fmt: str | None = None) -> "ViolationWriter":
        """Open ``path`` for writing; the format comes from ``fmt`` or the file extension."""
        chosen = violation_format(path, fmt)
        handle = open(path, "w", encoding="utf-8", newline="" if chosen == "csv" else None)
        writer = cls(handle, chosen)
        writer._owns_handle = True
        if chosen == "csv" or os.linesep == "\n":  # no newline translation: the text's bytes are the file's
            writer._write_utf8 = handle.buffer.write
        return writer

    def begin(self, summary: BatchSummary) -> None:
        self.ruleset = self.ruleset or summary.ruleset
        self.version = self.version or summary.version

    def write(self, violation: Violation) -> None:
        """Write one violation (for callers that hold full reports)."""
        row = ViolationRow.from_violation(violation, with_json=self.violation_detail >= RowDetail.JSON)
        self.ruleset = self.ruleset or violation.ruleset.name
        self.version = self.version or violation.ruleset.version
        self.add_digest(self.outcome_digest().rows([(violation.interaction_id, row)]))

    def add_outcome(self, outcome: InteractionOutcome) -> None:
        self.add_digest(self.outcome_digest()([outcome]))

    def outcome_digest(self) -> "_ViolationText":
        return _ViolationText(self.fmt, self.ruleset, self.version, encode=self._write_utf8 is not None)

    def add_digest(self, digest: tuple[int, str | bytes]) -> None:
        count, text = digest
        if count:
            if self.fmt == "json" and self.count:
                self.handle.write(",")
            if isinstance(text, str):
                self.handle.write(text)
            else:  # encoded where it was made: this process need not decode it and encode it again
                assert self._write_utf8 is not None
                self.handle.flush()
                self._write_utf8(text)
            self.count += count

    def close(self, summary: BatchSummary | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        if self.fmt == "json":
            self.handle.write("\n]\n" if self.count else "]\n")
        if self._owns_handle:
            self.handle.close()
        else:
            self.handle.flush()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    """``text`` as a CSV cell that spreadsheet programs show as text: a cell beginning with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return would be run as a formula there (CSV injection, and customers
    write the texts), so it gets a leading ``'``, as they write text that looks like a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


class _CsvRows:
    """CSV rows, written by :attr:`writer`, each ended by a line feed (LF).

    A csv writer quotes a field only for the delimiter, the quote character and the characters of its line
    terminator, while a CSV reader ends a row at a carriage return (CR) as well as at an LF. With an LF
    terminator, a field holding a bare CR was written unquoted: a reader split the row there, and the text
    after the CR began a row of its own, whose first cell the formula guard (:func:`_csv_text`) never saw.
    Told that rows end with CR LF, the writer quotes every field with either in it; the rows still end
    with an LF, as they always did."""

    __slots__ = ("lines", "writer")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.writer = csv.writer(self, lineterminator="\r\n")

    def write(self, line: str) -> None:
        self.lines.append(line[:-2] + "\n")  # a csv writer writes each row, with its terminator, in one call

    def text(self) -> str:
        return "".join(self.lines)


class _ViolationText:
    """Violations as the text a :class:`ViolationWriter` writes: ``(count, text)``, the text UTF-8 encoded
    if asked. Worker processes run it (it pickles), so that the merging process only writes the text."""

    __slots__ = ("fmt", "ruleset", "version", "encode")

    def __init__(self, fmt: str, ruleset: str, version: str, *, encode: bool = False):
        self.fmt = fmt
        self.ruleset = ruleset
        self.version = version
        self.encode = encode

    def __call__(self, outcomes: Sequence[InteractionOutcome]) -> tuple[int, str | bytes]:
        count, text = self.rows((outcome.interaction_id, row) for outcome in outcomes for row in outcome.violations)
        return count, text.encode("utf-8") if self.encode else text

    def rows(self, rows: Iterable[tuple[str, ViolationRow]]) -> tuple[int, str]:
        if self.fmt == "csv":
            out = _CsvRows()
            writer = out.writer
            count = 0
            for interaction_id, row in rows:
                writer.writerow(
                    (
                        _csv_text(interaction_id),
                        row.rule_id,
                        row.severity,
                        row.mode,
                        _csv_text(row.message or ""),
                        "" if row.event_index is None else row.event_index,
                        row.at or "",
                        _csv_text(row.excerpt or ""),
                        ";".join(row.actions),
                        self.ruleset,
                        self.version,
                    )
                )
                count += 1
            return count, out.text()
        texts: list[str] = []
        for _, row in rows:
            if row.json is None:
                raise ValueError("violation rows carry no JSON text: evaluate with a sink that needs it")
            texts.append(row.json)
        if self.fmt == "json":  # the writer puts a ',' before it when it follows other violations
            return len(texts), ",".join("\n  " + text for text in texts)
        return len(texts), "".join(text + "\n" for text in texts)


# ------------------------------------------------------------------------------------- rejected records


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(obj: object, indent: int | None = None) -> str:
    r"""``obj`` as JSON text for a UTF-8 file, other characters than ASCII as they are. A surrogate, which
    UTF-8 cannot hold, is written as the text of its escape (``"\\udce4"`` in the file, the six characters
    ``\udce4`` read back), as a rejected record's ``raw`` shows one. Python gives a file name that is not
    UTF-8 (``März`` in Latin-1) such a character for each byte it cannot decode, and the ``source`` and
    ``file`` of a record rejected there, or the summary's ``error``, name that file."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", text)


_Writer = TypeVar("_Writer", bound="_LineWriter")


class _LineWriter(BatchSink):
    """A sink that writes one line of text per item. As for :class:`ViolationWriter`, a ``handle`` given to
    the constructor is flushed and stays open; :meth:`open` closes the file it opened."""

    def __init__(self, handle: IO[str]):
        self.handle = handle
        self.count = 0
        self._closed = False
        self._owns_handle = False

    @classmethod
    def open(cls: type[_Writer], path: str) -> _Writer:
        writer = cls(open(path, "w", encoding="utf-8", newline="\n"))
        writer._owns_handle = True
        return writer

    def _line(self, text: str) -> None:
        self.handle.write(text + "\n")
        self.count += 1

    def close(self, summary: BatchSummary | None = None) -> None:
        if not self._closed:
            self._closed = True
            if self._owns_handle:
                self.handle.close()
            else:
                self.handle.flush()


class RejectsWriter(_LineWriter):
    """Writes every rejected record as one JSON line: ``source`` (``file:line``), ``file``, ``line``,
    ``row``, ``code``, ``reason``, ``raw`` (the record's text, masked and cut to 1 KB, or null when not
    available; for an interaction a mapping made, the interaction as JSON; see
    :func:`~servicerules.batch.runner.check_files`) and ``raw_truncated``.

    As for :class:`ViolationWriter`, a ``handle`` given to the constructor is flushed and stays open;
    :meth:`open` closes the file it opened."""

    def add_rejected(self, rejected: RejectedRecord) -> None:
        line = {
            "source": rejected.source,
            "file": rejected.file,
            "line": rejected.line,
            "row": rejected.row,
            "code": rejected.code,
            "reason": rejected.reason,
            "raw": rejected.raw,
            "raw_truncated": rejected.raw_truncated,
        }
        self._line(_json_text(line))


class InteractionWriter(_LineWriter):
    """Writes interactions as JSON Lines, one interaction model per line without its null fields
    (``servicerules map``): pass :meth:`write` as :func:`~servicerules.batch.runner.map_files`'
    ``on_interaction`` and the writer among its ``sinks``, so that the run closes the file before it ends,
    also when a signal stops it.

    As for :class:`ViolationWriter`, a ``handle`` given to the constructor is flushed and stays open;
    :meth:`open` closes the file it opened."""

    def write(self, interaction: Interaction) -> None:
        self._line(interaction.model_dump_json(exclude_none=True))


# ---------------------------------------------------------------------------------------------- JUnit

_JUNIT_EXAMPLES = 10


class _RuleFailures:
    __slots__ = ("violations", "interactions", "examples")

    def __init__(self) -> None:
        self.violations = 0
        self.interactions = 0
        self.examples: list[str] = []


class _FailingRules:
    """Per rule with failing violations: (violations, interactions, the first examples). Worker processes
    run it (it pickles)."""

    __slots__ = ("threshold",)

    def __init__(self, threshold: int | None):
        self.threshold = threshold

    def __call__(self, outcomes: Sequence[InteractionOutcome]) -> dict[str, tuple[int, int, list[str]]]:
        found: dict[str, tuple[int, int, list[str]]] = {}
        if self.threshold is None:
            return found
        for outcome in outcomes:
            previous = ""
            for row in outcome.violations:
                if not row.fails(self.threshold):
                    continue
                violations, interactions, examples = found.get(row.rule_id) or (0, 0, [])
                if row.rule_id != previous:
                    interactions += 1
                previous = row.rule_id
                if len(examples) < _JUNIT_EXAMPLES:
                    examples.append(f"{outcome.interaction_id} ({outcome.source}): {row.message}")
                found[row.rule_id] = (violations + 1, interactions, examples)
        return found


class JUnitWriter(BatchSink):
    """JUnit XML for CI: **one test case per rule** (``classname`` = ruleset name, ``name`` = rule id).

    A rule's case fails when the run found enforced violations of it at or above ``fail_on`` (the
    ``--fail-on`` severity); the failure text gives the counts and the first few violations (interaction,
    ``file:line``, message). A rule that applied to no interaction is skipped. Rejected records make one
    more case, ``input records``, an error; an interrupted or failed run makes a ``run`` case, an error.

    Per rule rather than per interaction: a corpus of millions of interactions would make millions of
    cases, and a CI server tracks a test's history by name, so a stable rule id is the useful unit.
    Memory stays bounded (counts and a few examples per rule).
    """

    def __init__(self, path: str, *, fail_on: str | None = "info"):
        self.path = path
        self.threshold = severity_threshold(fail_on)
        self.fail_on = fail_on
        self._rules: dict[str, _RuleFailures] = {}
        self._rejected: list[str] = []

    def add_outcome(self, outcome: InteractionOutcome) -> None:
        self.add_digest(self.outcome_digest()([outcome]))

    def outcome_digest(self) -> "_FailingRules":
        return _FailingRules(self.threshold)

    def add_digest(self, digest: dict[str, tuple[int, int, list[str]]]) -> None:
        for rule_id, (violations, interactions, examples) in digest.items():
            failures = self._rules.get(rule_id)
            if failures is None:
                failures = self._rules[rule_id] = _RuleFailures()
            failures.violations += violations
            failures.interactions += interactions
            failures.examples.extend(examples[: _JUNIT_EXAMPLES - len(failures.examples)])

    def add_rejected(self, rejected: RejectedRecord) -> None:
        if len(self._rejected) < _JUNIT_EXAMPLES:
            self._rejected.append(f"{rejected.source}: {rejected.code} {rejected.reason}")

    def cases(self, summary: BatchSummary) -> list[JUnitCase]:
        classname = summary.ruleset
        cases: list[JUnitCase] = []
        for stats in summary.rules.values():
            name = stats.rule_id  # not the title: a CI server follows a test's history by its name
            failures = self._rules.get(stats.rule_id)
            if failures is not None:
                more = failures.violations - len(failures.examples)
                text = "\n".join(([stats.title] if stats.title else []) + failures.examples + ([f"… and {more} more"] if more > 0 else []))
                message = (
                    f"{failures.violations} {stats.severity or ''} violation{'s' if failures.violations != 1 else ''} "
                    f"in {failures.interactions} of {summary.evaluated} interactions"
                ).replace("  ", " ")
                cases.append(JUnitCase(name, classname, failure=message, failure_text=text))
            elif stats.violated + stats.compliant == 0 and summary.evaluated:
                cases.append(JUnitCase(name, classname, skipped="not applicable to any checked interaction"))
            else:
                cases.append(JUnitCase(name, classname))
        if summary.rejected:
            more = summary.rejected - len(self._rejected)
            text = "\n".join(self._rejected + ([f"… and {more} more"] if more > 0 else []))
            message = f"{summary.rejected} of {summary.read} records rejected"
            cases.append(JUnitCase("input records", f"{classname}.input", error=message + "\n" + text))
        else:
            cases.append(JUnitCase("input records", f"{classname}.input"))
        if summary.interrupted or summary.error:
            why = summary.error or f"interrupted after {summary.read} records"
            cases.append(JUnitCase("run", f"{classname}.input", error=why))
        return cases

    def close(self, summary: BatchSummary | None = None) -> None:
        if summary is None:
            return
        suite = JUnitSuite(f"servicerules check {summary.ruleset} {summary.version}", self.cases(summary), summary.elapsed)
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(junit_xml([suite]))


class SummaryJsonWriter(BatchSink):
    """Writes :meth:`BatchSummary.to_dict` as JSON when the run ends."""

    def __init__(self, path: str):
        self.path = path

    def close(self, summary: BatchSummary | None = None) -> None:
        if summary is None:
            return
        text = _json_text(summary.to_dict(), indent=2)
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


# ------------------------------------------------------------------------------------------- progress


class BatchProgress(Protocol):
    """What the runner reports progress to: records done and their size (units of ``readers.total_size``)."""

    def __enter__(self) -> "BatchProgress": ...

    def __exit__(self, *exc: object) -> None: ...

    def advance(self, records: int, size: int) -> None: ...


class _NoProgress:
    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, records: int, size: int) -> None:
        return None


class _RecordRate(ProgressColumn):
    """``12,345 records 2,100/s`` (the records rate; rich's own speed column would show bytes)."""

    def render(self, task: Task) -> Text:
        records = int(task.fields.get("records", 0))
        elapsed = task.elapsed or 0.0
        rate = f"{records / elapsed:,.0f}/s" if elapsed > 0.5 else "…/s"
        return Text(f"{records:,} records {rate}", style="progress.data.speed")


class _TimeLeft(TimeRemainingColumn):
    """The time left, once the rate means something: the first chunks come back from the workers nearly
    together, and an estimate from them promised seconds for a run of minutes."""

    SETTLING_SECONDS = 5.0

    def render(self, task: Task) -> Text:
        if not task.finished and (task.elapsed or 0.0) < self.SETTLING_SECONDS:
            return Text("-:--:--", style="progress.remaining")
        return super().render(task)


class _ProgressLine(Progress):
    """A progress line that leaves the terminal's last columns free. A terminal echoes Ctrl-C as ``^C`` where
    the cursor is: after a line as wide as the terminal (up to about 85 columns, where the bar took what the
    text left) the echo began a new line, and the last frame was drawn there, under a stale one."""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield _EchoRoom(self.make_tasks_table(self.tasks))


class _EchoRoom:
    """``renderable`` two columns narrower than the room it is given (the terminal's width at each frame)."""

    def __init__(self, renderable: RenderableType):
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, options.update_width(max(options.max_width - 2, 1)))


_NARROW_TERMINAL = 60
"""Below this width the line leaves out the bar and its words: at 40 columns "12,345 records" wrapped over
three lines, cut to "recor…"."""


class _RichProgress:
    def __init__(self, stream: TextIO, total: int | None):
        console = Console(file=stream)
        whole = Column(no_wrap=True)  # the words and figures stay on the line; the bar takes what they leave
        narrow = console.width < _NARROW_TERMINAL
        columns: list[ProgressColumn] = [SpinnerColumn(table_column=whole)]
        columns += [_RecordRate(table_column=whole)] if narrow else [TextColumn("checking", table_column=whole), _RecordRate(table_column=whole)]
        if total:
            columns += [] if narrow else [BarColumn()]
            columns += [TaskProgressColumn(table_column=whole)]
            columns += [_TimeLeft(table_column=whole)] if narrow else [TextColumn("ETA", table_column=whole), _TimeLeft(table_column=whole)]
        self._progress = _ProgressLine(*columns, console=console, transient=False, refresh_per_second=4)
        self._task = self._progress.add_task("check", total=total or None, records=0)
        self._records = 0

    def __enter__(self) -> "_RichProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:  # done: the last frame says so (sizes of mixed inputs need not add up to the total)
            done = max(self._progress.tasks[0].completed, 1)
            self._progress.update(self._task, total=done, completed=done)
        self._progress.stop()

    def advance(self, records: int, size: int) -> None:
        self._records += records
        self._progress.update(self._task, advance=size, records=self._records)


def make_progress(stream: TextIO | None, *, total: int | None = None, enabled: bool = True) -> BatchProgress:
    """A progress bar on ``stream`` (records, rate, and percentage and ETA when ``total`` is known), or a
    silent stand-in when ``enabled`` is false or ``stream`` is not a terminal (so logs and pipes stay
    clean). Use it as a context manager around the run."""
    isatty = getattr(stream, "isatty", None)
    if not enabled or stream is None or isatty is None or not isatty():
        return _NoProgress()
    return _RichProgress(stream, total)


# ---------------------------------------------------------------------------------------- terminal summary


_MOST_PERCENT_DECIMALS = 15


def _percent(value: float | None) -> str:
    """A share with one decimal, but with the decimals it takes where that would read 0.0% or 100.0% and
    the share is neither (99.97% for 2,999 of 3,000): a rule or an agent with a violation never reads 100%."""
    if value is None:
        return "—"
    decimals = 1
    text = f"{value * 100:.1f}"
    while 0 < value < 1 and float(text) in (0.0, 100.0) and decimals < _MOST_PERCENT_DECIMALS:
        decimals += 1
        text = f"{value * 100:.{decimals}f}"
    return text + "%"


class SummaryPrinter:
    """The terminal summary: totals, per-rule compliance, top violations (most severe first),
    per-channel/team/agent compliance, rejections. Ids, teams and agents are folded onto more lines where
    the width is short, never cut (the example ids before the rule ids).

    ``top`` is how many violated rules the top violations show. ``most_groups`` is how many rows a channel,
    team or agent table shows and how many lines an aggregate target shows: past it, those of the lowest
    compliance and the worst figures, and how many more there are (``--summary-json`` holds them all)."""

    def __init__(self, stream: TextIO, *, width: int | None = None, top: int = 10, most_groups: int = 25):
        if width is None:  # a terminal's own width; elsewhere (a file, a pipe, a CI log) always the same
            isatty = getattr(stream, "isatty", None)
            width = None if isatty is not None and isatty() else 110
        self.console = Console(file=stream, width=width, highlight=False, soft_wrap=False)
        self.top = top
        self.most_groups = most_groups

    def print(self, summary: BatchSummary) -> None:
        c = self.console
        c.print(
            f"[bold]{escape(_printable(summary.ruleset))}[/bold] {escape(_printable(summary.version))} (backend {summary.backend}): "
            f"{summary.read:,} read, {summary.evaluated:,} evaluated, {summary.rejected:,} rejected; "
            f"{summary.compliant:,} compliant, {summary.violations:,} violations"
            + (f" in {summary.elapsed:.2f}s" if summary.elapsed else "")
        )
        if summary.interrupted:
            c.print(f"[bold yellow]Interrupted[/bold yellow]: results cover the first {summary.read:,} records.")
        if summary.error:
            c.print(f"Stopped: {_printable(summary.error)}", style="bold red", markup=False)
        if summary.rules:
            table = Table(title="Compliance per rule", title_justify="left")
            table.add_column("rule", overflow="fold")
            table.add_column("severity")
            for column in ("violated", "compliant", "n/a", "compliance"):
                table.add_column(column, justify="right")
            rule_rows = [
                _cells(stats.rule_id, stats.severity or "", stats.violated, stats.compliant, stats.not_applicable, _percent(stats.compliance))
                for stats in sorted(summary.rules.values(), key=lambda s: (-s.violated, s.rule_id))
            ]
            for row in rule_rows:
                table.add_row(*row)
            c.print(_fit(c, table, rule_rows))
        top = summary.top_violations(self.top)
        if top:
            rows = [
                _cells(stats.rule_id, stats.severity or "", stats.violations, stats.violated,
                       _percent(stats.violated / summary.evaluated if summary.evaluated else None), ", ".join(stats.examples))
                for stats in top
            ]

            def top_table(examples_width: int | None) -> Table:
                table = Table(title="Top violations", title_justify="left")
                table.add_column("rule", overflow="fold")
                table.add_column("severity")
                for column in ("violations", "interactions", "of all checked"):
                    table.add_column(column, justify="right")
                if examples_width is not None:  # None: the table without them, to measure the others
                    table.add_column("examples", overflow="fold", max_width=examples_width or None)
                shown = [row if examples_width is not None else row[:-1] for row in rows]
                for row in shown:
                    table.add_row(*row)
                return _fit(c, table, shown)

            # Where the other columns fit at their full width, the examples fold in the room they leave, so the
            # rule ids stay whole (Rich would narrow the widest column, the ids, first); else both fold.
            room = c.width - _natural_width(c, top_table(None)) - _COLUMN_FRAME
            c.print(top_table(room if room >= len("examples") else 0))
            more = sum(1 for stats in summary.rules.values() if stats.violations) - len(top)
            if more > 0:
                c.print(f"  … and {more} more violated rule{'s' if more != 1 else ''} (see Compliance per rule)")
        if summary.targets is not None:
            c.print("[bold]Aggregate targets[/bold]")
            for results in _by_target(summary.targets.results()):
                # thousands of half hours or agents: the worst of them, not a screenful per target
                ordered = results if len(results) <= self.most_groups else _worst_results(results)
                for result in ordered[: self.most_groups]:
                    c.print(f"  {_printable(format_result(result))}", markup=False, soft_wrap=True)  # one line each: grep ': missed'
                if len(ordered) > self.most_groups:
                    c.print(_printable(_more_results(results[0].target_id, ordered[self.most_groups :])), markup=False, soft_wrap=True)
        for title, groups in (("channel", summary.by_channel), ("team", summary.by_team), ("agent", summary.by_agent)):
            if not groups:
                continue
            if len(groups) <= self.most_groups:
                shown_groups, heading = sorted(groups.items()), f"Compliance per {title}"
            else:  # a desk of 400 agents: the ones to look at, not a table that buries the rest of the summary
                shown_groups = sorted(groups.items(), key=_lowest_first)[: self.most_groups]
                heading = f"Compliance per {title} (the {len(shown_groups)} lowest of {len(groups):,})"
            # a line of its own, not the table's title: a title wraps at the table's width ("… lowest of" / "400)")
            c.print(Text(heading, style="table.title"))
            table = Table()
            table.add_column(title, overflow="fold")
            table.add_column("interactions", justify="right")
            table.add_column("compliance", justify="right")
            group_rows = [_cells(key, group.interactions, _percent(group.compliance)) for key, group in shown_groups]
            for row in group_rows:
                table.add_row(*row)
            c.print(_fit(c, table, group_rows))
            if len(shown_groups) < len(groups):
                more = len(groups) - len(shown_groups)
                c.print(f"  … and {more:,} more {title}{'s' if more != 1 else ''} (all of them in --summary-json)", markup=False)
        self.print_rejections(summary)

    def print_rejections(self, summary: BatchSummary) -> None:
        """The first 20 rejected records, one line each, and how many more by code."""
        c = self.console
        if summary.rejected:
            c.print(f"[bold]Rejected records[/bold] ({summary.rejected:,}):")
            for rejected in summary.rejections[:20]:
                # one line each, left to the terminal to wrap: a long path's "file:line" was broken at the width
                c.print(_printable(f"  {rejected.source}: {rejected.code} {rejected.reason}"), markup=False, soft_wrap=True)
            if summary.rejected > 20:
                codes = ", ".join(f"{code} × {n:,}" for code, n in sorted(summary.rejections_by_code.items()))
                c.print(f"  … and {summary.rejected - 20:,} more (see --rejects); by code: {codes}", markup=False)


def _lowest_first(item: tuple[str, GroupStats]) -> tuple[bool, Fraction, int, str]:
    """Groups by compliance, lowest first; of equal compliance, the one with more interactions first, then
    by name. Compared exactly, as fractions: 1 of 3 and 2 of 6 tie, and 2 of 6 comes first."""
    name, group = item
    if not group.interactions:
        return (True, Fraction(0), 0, name)
    return (False, Fraction(group.compliant, group.interactions), -group.interactions, name)


def _by_target(results: Sequence[TargetResult]) -> list[list[TargetResult]]:
    """The results of each target, in target order (a target's results come together)."""
    out: list[list[TargetResult]] = []
    for result in results:
        if out and out[-1][0].target_id == result.target_id:
            out[-1].append(result)
        else:
            out.append([result])
    return out


_STATUS_ORDER = {"missed": 0, "met": 1, "no_data": 2}


def _worst_results(results: Sequence[TargetResult]) -> list[TargetResult]:
    """A target's results worst first: missed before met before no data; within a status, the achieved
    figure furthest on the wrong side of the objective first (the lowest share of a ``>=`` target, the highest
    average of a ``<=`` one), then more interactions counted first, then in the order of their groups."""

    def key(item: tuple[int, TargetResult]) -> tuple[int, Fraction, int, int]:
        index, result = item
        if result.achieved is None:
            return (_STATUS_ORDER[result.status], Fraction(0), 0, index)
        exact = result.exact if result.exact is not None else Fraction(result.achieved)
        counted = result.denominator if result.denominator is not None else result.count or 0
        return (_STATUS_ORDER[result.status], exact if result.comparison == ">=" else -exact, -counted, index)

    return [result for _, result in sorted(enumerate(results), key=key)]


def _more_results(target_id: str, hidden: Sequence[TargetResult]) -> str:
    """The line after a target's lines that leaves some out: how many, and how many of them missed."""
    counts = {status: sum(1 for r in hidden if r.status == status) for status in _STATUS_ORDER}
    statuses = ", ".join(f"{n:,} {status.replace('_', ' ')}" for status, n in counts.items() if n)
    groups = "group" if len(hidden) == 1 else "groups"
    return f"  … and {len(hidden):,} more {groups} of {target_id}: {statuses} (all of them in --summary-json)"


_COLUMN_FRAME = 3
"""What a further column adds to a table's width besides its text: a rule and a space either side."""

_NARROWEST_ID = 8
"""The fewest columns an id column (a rule, an agent, the examples) is left where the width is short."""


def _fit(console: Console, table: Table, rows: Sequence[Sequence[Text]]) -> Table:
    """``table`` (whose id columns fold) with its other columns (severities, counts, percentages) as wide as
    their longest value or header word, so that where the width is short only the ids fold: Rich narrows the
    widest columns first and then every column alike, and beside a folded rule id it cut ``interactions`` to
    ``interactio…`` (at 80 columns), ``critical`` to ``critic…`` (at 60) and ``25.9%`` to ``25…`` (at 40).
    Where that leaves the ids too little room, the widest headers fold onto more lines (``complia`` /
    ``nce``), never narrower than the values, and where even the values do not fit, every column folds: a
    value may take two lines, but none is cut."""
    columns = table.columns
    others = [k for k, column in enumerate(columns) if column.overflow != "fold"]
    values = {k: max((row[k].cell_len for row in rows), default=1) for k in others}
    headers = {k: str(columns[k].header) for k in others}
    words = {k: max(values[k], *(cell_len(word) for word in headers[k].split())) for k in others}
    widths = {k: max(values[k], cell_len(headers[k])) for k in others}
    ids = [k for k in range(len(columns)) if k not in others]
    whole_ids = sum(min(max((row[k].cell_len for row in rows), default=1), columns[k].max_width or 1 << 16) for k in ids)
    if sum(widths.values()) + whole_ids > console.width - 1 - _COLUMN_FRAME * len(columns):
        widths = dict(words)  # "of all" / "checked" rather than a rule id folded once more
    room = console.width - 1 - _COLUMN_FRAME * len(columns) - _NARROWEST_ID * len(ids)
    for floor in (words, values):  # headers wrap at their spaces first, then fold
        while sum(widths.values()) > room:
            shrinkable = [k for k in others if widths[k] > floor[k]]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda k: widths[k])] -= 1
    if sum(widths.values()) <= room:
        for k, width in widths.items():
            columns[k].width = width
    for column in columns:
        column.overflow = "fold"  # a header (or a value) that does not fit folds, never "…"
    return table


def _natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes with every column at its full width, whatever the console's width."""
    return Measurement.get(console, console.options.update_width(1 << 16), table).maximum


def _cells(*values: object) -> list[Text]:
    """Table cells as plain text: ids, teams and agents come from the data, and "[/]" in one is not markup."""
    return [Text(_printable(f"{value:,}" if type(value) is int else str(value))) for value in values]


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def _printable(text: str) -> str:
    """``text`` on one line, as it is written: control characters shown as escapes (``\\x1b``, ``\\n``,
    ``\\t``), for an escape sequence in an id or a quoted value from the data must not reach the terminal, and
    a line break in a team split the line of a target result (``grep ': missed'`` found its second half)
    and a table row (a tab read as spaces). So are the Unicode line separators and the bidirectional
    overrides and isolates (``\\u202e``): with them, in a terminal that lays out right-to-left text, an agent
    ``"bidi\\u202egnp.exe"`` read ``bidiexe.png``. A lone surrogate (a byte of a file name that is not UTF-8)
    is shown as the text of its escape, ``\\udce4``, as the JSON outputs show it: a UTF-8 standard output
    cannot encode it, and printing the summary failed."""
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)
