"""Evaluating chunks of records, in this process or in worker processes.

The matching engine's C calls hold the GIL, so threads give no speed-up: batch checking uses processes.
Each worker compiles the ruleset once (a :class:`~servicerules.engine.CompiledRuleset` pickles as its
source text and recompiles on arrival), then evaluates chunks. A chunk is a list of pieces: records as
``(source, record dict)`` pairs (``marshal``-packed), or blocks of JSON Lines exactly as read from the file
(:class:`~servicerules.batch.readers.JsonLines`), which the worker splits, parses and validates itself,
so that the reading process does no per-record work. A line that does not validate is read again the
reader's way (:func:`~servicerules.batch.readers.jsonl_record`), so its code, message and position are
those a serial read gives.

The worker returns one :class:`ChunkResult` per chunk: the summary counts of its interactions
(:class:`~servicerules.batch.summary.SummaryPart`), each sink's digest of its outcomes (for example the
violations as text ready to write), and the few rejected records; the outcomes themselves only when a
sink asks for every one. :func:`evaluate_pieces` is the very function the serial runner calls in its own
process, which is what makes parallel and serial output identical.

:class:`WorkerPool` is a small pool of its own rather than ``concurrent.futures.ProcessPoolExecutor``:
a worker killed while it writes a result leaves the executor's reader thread blocked on a half-read
message for ever (and the interpreter hangs at exit, joining that thread). Here the calling thread does
all the talking, watches each worker's process, and turns a death into :class:`WorkerCrashed` at once.
Workers ignore SIGINT: the parent decides what a Ctrl-C means and stops them.
"""

from __future__ import annotations

import ctypes
import gc
import datetime as dt
import json
import marshal
import multiprocessing
import os
import pickle
import platform
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence, Union

from servicerules.batch.readers import JsonLines, jsonl_record
from servicerules.batch.summary import CountedRules, InteractionOutcome, RowDetail, SummaryPart, clip_raw, outcome_from_report, outcome_from_verdicts
from servicerules.batch.targets import Contribution, TargetAccumulator, target_contributions
from servicerules.engine import CompiledRuleset, Rejection, Verdicts
from servicerules.errors import Diagnostic, EvaluationError, InteractionError, RulesetError, ServiceRulesError
from servicerules.model.interaction import Interaction
from servicerules.report import Report

__all__ = [
    "ChunkItem",
    "ChunkPiece",
    "ChunkRejection",
    "ChunkResult",
    "ItemResult",
    "LineRejected",
    "RejectedItem",
    "WorkerCrashed",
    "WorkerPool",
    "default_jobs",
    "evaluate_chunk",
    "evaluate_pieces",
    "tune_allocator",
    "tune_gc",
]

#: ``(source, record)``: where the record was read (``file:line``) and the record: a dict, or its JSON
#: text (``bytes``/``str``: then parsing happens in the worker too, in one step with validation).
ChunkItem = tuple[str, Union[Mapping[str, Any], bytes, str]]

#: Interactions per ``evaluate_many`` batch. Small batches are markedly faster (measured on the starter
#: ruleset, one core: 32 → ~4,800/s, 256 → ~3,400/s, 512 → ~3,000/s): a batch's models, fact readers and
#: reports stay in the CPU caches. Chunks sent to workers are larger; each is evaluated in such batches.
EVALUATION_BATCH = 32

#: The code of :class:`WorkerCrashed` diagnostics.
WORKER_CRASHED = "SR401"

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


class RejectedItem(NamedTuple):
    """A record that failed validation: the first diagnostic's code, all messages, and its text as JSON
    (masked, cut to 1 KB) for the rejects file when the original text cannot be read back."""

    code: str
    reason: str
    raw: str
    raw_truncated: bool


ItemResult = Union[InteractionOutcome, RejectedItem]


class WorkerCrashed(EvaluationError):
    """A worker process died (killed, out of memory, a crash in C code) or failed in an unexpected way.

    ``summary`` holds what was merged before it happened; outputs are valid up to there."""

    def __init__(self, message: str, *, summary: Any = None, hint: str | None = None):
        super().__init__([Diagnostic(WORKER_CRASHED, message, hint=hint)])
        self.summary = summary


