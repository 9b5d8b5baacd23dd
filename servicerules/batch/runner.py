"""Batch checking: readers → validation → evaluation → sinks, with a summary whose counts add up.

Every record read ends up either evaluated or rejected with its source position and reason; nothing is
dropped silently: ``summary.read == summary.evaluated + summary.rejected`` at every point.

Records are processed in chunks. With ``jobs=1`` the chunks are evaluated in the calling process; with
more, by a pool of worker processes (:mod:`servicerules.batch.parallel`) while this process reads the
input, with at most ``2 × jobs`` chunks in flight, so memory stays bounded on any input size. Results are
merged in input order either way, so the violations, the rejects and the summary of a parallel run are
identical to those of a serial run. An input that fits in one chunk is evaluated in-process (starting
workers would cost more than it saves).

Interrupts (Ctrl-C, i.e. ``KeyboardInterrupt`` in this process): reading stops, pending work is dropped,
the workers are stopped, and every sink is closed with the results merged so far, so the outputs are valid
and consistent with the summary, which has ``interrupted`` set. A chunk is merged as a whole: a Ctrl-C
while merging is held back until the chunk is done. A worker process that dies raises
:class:`~servicerules.batch.parallel.WorkerCrashed` after the sinks are closed the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import sys
import threading
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from servicerules.batch.output import BatchProgress, BatchSink, make_progress
from servicerules.batch.parallel import (
    ChunkItem,
    ItemResult,
    RejectedItem,
    WorkerCrashed,
    WorkerPool,
    default_jobs,
    evaluate_chunk,
)
from servicerules.batch.readers import RawRecord, SourcePosition, expand_inputs, read_records, total_size
from servicerules.batch.summary import BatchSummary, RejectedRecord, clip_raw
from servicerules.engine import CompiledRuleset
from servicerules.model.interaction import Interaction
from servicerules.report import Report

__all__ = ["DEFAULT_CHUNK_SIZE", "check_files", "check_records"]

ReportCallback = Callable[[Interaction, Report], None]
RecordTransform = Callable[[Iterable[RawRecord]], Iterable[RawRecord]]

#: Records per chunk sent to a worker (large enough to amortise the round trip, small enough to keep the
#: workers evenly loaded and memory low).
DEFAULT_CHUNK_SIZE = 512

_GZIP_MAGIC = b"\x1f\x8b"
_RAW_WINDOW = 4096  # bytes read back from the input for a rejected record's text


class _Span(NamedTuple):
    """Where a record's bytes are in a plain (uncompressed, seekable) input file."""

    path: str
    start: int
    end: int


class _Meta(NamedTuple):
    position: SourcePosition
    code: str | None  # set for records the reader could not read
    error: str | None
    span: _Span | None


class _Chunk:
    __slots__ = ("meta", "items", "size")

    def __init__(self) -> None:
        self.meta: list[_Meta] = []
        self.items: list[ChunkItem] = []
        self.size = 0

    def describe(self) -> str:
        if not self.meta:
            return ""
        return f"while evaluating the records {self.meta[0].position} to {self.meta[-1].position}"


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
) -> BatchSummary:
    """Check raw records (from :mod:`servicerules.batch.readers`, a mapping, or any iterable).

    ``jobs``: worker processes (``None``: one per CPU; ``1``, the default here: this process).
    ``sinks`` receive every result in input order and are always closed: with the summary at the end,
    also after an interrupt or an error, or with ``None`` when the run cannot start (bad arguments).
    ``on_report`` receives each full ``(interaction, report)``; full reports do not cross processes, so
    it needs ``jobs=1``. ``batch_size`` is the chunk size (default 256 serial, 512 parallel).
    ``start_method`` and ``tune_allocator`` (glibc heap tuning in the workers, see
    :func:`~servicerules.batch.parallel.tune_allocator`) configure worker processes; the calling process
    is never tuned.

    Returns the summary (``interrupted`` set after Ctrl-C). Raises
    :class:`~servicerules.batch.parallel.WorkerCrashed` when a worker process dies.
    """
    return _run(
        ruleset,
        ((record, None) for record in records),
        as_of=as_of,
        on_report=on_report,
        chunk_size=batch_size,
        summary=summary,
        jobs=jobs,
        sinks=sinks,
        progress=progress,
        start_method=start_method,
        tune_allocator=tune_allocator,
    )


