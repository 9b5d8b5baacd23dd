"""Tests for servicerules.batch.readers: streaming JSONL / JSON array / CSV readers (gzip, stdin, globs).

Every input is a small file written by the test itself to tmp_path.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import itertools
import json
import os
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicerules.batch import readers
from servicerules.batch.readers import (
    JsonLines,
    RawRecord,
    SourcePosition,
    detect_format,
    expand_inputs,
    jsonl_record,
    read_blocks,
    read_records,
    total_size,
)

# ----------------------------------------------------------------------------------------------- helpers


def write(path: Path, content: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def read(path: str, **kwargs: Any) -> list[RawRecord]:
    return list(read_records(path, **kwargs))


def summary(records: list[RawRecord]) -> list[tuple[int, int | None, str | None]]:
    """(line, row, code) of each record: code None for good records."""
    return [(r.position.line, r.position.row, r.code) for r in records]


def set_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> io.BytesIO:
    buffer = io.BytesIO(data)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=buffer))
    return buffer


@pytest.fixture(params=[1, 3, 7, 1 << 16], ids=lambda n: f"chunk{n}")
def chunk_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run a test with tiny read chunks too, so every chunk boundary case is exercised."""
    monkeypatch.setattr(readers, "_CHUNK_SIZE", request.param)
    return int(request.param)


# ---------------------------------------------------------------------------------------- data classes


def test_source_position_str_and_record_fields() -> None:
    position = SourcePosition("logs/a.jsonl", 12, 3)
    assert str(position) == "logs/a.jsonl:12"
    record = RawRecord(position, {"id": 1}, None, None, 10)
    assert record.ok and record.data == {"id": 1}
    with pytest.raises(AttributeError):
        record.size = 3  # type: ignore[misc]


def test_every_error_code_is_registered(tmp_path: Path) -> None:
    from servicerules.errors import CODES

    for code in ("SR301", "SR302", "SR303", "SR304", "SR305", "SR306"):
        assert code in CODES


# ------------------------------------------------------------------------------------------------ JSONL


def test_jsonl_good_records_positions_and_sizes(tmp_path: Path, chunk_size: int) -> None:
    content = '{"id": 1, "text": "héllo"}\n{"id": 2}\r\n{"id": 3, "nested": {"a": [1, 2]}}\n'
    path = write(tmp_path / "a.jsonl", content)
    records = read(path)
    assert [r.data for r in records] == [
        {"id": 1, "text": "héllo"},
        {"id": 2},
        {"id": 3, "nested": {"a": [1, 2]}},
    ]
    assert summary(records) == [(1, 1, None), (2, 2, None), (3, 3, None)]
    assert all(r.error is None and r.code is None for r in records)
    assert records[0].position == SourcePosition(path, 1, 1)
    assert sum(r.size for r in records) == os.path.getsize(path)
    assert records[1].size == len(b'{"id": 2}\r\n')


def test_jsonl_blank_lines_are_skipped_and_not_counted_as_rows(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.ndjson", '\n{"a": 1}\n\n   \t\n\r\n{"a": 2}\n\n')
    records = read(path)
    assert [r.data for r in records] == [{"a": 1}, {"a": 2}]
    assert summary(records) == [(2, 1, None), (6, 2, None)]


def test_jsonl_bad_records_are_reported_and_reading_continues(tmp_path: Path, chunk_size: int) -> None:
    lines = [
        '{"id": 1}',
        '{"id": 2 "text": "x"}',  # missing comma
        "[1, 2]",
        '"just a string"',
        "42",
        "null",
        "true",
        "{'id': 3}",  # single quotes
        '{"id": 4}',
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    records = read(path)
    assert summary(records) == [
        (1, 1, None),
        (2, 2, "SR301"),
        (3, 3, "SR302"),
        (4, 4, "SR302"),
        (5, 5, "SR302"),
        (6, 6, "SR302"),
        (7, 7, "SR302"),
        (8, 8, "SR301"),
        (9, 9, None),
    ]
    errors = [r.error for r in records]
    assert errors[1] == "malformed JSON: Expecting ',' delimiter at column 10"
    assert errors[2] == "record is a JSON array, expected an object"
    assert errors[3] == "record is a JSON string, expected an object"
    assert errors[4] == "record is a JSON number, expected an object"
    assert errors[5] == "record is JSON null, expected an object"
    assert errors[6] == "record is a JSON boolean, expected an object"
    assert errors[7] == "malformed JSON: Expecting property name enclosed in double quotes at column 2"
    for r in records:
        assert (r.data is None) != (r.error is None)
        assert (r.code is None) == (r.error is None)
    assert records[-1].data == {"id": 4}


def test_jsonl_with_lines_ending_in_a_lone_cr_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "mac.jsonl", '{"id": "a"}\r{"id": "b"}\r\n{"id": "c"} {"id": "d"}\n')
    first, second = read(path)
    assert first.error == (
        "malformed JSON: Extra data at column 13 (after a carriage return: lines that end in CR alone are not JSON "
        "Lines; end them with LF or CRLF)"
    )
    assert second.error == "malformed JSON: Extra data at column 13"  # two records on one line: no CR involved


def test_jsonl_utf8_bom_at_start_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", b'\xef\xbb\xbf{"id": 1}\n{"id": 2}\n')
    records = read(path)
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]
    assert summary(records) == [(1, 1, None), (2, 2, None)]
    assert sum(r.size for r in records) == os.path.getsize(path)


def test_jsonl_truncated_last_line_is_sr304(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.jsonl", '{"id": 1}\n{"id": 2, "text": "cut in the mid')
    records = read(path)
    assert summary(records) == [(1, 1, None), (2, 2, "SR304")]
    assert records[1].error is not None
    assert records[1].error.startswith("file ends in the middle of a record")


def test_jsonl_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.jsonl", '{"id": 1}\n{"id": 2}'))
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]


