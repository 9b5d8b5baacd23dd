"""Batch checking: readers → validation → evaluation → sinks, with a summary whose counts add up.

Every record read ends up either evaluated or rejected with its source position and reason; nothing is
dropped silently: ``summary.read == summary.evaluated + summary.rejected`` at every point.

Records are processed in chunks. With ``jobs=1`` the chunks are evaluated in the calling process; with
more, by a pool of worker processes (:mod:`servicerules.batch.parallel`) while this process reads the
input, with at most ``2 × jobs`` chunks in flight, so memory stays bounded on any input size. Results are
merged in input order either way, so the violations, the rejects and the summary of a parallel run are
identical to those of a serial run. An input that fits in one chunk is evaluated in-process (starting
workers would cost more than it saves).

The reading and merging process must cost little per record, or it takes a core from the workers.
JSON Lines files (without a ``transform``) are therefore cut into blocks of lines that are parsed where
they are evaluated; results come back per chunk (summary counts, text for the violation files) with only
the rejected records one by one. Their positions, rows and texts are completed here.

Interrupts (Ctrl-C, i.e. ``KeyboardInterrupt`` in this process): reading stops, pending work is dropped,
the workers are stopped, and every sink is closed with the results merged so far, so the outputs are valid
and consistent with the summary, which has ``interrupted`` set. A chunk is merged as a whole: a Ctrl-C
while merging is held back until the chunk is done. A worker process that dies raises
:class:`~servicerules.batch.parallel.WorkerCrashed` after the sinks are closed the same way, and an input
that fails part-way (a file removed, a disk error) :class:`InputFailed`, once every record read before
the failure has been evaluated and written.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import functools
import itertools
import os
import re
import signal
import stat
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping as AbcMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, Iterator, NamedTuple, Sequence

from servicerules.batch.output import BatchProgress, BatchSink, OutcomeDigest, make_progress
from servicerules.batch.parallel import (
    ChunkPiece,
    ChunkResult,
    LineRejected,
    RejectedItem,
    WorkerCrashed,
    WorkerPool,
    default_jobs,
    evaluate_pieces,
)
from servicerules.batch.readers import (
    _STDIN_NAME,
    JsonLines,
    RawRecord,
    SourcePosition,
    detect_format,
    expand_inputs,
    read_blocks,
    read_records,
    total_size,
)
from servicerules.batch.summary import BatchSummary, InteractionOutcome, RejectedRecord, RowDetail, clip_raw
from servicerules.engine import CompiledRuleset, check_as_of
from servicerules.errors import Diagnostic, EvaluationError
from servicerules.model.interaction import Interaction
from servicerules.report import Report

if TYPE_CHECKING:  # loaded only when a run uses one
    from servicerules.batch.mapping import Mapping

__all__ = ["DEFAULT_CHUNK_SIZE", "INPUT_FAILED", "InputFailed", "check_files", "check_records", "map_files"]

#: The code of :class:`InputFailed` diagnostics.
INPUT_FAILED = "SR403"


class InputFailed(EvaluationError):
    """An input could not be read to the end (a file removed while it waited its turn, a disk error, a
    reader that failed). The records read before it were evaluated and written: ``summary`` holds them,
    and the outputs are valid up to there. The input's own exception is ``__cause__``."""

    def __init__(self, cause: BaseException, *, summary: BatchSummary | None = None):
        what = str(cause) if isinstance(cause, OSError) else f"{type(cause).__name__}: {cause}"
        if summary is not None and summary.read:
            message = f"an input could not be read to the end: {what}"
            hint = f"the {summary.read} records read before it were checked and written; fix the input and run again"
        else:
            message, hint = f"an input could not be read: {what}", None
        super().__init__([Diagnostic(INPUT_FAILED, message, hint=hint)])
        self.__cause__ = cause
        self.summary = summary

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt from its cause, not its text (a process pool pickles it)
        return (InputFailed, (self.__cause__,), {"summary": self.summary})

ReportCallback = Callable[[Interaction, Report], None]
RecordTransform = Callable[[Iterable[RawRecord]], Iterable[RawRecord]]

#: Records per chunk sent to a worker (large enough to amortise the round trip, small enough to keep the
#: workers evenly loaded and memory low).
DEFAULT_CHUNK_SIZE = 512

_GZIP_MAGIC = b"\x1f\x8b"
_RAW_WINDOW = 4096  # bytes read back from the input for a rejected record's text
_RECENT_ROWS = 1024  # rows of a transformed input whose spans are remembered, to read a rejected row back
_CSV_LINE_END = re.compile(rb"\r\n?|\n")  # CSV lines end as the reader splits them (a lone CR too)


