"""The arithmetic of concentration and heavy viewers, its reference, and the per-viewer rollup packing, by hand."""
from __future__ import annotations

import numpy as np
import pytest

from moviedash.concentration import (
    Concentration,
    ViewerDistribution,
    concentration_of,
    distribution_of,
    nearest_rank,
    top_count,
)
from moviedash.rollups.viewer_sums import ViewerSums, pack_viewers, unpack_viewers
from tests import reference as ref
from tests.helpers import event


@pytest.mark.parametrize(("percent", "n", "k"), [(1, 1, 1), (1, 100, 1), (1, 101, 2), (10, 3, 1), (50, 3, 2),
                                                  (50, 4, 2), (10, 0, 0), (1, 250, 3)])
def test_top_count_is_the_ceiling(percent: int, n: int, k: int) -> None:
    # ceil(p * n / 100): 1 % of 101 viewers is 1.01 -> 2 viewers; of 250 it is 2.5 -> 3.
    assert top_count(percent, n) == k


def test_two_viewers_by_hand_and_by_the_reference() -> None:
    # m = (1, 3): G = (2 * 7 - 3 * 4) / 8 = 0.25; y(0.25) = 0.125, y(0.5) = 0.25, y(0.75) = 0.625.
    got = concentration_of([3, 1])
    assert (got.viewers, got.minutes, got.gini) == (2, 4, 0.25)
    assert [got.lorenz[j] for j in (25, 50, 75)] == [(0.25, 0.125), (0.5, 0.25), (0.75, 0.625)]
    events = [event("2024-01-01 10:00:00", "a", minutes=1), event("2024-01-01 11:00:00", "b", minutes=3)]
    assert ref.concentration(events) == got.as_json()


def test_one_viewer_who_watched_everything_among_many() -> None:
    # n = 5, one viewer with 10 minutes: G = (2 * 5 * 10 - 6 * 10) / (5 * 10) = 40/50 = 0.8 = (n - 1)/n.
    got = concentration_of([0, 0, 0, 0, 10])
    assert got.gini == 0.8 and got.as_json()["top_shares"] == {"1": 100.0, "10": 100.0, "50": 100.0}
    # The lightest 80 % watched nothing: y(0.8) = 0; y(0.9) = (0 + 0.5 * 10) / 10 = 0.5.
    assert got.lorenz[80] == (0.8, 0.0) and got.lorenz[90] == (0.9, 0.5)


def test_a_large_skewed_selection_matches_the_reference_formula() -> None:
    rng = np.random.default_rng(1)
    minutes = rng.zipf(1.6, 3_000).clip(0, 10**6)
    got = concentration_of(minutes)
    # The reference's Gini is the mean absolute difference (O(n²)): on a sample here.
    events = [event("2024-01-01 10:00:00", f"u{i}", minutes=int(m)) for i, m in enumerate(minutes[:400])]
    assert ref.concentration(events) == concentration_of(minutes[:400]).as_json()
    assert 0.5 < got.gini < 1 and got.lorenz[0] == (0.0, 0.0) and got.lorenz[-1] == (1.0, 1.0)
    assert all(a[1] <= b[1] for a, b in zip(got.lorenz, got.lorenz[1:], strict=False))


def test_nearest_rank_percentiles() -> None:
    # (1, 1, 2, 7): p50 rank 2 -> 1, p90 rank ceil(3.6) = 4 -> 7.
    assert [nearest_rank([1, 1, 2, 7], p) for p in (50, 90, 99)] == [1, 7, 7]
    assert nearest_rank([], 50) is None
    assert nearest_rank(list(range(1, 101)), 99) == 99 and nearest_rank(list(range(1, 102)), 99) == 100


def test_stored_answers_read_back_equal() -> None:
    got = concentration_of([5, 1, 3, 3, 9])
    assert Concentration.from_stored(got.stored()) == got
    plays = distribution_of("plays", [1, 2, 2, 150])
    assert ViewerDistribution.from_json(plays.as_json()) == plays
    assert plays.frame()["to"].isna().tolist() == [False] * 7 + [True]


def test_viewer_packing_round_trips() -> None:
    # Two rows: ids far beyond a 2-byte width (the first is kept apart), then small gaps; a row needing 8 bytes.
    users = np.array([70_000, 70_001, 70_400, 5, 2**31 + 7], dtype=np.int64)
    plays = np.array([1, 2, 1, 300, 1], dtype=np.int64)
    minutes = np.array([10, 0, 40_000, 7, 2**40], dtype=np.int64)
    starts, ends = np.array([0, 3]), np.array([3, 5])
    blobs = pack_viewers(users, plays, minutes, starts, ends)
    # Row 1: 8 header bytes + 3 widths + gaps (0, 1, 399: 2 bytes) + plays (1 byte) + minutes (40,000: 4 bytes).
    assert len(blobs[0]) == 8 + 3 + 3 * (2 + 1 + 4)
    got = unpack_viewers(blobs)
    assert [a.tolist() for a in got] == [users.tolist(), plays.tolist(), minutes.tolist()]
    assert [a.tolist() for a in unpack_viewers(blobs[1:])] == [[5, 2**31 + 7], [300, 1], [7, 2**40]]
    assert [len(a) for a in unpack_viewers([])] == [0, 0, 0]


def test_viewer_sums_leave_out_the_anonymous_and_empty_ids() -> None:
    sums = ViewerSums()
    codes = {"u1": 0, "": 1, ref.ANONYMOUS_USER: 2, "u2": 3}
    # Batch 1: key 0: u1 twice (5 + 7 minutes), the empty id, the anonymous id; key 1: u2, and -1 (no play).
    sums.add(np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 1, 2, 3, -1]), np.array([5, 7, 9, 9, 4, 100]), codes)
    # Batch 2: key 1: u1 with a negative minutes value (counted as 0), u2 again.
    sums.add(np.array([1, 1]), np.array([0, 3]), np.array([-3, 6]), codes)
    sums.finish(np.array([0, 0]))  # both keys in one month
    assert sums.days is not None and sums.months is not None
    assert sums.days.entries.tolist() == [0 << 32 | 0, 1 << 32 | 0, 1 << 32 | 3]
    assert (sums.days.plays.tolist(), sums.days.minutes.tolist()) == ([2, 1, 2], [12, 0, 10])
    assert (sums.months.entries.tolist(), sums.months.plays.tolist(), sums.months.minutes.tolist()) == (
        [0, 3], [3, 2], [12, 10])
