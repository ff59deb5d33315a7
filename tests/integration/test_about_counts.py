""""About this data" from the rollups (``md_about``): the raw one-pass SQL's numbers, without its pass.

On both backends, after every way the rollups are written (a fresh load, an
append load, the demo, the SQL refeed of :func:`tests.helpers.build_db`, a
settings change's rebuild), :func:`moviedash.dataquality.about` answers from
the rollups, equal to :func:`moviedash.dataquality.raw_counts` and to a
plain-Python count (tests/reference.py); ``movies`` is not read then, and is
read (the raw pass) when the rollups cannot answer.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from moviedash import dataquality, rollups
from moviedash import settings as data_settings
from moviedash.ingest.demo import write_demo
from moviedash.ingest.loader import load_files
from moviedash.store import COLUMNS, connect_readonly, dialect_of
from tests import reference as ref
from tests.helpers import Recording, event, query, write_sql

ANON = data_settings.ANONYMOUS_USER
#: Hand-worked: 8 events, 3 of the anonymous id; minutes NULL, 0 and short; viewpercentage exactly 100,
#: 100.00004 (4 decimals: 100.0000, not capped), 100.00005 (100.0001: capped), 104.5, NULL.
EVENTS = [
    event("2013-01-01 10:00:00", "u1", minutes=10, viewpercentage=104.5),
    event("2013-01-01 11:00:00", ANON, minutes=20, viewpercentage=100.00005),
    event("2013-01-01 12:00:00", ANON, minutes=None, viewpercentage=120.0),
    event("2013-01-01 13:00:00", "x", minutes=0, viewpercentage=100.0),
    event("2013-01-02 10:00:00", "x", minutes=4, viewpercentage=101.0),
    event("2013-01-02 11:00:00", "u2", minutes=30, viewpercentage=100.00004),
    event("2013-01-02 12:00:00", ANON, minutes=5, viewpercentage=None),
    event("2013-01-02 13:00:00", "u3", minutes=6, viewpercentage=50.0, title=None),
]
#: An append load: days before, within and after the first load's.
MORE = [
    event("2012-12-31 09:00:00", ANON, minutes=7, viewpercentage=130.0),
    event("2013-01-02 15:00:00", "x", minutes=50, viewpercentage=110.0),
    event("2013-01-03 10:00:00", "u4", minutes=1, viewpercentage=100.5),
]
EXCLUDE = frozenset({ANON, "x"})


def counts_of(events: Iterable[Mapping[str, Any]], settings: ref.Settings) -> tuple[int, int, int, int]:
    """The About counts, counted in plain Python (the reference's rules)."""
    events = list(events)
    return (len(events), ref.anonymous_plays(events, settings), sum(e.get("userid") == ANON for e in events),
            ref.capped_rows(events, settings))


def test_hand_worked_counts_equal_the_reference() -> None:
    assert counts_of(EVENTS, ref.Settings()) == (8, 0, 3, 4)  # 104.5, 100.0001, 120, 101
    assert counts_of(EVENTS, ref.Settings(exclude_users=EXCLUDE)) == (8, 5, 3, 4)
    # min_minutes 5: plays are the 10, 20, 30, 5 and 6 minute events (NULL is 0).
    assert counts_of(EVENTS, ref.Settings(min_minutes=5, exclude_users=EXCLUDE)) == (8, 2, 3, 2)
    assert counts_of([*EVENTS, *MORE], ref.Settings(min_minutes=5, exclude_users=EXCLUDE)) == (11, 4, 4, 4)


def read_movies(statements: list[str], dialect: Any) -> list[str]:
    """The statements that read ``movies`` (the status check's position lookup aside)."""
    return [s for s in statements if "movies" in s.replace(dialect.position_sql, "")]


def about_counts(path: Any) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int], bool, list[str]]:
    """``about()``'s counts, the raw pass's, whether the rollups are usable, and the statements
    ``about()`` ran that read ``movies``."""
    conn = connect_readonly(path)
    try:
        recording = Recording(conn)
        about = dataquality.about(recording)
        status = rollups.status(conn)
        scans = read_movies(recording.statements, dialect_of(conn))
        raw = dataquality.raw_counts(conn, data_settings.load(conn))
    finally:
        conn.close()
    got = (about.events, about.anonymous_plays, about.anonymous_id_events, about.capped_rows)
    return got, raw, status is not None and status.usable, scans


def assert_counts(path: Any, events: Iterable[Mapping[str, Any]], settings: ref.Settings) -> None:
    """From the rollups, without reading ``movies``: the raw pass's numbers and the reference's."""
    got, raw, usable, scans = about_counts(path)
    assert usable
    assert scans == []
    assert got == raw == counts_of(events, settings)