class _Span(NamedTuple):
    """Where a record's bytes are in a plain (uncompressed, seekable) input file."""

    path: str
    start: int
    end: int


class _Meta(NamedTuple):
    """A record sent for evaluation: what the merge needs to know of it."""

    position: SourcePosition
    code: str | None  # set for records the reader could not read
    error: str | None
    span: _Span | None


class _Block(NamedTuple):
    """A block of JSON Lines sent for evaluation (its records are read where it is evaluated)."""

    lines: JsonLines
    path: str | None
    """The plain input file it is in, to read rejected records back from; ``None`` for other input."""


class _Chunk:
    """Records and blocks of lines for one evaluation: ``pieces`` are sent (and dropped once sent),
    ``entries`` (one per piece, blocks without their data) stay for the merge."""

    __slots__ = ("pieces", "entries", "count", "size")

    def __init__(self) -> None:
        self.pieces: list[ChunkPiece] = []
        self.entries: list[_Meta | _Block] = []
        self.count = 0  # records, and lines of blocks
        self.size = 0  # progress units of the records (blocks count theirs when merged)

    def add_record(self, record: RawRecord, span: _Span | None) -> None:
        if record.error is None and record.data is not None:
            self.entries.append(_Meta(record.position, None, None, span))
            self.pieces.append((str(record.position), record.data))
        else:
            self.entries.append(_Meta(record.position, record.code or "SR301", record.error or "unreadable record", span))
            self.pieces.append(None)
        self.count += 1
        self.size += record.size

    def add_block(self, block: _Block) -> None:
        self.pieces.append(block.lines)
        self.entries.append(block._replace(lines=dataclasses.replace(block.lines, data=b"")))
        self.count += block.lines.lines

    def describe(self) -> str:
        if not self.entries:
            return ""
        return f"while evaluating the records {_where(self.entries[0], last=False)} to {_where(self.entries[-1], last=True)}"


def _where(entry: _Meta | _Block, *, last: bool) -> str:
    if isinstance(entry, _Meta):
        return str(entry.position)
    lines = entry.lines
    return f"{lines.file}:{lines.first_line + (max(lines.lines, 1) - 1 if last else 0)}"


# ------------------------------------------------------------------------------------------ public API


