"""The binned counts the rollups keep (``md_engagement_bins``): packing, bins, per-event contributions, serving."""
from __future__ import annotations

import dataclasses
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from moviedash import metrics
from moviedash.metrics import MeasureSettings
from moviedash.params import Filters
from moviedash.rollups import BIN_COLUMNS
from moviedash.rollups.aggregator import engagement_bins, pair_sum, play_units
from moviedash.rollups.serve import bin_rows
from moviedash.rollups.tables import BIN_ARRAYS, pack, pack_rows, unpack, unpack_rows

P90 = metrics.measure("quality_p90").aggregation
assert isinstance(P90, metrics.Distribution)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_columns_follow_the_declarations() -> None:
    assert BIN_COLUMNS == ("quality_bins", "completion_bins", "quality_completion")
    assert P90.rollup == "quality_bins" and P90.bin_units == 100  # the quantile's 0.01-wide bins
    assert BIN_ARRAYS == {"quality_bins": 2, "completion_bins": 1, "quality_completion": 3}
    assert metrics.COMPLETION_HISTOGRAM.bin_units == 100_000 and metrics.COMPLETION_BY_QUALITY.bin_units == 10_000


def test_packing_by_hand() -> None:
    blob = pack([ints(1, -2), ints(3, 4)])
    assert blob == b"\x04" + struct.pack("<4i", 1, -2, 3, 4)
    assert [a.tolist() for a in unpack(blob, 2)] == [[1, -2], [3, 4]]
    # One value beyond int32 makes the whole blob int64: nothing is ever cut.
    wide = pack([ints(2**31, 5), ints(1, 1)])
    assert wide == b"\x08" + struct.pack("<4q", 2**31, 5, 1, 1)
    assert [a.tolist() for a in unpack(wide, 2)] == [[2**31, 5], [1, 1]]
    assert pack([ints(-(2**31))]) == b"\x04" + struct.pack("<i", -(2**31))
    assert pack([ints(), ints()]) == b"\x04"
    assert [a.tolist() for a in unpack(b"\x04", 3)] == [[], [], []]
    assert unpack(memoryview(blob), 2)[1].dtype == np.int64  # PostgreSQL may hand back a memoryview
    with pytest.raises(ValueError):
        unpack(b"\x04" + struct.pack("<3i", 1, 2, 3), 2)  # not two equal arrays
    with pytest.raises(ValueError):
        unpack(b"\x02\x00\x00", 1)


def test_bins_by_hand() -> None:
    # The completion histogram: 10 % wide, 100 % in the last bin, below 0 % in the first (as the raw SQL).
    cases = {0: 0, 99_999: 0, 100_000: 1, 899_999: 8, 900_000: 9, 999_999: 9, 1_000_000: 9, -5: 0, -150_000: 0}
    for units, expected in cases.items():
        assert metrics.completion_bin(units) == expected, units
    assert metrics.completion_bin(ints(*cases)).tolist() == list(cases.values())
    # Uniform bins floor, also below 0 (the raw SQL's CASE does the same in integers).
    assert [P90.bin_of(u) for u in (70_000, 70_099, 70_100, 0, -1, -100, -101)] == [700, 700, 701, 0, -1, -1, -2]
    assert P90.bin_of(ints(70_000, -101)).tolist() == [700, -2]
    assert [metrics.COMPLETION_BY_QUALITY.bin_of(u) for u in (12_500, 95_000, 99_999, -1)] == [1, 9, 9, -1]
    with pytest.raises(ValueError):
        metrics.Distribution("x", edges=(0, 1)).bin_of(1)


def _contributions(settings: MeasureSettings) -> dict[str, list[list[int]]]:
    # Exactly 90 %, capped 104.5 %, no values, 50 % (a 4-minute event), 89.99995 % (rounds to 90).
    minutes = ints(45, 30, 10, 4, 50)
    columns = {
        "viewpercentage": pa.array([90.0, 104.5, None, 50.0, 89.99995], type=pa.float64()),
        "errorperception": pa.array([7.0, 7.00005, None, 9.5, 1.25], type=pa.float64()),
    }
    play = minutes >= settings.min_minutes
    out = engagement_bins(ints(0, 0, 1, 1, 0), play_units(columns), play)
    return {c: [k.tolist(), b.tolist(), *(v.tolist() for v in vs)] for c, (k, b, vs) in out.items()}


def test_hand_worked_contributions() -> None:
    assert _contributions(MeasureSettings()) == {
        # (key, 0.01 bin) of each play counted: 7.00005 is 70001 units, in bin 700 with 7.0
        "quality_bins": [[0, 0, 1, 0], [700, 700, 950, 125]],
        "completion_bins": [[0, 0, 1, 0], [9, 9, 5, 9]],
        # (key, one-unit bin, capped completion units)
        "quality_completion": [[0, 0, 1, 0], [7, 7, 9, 1], [900_000, 1_000_000, 500_000, 900_000]],
    }
    # min_minutes: the 4-minute event is no play; the settings of direction and thresholds bin nothing.
    other = MeasureSettings(min_minutes=10, watched_threshold=50, poor_quality_threshold=1,
                            errorperception_higher_is_worse=False)
    assert _contributions(other) == {
        "quality_bins": [[0, 0, 0], [700, 700, 125]],
        "completion_bins": [[0, 0, 0], [9, 9, 9]],
        "quality_completion": [[0, 0, 0], [7, 7, 1], [900_000, 1_000_000, 900_000]],
    }


