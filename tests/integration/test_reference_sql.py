"""The reference's rounding rule is reproducible in SQL, byte for byte, on both backends.

``tests/reference.py`` defines every served number as the exact fraction of two
integer sums, rounded half away from zero in integer arithmetic.  These queries
follow that rule (plain SQL both engines run) over generated demo data, and must
give exactly the reference's doubles.  They are not the product's queries; they
show that the rule the later SQL and rollups must follow can be followed.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from moviedash.ingest.demo import generate_events
from moviedash.store import COLUMNS
from tests import reference as ref
from tests.conftest import query

#: Per device: the 4-decimal integers of the capped completion, the quality and the full-watch share.
_UNITS_SQL = """
SELECT device,
       CASE WHEN viewpercentage IS NULL THEN NULL
            WHEN CAST(floor(viewpercentage * 10000 + 0.5) AS BIGINT) > 1000000 THEN 1000000
            ELSE CAST(floor(viewpercentage * 10000 + 0.5) AS BIGINT) END AS c,
       CASE WHEN errorperception IS NULL THEN NULL
            ELSE CAST(floor(errorperception * 10000 + 0.5) AS BIGINT) END AS q,
       CASE WHEN runningtime > 0
            THEN (2 * CAST(totalminuteswatched AS BIGINT) * 10000 + runningtime) / (2 * runningtime) END AS f
FROM movies
"""
# r = (2 * num * 10^d + den) // (2 * den), served as r / 10^d (all sums are non-negative here).
_MEASURES_SQL = f"""
WITH u AS ({_UNITS_SQL}),
t AS (
    SELECT device,
           CAST(SUM(c) AS BIGINT) AS c_sum, COUNT(c) AS c_n,
           CAST(SUM(q) AS BIGINT) AS q_sum, COUNT(q) AS q_n,
           CAST(SUM(f) AS BIGINT) AS f_sum, COUNT(f) AS f_n
    FROM u GROUP BY device
)
SELECT device,
       CASE WHEN c_n > 0 THEN CAST((2 * c_sum * 100 + c_n * 10000) / (2 * c_n * 10000) AS DOUBLE PRECISION) / 100 END,
       CASE WHEN q_n > 0 THEN CAST((2 * q_sum * 1000 + q_n * 10000) / (2 * q_n * 10000) AS DOUBLE PRECISION) / 1000
       END,
       CASE WHEN f_n > 0 THEN CAST((2 * f_sum * 100 + 10000) / 20000 AS DOUBLE PRECISION) / 100 END
FROM t ORDER BY device
"""


def _events(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]


def test_sql_follows_the_reference_rounding_exactly(make_db: Callable[..., Path]) -> None:
    frame = pd.concat(list(generate_events(3_000, 11)), ignore_index=True)
    db = make_db(_events(frame))
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    assert len(stored) == 3_000
    got = {row[0]: row[1:] for row in query(db, _MEASURES_SQL)}
    expected = {
        row["device"]: tuple(
            next(r["values"] for r in ref.breakdown(stored, measure, "device") if r["device"] == row["device"])
            for measure in ("completion", "quality", "full_watches")
        )
        for row in ref.breakdown(stored, "completion", "device")
    }
    assert set(got) == {"Computer", "iPad", "TV"}
    # Byte-identical: the same doubles, so the same JSON text.
    assert {k: tuple(repr(v) for v in vs) for k, vs in got.items()} == {
        k: tuple(repr(v) for v in vs) for k, vs in expected.items()
    }


@pytest.mark.parametrize("value", [0.125, 1.005, 97.7528, 7.20773993054407, 100.00004, 99.99995])
def test_sql_takes_values_to_four_decimals_like_the_reference(make_db: Callable[..., Path], value: float) -> None:
    db = make_db([{"event_date": "2024-01-01 10:00:00", "userid": "u", "totalminuteswatched": 1,
                   "viewpercentage": value, "errorperception": value, "device": "TV"}])
    (q,) = query(db, "SELECT CAST(floor(errorperception * 10000 + 0.5) AS BIGINT) FROM movies")[0]
    assert q == ref.quantise(value)
