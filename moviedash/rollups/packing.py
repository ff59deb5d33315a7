"""Compact packings of the rollups' integer arrays (per title, per viewer).

Why not int64 like ``plays`` and ``minutes``: a (day, dims) row holds one
entry per title seen, and most entries hold one play, so their engagement sums
fit in a byte or two.  Packed at the narrowest width, the per-title engagement
adds ~10 bytes per entry instead of ~120 (see docs/performance.md).

- :func:`pack_columns`: several int64 columns of equal length, each as a
  width byte (1, 2, 4 or 8) followed by its values as little-endian signed
  integers of that width;
- :func:`pack_codes`: small codes (0-15) two to a byte, the first in the low
  nibble (an odd count leaves the last high nibble 0);
- :func:`pack_id_rows`: rows of ascending ids (users) with per-entry columns, the ids as
  gaps (``md_viewer_day``/``md_viewer_month``, ``md_title_viewers``).

The per-title ``plays`` and ``minutes`` of ``md_title_day``/``md_title_month`` are one
:func:`pack_columns` column each (most entries: one play, under 32,768 minutes).
"""
from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

_WIDTHS = (1, 2, 4, 8)


def _width(values: np.ndarray) -> int:
    """The narrowest signed width (bytes) holding every value."""
    if not len(values):
        return 1
    low, high = int(values.min()), int(values.max())
    for width in _WIDTHS:
        bound = 1 << (8 * width - 1)
        if -bound <= low and high < bound:
            return width
    raise OverflowError("values beyond int64")


def pack_columns(columns: Sequence[np.ndarray]) -> bytes:
    """``columns`` (integers, equal lengths) as one blob, each at its narrowest width."""
    parts: list[bytes] = []
    for values in columns:
        width = _width(values)
        parts.append(bytes((width,)))
        parts.append(np.asarray(values).astype(f"<i{width}").tobytes())
    return b"".join(parts)


def unpack_columns(blob: bytes, count: int, length: int) -> list[np.ndarray]:
    """The ``count`` int64 columns of ``length`` values each that :func:`pack_columns` packed into ``blob``."""
    view = memoryview(blob)
    out: list[np.ndarray] = []
    at = 0
    for _ in range(count):
        width = view[at]
        if width not in _WIDTHS:
            raise ValueError(f"bad column width {width} at byte {at}")
        end = at + 1 + width * length
        if end > len(view):
            raise ValueError("blob shorter than its columns")
        out.append(np.frombuffer(view[at + 1:end], dtype=f"<i{width}").astype(np.int64))
        at = end
    if at != len(view):
        raise ValueError("blob longer than its columns")
    return out


def pack_codes(codes: np.ndarray) -> bytes:
    """Codes 0-15, two to a byte (the first in the low nibble)."""
    codes = np.asarray(codes, dtype=np.uint8)
    if len(codes) and int(codes.max()) > 15:
        raise ValueError("codes must be 0-15")
    if len(codes) % 2:
        codes = np.append(codes, np.uint8(0))
    return (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8).tobytes()


def unpack_codes(blob: bytes, length: int) -> np.ndarray:
    """The first ``length`` codes of a :func:`pack_codes` blob."""
    if (length + 1) // 2 != len(blob):
        raise ValueError(f"{len(blob)} bytes do not hold {length} codes")
    packed = np.frombuffer(blob, dtype=np.uint8)
    codes = np.empty(2 * len(packed), dtype=np.uint8)
    codes[0::2] = packed & 15
    codes[1::2] = packed >> 4
    return codes[:length]