def write_csv(path: Path, events: Iterable[Mapping[str, Any]]) -> Path:
    """Events as the course's headerless CSV of the 13 columns."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for e in events:
            out.writerow(["" if e.get(c) is None else e[c] for c in COLUMNS])
    return path


def change(path: Any, name: str, text: str) -> None:
    assert dataquality.change(path, name, data_settings.parse(name, text)).rebuilt


def test_loads_and_settings_changes_keep_the_counts(db_target: Any, tmp_path: Path) -> None:
    path = str(db_target("about.db"))
    assert load_files(path, [write_csv(tmp_path / "first.csv", EVENTS)]).committed  # the loader's aggregator
    assert_counts(path, EVENTS, ref.Settings())
    change(path, "exclude_users", f"{ANON},x")
    assert_counts(path, EVENTS, ref.Settings(exclude_users=EXCLUDE))
    change(path, "min_minutes", "5")
    both = ref.Settings(min_minutes=5, exclude_users=EXCLUDE)
    assert_counts(path, EVENTS, both)
    # An append load adds its rows' counts, under the settings in force.
    assert load_files(path, [write_csv(tmp_path / "more.csv", MORE)]).committed
    assert_counts(path, [*EVENTS, *MORE], both)
    # Back to the defaults: the rebuild counts the whole table again.
    change(path, "exclude_users", "")
    change(path, "min_minutes", "0")
    assert_counts(path, [*EVENTS, *MORE], ref.Settings())


def test_the_sql_refeed_keeps_the_counts(make_db: Any) -> None:
    """Rows no aggregator saw (inserted, then folded in by SQL), then rebuilt by a settings change."""
    path = make_db(EVENTS)
    assert_counts(path, EVENTS, ref.Settings())
    change(path, "min_minutes", "5")
    change(path, "exclude_users", ANON)
    assert_counts(path, EVENTS, ref.Settings(min_minutes=5, exclude_users=frozenset({ANON})))


def test_a_seeded_demo_keeps_the_counts(db_target: Any, tmp_path: Path) -> None:
    path = str(db_target("demo.db"))
    assert write_demo(path, 3_000, 11) == 3_000  # the demo's aggregator
    fields = ("userid", "totalminuteswatched", "viewpercentage")
    demo = [dict(zip(fields, row, strict=True)) for row in query(path, f"SELECT {', '.join(fields)} FROM movies")]
    assert_counts(path, demo, ref.Settings())
    # The demo has no anonymous id: an append load brings some; its busiest user is excluded with it.
    assert load_files(path, [write_csv(tmp_path / "more.csv", MORE)]).committed
    events = [*demo, *MORE]
    busiest = max({e["userid"] for e in demo}, key=lambda u: sum(e["userid"] == u for e in demo))
    change(path, "exclude_users", f"{ANON},{busiest}")
    change(path, "min_minutes", "20")
    settings = ref.Settings(min_minutes=20, exclude_users=frozenset({ANON, busiest}))
    assert_counts(path, events, settings)
    got = counts_of(events, settings)
    assert got[1] > 0 and got[2] == 1 and got[3] > 0  # every count is put to the test


@pytest.mark.parametrize("how", ["rows appended behind moviedash's back", "rollups of an older schema"])
def test_without_usable_rollups_the_raw_pass_answers(db_target: Any, tmp_path: Path, how: str) -> None:
    path = str(db_target("raw.db"))
    assert load_files(path, [write_csv(tmp_path / "first.csv", EVENTS)]).committed
    events = EVENTS
    if how.startswith("rows"):
        write_sql(path, f"INSERT INTO movies (event_date, userid, totalminuteswatched, viewpercentage) "
                                    f"VALUES ('2013-01-05 10:00:00', '{ANON}', 3, 150.0)")
        events = [*EVENTS, event("2013-01-05 10:00:00", ANON, minutes=3, viewpercentage=150.0)]
    else:
        write_sql(path, f"UPDATE md_meta SET value = {rollups.SCHEMA_VERSION - 1} WHERE key = 'schema'")
    got, raw, usable, scans = about_counts(path)
    assert not usable
    assert len(scans) == 1 and "COUNT(*)" in scans[0]  # the one pass
    assert got == raw == counts_of(events, ref.Settings())
    # The next load makes the rollups usable again, with the whole table's counts.
    assert load_files(path, [write_csv(tmp_path / "more.csv", MORE)]).committed
    assert_counts(path, [*events, *MORE], ref.Settings())
