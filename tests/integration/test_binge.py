"""Binge sessions (issue 15) on both backends: hand-worked fixtures, the reference on demo rows, 400s.

The rule (``moviedash/binge.py``): a viewer's run of >= 3 episodes of one show,
each starting at most 120 minutes after the previous one ended; sessions belong
to their first episode's period and filter values, minutes to their own event.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from moviedash import binge, create_app, dataquality, figures, pipeline
from moviedash import settings as data_settings
from moviedash.ingest.demo import generate_events
from moviedash.ingest.loader import load_files
from moviedash.params import Filters, SeriesQuery
from moviedash.report.build import ReportSpec, binge_sections
from moviedash.rollups import binges as binge_rollups
from moviedash.rollups.binges import BingeParts
from moviedash.store import COLUMNS, connect_readonly, dialect_of, write_transaction
from tests import reference as ref
from tests.helpers import BACKENDS, Recording, build_db, event, module_db, query, write_sql

RESOLUTIONS = ("daily", "weekly", "monthly")


def _episode(when: str, user: str, title: str, minutes: int, device: str = "Computer") -> dict[str, Any]:
    return event(when, user, minutes=minutes, title=title, sessiontype="SERIES", device=device)


# Worked by hand (end = start + minutes; gap = next start - previous end):
# u1 "Alpha": 03-01 20:00+40 -> 20:40; 22:40 (gap 120: exactly the threshold, continues) +50 -> 23:30;
#   03-02 01:30 (gap 120, across midnight, continues) +30.  One session of 3, first episode on a TV.
# u2 "Alpha": 20:00+40 -> 20:40; 22:41 (gap 121: one minute over, breaks) +30 -> 23:11; 23:20 +10.
#   Runs of 1 and 2: no session.
# u3 "Beta": 2023-12-31 22:00+60 -> 23:00; 23:30 +60 -> 00:30; 2024-01-01 01:00 (gap 30) +45.
#   One session across the year end, December's (its first episode's).
# u4 interleaves "Alpha" and "Beta" every 30 minutes, 30 minutes each: Alpha 18:00, 19:00, 20:00 (gaps 30
#   after each Alpha's end: Beta in between does not break it) -> a session of 3; Beta 18:30, 19:30 -> 2, none.
# u1 also watches a movie between the episodes: movies are not episodes and break nothing.
HAND = [
    _episode("2024-03-01 20:00:00", "u1", "Alpha, Pilot", 40, device="TV"),
    _episode("2024-03-01 22:40:00", "u1", "Alpha, Two", 50),
    _episode("2024-03-02 01:30:00", "u1", "Alpha, Three", 30),
    event("2024-03-01 21:00:00", "u1", minutes=90, title="Gamma, the Movie", sessiontype="MOVIE"),
    _episode("2024-03-01 20:00:00", "u2", "Alpha, Pilot", 40),
    _episode("2024-03-01 22:41:00", "u2", "Alpha, Two", 30),
    _episode("2024-03-01 23:20:00", "u2", "Alpha, Three", 10),
    _episode("2023-12-31 22:00:00", "u3", "Beta, One", 60),
    _episode("2023-12-31 23:30:00", "u3", "Beta, Two", 60),
    _episode("2024-01-01 01:00:00", "u3", "Beta, Three", 45),
    _episode("2024-03-05 18:00:00", "u4", "Alpha, Pilot", 30),
    _episode("2024-03-05 18:30:00", "u4", "Beta, One", 30),
    _episode("2024-03-05 19:00:00", "u4", "Alpha, Two", 30),
    _episode("2024-03-05 19:30:00", "u4", "Beta, Two", 30),
    _episode("2024-03-05 20:00:00", "u4", "Alpha, Three", 30),
]
# Series minutes: u1 120 + u2 80 + u3 165 + u4 150 = 515; in binges: u1 120 + u3 165 + u4's Alpha 90 = 375.


def assert_rollups_equal_raw(db: Any) -> binge.Binges:
    """The binge rollups answer (current, non-empty) and hold exactly what the raw rows give."""
    conn = connect_readonly(db)
    try:
        settings = binge.measure_settings(conn)
        assert binge.from_rollups(conn, settings)
        stored = binge._stored_binges(conn)
        raw = binge._raw_binges(conn, dialect_of(conn), settings)
    finally:
        conn.close()
    for got, want in zip(stored, raw, strict=True):
        order = list(want.columns)
        left = got[order].sort_values(order).reset_index(drop=True)
        right = want.sort_values(order).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
    return stored


def get_json(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture(scope="module", params=BACKENDS)
def hand(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(db=module_db(request, tmp_path_factory, HAND)).server.test_client()


def test_hand_worked_overall(hand: Any) -> None:
    # 3 sessions (u1 Alpha, u3 Beta, u4 Alpha) of 3 episodes; 375 of 515 minutes = 72.8155… %.
    assert get_json(hand, "/data/binge/overall/") == [
        {"sessions": 3, "viewers": 3, "episodes": 9, "binge_minutes": 375, "series_minutes": 515, "share": 72.82}]


def test_hand_worked_months_across_the_year_end(hand: Any) -> None:
    # December: u3's session and its first two episodes (120 min); January: its third (45 min), no session;
    # February: nothing (zero-filled); March: u1's and u4's sessions, 120 + 90 of 120 + 80 + 150 minutes.
    assert get_json(hand, "/data/binge/?resolution=monthly") == [
        {"date": "2023-12-01", "sessions": 1, "binge_minutes": 120, "series_minutes": 120, "share": 100.0},
        {"date": "2024-01-01", "sessions": 0, "binge_minutes": 45, "series_minutes": 45, "share": 100.0},
        {"date": "2024-02-01", "sessions": 0, "binge_minutes": 0, "series_minutes": 0, "share": None},
        {"date": "2024-03-01", "sessions": 2, "binge_minutes": 210, "series_minutes": 350, "share": 60.0},
    ]


def test_hand_worked_days_across_midnight(hand: Any) -> None:
    days = {row["date"]: row for row in get_json(hand, "/data/binge/?resolution=daily")}
    assert len(days) == 66  # 2023-12-31 .. 2024-03-05
    # u1's session is 1 March's; its third episode's 30 minutes are 2 March's.  u2's 80 minutes count as series.
    assert days["2024-03-01"] == {"date": "2024-03-01", "sessions": 1, "binge_minutes": 90, "series_minutes": 170,
                                  "share": 52.94}
    assert days["2024-03-02"] == {"date": "2024-03-02", "sessions": 0, "binge_minutes": 30, "series_minutes": 30,
                                  "share": 100.0}
    assert days["2024-03-05"]["sessions"] == 1 and days["2024-03-05"]["binge_minutes"] == 90


def test_hand_worked_weeks(hand: Any) -> None:
    weeks = get_json(hand, "/data/binge/?resolution=weekly")
    # 2023-12-31 is a Sunday: u3's session is the week of Monday 2023-12-25, its third episode the next week's.
    assert weeks[0] == {"date": "2023-12-25", "sessions": 1, "binge_minutes": 120, "series_minutes": 120,
                        "share": 100.0}
    assert weeks[1] == {"date": "2024-01-01", "sessions": 0, "binge_minutes": 45, "series_minutes": 45,
                        "share": 100.0}
    assert sum(w["sessions"] for w in weeks) == 3


def test_hand_worked_top_shows(hand: Any) -> None:
    assert get_json(hand, "/data/binge/shows/") == [
        {"show": "Alpha", "sessions": 2, "viewers": 2, "episodes": 6, "episodes_per_session": 3.0},
        {"show": "Beta", "sessions": 1, "viewers": 1, "episodes": 3, "episodes_per_session": 3.0},
    ]
    assert get_json(hand, "/data/binge/shows/?num=1") == [
        {"show": "Alpha", "sessions": 2, "viewers": 2, "episodes": 6, "episodes_per_session": 3.0}]


def test_a_show_stored_escaped_and_as_its_letter_is_one_show_counting_each_viewer_once(make_db: Any) -> None:
    # u1 binges "Sm<e5>land" (the course file's escape) on 03-01 and "Småland" on 03-02; u2 "Småland" on 03-02:
    # shown alike, so one show of 3 sessions and 2 viewers (u1 once), on the rollups and on the raw rows.
    def run(user: str, show: str, day: str) -> list[dict[str, Any]]:
        return [_episode(f"2024-03-{day} 20:{m}:00", user, f"{show}, E{m}", 10) for m in ("00", "15", "30")]

    db = make_db([*run("u1", "Sm<e5>land", "01"), *run("u1", "Småland", "02"), *run("u2", "Småland", "02")])
    want = [{"show": "Småland", "sessions": 3, "viewers": 2, "episodes": 9, "episodes_per_session": 3.0}]
    assert get_json(create_app(db=db).server.test_client(), "/data/binge/shows/") == want
    conn = connect_readonly(db)
    try:
        assert binge.from_rollups(conn, binge.measure_settings(conn))
        raw = binge._raw_binges(conn, dialect_of(conn), binge.measure_settings(conn))
    finally:
        conn.close()
    assert len(raw.sessions) == 3 and raw.sessions["show"].nunique() == 2


def test_sessions_follow_their_first_episode_and_minutes_their_own(hand: Any) -> None:
    # Only u1's first episode is on a TV: the TV selection has its session and only that episode's 40 minutes.
    assert get_json(hand, "/data/binge/overall/?device=TV") == [
        {"sessions": 1, "viewers": 1, "episodes": 3, "binge_minutes": 40, "series_minutes": 40, "share": 100.0}]
    # The other devices: u3's and u4's sessions; 375 - 40 of 515 - 40 minutes = 70.526… %.
    assert get_json(hand, "/data/binge/overall/?device=Computer") == [
        {"sessions": 2, "viewers": 2, "episodes": 6, "binge_minutes": 335, "series_minutes": 475, "share": 70.53}]
    # From 2024-01-01: u3's session started before the range (not counted) though its last episode is in it;
    # the range never cuts a session: u3's third episode still counts as binge minutes.
    assert get_json(hand, "/data/binge/overall/?start=2024-01-01") == [
        {"sessions": 2, "viewers": 2, "episodes": 6, "binge_minutes": 255, "series_minutes": 395, "share": 64.56}]
    assert get_json(hand, "/data/binge/shows/?start=2024-01-01&end=2024-03-04") == [
        {"show": "Alpha", "sessions": 1, "viewers": 1, "episodes": 3, "episodes_per_session": 3.0}]


def test_the_rollups_hold_what_the_raw_rows_give_and_step_aside_when_stale(make_db: Any) -> None:
    db = make_db(HAND)
    stored = assert_rollups_equal_raw(db)
    assert len(stored.sessions) == 3 and int(stored.minutes["binge_minutes"].sum()) == 375
    # A row appended behind moviedash's back: the rollups are stale, the raw rows answer (u2's fourth episode,
    # 23:40, 10 minutes after 23:30: u2's second run becomes a session of 3).
    write_sql(db, "INSERT INTO movies (event_date, userid, title, sessiontype, totalminuteswatched) "
                  "VALUES ('2024-03-01 23:40:00', 'u2', 'Alpha, Four', 'SERIES', 5)")
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 4, "viewers": 4, "episodes": 12, "binge_minutes": 420, "series_minutes": 520, "share": 80.77}]
    # Rollups of an older moviedash (schema 8, no binge tables): the raw rows answer.
    write_sql(db, "UPDATE md_meta SET value = 8 WHERE key = 'schema'")
    write_sql(db, "DROP TABLE md_binges")
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/")[0]["sessions"] == 4
    # Without the rollups at all (a database made the course's way): the same from the raw rows.
    write_sql(db, "DROP TABLE md_meta")
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/")[0]["sessions"] == 4


def test_a_load_reads_the_touched_viewers_episodes_not_movies(make_db: Any) -> None:
    db = make_db(HAND)
    with write_transaction(db) as conn:
        recording = Recording(conn)
        parts = BingeParts(data_settings.load(conn))
        # u2 at 23:35 for 10 minutes, 5 after their 23:20 episode ended: 22:41, 23:20, 23:35 are a session.
        parts.add({"event_date": pa.array(["2024-03-01 23:35:00"]), "userid": pa.array(["u2"]),
                   "title": pa.array(["Alpha, Four"]), "sessiontype": pa.array(["SERIES"]),
                   "device": pa.array([None], pa.string()), "market": pa.array(["NO"])}, np.array([10]))
        parts.write(recording, dialect_of(conn))
        assert recording.statements and not any("movies" in sql for sql in recording.statements)
        assert conn.execute("SELECT COUNT(*), SUM(episodes) FROM md_binges").fetchone() == (4, 12)
        # 375 + u2's 30 + 10 + 10 of 515 + 10 minutes.
        assert conn.execute("SELECT SUM(binge_minutes), SUM(series_minutes) FROM md_binge_day").fetchone() == (
            425, 525)


def test_no_series_events_is_an_empty_answer_and_unknown_values_are_a_bucket(make_db: Any) -> None:
    movies = [event("2024-06-01 10:00:00", "u1", title="Film", minutes=100)]
    client = create_app(db=make_db(movies)).server.test_client()
    assert get_json(client, "/data/binge/?resolution=weekly") == []
    assert get_json(client, "/data/binge/shows/") == []
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 0, "viewers": 0, "episodes": 0, "binge_minutes": 0, "series_minutes": 0, "share": None}]
    # Three 10-minute episodes of "Eta" half an hour apart on no known device, in any case of "series".
    eta = [event(f"2024-06-01 1{h}:00:00", "u6", minutes=10, title=f"Eta, {h}", sessiontype=kind, device=None)
           for h, kind in ((0, "SERIES"), (1, " series "), (2, "Series"))]
    client = create_app(db=make_db([*movies, *eta], "eta.db")).server.test_client()
    assert get_json(client, "/data/binge/overall/?device=unknown") == [
        {"sessions": 1, "viewers": 1, "episodes": 3, "binge_minutes": 30, "series_minutes": 30, "share": 100.0}]
    assert get_json(client, "/data/binge/overall/?device=Computer")[0]["sessions"] == 0


def test_the_thresholds_are_database_settings(make_db: Any) -> None:
    db = make_db(HAND)
    # Two episodes make a session: u4's Beta (2 episodes) and u2's second run (22:41, 23:20) now count.
    dataquality.change(db, "binge_min_episodes", 2)
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/shows/") == [
        {"show": "Alpha", "sessions": 3, "viewers": 3, "episodes": 8, "episodes_per_session": 2.67},
        {"show": "Beta", "sessions": 2, "viewers": 2, "episodes": 5, "episodes_per_session": 2.5},
    ]
    # Back to 3, and a gap of 121 minutes allowed: u2's three episodes are one session.
    dataquality.change(db, "binge_min_episodes", None)
    dataquality.change(db, "binge_max_gap_minutes", 121)
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/shows/?num=1") == [
        {"show": "Alpha", "sessions": 3, "viewers": 3, "episodes": 9, "episodes_per_session": 3.0}]


def test_excluded_users_and_short_events_are_not_viewers_or_episodes(make_db: Any) -> None:
    db = make_db(HAND)
    # u3 excluded: no session of theirs; their 165 minutes still count as series minutes (not in binges).
    dataquality.change(db, "exclude_users", frozenset({"u3"}))
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 2, "viewers": 2, "episodes": 6, "binge_minutes": 210, "series_minutes": 515, "share": 40.78}]
    # Events under 31 minutes are not plays: u1's 30-minute third episode is not an episode (2 left: no session),
    # u4's 30-minute episodes neither; u2's and u4's short events still count as series minutes.
    dataquality.change(db, "exclude_users", None)
    dataquality.change(db, "min_minutes", 31)
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 1, "viewers": 1, "episodes": 3, "binge_minutes": 165, "series_minutes": 515, "share": 32.04}]


def test_a_later_load_extends_an_open_run_and_older_events_join_runs(make_db: Any, tmp_path: Path) -> None:
    # u5 "Delta": two episodes (no session yet), then a load appends a third 100 minutes after the second ended.
    first = [_episode("2024-05-01 20:00:00", "u5", "Delta, 1", 30),
             _episode("2024-05-01 20:30:00", "u5", "Delta, 2", 30)]
    db = make_db(first)
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/")[0]["sessions"] == 0

    def load(rows: list[dict[str, Any]], name: str) -> None:
        path = tmp_path / name
        pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows]).to_csv(path, index=False)
        assert load_files(db, [path]).committed

    assert assert_rollups_equal_raw(db).sessions.empty
    load([_episode("2024-05-01 22:40:00", "u5", "Delta, 3", 30)], "a.csv")
    assert len(assert_rollups_equal_raw(db).sessions) == 1
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/shows/") == [
        {"show": "Delta", "sessions": 1, "viewers": 1, "episodes": 3, "episodes_per_session": 3.0}]
    # Older events: one at 2024-05-01 17:30 (+30, ends 18:00: 2 hours before 20:00) joins the run at its start;
    # another, a day later, starts a run of its own (1 episode).  Still one session, now of 4 from 17:30.
    load([_episode("2024-05-01 17:30:00", "u5", "Delta, 0", 30), _episode("2024-05-02 12:00:00", "u5", "Delta, 4", 5)],
         "b.csv")
    assert assert_rollups_equal_raw(db).sessions["episodes"].tolist() == [4]
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/shows/") == [
        {"show": "Delta", "sessions": 1, "viewers": 1, "episodes": 4, "episodes_per_session": 4.0}]
    # An episode inside another (20:10 +5, ends 20:15 while 20:00's runs to 20:30) joins; the gap to the next
    # (20:30) counts from the latest end so far (20:30), so it cannot split the run: 5 episodes,
    # 30 + 30 + 5 + 30 + 30 = 125 of 130 series minutes (the lone 5-minute episode of 2 May) = 96.153… %.
    load([_episode("2024-05-01 20:10:00", "u5", "Delta, x", 5)], "c.csv")
    assert assert_rollups_equal_raw(db).sessions["episodes"].tolist() == [5]
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 1, "viewers": 1, "episodes": 5, "binge_minutes": 125, "series_minutes": 130, "share": 96.15}]


# --------------------------------------------------------------------------- #
# The reference on generated demo rows; both backends byte-identical
# --------------------------------------------------------------------------- #


#: Gaps (minutes) between a follow-up episode and the end of the one before: around the threshold.
FOLLOW_GAPS = (-10, 0, 45, 119, 120, 121, 180, 600)


def _demo_events(rows: int = 3_000, seed: int = 11) -> list[dict[str, Any]]:
    """Generated demo rows plus seeded binge bursts: after a third of the series plays the same viewer
    watches 1-4 more episodes of the show, each after one of :data:`FOLLOW_GAPS` (so runs of 2, 3, 4 or
    more, broken or not at the threshold, across midnight and the year end)."""
    frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
    plain = frame.astype(object).where(frame.notna(), None)
    events = [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]
    rng = random.Random(seed)
    extra = []
    for e in events:
        if e["sessiontype"] != "SERIES" or not e["title"] or rng.random() > 1 / 3:
            continue
        show = str(e["title"]).split(", ", 1)[0]
        when = dt.datetime.fromisoformat(str(e["event_date"]))
        length = int(e["totalminuteswatched"] or 0)
        for n in range(rng.randint(1, 4)):
            when += dt.timedelta(minutes=length + rng.choice(FOLLOW_GAPS), seconds=rng.choice((0, 0, 1)))
            length = rng.randint(0, 60)
            extra.append({**e, "event_date": when.isoformat(sep=" "), "title": f"{show}, Follow-up {n}",
                          "totalminuteswatched": length, "viewpercentage": None})
    return events + extra


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict], Any]:
    """A client over demo rows with binge bursts, the rows as stored (the reference's input), the database."""
    db = module_db(request, tmp_path_factory, _demo_events())
    stored = ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))
    return create_app(db=db).server.test_client(), stored, db


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_series_equal_the_reference(demo: tuple[Any, list[dict], Any], resolution: str) -> None:
    client, stored, db = demo
    got = get_json(client, f"/data/binge/?resolution={resolution}")
    assert got == ref.binge_series(stored, resolution)
    assert sum(row["sessions"] for row in got) > 10  # the demo data has binge-watchers


