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