def test_jsonl_unclosed_object_in_the_middle_is_malformed_not_truncated(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.jsonl", '{"id": 1\n{"id": 2}\n{"id": 3, "x": [1\n'))
    assert summary(records) == [(1, 1, "SR301"), (2, 2, None), (3, 3, "SR301")]


def test_jsonl_invalid_utf8_affects_only_its_line(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.jsonl", b'{"id": 1}\n{"t": "\xff"}\n{"t": "ok \xc3\xa9"}\n{"\xc3\xa9": "\xe2\x82"}\n{"id": 5}\n')
    records = read(path)
    assert summary(records) == [(1, 1, None), (2, 2, "SR303"), (3, 3, None), (4, 4, "SR303"), (5, 5, None)]
    assert records[1].error == "invalid UTF-8 byte 0xff at column 8"
    assert records[2].data == {"t": "ok é"}
    # a column counts characters, not bytes: 'é' is two bytes
    assert records[3].error == "invalid UTF-8 byte 0xe2 at column 8"


def test_jsonl_other_single_byte_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", '{"name": "Zoë"}\n'.encode("latin-1"))
    assert read(path, encoding="latin-1")[0].data == {"name": "Zoë"}
    assert read(path)[0].error == "invalid UTF-8 byte 0xeb at column 13"


def test_utf16_input_is_reported_clearly(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", '{"id": 1}\n'.encode("utf-16"))
    records = read(path)
    assert summary(records) == [(1, None, "SR303")]
    assert "UTF-16 byte-order mark" in (records[0].error or "")


@pytest.mark.parametrize(
    "encoding, name", [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-32-le", "UTF-32LE"), ("utf-32-be", "UTF-32BE")]
)
@pytest.mark.parametrize("text", ['{"id": 1}\n{"id": 2}\n', "id,text\r\n1,a\r\n", '[{"id": 1}]'])
def test_utf16_input_without_a_byte_order_mark_is_reported_clearly(tmp_path: Path, text: str, encoding: str, name: str) -> None:
    # 'bcp -w' writes UTF-16 without a mark: read as UTF-8, every CSV row was a record whose column names
    # and values had a NUL after each letter, and every JSONL line a puzzling "Expecting property name"
    records = read(write(tmp_path / "a.dat", text.encode(encoding)))
    assert summary(records) == [(1, None, "SR303")]
    assert records[0].error == (
        f"the input looks like {name} text without a byte-order mark (zero bytes between its characters) but is "
        f"read as UTF-8; convert it first, e.g. iconv -f {name} -t UTF-8"
    )
    later = read(write(tmp_path / "b.csv", b"id,x\n\x00b,c\n"))  # a zero byte after the start is the row's
    assert [(r.position.line, r.code == "SR303") for r in later] == [(2, False)]


def test_bad_arguments_raise_value_error_at_call_time(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", "{}\n")
    with pytest.raises(ValueError, match="unknown input format"):
        read_records(path, format="xml")
    with pytest.raises(ValueError, match="not supported"):
        read_records(path, encoding="utf-16")
    with pytest.raises(ValueError, match="unknown text encoding"):
        read_records(path, encoding="no-such-encoding")
    with pytest.raises(ValueError, match="unknown csv_dialect"):
        read_records(path, csv_dialect={"delimeter": ";"})
    with pytest.raises(ValueError, match="invalid csv_dialect"):
        read_records(path, csv_dialect={"delimiter": ";;"})


def test_missing_file_raises_on_first_next(tmp_path: Path) -> None:
    records = read_records(str(tmp_path / "missing.jsonl"))
    with pytest.raises(FileNotFoundError):
        next(records)


def test_format_can_be_forced(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", '{\n  "id": 1\n}\n')
    assert summary(read(path, format="jsonl")) == [(1, 1, "SR301"), (2, 2, "SR301"), (3, 3, "SR301")]
    assert [r.data for r in read(path, format="json")] == [{"id": 1}]
    assert summary(read(write(tmp_path / "data.csv", "id\n1\n"), format="json")) == [(1, None, "SR301")]


# ------------------------------------------------------------------------------------------ JSON arrays

PRETTY = """\
[
  {
    "id": 1,
    "text": "brackets ] [ and braces } { inside",
    "quote": "she said \\"}]\\" and left",
    "backslash": "C:\\\\dir\\\\",
    "nested": {"list": [1, [2, {"deep": "]}"}]], "empty": {}}
  },
  {"id": 2, "text": "one line, with, commas"},

  {
    "id": 3,
    "unicode": "caf\\u00e9 ☕ 𝄞",
    "escaped_slash": "\\\\\\""
  }
]
"""


def test_json_array_pretty_printed_streams_elements_with_exact_lines(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.json", PRETTY)
    records = read(path)
    assert summary(records) == [(2, 1, None), (9, 2, None), (11, 3, None)]
    assert records[0].data == {
        "id": 1,
        "text": "brackets ] [ and braces } { inside",
        "quote": 'she said "}]" and left',
        "backslash": "C:\\dir\\",
        "nested": {"list": [1, [2, {"deep": "]}"}]], "empty": {}},
    }
    assert records[1].data == {"id": 2, "text": "one line, with, commas"}
    assert records[2].data == {"id": 3, "unicode": "café ☕ 𝄞", "escaped_slash": '\\"'}
    assert records == read(path)  # deterministic
    assert sum(r.size for r in records) == os.path.getsize(path) - len("\n]\n")


def test_json_array_minified_on_one_line(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.json", '[{"a":"x,]"},{"b":[{}]},{"c":"\\\\"}]')
    records = read(path)
    assert [r.data for r in records] == [{"a": "x,]"}, {"b": [{}]}, {"c": "\\"}]
    assert summary(records) == [(1, 1, None), (1, 2, None), (1, 3, None)]


def test_json_array_empty_and_empty_file(tmp_path: Path) -> None:
    assert read(write(tmp_path / "a.json", "  [ \n ]  \n")) == []
    assert read(write(tmp_path / "b.json", "")) == []


def test_json_array_bad_elements_are_reported_and_reading_continues(tmp_path: Path, chunk_size: int) -> None:
    content = (
        "[\n"  # 1
        '  {"id": 1},\n'  # 2
        '  {"id": 2,, "x": 1},\n'  # 3 malformed
        "  [1, 2],\n"  # 4 not an object
        '  "text",\n'  # 5 not an object
        "  17,\n"  # 6 not an object
        '  {"id": 3,\n'  # 7 malformed over two lines
        '   "x" 5},\n'  # 8
        '  {"id": 4}\n'  # 9
        "]\n"
    )
    records = read(write(tmp_path / "a.json", content))
    assert summary(records) == [
        (2, 1, None),
        (3, 2, "SR301"),
        (4, 3, "SR302"),
        (5, 4, "SR302"),
        (6, 5, "SR302"),
        (7, 6, "SR301"),
        (9, 7, None),
    ]
    assert records[1].error == "malformed JSON: Expecting property name enclosed in double quotes at line 3 column 12"
    assert records[2].error == "record is a JSON array, expected an object"
    assert records[5].error == "malformed JSON: Expecting ':' delimiter at line 8 column 8"
    assert records[6].data == {"id": 4}


def test_json_array_structural_slips_are_reported(tmp_path: Path) -> None:
    content = '[\n  {"a": 1},\n  ,\n  {"a": 2}\n  {"a": 3},\n]\n'
    records = read(write(tmp_path / "a.json", content))
    assert summary(records) == [
        (2, 1, None),
        (3, None, "SR301"),  # empty element
        (4, 2, None),
        (5, None, "SR301"),  # missing ','
        (5, 3, None),
        (6, None, "SR301"),  # trailing ','
    ]
    assert records[1].error == "malformed JSON: empty array element (',' without a value)"
    assert records[3].error == "malformed JSON: expected ',' or ']' between array elements, found '{'"
    assert records[5].error == "malformed JSON: trailing ',' before the closing ']'"


def test_json_top_level_must_be_an_array_or_an_object(tmp_path: Path) -> None:
    records = read(write(tmp_path / "b.json", '\n"hello"'))
    assert summary(records) == [(2, None, "SR301")]
    assert records[0].error == (
        "top-level JSON value is not an array or an object (it starts with '\"'), expected an array of records, "
        "one record, or one record per line"
    )


# -------------------------------------------------------------------- JSON files that hold no array


def test_json_file_of_one_object_per_line_is_read_as_json_lines(tmp_path: Path, chunk_size: int) -> None:
    # mongoexport's default, and many APIs' "export as JSON": it was one SR301 for the whole file
    content = '{"id": 1}\n{"id": 2, "t": "a\\nb"}\n\n  {"id": 3,}\n[1]\n{"id": 4}\r\n{"id": 5'
    records = read(write(tmp_path / "a.json", content))
    assert summary(records) == [(1, 1, None), (2, 2, None), (4, 3, "SR301"), (5, 4, "SR302"), (6, 5, None), (7, 6, "SR304")]
    assert [r.data for r in records if r.ok] == [{"id": 1}, {"id": 2, "t": "a\nb"}, {"id": 4}]
    assert [r.error for r in records if not r.ok] == [
        "malformed JSON: Expecting property name enclosed in double quotes at column 12",
        "record is a JSON array, expected an object",
        "file ends in the middle of a record (the last line is not a complete JSON object)",
    ]
    as_jsonl = read(write(tmp_path / "a.jsonl", content))
    assert [dataclasses.replace(r, position=dataclasses.replace(r.position, file="x")) for r in records] == [
        dataclasses.replace(r, position=dataclasses.replace(r.position, file="x")) for r in as_jsonl
    ]
    assert sum(r.size for r in records) == len(content)


def test_json_file_of_one_object_per_line_gzip_and_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    content = b'\n{"id": 1}\n{"id": 2\n{"id": 3}\n'
    expected = [(2, 1, None), (3, 2, "SR301"), (4, 3, None)]
    assert summary(read(write(tmp_path / "a.json.gz", gzip.compress(content)))) == expected
    for data in (content, gzip.compress(content)):
        set_stdin(monkeypatch, data)  # detected by its content
        records = read("-")
        assert summary(records) == expected
        assert records[1].position == SourcePosition("<stdin>", 3, 2)


def test_json_file_of_one_object_per_line_whose_first_line_is_malformed(tmp_path: Path) -> None:
    # the first line closes what it opens: a line of its own, however malformed, so the other lines are read
    records = read(write(tmp_path / "a.json", '{"id": 1, "t": \'x\'}\n{"id": 2}\n'))
    assert summary(records) == [(1, 1, "SR301"), (2, 2, None)]


def test_json_lines_whose_first_line_is_cut_off_are_still_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    # the first line opens more than it closes, but the next line starts a record of its own: not one
    # pretty-printed object (whose second line starts with a key), so one bad line does not hide the rest
    content = b'{"id": 1, "t": "cut\n\n{"id": 2}\n{"id": 3}\n'
    expected = [(1, 1, "SR301"), (3, 2, None), (4, 3, None)]
    assert summary(read(write(tmp_path / "a.json", content))) == expected
    set_stdin(monkeypatch, content)  # detected by its content
    assert summary(read("-")) == expected
    # a pretty-printed object whose first line is a brace alone is still one record
    assert summary(read(write(tmp_path / "b.json", b'{\n"id": 1}\n'))) == [(1, 1, None)]


def test_json_file_of_one_pretty_printed_object_is_one_record(tmp_path: Path, chunk_size: int) -> None:
    content = '\ufeff\n{\n  "id": "T-1",\n  "events": [\n    {"at": "2026-03-02T09:00:00Z", "text": "} {\\"x"}\n  ]\n}\n\n'
    records = read(write(tmp_path / "ticket.json", content))
    assert summary(records) == [(2, 1, None)]
    assert records[0].data == {"id": "T-1", "events": [{"at": "2026-03-02T09:00:00Z", "text": '} {"x'}]}
    assert records[0].size == len(content.encode()) - 2  # all but the blank lines after it


def test_json_file_of_one_object_gzip_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int) -> None:
    content = b'{\n  "id": 1,\n  "tags": ["a", "b"]\n}'
    assert [r.data for r in read(write(tmp_path / "a.json.gz", gzip.compress(content)))] == [{"id": 1, "tags": ["a", "b"]}]
    for data in (content, gzip.compress(content)):
        set_stdin(monkeypatch, data)  # detected by its content: it was read as JSON Lines, each line an SR301
        records = read("-")
        assert [(r.position, r.data) for r in records] == [(SourcePosition("<stdin>", 1, 1), {"id": 1, "tags": ["a", "b"]})]


@pytest.mark.parametrize("content", ['{"id": 1}', '{"id": 1}\n', '  {"id": 1}  \r\n\n \n'])
def test_json_file_of_one_object_on_one_line(tmp_path: Path, content: str) -> None:
    assert summary(read(write(tmp_path / "a.json", content))) == [(1, 1, None)]


def test_json_file_of_one_object_with_a_problem(tmp_path: Path, chunk_size: int) -> None:
    records = read(write(tmp_path / "a.json", b'{\n  "id": 1,\n  "t": "\xe9t\xe9"\n}\n'))
    assert [(r.position, r.code, r.error) for r in records] == [
        (SourcePosition(str(tmp_path / "a.json"), 1, 1), "SR303", "invalid UTF-8 byte 0xe9 at line 3 column 9")
    ]
    assert records[0].readings == ({"id": 1, "t": "\ufffdt\ufffd"},)
    records = read(write(tmp_path / "b.json", '{\n  "id": 1\n  "t": 2\n}\n'))
    assert [(r.code, r.error) for r in records] == [("SR301", "malformed JSON: Expecting ',' delimiter at line 3 column 3")]
    records = read(write(tmp_path / "c.json", '{\n  "id": 1,\n  "t": "abc'))
    assert [(r.position.line, r.code, r.error) for r in records] == [(1, "SR304", "file ends in the middle of a record")]


def test_json_file_of_one_object_in_a_truncated_gzip_stream(tmp_path: Path) -> None:
    text = b"".join(hashlib.sha256(bytes([i])).hexdigest().encode() for i in range(80))  # compresses little
    full = gzip.compress(b'{\n  "id": 1,\n  "t": "' + text + b'"\n}\n')
    assert len(zlib.decompressobj(wbits=31).decompress(full[: len(full) // 2])) > 20
    records = read(write(tmp_path / "a.json.gz", full[: len(full) // 2]))
    assert [(r.position.line, r.position.row, r.code, r.error) for r in records] == [
        (1, 1, "SR304", "file ends in the middle of a record: the gzip stream is truncated")
    ]
    records = read(write(tmp_path / "b.json.gz", full[:-4]))  # the object is whole: the trailer is cut
    assert [(r.position.line, r.code) for r in records] == [(1, None), (5, "SR304")]


def test_json_values_one_after_another_are_one_malformed_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    # as jq prints them: the document is one record, and it is not one JSON value
    content = b'{\n  "id": 1\n}\n{\n  "id": 2\n}\n' + b'{\n  "id": 3\n}\n' * 1000
    buffer = set_stdin(monkeypatch, content)
    records = read("-", format="json")
    assert [(r.position, r.code, r.error) for r in records] == [
        (
            SourcePosition("<stdin>", 1, 1),
            "SR301",
            "malformed JSON: unexpected '{' at line 4 column 1 after the end of the JSON object that starts at line 1; "
            "JSON values one after another, as jq prints them, are neither one record nor one record per line: "
            "write one record per line (jq -c) or an array of records (jq -s)",
        )
    ]
    assert buffer.tell() <= 15 + chunk_size  # what follows the object is not read (nor held) past its first byte
    records = read(write(tmp_path / "a.json", '{"id": 1} x\n'))
    assert [(r.position.line, r.code, r.error) for r in records] == [
        (1, "SR301", "malformed JSON: unexpected 'x' at line 1 column 11 after the end of the JSON object that starts at line 1")
    ]
    records = read(write(tmp_path / "b.json", '\n{\n  "id": 1,\n  "t": "\\u00"\n}\n}\n'))
    assert [(r.position.line, r.code) for r in records] == [(2, "SR301")]  # its own problem comes first
    assert records[0].error is not None and records[0].error.startswith("malformed JSON: Invalid \\uXXXX escape")


def test_json_file_whose_lines_end_in_a_carriage_return_alone(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.json", '{"id": 1}\r{"id": 2}\r'))
    assert [(r.position.line, r.code, r.error) for r in records] == [
        (1, "SR301", "malformed JSON: unexpected '{' at line 1 column 11 after the end of the JSON object that starts "
         "at line 1 (after a carriage return: lines that end in CR alone are not JSON Lines; end them with LF or CRLF)")
    ]


def test_json_starting_with_a_brace_reads_alike_with_the_detected_format(tmp_path: Path) -> None:
    for name, content in (("a.txt", '{"id": 1}\n{"id": 2}\n'), ("b.txt", '{\n"id": 1\n}\n'), ("c.txt", '[{"id": 1}]')):
        path = write(tmp_path / name, content)
        assert detect_format(path) == "json"
        assert read(path, format=detect_format(path)) == read(path) == read(path, format="json")


def test_blocks_of_a_json_file_of_one_object_per_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json.gz", gzip.compress(b'{"id": 1}\n{"id": 2}\n{"id": 3}\n'))
    items = list(read_blocks(path, lines=2))
    assert [(type(item).__name__, item.first_line, item.lines) for item in items if isinstance(item, JsonLines)] == [
        ("JsonLines", 1, 2), ("JsonLines", 3, 1)
    ]
    assert len(items) == 2
    assert records_of_blocks(path, 2)[0] == read(path)
    one = write(tmp_path / "b.json", '{\n  "id": 1\n}\n')
    assert [(type(item).__name__, getattr(item, "data", None)) for item in read_blocks(one, lines=2)] == [("RawRecord", {"id": 1})]


def test_json_data_after_the_array_is_reported(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.json", '[{"id": 1}]\n[{"id": 2}]\n'))
    assert summary(records) == [(1, 1, None), (2, None, "SR301")]
    assert records[1].error == "unexpected '[' after the end of the top-level JSON array"


def test_json_array_truncated_inside_an_element(tmp_path: Path, chunk_size: int) -> None:
    records = read(write(tmp_path / "a.json", '[\n  {"id": 1},\n  {"id": 2,\n   "text": "abc'))
    assert summary(records) == [(2, 1, None), (3, 2, "SR304")]
    assert records[1].error == "file ends in the middle of a record"


def test_json_array_missing_closing_bracket(tmp_path: Path, chunk_size: int) -> None:
    records = read(write(tmp_path / "a.json", '[\n  {"id": 1},\n  {"id": 2}\n'))
    assert summary(records) == [(2, 1, None), (3, 2, None), (4, None, "SR304")]
    assert records[2].error == "file ends before the closing ']' of the top-level JSON array"


def test_json_array_invalid_utf8_in_one_element(tmp_path: Path, chunk_size: int) -> None:
    content = b'[\n  {"id": 1},\n  {"id": 2,\n   "t": "\xff"},\n  {"id": 3}\n]\n'
    records = read(write(tmp_path / "a.json", content))
    assert summary(records) == [(2, 1, None), (3, 2, "SR303"), (5, 3, None)]
    assert records[1].error == "invalid UTF-8 byte 0xff at line 4 column 10"


def test_json_array_with_bom(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.json", b'\xef\xbb\xbf[{"id": 1}]'))
    assert [r.data for r in records] == [{"id": 1}]


def _nested(levels: int, inner: str = "1") -> str:
    """A JSON object whose arrays and objects nest ``levels`` deep in all (the object is the first)."""
    return '{"a": ' + "[" * (levels - 1) + inner + "]" * (levels - 1) + "}"


def _under_stack(frames: int, call: Any) -> Any:
    """``call()`` made ``frames`` Python frames further down the stack."""
    return call() if frames <= 0 else _under_stack(frames - 1, call)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_how_deep_a_record_may_nest_does_not_depend_on_the_stack_it_is_read_under(tmp_path: Path, fmt: str) -> None:
    """--jobs 1 reads records under the command's stack, a worker under its own: what json.loads can parse
    there must not decide whether a record is read. Up to a fixed depth it is (also with an escaped emoji,
    whose surrogate pair is looked for in the parsed value), and beyond it it is SR301 under any stack."""
    limit = readers.MAX_NESTING
    emoji = '"\\ud83d\\ude00"'
    records = [_nested(limit), _nested(limit + 1), _nested(limit, emoji), _nested(limit + 1, emoji), _nested(990)]
    text = "\n".join(records) + "\n" if fmt == "jsonl" else "[" + ",\n".join(records) + "]\n"
    path = write(tmp_path / f"deep.{fmt}", text)
    shallow = read(path)
    assert [r.code for r in shallow] == [None, "SR301", None, "SR301", "SR301"]
    assert all(r.error == f"malformed JSON: nested more than {limit} levels deep" for r in shallow if r.code)
    assert json.dumps(shallow[2].data).count("[") == limit - 1 and "\U0001f600" in str(shallow[2].data)
    deep = _under_stack(sys.getrecursionlimit() - limit - 200, lambda: read(path))
    assert deep == shallow


# ------------------------------------------------------------------------------------------------- gzip


def test_gzip_jsonl_by_extension(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.jsonl.gz", gzip.compress(b'{"id": 1}\n\n{"id": 2}\n'))
    records = read(path)
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]
    assert summary(records) == [(1, 1, None), (3, 2, None)]
    # sizes are the compressed bytes read up to each record: the gzip trailer after the last one may not be
    # read yet, but the records' sizes are never nothing (the progress of a gzip input advances)
    assert 0 < sum(r.size for r in records) <= os.path.getsize(path)


def test_gzip_detected_by_magic_bytes_whatever_the_name(tmp_path: Path) -> None:
    path = write(tmp_path / "export.jsonl", gzip.compress(b'{"id": 1}\n'))
    assert [r.data for r in read(path)] == [{"id": 1}]
    sniffed = write(tmp_path / "export.dat", gzip.compress(b'  [{"id": 2}]'))
    assert detect_format(sniffed) == "json"
    assert [r.data for r in read(sniffed)] == [{"id": 2}]


def test_gzip_csv(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.csv.gz", gzip.compress(b'id,text\n1,"a\nb"\n2,c\n'))
    records = read(path)
    assert [r.data for r in records] == [{"id": "1", "text": "a\nb"}, {"id": "2", "text": "c"}]
    assert summary(records) == [(2, 1, None), (4, 2, None)]


def test_gzip_json_array(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.json.gz", gzip.compress(PRETTY.encode()))
    assert summary(read(path)) == [(2, 1, None), (9, 2, None), (11, 3, None)]


def test_gzip_multi_member_and_zero_padding(tmp_path: Path) -> None:
    data = gzip.compress(b'{"id": 1}\n') + gzip.compress(b'{"id": 2}\n') + b"\x00" * 16
    records = read(write(tmp_path / "a.jsonl.gz", data))
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]


def test_truncated_gzip_yields_readable_records_then_sr304(tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "text": "x" * (i * 7 % 40)}) for i in range(40)]
    full = gzip.compress(("\n".join(lines) + "\n").encode())
    path = write(tmp_path / "a.jsonl.gz", full[: len(full) // 2])
    records = read(path)
    assert records[-1].code == "SR304"
    assert records[-1].error is not None and "gzip stream is truncated" in records[-1].error
    good = records[:-1]
    assert good and all(r.ok for r in good)
    assert [r.data for r in good] == [json.loads(line) for line in lines[: len(good)]]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_gzip_cut_at_every_byte_never_raises_and_ends_with_one_sr304(tmp_path: Path, fmt: str) -> None:
    rows = [{"id": str(i), "text": f"line {i}, with comma"} for i in range(6)]
    if fmt == "jsonl":
        plain = "".join(json.dumps(r) + "\n" for r in rows)
    elif fmt == "json":
        plain = json.dumps(rows, indent=2)
    else:
        plain = "id,text\n" + "".join(f'{r["id"]},"{r["text"]}"\n' for r in rows)
    full = gzip.compress(plain.encode())
    assert [r.data for r in read(write(tmp_path / f"full.{fmt}.gz", full))] == rows
    for cut in range(2, len(full)):
        records = read(write(tmp_path / f"cut.{fmt}.gz", full[:cut]))
        assert records and records[-1].code == "SR304", cut
        assert all(r.ok for r in records[:-1]), cut
        assert [r.data for r in records[:-1]] == rows[: len(records) - 1], cut


def test_corrupt_gzip_is_reported_after_the_readable_records(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b'{"id": 1}\n{"id": 2}\n'))
    data[-8] ^= 0xFF  # CRC of the member
    records = read(write(tmp_path / "a.jsonl.gz", bytes(data)))
    assert summary(records) == [(1, 1, None), (2, 2, None), (3, None, "SR304")]
    assert records[-1].error is not None and "gzip data is corrupt" in records[-1].error
    garbage = gzip.compress(b'{"id": 1}\n') + b"garbage"
    records = read(write(tmp_path / "b.jsonl.gz", garbage))
    assert summary(records) == [(1, 1, None), (2, None, "SR304")]
    assert records[-1].error == "unexpected data after the end of the gzip stream"


# ------------------------------------------------------------------------------------------------ stdin


def test_stdin_jsonl_is_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    set_stdin(monkeypatch, b'\n  {"id": 1}\n{"id": 2}\n')
    records = read("-")
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]
    assert records[0].position == SourcePosition("<stdin>", 2, 1)
    assert str(records[1].position) == "<stdin>:3"


def test_stdin_json_array_is_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    set_stdin(monkeypatch, b'\xef\xbb\xbf \n[\n {"id": 1},\n {"id": 2}\n]')
    assert summary(read("-")) == [(3, 1, None), (4, 2, None)]


def test_stdin_gzip_csv_is_sniffed(monkeypatch: pytest.MonkeyPatch, chunk_size: int) -> None:
    set_stdin(monkeypatch, gzip.compress(b"id;text\n1;hello\n2;\"a;b\"\n"))
    records = read("-")
    assert [r.data for r in records] == [{"id": "1", "text": "hello"}, {"id": "2", "text": "a;b"}]


def test_stdin_truncated_gzip(monkeypatch: pytest.MonkeyPatch) -> None:
    full = gzip.compress(b'{"id": 1}\n' * 50)
    set_stdin(monkeypatch, full[:-4])  # the size field of the trailer is missing
    records = read("-", format="jsonl")
    assert len(records) == 51 and all(r.ok for r in records[:50])
    assert records[-1].code == "SR304" and records[-1].position.file == "<stdin>"


def test_detect_format_on_stdin_does_not_consume_it(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = set_stdin(monkeypatch, b'  [{"id": 1}]')
    assert detect_format("-") == "json"
    assert buffer.tell() == 0
    assert [r.data for r in read("-")] == [{"id": 1}]


# ----------------------------------------------------------------------------------- inputs and formats


def test_detect_format_by_extension_and_by_content(tmp_path: Path) -> None:
    assert detect_format("x.jsonl") == "jsonl"
    assert detect_format("x.NDJSON.gz") == "jsonl"
    assert detect_format("x.json") == "json"
    assert detect_format("x.json.gz") == "json"
    assert detect_format("x.csv.gz") == "csv"
    assert detect_format(write(tmp_path / "a.txt", '\n\n  [{"a": 1}]')) == "json"
    assert detect_format(write(tmp_path / "b.txt", '{"a": 1}\n')) == "json"  # one object, or one per line
    assert detect_format(write(tmp_path / "c.txt", "id,name\n1,x\n")) == "csv"
    assert detect_format(write(tmp_path / "d.log.gz", gzip.compress(b'{"a": 1}\n'))) == "json"


def test_expand_inputs_directory_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for name in ["b.jsonl", "a.csv", "sub/z.json", "sub/a.ndjson.gz", "c.csv.gz", "notes.txt", "t.tsv", "bare.gz",
                 "x.json.bak", ".hidden.jsonl", ".cache/d.jsonl", "sub/deeper/e.JSONL"]:
        write(root / name, "{}\n")
    expanded = expand_inputs([str(root)])
    assert [os.path.relpath(p, root) for p in expanded] == [
        "a.csv",
        "b.jsonl",
        "c.csv.gz",
        os.path.join("sub", "a.ndjson.gz"),
        os.path.join("sub", "deeper", "e.JSONL"),
        os.path.join("sub", "z.json"),
        "t.tsv",
    ]
    assert expand_inputs([str(root)]) == expanded


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_file_named_again_through_a_symbolic_link_is_read_once(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    write(data, "{}\n")
    (tmp_path / "link.jsonl").symlink_to(data)
    assert expand_inputs([str(data), str(tmp_path / "link.jsonl")]) == [str(data)]
    assert expand_inputs([str(tmp_path)]) == [str(data)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_directories_and_globs_follow_linked_directories_each_once_without_looping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # glob's '**' follows every link: two links back to a parent made it list 2**40 paths (it never ended),
    # one made it name the files through dozens of 'loop/' steps; os.walk skipped linked folders silently
    for name in ["exports/a.jsonl", "exports/2026/b.jsonl", "archive/c.jsonl"]:
        write(tmp_path / name, "{}\n")
    (tmp_path / "exports" / "2026" / "up").symlink_to(tmp_path / "exports", target_is_directory=True)
    (tmp_path / "exports" / "2026" / "up-again").symlink_to(tmp_path / "exports", target_is_directory=True)
    (tmp_path / "exports" / "old").symlink_to(tmp_path / "archive", target_is_directory=True)
    expected = [os.path.join("exports", *name.split("/")) for name in ["2026/b.jsonl", "a.jsonl", "old/c.jsonl"]]
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["exports"]) == expected
    assert expand_inputs([os.path.join("exports", "**", "*.jsonl")]) == expected
    assert expand_inputs([os.path.join("exports", "**")]) == expected
    monkeypatch.chdir(tmp_path / "exports")
    assert expand_inputs(["**"]) == [os.path.relpath(os.path.join(tmp_path, p), tmp_path / "exports") for p in expected]
    # a folder whose link leads back up reaches the files above it, under the names it reaches them by
    assert expand_inputs(["2026"]) == [os.path.join("2026", *name.split("/")) for name in ["b.jsonl", "up/a.jsonl", "up/old/c.jsonl"]]


@pytest.mark.skipif(not hasattr(os, "link"), reason="no hard links")
def test_a_file_named_again_through_a_hard_link_is_read_once(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    write(data, "{}\n")
    os.link(data, tmp_path / "b.jsonl")
    assert expand_inputs([str(data), str(tmp_path / "b.jsonl")]) == [str(data)]
    assert expand_inputs([str(tmp_path)]) == [str(data)]
    write(tmp_path / "c.jsonl", "{}\n")  # equal content, another file
    assert expand_inputs([str(tmp_path / "c.jsonl"), str(data)]) == [str(tmp_path / "c.jsonl"), str(data)]


def test_files_whose_file_system_gives_no_inode_are_told_apart_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an inode of 0 identifies no file (some Windows network and FAT drives give it to every file): taken
    # as an identity, every input after the first was dropped as "the same file"
    real_stat = os.stat

    def no_inode(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        s = real_stat(path, *args, **kwargs)
        return os.stat_result((s.st_mode, 0, s.st_dev, s.st_nlink, s.st_uid, s.st_gid, s.st_size, int(s.st_atime), int(s.st_mtime), int(s.st_ctime)))

    for name in ("a.jsonl", "b.jsonl"):
        write(tmp_path / name, "{}\n")
    monkeypatch.setattr(os, "stat", no_inode)
    a, b = str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")
    assert expand_inputs([a, b, a]) == [a, b]
    assert expand_inputs([str(tmp_path)]) == [a, b]


def test_expand_inputs_globs_stdin_order_and_duplicates(tmp_path: Path) -> None:
    for name in ["2024/02/b.jsonl", "2024/01/a.jsonl", "2024/01/c.csv", "2023/x.jsonl", "top.jsonl"]:
        write(tmp_path / name, "{}\n")
    base = str(tmp_path)
    expanded = expand_inputs([
        os.path.join(base, "top.jsonl"),
        "-",
        os.path.join(base, "**", "*.jsonl"),
        os.path.join(base, "2024", "0?"),  # matched directories are searched
    ])
    assert [p if p == "-" else os.path.relpath(p, base) for p in expanded] == [
        "top.jsonl",
        "-",
        os.path.join("2023", "x.jsonl"),
        os.path.join("2024", "01", "a.jsonl"),
        os.path.join("2024", "02", "b.jsonl"),
        os.path.join("2024", "01", "c.csv"),
    ]


def test_expand_inputs_literal_path_with_glob_characters(tmp_path: Path) -> None:
    path = write(tmp_path / "export[1].jsonl", "{}\n")
    assert expand_inputs([path]) == [path]


def test_a_glob_matching_a_file_named_dash_reads_the_file_not_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # glob('*') in a folder with a file named '-' returned '-', which then meant stdin: the file went unread
    write(tmp_path / "-", '{"id": "x"}\n')
    monkeypatch.chdir(tmp_path)
    (expanded,) = expand_inputs(["*"])
    assert expanded == os.path.join(os.curdir, "-")
    assert [r.data for r in read_records(expanded, format="jsonl")] == [{"id": "x"}]


def test_expand_inputs_matching_nothing_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="input file not found"):
        expand_inputs([str(tmp_path / "nope.jsonl")])
    with pytest.raises(FileNotFoundError, match="no input files match"):
        expand_inputs([str(tmp_path / "*.jsonl")])
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty" / "readme.txt", "x")
    with pytest.raises(FileNotFoundError, match="contains no input files"):
        expand_inputs([str(tmp_path / "empty")])


def test_total_size(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", "{}\n" * 10)
    b = write(tmp_path / "b.jsonl.gz", gzip.compress(b"{}\n" * 100))
    assert total_size([a, b]) == 30 + os.path.getsize(b)
    assert total_size([]) == 0
    assert total_size([a, "-"]) is None
    assert total_size([str(tmp_path / "missing.jsonl")]) is None


# -------------------------------------------------------------------------------------------------- CSV


def test_csv_multiline_quoted_fields_and_exact_lines_of_later_rows(tmp_path: Path, chunk_size: int) -> None:
    content = (
        "id,text,channel\r\n"  # 1
        '1,"first line\r\nsecond line\r\nthird",email\r\n'  # 2-4
        "2,plain,chat\r\n"  # 5
        '3,"embedded\nLF only, with ""quotes""",phone\r\n'  # 6-7
        "\r\n"  # 8 blank
        '4,"",chat\r\n'  # 9
        "5,last,email"  # 10, no final newline
    )
    path = write(tmp_path / "a.csv", content)
    records = read(path)
    assert summary(records) == [(2, 1, None), (5, 2, None), (6, 3, None), (9, 4, None), (10, 5, None)]
    assert records[0].data == {"id": "1", "text": "first line\r\nsecond line\r\nthird", "channel": "email"}
    assert records[2].data == {"id": "3", "text": 'embedded\nLF only, with "quotes"', "channel": "phone"}
    assert records[3].data == {"id": "4", "text": "", "channel": "chat"}
    assert sum(r.size for r in records) == os.path.getsize(path)


def test_csv_old_mac_line_endings(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", 'id,t\r1,"a\rb"\r2,c\r'))
    assert summary(records) == [(2, 1, None), (4, 2, None)]
    assert records[0].data == {"id": "1", "t": "a\rb"}


def test_csv_semicolon_and_tab_are_sniffed_from_the_header(tmp_path: Path) -> None:
    semi = read(write(tmp_path / "a.csv", 'id;text;"a,b"\n1;"x;y";3,5\n'))
    assert semi[0].data == {"id": "1", "text": "x;y", "a,b": "3,5"}
    tab = read(write(tmp_path / "b.tsv", "id\ttext\n1\thello, world\n"))
    assert tab[0].data == {"id": "1", "text": "hello, world"}
    single = read(write(tmp_path / "c.csv", "id\n1\n2\n"))
    assert [r.data for r in single] == [{"id": "1"}, {"id": "2"}]


def test_csv_delimiter_is_told_by_the_rows_when_the_header_has_as_many_of_two(tmp_path: Path, chunk_size: int) -> None:
    # the header alone has one ';' and one ',': ',' won, and every row was read wrong (the first one as a
    # good record with the columns 'id;Name' and ' Vorname')
    semi = read(write(tmp_path / "a.csv", "\ufeffid;Name, Vorname\r\n1;Smith, J\r\n2;Doe\r\n3;\"Lee, \r\nA\"\r\n"))
    assert [r.data for r in semi] == [
        {"id": "1", "Name, Vorname": "Smith, J"}, {"id": "2", "Name, Vorname": "Doe"}, {"id": "3", "Name, Vorname": "Lee, \r\nA"}
    ]
    # a .tsv file is tab-separated when nothing else tells, also with a single row and more commas than tabs
    tsv = read(write(tmp_path / "b.tsv", "id\tlast, first, middle\n1\tSmith, J, K\n"))
    assert [r.data for r in tsv] == [{"id": "1", "last, first, middle": "Smith, J, K"}]
    commas = read(write(tmp_path / "c.csv", "id,text;note\n1,a;b\n2,c\n"))  # one of each; the rows say ','
    assert [r.data for r in commas] == [{"id": "1", "text;note": "a;b"}, {"id": "2", "text;note": "c"}]


def test_csv_dialect_overrides(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id|text\n1|'a|b'\n")
    records = read(path, csv_dialect={"delimiter": "|", "quotechar": "'"})
    assert records[0].data == {"id": "1", "text": "a|b"}


def test_csv_wrong_field_counts_are_sr305(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.csv", "id,text,channel\n1,a,chat\n2,b\n3,c,chat,extra\n4,d,email\n")
    records = read(path)
    assert summary(records) == [(2, 1, None), (3, 2, "SR305"), (4, 3, "SR305"), (5, 4, None)]
    assert records[1].error == "CSV row has 2 fields, expected 3 (the header's columns)"
    assert records[2].error == "CSV row has 4 fields, expected 3 (the header's columns)"


def test_csv_invalid_utf8_affects_only_its_row(tmp_path: Path, chunk_size: int) -> None:
    content = b'id,text\n1,caf\xc3\xa9\n2,caf\xe9\n3,"multi\nline \xff here"\n4,ok\n'
    records = read(write(tmp_path / "a.csv", content))
    assert summary(records) == [(2, 1, None), (3, 2, "SR303"), (4, 3, "SR303"), (6, 4, None)]
    assert records[0].data == {"id": "1", "text": "café"}
    assert records[1].error == "invalid UTF-8 byte 0xe9 at column 6"
    assert records[2].error == "invalid UTF-8 byte 0xff on line 5 at column 6"
    assert read(write(tmp_path / "b.csv", b"id,text\n1,caf\xe9\n"), encoding="cp1252")[0].data == {
        "id": "1",
        "text": "café",
    }


def test_unreadable_csv_rows_keep_readings_to_tell_their_interaction(tmp_path: Path, chunk_size: int) -> None:
    content = (
        b"ticket,text,channel\n"
        b"T1,caf\xe9,chat\n"  # a bad byte: the whole row, the byte replaced
        b"T2,a, b,chat\n"  # a delimiter too many in the text
        b"T3,chat\n"  # a field too few
        b"T4,x\xff,chat,more\n"  # a bad byte and a field too many
        b'T5,"x"y,chat\n'  # a row the csv module refuses (strict): nothing to read
        b"T6,ok,chat\n"
    )
    records = read(write(tmp_path / "a.csv", content), csv_dialect={"strict": True})
    assert [(r.code, r.readings) for r in records] == [
        ("SR303", ({"ticket": "T1", "text": "caf\ufffd", "channel": "chat"},)),
        ("SR305", ({"ticket": "T2", "text": "a", "channel": " b"}, {"ticket": "a", "text": " b", "channel": "chat"})),
        ("SR305", ({"ticket": "T3", "text": "chat"}, {"text": "T3", "channel": "chat"})),
        ("SR303", ({"ticket": "T4", "text": "x\ufffd", "channel": "chat"}, {"ticket": "x\ufffd", "text": "chat", "channel": "more"})),
        ("SR305", ()),
        (None, ()),
    ]


def test_unreadable_json_records_keep_the_replaced_record_as_a_reading(tmp_path: Path) -> None:
    lines = read(write(tmp_path / "a.jsonl", b'{"ticket": "T1", "t": "caf\xe9"}\n{"ticket": "T2", "t": "\xff\n[1, "\xff"]\n{"a": 1}\n'))
    assert [(r.code, r.readings) for r in lines] == [
        ("SR303", ({"ticket": "T1", "t": "caf\ufffd"},)),
        ("SR303", ()),  # not JSON even with the byte replaced
        ("SR303", ()),  # not an object
        (None, ()),
    ]
    element = read(write(tmp_path / "a.json", b'[{"ticket": "T1",\n  "t": "\xff"}, {"ticket": "T2"}]'))
    assert [(r.code, r.readings) for r in element] == [("SR303", ({"ticket": "T1", "t": "\ufffd"},)), (None, ())]
    assert records_of_blocks(str(tmp_path / "a.jsonl"), 2)[0] == lines  # as read in worker processes


def test_csv_bom_and_blank_lines_before_the_header(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", b"\xef\xbb\xbf\n\nid,text\n1,x\n"))
    assert summary(records) == [(4, 1, None)]
    assert records[0].data == {"id": "1", "text": "x"}


def test_csv_unclosed_quote_at_the_end_is_sr304(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", 'id,text\n1,ok\n2,"never closed\n3,swallowed\n'))
    assert summary(records) == [(2, 1, None), (3, 2, "SR304")]
    assert records[1].error is not None and "quoted field" in records[1].error


def test_csv_header_only_and_empty(tmp_path: Path) -> None:
    assert read(write(tmp_path / "a.csv", "id,text\n")) == []
    assert read(write(tmp_path / "b.csv", "")) == []


def test_csv_duplicate_header_column_is_reported(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", "id,text,id\n1,a,2\n"))
    assert summary(records) == [(1, None, "SR305")]
    assert records[0].error is not None and "'id' (columns 1 and 3)" in records[0].error


def test_csv_blank_header_cells_are_named_by_their_position(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", "id,,subject, \n1,x,Hello,\n2,,Bye,y\n"))
    assert summary(records) == [(2, 1, None), (3, 2, None)]
    assert [r.data for r in records] == [
        {"id": "1", "column_2": "x", "subject": "Hello", "column_4": ""},
        {"id": "2", "column_2": "", "subject": "Bye", "column_4": "y"},
    ]


def test_csv_excel_export_with_empty_columns_at_the_end_of_every_line(tmp_path: Path, chunk_size: int) -> None:
    # two or more blank header cells were a repeated column name '', which rejected the whole file
    content = b"id;subject;;\r\n1;Hello;;\r\n2;\"a;b\";;\r\n"
    for name, data in (("a.csv", content), ("b.csv.gz", gzip.compress(content))):
        records = read(write(tmp_path / name, data))
        assert summary(records) == [(2, 1, None), (3, 2, None)], name
        assert [r.data for r in records] == [
            {"id": "1", "subject": "Hello", "column_3": "", "column_4": ""},
            {"id": "2", "subject": "a;b", "column_3": "", "column_4": ""},
        ], name


def test_csv_blank_header_cells_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    set_stdin(monkeypatch, b"id\tsubject\t\t\n1\tHello\t\t\n")
    assert [r.data for r in read("-")] == [{"id": "1", "subject": "Hello", "column_3": "", "column_4": ""}]


def test_csv_one_blank_header_cell_is_named_too(tmp_path: Path) -> None:
    # it used to make a field named '' (still a record, but one no mapping could name)
    records = read(write(tmp_path / "a.csv", "id,text,\n1,a,\n2,b,c\n"))
    assert [r.data for r in records] == [{"id": "1", "text": "a", "column_3": ""}, {"id": "2", "text": "b", "column_3": "c"}]


def test_csv_blank_header_cells_name_the_readings_of_a_bad_row(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", "id;;text\n1;x;a;b\n"))
    assert summary(records) == [(2, 1, "SR305")]
    assert records[0].error == "CSV row has 4 fields, expected 3 (the header's columns)"
    assert records[0].readings == (
        {"id": "1", "column_2": "x", "text": "a"},
        {"text": "b", "column_2": "a", "id": "x"},
    )


def test_csv_a_blank_cell_named_like_another_column_is_a_repeated_column(tmp_path: Path) -> None:
    records = read(write(tmp_path / "a.csv", "id,,column_2\n1,a,b\n"))
    assert summary(records) == [(1, None, "SR305")]
    assert records[0].error == (
        "CSV header repeats the column name 'column_2' (columns 2 and 3; column 2 is blank, so it is named by "
        "its position), so rows cannot be mapped to columns"
    )
    records = read(write(tmp_path / "b.csv", "column_3,id,\n1,a,b\n"))
    assert records[0].error == (
        "CSV header repeats the column name 'column_3' (columns 1 and 3; column 3 is blank, so it is named by "
        "its position), so rows cannot be mapped to columns"
    )


def test_csv_header_of_blank_cells_only_is_reported(tmp_path: Path) -> None:
    # an empty first row above the real header: its line would name every column by position, and the real
    # header become a data row
    records = read(write(tmp_path / "a.csv", ";;;\nid;subject;;\n1;Hello;;\n"))
    assert summary(records) == [(1, None, "SR305")]
    assert records[0].error == "CSV header has no column names (every cell of its line is blank)"


def test_csv_header_with_blank_cells_alone_and_blank_lines(tmp_path: Path) -> None:
    assert read(write(tmp_path / "a.csv", "id;subject;;\n")) == []
    assert read(write(tmp_path / "b.csv", "\n\nid;subject;;\n\n")) == []
    records = read(write(tmp_path / "c.csv", "\r\n\r\nid;subject;;\r\n\r\n1;Hi;;\r\n"))
    assert summary(records) == [(5, 1, None)]
    assert records[0].data == {"id": "1", "subject": "Hi", "column_3": "", "column_4": ""}


def test_csv_field_larger_than_the_csv_limit_is_reported(tmp_path: Path) -> None:
    big = "x" * (200 * 1024)
    records = read(write(tmp_path / "a.csv", f"id,text\n1,{big}\n2,small\n"))
    assert summary(records) == [(2, 1, "SR305"), (3, 2, None)]
    assert records[0].error is not None and records[0].error.startswith("malformed CSV row: field larger")


def test_a_quoted_field_larger_than_the_csv_limit_over_many_lines_is_one_rejected_row(
    tmp_path: Path, chunk_size: int
) -> None:
    # an e-mail body of 200 KB in one quoted field: csv.reader gives up at 128 KB and would read the rest of
    # the field as rows of its own (some of them good records), with every later row's quoting inverted
    body = ('x' * 999 + ',""quoted""\r\n') * 200
    text = f'id,text\r\n1,"{body}"\r\n2,"a\r\nb"\r\n3,c\r\n'
    records = read(write(tmp_path / "a.csv", text))
    assert summary(records) == [(2, 1, "SR305"), (203, 2, None), (205, 3, None)]
    assert records[0].error == (
        "malformed CSV row: field larger than field limit (131072) (the row spans lines 2 to 202)"
    )
    assert [r.data for r in records[1:]] == [{"id": "2", "text": "a\r\nb"}, {"id": "3", "text": "c"}]
    assert sum(r.size for r in records) == len(text)


def test_an_unclosed_quote_that_runs_past_the_csv_limit_is_sr304_at_its_row(tmp_path: Path) -> None:
    lines = "".join(f"{n},{'y' * 1000}\n" for n in range(3, 300))
    records = read(write(tmp_path / "a.csv", f'id,text\n1,ok\n2,"never closed\n{lines}'))
    assert summary(records) == [(2, 1, None), (3, 2, "SR304")]
    assert records[1].error is not None and "a quoted field opened in this row is never closed" in records[1].error


def test_a_strict_dialect_rejects_a_row_and_reads_on_where_the_parser_would(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", 'id,text\n1,"a\nb"x\n2,"c"\n')
    records = read(path, csv_dialect={"strict": True})
    assert summary(records) == [(2, 1, "SR305"), (4, 2, None)]
    assert records[0].error == "malformed CSV row: ',' expected after '\"' (the row spans lines 2 to 3)"


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet='a,;"\\ \r\n', max_size=40),
    dialect=st.fixed_dictionaries(
        {},
        optional={
            "delimiter": st.sampled_from([",", ";"]),
            "escapechar": st.sampled_from(["\\", None]),
            "doublequote": st.booleans(),
            "skipinitialspace": st.booleans(),
            "quoting": st.sampled_from([0, 3]),  # csv.QUOTE_MINIMAL, csv.QUOTE_NONE
        },
    ),
)
def test_the_csv_row_end_scanner_agrees_with_csv_reader(text: str, dialect: dict[str, Any]) -> None:
    import csv

    lines = io.StringIO(text, newline="").readlines()
    consumed = 0

    def counted() -> Any:
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line

    reader = csv.reader(counted(), **dialect)
    expected = []
    for _ in reader:
        expected.append(consumed)
    row_end = readers._CsvRowEnd(reader.dialect)
    found = []
    state = readers._CSV_START_RECORD
    for number, line in enumerate(lines, 1):
        state = row_end.after(state, line)
        if state == readers._CSV_START_RECORD:
            found.append(number)
    if state != readers._CSV_START_RECORD:
        found.append(len(lines))  # the reader returns a row cut off by the end of the input
    assert found == expected


# ------------------------------------------------------------------------------- JSON Lines as blocks


def records_of_blocks(path: str, lines: int, **kwargs: Any) -> tuple[list[RawRecord], list[JsonLines]]:
    """The records of ``read_blocks``' blocks, numbered across blocks as the batch runner does."""
    records: list[RawRecord] = []
    blocks: list[JsonLines] = []
    row = last_units = 0
    for item in read_blocks(path, lines=lines, **kwargs):
        if isinstance(item, RawRecord):
            records.append(item)
            continue
        blocks.append(item)
        for line in item.lines_with_records():
            row += 1
            units = item.units_at(line.end)
            records.append(jsonl_record(item, line, row, units - last_units))
            last_units = units
        where = item.end_problem()
        if where is not None:
            assert item.problem is not None
            records.append(RawRecord(where, None, item.problem, "SR304", item.units_at(len(item.data)) - last_units))
    return records, blocks


_TRICKY_JSONL = (
    b'\xef\xbb\xbf{"id": 1}\r\n\r\n  \n{"id": 2, "t": "caf\xc3\xa9"}\n{broken\n[1, 2]\n\t\n'
    b'{"id": "b\xffd"}\n\xef\xbb\xbf{"id": 3}\n"text"\n{"id": 4, "s": "\\ud800"}\n\n\n{"id": 5}\n'
)


@pytest.mark.parametrize("ending", [b"", b'{"id": 6}', b'{"id": 6, "t": ', b"  ", b"\n\n"], ids=["end", "complete", "cut", "blank", "blanks"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_blocks_make_the_records_read_records_makes(tmp_path: Path, chunk_size: int, ending: bytes, compress: bool) -> None:
    data = _TRICKY_JSONL + ending
    path = write(tmp_path / "a.jsonl", gzip.compress(data) if compress else data)
    expected = read(path)
    for lines in (1, 2, 3, 1000):
        records, blocks = records_of_blocks(path, lines)
        if compress:  # sizes in compressed bytes are coarse: they advance with the blocks
            records, expected = [dataclasses.replace(r, size=0) for r in records], [dataclasses.replace(r, size=0) for r in expected]
        assert records == expected
        assert b"".join(b.data for b in blocks) == data[3:]  # all of it but the byte-order mark
        assert [b.first_line for b in blocks] == [1 + sum(b.lines for b in blocks[:k]) for k in range(len(blocks))]
        assert all(b.lines == lines and b.data.endswith(b"\n") for b in blocks[:-1])


def test_blocks_of_a_truncated_gzip_stream(tmp_path: Path, chunk_size: int) -> None:
    data = b"".join(json.dumps({"id": k, "text": "x" * (k % 50)}).encode() + b"\n" for k in range(400))
    whole = gzip.compress(data)
    for cut in (len(whole) // 2, len(whole) - 4, 15):
        path = write(tmp_path / "a.jsonl.gz", whole[:cut])
        expected = read(path)
        assert expected[-1].code == "SR304"
        for lines in (1, 7, 1000):
            records, blocks = records_of_blocks(path, lines)
            assert [dataclasses.replace(r, size=0) for r in records] == [dataclasses.replace(r, size=0) for r in expected]
            assert blocks[-1].problem is not None and all(b.problem is None for b in blocks[:-1])


def test_blocks_in_another_encoding_and_other_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", '{"id": "caf\xe9"}\n{"id": "\x81"}\n'.encode("latin-1"))
    records, _ = records_of_blocks(path, 1, encoding="cp1252")
    assert records == read(path, encoding="cp1252") and summary(records) == [(1, 1, None), (2, 2, "SR303")]
    csv_path = write(tmp_path / "a.csv", "id,channel\n1,chat\n")
    assert list(read_blocks(csv_path, lines=10)) == read(csv_path)
    utf16 = write(tmp_path / "b.jsonl", '{"id": 1}\n'.encode("utf-16"))
    assert list(read_blocks(utf16, lines=10)) == read(utf16) and read(utf16)[0].code == "SR303"
    assert list(read_blocks(write(tmp_path / "empty.jsonl", b""), lines=10)) == []
    with pytest.raises(ValueError, match="at least 1"):
        read_blocks(path, lines=0)


# ----------------------------------------------------------------------------------- record size limit


def too_large(size: int, limit: int = 20) -> str:
    return f"record is {size:,} bytes, more than the limit of {limit:,} bytes"


def detail(records: list[RawRecord]) -> list[tuple[int, int | None, str | None, int, str | None]]:
    """(line, row, code, size, error) of each record."""
    return [(r.position.line, r.position.row, r.code, r.size, r.error) for r in records]


def test_a_json_lines_line_longer_than_the_limit_is_sr306_and_reading_goes_on(tmp_path: Path, chunk_size: int) -> None:
    long = b'{"t": "' + b"x" * 50 + b'"}'  # 59 bytes
    exact = b'{"t": "' + b"y" * 11 + b'"}'  # 20 bytes: as long as the limit is fine
    data = b'{"a": 1}\n' + long + b"\r\n\n" + exact + b"\n" + b" " * 21 + b"\n" + exact + b"z\n" + b"q" * 30
    path = write(tmp_path / "a.jsonl", data)
    records = read(path, max_record_bytes=20)
    assert detail(records) == [
        (1, 1, None, 9, None),
        (2, 2, "SR306", 61, too_large(60)),  # the '\r' is the line's, the line feed is not
        (4, 3, None, 22, None),  # with the blank line before it
        (5, 4, "SR306", 22, too_large(21)),  # a line longer than the limit is a record whatever it holds
        (6, 5, "SR306", 22, too_large(21)),
        (7, 6, "SR306", 30, too_large(30)),  # the last line, without a line feed
    ]
    assert records[2].data == {"t": "y" * 11}
    assert sum(r.size for r in records) == len(data)
    assert detail(read(path)) == [(1, 1, None, 9, None), (2, 2, None, 61, None), (4, 3, None, 22, None), (6, 4, "SR301", 44, mock.ANY), (7, 5, "SR301", 30, mock.ANY)]


def test_the_limit_defaults_to_the_module_constant_when_reading_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "a.jsonl", b'{"a": 1}\n{"b": "' + b"x" * 40 + b'"}\n')
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 1024)
    assert summary(read(path)) == [(1, 1, None), (2, 2, None)]
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 48)
    records = read(path)
    assert summary(records) == [(1, 1, None), (2, 2, "SR306")]
    assert records[1].error == "record is 49 bytes, more than the limit of 48 bytes"
    assert readers.MAX_RECORD_BYTES == 48 and JsonLines("f", 1, 0, b"", "utf-8", 0, 0, False, 0).limit == 64 << 20
    with pytest.raises(ValueError, match="at least 1"):
        read_records(path, max_record_bytes=0)
    with pytest.raises(TypeError, match="an int or None"):
        read_records(path, max_record_bytes=1.5)  # type: ignore[arg-type]


def test_the_limit_is_written_as_a_user_would_write_it() -> None:
    assert readers._too_large(1 << 30, 64 << 20) == "record is 1,073,741,824 bytes, more than the limit of 64 MiB"
    assert readers._size_text(4096) == "4 KiB" and readers._size_text(3 << 30) == "3 GiB"
    assert readers._size_text(1000) == "1,000 bytes" and readers._size_text(1) == "1 byte"


def test_a_json_lines_line_too_large_is_a_block_of_its_own_without_its_bytes(tmp_path: Path, chunk_size: int) -> None:
    data = b'{"a": 1}\n{"b": 2}\n{"c": 3}\n' + b"x" * 45 + b'\n{"d": 4}\n' + b"y" * 33
    path = write(tmp_path / "a.jsonl", data)
    expected = read(path, max_record_bytes=20)
    assert summary(expected) == [(1, 1, None), (2, 2, None), (3, 3, None), (4, 4, "SR306"), (5, 5, None), (6, 6, "SR306")]
    for lines in (1, 2, 5):
        records, blocks = records_of_blocks(path, lines, max_record_bytes=20)
        assert records == expected
        large = [b for b in blocks if b.too_large]
        assert [(b.first_line, b.lines, b.data, b.start, b.too_large, b.limit) for b in large] == [
            (4, 1, b"\n", 27, 45, 20),
            (6, 1, b"", 82, 33, 20),
        ]
        assert all(len(b.data) <= 20 + lines * 9 for b in blocks)  # never the long lines' bytes
        assert [b.first_line for b in blocks] == [1 + sum(b.lines for b in blocks[:k]) for k in range(len(blocks))]
        assert [b.start for b in blocks] == [sum(len(b.data) + b.too_large for b in blocks[:k]) for k in range(len(blocks))]
        assert all(b.data.endswith(b"\n") for b in blocks[:-1])
        assert not any(b.direct_json(line) for b in large for line in b.lines_with_records())


def test_a_json_lines_line_too_large_at_the_end_of_a_damaged_gzip_stream_is_sr304(tmp_path: Path, chunk_size: int) -> None:
    noise = b"".join(hashlib.sha256(b"%d" % k).hexdigest().encode() for k in range(100))  # does not compress
    whole = gzip.compress(b'{"a": 1}\n' + noise + b"\n")
    path = write(tmp_path / "a.jsonl.gz", whole[: len(whole) // 2])
    records = read(path, max_record_bytes=100)
    assert summary(records) == [(1, 1, None), (2, 2, "SR304")]
    assert records[1].error == "file ends in the middle of a record: the gzip stream is truncated"
    assert [dataclasses.replace(r, size=0) for r in records_of_blocks(path, 1, max_record_bytes=100)[0]] == [
        dataclasses.replace(r, size=0) for r in records
    ]


def test_a_json_array_element_longer_than_the_limit_is_skipped_with_the_scanner(tmp_path: Path, chunk_size: int) -> None:
    tricky = b'{"b": "' + b'x\\"]}[{,' * 10 + b'", "c": [1, {"d": "]"}]}'  # brackets and quotes in its string
    data = b'[\n{"a": 1},\n' + tricky + b',\n{"c": 3}, "' + b"s" * 40 + b'", {"e":\n "' + b"t" * 30 + b'"}\n]\n'
    path = write(tmp_path / "a.json", data)
    records = read(path, max_record_bytes=20)
    assert detail(records) == [
        (2, 1, None, 10, None),
        (3, 2, "SR306", len(tricky) + 2, too_large(len(tricky))),
        (4, 3, None, 10, None),
        (4, 4, "SR306", 44, too_large(42)),
        (4, 5, "SR306", 42, too_large(40)),  # spans lines 4 and 5
    ]
    assert records[2].data == {"c": 3}
    assert sum(r.size for r in records) == len(data) - 3  # the closing ']' follows the last record


def test_a_json_document_of_one_object_longer_than_the_limit(tmp_path: Path, chunk_size: int) -> None:
    pretty = b'{\n  "a": "' + b"y" * 40 + b'",\n  "b": [1, 2]\n}\n'
    path = write(tmp_path / "one.json", pretty)
    assert detail(read(path, max_record_bytes=20)) == [(1, 1, "SR306", len(pretty) - 1, too_large(len(pretty) - 1))]
    cut = write(tmp_path / "cut.json", pretty[:-4])
    assert summary(read(cut, max_record_bytes=20)) == [(1, 1, "SR304")]
    # a first line longer than the limit: JSON Lines, so the lines after it are not lost as data after one object
    lines = write(tmp_path / "lines.json", b'{"a": "' + b"z" * 40 + b'"}\n{"b": 2}\n{"c": 3}\n')
    assert summary(read(lines, max_record_bytes=20)) == [(1, 1, "SR306"), (2, 2, None), (3, 3, None)]
    assert summary(read(lines)) == [(1, 1, None), (2, 2, None), (3, 3, None)]
    # a whole first line followed by more white space than the limit: JSON Lines too
    spaced = write(tmp_path / "spaced.json", b'{"a": 1}\n' + b" " * 50 + b'\n{"b": 2}\n')
    assert summary(read(spaced, max_record_bytes=20)) == [(1, 1, None), (2, 2, "SR306"), (3, 3, None)]


def test_a_csv_row_longer_than_the_limit_is_skipped_to_its_end(tmp_path: Path, chunk_size: int) -> None:
    data = (
        b"id,text\n"
        b"1,short\n"
        b"2," + b"x" * 50 + b"\n"  # one long line
        b'3,"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk"\n'  # many short lines, in quotes
        b'4,"' + b"y" * 40 + b'\nz,"w\n'  # a long line in quotes: the row goes on to the next line
        b"5,ok\r\n"
        b"6," + b"v" * 18 + b"\r\n"  # 20 bytes and a line break: as long as the limit is fine
        b"1,2,3,4,5,6,7,8,9,10,11,12\n"  # many short fields
        b'8,"' + b"u" * 30
    )
    path = write(tmp_path / "a.csv", data)
    records = read(path, max_record_bytes=20)
    assert detail(records) == [
        (2, 1, None, 16, None),
        (3, 2, "SR306", 53, too_large(52)),
        (4, 3, "SR306", 26, too_large(25) + " (the row spans lines 4 to 14)"),
        (15, 4, "SR306", 49, too_large(48) + " (the row spans lines 15 to 16)"),
        (17, 5, None, 6, None),
        (18, 6, None, 22, None),
        (19, 7, "SR306", 27, too_large(26)),
        (20, 8, "SR304", 33, readers._UNCLOSED_QUOTE),  # the file ends inside its quotes
    ]
    assert records[5].data == {"id": "6", "text": "v" * 18}
    assert sum(r.size for r in records) == len(data)
    # without the limit, the rows are where they were
    assert [(line, row) for line, row, *_ in detail(read(path))] == [(line, row) for line, row, *_ in detail(records)]


def test_a_csv_header_longer_than_the_limit_makes_the_file_one_rejected_record(tmp_path: Path, chunk_size: int) -> None:
    path = write(tmp_path / "a.csv", b"id," + b"h" * 50 + b"\n1,2\n")
    assert detail(read(path, max_record_bytes=20)) == [
        (1, None, "SR306", 54, "the CSV header is 53 bytes, more than the limit of 20 bytes")
    ]


def test_csv_old_mac_line_endings_longer_than_the_limit_are_read_line_by_line(tmp_path: Path, chunk_size: int) -> None:
    rows = b"".join(b"%d,text %d\r" % (k, k) for k in range(1, 40))
    path = write(tmp_path / "a.csv", b"id,text\r" + rows + b"40," + b"x" * 30 + b"\r41,end")
    records = read(path, max_record_bytes=20)
    assert [r.data for r in records[:39]] == [{"id": str(k), "text": f"text {k}"} for k in range(1, 40)]
    assert summary(records[39:]) == [(41, 40, "SR306"), (42, 41, None)]


class _LazyStream:
    """A raw input that makes its bytes as they are read, and remembers how many it gave."""

    def __init__(self, parts: Any) -> None:
        self._parts = iter(parts)
        self._rest = b""
        self.given = 0

    def read(self, size: int = -1) -> bytes:
        while not self._rest:
            self._rest = next(self._parts, b"")
            if not self._rest:
                return b""
        data, self._rest = self._rest[:size], self._rest[size:]
        self.given += len(data)
        return data


@pytest.mark.parametrize(
    "fmt, head, filler, tail, expected",
    [
        ("jsonl", b'{"a": 1}\n{"t": "', b"x" * 1024, b'"}\n{"b": 2}\n', [(1, 1, None), (2, 2, "SR306"), (3, 3, None)]),
        ("jsonl", b'{"a": 1}\n', b"\x00\xff" * 512, b"", [(1, 1, None), (2, 2, "SR306")]),  # binary, no line feed
        ("json", b'[{"a": 1}, {"t": "', b"x[{" * 341, b'"}, {"b": 2}]', [(1, 1, None), (1, 2, "SR306"), (1, 3, None)]),
        ("json", b'{"t": [\n"', b"x\n" * 512, b'"]}\n', [(1, 1, "SR306")]),  # one object, pretty-printed
        ("csv", b"id,text\n1,a\n2,", b"x" * 1024, b"\n3,b\n", [(2, 1, None), (3, 2, "SR306"), (4, 3, None)]),
        ("csv", b'id,text\n1,a\n2,"', b"x" * 99 + b"\n", b'"\n3,b\n', [(2, 1, None), (3, 2, "SR306"), (10489, 3, None)]),
    ],
    ids=["jsonl", "jsonl-binary", "json-array", "json-object", "csv-line", "csv-row-of-lines"],
)
def test_a_record_too_large_is_never_held(
    monkeypatch: pytest.MonkeyPatch, fmt: str, head: bytes, filler: bytes, tail: bytes, expected: list[Any]
) -> None:
    """A record of 1 MB read in chunks of 256 bytes with a limit of 4 KiB: the reader holds no more than
    about the limit and a chunk (measured with tracemalloc), and reads it all (it is skipped, not cut).
    CSV is read with its delimiter given: sniffing it holds the first 64 KB of lines, whatever the limit."""
    import tracemalloc

    monkeypatch.setattr(readers, "_CHUNK_SIZE", 256)
    copies = 1024 * 1024 // len(filler)
    dialect = {"delimiter": ","} if fmt == "csv" else None
    stream = _LazyStream(itertools.chain([head], itertools.repeat(filler, copies), [tail]))
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=stream))
    total = len(head) + copies * len(filler) + len(tail)
    tracemalloc.start()
    try:
        records = []
        for kind in ("records", "blocks"):
            if fmt != "jsonl" and kind == "blocks":
                continue
            if kind == "blocks":
                stream = _LazyStream(itertools.chain([head], itertools.repeat(filler, copies), [tail]))
                monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=stream))
                blocks = list(read_blocks("-", lines=2, format=fmt, max_record_bytes=4096))
                assert sum(len(b.data) + b.too_large for b in blocks if isinstance(b, JsonLines)) == total
                assert max(len(b.data) for b in blocks if isinstance(b, JsonLines)) < 4096
            else:
                monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(head + filler * 50 + tail)))
                list(read_records("-", format=fmt, csv_dialect=dialect, max_record_bytes=4096))  # compiles the regexes
                monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=stream))
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                records = list(read_records("-", format=fmt, csv_dialect=dialect, max_record_bytes=4096))
                assert tracemalloc.get_traced_memory()[1] - base < 64 * 1024  # the record is 1 MB
            assert stream.given == total
    finally:
        tracemalloc.stop()
    assert summary(records) == expected
    assert sum(r.size for r in records) == total - (fmt == "json")  # the ']' or line feed after the last record
    large = next(r for r in records if r.code == "SR306")
    assert large.error is not None and "more than the limit of 4 KiB" in large.error and large.size > 1_000_000


# ---------------------------------------------------------------------------------- property-based test

_TRICKY = st.characters(codec="utf-8") | st.sampled_from(list('[]{}",\\\n\r\t:') + ["é", "☕", "𝄞", "\u2028"])
_TEXT = st.text(_TRICKY, max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
_VALUES = st.recursive(_SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_TEXT, kids, max_size=3), max_leaves=8)
_OBJECTS = st.lists(st.dictionaries(_TEXT, _VALUES, max_size=4), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    objects=_OBJECTS,
    blanks=st.lists(st.booleans(), min_size=7, max_size=7),
    chunk=st.sampled_from([1, 2, 5, 64, 1 << 16]),
    compress=st.booleans(),
)
def test_roundtrip_jsonl_and_pretty_json_array(
    tmp_path_factory: pytest.TempPathFactory,
    objects: list[dict[str, Any]],
    blanks: list[bool],
    chunk: int,
    compress: bool,
) -> None:
    directory = tmp_path_factory.mktemp("roundtrip")
    suffix = ".gz" if compress else ""

    def save(name: str, text: str) -> str:
        data = text.encode("utf-8")
        return write(directory / (name + suffix), gzip.compress(data) if compress else data)

    # JSONL, optionally with blank lines in between
    lines: list[str] = []
    expected_lines: list[int] = []
    for obj, blank in zip(objects, blanks):
        if blank:
            lines.append("")
        lines.append(json.dumps(obj, ensure_ascii=False))
        expected_lines.append(len(lines))
    jsonl = save("data.jsonl", "\n".join(lines) + "\n")

    # pretty-printed array: element k starts on line 2 + the lines of the elements before it
    array = save("data.json", json.dumps(objects, indent=2, ensure_ascii=False))
    array_lines: list[int] = []
    line = 2
    for obj in objects:
        array_lines.append(line)
        line += json.dumps(obj, indent=2, ensure_ascii=False).count("\n") + 1

    with mock.patch.object(readers, "_CHUNK_SIZE", chunk):
        from_jsonl = list(read_records(jsonl))
        from_array = list(read_records(array))

    rows = list(range(1, len(objects) + 1))
    assert [r.data for r in from_jsonl] == objects
    assert [r.position.row for r in from_jsonl] == rows
    assert [r.position.line for r in from_jsonl] == expected_lines
    assert [r.data for r in from_array] == objects
    assert [r.position.row for r in from_array] == rows
    assert [r.position.line for r in from_array] == array_lines


# ------------------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_reading_is_lazy_and_bounded(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    """The first record comes after reading about one chunk, not the whole input."""
    count = 40_000
    if fmt == "jsonl":
        data = b'{"id": 1, "text": "some text"}\n' * count
    elif fmt == "json":
        data = b"[\n" + b',\n'.join([b'  {"id": 1, "text": "some [text]"}'] * count) + b"\n]\n"
    else:
        data = b"id,text\n" + b'1,"some, text"\n' * count
    assert len(data) > 500_000
    buffer = set_stdin(monkeypatch, data)
    records = read_records("-")
    first = next(records)
    assert first.ok and first.position.row == 1
    assert buffer.tell() <= 2 * readers._CHUNK_SIZE
    assert sum(1 for _ in records) == count - 1


def test_a_record_made_in_memory_needs_only_its_position_and_data() -> None:
    record = RawRecord(SourcePosition("tickets-db", 7, 7), {"id": "E-7"})
    assert (record.ok, record.error, record.code, record.size, str(record.position)) == (True, None, None, 0, "tickets-db:7")
