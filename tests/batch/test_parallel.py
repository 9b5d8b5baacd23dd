"""Parallel batch checking: identical to serial, ordered, counts that add up, interrupts, worker crashes.

The corpus is generated (benchmarks/corpus.py) with bad records mixed in; the parallel runs use small
chunks so that a few thousand interactions make dozens of chunks (ordering is then really exercised).
Worker processes are forked where the test needs to change worker behaviour (a monkeypatched function is
inherited by a forked worker).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import gzip
import io
import json
import multiprocessing
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import servicerules
from benchmarks.corpus import corpus
from servicerules.batch import parallel
from servicerules.batch.output import BatchSink, JUnitWriter, RejectsWriter, SummaryJsonWriter, ViolationWriter
from servicerules.batch.parallel import WorkerCrashed
from servicerules.batch.readers import MAX_NESTING, JsonLines, RawRecord, SourcePosition, read_records
from servicerules.batch.runner import InputFailed, _Interrupt, check_files, check_records
from servicerules.batch.summary import InteractionOutcome, RowDetail
from servicerules.errors import Diagnostic, EvaluationError

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)
CHUNK = 97  # small and odd: chunks never line up with anything
N_GOOD = 2400

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork-based worker tests")


@pytest.fixture(scope="module")
def ruleset() -> servicerules.CompiledRuleset:
    return servicerules.load(ROOT / "rulesets" / "starter.yaml")


def _bad_lines(rng: random.Random) -> list[str]:
    naive = next(corpus(1, seed=1, events=2))
    naive["created_at"] = "2026-03-02T09:00:00"
    unordered = next(corpus(1, seed=2, events=3))
    unordered["events"].reverse()
    return [
        "{broken json",
        "[1, 2, 3]",
        json.dumps({"id": "no-channel", "created_at": "2026-03-02T09:00:00Z"}),
        json.dumps(naive),
        json.dumps(unordered),
        '{"id": "card", "note": "4111 1111 1111 1111", ',
    ]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~2,400 interactions with 40 bad records scattered through them."""
    rng = random.Random(5)
    lines = [json.dumps(record, ensure_ascii=False) for record in corpus(N_GOOD, seed=11, events=4)]
    bad = _bad_lines(rng)
    for k in range(40):
        lines.insert(rng.randrange(len(lines)), bad[k % len(bad)])
    path = tmp_path_factory.mktemp("corpus") / "interactions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(ruleset: Any, out: Path, inputs: list[str], jobs: int, **kwargs: Any) -> tuple[Any, dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("v.jsonl", "v.json", "v.csv", "rejects.jsonl", "junit.xml", "summary.json")}
    sinks = [
        ViolationWriter.open(str(files["v.jsonl"])),
        ViolationWriter.open(str(files["v.json"])),
        ViolationWriter.open(str(files["v.csv"])),
        RejectsWriter.open(str(files["rejects.jsonl"])),
        JUnitWriter(str(files["junit.xml"]), fail_on="major"),
        SummaryJsonWriter(str(files["summary.json"])),
    ]
    kwargs.setdefault("chunk_size", CHUNK)
    summary = check_files(ruleset, inputs, jobs=jobs, sinks=sinks, as_of=AS_OF, **kwargs)
    return summary, {name: path.read_text(encoding="utf-8") for name, path in files.items()}


def _comparable(texts: dict[str, str]) -> dict[str, str]:
    """Outputs without what legitimately differs between runs (timing, process count)."""
    result = dict(texts)
    summary = json.loads(texts["summary.json"])
    del summary["elapsed_seconds"], summary["jobs"]
    result["summary.json"] = json.dumps(summary, sort_keys=True)
    result["junit.xml"] = "\n".join(line for line in texts["junit.xml"].splitlines() if "<testsuite " not in line)
    return result