def test_pair_sum_groups_key_and_bin() -> None:
    keys, bins, (plays, units) = pair_sum(ints(1, 0, 1, 1, 0), ints(7, -3, 7, 2, -3), [ints(5, 6, 7, 8, 9)],
                                          counted=True)
    assert (keys.tolist(), bins.tolist(), plays.tolist(), units.tolist()) == (
        [0, 1, 1], [-3, 2, 7], [2, 1, 2], [15, 8, 12]
    )
    # Bins too far apart for one 62-bit sort key: the same sums by the other way.
    far = pair_sum(ints(1, 0, 1), ints(2**61, -(2**61), 2**61), [ints(1, 2, 3)])
    assert [a.tolist() for a in (far[0], far[1], *far[2])] == [[0, 1], [-(2**61), 2**61], [2, 4]]
    (counts,) = pair_sum(ints(0, 0), ints(1, 1), [], counted=True)[2]
    assert counts.tolist() == [2]
    assert [a.tolist() for a in (*pair_sum(ints(), ints(), [ints()])[:2],)] == [[], []]


def test_blobs_are_unpacked_at_once_as_one_by_one() -> None:
    blobs = [pack([ints(1, 2), ints(3, 4)]), pack([ints(), ints()]), pack([ints(2**40), ints(5)]),
             pack([ints(-7), ints(9)])]
    lengths, (bins, counts) = unpack_rows(blobs, 2)
    assert lengths.tolist() == [2, 0, 1, 1]
    assert (bins.tolist(), counts.tolist()) == ([1, 2, 2**40, -7], [3, 4, 5, 9])  # in blob order, int64 or not
    assert [a.tolist() for a in unpack_rows([], 3)[1]] == [[], [], []]
    with pytest.raises(ValueError):
        unpack_rows([b"\x04" + struct.pack("<3i", 1, 2, 3)], 2)


def test_rows_are_packed_at_once_as_one_by_one() -> None:
    bins, counts = ints(3, 5, 700, 1, 2), ints(1, 2, 3, 4, 5)
    starts, ends = ints(0, 3, 3, 4), ints(3, 3, 4, 5)  # three entries, none, one, one
    assert pack_rows([bins, counts], starts, ends) == [
        pack([bins[a:b], counts[a:b]]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    assert pack_rows([bins, counts], starts, ends)[0] == b"\x04" + struct.pack("<6i", 3, 5, 700, 1, 2, 3)
    # One value beyond int32: every row of the batch is int64 (each blob says so).
    wide = pack_rows([ints(1, 2**40)], ints(0, 1), ints(1, 2))
    assert wide == [b"\x08" + struct.pack("<q", 1), b"\x08" + struct.pack("<q", 2**40)]
    assert pack_rows([ints(), ints()], ints(0, 0), ints(0, 0)) == [b"\x04", b"\x04"]
    assert pack_rows([ints()], ints(), ints()) == []


class Rows:
    """A stand-in connection answering every query with ``rows`` (what ``md_engagement_bins`` holds)."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.sql: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        self.sql.append(sql)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)


def test_served_bins_sum_across_rows_and_give_the_quantile() -> None:
    conn = Rows([
        ("TV", pack([ints(700, 950), ints(3, 1)])),
        ("Phone", pack([ints(125), ints(1)])),
        ("TV", pack([ints(700), ints(2)])),
        ("Tablet", pack([ints(), ints()])),  # plays without a value: no bins, no group
    ])
    got = bin_rows(conn, ["device"], "quality_bins", Filters())  # type: ignore[arg-type]
    assert {k: [a.tolist() for a in v] for k, v in got.items()} == {
        "TV": [[700, 950], [5, 1]], "Phone": [[125], [1]],
    }
    assert "FROM md_engagement_bins" in conn.sql[0]
    tv = dict(zip(*(a.tolist() for a in got["TV"]), strict=True))
    assert P90.bin_quantile(tv) == 9.5  # rank ceil(0.9 * 6) = 6 of 700 ×5, 950 ×1
    assert dataclasses.replace(P90, descending=True).bin_quantile(tv) == 7.0  # higher is better: from the top


def test_served_dense_histogram_and_completion_by_quality() -> None:
    first, second = np.arange(10, dtype=np.int64), np.ones(10, dtype=np.int64)
    conn = Rows([("MOVIE", pack([first])), ("SERIES", pack([second])), ("MOVIE", pack([second]))])
    got = bin_rows(conn, ["sessiontype"], "completion_bins", Filters())  # type: ignore[arg-type]
    assert {k: v[0].tolist() for k, v in got.items()} == {"MOVIE": list(range(1, 11)), "SERIES": [1] * 10}
    conn = Rows([(pack([ints(1, 7), ints(1, 2), ints(100, 300)]),), (pack([ints(7), ints(1), ints(50)]),)])
    (bins, plays, units), = bin_rows(conn, [], "quality_completion", Filters()).values()  # type: ignore[arg-type]
    assert (bins.tolist(), plays.tolist(), units.tolist()) == ([1, 7], [1, 3], [100, 350])
    with pytest.raises(ValueError):
        bin_rows(conn, [], "plays", Filters())  # type: ignore[arg-type]
