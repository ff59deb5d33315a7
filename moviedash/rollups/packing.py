"""Compact packings of per-title integer arrays (the engagement blobs of ``md_title_day``/``md_title_month``).

Why not int64 like ``plays`` and ``minutes``: a (day, dims) row holds one
entry per title seen, and most entries hold one play, so their engagement sums
fit in a byte or two.  Packed at the narrowest width, the per-title engagement
adds ~10 bytes per entry instead of ~120 (see docs/performance.md).

- :func:`pack_columns`: several int64 columns of equal length, each as a
  width byte (1, 2, 4 or 8) followed by its values as little-endian signed
  integers of that width;
- :func:`pack_codes`: small codes (0-15) two to a byte, the first in the low
  nibble (an odd count leaves the last high nibble 0).
"""
from __future__ import annotations

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