def test_filtered_answers_equal_the_reference(demo: tuple[Any, list[dict], Any]) -> None:
    client, stored, db = demo
    start, end = dt.date(2023, 6, 1), dt.date(2023, 9, 30)
    selection = "start=2023-06-01&end=2023-09-30&device=TV"
    assert get_json(client, f"/data/binge/?resolution=weekly&{selection}") == ref.binge_series(
        stored, "weekly", start=start, end=end, device="TV")
    assert get_json(client, f"/data/binge/overall/?{selection}") == [
        ref.binge_overall(stored, start=start, end=end, device="TV")]
    assert get_json(client, f"/data/binge/shows/?num=5&{selection}") == ref.binge_shows(
        stored, 5, start=start, end=end, device="TV")


def test_overall_and_shows_equal_the_reference(demo: tuple[Any, list[dict], Any]) -> None:
    client, stored, db = demo
    assert len(assert_rollups_equal_raw(db).sessions) > 10
    overall = get_json(client, "/data/binge/overall/")
    assert overall == [ref.binge_overall(stored)]
    assert 0 < overall[0]["share"] < 100
    shows = get_json(client, "/data/binge/shows/?num=1000")
    assert shows == ref.binge_shows(stored, 1000)
    assert sum(s["sessions"] for s in shows) == overall[0]["sessions"]