def check_files(
    ruleset: CompiledRuleset,
    inputs: Sequence[str],
    *,
    as_of: dt.datetime | None = None,
    jobs: int | None = 1,
    sinks: Sequence[BatchSink] = (),
    progress: BatchProgress | bool | None = None,
    on_report: ReportCallback | None = None,
    format: str | None = None,
    encoding: str = "utf-8",
    transform: RecordTransform | None = None,
    chunk_size: int | None = None,
    start_method: str | None = None,
    tune_allocator: bool = True,
) -> BatchSummary:
    """Check every record of the given files, globs, directories or ``-`` (stdin).

    ``jobs``: worker processes (``None``: one per CPU, as ``servicerules check`` does by default; ``1``,
    the default here: evaluate in this process). ``progress`` is a
    :class:`~servicerules.batch.output.BatchProgress`, or ``True`` for a progress bar on stderr when it is a
    terminal (sized by :func:`~servicerules.batch.readers.total_size`). ``format`` and ``encoding`` are
    passed to :func:`~servicerules.batch.readers.read_records`. ``transform`` is applied to each file's
    stream of records, e.g. ``functools.partial(apply_mapping, mapping)`` for a help-desk export.
    Rejected records carry their original text, read back from the file (for gzip input, stdin and
    transformed records: the parsed record as JSON when there is one).
    Other arguments as for :func:`check_records`. Inputs that do not exist raise
    :class:`FileNotFoundError` before anything is read.
    """
    try:
        paths = expand_inputs(inputs)
    except BaseException:
        _abandon(sinks)
        raise
    if progress is True:
        progress = make_progress(sys.stderr, total=total_size(paths))
    elif progress is False:
        progress = None
    return _run(
        ruleset,
        _tracked(paths, format=format, encoding=encoding, transform=transform),
        as_of=as_of,
        on_report=on_report,
        chunk_size=chunk_size,
        summary=None,
        jobs=jobs,
        sinks=sinks,
        progress=progress,
        start_method=start_method,
        tune_allocator=tune_allocator,
    )


# ------------------------------------------------------------------------------------------- the run


def _run(
    ruleset: CompiledRuleset,
    records: Iterator[tuple[RawRecord, _Span | None]],
    *,
    as_of: dt.datetime | None,
    on_report: ReportCallback | None,
    chunk_size: int | None,
    summary: BatchSummary | None,
    jobs: int | None,
    sinks: Sequence[BatchSink],
    progress: BatchProgress | None,
    start_method: str | None,
    tune_allocator: bool,
) -> BatchSummary:
    jobs = default_jobs() if jobs is None else jobs
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK_SIZE if jobs > 1 else 256
    problem = None
    if as_of is not None and as_of.tzinfo is None:
        problem = "as_of must be timezone-aware"
    elif jobs < 1:
        problem = f"jobs must be at least 1, not {jobs}"
    elif on_report is not None and jobs > 1:
        problem = "on_report receives full reports, which do not cross processes: use jobs=1 or a sink"
    elif chunk_size < 1:
        problem = f"the chunk size must be at least 1, not {chunk_size}"
    if problem is not None:
        _abandon(sinks)
        raise ValueError(problem)
    if summary is None:
        summary = BatchSummary.for_ruleset(ruleset)
    with_json = any(sink.needs_violation_json for sink in sinks)
    merger = _Merger(summary, sinks, progress, on_report)
    pool: WorkerPool | None = None
    in_order: _InOrder | None = None
    failure: BaseException | None = None
    started = time.perf_counter()
    for sink in sinks:
        sink.begin(summary)
    try:
        chunks = _chunks(records, chunk_size)
        first = next(chunks, None)
        if first is not None and jobs > 1 and len(first.meta) >= chunk_size:
            # before any progress thread starts: forking is safe only without other threads
            pool = WorkerPool(
                ruleset, jobs, as_of=as_of, with_json=with_json, start_method=start_method, tune_allocator=tune_allocator
            )
            summary.jobs = jobs
            in_order = _InOrder(pool, merger)
            in_order.send(first)
            first = None
        shown: AbstractContextManager[Any] = progress if progress is not None else nullcontext()
        with shown:
            if in_order is not None:
                for chunk in chunks:
                    in_order.send(chunk)
                in_order.finish()
            elif first is not None:  # serial: this process evaluates
                merger.serial(ruleset, first, as_of, with_json)
                for chunk in chunks:
                    merger.serial(ruleset, chunk, as_of, with_json)
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
        try:
            with _sigint_held():  # a second Ctrl-C must not leave workers running or files half-written
                if pool is not None:
                    unfinished = in_order is not None and in_order.pending
                    pool.close(cancel=unfinished or summary.interrupted or failure is not None)
                merger.close()
                summary.elapsed += time.perf_counter() - started
                for sink in sinks:
                    sink.close(summary)
        except KeyboardInterrupt:
            summary.interrupted = True
    if failure is not None:
        raise failure
    return summary


def _abandon(sinks: Sequence[BatchSink]) -> None:
    for sink in sinks:
        sink.close(None)


class _InOrder:
    """Sends chunks to the worker pool and merges their results in input order.

    At most ``per_worker`` chunks wait at each worker, and results that arrive early wait here for the
    ones before them (fewer than the chunks in flight), so memory stays bounded."""

    def __init__(self, pool: WorkerPool, merger: "_Merger"):
        self.pool = pool
        self.merger = merger
        self.chunks: dict[int, _Chunk] = {}
        self.results: dict[int, list[ItemResult]] = {}
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
        if chunk.items:
            self.pool.submit(number, chunk.items, describe=chunk.describe())
            chunk.items = []  # the packed copy is all the pool needs
        else:
            self.results[number] = []  # only unreadable records: nothing to evaluate
        self._receive(0)  # merge whatever has arrived meanwhile

    def finish(self) -> None:
        while self.pending:
            self._receive(None)

    def _receive(self, timeout: float | None) -> None:
        for number, results in self.pool.collect(timeout):
            self.results[number] = results
        while self.merged in self.results:
            chunk = self.chunks.pop(self.merged)
            self.merger.merge(chunk, self.results.pop(self.merged), None)
            self.merged += 1


