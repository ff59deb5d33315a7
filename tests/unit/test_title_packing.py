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
    pack_id_rows,
    pack_pairs,
    unpack_codes,
    unpack_columns,
    unpack_id_rows,
    unpack_pairs,
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


def test_id_rows_round_trip_whatever_each_rows_widths() -> None:
    # Random rows of ascending ids (repeats too) and two columns of mixed ranges, so that the rows' widths
    # differ column by column (1, 2, 4 and 8 bytes): the vectorised unpacking puts every value back in place.
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 40, 200)
    ids_parts, first, second = [], [], []
    for n in lengths.tolist():
        top = int(rng.choice([100, 70_000, 2**32 - 1]))
        ids_parts.append(np.sort(rng.integers(0, top, n)))
        scale = int(rng.choice([1, 300, 2**20, 2**40]))
        first.append(rng.integers(-scale, scale, n))
        second.append(rng.integers(0, 5, n))
    ids = np.concatenate(ids_parts)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    blobs = pack_id_rows(ids, [np.concatenate(first), np.concatenate(second)], starts, ends)
    got_ids, (got_first, got_second), sizes = unpack_id_rows(blobs, 2)
    assert got_ids.tolist() == ids.tolist()
    assert got_first.tolist() == np.concatenate(first).tolist()
    assert got_second.tolist() == np.concatenate(second).tolist()
    assert sizes.tolist() == lengths.tolist()
    # One blob at a time gives the same rows; a blob with a byte too many or a bad width is refused.
    one_ids, (one_first, _), one_size = unpack_id_rows(blobs[7:8], 2)
    assert one_ids.tolist() == ids[starts[7]:ends[7]].tolist() and one_size.tolist() == [lengths[7]]
    assert one_first.tolist() == first[7].tolist()
    with pytest.raises(ValueError, match="longer"):
        unpack_id_rows([blobs[0] + b"\x00"], 2)
    with pytest.raises(ValueError, match="width"):
        unpack_id_rows([blobs[0][:8] + b"\x03" + blobs[0][9:]], 2)
    empty_ids, empty_columns, empty_sizes = unpack_id_rows([], 2)
    assert len(empty_ids) == len(empty_sizes) == 0 and [len(c) for c in empty_columns] == [0, 0]


def test_title_viewer_pairs_pack_by_user_and_read_back_as_title_user() -> None:
    # Row 1: users 5 (titles 2, 9) and 70,000 (title 2); row 2: user 2**32 - 1, title 2**31 - 1.
    users = np.array([5, 5, 70_000, 2**32 - 1], dtype=np.int64)
    titles = np.array([2, 9, 2, 2**31 - 1], dtype=np.int64)
    blobs = pack_pairs(users, titles, np.array([0, 3]), np.array([3, 4]))
    # 8 header bytes, then gaps 0, 0, 69,995 (4 bytes each) and titles (1 byte each), each with its width byte.
    assert len(blobs[0]) == 8 + 1 + 3 * 4 + 1 + 3
    pairs, sizes = unpack_pairs(blobs)
    assert sizes.tolist() == [3, 1]
    assert pairs.tolist() == [(2 << 32) | 5, (9 << 32) | 5, (2 << 32) | 70_000, ((2**31 - 1) << 32) | (2**32 - 1)]
