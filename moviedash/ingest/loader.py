"""CSV import: read, validate, and insert viewing events in one transaction.

Two CSV forms are accepted: the course's (no header, the 13 columns in table
order) and one with a header row naming the columns in any order.  Blank lines
are skipped.  Every row is checked (dates within the served range, integers and
reals within limits that keep sums exact, required fields); valid rows go in,
invalid ones are streamed to a rejects CSV with their line number, the reason
and the raw row (both cut to a bounded length), put in place whole
(:mod:`moviedash.outputs`, never over the database or an input).  A file
whose accepted rows were loaded before (compared as normalised rows, not
bytes: line ends, a BOM or a trailing newline make no difference) is refused
unless forced.  Parsing and validation are vectorised
(pyarrow's CSV reader and compute kernels) over blocks of rows, so large files
load at a few hundred thousand rows a second.

The whole command is one transaction: an error, ``--strict`` with a bad row, a
duplicate file, or the process being killed leaves the database exactly as it
was.  SQLite gets the rows through ``executemany``; PostgreSQL through ``COPY``
of CSV that pyarrow writes from the validated columns (:mod:`moviedash.pg`).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .. import rollups
from ..errors import MoviedashError
from ..escapes import decode_escapes
from ..outputs import AtomicFile, database_files, refuse_overwrite
from ..params import DATE_EXAMPLE, DATE_MAX, DATE_MIN, date_problem, parse_date_text
from ..rollups import Aggregator, refresh_derived
from ..rollups.tables import bulk_insert
from ..settings import ANONYMOUS_USER
from ..shows import SHOW_COLUMN, SHOWS_DDL
from ..store import (
    COLUMNS,
    INTEGER_COLUMNS,
    LEDGER_INSERT_SQL,
    LEDGER_LOOKUP_SQL,
    REAL_COLUMNS,
    dialect_of,
    is_postgres,
    postgres,
)
from ..store import parse as parse_target
from ..store.sqlite import (
    NewDatabase,
    checkpoint,
    connect_readwrite,
    insert_rows,
    resolve_path,
)

#: Arrow types of the numeric columns (the rest are strings).
ARROW_TYPES: dict[str, pa.DataType] = {
    **{c: pa.int64() for c in INTEGER_COLUMNS}, **{c: pa.float64() for c in REAL_COLUMNS}
}
REQUIRED_COLUMNS = ("event_date", "userid")
#: The values each numeric column may hold (inclusive).  Why so tight: minutes
#: are summed over millions of rows into 64-bit integers (SQLite, numpy and
#: PostgreSQL's bigint), and 10^7 minutes (19 years) per event keeps every
#: sum of up to 9 * 10^11 events exact, while no real event comes close.
VALUE_LIMITS: dict[str, tuple[float, float]] = {
    "totalminuteswatched": (0, 10**7),
    "runningtime": (0, 10**7),
    "seasonnumber": (0, 10**6),
    "episodenumber": (0, 10**6),
    "viewpercentage": (-1e9, 1e9),
    "errorperception": (-1e9, 1e9),
}
#: Event dates the API can select and chart (:data:`moviedash.params.DATE_MIN` .. ``DATE_MAX``).
FIRST_DAY, AFTER_LAST_DAY = DATE_MIN.isoformat(), (DATE_MAX + dt.timedelta(days=1)).isoformat()
#: Characters of a rejected value quoted in its reason, and of a rejected row kept in the rejects file:
#: memory and the rejects file stay bounded per row, however long a bad line is.
REASON_VALUE_CHARS, RAW_CHARS = 80, 2000

_DATE_RE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_INT_RE = r"[+-]?\d+"
REJECT_HEADER = ("file", "line", "reason", "raw")


@dataclass
class FileReport:
    """What happened to one input file.

    ``loaded`` valid rows (written if the load committed), ``rejected`` invalid ones.
    """

    path: Path
    loaded: int = 0
    rejected: int = 0
    rejects_path: Path | None = None
    sha256: str = ""
    #: Valid rows with the course's anonymous user id (:data:`moviedash.settings.ANONYMOUS_USER`).
    anonymous: int = 0
    #: Valid rows whose ``viewpercentage`` is above 100 (to 4 decimals): capped at 100 for completion.
    capped: int = 0


@dataclass
class LoadReport:
    """What a load command did: per file, and whether anything was written."""

    files: list[FileReport] = field(default_factory=list)
    committed: bool = False

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def anonymous(self) -> int:
        return sum(f.anonymous for f in self.files)

    @property
    def capped(self) -> int:
        return sum(f.capped for f in self.files)


def _notable(arrays: dict[str, pa.Array], bad: np.ndarray) -> tuple[int, int]:
    """Among the valid rows: how many have the anonymous user id, and a ``viewpercentage`` above 100.

    Above 100 is judged to 4 decimals (``floor(v * 10000 + 0.5) > 1000000``), as completion caps it.
    """
    good = pa.array(~bad)
    anonymous = pc.sum(pc.and_(pc.equal(arrays["userid"], ANONYMOUS_USER), good)).as_py() or 0
    units = pc.floor(pc.add(pc.multiply(pc.cast(arrays["viewpercentage"], pa.float64()), 10_000.0), 0.5))
    capped = pc.sum(pc.and_(pc.greater(units, 1_000_000.0), good)).as_py() or 0
    return int(anonymous), int(capped)


def file_digest(path: Path) -> tuple[str, str]:
    """The file's SHA-256 and its text encoding (UTF-8 when it decodes, else Latin-1)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return digest.hexdigest(), ("utf-8-sig" if utf8 else "latin-1")


