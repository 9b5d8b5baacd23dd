"""Streaming readers for exported interaction logs: JSONL, JSON arrays and CSV, optionally gzip-compressed.

Every reader streams with bounded memory: JSONL line by line, JSON arrays element by element (an
incremental scanner cuts each top-level element out of the byte stream), CSV row by row. Only one record
(plus one read chunk) is held at a time, so a huge file is never loaded; and no record longer than
:data:`MAX_RECORD_BYTES` is held either (see below).
JSON that starts with ``{`` rather than ``[`` is JSON Lines when more lines follow its first line and
that line is a whole value or the next one starts with ``{`` (see ``_ByteSource.object_per_line``), else
one object, cut out by the same scanner: one record, and nothing after it read
but up to the first byte that is not white space (which makes the document malformed).

Bad input never stops the stream and is never dropped silently: every line, element or row that cannot
be turned into a record becomes a :class:`RawRecord` carrying ``error``, a stable ``code`` and its
:class:`SourcePosition`, and reading goes on with the next record. The codes (see ``servicerules.errors``):

* ``SR301`` malformed JSON (also a top-level JSON value that is neither an array nor an object, stray data
  in an array, and data after a JSON object that is a whole document)
* ``SR302`` the record is valid JSON but not an object
* ``SR303`` bad text encoding (an undecodable byte; also a UTF-16 or UTF-32 file read as UTF-8)
* ``SR304`` truncated input: the file ends in the middle of a record, or a gzip stream is truncated or
  corrupt (reading cannot go on past that point, so it is always the last record of the file)
* ``SR305`` CSV row with the wrong number of fields (also other malformed CSV rows and a bad header)
* ``SR306`` record too large: more than :data:`MAX_RECORD_BYTES` bytes (``max_record_bytes``). Its bytes are
  skipped, never held: a JSON Lines line up to its line feed, a JSON array element (or the one object of
  a file) to its end, which the scanner finds without keeping what it passes, a CSV row to its end as the
  CSV parser would find it. So a file that is one 10 GB line, or has no line feed at all, is one rejected
  record, read in bounded memory. When the input ends inside such a record, it is ``SR304`` as for any
  record (but a JSON Lines line without a line feed, whose end cannot be told from a cut-off one)

A row with a bad byte (SR303) or the wrong number of fields (SR305) also carries ``readings``, what can
still be made of it, so that a mapping can tell which interaction lost it (see :attr:`RawRecord.readings`).

Input is gzip-decompressed transparently whenever it starts with the gzip magic bytes ``1f 8b`` (a
``.gz`` name alone only matters for format detection). Text must be UTF-8 (a leading BOM is skipped) or
another single-byte ASCII-compatible encoding such as ``latin-1`` or ``cp1252``.

:func:`read_blocks` reads the same inputs, but hands over JSON Lines as :class:`JsonLines` blocks of
unparsed lines; :func:`jsonl_record` makes each line's record, exactly as :func:`read_records` does (it
is how :func:`read_records` reads JSON Lines too). The batch runner uses it to parse in worker processes.

``RawRecord.size`` is in the units of :func:`total_size`, for progress bars: for plain input the bytes
of the record including everything between the previous record and it (blank lines, separators, the
CSV header, a BOM), so the sizes add up to the file size less whatever follows the last record; for
gzip input the compressed bytes consumed since the previous record, which is coarser (it advances in
read-chunk steps: most records report 0) but adds up to about the compressed file size.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import glob
import io
import json
import os
import re
import stat
import sys
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterable, Iterator, Literal, NamedTuple, Sequence, overload

__all__ = [
    "DATA_SUFFIXES",
    "Format",
    "JsonLine",
    "JsonLines",
    "MAX_NESTING",
    "MAX_RECORD_BYTES",
    "RawRecord",
    "SourcePosition",
    "detect_format",
    "expand_inputs",
    "jsonl_record",
    "read_blocks",
    "read_records",
    "total_size",
]

Format = Literal["jsonl", "json", "csv"]

#: File name endings picked up when a directory is given as input (each also with ``.gz``).
DATA_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".csv", ".tsv")

#: Bytes read (and, for gzip, decompressed) per step. Tests lower it to exercise chunk boundaries.
_CHUNK_SIZE = 1 << 16

#: The size of the largest record the readers hold, in bytes: a JSON Lines line (without its line feed),
#: a JSON array element, the one object of a JSON file, a CSV row (its line breaks included but the last).
#: A longer record is skipped without being held and rejected (SR306), so that one huge or corrupt
#: record (a file that is one 10 GB line, a binary file with no line feed) cannot exhaust memory; reading
#: goes on with the next record. ``read_records`` and ``read_blocks`` take another as ``max_record_bytes``;
#: the default is this constant's value when they are called. No more of one record is kept than this and
#: one read chunk (64 KiB), with a transient copy of it at most.
MAX_RECORD_BYTES = 64 << 20

_STDIN_NAME = "<stdin>"
_UTF8_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_WS = b" \t\r\n"
_CSV_KEYS = frozenset(
    {"delimiter", "quotechar", "escapechar", "doublequote", "skipinitialspace", "strict", "quoting"}
)

_NON_WS = re.compile(rb"[^ \t\r\n]")
_STRUCTURAL = re.compile(rb'[\[\]{}",]')
_STRING_STOP = re.compile(rb'["\\]')
# skip plain bytes and whole (complete) strings in one step; stop at a bracket, an unterminated string,
# or (at the top level of an array element, where it ends a scalar) a comma
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_SKIP_NESTED = re.compile(rb'(?:[^\[\]{}"]+|' + _STRING + rb")*", re.DOTALL)
_SKIP_TOP = re.compile(rb'(?:[^\[\]{}",]+|' + _STRING + rb")*", re.DOTALL)

_QUOTE, _BACKSLASH, _COMMA = ord('"'), ord("\\"), ord(",")
_LBRACKET, _RBRACKET, _LBRACE, _RBRACE = ord("["), ord("]"), ord("{"), ord("}")


# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where a record starts.

    ``line`` is 1-based: the JSONL line, the physical line where a CSV row starts, or the line of a JSON
    array element's first byte. ``row`` is the 1-based record number within the file (CSV data rows
    without the header, non-blank JSONL lines, JSON array elements); ``None`` for problems that are not
    a record (for example a missing closing ``]`` or a bad CSV header).
    """

    file: str
    line: int
    row: int | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read from the input: exactly one of ``data`` and ``error`` is set.

    A record made in memory (from a database query, say) needs only its position and data:
    ``RawRecord(SourcePosition("tickets-db", n, n), row)``."""

    position: SourcePosition
    data: dict[str, Any] | None
    error: str | None = None
    code: str | None = None
    size: int = 0
    readings: tuple[dict[str, Any], ...] = ()
    """For a record that cannot be read: what can still be made of it, to tell which interaction it is
    part of (a mapping's group key), never to check it. A CSV row or JSON record with a byte its encoding
    does not have (SR303) has one reading, the whole record, each such byte replaced by U+FFFD. A CSV row
    with the wrong number of fields has two, partial ones: its fields matched to the header's columns from
    the first and from the last, so that a column on either side of one damaged place has its value in one
    of them (a column a reading lacks is unknown there, not empty). Empty for other problems."""

    @property
    def ok(self) -> bool:
        return self.error is None


def _good(position: SourcePosition, data: dict[str, Any], size: int) -> RawRecord:
    return RawRecord(position, data, None, None, size)


def _bad(
    position: SourcePosition, code: str, error: str, size: int, readings: tuple[dict[str, Any], ...] = ()
) -> RawRecord:
    return RawRecord(position, None, error, code, size, readings)


# ------------------------------------------------------------------------------------- inputs and formats


def _has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _is_data_file(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(DATA_SUFFIXES)


def _path_key(path: str) -> tuple[str, ...]:
    return tuple(os.path.normpath(path).split(os.sep))


def _tree(top: str, *, strict: bool) -> Iterator[tuple[str, list[str]]]:
    """``top`` and every directory under it that is not hidden, each with the names of its files that are
    not hidden, in sorted order. Symbolic links to directories are followed, but no directory is entered
    twice, so a link back to a parent does not loop (``os.walk`` would skip linked directories silently;
    ``glob``'s ``**`` follows every link, and a loop of two links takes exponential time). A directory that
    cannot be listed raises :class:`OSError` when ``strict``, else is skipped as ``glob`` skips it. ``top``
    may be ``""``, the current directory, whose entries are then named without a ``./``."""
    entered: set[object] = set()
    pending = [top]
    while pending:
        directory = pending.pop()
        here = directory or os.curdir
        try:
            identity = file_identity(here)
            if identity in entered:
                continue
            entered.add(identity)
            with os.scandir(here) as scan:
                entries = sorted((entry for entry in scan if not entry.name.startswith(".")), key=lambda e: e.name)
            subdirectories = [os.path.join(directory, entry.name) for entry in entries if entry.is_dir()]
            files = [entry.name for entry in entries if not entry.is_dir()]
        except OSError:
            if strict:
                raise
            continue
        yield directory, files
        pending.extend(reversed(subdirectories))


def _walk(directory: str) -> list[str]:
    found: list[str] = []
    for root, files in _tree(directory, strict=True):
        found.extend(os.path.join(root, f) for f in files if _is_data_file(f))
    return sorted(found, key=_path_key)


_RECURSIVE = re.compile(r"(?:^|[\\/])\*\*(?:[\\/]|$)" if os.altsep else r"(?:^|/)\*\*(?:/|$)")


def _glob(pattern: str) -> list[str]:
    """``glob.glob(pattern, recursive=True)``, but ``**`` walks the directories as :func:`_tree` does: each
    once, whatever symbolic links lead back to them."""
    recursive = _RECURSIVE.search(pattern)
    if recursive is None:
        return glob.glob(pattern)
    head, tail = pattern[: recursive.start()], pattern[recursive.end() :]
    if not head and recursive.group()[0] in (os.sep, os.altsep):
        head = recursive.group()[0]  # the root directory
    if not head:
        bases = [""]
    elif _has_magic(head):
        bases = [match for match in glob.glob(head) if os.path.isdir(match)]
    else:
        bases = [head] if os.path.isdir(head) else []
    found: list[str] = []
    for base in bases:
        if not tail:  # '**' at the end matches every directory and file: the base is searched, plus other files
            if base:
                found.append(base)
            else:  # the current directory's own name is not matched: its directories (without ./) are
                found.extend(name for name in os.listdir(os.curdir) if not name.startswith(".") and os.path.isdir(name))
        for directory, files in _tree(base, strict=False):
            if tail:
                found.extend(_glob(os.path.join(glob.escape(directory), tail)))
            else:
                found.extend(os.path.join(directory, name) for name in files)
    return found


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Turn command-line inputs into the list of files to read, in a deterministic order.

    Inputs are strings or path objects (:class:`pathlib.Path`); one string or path instead of a list of
    them raises :class:`TypeError` (a string is a sequence of one-letter names).

    ``-`` is stdin; an existing directory is searched recursively (hidden entries skipped) for files
    ending in ``.jsonl``, ``.ndjson``, ``.json``, ``.csv`` or ``.tsv``, each optionally followed by ``.gz``; a
    pattern with ``*``, ``?`` or ``[`` is globbed (``**`` crosses directories; matched directories are
    searched as above); any other existing path is taken as is. Searching follows symbolic links to
    directories, entering each directory once. Each input's files are sorted; inputs keep their order and
    a file named twice (also through a symbolic or hard link) is read once, under the shortest name an
    input reaches it by. An input matching nothing raises :class:`FileNotFoundError`.
    """
    if isinstance(inputs, (str, bytes, os.PathLike)):
        raise TypeError(f"inputs must be a list of files, globs or directories, not one {type(inputs).__name__}: write [{inputs!r}]")
    if not hasattr(type(inputs), "__iter__") and not hasattr(type(inputs), "__getitem__"):
        raise TypeError(f"inputs must be a list of files, globs or directories, not {type(inputs).__name__}")
    result: list[str] = []
    seen: set[object] = set()
    for given in inputs:
        item = os.fspath(given)
        if item == "-":
            files = ["-"]
        elif os.path.isdir(item):
            files = _shortest_names(_walk(item))
            if not files:
                raise FileNotFoundError(
                    f"directory {item!r} contains no input files "
                    "(*.jsonl, *.ndjson, *.json, *.csv, *.tsv, optionally gzip-compressed as *.gz)"
                )
        elif os.path.exists(item):
            files = [item]
        elif _has_magic(item):
            matched: list[str] = []
            for match in _glob(item):
                if match == "-":  # a file named '-' in the current directory, not stdin
                    match = os.path.join(os.curdir, match)
                matched.extend(_walk(match) if os.path.isdir(match) else [match])
            files = _shortest_names(matched)
            if not files:
                raise FileNotFoundError(f"no input files match the pattern {item!r}")
        else:
            raise FileNotFoundError(f"input file not found: {item!r}")
        for path in files:
            key = path if path == "-" else file_identity(path)
            if key not in seen:
                seen.add(key)
                result.append(path)
    return result


def _shortest_names(paths: Iterable[str]) -> list[str]:
    """``paths`` sorted, each file once under its shortest name: a directory that links back to a parent
    reaches the parent's files under longer names too."""
    names: dict[object, str] = {}
    for path in sorted(set(paths), key=lambda p: (len(_path_key(p)), _path_key(p))):
        names.setdefault(file_identity(path), path)
    return sorted(names.values(), key=_path_key)


def file_identity(path: str) -> object:
    """What makes two paths one file: its device and inode when it exists (also through a symbolic or
    hard link), else its real path. An inode of 0 identifies nothing (Python: "if non-zero, uniquely
    identifies the file"; some network and FAT file systems on Windows give 0 for every file): the path
    decides there too."""
    try:
        status = os.stat(path)
    except OSError:
        status = None
    if status is None or not status.st_ino:
        return os.path.normcase(os.path.realpath(path))
    return (status.st_dev, status.st_ino)


def total_size(paths: Iterable[str]) -> int | None:
    """Sum of the on-disk sizes of ``paths`` (compressed size for gzip files), for progress and ETA.

    ``None`` when any size is unknown: stdin (``-``), a pipe or device, or a path that cannot be stat'ed.
    """
    total = 0
    for path in paths:
        if path == "-":
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        total += st.st_size
    return total


def _format_from_name(path: str) -> Format | None:
    lower = path.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    return None


def _format_from_byte(first: int | None) -> Format:
    if first == _LBRACKET or first == _LBRACE:
        return "json"
    return "csv"


def detect_format(path: str) -> Format:
    """The input format: by extension (``.jsonl``/``.ndjson``, ``.json``, ``.csv``/``.tsv``, each
    optionally ``.gz``); for stdin or another extension by the first non-whitespace byte of the
    (decompressed) content: ``[`` or ``{`` is JSON, anything else CSV. How ``json`` input that starts
    with ``{`` is read (one object, or one object per line) is up to :func:`read_records`, which reads
    an input alike with and without ``format=detect_format(path)``.

    Sniffing stdin does not consume it (it seeks back, or peeks when stdin is a pipe).
    """
    if path != "-":
        by_name = _format_from_name(path)
        if by_name is not None:
            return by_name
        with open(path, "rb", buffering=0) as raw:
            source = _ByteSource(raw, _CHUNK_SIZE)
            source.start(strip_utf8_bom=True)
            return _format_from_byte(source.first_non_space())
    stream = _stdin_buffer()
    head = b""
    if stream.seekable():
        where = stream.tell()
        head = stream.read(_CHUNK_SIZE)
        stream.seek(where)
    elif hasattr(stream, "peek"):
        head = stream.peek(_CHUNK_SIZE)
    source = _ByteSource(io.BytesIO(head), _CHUNK_SIZE)
    source.start(strip_utf8_bom=True)
    return _format_from_byte(source.first_non_space())


# ------------------------------------------------------------------------------------------- byte source


def _stdin_buffer() -> IO[bytes]:
    stdin = sys.stdin
    if stdin is None:
        raise OSError("stdin is not available")
    buffer: IO[bytes] = stdin.buffer
    return buffer


@contextmanager
def _open_raw(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield _stdin_buffer()  # not ours to close
    else:
        with open(path, "rb", buffering=0) as raw:
            yield raw


class _ByteSource:
    """The (decompressed) bytes of one input, chunk by chunk, with push-back for sniffing.

    gzip is recognised by its magic bytes and decompressed with :mod:`zlib` in bounded steps
    (multi-member files and zero padding are handled like :mod:`gzip` does). Damaged gzip data never
    raises: the stream simply ends and :attr:`problem` says why.
    """

    def __init__(self, raw: IO[bytes], chunk_size: int) -> None:
        # read1 returns what a pipe has instead of waiting for a full chunk
        self._read: Callable[[int], bytes | None] = getattr(raw, "read1", raw.read)
        self._chunk = max(1, chunk_size)
        self._pushback: list[bytes] = []
        self._raw_read = 0
        self._in = b""  # compressed bytes not yet given to the decompressor
        self._decompressor: Any = None
        self._done = False
        self._stopped = False  # the gzip stream ended, cleanly or not
        self.skipped = 0  # bytes dropped at the start (a BOM)
        self.problem: str | None = None
        head = b""
        while len(head) < 2:
            more = self._read_raw()
            if not more:
                break
            head += more
        self.compressed = head.startswith(_GZIP_MAGIC)
        if self.compressed:
            self._in = head
            self._decompressor = zlib.decompressobj(wbits=31)
        elif head:
            self._pushback.append(head)

    def _read_raw(self) -> bytes:
        data = self._read(self._chunk) or b""
        self._raw_read += len(data)
        return data

    def units(self, offset: int) -> int:
        """Progress units (see module doc) once the reader consumed ``offset`` decompressed bytes."""
        if self.compressed:
            return self._raw_read - len(self._in)
        return offset + self.skipped

    def read(self) -> bytes:
        """The next chunk; ``b""`` at the end."""
        if self._pushback:
            return self._pushback.pop()
        if self._done:
            return b""
        data = self._read_gzip() if self.compressed else self._read_raw()
        if not data:
            self._done = True
        return data

    def _salvage(self, decompressor: Any, data: bytes) -> bytes:
        pieces: list[bytes] = []
        size = 0
        for k in range(len(data)):
            try:
                piece: bytes = decompressor.decompress(data[k : k + 1], self._chunk - size)
            except zlib.error:
                break
            pieces.append(piece)
            size += len(piece)
            if size >= self._chunk:  # as much as the failing call could have returned
                break
        self._in = b""
        return b"".join(pieces)

    def _read_gzip(self) -> bytes:
        while not self._stopped:
            if self._decompressor is None:  # between members: more members, zero padding, or the end
                self._in = self._in.lstrip(b"\x00")
                if len(self._in) < 2:
                    more = self._read_raw()
                    if more:
                        self._in += more
                        continue
                    if self._in:
                        self.problem = "unexpected data after the end of the gzip stream"
                    self._stopped = True
                    return b""
                if not self._in.startswith(_GZIP_MAGIC):
                    self.problem = "unexpected data after the end of the gzip stream"
                    self._stopped = True
                    return b""
                self._decompressor = zlib.decompressobj(wbits=31)
            if not self._in:
                self._in = self._read_raw()
                if not self._in:  # no more input: drain what the decompressor still holds
                    rest: bytes = self._decompressor.flush()
                    if not self._decompressor.eof:
                        self.problem = "the gzip stream is truncated"
                        self._stopped = True
                        return rest
                    self._in = self._decompressor.unused_data
                    self._decompressor = None
                    if rest:
                        return rest
                    continue
            backup = self._decompressor.copy()
            try:
                out: bytes = self._decompressor.decompress(self._in, self._chunk)
            except zlib.error as exc:
                # zlib drops the output of a failing call: redo it byte by byte to keep what was good
                reason = str(exc).split(": ", 1)[-1]
                self.problem = f"the gzip data is corrupt ({reason})"
                self._stopped = True
                return self._salvage(backup, self._in)
            if self._decompressor.eof:
                self._in = self._decompressor.unused_data
                self._decompressor = None
            else:
                self._in = self._decompressor.unconsumed_tail
            if out:
                return out
        return b""

    def start(self, *, strip_utf8_bom: bool) -> bytes:
        """Look at the first bytes (returned), dropping a UTF-8 byte-order mark if asked."""
        head = b""
        while len(head) < 4:
            more = self.read()
            if not more:
                break
            head += more
        if strip_utf8_bom and head.startswith(_UTF8_BOM):
            head = head[len(_UTF8_BOM) :]
            self.skipped = len(_UTF8_BOM)
        if head:
            self._pushback.append(head)
        return head[:4]

    def unread(self, chunks: list[bytes]) -> None:
        """Give back chunks just read (in the order they were read): the next reads return them again."""
        self._pushback.extend(reversed(chunks))

    def first_non_space(self) -> int | None:
        """The first byte that is not JSON whitespace, without consuming anything."""
        seen: list[bytes] = []
        found: int | None = None
        while True:
            chunk = self.read()
            if not chunk:
                break
            seen.append(chunk)
            match = _NON_WS.search(chunk)
            if match is not None:
                found = chunk[match.start()]
                break
        self.unread(seen)
        return found

    def object_per_line(self, limit: int) -> bool:
        """Whether the input (which starts with ``{``) holds one JSON value per line: another non-blank line
        follows its first non-blank line, and either that first line is a whole value on its own (every
        bracket and string it opens closed on it, whether or not it is valid JSON) or the next line starts
        with ``{`` as well (the first record is broken; a pretty-printed object's second line starts with a
        key). Nothing is consumed; what is read to tell is that first line and the white space after it.

        No more than ``limit`` bytes (and one read) are looked at: a first line longer than that is taken
        for JSON Lines (its record is too large either way, and the lines after it are read as records,
        not lost as data after one object); a first line followed by more white space than that is taken
        for JSON Lines when it is whole."""
        seen: list[bytes] = []
        buffer = bytearray()
        first: int | None = None  # where the first non-blank line starts
        searched = 0  # how far the end of that line has been looked for
        newline = -1
        while True:
            chunk = self.read()
            if not chunk:
                break
            seen.append(chunk)
            buffer += chunk
            if first is None:
                match = _NON_WS.search(buffer)
                if match is None:
                    continue
                first = searched = match.start()
            if newline < 0:
                newline = buffer.find(b"\n", searched)
                if newline < 0:
                    searched = len(buffer)
                    if searched - first > limit:
                        self.unread(seen)
                        return True
                    continue
            after = _NON_WS.search(buffer, newline + 1)
            if after is None:
                if len(buffer) - newline > limit:
                    self.unread(seen)
                    return not _unclosed(bytes(buffer[first:newline]))
                continue
            self.unread(seen)
            whole = not _unclosed(bytes(buffer[first:newline]))
            return whole or buffer[after.start()] == _LBRACE
        self.unread(seen)
        return False  # one line, or none: one object


class _LongLine(NamedTuple):
    """A part of a physical line longer than the record size limit: such a line is handed on in parts
    (the first one of about the limit, then one per read), never whole."""

    data: bytes
    ends: bool
    """Whether the line ends with this part (which then ends with its line break, if the line has one)."""


_LINE_BREAK = re.compile(rb"\r\n?|\n")


def _physical_lines(source: _ByteSource, limit: int) -> Iterator[bytes | _LongLine]:
    """Lines with their terminators, split at ``\\r\\n``, ``\\n`` or a lone ``\\r`` (as ``newline=""``).

    A line longer than ``limit`` comes as :class:`_LongLine` parts, so that no more than about the limit
    and one read is held whatever the input (a file without line breaks, or with ``\\r`` ones only: an
    old Mac export is one ``\\n``-line, read as its lines all the same)."""
    pending = bytearray()  # the start of the line being read: no line break in it
    long = False  # the line being read is longer than the limit: what was read of it was handed on
    carry = b""  # a '\r' that ended a read: a '\n' may follow it in the next one
    while True:
        chunk = source.read()
        if chunk:
            if carry:
                chunk, carry = carry + chunk, b""
            if chunk.endswith(b"\r"):  # so that a '\r' in a read is followed by the byte that tells
                chunk, carry = chunk[:-1], b"\r"
                if not chunk:
                    continue
        elif carry:  # the input's last byte
            chunk, carry = carry, b""
        else:
            break
        if long:
            found = _LINE_BREAK.search(chunk)
            if found is None:
                yield _LongLine(chunk, False)
                continue
            yield _LongLine(chunk[: found.end()], True)
            long = False
            chunk = chunk[found.end() :]
        parts = chunk.split(b"\n")
        if len(parts) == 1:
            pending += chunk
            if len(pending) > limit:
                if b"\r" in pending:  # lines that end in a lone '\r'
                    pieces = pending.split(b"\r")
                    for piece in pieces[:-1]:
                        yield bytes(piece) + b"\r"
                    pending = pieces[-1]
                if len(pending) > limit:
                    yield _LongLine(bytes(pending), False)
                    pending = bytearray()
                    long = True
            continue
        if pending:
            pending += parts[0]
            parts[0] = bytes(pending)
        last = parts.pop()
        for body in parts:
            if body.endswith(b"\r"):
                body, end = body[:-1], b"\r\n"
            else:
                end = b"\n"
            if b"\r" in body:
                lines = body.split(b"\r")
                for line in lines[:-1]:
                    yield line + b"\r"
                body = lines[-1]
            yield body + end
        pending = bytearray(last)
    if long:
        yield _LongLine(b"", True)
    if pending:  # the last line, without a line break
        rest = pending.split(b"\r")
        for piece in rest[:-1]:
            yield bytes(piece) + b"\r"
        if rest[-1]:
            yield bytes(rest[-1])


# -------------------------------------------------------------------------------------------- encoding


def _foreign_encoding(head: bytes, codec: str) -> str | None:
    """Why an input that starts with ``head`` cannot be read as ``codec`` at all, or None: it is UTF-16 with
    a byte-order mark, or UTF-16 or UTF-32 without one (see :func:`_wide_encoding`)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (
            f"the input starts with a UTF-16 byte-order mark ({head[0]:02x} {head[1]:02x}) but is read "
            f"as {_label(codec)}; convert it first, e.g. iconv -f UTF-16 -t UTF-8"
        )
    wide = _wide_encoding(head)
    if wide is not None:
        return (
            f"the input looks like {wide} text without a byte-order mark (zero bytes between its characters) "
            f"but is read as {_label(codec)}; convert it first, e.g. iconv -f {wide} -t UTF-8"
        )
    return None


def _wide_encoding(head: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding the first four bytes of an input are in, as JSON's encoding detection
    (RFC 4627) tells it: text that starts with two ASCII characters never has a zero byte among its first
    two bytes in UTF-8 or a single-byte encoding. SQL Server's ``bcp -w`` writes UTF-16 without a mark."""
    if len(head) < 4 or (head[0] and head[1]):
        return None
    if not head[0]:
        return "UTF-32BE" if not head[1] else "UTF-16BE"
    return "UTF-32LE" if not head[2] and not head[3] else "UTF-16LE"


@functools.lru_cache(maxsize=None)
def _codec(encoding: str) -> str:
    """Normalised codec name; only encodings in which bytes < 0x80 always mean ASCII are accepted,
    because lines, quotes, brackets and delimiters are found in the raw bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r}") from None
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8"
    ascii_bytes = bytes(range(128))
    try:
        ok = ascii_bytes.decode(name) == ascii_bytes.decode("ascii") and all(
            bytes([high, low]).decode(name, "replace").endswith(chr(low))
            for high in range(128, 256)
            for low in b'\n\r",;\t[]{}\\'
        )
    except (LookupError, TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"text encoding {encoding!r} is not supported: use UTF-8 or a single-byte ASCII-compatible "
            "encoding such as latin-1 or cp1252 (convert UTF-16 files to UTF-8 first)"
        )
    return name


def _label(codec: str) -> str:
    return "UTF-8" if codec == "utf-8" else codec


def _column(raw: bytes, start: int, codec: str) -> int:
    """1-based character column of byte ``start`` in ``raw`` (which begins at a line start)."""
    return len(raw[:start].decode(codec, "replace")) + 1


# ---------------------------------------------------------------------------------------- JSON records


def _describe(value: object) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, (int, float)):
        return "a JSON number"
    return "JSON null"


def _json_record(
    raw: bytes, position: SourcePosition, size: int, codec: str, *, first_col: int, multiline: bool
) -> RawRecord:
    """Parse one JSONL line or JSON array element (``raw`` starts at column ``first_col`` of its line)."""

    def where(line_offset: int, col: int) -> str:
        return f"at line {position.line + line_offset} column {col}" if multiline else f"at column {col}"

    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = _column(raw[line_start:], exc.start - line_start, codec)
        if line_start == 0:
            col += first_col - 1
        location = where(raw.count(b"\n", 0, exc.start), col)
        message = f"invalid {_label(codec)} byte 0x{raw[exc.start]:02x} {location}"
        return _bad(position, "SR303", message, size, _replaced_reading(raw, codec))
    if text.startswith("\ufeff"):  # a BOM left over from concatenated files
        text = text[1:]
    if _too_deep(text):
        return _bad(position, "SR301", f"malformed JSON: nested more than {MAX_NESTING} levels deep", size)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        col = exc.colno + first_col - 1 if exc.lineno == 1 else exc.colno
        why = ""
        gap = text[: exc.pos]
        if exc.msg == "Extra data" and "\r" in gap[len(gap.rstrip(" \t\r")) :]:
            why = " (after a carriage return: lines that end in CR alone are not JSON Lines; end them with LF or CRLF)"
        return _bad(position, "SR301", f"malformed JSON: {exc.msg} {where(exc.lineno - 1, col)}{why}", size)
    except (ValueError, RecursionError) as exc:  # e.g. an integer with too many digits, deep nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return _bad(position, "SR301", f"malformed JSON: {reason}", size)
    if not isinstance(value, dict):
        return _bad(position, "SR302", f"record is {_describe(value)}, expected an object", size)
    if _SURROGATE_ESCAPE.search(text) is not None and _holds_surrogate(value):
        # JSON's grammar allows the escape and json.loads decodes it, but no output could encode the result
        lone = _LONE_SURROGATE.search(text)
        index = lone.start() if lone is not None else 0
        line_offset = text.count("\n", 0, index)
        col = index - text.rfind("\n", 0, index)  # 1-based, in characters, as json's own messages count
        if line_offset == 0:
            col += first_col - 1
        return _bad(position, "SR301", f"malformed JSON: unpaired surrogate escape {where(line_offset, col)}", size)
    return _good(position, value, size)


def _replaced_reading(raw: bytes, codec: str) -> tuple[dict[str, Any], ...]:
    """The record with its undecodable bytes replaced by U+FFFD, when it is a JSON object then. Replacing
    keeps every ASCII byte (quotes, brackets, commas), so the structure is the record's own."""
    text = raw.decode(codec, "replace").removeprefix("\ufeff")
    if _too_deep(text):
        return ()
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    return (value,) if isinstance(value, dict) else ()


def _csv_readings(header: list[str], fields: list[str]) -> tuple[dict[str, Any], ...]:
    """A CSV row's readings (see :attr:`RawRecord.readings`)."""
    if len(fields) == len(header):
        return (dict(zip(header, fields)),)
    return dict(zip(header, fields)), dict(zip(reversed(header), reversed(fields)))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# a high surrogate escape not followed by a low one, or a low one not preceded by a high one
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _holds_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value has a string (or key) with an unpaired surrogate. Without recursion: a
    record may nest :data:`MAX_NESTING` levels deep, more than the stack allows calls."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


#: How deep the arrays and objects of a JSON record may nest, the record itself included. Deeper ones are
#: rejected (SR301) before they are parsed: whether ``json.loads`` could parse them depends on how much of
#: the Python stack is in use where it runs (in this process under ``--jobs 1``, in a worker otherwise), and
#: a record must be read alike everywhere.
MAX_NESTING = 500

_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _too_deep(text: str) -> bool:
    """Whether the arrays and objects of the JSON ``text`` nest more than :data:`MAX_NESTING` levels deep
    (brackets in strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:  # the usual case, in C
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        c = match.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif c == "]" or c == "}":
            depth -= 1
    return False


def _unclosed(raw: bytes) -> bool:
    """Whether ``raw`` stops inside a string or with a bracket or brace still open."""
    depth = 0
    i = 0
    while True:
        match = _STRUCTURAL.search(raw, i)
        if match is None:
            return depth > 0
        c = raw[match.start()]
        i = match.end()
        if c == _QUOTE:
            while True:
                stop = _STRING_STOP.search(raw, i)
                if stop is None:
                    return True
                if raw[stop.start()] == _BACKSLASH:
                    i = stop.start() + 2
                    if i > len(raw):
                        return True
                    continue
                i = stop.end()
                break
        elif c in (_LBRACKET, _LBRACE):
            depth += 1
        elif c in (_RBRACKET, _RBRACE):
            depth -= 1


def _ends_early(problem: str | None, what: str = "file ends in the middle of a record") -> str:
    return f"{what}: {problem}" if problem else what


# --------------------------------------------------------------------------------------------- JSON Lines


class JsonLine(NamedTuple):
    """One non-blank line of a :class:`JsonLines` block."""

    raw: bytes
    """The line without its ``\\n``."""
    line: int
    """1-based line number in the file."""
    start: int
    """Offset of the line's first byte in the block's ``data``."""
    end: int
    """Offset just after the line's ``\\n`` (or the end of ``data``)."""
    terminated: bool


@dataclass(frozen=True, slots=True)
class JsonLines:
    """Consecutive lines of a JSON Lines input, split but not parsed.

    The batch runner ships these to worker processes as they are, so that the reading process only
    splits lines; :func:`jsonl_record` turns each line into a :class:`RawRecord`, wherever that happens,
    exactly as :func:`read_records` does. Every block but the input's last ends with a ``\\n``, and only
    the last can have a :attr:`problem`.
    """

    file: str
    """The input's name in positions."""
    first_line: int
    lines: int
    """Lines in ``data`` (blank ones included; an unterminated last line counts)."""
    data: bytes
    codec: str
    start: int
    """Offset of ``data`` in the (decompressed) input, after a skipped byte-order mark."""
    units: int
    """Progress units (see :attr:`RawRecord.size`) once this block was read."""
    compressed: bool
    skipped: int
    """Bytes skipped at the start of the input (a byte-order mark)."""
    problem: str | None = None
    """Why the input ended early (a damaged gzip stream); only in the last block."""
    too_large: int = 0
    """For a block of one line longer than :attr:`limit`: the line's length in bytes, without its line
    feed; 0 for other blocks. The line was skipped, not held: ``data`` is its line feed, or empty when it
    has none (the input's last line), so offsets in the block (:attr:`JsonLine.end`) are past ``data``.
    Such a line is a record (``SR306``) whatever it holds, white space too."""
    limit: int = MAX_RECORD_BYTES
    """The record size limit the block was read with (for :attr:`too_large`'s message)."""

    def lines_with_records(self) -> Iterator[JsonLine]:
        """The non-blank lines, in order (blank lines are not records)."""
        if self.too_large:
            yield JsonLine(b"", self.first_line, 0, self.too_large + len(self.data), bool(self.data))
            return
        data = self.data
        pos = 0
        number = self.first_line
        for raw in data.split(b"\n"):
            end = pos + len(raw) + 1
            if raw.strip(_JSON_WS):
                terminated = end <= len(data)
                yield JsonLine(raw, number, pos, end if terminated else len(data), terminated)
            pos = end
            number += 1

    def units_at(self, offset: int) -> int:
        """Progress units once the reader consumed ``data[:offset]``: for plain input the file offset."""
        if self.compressed:
            return self.units
        return self.start + offset + self.skipped

    def direct_json(self, line: JsonLine) -> bool:
        """Whether the line's bytes may be validated as JSON text directly (UTF-8 input, not cut off by a
        damaged input). When that fails, :func:`jsonl_record` says why, exactly as :func:`read_records`."""
        return self.codec == "utf-8" and (line.terminated or self.problem is None) and not self.too_large

    def end_problem(self) -> SourcePosition | None:
        """Where :attr:`problem` is reported when it is no line's (the input does not end inside a
        record): after the last line, or on an unterminated blank last line."""
        if self.problem is None or (self.too_large and not self.data):
            return None  # (a cut-off line too large is rejected with it)
        tail = self.data[self.data.rfind(b"\n") + 1 :]
        if tail.strip(_JSON_WS):
            return None  # the cut-off last line is rejected with it
        line_no = self.first_line - 1 + self.lines
        return SourcePosition(self.file, line_no + 1 if not tail else max(line_no, 1), None)


def jsonl_record(block: JsonLines, line: JsonLine, row: int, size: int = 0) -> RawRecord:
    """The record of one non-blank line of ``block`` (``row``: its record number in the file)."""
    position = SourcePosition(block.file, line.line, row)
    if not line.terminated and block.problem is not None:
        # the last line of a damaged gzip stream may be cut anywhere: never trust it as data
        return _bad(position, "SR304", _ends_early(block.problem), size)
    if block.too_large:
        return _bad(position, "SR306", _too_large(block.too_large, block.limit), size)
    record = _json_record(line.raw, position, size, block.codec, first_col=1, multiline=False)
    if record.code == "SR301" and not line.terminated and _unclosed(line.raw):
        message = "file ends in the middle of a record (the last line is not a complete JSON object)"
        return _bad(position, "SR304", message, size)
    return record


def _jsonl_blocks(
    source: _ByteSource, name: str, codec: str, max_lines: int | None, limit: int
) -> Iterator[JsonLines]:
    """The input's lines in blocks of ``max_lines`` lines (the last block may have fewer), or (``None``)
    of the complete lines each read brings. Blocks are cut at line ends only, with ``bytes.count`` and
    ``bytes.find``: no per-line work.

    A line longer than ``limit`` is not held. Reads are no longer than the limit (see :func:`_read`), so
    only the line a read continues can be that long, and one ``bytes.find`` per read that could make it so
    tells. The complete lines before it become a block (of fewer lines), its bytes are skipped up to its
    line feed, counted but not kept, and it is a block of its own (:attr:`JsonLines.too_large`)."""
    pieces: list[bytes] = []  # read, not yet in a block
    newlines = 0  # in pieces
    tail = 0  # bytes in pieces after their last line feed: the line being read, so far
    start = 0  # input offset of pieces[0]
    line = 1  # line number of pieces[0]

    def block(data: bytes, lines: int, problem: str | None = None, too_large: int = 0) -> JsonLines:
        nonlocal start, line
        end = start + too_large + len(data)
        made = JsonLines(
            name, line, lines, data, codec, start, source.units(end),
            source.compressed, source.skipped, problem, too_large, limit,
        )
        start = end
        line += lines
        return made

    while chunk := source.read():
        if len(chunk) > limit:  # a first read that sniffing made longer (limits of a few bytes only)
            source.unread([chunk[limit:]])
            chunk = chunk[:limit]
        if tail + len(chunk) > limit:  # the line being read may be longer than the limit
            end = chunk.find(b"\n")
            if end < 0 or tail + end > limit:
                if newlines:  # the complete lines before it
                    data = b"".join(pieces)
                    yield block(data[: len(data) - tail], newlines)
                pieces, newlines = [], 0
                length = tail
                while end < 0:
                    length += len(chunk)
                    chunk = source.read()
                    if not chunk:  # the input's last line
                        yield block(b"", 1, source.problem, length)
                        return
                    end = chunk.find(b"\n")
                yield block(b"\n", 1, None, length + end)
                chunk = chunk[end + 1 :]
                tail = 0
                if not chunk:
                    continue
        last = chunk.rfind(b"\n")
        tail = tail + len(chunk) if last < 0 else len(chunk) - last - 1
        if max_lines is None:
            if last >= 0:
                cut = last + 1
                pieces.append(chunk[:cut] if cut < len(chunk) else chunk)
                yield block(b"".join(pieces), newlines + chunk.count(b"\n", 0, cut))
                pieces, newlines = [], 0
                chunk = chunk[cut:]
        else:
            found = chunk.count(b"\n")
            while newlines + found >= max_lines:
                cut = -1
                for _ in range(max_lines - newlines):
                    cut = chunk.index(b"\n", cut + 1)
                cut += 1
                pieces.append(chunk[:cut])
                yield block(b"".join(pieces), max_lines)
                found -= max_lines - newlines
                pieces, newlines = [], 0
                chunk = chunk[cut:]
            newlines += found
        if chunk:
            pieces.append(chunk)
    data = b"".join(pieces)
    if data or source.problem is not None:
        yield block(data, newlines + (not data.endswith(b"\n") and bool(data)), source.problem)


def _read_jsonl(source: _ByteSource, name: str, codec: str, limit: int) -> Iterator[RawRecord]:
    row = 0
    last_units = 0
    for block in _jsonl_blocks(source, name, codec, None, limit):
        for line in block.lines_with_records():
            row += 1
            units = block.units_at(line.end)
            size, last_units = units - last_units, units
            yield jsonl_record(block, line, row, size)
        where = block.end_problem()
        if where is not None:
            assert block.problem is not None
            yield _bad(where, "SR304", block.problem, block.units_at(len(block.data)) - last_units)


_BEFORE, _EXPECT_FIRST, _EXPECT_NEXT, _IN_ELEMENT, _AFTER_ELEMENT, _AFTER_ARRAY = range(6)


def _show_byte(c: int) -> str:
    return repr(chr(c)) if 0x20 < c < 0x7F else f"byte 0x{c:02x}"


def _read_json_array(
    source: _ByteSource, name: str, codec: str, limit: int, *, one_object: bool = False
) -> Iterator[RawRecord]:
    """Stream the elements of a top-level JSON array, or (``one_object``) read a document that is one
    JSON object as one record.

    A scanner walks the bytes tracking string/escape state and bracket depth, cuts out each top-level
    element with the line (and column) of its first byte, and hands it to :func:`json.loads`. Malformed
    elements are reported and scanning resumes at the next top-level ``,``. A lone object is cut out the
    same way, so what is held is the record, as for an array element: anything but white space after
    it makes the document malformed (one SR301 for the record), and the rest is not read.

    An element longer than ``limit`` is not held: once more than ``limit`` of its bytes are in the buffer
    and it has not ended, the scanner goes on with the same state (string, depth) but drops what it has
    passed, so that it finds the element's end without keeping the element; it is rejected (SR306) there.
    """
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    i = 0  # scan position in buf
    line = 1  # line number at position i
    line_start = 0  # stream offset where that line starts
    eof = False
    state = _BEFORE
    depth = 0
    in_string = False
    start = 0  # element start in buf
    start_line = start_col = 0
    row = 0
    last_units = 0
    document: RawRecord | None = None  # one_object: the object's record, once it ended
    document_end_line = 0  # one_object: the line where it ended
    gap_has_cr = False  # one_object: a carriage return in the white space after the object

    def advance(to: int) -> None:
        nonlocal i, line, line_start
        newlines = buf.count(b"\n", i, to)
        if newlines:
            line += newlines
            line_start = base + buf.rfind(b"\n", i, to) + 1
        i = to

    def take_size(end: int) -> int:
        nonlocal last_units
        units = source.units(base + end)
        size, last_units = units - last_units, units
        return size

    def here() -> SourcePosition:
        return SourcePosition(name, line, None)

    while True:
        if state == _IN_ELEMENT:
            if in_string:  # a string that did not end within the buffer when it was reached
                rest = _STRING_REST.match(buf, i)
                assert rest is not None  # the pattern matches the empty string
                advance(rest.end())  # stops at the closing quote, the end, or a backslash ending the buffer
                if i < len(buf) and buf[i] == _QUOTE:
                    i += 1
                    in_string = False
                    continue
            else:
                skipped = (_SKIP_NESTED if depth else _SKIP_TOP).match(buf, i)
                assert skipped is not None  # the patterns match the empty string
                advance(skipped.end())
                if i < len(buf):
                    c = buf[i]
                    if c == _QUOTE:
                        in_string = True
                        i += 1
                        continue
                    if c == _LBRACKET or c == _LBRACE:
                        depth += 1
                        i += 1
                        continue
                    if depth > 0:
                        i += 1
                        if c == _COMMA:
                            continue
                        depth -= 1  # a closer (mismatched ones close too: the parse reports them)
                        if depth:
                            continue
                    elif c == _RBRACE:
                        i += 1  # stray '}' outside any container: part of this (malformed) element
                        continue
                    # the element ends here: its last closer, or a top-level ',' or ']' after a scalar
                    position = SourcePosition(name, start_line, row)
                    if i - start > limit:  # (start < 0 once its first bytes were dropped)
                        record = _bad(position, "SR306", _too_large(i - start, limit), take_size(i))
                    else:
                        record = _json_record(
                            bytes(buf[start:i]), position, take_size(i), codec, first_col=start_col, multiline=True
                        )
                    if one_object:  # held until the rest of the document is known to be white space
                        document, document_end_line, state = record, line, _AFTER_ARRAY
                        continue
                    yield record
                    state = _AFTER_ELEMENT
                    continue
        else:
            match = _NON_WS.search(buf, i)
            if document is not None and b"\r" in buf[i : len(buf) if match is None else match.start()]:
                gap_has_cr = True
            if match is None:
                advance(len(buf))
            else:
                advance(match.start())
                c = buf[i]
                if state == _BEFORE and one_object and c == _LBRACE:
                    state = _IN_ELEMENT
                    start, start_line, start_col = i, line, base + i - line_start + 1
                    row = 1
                elif state == _BEFORE:
                    if c != _LBRACKET:
                        message = (
                            f"top-level JSON value is not an array or an object (it starts with {_show_byte(c)}), "
                            "expected an array of records, one record, or one record per line"
                        )
                        yield _bad(here(), "SR301", message, take_size(len(buf)))
                        return
                    i += 1
                    state = _EXPECT_FIRST
                elif state == _AFTER_ARRAY and document is not None:
                    col = base + i - line_start + 1
                    size = document.size + take_size(len(buf))
                    if not document.ok:  # its own problem comes first
                        yield dataclasses.replace(document, size=size)
                        return
                    why = ""
                    if gap_has_cr and line == document_end_line:
                        why = " (after a carriage return: lines that end in CR alone are not JSON Lines; end them with LF or CRLF)"
                    elif c == _LBRACE or c == _LBRACKET:
                        why = (
                            "; JSON values one after another, as jq prints them, are neither one record nor one "
                            "record per line: write one record per line (jq -c) or an array of records (jq -s)"
                        )
                    message = (
                        f"malformed JSON: unexpected {_show_byte(c)} at line {line} column {col} after the end of "
                        f"the JSON object that starts at line {start_line}{why}"
                    )
                    yield _bad(document.position, "SR301", message, size)
                    return
                elif state == _AFTER_ARRAY:
                    message = f"unexpected {_show_byte(c)} after the end of the top-level JSON array"
                    yield _bad(here(), "SR301", message, take_size(len(buf)))
                    return
                elif state == _AFTER_ELEMENT:
                    if c == _COMMA:
                        i += 1
                        state = _EXPECT_NEXT
                    elif c == _RBRACKET:
                        i += 1
                        state = _AFTER_ARRAY
                    else:  # report, then read it as the next element
                        message = f"malformed JSON: expected ',' or ']' between array elements, found {_show_byte(c)}"
                        yield _bad(here(), "SR301", message, 0)
                        state = _EXPECT_NEXT
                elif c == _RBRACKET:
                    if state == _EXPECT_NEXT:
                        yield _bad(here(), "SR301", "malformed JSON: trailing ',' before the closing ']'", 0)
                    i += 1
                    state = _AFTER_ARRAY
                elif c == _COMMA:
                    yield _bad(here(), "SR301", "malformed JSON: empty array element (',' without a value)", 0)
                    i += 1
                    state = _EXPECT_NEXT
                else:
                    state = _IN_ELEMENT
                    start, start_line, start_col = i, line, base + i - line_start + 1
                    depth = 0
                    in_string = False
                    row += 1
                continue
        # need more input
        if eof:
            break
        keep = start if state == _IN_ELEMENT and len(buf) - start <= limit else i  # (an element too large: not held)
        if keep:
            del buf[:keep]
            base += keep
            i -= keep
            start -= keep
        chunk = source.read()
        if chunk:
            buf += chunk
        else:
            eof = True

    problem = source.problem
    if document is not None:
        yield document
    if state == _IN_ELEMENT:
        position = SourcePosition(name, start_line, row)
        yield _bad(position, "SR304", _ends_early(problem), take_size(len(buf)))
    elif state in (_EXPECT_FIRST, _EXPECT_NEXT, _AFTER_ELEMENT):
        message = _ends_early(problem, "file ends before the closing ']' of the top-level JSON array")
        yield _bad(here(), "SR304", message, take_size(len(buf)))
    elif problem is not None:
        yield _bad(here(), "SR304", problem, take_size(len(buf)))


# ------------------------------------------------------------------------------------------------- CSV


class _RowTooLarge(Exception):
    """Raised by :class:`_CsvFeed` to stop :func:`csv.reader` in a row longer than the record size limit
    (the reader starts the next row afresh)."""


def _break_length(raw: bytes) -> int:
    return 2 if raw.endswith(b"\r\n") else 1 if raw.endswith((b"\n", b"\r")) else 0


class _CsvFeed:
    """Feeds decoded physical lines to :func:`csv.reader` and remembers what it handed out.

    It never hands out more than ``limit`` bytes for one row (line breaks included but the last): the line
    that would make the row longer, or a part of a line longer than the limit, is kept as :attr:`over`,
    :class:`_RowTooLarge` stops the reader, and :meth:`skip_row` reads on past the row without holding it."""

    def __init__(self, lines: Iterator[bytes | _LongLine], codec: str, limit: int) -> None:
        self._lines = lines
        self._codec = codec
        self._limit = limit
        self._pushback: list[bytes | _LongLine] = []
        self.line_no = 0  # physical lines handed out (or skipped)
        self.offset = 0  # bytes handed out (or skipped)
        self.hit_eof = False
        self.last_terminated = True
        self.bad: tuple[int, int, int] | None = None  # (line, byte, column) of the first undecodable byte
        self.row_lines: list[str] = []  # the lines handed out since the row began (see _CsvRowEnd)
        self.row_bytes = 0  # the bytes of those lines
        self.over: bytes | _LongLine | None = None  # what would have made the row too large, not handed out
        self.last_break = 0  # the length of the line break of the last line skipped

    def __iter__(self) -> _CsvFeed:
        return self

    def begin_row(self) -> None:
        self.bad = None
        self.row_lines.clear()
        self.row_bytes = 0

    def _next_raw(self) -> bytes | _LongLine:
        if self._pushback:
            return self._pushback.pop()
        try:
            return next(self._lines)
        except StopIteration:
            self.hit_eof = True
            raise

    def __next__(self) -> str:
        raw = self._next_raw()
        if not isinstance(raw, bytes) or (
            self.row_bytes + len(raw) > self._limit and self.row_bytes + len(raw) - _break_length(raw) > self._limit
        ):
            self.over = raw
            raise _RowTooLarge
        self.row_bytes += len(raw)
        self.line_no += 1
        self.offset += len(raw)
        self.last_terminated = raw.endswith((b"\n", b"\r"))
        try:
            text = raw.decode(self._codec)
        except UnicodeDecodeError as exc:
            if self.bad is None:
                self.bad = (self.line_no, raw[exc.start], _column(raw, exc.start, self._codec))
            text = raw.decode(self._codec, "replace")
        self.row_lines.append(text)
        return text

    def skip_row(self, state: int, row_end: _CsvRowEnd) -> int:
        """Read on past the rest of a row that the reader gave up on, where the parser would have: from
        ``state``, its state after the lines handed out (:attr:`row_lines`), through :attr:`over`, to the
        end of the row, counting lines and bytes but holding none. Returns the state there:
        ``_CSV_START_RECORD`` unless the input ended inside the row."""
        raw, self.over = self.over, None
        if raw is None and state == _CSV_START_RECORD:
            return state
        while True:
            if raw is None:
                try:
                    raw = self._next_raw()
                except StopIteration:
                    return state
            data, ends = (raw, True) if isinstance(raw, bytes) else raw
            raw = None
            self.offset += len(data)
            state = row_end.after(state, data.decode(self._codec, "replace"), line_end=ends)
            if ends:
                self.line_no += 1
                self.last_break = _break_length(data)
                self.last_terminated = self.last_break > 0
                if state == _CSV_START_RECORD:
                    return state

    def peek(self, max_bytes: int) -> bytes:
        """The first lines, from the first non-blank one, up to about ``max_bytes`` (at least that whole
        line, unless it is longer than the record size limit), without consuming them."""
        taken: list[bytes | _LongLine] = []
        size = 0
        for raw in self._lines:
            taken.append(raw)
            if not isinstance(raw, bytes):  # a line too large: what is before it, and its start
                break
            if size or raw.strip():
                size += len(raw)
                if size >= max_bytes:
                    break
        self._pushback.extend(reversed(taken))
        return b"".join(raw if isinstance(raw, bytes) else raw.data[:max_bytes] for raw in taken).lstrip(b"\r\n")


# The states of csv.reader's parser (CPython's Modules/_csv.c) that matter to where a row ends.
(
    _CSV_START_RECORD, _CSV_START_FIELD, _CSV_ESCAPED_CHAR, _CSV_AFTER_ESCAPED_CRNL, _CSV_IN_FIELD,
    _CSV_IN_QUOTED_FIELD, _CSV_ESCAPE_IN_QUOTED_FIELD, _CSV_QUOTE_IN_QUOTED_FIELD, _CSV_EAT_CRNL,
) = range(9)

#: Whether an escaped line break continues the field on the next line (Python 3.11 and newer) or ends the
#: row after the line break (earlier versions).
_ESCAPED_NEWLINE_CONTINUES = len(list(csv.reader(["a\\\n", "b\n"], escapechar="\\"))) == 1


class _CsvRowEnd:
    """Finds the line where a CSV row ends, as :func:`csv.reader` (not strict) parses it.

    When the reader gives up on a row (a field longer than :func:`csv.field_size_limit`, or a
    ``strict`` dialect's complaint), it starts the next row afresh at the next line, which may lie
    inside the failed row's quoted field: the rest of that field would be read as rows of its own (some
    of them good records made of the field's text), and the quoting of every row after it inverted.
    This follows the parser's states over the failed row's lines, and over the lines after it until the
    row ends, so that reading goes on where the reader itself would have gone on. Plain text and quoted
    text are skipped with a regular expression, not character by character.
    """

    def __init__(self, dialect: Any) -> None:
        self._delimiter: str = dialect.delimiter
        self._quote: str | None = dialect.quotechar if dialect.quoting != csv.QUOTE_NONE else None
        self._escape: str | None = dialect.escapechar
        self._doublequote: bool = dialect.doublequote
        self._skip_space: bool = dialect.skipinitialspace
        stops = "".join(c for c in (self._delimiter, self._escape, "\r", "\n") if c)
        self._field_stop = re.compile("[" + re.escape(stops) + "]")
        quoted = "".join(c for c in (self._quote, self._escape) if c)
        self._quoted_stop = re.compile("[" + re.escape(quoted) + "]") if quoted else None

    def after(self, state: int, line: str, *, line_end: bool = True) -> int:
        """The parser's state after ``line`` (with its line break, if any) and the end of the line:
        ``_CSV_START_RECORD`` when the row ends there. Without ``line_end``, ``line`` is a part of a line
        that goes on: the state after it, as the next part starts from."""
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if state == _CSV_IN_FIELD or state == _CSV_AFTER_ESCAPED_CRNL:
                state = _CSV_IN_FIELD
                stop = self._field_stop.search(line, i)
                if stop is None:
                    break
                i = stop.start()
                c = line[i]
                if c == "\r" or c == "\n":
                    state = _CSV_EAT_CRNL
                elif c == self._escape:
                    state = _CSV_ESCAPED_CHAR
                else:
                    state = _CSV_START_FIELD
            elif state == _CSV_IN_QUOTED_FIELD:
                stop = self._quoted_stop.search(line, i) if self._quoted_stop is not None else None
                if stop is None:
                    break
                i = stop.start()
                if line[i] == self._escape:
                    state = _CSV_ESCAPE_IN_QUOTED_FIELD
                else:
                    state = _CSV_QUOTE_IN_QUOTED_FIELD if self._doublequote else _CSV_IN_FIELD
            elif state == _CSV_START_RECORD:
                if c == "\r" or c == "\n":
                    state = _CSV_EAT_CRNL
                else:
                    state = _CSV_START_FIELD
                    continue  # the character starts the first field
            elif state == _CSV_START_FIELD:
                if c == "\r" or c == "\n":
                    state = _CSV_EAT_CRNL
                elif c == self._quote:
                    state = _CSV_IN_QUOTED_FIELD
                elif c == self._escape:
                    state = _CSV_ESCAPED_CHAR
                elif c == self._delimiter or (c == " " and self._skip_space):
                    pass
                else:
                    state = _CSV_IN_FIELD
            elif state == _CSV_ESCAPED_CHAR:
                continues = (c == "\r" or c == "\n") and _ESCAPED_NEWLINE_CONTINUES
                state = _CSV_AFTER_ESCAPED_CRNL if continues else _CSV_IN_FIELD
            elif state == _CSV_ESCAPE_IN_QUOTED_FIELD:
                state = _CSV_IN_QUOTED_FIELD
            elif state == _CSV_QUOTE_IN_QUOTED_FIELD:
                if c == self._quote:
                    state = _CSV_IN_QUOTED_FIELD
                elif c == self._delimiter:
                    state = _CSV_START_FIELD
                elif c == "\r" or c == "\n":
                    state = _CSV_EAT_CRNL
                else:  # what a strict dialect refuses; the parser goes on with an unquoted field
                    state = _CSV_IN_FIELD
            elif c != "\r" and c != "\n":  # _CSV_EAT_CRNL: lines are split at line breaks, so never here
                state = _CSV_IN_FIELD
            i += 1
        if not line_end:
            return state
        # the end of the line
        if state == _CSV_ESCAPED_CHAR:
            return _CSV_IN_FIELD  # the line break is the escaped character; the field goes on
        if state == _CSV_ESCAPE_IN_QUOTED_FIELD:
            return _CSV_IN_QUOTED_FIELD
        if state in (_CSV_IN_QUOTED_FIELD, _CSV_AFTER_ESCAPED_CRNL):
            return state
        return _CSV_START_RECORD


_SNIFF_BYTES = 1 << 16  # how much of a CSV input the delimiter is sniffed from


def _sniff_delimiter(sample: str, quotechar: str | None, *, tab_first: bool = False) -> str:
    """The delimiter (``,``, ``;`` or tab) of a CSV input from its first lines, the header first.

    Candidates are those found in the header, outside quotes. The one that splits the most of the
    following rows into as many fields as the header wins, then (for a ``.tsv`` file) tab, then the one
    found most often in the header, then ``,`` before ``;`` before tab. So a header such as
    ``id;Name, Vorname`` (one of each) is told by its rows (``1;Smith, J`` then ``2;Doe``).
    """
    order = ("\t", ",", ";") if tab_first else (",", ";", "\t")
    rows: list[dict[str, int]] = []
    counts = dict.fromkeys(order, 0)
    quoted = False
    for ch in sample:
        if ch == quotechar:
            quoted = not quoted
        elif quoted:
            continue
        elif ch in counts:
            counts[ch] += 1
        elif ch == "\n" or ch == "\r":
            if any(counts.values()) or not rows:
                rows.append(counts)
            counts = dict.fromkeys(order, 0)
    if not rows:  # the header is all there is (a later row cut off by the sample's end does not count)
        rows.append(counts)
    if not any(rows[0].values()):
        return order[0]
    header, data = rows[0], rows[1:]
    candidates = [d for d in order if header[d]]

    def score(delimiter: str) -> tuple[int, bool, int, int]:
        fitting = sum(row[delimiter] == header[delimiter] for row in data)
        return fitting, tab_first and delimiter == "\t", header[delimiter], -order.index(delimiter)

    return max(candidates, key=score)


def _csv_params(dialect: dict[str, Any] | None) -> dict[str, Any]:
    params = dict(dialect or {})
    unknown = sorted(set(params) - _CSV_KEYS)
    if unknown:
        raise ValueError(f"unknown csv_dialect option(s) {unknown}; allowed: {sorted(_CSV_KEYS)}")
    try:
        csv.reader([], **params)
    except (TypeError, ValueError, csv.Error) as exc:
        raise ValueError(f"invalid csv_dialect {params!r}: {exc}") from None
    return params


def _column_names(header: list[str]) -> list[str]:
    """The header's column names: a blank cell (empty or white space only) names its column
    ``column_<n>``, ``n`` its 1-based position. Spreadsheet exports end every line with empty columns
    (``id;subject;;``), and their data is kept under these names."""
    return [column if column.strip() else f"column_{index}" for index, column in enumerate(header, 1)]


_UNCLOSED_QUOTE = (
    "file ends in the middle of a record: a quoted field opened in this row is never closed (unbalanced quote character?)"
)


def _read_csv(
    source: _ByteSource, name: str, codec: str, dialect: dict[str, Any], limit: int, *, tab_first: bool = False
) -> Iterator[RawRecord]:
    feed = _CsvFeed(_physical_lines(source, limit), codec, limit)
    params = dict(dialect)
    if "delimiter" not in params:
        sample = feed.peek(_SNIFF_BYTES).decode(codec, "replace")
        params["delimiter"] = _sniff_delimiter(sample, params.get("quotechar", '"'), tab_first=tab_first)
    reader = csv.reader(feed, **params)
    label = _label(codec)
    header: list[str] | None = None
    row = 0
    last_units = 0
    reported = False
    row_end: _CsvRowEnd | None = None
    while True:
        start_line = feed.line_no + 1
        start_offset = feed.offset
        eof_before = feed.hit_eof
        feed.begin_row()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except (csv.Error, _RowTooLarge) as exc:
            # read on where the parser would have: past the rest of the row, which may span lines (and be
            # huge: it is not held)
            row_end = row_end or _CsvRowEnd(reader.dialect)
            state = _CSV_START_RECORD
            for line_text in feed.row_lines:
                state = row_end.after(state, line_text)
            feed.row_lines.clear()
            state = feed.skip_row(state, row_end)
            units = source.units(feed.offset)
            size, last_units = units - last_units, units
            spans = f" (the row spans lines {start_line} to {feed.line_no})" if feed.line_no > start_line else ""
            too_large = isinstance(exc, _RowTooLarge)
            length = feed.offset - start_offset - feed.last_break
            if header is None:
                if too_large:
                    message = _too_large(length, limit, "the CSV header") + spans
                else:
                    message = f"malformed CSV header: {exc}{spans}"
                yield _bad(SourcePosition(name, start_line, None), "SR306" if too_large else "SR305", message, size)
                return
            row += 1
            position = SourcePosition(name, start_line, row)
            if state != _CSV_START_RECORD and source.problem is not None:
                reported = True
                yield _bad(position, "SR304", _ends_early(source.problem), size)
            elif state != _CSV_START_RECORD:  # as for a row the parser read to the end (below)
                yield _bad(position, "SR304", _UNCLOSED_QUOTE, size)
            elif too_large and source.problem is not None and not feed.last_terminated:
                reported = True
                yield _bad(position, "SR304", _ends_early(source.problem), size)
            elif too_large:
                yield _bad(position, "SR306", _too_large(length, limit) + spans, size)
            else:
                yield _bad(position, "SR305", f"malformed CSV row: {exc}{spans}", size)
            continue
        if not fields:
            continue  # a blank line
        cut_by_eof = feed.hit_eof and not eof_before  # the row needed lines past the end: an open quote
        truncated = source.problem is not None and not feed.last_terminated
        bad = feed.bad
        bad_message = ""
        if bad is not None:
            bad_line, bad_byte, bad_col = bad
            on_line = f" on line {bad_line}" if bad_line != start_line else ""
            bad_message = f"invalid {label} byte 0x{bad_byte:02x}{on_line} at column {bad_col}"
        if header is None:
            position = SourcePosition(name, start_line, None)
            if truncated or cut_by_eof:
                units = source.units(feed.offset)
                what = "file ends inside the CSV header"
                yield _bad(position, "SR304", _ends_early(source.problem, what), units - last_units)
                return
            if not any(column.strip() for column in fields):
                # a line of delimiters (an empty first row above the real header) names no column at all
                message = "CSV header has no column names (every cell of its line is blank)"
                yield _bad(position, "SR305", message, source.units(feed.offset) - last_units)
                return
            named = _column_names(fields)
            seen: dict[str, int] = {}
            for index, column in enumerate(named):
                if column in seen:
                    blank = [n + 1 for n in (seen[column], index) if not fields[n].strip()]
                    why = f"; column {blank[0]} is blank, so it is named by its position" if blank else ""
                    message = (
                        f"CSV header repeats the column name {column!r} (columns {seen[column] + 1} and "
                        f"{index + 1}{why}), so rows cannot be mapped to columns"
                    )
                    yield _bad(position, "SR305", message, source.units(feed.offset) - last_units)
                    return
                seen[column] = index
            if bad is not None:  # keep going with the damaged names; report it once
                yield _bad(position, "SR303", f"CSV header: {bad_message}", 0)
            header = named
            continue  # the header's bytes count towards the first row's size
        row += 1
        position = SourcePosition(name, start_line, row)
        units = source.units(feed.offset)
        size, last_units = units - last_units, units
        if truncated:
            reported = True
            yield _bad(position, "SR304", _ends_early(source.problem), size)
        elif cut_by_eof:
            yield _bad(position, "SR304", _UNCLOSED_QUOTE, size)
        elif bad is not None:  # the feed decoded the row with replacement characters
            yield _bad(position, "SR303", bad_message, size, _csv_readings(header, fields))
        elif len(fields) != len(header):
            message = f"CSV row has {len(fields)} field{'' if len(fields) == 1 else 's'}, expected {len(header)} (the header's columns)"
            yield _bad(position, "SR305", message, size, _csv_readings(header, fields))
        else:
            yield _good(position, dict(zip(header, fields)), size)
    if source.problem is not None and not reported:
        line = feed.line_no + 1 if feed.last_terminated else max(feed.line_no, 1)
        yield _bad(SourcePosition(name, line, None), "SR304", source.problem, source.units(feed.offset) - last_units)


# ---------------------------------------------------------------------------------------------- entry


def read_records(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    csv_dialect: dict[str, Any] | None = None,
    max_record_bytes: int | None = None,
) -> Iterator[RawRecord]:
    """Stream the records of one input (``-`` is stdin) as :class:`RawRecord` objects, in file order.

    ``format`` is ``"jsonl"``, ``"json"`` or ``"csv"``; by default it comes from the file name, else
    from the content (see :func:`detect_format`). JSON is a top-level array of records; or, when it
    starts with ``{``, one object per line (read as JSON Lines) when another non-blank line follows its
    first non-blank line and that line is a whole value on its own (every bracket and string it opens
    closed) or the next one starts with ``{`` too, else one object: one record, at the line of its ``{``. ``csv_dialect`` may set
    ``delimiter``, ``quotechar``, ``escapechar``, ``doublequote``, ``skipinitialspace``, ``strict`` or
    ``quoting`` for :func:`csv.reader`; without a delimiter, ``,``, ``;`` or tab is sniffed from the
    header line (and the first rows, see :func:`_sniff_delimiter`); a blank header cell names its column
    ``column_<n>`` (``n`` counted from 1). A record longer than ``max_record_bytes`` (default
    :data:`MAX_RECORD_BYTES`, 64 MiB) is skipped, not held, and rejected (``SR306``). Arguments are checked
    at once (:class:`ValueError`); the file is opened on the first ``next()`` (:class:`OSError` such as
    :class:`FileNotFoundError` then).
    """
    path = os.fspath(path)
    limit = _record_limit(max_record_bytes)
    return _read(path, _format(format, path), _codec(encoding), _csv_params(csv_dialect), None, limit)


def read_blocks(
    path: str | os.PathLike[str],
    *,
    lines: int,
    format: str | None = None,
    encoding: str = "utf-8",
    csv_dialect: dict[str, Any] | None = None,
    max_record_bytes: int | None = None,
) -> Iterator[RawRecord | JsonLines]:
    """Like :func:`read_records`, but JSON Lines input comes as :class:`JsonLines` blocks of ``lines``
    lines (the last may have fewer), not parsed: :func:`jsonl_record` makes their records. Other formats,
    and a problem found before reading (a UTF-16 byte-order mark), still come as records. A line longer
    than ``max_record_bytes`` is a block of its own, without its bytes (:attr:`JsonLines.too_large`); the
    lines before it are a block then too, of fewer lines."""
    if lines < 1:
        raise ValueError(f"lines must be at least 1, not {lines}")
    path = os.fspath(path)
    limit = _record_limit(max_record_bytes)
    return _read(path, _format(format, path), _codec(encoding), _csv_params(csv_dialect), lines, limit)


def _record_limit(max_record_bytes: int | None) -> int:
    if max_record_bytes is None:
        return MAX_RECORD_BYTES
    if not isinstance(max_record_bytes, int) or isinstance(max_record_bytes, bool):
        raise TypeError(f"max_record_bytes must be an int or None, not {type(max_record_bytes).__name__}")
    if max_record_bytes < 1:
        raise ValueError(f"max_record_bytes must be at least 1, not {max_record_bytes}")
    return max_record_bytes


def _size_text(size: int) -> str:
    """``64 MiB``, ``4 KiB`` or ``1,000 bytes``: a limit as a user would have written it."""
    for unit, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return "1 byte" if size == 1 else f"{size:,} bytes"


def _too_large(size: int, limit: int, what: str = "record") -> str:
    """SR306's message."""
    return f"{what} is {size:,} bytes, more than the limit of {_size_text(limit)}"


def _format(format: str | None, path: str) -> Format | None:
    if format is None:
        return None if path == "-" else _format_from_name(path)
    if format in ("jsonl", "ndjson"):
        return "jsonl"
    if format == "json":
        return "json"
    if format == "csv":
        return "csv"
    raise ValueError(f"unknown input format {format!r}; expected 'jsonl', 'json' or 'csv'")


@overload
def _read(
    path: str, fmt: Format | None, codec: str, params: dict[str, Any], block_lines: None, limit: int
) -> Iterator[RawRecord]: ...


@overload
def _read(
    path: str, fmt: Format | None, codec: str, params: dict[str, Any], block_lines: int, limit: int
) -> Iterator[RawRecord | JsonLines]: ...


def _read(
    path: str, fmt: Format | None, codec: str, params: dict[str, Any], block_lines: int | None, limit: int
) -> Iterator[RawRecord | JsonLines]:
    name = _STDIN_NAME if path == "-" else path
    with _open_raw(path) as raw:
        # reads no longer than the limit: a record longer than the limit then always spans reads, so the
        # readers need to look at the length of records that do only (one per read)
        source = _ByteSource(raw, min(_CHUNK_SIZE, limit))
        head = source.start(strip_utf8_bom=codec == "utf-8")
        foreign = _foreign_encoding(head, codec)
        if foreign is not None:  # every line, row and field would be misread: no record could be made of it
            yield _bad(SourcePosition(name, 1, None), "SR303", foreign, 0)
            return
        if fmt is None:
            fmt = _format_from_byte(source.first_non_space())
        one_object = False
        if fmt == "json" and source.first_non_space() == _LBRACE:
            # one object per line (mongoexport, many APIs' "export as JSON"), or one object, pretty-printed or not
            if source.object_per_line(limit):
                fmt = "jsonl"
            else:
                one_object = True
        if fmt == "jsonl" and block_lines is not None:
            yield from _jsonl_blocks(source, name, codec, block_lines, limit)
        elif fmt == "jsonl":
            yield from _read_jsonl(source, name, codec, limit)
        elif fmt == "json":
            yield from _read_json_array(source, name, codec, limit, one_object=one_object)
        else:
            tsv = path != "-" and path.lower().removesuffix(".gz").endswith(".tsv")
            yield from _read_csv(source, name, codec, params, limit, tab_first=tsv)