@pytest.fixture(scope="module")
def serial_run(ruleset: Any, corpus_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    return _run(ruleset, tmp_path_factory.mktemp("serial"), [str(corpus_file)], jobs=1)


# ------------------------------------------------------------------------------------------ identical


@pytest.mark.parametrize("jobs", [2, 4])
def test_parallel_outputs_are_identical_to_serial(ruleset: Any, corpus_file: Path, serial_run: Any, tmp_path: Path, jobs: int) -> None:
    serial_summary, serial_texts = serial_run
    summary, texts = _run(ruleset, tmp_path, [str(corpus_file)], jobs=jobs)
    assert summary.jobs == jobs and serial_summary.jobs == 1
    assert _comparable(texts) == _comparable(serial_texts)
    assert (summary.read, summary.evaluated, summary.rejected) == (N_GOOD + 40, N_GOOD, 40)
    assert summary.read == summary.evaluated + summary.rejected
    # the order is the input order: violations follow the interactions' order in the file
    ids = [json.loads(line)["interaction_id"] for line in texts["v.jsonl"].splitlines()]
    numbers = [int(i.split("-")[1]) for i in ids]
    assert numbers == sorted(numbers) and len(ids) == summary.violations > 0


def test_serial_run_checks_every_record(serial_run: Any) -> None:
    summary, texts = serial_run
    assert (summary.read, summary.evaluated, summary.rejected) == (N_GOOD + 40, N_GOOD, 40)
    # the 40 bad records cycle through the 6 of _bad_lines: the first 4 kinds come 7 times, the last 2 six
    # times. SR301: broken JSON (7) and the cut-off card record (6); SR302: an array (7); SR111: no channel (7);
    # SR311: a time without a zone (7); SR312: events out of order (6)
    assert summary.rejections_by_code == {"SR301": 13, "SR302": 7, "SR111": 7, "SR311": 7, "SR312": 6}
    assert len(texts["rejects.jsonl"].splitlines()) == 40
    assert len(json.loads(texts["v.json"])) == summary.violations
    assert len(list(csv.reader(io.StringIO(texts["v.csv"])))) == summary.violations + 1


def test_parallel_run_of_any_record_iterable_matches_serial(ruleset: Any, corpus_file: Path) -> None:
    records = list(read_records(str(corpus_file)))[:700]
    serial_sink, parallel_sink = _Collect(), _Collect()
    serial = check_records(ruleset, records, jobs=1, sinks=[serial_sink], as_of=AS_OF)
    parallel_summary = check_records(ruleset, iter(records), jobs=2, batch_size=50, sinks=[parallel_sink], as_of=AS_OF)
    assert parallel_summary.jobs == 2
    assert parallel_sink.items == serial_sink.items
    assert parallel_summary.to_dict() | {"elapsed_seconds": 0, "jobs": 0} == serial.to_dict() | {"elapsed_seconds": 0, "jobs": 0}


class _NoOffset(dt.tzinfo):
    """A tzinfo that gives no offset: Python counts a datetime with it as naive."""

    def utcoffset(self, moment: dt.datetime | None) -> None:
        return None

    def dst(self, moment: dt.datetime | None) -> None:
        return None


class _Counting(BatchSink):
    """A sink that reads outcomes but only counts their violations."""

    violation_detail = RowDetail.COUNTS

    def __init__(self) -> None:
        self.outcomes: list[Any] = []

    def add_outcome(self, outcome: Any) -> None:
        self.outcomes.append(outcome)


def _counted(outcome: Any) -> tuple[Any, ...]:
    """An outcome as a run that only counts must give it: its rows cut down to rule, severity and mode."""
    rows = tuple((row.rule_id, row.severity, row.mode) for row in outcome.violations)
    return (*outcome[:7], rows, outcome.targets)


@pytest.mark.parametrize("name", ["starter", "charter"])
def test_a_run_that_only_counts_builds_no_violations_and_counts_the_same(name: str, corpus_file: Path, tmp_path: Path) -> None:
    policy = servicerules.load(ROOT / "rulesets" / f"{name}.yaml")
    records = list(read_records(str(corpus_file)))[:600]
    full, counting = _Collect(), _Counting()
    csv_out = ViolationWriter.open(str(tmp_path / "v.csv"))
    with_rows = check_records(policy, records, jobs=1, sinks=[full, csv_out], as_of=AS_OF)
    counted = check_records(policy, records, jobs=1, sinks=[counting], as_of=AS_OF)
    assert counted.to_dict() | {"elapsed_seconds": 0} == with_rows.to_dict() | {"elapsed_seconds": 0}
    assert counted.violations > 0 and len(counting.outcomes) == counted.evaluated
    assert all(row.message is None and row.json is None for o in counting.outcomes for row in o.violations)
    outcomes = [item for item in full.items if isinstance(item, InteractionOutcome)]
    assert len(outcomes) == counted.evaluated
    assert [_counted(o) for o in counting.outcomes] == [_counted(o) for o in outcomes]
    assert all(row.message and row.json for o in outcomes for row in o.violations)


def test_input_smaller_than_one_chunk_is_evaluated_in_process(ruleset: Any, corpus_file: Path) -> None:
    records = list(read_records(str(corpus_file)))[:30]
    summary = check_records(ruleset, records, jobs=4, as_of=AS_OF)
    assert summary.jobs == 1 and summary.read == 30


def test_on_report_needs_this_process(ruleset: Any) -> None:
    with pytest.raises(ValueError, match="on_report"):
        check_records(ruleset, [], jobs=2, on_report=lambda i, r: None)
    with pytest.raises(ValueError, match="timezone-aware"):
        check_records(ruleset, [], as_of=dt.datetime(2026, 1, 1))


class _Collect:
    """A sink that remembers everything it is given, in order."""

    violation_detail = RowDetail.JSON

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.closed: Any = None

    def begin(self, summary: Any) -> None:
        self.items.append(("begin", summary.ruleset))

    def add_outcome(self, outcome: Any) -> None:
        self.items.append(outcome)

    def add_rejected(self, rejected: Any) -> None:
        self.items.append(rejected)

    def close(self, summary: Any) -> None:
        self.closed = summary


# ------------------------------------------------------------------------ JSON Lines parsed in workers


def _tricky_inputs(directory: Path) -> list[str]:
    """JSON Lines the runner sends unparsed to the workers, with everything that can go wrong in a line."""
    good = [json.dumps(r, ensure_ascii=False) for r in corpus(260, seed=21, events=3)]
    surrogate = json.dumps({**json.loads(good[0]), "id": "surrogate", "subject": "@"}).replace('"@"', '"a\\ud800b"')
    deep = json.dumps({**json.loads(good[1]), "id": "deep", "attributes": {"x": "@"}}).replace('"@"', "[" * 300 + "]" * 300)
    bad = ["{broken json", "[1, 2, 3]", '"a string"', "   ", "", json.dumps({"id": "no-channel", "created_at": "2026-03-02T09:00:00Z"}),
           surrogate, deep, "\ufeff" + good[2], '{"id": "card", "note": "4111 1111 1111 1111 ' + "x" * 5000 + '"}']
    lines = list(good)
    rng = random.Random(8)
    for k in range(40):
        lines.insert(rng.randrange(len(lines)), bad[k % len(bad)])
    body = "\n".join(lines).encode("utf-8").replace(b'"id": "B-50"', b'"id": "B-\xff50"')
    (directory / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + body.replace(b"\n", b"\r\n", 30) + b'\n{"id": "cut", "chan')
    whole = gzip.compress(body + b"\n")
    (directory / "b.jsonl.gz").write_bytes(whole[: len(whole) * 3 // 4])
    (directory / "c.jsonl").write_bytes(body + b"\n\n \n")
    return [str(directory / name) for name in ("a.jsonl", "b.jsonl.gz", "c.jsonl")]


def test_json_lines_parsed_in_the_workers_give_the_records_a_serial_read_gives(ruleset: Any, tmp_path: Path) -> None:
    """``check_files`` ships JSON Lines unparsed; the results, rejects (code, message, file, line, row)
    included, are those of checking what ``read_records`` reads, for any number of workers and chunk size."""
    inputs = _tricky_inputs(tmp_path)
    expected = _Collect()
    records = [r for path in inputs for r in read_records(path)]
    check_records(ruleset, records, jobs=1, sinks=[expected], as_of=AS_OF)
    rejected = [item for item in expected.items if hasattr(item, "code")]
    assert {"SR301", "SR302", "SR303", "SR304", "SR111"} <= {r.code for r in rejected}
    for jobs, chunk in ((1, 256), (1, 13), (2, 13), (2, 512), (4, 64)):
        sink = _Collect()
        summary = check_files(ruleset, inputs, jobs=jobs, chunk_size=chunk, sinks=[sink], as_of=AS_OF)
        assert sink.items == expected.items  # rejected records compare without their text
        assert summary.read == len(records) == summary.evaluated + summary.rejected


def test_rejected_text_of_json_lines_is_read_back_from_the_file(ruleset: Any, tmp_path: Path) -> None:
    inputs = _tricky_inputs(tmp_path)
    texts = {}
    for jobs, chunk in ((1, 256), (2, 13), (2, 97)):
        out = tmp_path / f"rejects-{jobs}-{chunk}.jsonl"
        check_files(ruleset, inputs, jobs=jobs, chunk_size=chunk, sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
        texts[jobs, chunk] = out.read_text(encoding="utf-8")
    assert len(set(texts.values())) == 1
    rejects = [json.loads(line) for line in texts[1, 256].splitlines()]
    by_text = {r["raw"]: r for r in rejects if r["file"].endswith("a.jsonl")}
    assert by_text["{broken json"]["line"] > 1 and by_text['"a string"']["code"] == "SR302"
    card = next(r for r in rejects if r["raw"] and r["raw"].startswith('{"id": "card"'))
    assert card["raw_truncated"] and "4111 1111 1111 1111" not in card["raw"]
    cut = [r for r in rejects if r["code"] == "SR304"]
    assert [Path(r["file"]).name for r in cut] == ["a.jsonl", "b.jsonl.gz"] and cut[0]["raw"] == '{"id": "cut", "chan'


def test_a_line_longer_than_the_record_limit_is_never_sent_to_a_worker(
    ruleset: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a record size limit of 8 KiB, lines of 20 KB (one of them without a line feed, at the end, and
    one holding a card number at its start) are rejected as SR306 at their lines, in every run alike; no
    block sent for evaluation holds their bytes; the rejects file has their first kilobyte, masked."""
    from servicerules.batch import readers

    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 8192)
    lines = [json.dumps(record) for record in corpus(300, seed=4, events=2)]
    long = '{"id": "card", "note": "4111 1111 1111 1111 ' + "x" * 20_000 + '"}'
    for at in (0, 57, 58, 200):
        lines.insert(at, long)
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n" + long)
    inputs = [str(tmp_path / "a.jsonl")]
    expected = [r for r in read_records(inputs[0])]
    assert [(r.position.line, r.position.row, r.code) for r in expected if not r.ok] == [
        (line, line, "SR306") for line in (1, 58, 59, 201, 305)
    ]
    assert expected[0].error == f"record is {len(long):,} bytes, more than the limit of 8 KiB"
    from servicerules.batch import runner

    sent: list[bytes] = []  # the blocks of lines sent for evaluation
    add_block = runner._Chunk.add_block

    def adding_block(chunk: Any, block: Any) -> None:
        sent.append(block.lines.data)
        add_block(chunk, block)

    monkeypatch.setattr(runner._Chunk, "add_block", adding_block)
    results = {}
    for jobs, chunk in ((1, 256), (1, 7), (2, 7), (2, 64)):
        sink = _Collect()
        out = tmp_path / f"rejects-{jobs}-{chunk}.jsonl"
        summary = check_files(ruleset, inputs, jobs=jobs, chunk_size=chunk, sinks=[sink, RejectsWriter.open(str(out))], as_of=AS_OF)
        assert summary.read == len(expected) == summary.evaluated + summary.rejected
        rejects = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        results[jobs, chunk] = (sink.items, rejects)
    assert all(result == results[1, 256] for result in results.values())
    rejects = results[1, 256][1]
    assert [(r["line"], r["code"]) for r in rejects] == [(line, "SR306") for line in (1, 58, 59, 201, 305)]
    assert all(r["raw_truncated"] and 1000 <= len(r["raw"]) <= 1100 and "4111 1111 1111 1111" not in r["raw"] for r in rejects)
    assert all(r["raw"].startswith('{"id": "card", "note": ') for r in rejects)
    assert len(sent) > 40 and not any(b"x" * 8193 in data for data in sent)
    assert sum(b"4111 1111 1111 1111" in data for data in sent) == 0


def test_rejected_text_of_json_lines_leaves_out_white_space_lines_before_it(ruleset: Any, tmp_path: Path) -> None:
    # lines of spaces and tabs are no records, but lay between the record before and the rejected one
    good = json.dumps(next(corpus(1, seed=4, events=2)))
    lines = [good, " \t ", "\t\r", "{broken json", "  ", '  {"id": 5}', " ", good, "", " \t", "[1, 2]"]
    path = tmp_path / "spaced.jsonl"
    path.write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    expected = ["{broken json", '  {"id": 5}', "[1, 2]"] * 3  # a record's own indent is its text
    for jobs, chunk in ((1, 256), (1, 1), (2, 2), (2, 5)):
        out = tmp_path / f"rejects-{jobs}-{chunk}.jsonl"
        check_files(ruleset, [str(path)], jobs=jobs, chunk_size=chunk, sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
        assert [json.loads(line)["raw"] for line in out.read_text(encoding="utf-8").splitlines()] == expected, (jobs, chunk)


# ------------------------------------------------------------------------------------- counts add up


def test_counts_add_up_with_truncated_gzip_and_invalid_json(ruleset: Any, tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in corpus(300, seed=3, events=3)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    (tmp_path / "a.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])  # truncated gzip stream
    broken = lines[:120] + ["{not json", '"a string"'] + lines[120:200]
    (tmp_path / "b.jsonl").write_text("\n".join(broken) + "\n")
    array = "[" + ",\n".join(lines[:80] + ["{oops}"] + lines[80:150]) + "\n"  # no closing ]
    (tmp_path / "c.json").write_text(array)
    expected = [r for name in ("a.jsonl.gz", "b.jsonl", "c.json") for r in read_records(str(tmp_path / name))]
    results = {}
    for jobs in (1, 2):
        sink = _Collect()
        summary = check_files(ruleset, [str(tmp_path)], jobs=jobs, chunk_size=40, sinks=[sink], as_of=AS_OF)
        assert summary.read == len(expected) == summary.evaluated + summary.rejected
        assert summary.rejected == sum(not r.ok for r in expected) + sum(
            1 for r in expected if r.ok and r.data is not None and "channel" not in r.data
        )
        assert {"SR304", "SR301", "SR302"} <= set(summary.rejections_by_code)
        results[jobs] = sink.items
    assert results[1] == results[2]


def test_a_sink_that_fails_to_close_does_not_keep_the_others_from_closing(ruleset: Any, corpus_file: Path, tmp_path: Path) -> None:
    class FullDisk(_Collect):
        def close(self, summary: Any) -> None:
            raise OSError(28, "No space left on device")

    first, last = _Collect(), _Collect()
    summary_file = tmp_path / "s.json"
    with pytest.raises(OSError, match="No space left"):
        check_files(ruleset, [str(corpus_file)], sinks=[first, FullDisk(), last, SummaryJsonWriter(str(summary_file))], as_of=AS_OF)
    assert first.closed is not None and last.closed is first.closed
    assert json.loads(summary_file.read_text())["read"] == first.closed.read > 0


# ----------------------------------------------------------------------------------------- interrupts


def _interrupting(records: Iterator[RawRecord], after: int) -> Iterator[RawRecord]:
    for index, record in enumerate(records):
        if index == after:
            raise KeyboardInterrupt
        yield record


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupt_leaves_valid_outputs_up_to_the_last_merged_record(
    ruleset: Any, corpus_file: Path, serial_run: Any, tmp_path: Path, jobs: int
) -> None:
    files = {name: tmp_path / name for name in ("v.json", "v.csv", "rejects.jsonl", "summary.json")}
    sinks = [
        ViolationWriter.open(str(files["v.json"])),
        ViolationWriter.open(str(files["v.csv"])),
        RejectsWriter.open(str(files["rejects.jsonl"])),
        SummaryJsonWriter(str(files["summary.json"])),
    ]
    records = _interrupting(read_records(str(corpus_file)), after=1000)
    summary = check_records(ruleset, records, jobs=jobs, batch_size=CHUNK, sinks=sinks, as_of=AS_OF)
    assert summary.interrupted
    assert summary.read == summary.evaluated + summary.rejected
    assert 0 < summary.read <= 1000 and summary.read % CHUNK == 0
    violations = json.loads(files["v.json"].read_text())  # the array is closed
    assert len(violations) == summary.violations
    serial_violations = json.loads(serial_run[1]["v.json"])
    assert violations == serial_violations[: len(violations)]  # exactly the serial run's prefix
    rows = list(csv.DictReader(files["v.csv"].open(newline="")))
    assert len(rows) == summary.violations
    assert len(files["rejects.jsonl"].read_text().splitlines()) == summary.rejected
    assert json.loads(files["summary.json"].read_text())["interrupted"] is True
    assert multiprocessing.active_children() == []  # workers stopped


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cancel_event_stops_the_run_after_the_chunk_as_ctrl_c_does(ruleset: Any, corpus_file: Path, tmp_path: Path, jobs: int) -> None:
    cancel = threading.Event()

    class CancellingSink(_Collect):
        def add_outcome(self, outcome: Any) -> None:
            super().add_outcome(outcome)
            if len(self.items) == 5:
                cancel.set()  # as another thread would: a web request that was cancelled

    sink, out = CancellingSink(), tmp_path / "v.json"
    summary = check_files(ruleset, [str(corpus_file)], jobs=jobs, chunk_size=CHUNK, as_of=AS_OF, cancel=cancel,
                          sinks=[sink, ViolationWriter.open(str(out))])
    assert summary.interrupted and summary.error is None
    assert summary.read == CHUNK == summary.evaluated + summary.rejected  # the chunk was completed, then the run stopped
    assert len(json.loads(out.read_text(encoding="utf-8"))) == summary.violations  # the array is closed
    assert multiprocessing.active_children() == []


def test_a_run_in_another_thread_is_cancelled_from_this_one(ruleset: Any, corpus_file: Path) -> None:
    cancel, started = threading.Event(), threading.Event()
    results: list[Any] = []

    class Started(_Collect):
        def add_outcome(self, outcome: Any) -> None:
            started.set()
            super().add_outcome(outcome)

    worker = threading.Thread(target=lambda: results.append(
        check_files(ruleset, [str(corpus_file)], jobs=1, chunk_size=CHUNK, as_of=AS_OF, cancel=cancel, sinks=[Started()])
    ))
    worker.start()
    assert started.wait(60)
    cancel.set()
    worker.join(60)
    (summary,) = results
    assert summary.interrupted and 0 < summary.read < N_GOOD and summary.read % CHUNK == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigint_while_merging_is_held_until_the_chunk_is_merged(ruleset: Any, corpus_file: Path, jobs: int) -> None:
    class InterruptingSink(_Collect):
        def add_outcome(self, outcome: Any) -> None:
            super().add_outcome(outcome)
            if len(self.items) == 5:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of a chunk

    sink = InterruptingSink()
    summary = check_files(ruleset, [str(corpus_file)], jobs=jobs, chunk_size=CHUNK, sinks=[sink], as_of=AS_OF)
    assert summary.interrupted
    assert summary.read == CHUNK  # the first chunk was merged completely, then the run stopped
    assert len(sink.items) - 1 == CHUNK


def _stalling(records: Iterator[RawRecord], after: int, waited: list[float]) -> Iterator[RawRecord]:
    """An input that stalls after ``after`` records (a pipe nobody writes to), and the user presses Ctrl-C.
    A wait the interrupt did not end runs to its end and is put in ``waited``."""
    for index, record in enumerate(records):
        if index == after:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(60)  # the interrupt ends the wait: it raises in here, and the next line never runs
            waited.append(60)
        yield record


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_while_the_input_stalls_stops_at_once(ruleset: Any, corpus_file: Path, jobs: int) -> None:
    waited: list[float] = []
    summary = check_records(ruleset, _stalling(read_records(str(corpus_file)), after=CHUNK + 3, waited=waited), jobs=jobs,
                            batch_size=CHUNK, as_of=AS_OF)
    assert waited == []  # the Ctrl-C ended the wait (whatever the machine's load, no clock is read)
    assert summary.interrupted
    # the records read since the last whole chunk are dropped, not evaluated after the Ctrl-C
    assert summary.read == summary.evaluated + summary.rejected
    assert summary.read in (0, CHUNK)
    assert multiprocessing.active_children() == []


def _unread(pipe: int) -> int:
    """The bytes written to ``pipe`` that its reader has not read yet."""
    import fcntl
    import struct
    import termios

    return int(struct.unpack("i", fcntl.ioctl(pipe, termios.FIONREAD, b"\0" * 4))[0])


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_complete_the_outputs_then_end_the_process(corpus_file: Path, tmp_path: Path, stop: str) -> None:
    # a cancelled CI job (SIGTERM), a closed terminal (SIGHUP): the outputs are completed, not cut off
    out, summary_file = tmp_path / "v.json", tmp_path / "s.json"
    command = [sys.executable, "-m", "servicerules", "check", str(ROOT / "rulesets" / "starter.yaml"), "-",
               "--as-of", "2026-03-02T18:00:00Z", "-o", str(out), "--summary-json", str(summary_file), "-q", "-j", "2"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdin is not None
    lines = corpus_file.read_bytes().splitlines(keepends=True)
    # then the input stalls: the run waits for more. The 2,000 lines (megabytes) do not fit in the pipe (64 KiB
    # on Linux), so the write returns only once the run (which installs its signal handlers before it reads)
    # has read nearly all of them; then wait until the pipe is empty. No sleep stands in for the run starting.
    assert len(b"".join(lines[:2000])) > 1 << 20
    process.stdin.write(b"".join(lines[:2000]))
    process.stdin.flush()
    deadline = time.monotonic() + 120  # a bound on a hang only
    while _unread(process.stdin.fileno()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _unread(process.stdin.fileno()) == 0 and process.poll() is None
    process.send_signal(getattr(signal, stop))
    _, err = process.communicate(timeout=60)
    # the outputs completed, the process ends as the signal asks; its workers end quietly
    assert process.returncode == -getattr(signal, stop), err
    assert b"Traceback" not in err
    violations = json.loads(out.read_text())  # a closed array
    summary = json.loads(summary_file.read_text())
    assert summary["interrupted"] is True and summary["violations"] == len(violations)
    assert summary["read"] == summary["evaluated"] + summary["rejected"] <= 2000


def test_ctrl_c_during_evaluation_waits_for_the_chunk_unless_pressed_twice() -> None:
    stop = _Interrupt()
    stop.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            with stop.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                finished = True  # the first Ctrl-C lets the chunk finish...
        assert finished  # ...and stops the run when the block ends
        stop.received = False
        with pytest.raises(KeyboardInterrupt):
            with stop.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                pytest.fail("a second Ctrl-C stops at once")
        stop.received = False
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # outside a chunk's evaluation: at once
            pytest.fail("not deferred")
    finally:
        stop.uninstall()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _SwallowsInterrupt:
    """Sends Ctrl-C from a ``__del__``: Python's own handler raises KeyboardInterrupt right there, where it is
    swallowed ("Exception ignored in ... __del__"), as seen with the regex package's objects."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))  # the handler runs between these bytecodes, inside __del__


def _ctrl_c_in_a_destructor(records: Iterator[RawRecord], after: int) -> Iterator[RawRecord]:
    for index, record in enumerate(records):
        if index == after:
            _SwallowsInterrupt()
        yield record


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed interrupt, on purpose
def test_ctrl_c_that_python_would_swallow_still_stops_the_run(ruleset: Any, corpus_file: Path, jobs: int) -> None:
    records = _ctrl_c_in_a_destructor(read_records(str(corpus_file)), after=CHUNK + 3)
    summary = check_records(ruleset, records, jobs=jobs, batch_size=CHUNK, as_of=AS_OF)
    assert summary.interrupted
    assert summary.read == summary.evaluated + summary.rejected
    # stopped between chunks, long before the end (chunks still in the workers are dropped)
    assert summary.read < 1500 and summary.read % CHUNK == 0


def _vanishing(records: Iterator[RawRecord], after: int) -> Iterator[RawRecord]:
    for index, record in enumerate(records):
        if index == after:
            raise FileNotFoundError(2, "No such file or directory", "gone/b.jsonl")
        yield record


@pytest.mark.parametrize("jobs", [1, 2])
def test_records_read_before_an_input_fails_are_all_evaluated(ruleset: Any, corpus_file: Path, tmp_path: Path, jobs: int) -> None:
    # An input that vanishes (or cannot be read any further) stops the run, but only after every record read
    # before it was evaluated and written: the counts still add up to what was read.
    out = tmp_path / "v.jsonl"
    rejects = tmp_path / "r.jsonl"
    summary_file = tmp_path / "s.json"
    sinks = [ViolationWriter.open(str(out)), RejectsWriter.open(str(rejects)), SummaryJsonWriter(str(summary_file))]
    records = _vanishing(read_records(str(corpus_file)), after=5 * CHUNK + 7)
    with pytest.raises(InputFailed) as caught:
        check_records(ruleset, records, jobs=jobs, batch_size=CHUNK, sinks=sinks, as_of=AS_OF)
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert caught.value.codes == ["SR403"]
    written = json.loads(summary_file.read_text())
    assert written["read"] == 5 * CHUNK + 7 == written["evaluated"] + written["rejected"]
    assert written["error"] == "an input could not be read to the end: [Errno 2] No such file or directory: 'gone/b.jsonl'"
    assert caught.value.render() == (
        "SR403 an input could not be read to the end: [Errno 2] No such file or directory: 'gone/b.jsonl'\n"
        f"    hint: the {5 * CHUNK + 7} records read before it were checked and written; fix the input and run again"
    )
    assert len(out.read_text().splitlines()) == written["violations"]
    assert len(rejects.read_text().splitlines()) == written["rejected"]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_input_that_fails_before_its_first_record_says_so(ruleset: Any, corpus_file: Path, jobs: int) -> None:
    with pytest.raises(InputFailed) as caught:
        check_records(ruleset, _vanishing(read_records(str(corpus_file)), after=0), jobs=jobs, batch_size=CHUNK, as_of=AS_OF)
    summary = caught.value.summary
    assert summary is not None and summary.read == 0
    assert summary.error == "an input could not be read: [Errno 2] No such file or directory: 'gone/b.jsonl'"


def test_input_failed_survives_pickling_for_a_process_pool() -> None:
    import pickle

    error = InputFailed(FileNotFoundError(2, "No such file or directory", "gone.jsonl"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.codes, copy.render()) == (error.codes, error.render())
    assert isinstance(copy.__cause__, FileNotFoundError) and copy.summary is None


def test_a_run_that_ignores_ctrl_c_keeps_ignoring_it(ruleset: Any, corpus_file: Path) -> None:
    class InterruptingSink(_Collect):
        def add_outcome(self, outcome: Any) -> None:
            super().add_outcome(outcome)
            if len(self.items) == 5:
                os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job in a script
    try:
        summary = check_files(ruleset, [str(corpus_file)], jobs=1, chunk_size=CHUNK, sinks=[InterruptingSink()], as_of=AS_OF)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not summary.interrupted and summary.read > 5 * CHUNK


# -------------------------------------------------------------------------------------- worker failures


def _holds(piece: Any, interaction_id: str) -> bool:
    if isinstance(piece, JsonLines):  # JSON Lines are sent unparsed
        return f'{{"id": "{interaction_id}", '.encode() in piece.data
    return piece is not None and piece[1].get("id") == interaction_id


def _crash_on(interaction_id: str, how: str) -> Any:
    original = parallel.evaluate_pieces

    def evaluate_pieces(ruleset: Any, pieces: Any, **kwargs: Any) -> Any:
        if any(_holds(piece, interaction_id) for piece in pieces):
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "raise":
                raise RuntimeError("boom")
            raise EvaluationError([Diagnostic("SR400", "engine error 307")])
        return original(ruleset, pieces, **kwargs)

    return evaluate_pieces


def test_a_killed_worker_is_reported_not_hanging(ruleset: Any, corpus_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "evaluate_pieces", _crash_on("B-1500", "kill"))
    out = tmp_path / "v.json"
    with pytest.raises(WorkerCrashed) as caught:
        check_files(ruleset, [str(corpus_file)], jobs=2, chunk_size=CHUNK, start_method="fork",
                    sinks=[ViolationWriter.open(str(out))], as_of=AS_OF)
    assert "was killed by SIGKILL" in str(caught.value)
    assert caught.value.codes == ["SR401"]
    summary = caught.value.summary
    assert summary.error and "SIGKILL" in summary.error
    assert summary.read == summary.evaluated + summary.rejected < 1600
    assert len(json.loads(out.read_text())) == summary.violations  # valid up to the last merged chunk
    assert multiprocessing.active_children() == []


def test_a_failing_worker_reports_the_traceback(ruleset: Any, corpus_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "evaluate_pieces", _crash_on("B-300", "raise"))
    with pytest.raises(WorkerCrashed, match="(?s)a worker failed.*RuntimeError: boom"):
        check_files(ruleset, [str(corpus_file)], jobs=2, chunk_size=CHUNK, start_method="fork", as_of=AS_OF)


def test_an_evaluation_error_in_a_worker_is_raised_as_in_a_serial_run(ruleset: Any, corpus_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "evaluate_pieces", _crash_on("B-300", "evaluation"))
    sink = _Collect()
    with pytest.raises(EvaluationError) as caught:
        check_files(ruleset, [str(corpus_file)], jobs=2, chunk_size=CHUNK, start_method="fork", sinks=[sink], as_of=AS_OF)
    assert caught.value.codes == ["SR400"] and not isinstance(caught.value, WorkerCrashed)
    assert sink.closed is not None and "engine error 307" in sink.closed.error


def test_a_record_whose_evaluation_raises_is_rejected_and_the_run_goes_on(
    ruleset: Any, corpus_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicerules.measures import privacy

    real = privacy._Texts

    def texts(ctx: Any) -> Any:  # a measure with a bug that one record's data reaches
        if ctx.interaction.id == "B-300":
            raise ZeroDivisionError("a bug")
        return real(ctx)

    monkeypatch.setattr(privacy, "_Texts", texts)  # forked workers inherit it
    (line,) = [n for n, text in enumerate(corpus_file.read_text(encoding="utf-8").splitlines(), 1) if '"id": "B-300"' in text]
    runs = [_run(ruleset, tmp_path / str(jobs), [str(corpus_file)], jobs, start_method="fork") for jobs in (1, 2)]
    for summary, outputs in runs:
        assert (summary.read, summary.evaluated, summary.rejected) == (N_GOOD + 40, N_GOOD - 1, 41)
        assert summary.rejections_by_code["SR402"] == 1 and summary.error is None
        (rejected,) = [r for r in map(json.loads, outputs["rejects.jsonl"].splitlines()) if r["code"] == "SR402"]
        assert rejected["source"] == f"{corpus_file}:{line}"
        assert rejected["reason"].startswith("this interaction could not be evaluated: ZeroDivisionError: a bug (at ")
        assert '"B-300"' in rejected["raw"] and '"B-300"' not in outputs["v.jsonl"]
    assert _comparable(runs[1][1]) == _comparable(runs[0][1])


# -------------------------------------------------------------------------------------------- progress


class _Recorder:
    def __init__(self) -> None:
        self.records = 0
        self.size = 0
        self.entered = self.exited = False

    def __enter__(self) -> "_Recorder":
        self.entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited = True

    def advance(self, records: int, size: int) -> None:
        self.records += records
        self.size += size


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_records_and_bytes(ruleset: Any, corpus_file: Path, tmp_path: Path, jobs: int) -> None:
    # gzip inputs of each format beside the plain one: their progress is in compressed bytes, the units in
    # which total_size() gives the bar its total, so the run ends at its total
    records = list(corpus(300, seed=3, events=3))
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(json.dumps(records, indent=1).encode()))
    rows = "".join(f"X-{k},email,2026-03-02T09:00:00Z\n" for k in range(2000))
    (tmp_path / "c.csv.gz").write_bytes(gzip.compress(("id,channel,created_at\n" + rows).encode()))
    inputs = [corpus_file, tmp_path / "a.jsonl.gz", tmp_path / "b.json.gz", tmp_path / "c.csv.gz"]
    progress = _Recorder()
    summary = check_files(ruleset, [str(p) for p in inputs], jobs=jobs, chunk_size=500, progress=progress, as_of=AS_OF)
    assert progress.entered and progress.exited
    assert progress.records == summary.read == N_GOOD + 40 + 300 + 300 + 2000
    assert progress.size == sum(p.stat().st_size for p in inputs)


def test_progress_is_quiet_when_stderr_is_not_a_terminal(ruleset: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "a.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in corpus(20, events=2)))
    check_files(ruleset, [str(data)], progress=True, as_of=AS_OF)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------------------------- misc


def test_chunks_that_marshal_cannot_hold_are_pickled() -> None:
    plain = [("a:1", {"id": "x", "n": [1, 2.5, None, True]})]
    rich = [("a:1", {"at": dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)})]
    assert parallel._pack(plain)[:1] == b"m" and parallel._unpack(parallel._pack(plain)) == plain
    assert parallel._pack(rich)[:1] == b"p" and parallel._unpack(parallel._pack(rich)) == rich


def _printed_by_child(code: str) -> list[str]:
    """The words a new Python process running ``code`` prints: process-wide settings are changed there."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.split()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_default_jobs_are_the_cpus_this_process_may_use() -> None:
    # the affinity mask is process-wide: set it in a child process. Limited to one CPU (as by taskset or a
    # container's cpuset), a run starts one worker, not one per CPU of the machine.
    code = (
        "import os; from servicerules.batch.parallel import default_jobs\n"
        "allowed = os.sched_getaffinity(0); print(default_jobs() == len(allowed))\n"
        "os.sched_setaffinity(0, {min(allowed)}); print(default_jobs())\n"
    )
    assert _printed_by_child(code) == ["True", "1"]


def test_allocator_tuning() -> None:
    # the allocator setting is process-wide: change it in a child process, never in the test process
    code = "from servicerules.batch.parallel import tune_allocator; print(tune_allocator())"
    expected = "True" if sys.platform == "linux" and platform.libc_ver()[0] == "glibc" else "False"
    assert _printed_by_child(code) == [expected]


def test_gc_tuning_raises_the_thresholds_and_freezes_what_is_alive() -> None:
    # process-wide too: in a child process
    code = (
        "import gc; from servicerules.batch.parallel import tune_gc, GC_THRESHOLDS\n"
        "before = gc.get_freeze_count(); tune_gc(freeze=True)\n"
        "print(gc.get_threshold() == GC_THRESHOLDS, before == 0 and gc.get_freeze_count() > 1000)"
    )
    assert _printed_by_child(code) == ["True", "True"]


def test_records_given_as_json_text_evaluate_like_dicts(ruleset: Any) -> None:
    """Workers may receive a record's JSON text and parse it themselves (cheaper than a parsed dict)."""
    records = [json.dumps(r) for r in corpus(40, seed=9, events=3)] + ['{"id": "x"}']
    as_dicts = parallel.evaluate_chunk(ruleset, [(f"f:{k}", json.loads(r)) for k, r in enumerate(records)], as_of=AS_OF)
    as_bytes = parallel.evaluate_chunk(ruleset, [(f"f:{k}", r.encode()) for k, r in enumerate(records)], as_of=AS_OF)
    assert as_bytes == as_dicts
    assert as_bytes[-1] == parallel.RejectedItem(
        "SR111", "missing required field 'channel'; missing required field 'created_at'", '{"id": "x"}', False
    )


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods(ruleset: Any, corpus_file: Path, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    records = list(read_records(str(corpus_file)))[:300]
    serial, parallel_sink = _Collect(), _Collect()
    check_records(ruleset, records, jobs=1, sinks=[serial], as_of=AS_OF)
    summary = check_records(ruleset, records, jobs=2, batch_size=100, start_method=method, sinks=[parallel_sink], as_of=AS_OF)
    assert summary.jobs == 2 and parallel_sink.items == serial.items


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unpaired_surrogate_rejects_its_record_and_the_run_goes_on(ruleset: Any, tmp_path: Path, jobs: int) -> None:
    # JSON's grammar allows the escape \ud800 and the standard library decodes it, but no output can encode
    # it: the record is rejected where it is read, instead of failing the run when its violations are written.
    records = [dict(r, id=f"S-{k}") for k, r in enumerate(corpus(600, seed=4, events=3))]
    records[7]["events"][0]["text"] = "broken \ud800 text"
    records[8]["events"][0]["text"] = "paired \U0001F600 is fine"
    lines = [json.dumps(r) for r in records]
    data = tmp_path / "surrogate.jsonl"
    data.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    out, rejects = tmp_path / "v.jsonl", tmp_path / "rejects.jsonl"
    summary = check_files(ruleset, [str(data)], as_of=AS_OF, jobs=jobs, chunk_size=100,
                          sinks=[ViolationWriter.open(str(out)), RejectsWriter.open(str(rejects))])
    assert (summary.read, summary.evaluated, summary.rejected) == (600, 599, 1)
    (rejected,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    column = lines[7].index("\\ud800") + 1
    assert (rejected["source"], rejected["code"]) == (f"{data}:8", "SR301")
    assert rejected["reason"] == f"malformed JSON: unpaired surrogate escape at column {column}"
    assert '"S-7"' not in out.read_text(encoding="utf-8")  # S-8, with a paired surrogate, was evaluated


def test_a_deeply_nested_record_is_read_alike_in_this_process_and_in_the_workers(ruleset: Any, tmp_path: Path) -> None:
    # json.loads gives up where the nesting and the frames already on the stack reach the recursion limit;
    # the frames differ between this process (--jobs 1) and a worker, and records near the limit (and with
    # an escaped emoji far below it) were read in one and rejected, or crashed the run, in the other.
    records = [dict(r, id=f"N-{k}") for k, r in enumerate(corpus(700, seed=6, events=2))]
    lines = [json.dumps(r) for r in records]
    depths = {10: 400, 11: 520, 12: 930, 13: 955, 14: 970, 15: 980, 16: 990}
    for index, depth in depths.items():
        lines[index] = lines[index][:-1] + ', "attributes": {"x": ' + "[" * depth + '"\\ud83d\\ude00"' + "]" * depth + "}}"
    data = tmp_path / "deep.jsonl"
    data.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    runs = [_run(ruleset, tmp_path / str(jobs), [str(data)], jobs, chunk_size=100) for jobs in (1, 2)]
    for summary, outputs in runs:
        rejected = {r["line"]: r for r in map(json.loads, outputs["rejects.jsonl"].splitlines())}
        assert sorted(rejected) == [index + 1 for index, depth in depths.items() if depth + 2 > MAX_NESTING]  # + record, attributes
        assert {r["code"] for r in rejected.values()} == {"SR301"}
        assert (summary.read, summary.evaluated, summary.rejected) == (700, 700 - len(rejected), len(rejected))
    assert _comparable(runs[1][1]) == _comparable(runs[0][1])


def test_a_record_with_a_deep_attribute_whose_evaluation_raises_is_rejected(ruleset: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # its text for the rejects file came from pydantic, which refuses values nested deeper than it
    # serialises: that exception stopped the whole run
    from servicerules.measures import privacy

    real = privacy._Texts

    def texts(ctx: Any) -> Any:
        if ctx.interaction.id == "deep":
            raise ZeroDivisionError("a bug")
        return real(ctx)

    monkeypatch.setattr(privacy, "_Texts", texts)
    good, deep, other = corpus(3, seed=9, events=2)
    deep.update(id="deep", attributes={"x": json.loads("[" * 300 + "]" * 300)})
    records = [RawRecord(SourcePosition("mem.jsonl", i + 1, i + 1), data, None, None, 10) for i, data in enumerate([good, deep, other])]
    rejects = tmp_path / "rejects.jsonl"
    summary = check_records(ruleset, records, jobs=1, sinks=[RejectsWriter.open(str(rejects))], as_of=AS_OF)
    assert (summary.read, summary.evaluated, summary.rejected) == (3, 2, 1)
    (rejected,) = map(json.loads, rejects.read_text(encoding="utf-8").splitlines())
    assert (rejected["line"], rejected["code"]) == (2, "SR402")
    assert rejected["raw"].startswith('{"id": "deep"') or rejected["raw"].startswith('{"id":"deep"')


def test_check_records_says_that_it_reads_raw_records(ruleset: Any, tmp_path: Path) -> None:
    # A list of dicts stopped with "AttributeError: 'dict' object has no attribute 'error'"
    records = list(corpus(3, seed=4, events=1))
    rejects = tmp_path / "rejects.jsonl"
    with pytest.raises(InputFailed, match=r"TypeError: check_records reads RawRecords, not dict: .*RawRecord\(SourcePosition"):
        check_records(ruleset, records, as_of=AS_OF, sinks=[RejectsWriter.open(str(rejects))])
    assert rejects.read_text(encoding="utf-8") == ""  # closed
    with pytest.raises(TypeError, match="records must be an iterable of RawRecords, not one dict"):
        check_records(ruleset, records[0], as_of=AS_OF, sinks=[RejectsWriter.open(str(rejects))])
    with pytest.raises(TypeError, match="as_of must be a timezone-aware datetime, not str"):
        check_records(ruleset, [], as_of="2026-03-03")


class _Lifecycle(BatchSink):
    """Records whether the run began and closed it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def begin(self, summary: Any) -> None:
        self.calls.append("begin")

    def close(self, summary: Any = None) -> None:
        self.calls.append("close" if summary is None else "close with summary")


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        # AttributeError: 'str' object has no attribute 'closed', with the sinks left open
        ({"ruleset": "rulesets/starter.yaml"}, TypeError,
         r"ruleset must be a CompiledRuleset, not str: load it first, with servicerules.load\(path\)"),
        ({"ruleset": None}, TypeError, "ruleset must be a CompiledRuleset, not NoneType"),
        # TypeError: '>' not supported between instances of 'str' and 'int', with the sinks left open
        ({"jobs": "2"}, TypeError, "jobs must be a positive int or None, not str"),
        ({"jobs": 2.0}, TypeError, "jobs must be a positive int or None, not float"),
        ({"batch_size": "64"}, TypeError, "the chunk size must be a positive int or None, not str"),
        # an SR403 "an input could not be read: AttributeError: 'bool' object has no attribute 'is_set'"
        ({"cancel": True}, TypeError, "cancel must be a threading.Event, not bool"),
        # begun, then closed with a summary whose error was "TypeError: 'NoneType' object is not iterable"
        ({"records": None}, TypeError, "records must be an iterable of RawRecords, not NoneType"),
        # every record rejected (SR402, a TypeError comparing naive and aware times inside evaluation)
        ({"as_of": dt.datetime(2026, 3, 3, tzinfo=_NoOffset())}, ValueError, "as_of must be timezone-aware"),
    ],
)
def test_a_wrong_argument_is_refused_before_the_run_and_the_sinks_are_closed(
    ruleset: Any, arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    sink = _Lifecycle()
    call = {"ruleset": ruleset, "records": [], "sinks": [sink]} | arguments
    with pytest.raises(error, match=f"^{message}$"):
        check_records(**call)
    assert sink.calls == ["close"]


def test_check_files_refuses_what_is_no_list_of_inputs(ruleset: Any) -> None:
    with pytest.raises(TypeError, match="^inputs must be a list of files, globs or directories, not NoneType$"):
        check_files(ruleset, None)  # type: ignore[arg-type]


def test_a_dict_with_an_unpaired_surrogate_is_rejected_and_the_run_goes_on(ruleset: Any, tmp_path: Path) -> None:
    # A host's records (json.loads of "\udc00") reach check_records as dicts: writing the violations of one
    # raised PydanticSerializationError out of the run.
    records = [dict(r, id=f"S-{k}") for k, r in enumerate(corpus(20, seed=4, events=3))]
    records[3]["events"][0]["text"] = "card 4111 1111 1111 1111 \udc00"
    out, rejects = tmp_path / "v.jsonl", tmp_path / "rejects.jsonl"
    summary = check_records(ruleset, (RawRecord(SourcePosition("db", n, n), r) for n, r in enumerate(records, start=1)),
                            as_of=AS_OF, sinks=[ViolationWriter.open(str(out)), RejectsWriter.open(str(rejects))])
    assert (summary.read, summary.evaluated, summary.rejected) == (20, 19, 1)
    (rejected,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert (rejected["source"], rejected["code"]) == ("db:4", "SR112")
    assert rejected["reason"].startswith("events[0].text: text with an unpaired surrogate")


def test_a_record_whose_validation_raises_is_rejected_alone_and_counted(ruleset: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from servicerules.model import _diagnostics

    def broken(exc: Any, data: Any) -> Any:
        raise IndexError("a bug")

    monkeypatch.setattr(_diagnostics, "interaction_error", broken)
    good = {"id": "ok", "channel": "email", "created_at": "2026-03-02T09:00:00Z"}
    records = [RawRecord(SourcePosition("mem.jsonl", i + 1, i + 1), data, None, None, 10) for i, data in enumerate([good, {"id": "x"}, good])]
    rejects = tmp_path / "rejects.jsonl"
    summary = check_records(ruleset, records, jobs=1, sinks=[RejectsWriter.open(str(rejects))], as_of=AS_OF)
    assert (summary.read, summary.evaluated, summary.rejected) == (3, 2, 1)
    (rejected,) = map(json.loads, rejects.read_text(encoding="utf-8").splitlines())
    assert (rejected["line"], rejected["code"]) == (2, "SR402")
    assert rejected["reason"].startswith("this interaction could not be validated: IndexError: a bug")


_LIBRARY_PROGRAM = """
import threading, sys
import servicerules
from servicerules.batch.parallel import WorkerCrashed
from servicerules.batch.runner import check_files

def main():
    policy = servicerules.load(sys.argv[1], backend="reference")
    results = []
    def job():
        try:
            results.append(check_files(policy, [sys.argv[2]], jobs=2, chunk_size=50).jobs)
        except WorkerCrashed as error:
            results.append(error.render())
    thread = threading.Thread(target=job)  # a second thread: the workers cannot be forked
    thread.start()
    thread.join()
    print(results[0])
"""


@pytest.mark.parametrize("guarded", [True, False])
def test_a_program_that_runs_a_batch_from_a_thread_needs_a_main_guard_and_is_told_so(corpus_file: Path, tmp_path: Path, guarded: bool) -> None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("forkserver is not available here")
    program = tmp_path / "nightly.py"
    records = tmp_path / "records.jsonl"
    records.write_text("".join(corpus_file.read_text(encoding="utf-8").splitlines(keepends=True)[:200]), encoding="utf-8")
    program.write_text(_LIBRARY_PROGRAM + ('if __name__ == "__main__":\n    main()\n' if guarded else "main()\n"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(program), str(ROOT / "rulesets" / "starter.yaml"), str(records)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if guarded:
        assert done.stdout == "2\n"
    else:  # the workers run the program again as they start, which multiprocessing refuses
        assert "SR401 worker process" in done.stdout and "exited with code 1" in done.stdout
        assert 'hint: the worker failed while starting (its error is on stderr); started by forkserver' in done.stdout
        assert 'if __name__ == "__main__":' in done.stdout


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_run_releases_its_input_file_and_worker_pipes_at_once(ruleset: Any, corpus_file: Path, jobs: int) -> None:
    # A service that checks upload after upload must not hold a file or pipe per failed run until the cyclic
    # garbage collector runs (the exception's traceback keeps the run's frame alive).
    class Database(BatchSink):
        def add_outcome(self, outcome: InteractionOutcome) -> None:
            raise ConnectionError("the database went away")

    def open_files() -> set[str]:
        found = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                found.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return found

    gc.collect()
    gc.disable()
    try:
        before = open_files()
        with pytest.raises(ConnectionError):
            check_files(ruleset, [str(corpus_file)], jobs=jobs, chunk_size=CHUNK, start_method="fork", sinks=[Database()], as_of=AS_OF)
        assert open_files() - before == set()
    finally:
        gc.enable()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_closed_ruleset_is_refused_before_anything_is_read_whatever_the_jobs(corpus_file: Path, tmp_path: Path, jobs: int) -> None:
    policy = servicerules.load(ROOT / "rulesets" / "starter.yaml")
    policy.close()
    assert policy.closed
    out = tmp_path / "v.json"
    with pytest.raises(EvaluationError) as info:  # worker processes would have compiled it again and run
        check_files(policy, [str(corpus_file)], jobs=jobs, chunk_size=CHUNK, sinks=[ViolationWriter.open(str(out))], as_of=AS_OF)
    assert info.value.codes == ["SR400"] and "was closed" in str(info.value)
    assert json.loads(out.read_text(encoding="utf-8")) == []  # the sinks were closed: a valid, empty array