#: Byte-order marks of the encodings besides UTF-8 that a CSV may be saved in
#: (Excel's "Unicode text" is UTF-16); longest first: UTF-32-LE starts like UTF-16-LE.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def wide_encoding(path: Path) -> str | None:
    """``utf-16``/``utf-32`` when the file starts with their byte-order mark, else ``None``.

    Raises :class:`MoviedashError` for NUL bytes at the start of a file without
    one: UTF-16 without a mark, or not text at all, would be read as garbage row by row.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        raise MoviedashError(
            f"{path} contains NUL bytes: it is not a text CSV, or it is UTF-16 without a byte-order mark; "
            "save it as CSV UTF-8 and load it again"
        )
    return None


@contextmanager
def csv_field_limit(path: Path) -> Iterator[None]:
    """Let the ``csv`` module read fields as large as the file, as pyarrow's reader does.

    Why: its default limit (128 KiB) made the first-row check refuse, and the
    rejects pass fail on, rows the fast reader had read.  No field is larger
    than its file, so this limit only says "whatever pyarrow read".
    """
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, path.stat().st_size))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _header_columns(first: Sequence[str]) -> list[str] | None:
    """The column order named by a header row, or ``None`` when ``first`` is data.

    A row is a header when one of its fields is ``event_date``; then every field
    must be a known column, each once, and the required ones must be there.
    """
    names = [f.strip().lower() for f in first]
    if "event_date" not in names:
        return None
    unknown = [n for n in names if n not in COLUMNS and n != SHOW_COLUMN]
    if unknown:
        raise MoviedashError(
            f"unknown column(s) in header: {', '.join(repr(u) for u in unknown)}; "
            f"known columns: {', '.join(COLUMNS)} (and {SHOW_COLUMN}, naming each row's show)"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MoviedashError(f"column(s) named twice in header: {', '.join(dupes)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise MoviedashError(f"header lacks required column(s): {', '.join(missing)}")
    return names


def is_blank(fields: Sequence[str]) -> bool:
    """True for a line holding nothing but whitespace (skipped, never a rejected row)."""
    return not fields or (len(fields) == 1 and not fields[0].strip())


def sniff_columns(path: Path, encoding: str) -> tuple[list[str], int]:
    """The file's column order and the number of lines before its data (blank lines and the header)."""
    with path.open("r", encoding=encoding, newline="") as fh, csv_field_limit(path):
        reader = csv.reader(fh)
        try:
            first = next(reader)
            while is_blank(first):
                first = next(reader)
        except StopIteration:
            return list(COLUMNS), 0
        except csv.Error as exc:
            raise MoviedashError(f"{path}: line {reader.line_num}: {exc}") from None
    header = _header_columns(first)
    return (header, reader.line_num) if header else (list(COLUMNS), 0)


def read_batches(
    path: Path,
    encoding: str,
    columns: Sequence[str],
    skip_rows: int,
    on_misshapen: Callable[[], None],
    block_size: int = 8 << 20,
) -> Iterator[pa.RecordBatch]:
    """Stream the file as batches of string columns (pyarrow's C++ CSV reader).

    Blank lines (also whitespace-only ones) are skipped.  Rows with the wrong
    number of fields are skipped here (``on_misshapen`` is called for each) and
    reported from :func:`rejected_rows`, which knows their line numbers for certain.
    """

    def skip(row: pacsv.InvalidRow) -> str:
        if row.text is None or row.text.strip():
            on_misshapen()
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=list(columns),
                skip_rows=skip_rows,
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
                use_threads=False,
                block_size=block_size,
            ),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=skip, ignore_empty_lines=True, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return  # nothing but (at most) a header
        raise MoviedashError(f"{path}: cannot parse CSV: {exc}") from None
    try:
        yield from reader
    except pa.ArrowInvalid as exc:
        raise MoviedashError(f"{path}: cannot parse CSV: {exc}") from None