def test_answers_are_byte_identical_across_backends(pg_server: Any, tmp_path: Path) -> None:
    rows = _demo_events(1_500, 5)
    clients = [
        create_app(db=build_db(tmp_path / "m.db", rows)).server.test_client(),
        create_app(db=build_db(pg_server.new_database(), rows)).server.test_client(),
    ]
    urls = [*(f"/data/binge/?resolution={r}" for r in RESOLUTIONS), "/data/binge/overall/",
            "/data/binge/shows/?num=50", "/data/binge/?resolution=monthly&format=csv",
            "/data/binge/shows/?device=TV&format=csv", "/figures/binge/binge_share.json?resolution=weekly"]
    for url in urls:
        bodies = [c.get(url) for c in clients]
        assert all(b.status_code == 200 for b in bodies), url
        assert bodies[0].get_data() == bodies[1].get_data(), url


# --------------------------------------------------------------------------- #
# Validation, CSV, figures, reports
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("url", "parameter"), [
    ("/data/binge/?resolution=hourly", "resolution"),
    ("/data/binge/?resolution=daily&resolution=weekly", "resolution"),
    ("/data/binge/?num=3", "num"),
    ("/data/binge/?device=Nope", "device"),
    ("/data/binge/?start=2024-02-30", "start"),
    ("/data/binge/overall/?resolution=daily", "resolution"),
    ("/data/binge/overall/?start=2024-03-02&end=2024-03-01", "end"),
    ("/data/binge/shows/?num=0", "num"),
    ("/data/binge/shows/?num=1001", "num"),
    ("/data/binge/shows/?num=ten", "num"),
    ("/data/binge/shows/?num=1&num=2", "num"),
    ("/data/binge/shows/?rank=plays", "rank"),
    ("/data/binge/shows/?format=xml", "format"),
    ("/figures/binge/binge_shows.json?num=0", "num"),
    ("/figures/binge/binge_sessions.json?resolution=yearly", "resolution"),
    ("/figures/binge/binge_sessions.json?num=3", "num"),
    ("/figures/binge/binge_share.json?theme=pink", "theme"),
])
def test_bad_parameters_are_400_naming_them(hand: Any, url: str, parameter: str) -> None:
    body = get_json(hand, url, 400)
    assert body["parameter"] == parameter and body["error"]


