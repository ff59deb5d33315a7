"""The per-event engagement sums the rollups keep (:func:`moviedash.rollups.aggregator.engagement_sums`)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from moviedash import metrics
from moviedash.metrics import MeasureSettings
from moviedash.rollups import ENGAGEMENT_COLUMNS
from moviedash.rollups.aggregator import engagement_sums


def test_every_ratio_part_is_a_rollup_column() -> None:
    ratios = [m for m in metrics.ENGAGEMENT if isinstance(m.aggregation, metrics.Ratio)]
    assert len(ratios) == 5
    for m in ratios:
        assert isinstance(m.aggregation, metrics.Ratio)
        columns = metrics.ratio_rollups(m.aggregation)
        assert columns is not None, m.name
        assert {c for c in columns if c is not None} <= set(ENGAGEMENT_COLUMNS)
    assert ENGAGEMENT_COLUMNS == ("plays", *metrics.ENGAGEMENT_ROLLUPS)


def _sums(settings: MeasureSettings, quantised: bool = False) -> dict[str, list[int]]:
    # Edges: exactly 90 %, capped 104.5 %, no percentage, running time 0 and missing, a short event.
    minutes = np.array([45, 30, 10, 4, 50], dtype=np.int64)
    percentage: list = [90.0, 104.5, None, 50.0, 89.99995]
    quality: list = [7.0, 7.00005, None, 9.5, 1.25]
    if quantised:
        percentage = [None if v is None else metrics.quantise(v) for v in percentage]
        quality = [None if v is None else metrics.quantise(v) for v in quality]
    kind = pa.int64() if quantised else pa.float64()
    columns = {
        "viewpercentage": pa.array(percentage, type=kind),
        "runningtime": pa.array([50, 0, None, 8, 100], type=pa.int64()),
        "errorperception": pa.array(quality, type=kind),
    }
    return {c: v.tolist() for c, v in engagement_sums(columns, minutes, settings, quantised).items()}


def test_hand_worked_contributions() -> None:
    got = _sums(MeasureSettings())
    assert got == {
        "plays": [1, 1, 1, 1, 1],
        "completion_units": [900_000, 1_000_000, 0, 500_000, 900_000],  # 89.99995 rounds half up to 90.0000
        "completion_plays": [1, 1, 0, 1, 1],
        "completed": [1, 1, 0, 0, 1],
        "full_watch_units": [9_000, 0, 0, 5_000, 5_000],  # 45/50, 4/8, 50/100
        "full_watch_plays": [1, 0, 0, 1, 1],
        "quality_units": [70_000, 70_001, 0, 95_000, 12_500],
        "quality_plays": [1, 1, 0, 1, 1],
        "poor_plays": [0, 1, 0, 1, 0],  # strictly above 7.0
    }
    assert _sums(MeasureSettings(), quantised=True) == got


def test_settings_decide_plays_completed_and_poor() -> None:
    got = _sums(MeasureSettings(min_minutes=10, watched_threshold=95.0, poor_quality_threshold=5.0,
                                errorperception_higher_is_worse=False))
    assert got["plays"] == [1, 1, 1, 0, 1]
    assert got["completed"] == [0, 1, 0, 0, 0]
    assert got["poor_plays"] == [0, 0, 0, 0, 1]  # below 5.0 when higher is better
    assert got["full_watch_units"] == [9_000, 0, 0, 0, 5_000]  # the short event is no play