_REAL_RE = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _canonical_dates(text: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """The fast path of :func:`_normalise_dates` for a block where every value has 19 characters.

    The common case (``YYYY-MM-DD HH:MM:SS``, as the course file and exports
    write it) is checked on the raw bytes with numpy: separators, digits and
    field ranges including days per month and leap years -- the same rows the
    general path accepts.  ``None`` when the block is not all 19-character text.
    """
    if text.null_count or not len(text):
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    if offsets[-1] - offsets[0] != 19 * len(text) or not np.all(np.diff(offsets) == 19):
        return None
    raw = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 19)
    digits = raw.astype(np.int64) - 48
    is_digit = (digits >= 0) & (digits <= 9)
    ok = is_digit[:, [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]].all(axis=1)
    ok &= (raw[:, 4] == 45) & (raw[:, 7] == 45) & ((raw[:, 10] == 32) | (raw[:, 10] == 84))
    ok &= (raw[:, 13] == 58) & (raw[:, 16] == 58)
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok &= month_ok & (day >= 1) & (day <= last_day) & (year >= 1)
    ok &= digits[:, 11] * 10 + digits[:, 12] <= 23
    ok &= digits[:, 14] * 10 + digits[:, 15] <= 59
    ok &= digits[:, 17] * 10 + digits[:, 18] <= 59
    norm = pc.replace_substring(text, "T", " ", max_replacements=1) if (raw[:, 10] == 84).any() else text
    return norm, ok