def check_records(
    ruleset: CompiledRuleset,
    records: Iterable[RawRecord],
    *,
    as_of: dt.datetime | None = None,
    on_report: ReportCallback | None = None,
    batch_size: int | None = None,
    summary: BatchSummary | None = None,
    jobs: int | None = 1,
    sinks: Sequence[BatchSink] = (),
    progress: BatchProgress | None = None,
    start_method: str | None = None,
    tune_allocator: bool = True,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    """Check raw records (from :mod:`servicerules.batch.readers`, a mapping, or any iterable).

    ``jobs``: worker processes (``None``: one per CPU; ``1``, the default here: this process).
    ``sinks`` receive every result in input order and are always closed: with the summary at the end,
    also after an interrupt or an error, or with ``None`` when the run cannot start (bad arguments).
    ``on_report`` receives each full ``(interaction, report)``; full reports do not cross processes, so
    it needs ``jobs=1``. ``batch_size`` is the chunk size (default 256 serial, 512 parallel).
    ``start_method`` and ``tune_allocator`` (glibc heap tuning and garbage-collector thresholds in the
    workers, see :func:`~servicerules.batch.parallel.tune_allocator` and
    :func:`~servicerules.batch.parallel.tune_gc`) configure worker processes; the calling process is never
    tuned.

    ``cancel``: setting this event (from another thread: a web request that was cancelled, a service that
    shuts down) stops the run as Ctrl-C does, after the chunk being evaluated or merged.

    Returns the summary (``interrupted`` set after Ctrl-C or ``cancel``; the outputs are valid up to the
    last completed record). Raises
    :class:`~servicerules.batch.parallel.WorkerCrashed` when a worker process dies, and :class:`InputFailed`
    when iterating ``records`` raises.
    """
    if isinstance(records, (AbcMapping, str, bytes)):
        _close_all(sinks, None)
        raise TypeError(f"records must be an iterable of RawRecords, not one {type(records).__name__}")
    if not hasattr(type(records), "__iter__") and not hasattr(type(records), "__getitem__"):
        _close_all(sinks, None)
        raise TypeError(f"records must be an iterable of RawRecords, not {type(records).__name__}")
    return _run(
        ruleset,
        lambda block_lines: ((_raw_record(record), None) for record in records),
        as_of=as_of,
        on_report=on_report,
        chunk_size=batch_size,
        summary=summary,
        jobs=jobs,
        sinks=sinks,
        progress=progress,
        start_method=start_method,
        tune_allocator=tune_allocator,
        cancel=cancel,
    )


def _raw_record(record: RawRecord) -> RawRecord:
    if not isinstance(record, RawRecord):  # a dict would fail later, with an AttributeError about .error
        raise TypeError(
            f"check_records reads RawRecords, not {type(record).__name__}: give each record its position, as "
            "RawRecord(SourcePosition('tickets-db', n, n), data) (servicerules.batch.readers)"
        )
    return record


def check_files(
    ruleset: CompiledRuleset,
    inputs: Sequence[str | os.PathLike[str]],
    *,
    as_of: dt.datetime | None = None,
    jobs: int | None = 1,
    sinks: Sequence[BatchSink] = (),
    progress: BatchProgress | bool | None = None,
    on_report: ReportCallback | None = None,
    format: str | None = None,
    encoding: str | None = None,
    csv_dialect: dict[str, Any] | None = None,
    transform: RecordTransform | None = None,
    mapping: Mapping | None = None,
    join_files: AbcMapping[str, str | Path] | None = None,
    chunk_size: int | None = None,
    start_method: str | None = None,
    tune_allocator: bool = True,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    """Check every record of the given files, globs, directories or ``-`` (stdin), as strings or paths.

    ``jobs``: worker processes (``None``: one per CPU, as ``servicerules check`` does by default; ``1``,
    the default here: evaluate in this process). ``progress`` is a
    :class:`~servicerules.batch.output.BatchProgress`, or ``True`` for a progress bar on stderr when it is a
    terminal (sized by :func:`~servicerules.batch.readers.total_size`). ``format``, ``encoding`` (default
    UTF-8) and ``csv_dialect`` are passed to :func:`~servicerules.batch.readers.read_records`. ``mapping``
    (a loaded :class:`~servicerules.batch.mapping.Mapping`) reads a help-desk export through it, as
    ``servicerules check --mapping`` does: with its input options (which ``format``, ``encoding`` and
    ``csv_dialect`` override) and ``join_files`` (join name → path) for its joins. ``transform`` is
    applied to each file's stream of records instead, for any other conversion.
    Rejected records carry their original text, read back from the file (for gzip input and stdin: the
    parsed record as JSON when there is one). With a ``transform``, a row it rejects carries the row's text
    (read back from a plain file, as long as the transform reports it within 1,024 rows of reading it),
    and an interaction it made that fails validation carries that interaction as JSON.
    Other arguments as for :func:`check_records`. Inputs that do not exist raise
    :class:`FileNotFoundError` before anything is read, and one string or path instead of a list
    :class:`TypeError`.
    """
    try:
        if mapping is not None:
            if transform is not None:
                raise ValueError("give either a mapping or a transform, not both")
            from servicerules.batch.mapping import apply_mapping

            transform = functools.partial(apply_mapping, mapping, join_files=join_files)
            format = format or mapping.input.format
            encoding = encoding or mapping.input.encoding
            csv_dialect = csv_dialect if csv_dialect is not None else mapping.input.csv
        elif join_files is not None:
            raise ValueError("join_files are the files of a mapping's joins: give the mapping too")
        encoding = encoding or "utf-8"
        paths = expand_inputs(inputs)
    except BaseException:
        _close_all(sinks, None)
        raise
    if progress is True:
        progress = make_progress(sys.stderr, total=total_size(paths))
    elif progress is False:
        progress = None
    return _run(
        ruleset,
        lambda block_lines: _tracked(
            paths, format=format, encoding=encoding, csv_dialect=csv_dialect, transform=transform, block_lines=block_lines
        ),
        encoding=encoding,
        format=format,
        as_of=as_of,
        on_report=on_report,
        chunk_size=chunk_size,
        summary=None,
        jobs=jobs,
        sinks=sinks,
        progress=progress,
        start_method=start_method,
        tune_allocator=tune_allocator,
        cancel=cancel,
    )


_NO_RULES = "version: '1'\nruleset: mapped\nrules: []\n"
"""The ruleset :func:`map_files` runs: no rule, so that a run only reads, maps and validates."""


def map_files(
    mapping: Mapping,
    inputs: Sequence[str | os.PathLike[str]],
    on_interaction: Callable[[Interaction], None],
    *,
    join_files: AbcMapping[str, str | Path] | None = None,
    sinks: Sequence[BatchSink] = (),
    progress: BatchProgress | bool | None = None,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    """Map a help-desk export onto interactions without checking them, as ``servicerules map`` does.

    Every record goes through what :func:`check_files` does with ``mapping`` before it evaluates anything
    (reading, mapping, validating into an :class:`~servicerules.model.interaction.Interaction`), in this
    process; each interaction is passed to ``on_interaction`` in input order, each record that cannot be
    one to ``sinks`` (a :class:`~servicerules.batch.output.RejectsWriter`, say) and the summary, as
    ``check`` would reject it. The summary's ``evaluated`` counts the interactions passed on; it has no
    rules. An interaction written with ``model_dump_json()`` reads back as the same interaction, so
    ``servicerules check`` of the written JSON Lines finds what ``check --mapping`` of the export finds."""
    from servicerules.engine import load

    return check_files(
        load(_NO_RULES, backend="reference"),
        inputs,
        jobs=1,
        on_report=lambda interaction, _report: on_interaction(interaction),
        mapping=mapping,
        join_files=join_files,
        sinks=sinks,
        progress=progress,
        cancel=cancel,
    )


# ------------------------------------------------------------------------------------------- the run


def _run(
    ruleset: CompiledRuleset,
    read: Callable[[int], Iterator[tuple[RawRecord, _Span | None] | _Block]],
    *,
    encoding: str = "utf-8",
    format: str | None = None,
    as_of: dt.datetime | None,
    on_report: ReportCallback | None,
    chunk_size: int | None,
    summary: BatchSummary | None,
    jobs: int | None,
    sinks: Sequence[BatchSink],
    progress: BatchProgress | None,
    start_method: str | None,
    tune_allocator: bool,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    problem = _argument_problem(ruleset, as_of, jobs, on_report, chunk_size, cancel)
    if problem is not None:
        _close_all(sinks, None)
        raise problem
    jobs = default_jobs() if jobs is None else jobs
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK_SIZE if jobs > 1 else 256
    if ruleset.closed:  # as it would fail in this process; worker processes would compile it again
        _close_all(sinks, None)
        raise EvaluationError([Diagnostic("SR400", f"the ruleset {ruleset.name} was closed; load it again to check a batch")])
    if summary is None:
        summary = BatchSummary.for_ruleset(ruleset)
    pool: WorkerPool | None = None
    chunks: Generator[_Chunk, None, None] | None = None
    in_order: _InOrder | None = None
    failure: BaseException | None = None
    started = time.perf_counter()
    try:
        for sink in sinks:
            sink.begin(summary)
        merger = _Merger(summary, sinks, progress, on_report, _SourceTexts(encoding, format))
    except BaseException:  # a sink that cannot start (say, its database is down): the run never started
        _close_all(sinks, None)
        raise
    detail = merger.detail
    stop = _Interrupt(cancel)
    try:
        stop.install()
        chunks = _chunks(read(chunk_size), chunk_size, stop)
        first = next(chunks, None)
        if first is not None and jobs > 1 and first.count >= chunk_size:
            # before any progress thread starts: forking is safe only without other threads
            pool = WorkerPool(
                ruleset,
                jobs,
                as_of=as_of,
                detail=detail,
                digests=merger.digests,
                outcomes=merger.wants_outcomes,
                start_method=start_method,
                tune_allocator=tune_allocator,
            )
            summary.jobs = jobs
            in_order = _InOrder(pool, merger, stop)
            in_order.send(first)
            first = None
        shown: AbstractContextManager[Any] = progress if progress is not None else nullcontext()
        with shown:
            try:
                if in_order is not None:
                    in_order.send_all(chunks)
                elif first is not None:  # serial: this process evaluates
                    for chunk in itertools.chain([first], chunks):
                        with stop.deferred():
                            merger.serial(ruleset, chunk, as_of, detail)
            except _InputFailed as exc:
                # what was read before the input failed is evaluated and written out; then the run stops
                if in_order is not None:
                    in_order.finish()
                failure = exc.failed(summary)
    except _InputFailed as exc:  # before the first chunk: nothing was read
        failure = exc.failed(summary)
    except KeyboardInterrupt:
        summary.interrupted = True
    except WorkerCrashed as exc:
        summary.error = exc.diagnostics[0].message
        exc.summary = summary
        failure = exc
    except Exception as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
        failure = exc
    finally:
        stop.uninstall()
        try:
            with _signals_held():  # a second Ctrl-C must not leave workers running or files half-written
                if pool is not None:
                    unfinished = in_order is not None and in_order.pending
                    pool.close(cancel=unfinished or summary.interrupted or failure is not None)
                if chunks is not None:  # the input file a stopped run was reading: closed now, not when collected
                    chunks.close()
                merger.close()
                summary.elapsed += time.perf_counter() - started
                _close_all(sinks, summary)
        except KeyboardInterrupt:
            summary.interrupted = True
    if stop.signum is not None and stop.signum != signal.SIGINT:
        # SIGTERM, SIGHUP: with the outputs complete, the process ends as the signal asks (it is not Ctrl-C,
        # which a caller may catch and go on from)
        os.kill(os.getpid(), stop.signum)
    if failure is not None:
        raise failure
    return summary


def _argument_problem(
    ruleset: CompiledRuleset,
    as_of: dt.datetime | None,
    jobs: int | None,
    on_report: ReportCallback | None,
    chunk_size: int | None,
    cancel: threading.Event | None,
) -> Exception | None:
    """The caller's mistake, raised before any sink begins or any record is read. (Found later, a wrong
    type failed deep inside the run: an AttributeError or a TypeError with the sinks left open.)"""
    if not isinstance(ruleset, CompiledRuleset):
        hint = ": load it first, with servicerules.load(path)" if isinstance(ruleset, (str, os.PathLike)) else ""
        return TypeError(f"ruleset must be a CompiledRuleset, not {type(ruleset).__name__}{hint}")
    if as_of is not None:
        try:
            check_as_of(as_of)
        except (TypeError, ValueError) as exc:
            return exc
    for name, value in (("jobs", jobs), ("the chunk size", chunk_size)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return TypeError(f"{name} must be a positive int or None, not {type(value).__name__}")
        if value is not None and value < 1:
            return ValueError(f"{name} must be at least 1, not {value}")
    if on_report is not None and (default_jobs() if jobs is None else jobs) > 1:
        return ValueError("on_report receives full reports, which do not cross processes: use jobs=1 or a sink")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        return TypeError(f"cancel must be a threading.Event, not {type(cancel).__name__}")
    return None


def _close_all(sinks: Sequence[BatchSink], summary: BatchSummary | None) -> None:
    """Close every sink, also when one fails (a full disk): the others' files are still completed. The
    first failure is raised afterwards."""
    failure: Exception | None = None
    for sink in sinks:
        try:
            sink.close(summary)
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


class _InOrder:
    """Sends chunks to the worker pool and merges their results in input order.

    At most ``per_worker`` chunks wait at each worker, and results that arrive early wait here for the
    ones before them (fewer than the chunks in flight), so memory stays bounded."""

    def __init__(self, pool: WorkerPool, merger: "_Merger", stop: "_Interrupt"):
        self.pool = pool
        self.merger = merger
        self.stop = stop
        """Merging a chunk defers a Ctrl-C to its end."""
        self.chunks: dict[int, _Chunk] = {}
        self.results: dict[int, ChunkResult] = {}
        self.sent = 0
        self.merged = 0

    @property
    def pending(self) -> bool:
        return self.merged < self.sent

    def send(self, chunk: _Chunk) -> None:
        while not self.pool.has_capacity:
            self._receive(None)
        number = self.sent
        self.sent += 1
        self.chunks[number] = chunk
        self.pool.submit(number, chunk.pieces, describe=chunk.describe())
        chunk.pieces = []  # the packed copy is all the pool needs
        self._receive(0)  # merge whatever has arrived meanwhile

    def send_all(self, chunks: Iterable[_Chunk]) -> None:
        for chunk in chunks:
            self.send(chunk)
        self.finish()

    def finish(self) -> None:
        while self.pending:
            self._receive(None)

    def _receive(self, timeout: float | None) -> None:
        for number, result in self.pool.collect(timeout):
            self.results[number] = result
        while self.merged in self.results:
            chunk = self.chunks.pop(self.merged)
            with self.stop.deferred():
                self.merger.merge(chunk, self.results.pop(self.merged), None)
                self.merged += 1


def _takes_outcomes(sink: BatchSink) -> bool:
    """Whether ``sink`` does something with :meth:`BatchSink.add_outcome` (the default does nothing)."""
    method = getattr(type(sink), "add_outcome", None)
    return method is not None and method is not BatchSink.add_outcome


def _digest_of(sink: BatchSink) -> OutcomeDigest | None:
    """The sink's outcome digest; None when it has none, or when a subclass overrides ``add_outcome``
    below the class that defines the digest (say, to filter rows): that override must see every outcome."""
    if not hasattr(sink, "outcome_digest"):
        return None
    mro = type(sink).__mro__
    digest_owner = next((c for c in mro if "outcome_digest" in vars(c)), None)
    add_owner = next((c for c in mro if "add_outcome" in vars(c)), None)
    if digest_owner is not None and add_owner is not None and add_owner is not digest_owner and issubclass(add_owner, digest_owner):
        return None
    digest: OutcomeDigest | None = sink.outcome_digest()
    return digest


class _Merger:
    """Merges chunk results into the summary and the sinks, in input order, one whole chunk at a time.

    The summary, and sinks with an outcome digest, take one part per chunk; only sinks that want every
    outcome (and ``on_report``) make the merge walk the chunk's records. Rejected records are few: each
    gets its position, row and text here."""

    def __init__(
        self,
        summary: BatchSummary,
        sinks: Sequence[BatchSink],
        progress: BatchProgress | None,
        on_report: ReportCallback | None,
        texts: _SourceTexts,
    ):
        self.summary = summary
        self.sinks = sinks
        self.progress = progress
        self.on_report = on_report
        self.texts = texts
        self.digesting: list[BatchSink] = []
        self.digests: list[OutcomeDigest] = []
        self.each: list[BatchSink] = []
        for sink in sinks:
            digest = _digest_of(sink)
            if digest is not None:
                self.digesting.append(sink)
                self.digests.append(digest)
            elif _takes_outcomes(sink):
                self.each.append(sink)
        self.wants_outcomes = bool(self.each)
        # Violations are built as far as the sinks that see them need (on_report gets full reports anyway).
        self.detail = max((sink.violation_detail for sink in [*self.digesting, *self.each]), default=RowDetail.COUNTS)
        # the JSON Lines file being merged: its records so far, and progress units at the end of the last
        self._rows = 0
        self._units = 0

    def serial(self, ruleset: CompiledRuleset, chunk: _Chunk, as_of: dt.datetime | None, detail: RowDetail) -> None:
        reports: list[tuple[Interaction, Report]] | None = [] if self.on_report is not None else None
        result = evaluate_pieces(
            ruleset, chunk.pieces, as_of=as_of, detail=detail, digests=self.digests, outcomes=self.wants_outcomes, reports=reports
        )
        self.merge(chunk, result, reports)

    def merge(self, chunk: _Chunk, result: ChunkResult, reports: list[tuple[Interaction, Report]] | None) -> None:
        with _signals_held():
            self.summary.add_part(result.part)
            for sink, digest in zip(self.digesting, result.digests):
                sink.add_digest(digest)
            rejected = deque(result.rejected)
            outcomes = iter(result.outcomes or ())
            full = iter(reports or ())
            every = bool(self.each) or reports is not None
            size = chunk.size
            # the pieces to look at: all of them when every outcome is wanted, else blocks and rejected records
            pieces = range(len(chunk.entries)) if every else sorted({*result.blocks, *(r.piece for r in rejected)})
            for index in pieces:
                entry = chunk.entries[index]
                if isinstance(entry, _Block) and entry.lines.start == 0:  # the first block of a file
                    self._rows = self._units = 0
                records = result.blocks[index][0] if isinstance(entry, _Block) else 1
                for number in range(records) if every else ():
                    if rejected and (rejected[0].piece, rejected[0].record) == (index, number):
                        self._reject(entry, rejected.popleft().why)
                    else:
                        self._evaluated(next(outcomes, None), next(full, None))
                while rejected and rejected[0].piece == index:
                    self._reject(entry, rejected.popleft().why)
                if isinstance(entry, _Block):
                    size += self._block_merged(entry, *result.blocks[index])
            if self.progress is not None:
                self.progress.advance(result.records, size)

    def _evaluated(self, outcome: InteractionOutcome | None, report: tuple[Interaction, Report] | None) -> None:
        if outcome is not None:
            for sink in self.each:
                sink.add_outcome(outcome)
        if report is not None and self.on_report is not None:
            self.on_report(*report)

    def _block_merged(self, block: _Block, records: int, end: int) -> int:
        """Count a merged block's records towards its file's; returns its progress units."""
        if not records:
            return 0
        units = block.lines.units_at(end)
        size = units - self._units
        self._rows += records
        self._units = units
        return size

    def _reject(self, entry: _Meta | _Block, why: RejectedItem | LineRejected | None) -> None:
        if isinstance(entry, _Block):
            assert isinstance(why, LineRejected)
            lines = entry.lines
            span = None
            if entry.path is not None:
                start = self._units if why.start == 0 else lines.units_at(why.start)
                span = _Span(entry.path, start, lines.units_at(why.end))
            row = None if why.row is None else self._rows + why.row
            entry_meta = _Meta(SourcePosition(lines.file, why.line, row), why.code, why.reason, span)
            code, reason, raw, cut = why.code, why.reason, why.raw, why.raw_truncated
        elif why is None:  # the reader's
            entry_meta = entry
            code, reason, raw, cut = entry.code or "SR301", entry.error or "", None, False
        else:
            assert isinstance(why, RejectedItem)
            entry_meta = entry
            code, reason, raw, cut = why.code, why.reason, why.raw, why.raw_truncated
        read_back = self.texts.text(entry_meta)
        if read_back is not None:
            raw, cut = read_back
        position = entry_meta.position
        rejected = RejectedRecord(str(position), code, reason, position.file, position.line, position.row, raw, cut)
        self.summary.add_rejected(rejected)
        for sink in self.sinks:
            sink.add_rejected(rejected)

    def close(self) -> None:
        self.texts.close()


class _InputFailed(Exception):
    """Reading the inputs failed with ``cause``: the records read before it are evaluated and written, then
    the run stops with :class:`InputFailed`."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause

    def failed(self, summary: BatchSummary) -> InputFailed:
        """Record the failure in ``summary`` and give the exception the run raises."""
        error = InputFailed(self.cause, summary=summary)
        summary.error = error.diagnostics[0].message
        return error


def _chunks(
    items: Iterator[tuple[RawRecord, _Span | None] | _Block], size: int, stop: _Interrupt
) -> Generator[_Chunk, None, None]:
    chunk = _Chunk()
    failed: Exception | None = None
    try:
        for item in items:
            stop.check()
            if isinstance(item, _Block):
                chunk.add_block(item)
            else:
                chunk.add_record(*item)
            if chunk.count >= size:
                yield chunk
                chunk = _Chunk()
    except Exception as exc:  # not an interrupt: that stops the run where it is
        failed = exc
    if chunk.entries:
        yield chunk
    if failed is not None:
        raise _InputFailed(failed) from failed


# --------------------------------------------------------------------------------- reading the inputs


def _is_plain_file(path: str) -> bool:
    """A regular, uncompressed file: its records' sizes are byte offsets we can read back."""
    if path == "-":
        return False
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            return handle.read(2) != _GZIP_MAGIC
    except OSError:
        return False


def _tracked(
    paths: Sequence[str],
    *,
    format: str | None,
    encoding: str,
    csv_dialect: dict[str, Any] | None,
    transform: RecordTransform | None,
    block_lines: int,
) -> Iterator[tuple[RawRecord, _Span | None] | _Block]:
    """The inputs' records with their spans, JSON Lines (without a transform) as blocks of lines."""
    joined: set[tuple[SourcePosition, str | None, str | None]] = set()
    for path in paths:
        if transform is not None:
            records: Iterable[RawRecord] = read_records(path, format=format, encoding=encoding, csv_dialect=csv_dialect)
            recent = _RecentSpans(path) if _is_plain_file(path) else None
            name = _STDIN_NAME if path == "-" else path
            for record in transform(records if recent is None else recent.track(records)):
                if record.data is None and record.position.file != name:
                    # a row of another file (a mapping's joined file): each input's mapping reports the joined
                    # files' problems; a run reports each once
                    problem = (record.position, record.code, record.error)
                    if problem in joined:
                        continue
                    joined.add(problem)
                yield record, None if recent is None else recent.span(record)
            continue
        plain = _is_plain_file(path)
        offset = 0
        for item in read_blocks(path, lines=block_lines, format=format, encoding=encoding, csv_dialect=csv_dialect):
            if isinstance(item, JsonLines):
                yield _Block(item, path if plain else None)
            elif plain:
                end = offset + item.size
                yield item, _Span(path, offset, end)
                offset = end
            else:
                yield item, None


class _RecentSpans:
    """The spans of the last rows read from a plain file, for a transform (a mapping) between the reader and
    the run: a row it rejects (``data`` None, at the row's position) is read back from the file like any
    other rejected record. A mapping reports a bad row as soon as it has read it, so a short window covers
    nearly all of them; a row older than the window gets no text. Records the transform makes (an
    interaction of several rows) are not rows of the file and get no span."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.spans: OrderedDict[tuple[str, int, int | None], _Span] = OrderedDict()

    def track(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        for record in records:
            end = self.offset + record.size
            position = record.position
            self.spans[(position.file, position.line, position.row)] = _Span(self.path, self.offset, end)
            if len(self.spans) > _RECENT_ROWS:
                self.spans.popitem(last=False)
            self.offset = end
            yield record

    def span(self, record: RawRecord) -> _Span | None:
        if record.data is not None:
            return None
        position = record.position
        return self.spans.get((position.file, position.line, position.row))


def _starts_an_array(fd: int) -> bool:
    """Whether the (plain) JSON file open as ``fd`` starts with ``[`` (within its first 4 KB)."""
    head = os.pread(fd, _RAW_WINDOW, 0).removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    return head.startswith(b"[")


class _SourceTexts:
    """Reads a rejected record's text back from its (plain) input file, masked and cut to 1 KB.

    A record's span starts right after the previous record, so it may begin with blank lines, a ``,``
    between JSON array elements, the ``[`` of the array or the CSV header: those are skipped."""

    def __init__(self, encoding: str = "utf-8", format: str | None = None) -> None:
        self._encoding = encoding
        """The inputs' text encoding (UTF-8 or a single-byte one: the readers accept no other)."""
        self._format = format
        """The inputs' format as given; None: each file's own (:func:`detect_format`)."""
        self._path: str | None = None
        self._fd: int | None = None
        self._json_array = False
        self._csv = False

    def text(self, meta: _Meta) -> tuple[str, bool] | None:
        span = meta.span
        if span is None or span.end <= span.start:
            return None
        try:
            if span.path != self._path:
                self.close()
                self._fd = os.open(span.path, os.O_RDONLY)
                self._path = span.path
                fmt = self._format or detect_format(span.path)
                # JSON that starts with '{' is one object or one object per line: no ',' or '[' before a record
                self._json_array, self._csv = fmt == "json" and _starts_an_array(self._fd), fmt == "csv"
            assert self._fd is not None
            data = os.pread(self._fd, min(span.end - span.start, _RAW_WINDOW), span.start)
        except OSError:
            return None
        if span.start == 0:  # the span starts at line 1: skip to the record's first line
            for _ in range(meta.position.line - 1):
                end = _CSV_LINE_END.search(data) if self._csv else None
                newline = end.end() if end is not None else data.find(b"\n") + 1
                if newline <= 0:
                    break
                data = data[newline:]
        if span.start == 0 and self._encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
            data = data.removeprefix(codecs.BOM_UTF8)
        if self._json_array:  # the array's bracket, or the comma before the element, and white space
            data = data.lstrip(b" \t\r\n")
            if data[:1] in (b",", b"["):
                data = data[1:].lstrip(b" \t\r\n")
        elif self._csv:  # empty lines before the row; a CSV row's own leading tab or space is its text
            data = data.lstrip(b"\r\n")
        else:  # lines of JSON white space before the record (no record of their own), not its own indent
            while (newline := data.find(b"\n")) >= 0 and not data[:newline].strip(b" \t\r"):
                data = data[newline + 1 :]
            data = data.lstrip(b"\r")
        text = data.decode(self._encoding, "replace").rstrip("\r\n")
        if not text:
            return None
        raw, cut = clip_raw(text)
        return raw, cut or span.end - span.start > _RAW_WINDOW

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._path = None


# ---------------------------------------------------------------------------------------- interrupts


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""What stops a run as Ctrl-C does: also the polite ``kill``, a cancelled CI job, a closed terminal."""


class _Interrupt:
    """Ctrl-C (or SIGTERM, SIGHUP) during a run. While the run reads its inputs or waits for workers, it
    interrupts at once. While it evaluates or merges a chunk (:meth:`deferred`), a KeyboardInterrupt raised
    wherever the signal lands could be swallowed (in a ``__del__``: "Exception ignored") or wrapped
    (pydantic reports one raised while it serialises as a serialisation error), and the run would go on or
    fail instead of stopping; so there the first signal only sets a flag, and the run stops when the chunk
    is done. A second one interrupts at once. Only the main thread receives signals: elsewhere nothing is
    installed and the signals behave as they always do."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.received = False
        self.signum: int | None = None
        """The first signal received."""
        self._cancel = cancel
        """Set from another thread: the run stops where a first signal would."""
        self._deferring = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        # Only in place of Python's own behaviour (KeyboardInterrupt for SIGINT, termination for the others):
        # a caller that ignores a signal (SIG_IGN, a background job) or handles it itself keeps its way.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in _STOP_SIGNALS:
            default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            if signal.getsignal(signum) is not default:
                continue
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # pragma: no cover - e.g. signals unavailable in this interpreter
                continue

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self.received
        self.received = True
        if first:
            self.signum = signum
        if not (first and self._deferring):
            raise KeyboardInterrupt

    def check(self) -> None:
        """Stop here if a signal came (one swallowed where it landed is still seen here), or the run was
        cancelled."""
        if self.received or (self._cancel is not None and self._cancel.is_set()):
            raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A first signal during the block stops the run when the block is done."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        self.check()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP (unless ignored) until the block is done; then the first one
    held is handled as it would have been (only the main thread receives signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, FrameType | None]] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append((signum, frame))

    previous: dict[int, Any] = {}
    for signum in _STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if callable(handler) or handler == signal.SIG_DFL:  # not SIG_IGN
            try:
                previous[signum] = signal.signal(signum, hold)
            except ValueError:  # pragma: no cover - e.g. signals unavailable in this interpreter
                pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signum, frame = received[0]
            if callable(previous[signum]):
                previous[signum](signum, frame)
            else:  # the default action (terminate), now that the files are complete
                os.kill(os.getpid(), signum)
