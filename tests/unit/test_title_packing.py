"""The compact packing of the per-title engagement arrays (:mod:`moviedash.rollups.packing`)."""
from __future__ import annotations

import numpy as np
import pytest

from moviedash import metrics
from moviedash.rollups import DECILE_UNITS, DECILES, TITLE_ENGAGEMENT_COLUMNS
from moviedash.rollups.packing import (
    pack_code_runs,
    pack_codes,
    pack_column_rows,
    pack_columns,
    unpack_codes,
    unpack_columns,
)


def test_the_title_columns_are_the_top_list_ranks_ratio_parts() -> None:
    assert metrics.TITLE_RANKS == ("completion", "full_watches")
    assert TITLE_ENGAGEMENT_COLUMNS == ("completion_units", "completion_plays", "full_watch_units", "full_watch_plays")
    for name in metrics.TITLE_RANKS:
        aggregation = metrics.measure(name).aggregation
        assert isinstance(aggregation, metrics.Ratio)
        parts = metrics.ratio_rollups(aggregation)
        assert parts is not None and {p for p in parts if p} <= set(TITLE_ENGAGEMENT_COLUMNS)


def test_deciles_hold_every_stop_point() -> None:
    assert DECILES == 11 and DECILE_UNITS == 10 * metrics.UNITS
    # A play at exactly a stop point is in the decile that starts there (the raw SQL's ``>=``).
    assert [at * metrics.UNITS // DECILE_UNITS for at in metrics.STOP_POINTS] == list(range(1, 11))


@pytest.mark.parametrize(("values", "width"), [
    ([], 1), ([0], 1), ([127, -128], 1), ([128], 2), ([-129], 2), ([32767, -32768], 2), ([32768], 4),
    ([1_000_000, 5], 4), ([2**31 - 1, -(2**31)], 4), ([2**31], 8), ([-(2**31) - 1], 8), ([2**63 - 1, -(2**63)], 8),
])
def test_columns_take_the_narrowest_width(values: list[int], width: int) -> None:
    column = np.array(values, dtype=np.int64)
    blob = pack_columns([column, np.zeros(len(values), dtype=np.int64)])
    assert blob[0] == width and len(blob) == 1 + width * len(values) + 1 + len(values)
    first, second = unpack_columns(blob, 2, len(values))
    assert first.dtype == np.int64 and first.tolist() == values and second.tolist() == [0] * len(values)


def test_columns_are_little_endian() -> None:
    assert pack_columns([np.array([1, 258])]) == bytes([2, 1, 0, 2, 1])


def test_bad_column_blobs_are_refused() -> None:
    blob = pack_columns([np.array([1, 2, 3])])
    with pytest.raises(ValueError, match="shorter"):
        unpack_columns(blob, 1, 4)
    with pytest.raises(ValueError, match="longer"):
        unpack_columns(blob, 1, 2)
    with pytest.raises(ValueError, match="width"):
        unpack_columns(bytes([3, 0, 0, 0]), 1, 1)


@pytest.mark.parametrize("codes", [[], [0], [10], [1, 2], [3, 0, 15], list(range(16)) * 3])
def test_codes_two_to_a_byte(codes: list[int]) -> None:
    blob = pack_codes(np.array(codes, dtype=np.int64))
    assert len(blob) == (len(codes) + 1) // 2
    assert unpack_codes(blob, len(codes)).tolist() == codes


def test_codes_low_nibble_first_and_checked() -> None:
    assert pack_codes(np.array([1, 2, 3])) == bytes([0x21, 0x03])
    with pytest.raises(ValueError):
        pack_codes(np.array([16]))
    with pytest.raises(ValueError):
        unpack_codes(bytes([0x21]), 3)


def test_vectorised_row_packing_equals_packing_each_row() -> None:
    rng = np.random.default_rng(14)
    for _ in range(100):
        lengths = rng.integers(1, 6, size=int(rng.integers(1, 30)))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        ends = starts + lengths
        size = int(lengths.sum())
        columns = [rng.integers(-(2 ** int(rng.integers(1, 63))), 2 ** int(rng.integers(1, 63)), size=size)
                   for _ in range(4)]
        assert pack_column_rows(columns, starts, ends) == [
            pack_columns([c[a:b] for c in columns]) for a, b in zip(starts, ends, strict=True)
        ]
        runs = rng.integers(0, 6, size=len(lengths))
        codes = rng.integers(0, DECILES, size=int(runs.sum()))
        bounds = np.concatenate(([0], np.cumsum(runs)))
        assert pack_code_runs(codes, runs) == [
            pack_codes(codes[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]


def test_vectorised_packing_checks_its_input() -> None:
    assert pack_column_rows([np.array([1])], np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == []
    with pytest.raises(ValueError, match="entry"):
        pack_column_rows([np.array([1])], np.array([0, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match="cover"):
        pack_code_runs(np.array([1, 2]), np.array([1]))