def test_unknown_binge_chart_is_404(hand: Any) -> None:
    assert "binge_sessions" in get_json(hand, "/figures/binge/binge_minutes.json", 404)["error"]


def test_csv_export_has_the_rows_of_the_json(hand: Any) -> None:
    response = hand.get("/data/binge/?resolution=monthly&format=csv")
    assert response.mimetype == "text/csv"
    assert 'filename="binge_monthly.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["date"], r["sessions"], r["share"]) for r in rows] == [
        ("2023-12-01", "1", "100.0"), ("2024-01-01", "0", "100.0"), ("2024-02-01", "0", ""),
        ("2024-03-01", "2", "60.0")]
    shows = list(csv.DictReader(io.StringIO(hand.get("/data/binge/shows/?format=csv").get_data(as_text=True))))
    assert [(r["show"], r["sessions"]) for r in shows] == [("Alpha", "2"), ("Beta", "1")]


def test_figure_route_draws_the_numbers(hand: Any) -> None:
    sessions = get_json(hand, "/figures/binge/binge_sessions.json?resolution=monthly")
    assert sessions["data"][0]["y"] == [1, 0, 0, 2]
    assert sessions["config"]["toImageButtonOptions"]["filename"] == "binge_sessions_monthly"
    shows = get_json(hand, "/figures/binge/binge_shows.json?num=1")
    assert shows["data"][0]["y"] == ["Alpha"] and shows["data"][0]["x"] == [2]