def pack_column_rows(columns: Sequence[np.ndarray], starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """:func:`pack_columns` of the rows ``[starts[i], ends[i])`` of ``columns``, each row non-empty.

    Vectorised (a row's widths by ``reduceat``, each column converted once per width): the loader
    packs tens of thousands of rows per load, too many for a Python call per row and column.
    """
    if not len(starts):
        return []
    if int((ends - starts).min()) < 1:
        raise ValueError("every row needs an entry")
    parts: list[tuple[list[bytes], np.ndarray, dict[int, bytes]]] = []
    for values in columns:
        values = np.asarray(values, dtype=np.int64)
        low, high = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
        widths = np.full(len(starts), 8, dtype=np.int64)
        for width in reversed(_WIDTHS[:-1]):  # narrowest last, so it wins
            bound = 1 << (8 * width - 1)
            widths[(low >= -bound) & (high < bound)] = width
        # Out-of-range values wrap in the wider conversions' unused rows: only each row's own width is read.
        converted = {int(w): values.astype(f"<i{int(w)}").tobytes() for w in np.unique(widths)}
        parts.append(([bytes((w,)) for w in range(9)], widths, converted))
    out: list[bytes] = []
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        pieces: list[bytes] = []
        for marks, widths, converted in parts:
            w = int(widths[i])
            pieces.append(marks[w])
            pieces.append(converted[w][a * w:b * w])
        out.append(b"".join(pieces))
    return out


def pack_code_runs(codes: np.ndarray, lengths: np.ndarray) -> list[bytes]:
    """:func:`pack_codes` of consecutive runs of ``codes`` (run ``i`` holds ``lengths[i]`` codes), vectorised."""
    codes = np.asarray(codes, dtype=np.uint8)
    lengths = np.asarray(lengths, dtype=np.int64)
    if int(lengths.sum()) != len(codes):
        raise ValueError("the runs must cover the codes")
    if len(codes) and int(codes.max()) > 15:
        raise ValueError("codes must be 0-15")
    # Each run padded to an even length with a 0 code, then two codes to a byte.
    at = np.concatenate(([0], np.cumsum(lengths + lengths % 2)))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    spread = np.zeros(int(at[-1]), dtype=np.uint8)
    spread[np.repeat(at[:-1] - starts, lengths) + np.arange(len(codes))] = codes
    packed = (spread[0::2] | (spread[1::2] << 4)).astype(np.uint8).tobytes()
    return [packed[a // 2:b // 2] for a, b in zip(at[:-1].tolist(), at[1:].tolist(), strict=True)]


# --------------------------------------------------------------------------- #
# Rows of ascending ids with per-entry columns (the viewer sums, the title viewers)
# --------------------------------------------------------------------------- #

#: A row's header: its entry count and first id (two little-endian uint32).
_ID_HEADER = struct.Struct("<II")
_ID_HEADER_DTYPE = np.dtype([("count", "<u4"), ("first", "<u4")])


def pack_id_rows(ids: np.ndarray, columns: Sequence[np.ndarray], starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """One blob per non-empty row ``[starts[i], ends[i])``: ``ids`` ascending within a row (repeats allowed),
    each entry with its values of ``columns``.  The blob: the row's entry count and first id, then
    :func:`pack_columns` of the gaps between its ids (0 first) and of each column -- ascending ids'
    gaps fit a byte or two where the ids themselves take four."""
    if not len(starts):
        return []
    gaps = np.diff(ids, prepend=0)
    gaps[starts] = 0
    header = np.empty(len(starts), dtype=_ID_HEADER_DTYPE)
    header["count"] = ends - starts
    header["first"] = np.asarray(ids)[starts]
    heads = header.tobytes()
    bodies = pack_column_rows([gaps, *columns], starts, ends)
    return [heads[8 * i:8 * i + 8] + body for i, body in enumerate(bodies)]


def unpack_id_rows(blobs: Sequence[bytes], count: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """The entries of :func:`pack_id_rows` blobs of ``count`` columns, concatenated: the ids, the columns
    (int64) and each blob's entry count.

    Vectorised: one pass over the blobs reads only their headers and widths, then each
    (column, width) is gathered from the joined bytes at once -- a selection reads
    thousands of rows, too many for a numpy call per row and column.
    """
    n = len(blobs)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        return empty, [empty.copy() for _ in range(count)], empty.copy()
    data = b"".join(blobs)
    lengths: list[int] = []
    firsts: list[int] = []
    widths: list[list[int]] = [[] for _ in range(count + 1)]
    offsets: list[list[int]] = [[] for _ in range(count + 1)]
    at = 0
    for _ in range(n):
        length, first = _ID_HEADER.unpack_from(data, at)
        lengths.append(length)
        firsts.append(first)
        at += 8
        for k in range(count + 1):
            width = data[at]
            if width not in _WIDTHS:
                raise ValueError(f"bad column width {width} at byte {at}")
            widths[k].append(width)
            offsets[k].append(at + 1)
            at += 1 + width * length
    if at != len(data):
        raise ValueError("blobs longer than their columns")
    sizes = np.asarray(lengths, dtype=np.int64)
    buffer = np.frombuffer(data, dtype=np.uint8)
    row_start = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    out = [_gather(buffer, np.asarray(widths[k]), np.asarray(offsets[k], dtype=np.int64), sizes, row_start, total)
           for k in range(count + 1)]
    # Each row's ids are its first id plus the running sum of its gaps (one cumsum over all rows).
    running = np.cumsum(out[0])
    before = np.concatenate(([0], running))[row_start]
    ids = running + np.repeat(np.asarray(firsts, dtype=np.int64) - before, sizes)
    return ids, out[1:], sizes


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, without the Python loop."""
    total = int(lengths.sum())
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def _gather(buffer: np.ndarray, widths: np.ndarray, offsets: np.ndarray, sizes: np.ndarray, row_start: np.ndarray,
            total: int) -> np.ndarray:
    """One column of every row as int64: each width's rows' bytes gathered at once, put at their rows' places."""
    out = np.zeros(total, dtype=np.int64)
    for width in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == width)
        counts = sizes[rows]
        raw = buffer[_ragged(offsets[rows], counts * width)]
        out[_ragged(row_start[rows], counts)] = raw.view(f"<i{width}")
    return out


def pack_pairs(users: np.ndarray, titles: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    """``md_title_viewers`` rows: each row's distinct (user, title) pairs ordered by user then title,
    :func:`pack_id_rows` of the users with their titles (~4 bytes a pair instead of 8)."""
    return pack_id_rows(users, [titles], starts, ends)


def unpack_pairs(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of :func:`pack_pairs` blobs as ``title << 32 | user`` (int64), and each blob's pair count."""
    users, (titles,), sizes = unpack_id_rows(blobs, 1)
    return (titles << 32) | users, sizes


def unpack_column_rows(blobs: Sequence[bytes], count: int, lengths: np.ndarray) -> list[np.ndarray]:
    """:func:`unpack_columns` of many blobs at once (``lengths``: each blob's values per column): the
    ``count`` int64 columns of every blob, concatenated in blob order.

    Vectorised as :func:`unpack_id_rows`: one pass reads the blobs' widths, then each (column,
    width) is gathered from the joined bytes at once (a show page reads thousands of rows).
    """
    sizes = np.asarray(lengths, dtype=np.int64)
    if not len(blobs):
        return [np.zeros(0, dtype=np.int64) for _ in range(count)]
    data = b"".join(blobs)
    widths: list[list[int]] = [[] for _ in range(count)]
    offsets: list[list[int]] = [[] for _ in range(count)]
    at = 0
    for length in sizes.tolist():
        for k in range(count):
            width = data[at]
            if width not in _WIDTHS:
                raise ValueError(f"bad column width {width} at byte {at}")
            widths[k].append(width)
            offsets[k].append(at + 1)
            at += 1 + width * length
    if at != len(data):
        raise ValueError("blobs longer than their columns")
    buffer = np.frombuffer(data, dtype=np.uint8)
    row_start = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    return [_gather(buffer, np.asarray(widths[k]), np.asarray(offsets[k], dtype=np.int64), sizes, row_start, total)
            for k in range(count)]