def _normalise_dates(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Dates as ``YYYY-MM-DD HH:MM:SS`` text, and which rows hold a real date.

    Accepts a space or ``T`` separator, fractional seconds (dropped) and a
    missing time or seconds (taken as zero).
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    fast = _canonical_dates(text)
    if fast is not None:
        return fast
    shaped = pc.match_substring_regex(text, f"^{_DATE_RE}$")
    norm = pc.utf8_slice_codeunits(pc.replace_substring(text, "T", " ", max_replacements=1), 0, 19)
    length = pc.utf8_length(norm)
    norm = pc.if_else(pc.equal(length, 10), pc.binary_join_element_wise(norm, " 00:00:00", ""), norm)
    norm = pc.if_else(pc.equal(length, 16), pc.binary_join_element_wise(norm, ":00", ""), norm)
    # strptime rejects 25:00 but rolls 2013-02-30 over to March: comparing the
    # parsed value's fields with the digits of the text catches both (and is
    # much cheaper than formatting the parsed value back with strftime).
    fmt = "%Y-%m-%d %H:%M:%S"
    candidate = pc.if_else(shaped, norm, None)
    parsed = pc.strptime(candidate, format=fmt, unit="s", error_is_null=True)
    same = None
    for part, start, stop in (
        (pc.year, 0, 4), (pc.month, 5, 7), (pc.day, 8, 10), (pc.hour, 11, 13), (pc.minute, 14, 16), (pc.second, 17, 19)
    ):
        digits = pc.cast(pc.utf8_slice_codeunits(candidate, start, stop), pa.int64())
        equal = pc.equal(part(parsed), digits)
        same = equal if same is None else pc.and_(same, equal)
    # Year 0 does not exist (PostgreSQL's timestamp refuses it): not a date on any backend.
    same = pc.and_(same, pc.greater_equal(pc.year(parsed), 1))
    return norm, pc.fill_null(same, False).to_numpy(zero_copy_only=False)


def _quote(value: object) -> str:
    """``repr(value)``, shortened: a reason quotes at most :data:`REASON_VALUE_CHARS` of the value."""
    text = repr(value)
    return text if len(text) <= REASON_VALUE_CHARS else text[: REASON_VALUE_CHARS - 1] + "…"


def date_reason(value: str) -> str:
    """Why an ``event_date`` value was refused, in the words the CLI and the API use for dates."""
    text = value.strip()
    try:
        parse_date_text(text[:10])
    except ValueError:
        return date_problem(text)
    # The day exists: the time (or what follows the date) does not.
    return f"{text!r} is not a date and time (expected YYYY-MM-DD HH:MM:SS, e.g. {DATE_EXAMPLE} 21:30:00)"


def validate_batch(batch: pa.RecordBatch) -> tuple[np.ndarray, list[str | None], dict[str, pa.Array]]:
    """Check and convert one batch.

    Returns a mask of bad rows, a reason for each bad row (``None`` for good
    ones), and every converted column of :data:`COLUMNS` as an Arrow array by
    name, every row included (NULL for an absent column).  Python objects are
    made only by the SQLite writer, in its own thread.
    """
    n = batch.num_rows
    bad = np.zeros(n, dtype=bool)
    why: list[str | None] = [None] * n
    names = batch.schema.names

    def flag(mask: np.ndarray, column: str, problem: str, raw: pa.Array,
             describe: Callable[[str], str] | None = None) -> None:
        new = np.flatnonzero(mask & ~bad)
        if len(new):
            values = raw.take(pa.array(new)).to_pylist()
            for j, value in zip(new, values, strict=False):
                if describe is not None:
                    why[j] = f"{column} {describe(value[:REASON_VALUE_CHARS])}"
                else:
                    why[j] = f"{column} {problem}: {_quote(value)}" if problem != "is empty" else f"{column} is empty"
        bad[:] = bad | mask

    arrays: dict[str, pa.Array] = {}
    for column in COLUMNS:
        if column not in names:
            arrays[column] = pa.nulls(n, ARROW_TYPES.get(column, pa.string()))
            continue
        raw = batch.column(names.index(column))
        stripped = pc.utf8_trim_whitespace(raw)
        empty = pc.equal(stripped, "").to_numpy(zero_copy_only=False)
        if column in REQUIRED_COLUMNS:
            flag(empty, column, "is empty", raw)
        if column == "event_date":
            norm, ok = _normalise_dates(stripped)
            flag(~ok & ~empty, column, "is not a date", raw, date_reason)
            outside = pc.or_(pc.less(norm, FIRST_DAY), pc.greater_equal(norm, AFTER_LAST_DAY))
            flag(pc.fill_null(outside, False).to_numpy(zero_copy_only=False) & ok, column,
                 f"is outside the dates served ({DATE_MIN.isoformat()} to {DATE_MAX.isoformat()})", raw)
            arrays[column] = norm
            continue
        if column in INTEGER_COLUMNS or column in REAL_COLUMNS:
            integer = column in INTEGER_COLUMNS
            shaped = pc.match_substring_regex(stripped, f"^{_INT_RE if integer else _REAL_RE}$")
            if integer and pc.any(pc.starts_with(stripped, "+")).as_py():
                stripped = pc.utf8_ltrim(stripped, characters="+")  # +5 is 5; Arrow's int cast refuses the sign
            text = stripped
            if integer:
                # More digits than int64 holds: out of range (not "not an integer"), so clamp before the cast.
                long = pc.and_(shaped, pc.invert(pc.match_substring_regex(stripped, r"^[+-]?0*\d{1,18}$")))
                clamped = pc.if_else(pc.starts_with(stripped, "-"), "-999999999999999999", "999999999999999999")
                text = pc.if_else(long, clamped, stripped)
            numbers = pc.cast(pc.if_else(shaped, text, None), pa.int64() if integer else pa.float64())
            ok = shaped.to_numpy(zero_copy_only=False)
            if not integer:
                ok &= pc.fill_null(pc.is_finite(numbers), False).to_numpy(zero_copy_only=False)
            flag(~ok & ~empty, column, "is not an integer" if integer else "is not a number", raw)
            low, high = VALUE_LIMITS[column]
            below = pc.fill_null(pc.less(numbers, low), False).to_numpy(zero_copy_only=False)
            flag(below & ok, column, "is negative" if low == 0 else f"is below the minimum of {int(low):,}", raw)
            above = pc.fill_null(pc.greater(numbers, high), False).to_numpy(zero_copy_only=False)
            flag(above & ok, column, f"is above the maximum of {int(high):,}", raw)
            arrays[column] = numbers
            continue
        array = pc.if_else(pa.array(empty), None, raw)
        if column == "title":
            escaped = np.flatnonzero(pc.match_substring(raw, "<").to_numpy(zero_copy_only=False))
            if len(escaped):
                values = array.to_pylist()
                for j in escaped:
                    if values[j] is not None:
                        values[j] = decode_escapes(values[j])
                array = pa.array(values, type=pa.string())
        arrays[column] = array
    if SHOW_COLUMN in names:  # the show a row's title belongs to (moviedash_shows), not a column of movies
        raw = pc.utf8_trim_whitespace(batch.column(names.index(SHOW_COLUMN)))
        arrays[SHOW_COLUMN] = pc.if_else(pc.equal(raw, ""), None, raw)
    return bad, why, arrays


def named_shows(arrays: dict[str, pa.Array], bad: np.ndarray) -> dict[str, str]:
    """``title`` -> ``show`` of a batch's accepted rows whose ``show`` column is not empty (the last row wins)."""
    if SHOW_COLUMN not in arrays:
        return {}
    both = pc.and_(pc.is_valid(arrays["title"]), pc.is_valid(arrays[SHOW_COLUMN])).to_numpy(zero_copy_only=False)
    keep = np.flatnonzero(both & ~bad)
    if not len(keep):
        return {}
    index = pa.array(keep)
    return dict(zip(arrays["title"].take(index).to_pylist(), arrays[SHOW_COLUMN].take(index).to_pylist(),
                    strict=True))


def write_named_shows(conn: Any, named: dict[str, str]) -> None:
    """Keep the shows a load's CSV named (``moviedash_shows``), before the rollups map the titles to shows."""
    if named:
        conn.execute(SHOWS_DDL)  # a database made before the table was part of the base schema
        bulk_insert(conn, dialect_of(conn), "moviedash_shows", ("title", "show"), sorted(named.items()),
                            on_conflict="(title) DO UPDATE SET show = excluded.show")


def rejected_rows(
    path: Path, encoding: str, skip_lines: int, n_columns: int, bad: dict[int, str]
) -> Iterator[tuple[int, str, list[str]]]:
    """Second pass, only when something was rejected: ``(line, reason, raw fields)`` in file order.

    ``bad`` maps ordinals of well-shaped rows (as the fast reader numbered
    them, blank lines not counted) to their reasons; rows with the wrong
    number of fields are found here.
    """
    with path.open("r", encoding=encoding, newline="") as fh, csv_field_limit(path):
        reader = csv.reader(fh)
        start, ordinal = 1, 0
        try:
            for _ in range(skip_lines):
                next(fh)
            start = skip_lines + 1
            for fields in reader:
                if is_blank(fields):
                    pass
                elif len(fields) == n_columns:
                    if ordinal in bad:
                        yield start, bad[ordinal], fields
                    ordinal += 1
                else:
                    yield start, f"expected {n_columns} fields, found {len(fields)}", fields
                start = skip_lines + reader.line_num + 1
        except csv.Error as exc:
            raise MoviedashError(f"{path}: line {start}: {exc}") from None


def default_rejects_path(path: Path) -> Path:
    """``movies.csv`` → ``movies.rejects.csv`` beside it."""
    return path.with_name(f"{path.stem}.rejects.csv" if path.suffix.lower() == ".csv" else f"{path.name}.rejects.csv")


class RejectsFile:
    """A rejects CSV written as rows are found, put in place whole by :meth:`finish`.

    Streaming keeps memory flat however many rows are rejected; the file is
    created (and checked against the database and the inputs) at the first
    rejected row, in the target's folder, or in the working folder when that
    one is not writable (e.g. read-only data).
    """

    def __init__(self, path: Path, database: Sequence[Path], inputs: Sequence[Path]) -> None:
        self.path = path
        self.database, self.inputs = database, inputs
        self.file: AtomicFile | None = None
        self.writer: Any = None
        self.rows = 0

    def _open(self) -> None:
        refuse_overwrite(self.path, database=self.database, inputs=self.inputs, what="rejected rows")
        self.file = AtomicFile(self.path, "w", encoding="utf-8", newline="")
        try:
            handle = self.file.open()
        except OSError:
            self.path = Path.cwd() / self.path.name
            refuse_overwrite(self.path, database=self.database, inputs=self.inputs, what="rejected rows")
            self.file = AtomicFile(self.path, "w", encoding="utf-8", newline="")
            try:
                handle = self.file.open()
            except OSError as exc:
                raise MoviedashError(f"cannot write the rejected rows to {self.path}: {exc.strerror or exc}") from None
        self.writer = csv.writer(handle)
        self.writer.writerow(REJECT_HEADER)

    def add(self, source: Path, line: int, reason: str, fields: Sequence[str]) -> None:
        """One rejected row; its raw text is cut to :data:`RAW_CHARS` characters."""
        if self.file is None:
            self._open()
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(fields)
        raw = buf.getvalue()
        if len(raw) > RAW_CHARS:
            raw = raw[: RAW_CHARS - 1] + "…"
        try:
            self.writer.writerow((str(source), line, reason, raw))
        except OSError as exc:  # e.g. the disk is full: the caller's discard() removes the partial file
            raise MoviedashError(
                f"cannot write the rejected rows to {self.path}: {exc.strerror or exc}; nothing loaded"
            ) from None
        self.rows += 1

    def finish(self) -> Path | None:
        """Put the file in place (``None`` when nothing was rejected)."""
        if self.file is None:
            return None
        file, self.file = self.file, None
        try:
            return file.commit()
        except OSError as exc:
            raise MoviedashError(f"cannot write the rejected rows to {self.path}: {exc}; nothing loaded") from None

    def discard(self) -> None:
        """Remove an unfinished file (the target, if any, is untouched)."""
        if self.file is not None:
            self.file.discard()
            self.file = None


_DONE = object()
#: A sink's writer: writes a batch's accepted rows (``bad`` marks the rest); may return their CSV.
Writer = Callable[[np.ndarray, dict[str, pa.Array]], memoryview | None]


def _prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Run ``items`` in a background thread, ``depth`` ahead; re-raise its errors here."""
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                channel.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            channel.put(exc)
            return
        channel.put(_DONE)

    worker = threading.Thread(target=produce, name="moviedash-load", daemon=True)
    worker.start()
    try:
        while True:
            item = channel.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            # Unblock a producer waiting on a full queue.
            try:
                channel.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)


class _SQLiteSink:
    """Rows into SQLite (``executemany``), keeping the derived data current.

    Into an existing database: one transaction in WAL mode, so a dashboard
    keeps serving the old state until the commit.  When there is no database
    yet, it is built in a temporary file and put in place at the commit
    (:class:`moviedash.db.NewDatabase`): the same all-or-nothing result, with
    every page written once instead of twice.
    """

    errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    def __init__(self, db: str | os.PathLike[str]) -> None:
        target = resolve_path(db)
        self.new = None if target.exists() else NewDatabase(target)
        self.conn = connect_readwrite(db) if self.new is None else self.new.connect()
        self.aggregator: Aggregator | None = None
        self.named: dict[str, str] = {}  # title -> show, from a CSV's show column

    def begin(self) -> None:
        # IMMEDIATE takes the write lock now, so the duplicate check and the
        # inserts see one database state.
        self.conn.execute("BEGIN IMMEDIATE")
        self.aggregator = rollups.Aggregator(self.conn)

    def previous_load(self, sha: str) -> tuple | None:
        return self.conn.execute(LEDGER_LOOKUP_SQL, (sha,)).fetchone()

    #: :meth:`writer`'s ``write`` hands back no CSV of the rows (the digest is made while reading).
    sends_csv = False

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        def write(bad: np.ndarray, arrays: dict[str, pa.Array]) -> None:
            # executemany takes Python rows; they are made here, in the writing
            # thread: GIL-held work in the reading thread would stall the
            # inserts at every row.
            values = [arrays[c].to_pylist() for c in COLUMNS]
            if not bad.any():
                insert_rows(self.conn, zip(*values, strict=False))
            else:
                insert_rows(self.conn, [tuple(col[j] for col in values) for j in np.flatnonzero(~bad)])

        yield write

    def record(self, row: tuple) -> None:
        self.conn.execute(LEDGER_INSERT_SQL, row)

    def commit(self) -> None:
        write_named_shows(self.conn, self.named)
        refresh_derived(self.conn, self.aggregator)
        self.conn.execute("COMMIT")
        if self.new is None:
            checkpoint(self.conn)
        else:
            self.new.place(self.conn, replace=False)
            self.new = None

    def rollback(self) -> None:
        if self.new is not None:
            return  # without a journal there is no ROLLBACK: close() discards the file
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()
        if self.new is not None:
            self.new.discard()


class _PostgresSink:
    """Rows into PostgreSQL with ``COPY`` (CSV written by pyarrow) and the rollups, one transaction."""

    def __init__(self, db: str) -> None:
        self.pg = postgres
        self.errors = (postgres.psycopg.Error,)
        self.conn = postgres.connect_readwrite(db)
        # The rollups speak sqlite3's interface (``?`` placeholders): the same adapter as serving.
        self.db = postgres.PgConnection(self.conn, parse_target(db).location)
        self.aggregator: rollups.Aggregator | None = None
        self.named: dict[str, str] = {}  # title -> show, from a CSV's show column

    def begin(self) -> None:
        self.pg.lock_ledger(self.conn)
        self.aggregator = rollups.Aggregator(self.db)

    def previous_load(self, sha: str) -> tuple | None:
        return self.conn.execute(self.pg.translate(LEDGER_LOOKUP_SQL), (sha,)).fetchone()

    #: :meth:`writer`'s ``write`` hands back the CSV it copied: :func:`content_digest`'s bytes.
    sends_csv = True

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        copy = self.pg.MovieCopy(self.conn)

        def write(bad: np.ndarray, arrays: dict[str, pa.Array]) -> memoryview:
            table = accepted_table(arrays, bad)
            chunk = self.pg.csv_chunk(table)
            copy.send(table, chunk)
            return chunk

        try:
            yield write
        except BaseException as exc:
            copy.abort(exc)
            raise
        copy.end()

    def record(self, row: tuple) -> None:
        self.conn.execute(self.pg.translate(LEDGER_INSERT_SQL), row)

    def commit(self) -> None:
        # No ANALYZE per load: autovacuum analyses the table after large
        # inserts (it cost ~0.3 s per million rows).
        write_named_shows(self.db, self.named)
        refresh_derived(self.db, self.aggregator)
        self.conn.commit()

    def rollback(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


_Sink = _SQLiteSink | _PostgresSink


def _load_file(
    sink: _Sink, path: Path, encoding: str, rejects: RejectsFile, *, insert: bool,
    on_rows: Callable[[int], None] | None, last: bool = True,
) -> tuple[FileReport, str]:
    """Validate and (with ``insert``) write one file on the sink's open transaction (``last``: the load's last file)."""
    with sink.writer() as write:
        return _read_file(write if insert else None, path, encoding, rejects, on_rows, sink.aggregator, last,
                          sends_csv=sink.sends_csv, named=sink.named)


def accepted_table(arrays: dict[str, pa.Array], bad: np.ndarray) -> pa.Table:
    """The accepted rows of a batch as a table of the converted columns in table order."""
    table = pa.Table.from_arrays([arrays[c] for c in COLUMNS], names=list(COLUMNS))
    if bad.any():
        table = table.filter(pa.array(~bad))
    return table


def content_digest(digest: Any, arrays: dict[str, pa.Array], bad: np.ndarray) -> None:
    """Feed the accepted rows of a batch, as normalised values, into ``digest`` (a hashlib object).

    Row by row (CSV of the converted columns in table order), so the result
    does not depend on how the file was cut into batches, its line ends, a
    byte-order mark, a trailing newline, blank lines or the order of a header's columns.
    The CSV is the one PostgreSQL's ``COPY`` gets (:func:`moviedash.store.postgres.csv_chunk`), so the
    PostgreSQL loader hashes what it sent instead of writing the CSV twice.
    """
    digest.update(postgres.csv_chunk(accepted_table(arrays, bad)))


def _read_file(
    write: Writer | None, path: Path, encoding: str,
    rejects: RejectsFile, on_rows: Callable[[int], None] | None, aggregator: Aggregator | None,
    last: bool = True, *, sends_csv: bool = False, named: dict[str, str] | None = None,
) -> tuple[FileReport, str]:
    """Read one file; returns its report and the SHA-256 of its normalised accepted rows.

    ``sends_csv``: ``write`` returns :func:`content_digest`'s CSV of the rows it wrote, which is
    hashed in the writing thread (the reading thread, the load's bottleneck, is spared writing it).
    ``named``: gets the shows a ``show`` column names (:func:`named_shows`).
    """
    hash_sent = write is not None and sends_csv
    report = FileReport(path=path)
    columns, skip_lines = sniff_columns(path, encoding)
    bad_ordinals: dict[int, str] = {}
    ordinal = 0
    misshapen_count = 0
    digest = hashlib.sha256()

    def count_misshapen() -> None:
        nonlocal misshapen_count
        misshapen_count += 1

    batches = read_batches(path, encoding, columns, skip_lines, count_misshapen)

    def prepare(batch: pa.RecordBatch) -> tuple:
        checked = validate_batch(batch)
        bad, _why, arrays = checked
        if not hash_sent:
            content_digest(digest, arrays, bad)
        anonymous, capped = _notable(arrays, bad)
        report.anonymous += anonymous
        report.capped += capped
        if write is not None and named is not None:
            named.update(named_shows(arrays, bad))
        if write is not None and aggregator is not None:
            fed = {c: arrays[c] for c in aggregator.columns}
            if bad.any():
                keep = pa.array(~bad)
                fed = {c: a.filter(keep) for c, a in fed.items()}
            aggregator.add(fed)  # every batch of the file is inserted (or the load rolls back)
        return checked

    def prepared() -> Iterator[tuple]:
        for b in batches:
            yield b, prepare(b)
        if write is not None and last and aggregator is not None:
            aggregator.finish()  # while this thread's last inserts run

    # Parse, validate and aggregate the next block in a thread while this one
    # writes: pyarrow, SQLite and psycopg release the GIL for their heavy parts.
    for batch, (bad, why, arrays) in _prefetch(prepared()):
        kept = batch.num_rows - int(bad.sum())
        for j in np.flatnonzero(bad):
            bad_ordinals[ordinal + int(j)] = why[j] or "invalid row"
        if write is not None:
            sent = write(bad, arrays)
            if hash_sent:
                assert sent is not None
                digest.update(sent)  # batches in file order, as when hashed while reading
        report.loaded += kept
        ordinal += batch.num_rows
        if on_rows is not None:
            on_rows(batch.num_rows)
    # Exact line numbers need the csv module's record-by-record reading: only
    # pay for that second pass when something was rejected.
    if bad_ordinals or misshapen_count:
        for line, reason, fields in rejected_rows(path, encoding, skip_lines, len(columns), bad_ordinals):
            rejects.add(path, line, reason, fields)
            report.rejected += 1
    return report, digest.hexdigest()


def load_files(
    db: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    rejects: str | os.PathLike[str] | None = None,
    force: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load CSV files into the database at ``db`` (created if missing) in one transaction.

    Invalid rows go to a rejects CSV (``rejects``, else ``FILE.rejects.csv``
    per file).  With ``strict``, any invalid row means nothing is written
    (``committed`` is False; ``loaded`` still counts the valid rows), and so
    does a load without a single valid row (an empty file).  Raises
    :class:`MoviedashError`, writing nothing, for a file already loaded (the
    same rows, however the file is laid out: unless ``force``), an unreadable
    file, a bad header, or a rejects path that is the database or an input file.
    """
    files = [Path(p) for p in paths]
    report = LoadReport()
    for path in files:
        if not path.is_file():
            raise MoviedashError(f"no such file: {path}")
    database = database_files(db)
    if rejects is not None:
        refuse_overwrite(rejects, database=database, inputs=files, what="rejected rows")
    digests = []
    for path in files:
        sha, encoding = file_digest(path)
        digests.append((sha, wide_encoding(path) or encoding))
    seen: dict[str, Path] = {}
    for path, (sha, _) in zip(files, digests, strict=False):
        if sha in seen and not force:  # byte-identical: known before reading
            raise MoviedashError(f"{path} has the same content as {seen[sha]}; nothing loaded")
        seen[sha] = path

    combined = RejectsFile(Path(rejects), database, files) if rejects is not None else None
    per_file: list[RejectsFile] = []
    sink: _Sink = _PostgresSink(os.fspath(db)) if is_postgres(db) else _SQLiteSink(db)
    contents: dict[str, Path] = {}
    try:
        sink.begin()
        try:
            for number, (path, (sha, encoding)) in enumerate(zip(files, digests, strict=False), 1):
                if not force:
                    _refuse_duplicate(sink, path, sha)  # a file loaded before, byte for byte
                own = combined
                if own is None:
                    own = RejectsFile(default_rejects_path(path), database, files)
                    per_file.append(own)
                file_report, content = _load_file(
                    sink, path, encoding, own, insert=not (strict and report.rejected), on_rows=on_rows,
                    last=number == len(files),
                )
                if not force and file_report.loaded:  # (a file of no valid rows duplicates nothing)
                    if content in contents:
                        raise MoviedashError(f"{path} has the same rows as {contents[content]}; nothing loaded")
                    _refuse_duplicate(sink, path, content)  # the same rows, however laid out
                contents[content] = path
                file_report.sha256 = content
                report.files.append(file_report)
                if combined is None:
                    file_report.rejects_path = own.finish()
                if file_report.loaded:  # a file that added nothing may be loaded later (fixed, or as it is)
                    sink.record(
                        (content, str(path.resolve()), file_report.loaded, file_report.rejected,
                         dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
                    )
            if combined is not None:
                written = combined.finish()
                for file_report in report.files:
                    if file_report.rejected:
                        file_report.rejects_path = written
            if (strict and report.rejected) or not report.loaded:
                # Nothing to write: --strict with a bad row, or no valid row at
                # all (no ledger entry, and no new database file).  ``loaded``
                # keeps counting the valid rows.
                sink.rollback()
                return report
            sink.commit()
            report.committed = True
        except BaseException:
            # Also on KeyboardInterrupt: roll back, then let it propagate.
            sink.rollback()
            raise
    except sink.errors as exc:
        raise MoviedashError(f"cannot load into {parse_target(db).display}: {exc}") from None
    finally:
        for unfinished in (combined, *per_file):
            if unfinished is not None:
                unfinished.discard()
        sink.close()
    return report


def _refuse_duplicate(sink: _Sink, path: Path, sha: str) -> None:
    row = sink.previous_load(sha)
    if row is not None:
        raise MoviedashError(
            f"{path} was already loaded (same content as {row[0]}, loaded {row[1]}); "
            "nothing loaded. Use --force to load it again."
        )