def test_figures_api_and_pipeline_agree(make_db: Any) -> None:
    db = make_db(HAND)
    share = figures.binge("binge_share", db, "monthly")
    assert list(share.data[0].y) == [100.0, 100.0, None, 60.0]
    assert list(figures.binge("binge_shows", db, 5).data[0].x) == [2, 1]
    with pytest.raises(Exception) as bad:
        figures.binge("binge_shows", db, 0)
    assert getattr(bad.value, "parameter", None) == "num"
    with pytest.raises(Exception) as unknown:
        figures.binge("binge_hours", db)
    assert getattr(unknown.value, "parameter", None) == "chart"
    conn = connect_readonly(db)
    try:
        data = pipeline.binge_data(conn, SeriesQuery("monthly", Filters.create(device=["TV"])))
        assert data.name == "binge_monthly"
        assert data.frame["sessions"].tolist() == [1]
    finally:
        conn.close()


def test_report_sections_show_the_cards(make_db: Any) -> None:
    db = make_db(HAND)
    conn = connect_readonly(db)
    try:
        sections = binge_sections(conn, ReportSpec())
    finally:
        conn.close()
    assert [s.key for s in sections] == ["binge_sessions", "binge_share", "binge_shows"]
    assert sections[0].heading == "Binge sessions (weekly)"
    assert sections[0].summary.startswith("3 binge sessions started over")
    assert "375 of 515 series minutes" in sections[1].summary
    assert sections[2].summary == ("Most binged shows, most sessions first: Alpha: 2 sessions by 2 viewers, "
                                   "3.00 episodes per session; Beta: 1 sessions by 1 viewers, 3.00 episodes per "
                                   "session.")


