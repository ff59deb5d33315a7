"""The engagement page's unfiltered answers stored at load (``md_results``): the rows the rollups would sum.

Every :func:`moviedash.rollups.serve.engagement_groupings` grouping and every title's completion
deciles, on both backends, after the demo's load and after an append load: read from the stored
rows (no ``md_engagement`` sum, no ``md_title_month`` read) and equal to what the rollups sum live.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from moviedash import rollups
from moviedash.cli import main
from moviedash.params import Filters
from moviedash.rollups import serve
from moviedash.store import connect_readonly, dialect_of
from tests.helpers import Recording, event

#: Everything, but not the unfiltered selection: the rollups sum it live.
EVERYTHING = Filters(start=dt.date(2000, 1, 1))


def assert_stored_equal_live(path: str) -> None:
    conn = connect_readonly(path)
    try:
        recording = Recording(conn)
        dialect = dialect_of(conn)
        for name, (keys, columns) in serve.engagement_groupings(dialect).items():
            stored = rollups.engagement_rows(recording, keys, columns, Filters(), stored=name)
            live = rollups.engagement_rows(conn, keys, columns, EVERYTHING)
            assert stored and sorted(stored) == sorted(live), name
            # A subset of the columns, in another order, as the measures ask.
            picked = list(reversed(columns[:2]))
            assert sorted(rollups.engagement_rows(recording, keys, picked, Filters(), stored=name)) == sorted(
                rollups.engagement_rows(conn, keys, picked, EVERYTHING)), name
        titles = [t for (t,) in conn.execute("SELECT title FROM md_titles").fetchall()]
        assert titles
        rated = 0
        for title in [*titles, "No such title"]:
            got = rollups.title_deciles(recording, title, Filters())
            assert got.tolist() == rollups.title_deciles(conn, title, EVERYTHING).tolist(), title
            rated += int(got.sum())
        assert rated > 0
        assert not any("md_engagement" in s or "md_title_month" in s for s in recording.statements)
        # A filtered selection is summed live, and so is a grouping not stored (the daily segments).
        recording.statements.clear()
        keys, columns = serve.engagement_groupings(dialect)["weekly"]
        rollups.engagement_rows(recording, keys, columns, Filters(device=("iPad",)), stored="weekly")
        assert any("md_engagement" in s for s in recording.statements)
        recording.statements.clear()
        daily = rollups.segment_keys("daily", dialect)
        assert sorted(rollups.engagement_rows(recording, daily, rollups.SEGMENT_COLUMNS, Filters(),
                                              stored="segments:daily")) == sorted(
            rollups.engagement_rows(conn, daily, rollups.SEGMENT_COLUMNS, EVERYTHING))
        assert any("md_engagement" in s for s in recording.statements)
    finally:
        conn.close()


def test_stored_rows_are_the_rollups_sums(db_target: Any, tmp_path: Path) -> None:
    path = str(db_target("demo"))
    result = CliRunner().invoke(main, ["demo", "--db", path, "--events", "3000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert_stored_equal_live(path)
    more = tmp_path / "more.csv"
    more.write_text("\n".join(",".join("" if v is None else str(v) for v in row) for row in (
        (e["event_date"], e["userid"], "c1", e["device"], e["market"], e["totalminuteswatched"], 100, 55.5, 3.5,
         e["sessiontype"], e["title"], "", "")
        for e in (event("2024-01-03 10:00:00", "new1", device="iPad"), event("2030-01-01 10:00:00", "new2"))
    )) + "\n")
    result = CliRunner().invoke(main, ["load", str(more), "--db", path])
    assert result.exit_code == 0, result.output
    assert_stored_equal_live(path)
