"""Batch checking: readers → validation → evaluation → sinks, with a summary whose counts add up.

Every record read ends up either evaluated or rejected with its source position and reason; nothing is
dropped silently. An interrupted run (Ctrl-C) stops after the last completed batch and leaves the outputs
valid up to there, with ``summary.interrupted`` set.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable, Iterable, Iterator, Sequence

from servicerules.batch.readers import RawRecord, expand_inputs, read_records
from servicerules.batch.summary import BatchSummary
from servicerules.engine import CompiledRuleset, Rejection
from servicerules.errors import InteractionError
from servicerules.model.interaction import Interaction
from servicerules.report import Report

__all__ = ["check_records", "check_files"]

ReportCallback = Callable[[Interaction, Report], None]


def _validated(records: Iterable[RawRecord], summary: BatchSummary) -> Iterator[tuple[str, Interaction]]:
    for record in records:
        where = str(record.position)
        if record.error is not None:
            summary.add_rejection(where, record.code or "SR301", record.error)
            continue
        try:
            yield where, Interaction.parse(record.data)
        except InteractionError as exc:
            first = exc.diagnostics[0]
            reason = "; ".join(d.message for d in exc.diagnostics)
            summary.add_rejection(where, first.code, reason)


def check_records(
    ruleset: CompiledRuleset,
    records: Iterable[RawRecord],
    *,
    as_of: dt.datetime | None = None,
    on_report: ReportCallback | None = None,
    batch_size: int = 256,
    summary: BatchSummary | None = None,
) -> BatchSummary:
    """Check raw records (from :mod:`servicerules.batch.readers`) serially; returns the summary."""
    if summary is None:
        summary = BatchSummary.for_ruleset(ruleset)
    started = time.perf_counter()
    batch: list[tuple[str, Interaction]] = []

    def flush() -> None:
        models = [m for _w, m in batch]
        for (where, model), result in zip(batch, ruleset.evaluate_many(models, as_of=as_of, errors="collect", batch_size=batch_size)):
            if isinstance(result, Rejection):  # pragma: no cover - models are validated already
                summary.add_rejection(where, result.error.codes[0], str(result.error))
                continue
            summary.add_report(model, result)
            if on_report is not None:
                on_report(model, result)
        batch.clear()

    try:
        for item in _validated(records, summary):
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        flush()
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.elapsed += time.perf_counter() - started
    return summary


def check_files(
    ruleset: CompiledRuleset,
    inputs: Sequence[str],
    *,
    as_of: dt.datetime | None = None,
    on_report: ReportCallback | None = None,
) -> BatchSummary:
    """Check every record of the given files, globs, directories or ``-`` (stdin)."""
    summary = BatchSummary.for_ruleset(ruleset)
    for path in expand_inputs(inputs):
        check_records(ruleset, read_records(path), as_of=as_of, on_report=on_report, summary=summary)
        if summary.interrupted:
            break
    return summary