# --------------------------------------------------------------------------- #
# The compact per-load state: open runs only, history re-read only for older events
# --------------------------------------------------------------------------- #


def _tails(db: Any) -> list[tuple[Any, ...]]:
    """``md_binge_tail`` as (user, show, start text, minutes) rows, sorted."""
    conn = connect_readonly(db)
    try:
        rows = conn.execute(
            "SELECT u.userid, s.show, t.start, t.minutes FROM md_binge_tail t JOIN md_users u ON u.id = t.user_id "
            "JOIN md_binge_shows s ON s.id = t.show_id").fetchall()
    finally:
        conn.close()
    return sorted((str(u), str(s), str(dt.datetime.fromtimestamp(int(t), dt.UTC))[:16], int(m))
                  for u, s, t, m in rows)


def test_loads_extend_open_runs_and_only_older_events_reread_their_pair(
        make_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = [_episode("2024-05-01 20:00:00", "u5", "Delta, 1", 30),
             _episode("2024-05-01 20:30:00", "u5", "Delta, 2", 30),
             _episode("2024-05-01 08:00:00", "u6", "Echo, 1", 30),  # a closed run of one
             _episode("2024-05-01 08:30:00", "u6", "Zeta, 1", 30),  # closed: over 2 hours before u6's latest
             _episode("2024-05-01 12:00:00", "u6", "Echo, 2", 30),
             _episode("2024-05-01 12:40:00", "u6", "Echo, 3", 30),
             _episode("2024-05-01 13:20:00", "u6", "Echo, 4", 30)]
    db = make_db(first)
    reads: list[int] = []
    real = binge_rollups.read_series

    def counted(conn: Any) -> Any:
        reads.append(1)
        return real(conn)

    monkeypatch.setattr(binge_rollups, "read_series", counted)

    def load(rows: list[dict[str, Any]], name: str) -> None:
        path = tmp_path / name
        pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows]).to_csv(path, index=False)
        assert load_files(db, [path]).committed

    # Only each pair's open run is kept, while a later episode could continue it: not u6's 08:00 episode
    # (a closed run), nor u6's Zeta (ended over 2 hours before u6's latest episode of any show).
    assert _tails(db) == [
        ("u5", "Delta", "2024-05-01 20:00", 30), ("u5", "Delta", "2024-05-01 20:30", 30),
        ("u6", "Echo", "2024-05-01 12:00", 30), ("u6", "Echo", "2024-05-01 12:40", 30),
        ("u6", "Echo", "2024-05-01 13:20", 30)]
    # Events after their pairs' tails extend them, movies is not read: u5's run becomes a session, u6's grows.
    load([_episode("2024-05-01 22:40:00", "u5", "Delta, 3", 30), _episode("2024-05-01 14:30:00", "u6", "Echo, 5", 30)],
         "a.csv")
    assert reads == []
    assert sorted(assert_rollups_equal_raw(db).sessions["episodes"].tolist()) == [3, 4]
    # An event older than u5's last stored episode and one of u6's Zeta before u6's latest episode: both pairs
    # are re-read (one pass over movies); u6's new run of Echo needs no history.
    reads.clear()  # (the raw reference reads them too)
    load([_episode("2024-05-01 17:30:00", "u5", "Delta, 0", 30), _episode("2024-05-02 12:00:00", "u6", "Echo, 6", 30),
          _episode("2024-05-01 09:00:00", "u6", "Zeta, 2", 30)], "b.csv")
    assert reads == [1]
    assert sorted(assert_rollups_equal_raw(db).sessions["episodes"].tolist()) == [4, 4]
    assert _tails(db) == [
        ("u5", "Delta", "2024-05-01 17:30", 30), ("u5", "Delta", "2024-05-01 20:00", 30),
        ("u5", "Delta", "2024-05-01 20:30", 30), ("u5", "Delta", "2024-05-01 22:40", 30),
        ("u6", "Echo", "2024-05-02 12:00", 30)]
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/") == [
        {"sessions": 2, "viewers": 2, "episodes": 8, "binge_minutes": 240, "series_minutes": 360, "share": 66.67}]
    # A settings change rebuilds the rollups (tails included) under the new rule; later loads continue from them.
    dataquality.change(db, "binge_max_gap_minutes", 60)
    assert sorted(assert_rollups_equal_raw(db).sessions["episodes"].tolist()) == [4]  # u5: 100-minute gap splits
    assert _tails(db)[:2] == [("u5", "Delta", "2024-05-01 22:40", 30), ("u6", "Echo", "2024-05-02 12:00", 30)]
    load([_episode("2024-05-01 23:20:00", "u5", "Delta, 4", 30), _episode("2024-05-01 23:55:00", "u5", "Delta, 5", 30)],
         "c.csv")
    assert sorted(assert_rollups_equal_raw(db).sessions["episodes"].tolist()) == [3, 4]
    # Stale rollups (a row behind moviedash's back): the raw rows answer, with the row.
    write_sql(db, "INSERT INTO movies (event_date, userid, title, sessiontype, totalminuteswatched) "
                  "VALUES ('2024-05-02 12:40:00', 'u6', 'Echo, 7', 'SERIES', 30)")
    conn = connect_readonly(db)
    try:
        assert not binge.from_rollups(conn, binge.measure_settings(conn))
    finally:
        conn.close()
    client = create_app(db=db).server.test_client()
    assert get_json(client, "/data/binge/overall/")[0]["sessions"] == 2