def default_jobs() -> int:
    """The number of CPUs this process may use (its affinity mask where the OS has one)."""
    counter: Callable[[], int | None] | None = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def tune_allocator() -> bool:
    """Keep freed memory in the process (glibc only): ``M_TRIM_THRESHOLD`` 256 MB, ``M_MMAP_THRESHOLD``
    64 MB. The engine allocates and frees buffers per interaction and glibc's default trimming made
    throughput swing several-fold (see docs/explanation/durable-rules.md).

    This changes a process-wide setting: call it only in a process servicerules owns (the worker
    processes do it by default; the ``servicerules`` command may do it for a serial run). Returns whether
    the setting was applied."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's soname (find_library would run ldconfig)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, 256 << 20)) and bool(mallopt(_M_MMAP_THRESHOLD, 64 << 20))


#: Thresholds of the cyclic garbage collector in processes servicerules owns (Python's default: 700, 10,
#: 10). Evaluation allocates a few thousand container objects per interaction (models, facts, reports),
#: nearly none of them in reference cycles; at the default a young-generation collection runs every
#: interaction or two and rescans the batch in flight. Measured on the charter, one core: about 7% faster.
GC_THRESHOLDS = (10_000, 50, 50)


def tune_gc(*, freeze: bool = False) -> None:
    """Collect less often (:data:`GC_THRESHOLDS`); with ``freeze``, first move every object alive now (the
    compiled ruleset, lexicons, calendars, modules) out of the collector's sight for good, so that full
    collections only scan what evaluation allocated. Process-wide, like :func:`tune_allocator`: only for
    processes servicerules owns (its workers, the ``servicerules`` command)."""
    if freeze:
        gc.collect()
        gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# ------------------------------------------------------------------------------------------ evaluation


class LineRejected(NamedTuple):
    """A record of a :class:`~servicerules.batch.readers.JsonLines` block that was not evaluated."""

    line: int
    row: int | None
    """Its record number within the block (1: the block's first record); ``None`` when the problem is not a
    record (the end of a damaged input)."""
    start: int
    """Its bytes in the block's data, from the end of the record before it (``0``: the block's first record,
    whose bytes begin where the previous block's last record ended)."""
    end: int
    code: str
    reason: str
    raw: str | None
    """The record as JSON (masked, cut to 1 KB) when it was read but did not validate; else ``None``."""
    raw_truncated: bool

    @classmethod
    def of(cls, line: int, row: int | None, start: int, end: int, item: RejectedItem) -> "LineRejected":
        """A record of line ``line`` that failed validation as ``item`` says."""
        return cls(line, row, start, end, item.code, item.reason, item.raw, item.raw_truncated)


#: A piece of a chunk: one record (``ChunkItem``), a record the reader already rejected (``None``: counted
#: here, the merging process knows why), or a block of unparsed JSON Lines (parsed here).
ChunkPiece = Union[ChunkItem, JsonLines, None]


class ChunkRejection(NamedTuple):
    """A record of a chunk that was not evaluated."""

    piece: int
    """Its piece of the chunk."""
    record: int
    """Its record number within the piece (0 for a piece that is one record)."""
    why: RejectedItem | LineRejected | None
    """``None``: the reader rejected it (its piece is ``None``)."""


class _Where(NamedTuple):
    """Where an evaluated record came from, to report it if evaluation rejects it after all."""

    piece: int
    record: int
    line: int
    """For a record of a JSON Lines block: its line, and its bytes in the block's data; else 0."""
    start: int
    end: int


class ChunkResult(NamedTuple):
    """What the merging process needs of one evaluated chunk: per chunk, not per interaction, except the
    (few) records that were rejected and, only when some sink wants them, the outcomes."""

    records: int
    """Records read in the chunk: evaluated plus rejected."""
    rejected: list[ChunkRejection]
    """Every rejected record, in input order."""
    blocks: dict[int, tuple[int, int]]
    """Per JSON Lines piece: (its records, the offset just after its last record in the block's data)."""
    part: SummaryPart
    digests: tuple[Any, ...]
    """The value of each sink's :meth:`~servicerules.batch.output.BatchSink.outcome_digest` for the
    chunk's outcomes."""
    outcomes: list[InteractionOutcome] | None


def evaluate_pieces(
    ruleset: CompiledRuleset,
    pieces: Sequence[ChunkPiece],
    *,
    as_of: dt.datetime | None = None,
    detail: RowDetail = RowDetail.JSON,
    digests: Sequence[Callable[[Sequence[InteractionOutcome]], Any]] = (),
    outcomes: bool = False,
    reports: list[tuple[Interaction, Report]] | None = None,
    batch_size: int = EVALUATION_BATCH,
) -> ChunkResult:
    """Read (JSON Lines blocks), validate and evaluate the records of one chunk.

    ``detail`` says how much of each violation the outcomes carry (at :attr:`RowDetail.COUNTS` no violation
    is built); ``digests`` are run on the chunk's outcomes and ``outcomes`` says whether the outcomes
    themselves are wanted. When ``reports`` is given, the full ``(interaction, report)`` of every evaluated
    record is appended to it (in-process callers only). ``batch_size`` is passed to
    :meth:`~servicerules.engine.CompiledRuleset.evaluate_many`."""
    models: list[Interaction] = []
    sources: list[str] = []
    wheres: list[_Where] = []
    rejected: list[ChunkRejection] = []
    blocks: dict[int, tuple[int, int]] = {}
    records = 0
    for index, piece in enumerate(pieces):
        if isinstance(piece, JsonLines):
            blocks[index] = _read_block(piece, index, models, sources, wheres, rejected)
            records += blocks[index][0]
            continue
        records += 1
        if piece is None:
            rejected.append(ChunkRejection(index, 0, None))
            continue
        source, data = piece
        try:
            models.append(Interaction.parse(data))
        except InteractionError as exc:
            rejected.append(ChunkRejection(index, 0, _rejected_item(exc, data)))
            continue
        sources.append(source)
        wheres.append(_Where(index, 0, 0, 0, 0))
    done: list[InteractionOutcome] = []
    if models:
        contributions: list[list[Contribution]] = [[] for _ in models]
        on_facts = None
        if ruleset.targets:
            targets = ruleset.targets

            def on_facts(index: int, model: Interaction, get: Any) -> None:
                contributions[index] = target_contributions(targets, get, model, as_of)

        results: Iterator[Report | Verdicts | Rejection]
        counted = CountedRules(ruleset)
        if detail is RowDetail.COUNTS and reports is None:  # nothing reads the violations: build none
            results = ruleset.verdicts_many(models, as_of=as_of, errors="collect", batch_size=batch_size, on_facts=on_facts)
        else:
            results = ruleset.evaluate_many(models, as_of=as_of, errors="collect", batch_size=batch_size, on_facts=on_facts)
        with_json = detail >= RowDetail.JSON
        late = False
        for position, (model, source, result) in enumerate(zip(models, sources, results)):
            if isinstance(result, Rejection):  # valid, but its evaluation raised (SR402): a bug, reported per record
                error = result.error
                raw, cut = clip_raw(_model_text(model))
                reason = "; ".join(d.message for d in error.diagnostics)
                rejected.append(_rejection(wheres[position], RejectedItem(error.codes[0], reason, raw, cut)))
                late = True
                continue
            if isinstance(result, Report):
                done.append(outcome_from_report(model, result, source=source, with_json=with_json, targets=contributions[position]))
                if reports is not None:
                    reports.append((model, result))
            else:
                done.append(outcome_from_verdicts(model, result, counted, source=source, targets=contributions[position], as_of=as_of))
        if late:
            rejected.sort(key=lambda r: (r.piece, r.record))
    part = SummaryPart(targets=TargetAccumulator(ruleset.targets) if ruleset.targets else None)
    for outcome in done:
        part.add(outcome)
    return ChunkResult(records, rejected, blocks, part, tuple(digest(done) for digest in digests), done if outcomes else None)


def _read_block(
    block: JsonLines,
    index: int,
    models: list[Interaction],
    sources: list[str],
    wheres: list[_Where],
    rejected: list[ChunkRejection],
) -> tuple[int, int]:
    """Validate the records of ``block`` into ``models`` (or ``rejected``); returns (records, the offset
    after the last one)."""
    row = 0
    end = 0  # after the previous record
    for line in block.lines_with_records():
        start, end = end, line.end
        model: Interaction | None = None
        if block.direct_json(line):  # the common case: validate the JSON text in one step
            try:
                model = Interaction.parse(line.raw)
            except InteractionError:
                pass  # the reader's own parse says what is wrong, in the reader's words
        if model is None:
            record = jsonl_record(block, line, row + 1)
            if record.data is None:
                rejected.append(ChunkRejection(index, row, LineRejected(line.line, row + 1, start, end, record.code or "SR301", record.error or "", None, False)))
                row += 1
                continue
            try:
                model = Interaction.parse(record.data)
            except InteractionError as exc:
                item = _rejected_item(exc, record.data)
                rejected.append(ChunkRejection(index, row, LineRejected.of(line.line, row + 1, start, end, item)))
                row += 1
                continue
        models.append(model)
        sources.append(f"{block.file}:{line.line}")
        wheres.append(_Where(index, row, line.line, start, end))
        row += 1
    where = block.end_problem()
    if where is not None:
        assert block.problem is not None
        rejected.append(ChunkRejection(index, row, LineRejected(where.line, None, end, len(block.data), "SR304", block.problem, None, False)))
        return row + 1, len(block.data)
    return row, end


def _rejected_item(exc: InteractionError, data: Mapping[str, Any] | bytes | str) -> RejectedItem:
    reason = "; ".join(d.message for d in exc.diagnostics)
    raw, cut = clip_raw(_record_text(data))
    return RejectedItem(exc.diagnostics[0].code, reason, raw, cut)


def _rejection(where: _Where, item: RejectedItem) -> ChunkRejection:
    if not where.line:
        return ChunkRejection(where.piece, where.record, item)
    return ChunkRejection(where.piece, where.record, LineRejected.of(where.line, where.record + 1, where.start, where.end, item))


def evaluate_chunk(
    ruleset: CompiledRuleset,
    items: Sequence[ChunkItem],
    *,
    as_of: dt.datetime | None = None,
    detail: RowDetail = RowDetail.JSON,
    reports: list[tuple[Interaction, Report]] | None = None,
    batch_size: int = EVALUATION_BATCH,
) -> list[ItemResult]:
    """Validate and evaluate ``items``; one result per item, in order (see :func:`evaluate_pieces`)."""
    result = evaluate_pieces(
        ruleset, items, as_of=as_of, detail=detail, outcomes=True, reports=reports, batch_size=batch_size
    )
    assert result.outcomes is not None
    outcomes = iter(result.outcomes)
    rejected = {index: why for index, _, why in result.rejected}
    results: list[ItemResult] = []
    for index in range(len(items)):
        why = rejected.get(index)
        results.append(why if isinstance(why, RejectedItem) else next(outcomes))
    return results


def _model_text(model: Interaction) -> str:
    """A validated interaction as JSON. pydantic refuses to serialise a value nested deeper than its own
    limit (a free attribute some 250 levels deep, which a record may hold), so json writes those."""
    try:
        return model.model_dump_json()
    except ValueError:  # PydanticSerializationError
        try:
            return json.dumps(model.model_dump(), ensure_ascii=False, default=_json_default)
        except (ValueError, RecursionError):
            return json.dumps({"id": model.id}, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _record_text(data: Mapping[str, Any] | bytes | str) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    if isinstance(data, str):
        return data
    return json.dumps(data, ensure_ascii=False, default=str)


# ------------------------------------------------------------------------------------------- the workers
#
# A worker runs three threads so that its pipe never blocks its work: one receives chunks into a local
# queue as soon as the parent sends them, the main thread evaluates, one sends results back. The parent
# can therefore keep two chunks queued per worker without risking a deadlock (a process blocked writing
# to a peer that is itself blocked writing), and a worker never waits for the parent to read.

_STOP = b""  # the parent's "no more chunks" message

# ("ok", results) | ("service_error", class name, diagnostics) | ("error", traceback text)
_Reply = tuple[Any, ...]

_SERVICE_ERRORS: dict[str, type[ServiceRulesError]] = {
    cls.__name__: cls for cls in (ServiceRulesError, RulesetError, InteractionError, EvaluationError)
}


def _pack(pieces: Sequence[ChunkPiece]) -> bytes:
    """A chunk as bytes: ``marshal`` (2-3x faster than pickle for the plain dicts, lists and strings that
    JSON and CSV readers produce), else pickle (JSON Lines blocks, records holding other types, e.g. from a
    mapping). A block pickles as little more than its bytes."""
    if not any(isinstance(piece, JsonLines) for piece in pieces):
        try:
            return b"m" + marshal.dumps(list(pieces))
        except ValueError:
            pass
    return b"p" + pickle.dumps(list(pieces), protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(payload: bytes) -> list[ChunkPiece]:
    data = memoryview(payload)[1:]
    pieces: list[ChunkPiece] = marshal.loads(data) if payload[:1] == b"m" else pickle.loads(data)
    return pieces


class _Job(NamedTuple):
    """What a worker needs besides the ruleset, the same for every chunk."""

    as_of: dt.datetime | None
    detail: RowDetail
    digests: tuple[Callable[[Sequence[InteractionOutcome]], Any], ...]
    outcomes: bool


def _evaluate_payload(ruleset: CompiledRuleset, payload: bytes, job: _Job) -> _Reply:
    try:
        # looked up at call time, so that tests can replace it in forked workers
        result = evaluate_pieces(
            ruleset, _unpack(payload), as_of=job.as_of, detail=job.detail, digests=job.digests, outcomes=job.outcomes
        )
        return ("ok", result)
    except ServiceRulesError as exc:  # its pickled form would not rebuild: send the diagnostics
        return ("service_error", type(exc).__name__, exc.diagnostics)
    except Exception:
        return ("error", traceback.format_exc())


def _worker_main(conn: Connection, ruleset_blob: bytes, job: _Job, tune: bool, inherited: Sequence[Connection]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    for name in ("SIGTERM", "SIGHUP"):  # forked after the parent took them over: a worker just ends
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    for other in inherited:  # forked: other workers' pipe ends must not keep those pipes open
        other.close()
    if tune:
        tune_allocator()
    incoming: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                message = conn.recv_bytes()
                if message == _STOP:
                    break
                incoming.put(message)
        except (EOFError, OSError):  # the parent is gone
            pass
        incoming.put(None)

    def send() -> None:
        try:
            while (reply := outgoing.get()) is not None:
                conn.send_bytes(reply)
        except OSError:  # the parent is gone
            pass

    receiver = threading.Thread(target=receive, name="servicerules-receive", daemon=True)
    sender = threading.Thread(target=send, name="servicerules-send", daemon=True)
    receiver.start()
    sender.start()
    try:
        ruleset: CompiledRuleset = pickle.loads(ruleset_blob)  # compiles the ruleset once per worker
    except Exception:
        outgoing.put(pickle.dumps(("error", "the ruleset did not compile in a worker process:\n" + traceback.format_exc())))
    else:
        if tune:
            tune_gc(freeze=True)
        while (payload := incoming.get()) is not None:
            outgoing.put(pickle.dumps(_evaluate_payload(ruleset, payload, job), protocol=pickle.HIGHEST_PROTOCOL))
    outgoing.put(None)
    sender.join()


def _context(method: str | None) -> BaseContext:
    """``fork`` where it is safe and cheapest (Linux, no other threads in this process); else
    ``forkserver`` with servicerules preloaded, else ``spawn``."""
    if method is None:
        methods = multiprocessing.get_all_start_methods()
        if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
            method = "fork"
        elif "forkserver" in methods:
            method = "forkserver"
        else:
            method = "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])
    return context


def _describe_exit(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return f"worker process {process.pid} stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process {process.pid} was killed by {name}"
    return f"worker process {process.pid} exited with code {code}"


class _Worker:
    __slots__ = ("process", "conn", "outstanding", "answered")

    def __init__(self, process: BaseProcess, conn: Connection):
        self.process = process
        self.conn = conn
        self.outstanding: deque[int] = deque()  # chunk numbers sent and not answered yet, in order
        self.answered = False  # whether it ever replied (so it got as far as servicerules' own code)


class WorkerPool:
    """Worker processes evaluating chunks with :func:`evaluate_pieces`.

    :meth:`submit` sends a numbered chunk to the least busy worker (at most ``per_worker`` chunks queued
    per worker: check :attr:`has_capacity`), :meth:`collect` returns answers as they arrive (in any order;
    the caller puts them back in order by number). Only the calling thread talks to the workers, through
    one pipe each, and it watches every worker's process: a worker that dies is reported as
    :class:`WorkerCrashed` right away, whatever it was doing. :meth:`close` stops the workers (``cancel``:
    at once, dropping queued work)."""

    def __init__(
        self,
        ruleset: CompiledRuleset,
        jobs: int,
        *,
        as_of: dt.datetime | None = None,
        detail: RowDetail = RowDetail.JSON,
        digests: Sequence[Callable[[Sequence[InteractionOutcome]], Any]] = (),
        outcomes: bool = True,
        start_method: str | None = None,
        tune_allocator: bool = True,
        per_worker: int = 2,
    ):
        """``as_of``, ``detail``, ``digests`` and ``outcomes`` are passed to :func:`evaluate_pieces`
        for every chunk (``digests`` must pickle unless the workers are forked)."""
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self.per_worker = per_worker
        self._workers: list[_Worker] = []
        self._describe: dict[int, str] = {}
        self._closed = False
        context = _context(start_method)
        self._start_method = context.get_start_method()
        forked = self._start_method == "fork"
        blob = pickle.dumps(ruleset)
        job = _Job(as_of, detail, tuple(digests), outcomes)
        try:
            for _ in range(jobs):
                parent_end, child_end = context.Pipe(duplex=True)
                inherited = [w.conn for w in self._workers] + [parent_end] if forked else []
                process = context.Process(  # type: ignore[attr-defined]
                    target=_worker_main,
                    args=(child_end, blob, job, tune_allocator, inherited),
                    name=f"servicerules-worker-{len(self._workers) + 1}",
                    daemon=True,
                )
                process.start()
                child_end.close()  # the worker holds it now: its death closes the pipe
                self._workers.append(_Worker(process, parent_end))
        except BaseException:
            self.close(cancel=True)
            raise

    @property
    def has_capacity(self) -> bool:
        return any(len(w.outstanding) < self.per_worker for w in self._workers)

    @property
    def pending(self) -> int:
        return sum(len(w.outstanding) for w in self._workers)

    def submit(self, number: int, pieces: Sequence[ChunkPiece], *, describe: str = "") -> None:
        """Send chunk ``number``; ``describe`` names it in a crash report (e.g. its first record)."""
        worker = min(self._workers, key=lambda w: len(w.outstanding))
        if len(worker.outstanding) >= self.per_worker:
            raise RuntimeError("every worker is busy: collect() before submitting more")
        worker.outstanding.append(number)
        self._describe[number] = describe
        try:
            worker.conn.send_bytes(_pack(pieces))
        except OSError:
            raise self._crashed(worker) from None

    def collect(self, timeout: float | None = None) -> list[tuple[int, ChunkResult]]:
        """Answers that have arrived, waiting up to ``timeout`` seconds (``None``: until one arrives)."""
        busy = [w for w in self._workers if w.outstanding]
        if not busy:
            return []
        by_handle: dict[Any, _Worker] = {w.conn: w for w in busy}
        by_handle.update((w.process.sentinel, w) for w in busy)
        ready = wait(list(by_handle), timeout)
        answers: list[tuple[int, ChunkResult]] = []
        for handle in ready:
            if isinstance(handle, int):  # a process sentinel: see below
                continue
            worker = by_handle[handle]
            try:
                reply: _Reply = pickle.loads(worker.conn.recv_bytes())
            except (EOFError, OSError):
                raise self._crashed(worker) from None
            worker.answered = True
            number = worker.outstanding.popleft()
            answers.append((number, self._results(reply, number)))
        for handle in ready:
            if isinstance(handle, int):
                worker = by_handle[handle]
                if worker.outstanding and not worker.conn.poll(0):
                    raise self._crashed(worker)  # died with work in hand and nothing more to read
        return answers

    def _results(self, reply: _Reply, number: int) -> ChunkResult:
        where = self._describe.pop(number, "")
        if reply[0] == "ok":
            result: ChunkResult = reply[1]
            return result
        if reply[0] == "service_error":
            raise _SERVICE_ERRORS.get(reply[1], EvaluationError)(reply[2])
        raise WorkerCrashed(f"a worker failed{' ' + where if where else ''}:\n{reply[1]}")

    def _crashed(self, worker: _Worker) -> WorkerCrashed:
        worker.process.join(2.0)
        what = self._describe.get(worker.outstanding[0], "") if worker.outstanding else ""
        hint = None
        if self._start_method != "fork" and not worker.answered and worker.process.exitcode == 1:
            # it failed before servicerules' code ran (which reports its own errors): most often the program's
            # main module, imported again in the worker, started a batch run at import
            hint = (
                f"the worker failed while starting (its error is on stderr); started by {self._start_method}, a worker "
                "imports the program's main module again: put the code that runs the batch under "
                "`if __name__ == \"__main__\":`"
            )
        return WorkerCrashed(f"{_describe_exit(worker.process)}{' ' + what if what else ''}", hint=hint)

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers: after their queued chunks, or (``cancel``) at once."""
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            if not cancel:
                try:
                    worker.conn.send_bytes(_STOP)
                except OSError:
                    pass
            else:
                worker.process.terminate()  # nothing of theirs is needed any more; no pipe is left half-read
        deadline = time.monotonic() + (2.0 if cancel else 10.0)
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(2.0)
            worker.conn.close()
            if not worker.process.is_alive():
                worker.process.close()  # its sentinel pipe: released now, not when the pool is collected

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(cancel=exc_type is not None)