class _Merger:
    """Merges chunk results into the summary and the sinks, in input order, one whole chunk at a time."""

    def __init__(
        self,
        summary: BatchSummary,
        sinks: Sequence[BatchSink],
        progress: BatchProgress | None,
        on_report: ReportCallback | None,
    ):
        self.summary = summary
        self.sinks = sinks
        self.progress = progress
        self.on_report = on_report
        self.texts = _SourceTexts()

    def serial(self, ruleset: CompiledRuleset, chunk: _Chunk, as_of: dt.datetime | None, with_json: bool) -> None:
        reports: list[tuple[Interaction, Report]] | None = [] if self.on_report is not None else None
        results = evaluate_chunk(ruleset, chunk.items, as_of=as_of, with_json=with_json, reports=reports)
        self.merge(chunk, results, reports)

    def merge(self, chunk: _Chunk, results: list[ItemResult], reports: list[tuple[Interaction, Report]] | None) -> None:
        summary, sinks = self.summary, self.sinks
        with _sigint_held():
            outcomes = iter(results)
            full = iter(reports) if reports is not None else None
            for meta in chunk.meta:
                if meta.code is None:
                    result = next(outcomes)
                    if isinstance(result, RejectedItem):
                        raw, cut = self.texts.text(meta) or (result.raw, result.raw_truncated)
                        self._reject(meta, result.code, result.reason, raw, cut)
                        continue
                    summary.add_outcome(result)
                    for sink in sinks:
                        sink.add_outcome(result)
                    if full is not None and self.on_report is not None:
                        self.on_report(*next(full))
                else:
                    read_back = self.texts.text(meta)
                    if read_back is None:
                        self._reject(meta, meta.code, meta.error or "", None, False)
                    else:
                        self._reject(meta, meta.code, meta.error or "", *read_back)
            if self.progress is not None:
                self.progress.advance(len(chunk.meta), chunk.size)

    def _reject(self, meta: _Meta, code: str, reason: str, raw: str | None, cut: bool) -> None:
        position = meta.position
        rejected = RejectedRecord(str(position), code, reason, position.file, position.line, position.row, raw, cut)
        self.summary.add_rejected(rejected)
        for sink in self.sinks:
            sink.add_rejected(rejected)

    def close(self) -> None:
        self.texts.close()


def _chunks(records: Iterator[tuple[RawRecord, _Span | None]], size: int) -> Iterator[_Chunk]:
    chunk = _Chunk()
    for record, span in records:
        where = str(record.position)
        if record.error is None and record.data is not None:
            chunk.meta.append(_Meta(record.position, None, None, span))
            chunk.items.append((where, record.data))
        else:
            chunk.meta.append(_Meta(record.position, record.code or "SR301", record.error or "unreadable record", span))
        chunk.size += record.size
        if len(chunk.meta) >= size:
            yield chunk
            chunk = _Chunk()
    if chunk.meta:
        yield chunk


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
    paths: Sequence[str], *, format: str | None, encoding: str, transform: RecordTransform | None
) -> Iterator[tuple[RawRecord, _Span | None]]:
    for path in paths:
        records: Iterable[RawRecord] = read_records(path, format=format, encoding=encoding)
        if transform is not None:
            records = transform(records)
        if transform is not None or not _is_plain_file(path):
            for record in records:
                yield record, None
            continue
        offset = 0
        for record in records:
            end = offset + record.size
            yield record, _Span(path, offset, end)
            offset = end


class _SourceTexts:
    """Reads a rejected record's text back from its (plain) input file, masked and cut to 1 KB.

    A record's span starts right after the previous record, so it may begin with blank lines, a ``,``
    between JSON array elements, the ``[`` of the array or the CSV header: those are skipped."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._fd: int | None = None

    def text(self, meta: _Meta) -> tuple[str, bool] | None:
        span = meta.span
        if span is None or span.end <= span.start:
            return None
        try:
            if span.path != self._path:
                self.close()
                self._fd = os.open(span.path, os.O_RDONLY)
                self._path = span.path
            assert self._fd is not None
            data = os.pread(self._fd, min(span.end - span.start, _RAW_WINDOW), span.start)
        except OSError:
            return None
        if span.start == 0:  # the span starts at line 1: skip to the record's first line
            for _ in range(meta.position.line - 1):
                newline = data.find(b"\n")
                if newline < 0:
                    break
                data = data[newline + 1 :]
        data = data.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
        if data[:1] in (b",", b"["):
            data = data[1:].lstrip(b" \t\r\n")
        text = data.decode("utf-8", "replace").rstrip("\r\n")
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


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold back SIGINT until the block is done (only the main thread receives signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[FrameType | None] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(frame)

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except ValueError:  # pragma: no cover - e.g. signals unavailable in this interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, received[0])
