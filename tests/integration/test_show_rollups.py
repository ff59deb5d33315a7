"""The show page from the rollups (issue 15): byte for byte the raw table's answer, on both backends.

``md_title_numbers`` (each title's season and episode, and whether its events carry several pairs)
lets the per-title rollups answer ``/data/show/``.  Compared here with the raw-table answer: generated
demo data (the aggregator's path, the demo's) under filters with edge days, dimensions and the
data-quality settings; hand-written fixtures (the SQL path) for a mixed title (answered from the raw
table, still right), a title that is both a series and a movie event, incremental loads (the
loader's path) and unknown shows.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from moviedash import analysis, create_app, dataquality, showstats
from moviedash.ingest.demo import write_demo
from moviedash.ingest.loader import load_files
from moviedash.rollups import show_serve
from moviedash.rollups.packing import pack_columns, unpack_column_rows, unpack_columns
from moviedash.rollups.title_numbers import TitleNumbers
from moviedash.store import COLUMNS
from tests import reference as ref
from tests.helpers import BACKENDS, build_db, event, query, raw_path, write_sql

#: Selections of the demo data (two years, 2023-2024): whole months with edge days on either side,
#: one whole month, days within a month, each dimension, and several at once.
SELECTIONS: list[dict[str, str]] = [
    {},
    {"start": "2023-03-05", "end": "2023-09-20"},
    {"start": "2023-02-01", "end": "2023-02-28"},
    {"start": "2024-05-10", "end": "2024-05-12"},
    {"start": "2024-11-30"},
    {"end": "2023-01-31"},
    {"device": "TV"},
    {"market": "SE"},
    {"sessiontype": "SERIES"},
    {"sessiontype": "MOVIE"},
    {"device": "iPad", "market": "NO", "start": "2023-06-15", "end": "2024-02-03"},
]


class Paths:
    """A test client whose show answers are checked to come from the rollups or from the raw table."""

    def __init__(self, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = db
        self.client = create_app(db=db).server.test_client()
        self.monkeypatch = monkeypatch
        self.raw_calls = 0

    def rollups(self, expect_raw: bool = False, **params: Any) -> Any:
        """The answer with the rollups current: computed from them (``expect_raw``: from the raw table)."""
        analysis.CACHE.clear()
        calls: list[str] = []
        original = showstats.show_rows

        def counted(*args: Any) -> Any:
            calls.append("raw")
            return original(*args)

        with self.monkeypatch.context() as patch:
            patch.setattr(showstats, "show_rows", counted)
            response = self.client.get("/data/show/", query_string=params)
        assert bool(calls) == expect_raw, params
        return response

    def raw(self, **params: Any) -> Any:
        with raw_path():
            return self.client.get("/data/show/", query_string=params)

    def same(self, expect_raw: bool = False, status: int = 200, **params: Any) -> Any:
        """Both paths' answers, checked byte-identical; the JSON (or the error body)."""
        from_rollups = self.rollups(expect_raw, **params)
        from_raw = self.raw(**params)
        assert from_rollups.status_code == from_raw.status_code == status, from_rollups.get_data(as_text=True)
        assert from_rollups.get_data() == from_raw.get_data(), params
        return from_rollups.get_json()


def _stored(db: Any) -> list[dict[str, Any]]:
    return ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """4,000 demo events written by the demo (streamed through the aggregator), on each backend."""
    if request.param == "postgresql":
        db: Any = request.getfixturevalue("pg_server").new_database()
    else:
        db = tmp_path_factory.mktemp("demo") / "m.db"
    write_demo(db, events=4_000, seed=5)
    yield db


def _shows(paths: Paths, num: int) -> list[str]:
    rows = paths.client.get("/data/toplist/", query_string={"group": "shows", "num": num}).get_json()
    return [r["title"] for r in rows]


def test_demo_show_pages_from_the_rollups_equal_the_raw_table(demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths(demo, monkeypatch)
    assert query(demo, "SELECT count(*) FROM md_title_numbers WHERE mixed = 1") == [(0,)]
    names = _shows(paths, 40)
    series = [n for n in names if paths.same(name=n)["seasons"][0]["season"] is not None]
    movies = [n for n in names if n not in series]
    assert len(series) >= 4 and movies
    chosen = [*series[:4], movies[0]]
    stored = _stored(demo)
    for name in chosen:
        assert paths.same(name=name) == ref.show_page(stored, name)
    for selection in SELECTIONS:
        for name in chosen:
            paths.same(name=name, **selection)
    # A grid of more than one episode: several seasons, drop-off below 100 %.
    page = paths.same(name=series[0])
    assert len(page["seasons"]) >= 1 and any(g["episodes_watched"] > 1 and g["viewers"] for g in page["grid"])
    assert paths.same(name=series[0], sessiontype="MOVIE")["episodes"] == []
    # The whole data's page reads the titles' all-time viewers (md_title_users), not every row's pairs.
    with monkeypatch.context() as patch:
        patch.setattr(show_serve, "_selection_pairs", lambda *args: pytest.fail("pairs read"))
        for name in chosen:
            paths.same(name=name)


def test_demo_show_pages_under_the_settings(db_target: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    db = db_target("m.db")
    write_demo(db, events=2_500, seed=8)
    stored = _stored(db)
    heavy = sorted({e["userid"] for e in stored}, key=lambda u: -sum(e["userid"] == u for e in stored))[:2]
    dataquality.change(db, "min_minutes", 20)
    dataquality.change(db, "exclude_users", heavy)
    settings = ref.Settings(min_minutes=20, exclude_users=frozenset(heavy))
    paths = Paths(db, monkeypatch)
    names = _shows(paths, 6)
    for name in names:
        assert paths.same(name=name) == ref.show_page(stored, name, settings)
        for selection in (SELECTIONS[1], SELECTIONS[4], SELECTIONS[6]):
            paths.same(name=name, **selection)


# --------------------------------------------------------------------------- #
# Hand-worked fixtures
# --------------------------------------------------------------------------- #


def _episode(day: str, user: str, title: str, season: int | None, number: int | None, minutes: int = 30,
             percentage: float | None = 50.0, sessiontype: str = "SERIES", **extra: Any) -> dict[str, Any]:
    return event(day, user, title=title, sessiontype=sessiontype, minutes=minutes, viewpercentage=percentage,
                 seasonnumber=season, episodenumber=number, **extra)


#: Show "Girls": three numbered titles and an unnumbered one; "Girls, Pilot" is also watched as a movie
#: with the same numbers (its own show then, not Girls).
BASE = [
    _episode("2024-01-01 10:00:00", "u1", "Girls, Pilot", 1, 1, 30, 100.0),
    _episode("2024-01-01 11:00:00", "u2", "Girls, Pilot", 1, 1, 20, 50.0),
    _episode("2024-01-02 10:00:00", "u1", "Girls, Vagina Panic", 1, 2, 30, 120.0),
    _episode("2024-02-01 10:00:00", "u1", "Girls, Homecoming", 2, 1, 25, 80.0, device="TV"),
    _episode("2024-02-02 10:00:00", "u2", "Girls, Unnumbered", None, None, 10, 40.0),
    _episode("2024-02-03 10:00:00", "u3", "Girls, Pilot", 1, 1, 45, 90.0, sessiontype="MOVIE"),
    event("2024-01-05 10:00:00", "u3", title="Solan, Ludvig og Gurin med reverompa", minutes=80),
]


def test_a_title_both_series_and_movie_event(make_db: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_db(BASE)
    paths = Paths(db, monkeypatch)
    assert sorted(query(db, "SELECT t.title, n.season, n.episode, n.mixed FROM md_title_numbers n "
                            "JOIN md_titles t ON t.id = n.title")) == [
        ("Girls, Homecoming", 2, 1, 0), ("Girls, Pilot", 1, 1, 0), ("Girls, Unnumbered", None, None, 0),
        ("Girls, Vagina Panic", 1, 2, 0), ("Solan, Ludvig og Gurin med reverompa", None, None, 0),
    ]
    # "Girls, Pilot" has a movie event: its all-time viewers are not all Girls' (the selection's pairs answer).
    with monkeypatch.context() as patch:
        patch.setattr(show_serve, "_all_time_pairs", lambda *args: pytest.fail("all-time viewers read"))
        girls = paths.same(name="Girls")
    # The movie event of "Girls, Pilot" (u3) is not Girls': episode 1 has u1 and u2.
    assert girls["episodes"][0] == {"season": 1, "episode": 1, "episode_name": "Pilot", "plays": 2, "viewers": 2,
                                    "minutes": 50, "completion": 75.0, "share_of_first": 100.0}
    assert girls == ref.show_page(BASE, "Girls")
    # As a movie it is its own show: one unnamed episode, with the title's numbers.
    pilot = paths.same(name="Girls, Pilot")
    assert pilot["episodes"] == [{"season": 1, "episode": 1, "episode_name": None, "plays": 1, "viewers": 1,
                                  "minutes": 45, "completion": 90.0, "share_of_first": 100.0}]
    assert pilot == ref.show_page(BASE, "Girls, Pilot")
    assert paths.same(name="Girls", device="TV")["episodes"][0]["episode_name"] == "Homecoming"
    assert paths.same(name="Girls, Pilot", sessiontype="SERIES")["plays"] == 0


def test_a_mixed_title_is_answered_from_the_raw_table(make_db: Callable[..., Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # "Girls, Pilot" watched as a movie without numbers: its events carry (1, 1) and (NULL, NULL).
    events = [*BASE[:5], _episode("2024-02-03 10:00:00", "u3", "Girls, Pilot", None, None, 45, 90.0,
                                  sessiontype="MOVIE"),
              _episode("2024-03-01 10:00:00", "u4", "Skam", 1, 1), _episode("2024-03-02 10:00:00", "u4", "Skam", 1, 2),
              *BASE[6:]]
    db = make_db(events)
    paths = Paths(db, monkeypatch)
    # (A mixed title's numbers are those of one of its events: never used.)
    assert sorted(query(db, "SELECT t.title FROM md_title_numbers n JOIN md_titles t ON t.id = n.title "
                            "WHERE n.mixed = 1")) == [("Girls, Pilot",), ("Skam",)]
    for name in ("Girls", "Girls, Pilot", "Skam"):  # each has a mixed title: the raw table answers
        assert paths.same(expect_raw=True, name=name) == ref.show_page(events, name)
        paths.same(expect_raw=True, name=name, start="2024-02-01")
    skam = paths.same(expect_raw=True, name="Skam")
    assert [(e["episode"], e["viewers"]) for e in skam["episodes"]] == [(1, 1), (2, 1)]
    # A show without a mixed title still comes from the rollups.
    assert paths.same(name="Solan, Ludvig og Gurin med reverompa")["plays"] == 1


def test_unknown_shows_are_404_on_both_paths(make_db: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths(make_db(BASE), monkeypatch)
    for name in ("No such show", "Girls, Vagina Panic", "Solan", "girls"):
        # "Solan" is a show id of the movie's title (were it a series event) but no event's show.
        body = paths.same(status=404, name=name)
        assert body["parameter"] == "name"
        paths.same(status=404, name=name, device="TV")
    # A known show without events in the selection: an empty page, not a 404.
    empty = paths.same(name="Girls", start="2024-03-01")
    assert (empty["plays"], empty["seasons"], empty["episodes"], empty["grid"]) == (0, [], [], [])


# --------------------------------------------------------------------------- #
# Incremental loads (the loader's aggregator), rows behind moviedash's back
# --------------------------------------------------------------------------- #

HEADER = ["event_date", "userid", "sessiontype", "title", "seasonnumber", "episodenumber", "totalminuteswatched",
          "viewpercentage"]


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def _numbers(db: Any) -> list[tuple[Any, ...]]:
    return sorted(query(db, "SELECT t.title, n.season, n.episode, n.mixed FROM md_title_numbers n "
                            "JOIN md_titles t ON t.id = n.title"))


def test_incremental_loads(db_target: Callable[[str], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = db_target("m.db")
    load_files(db, [write_csv(tmp_path / "1.csv", [
        ["2024-03-01 10:00:00", "u1", "SERIES", "Tom, One", "1", "1", "30", "50.0"],
        ["2024-03-02 10:00:00", "u2", "SERIES", "Tom, Two", "1", "2", "30", "60.0"],
        ["2024-03-03 10:00:00", "u1", "SERIES", "Jerry, One", "1", "1", "20", ""],
    ])])
    assert _numbers(db) == [("Jerry, One", 1, 1, 0), ("Tom, One", 1, 1, 0), ("Tom, Two", 1, 2, 0)]
    paths = Paths(db, monkeypatch)
    paths.same(name="Tom")
    # A second load: old dates (January, before the first load's), a new title, the same numbers again
    # for "Tom, One", other numbers for "Jerry, One" (mixed from now on).
    load_files(db, [write_csv(tmp_path / "2.csv", [
        ["2024-01-15 10:00:00", "u3", "SERIES", "Tom, One", "1", "1", "25", "40.0"],
        ["2024-03-01 12:00:00", "u3", "SERIES", "Tom, Three", "2", "1", "35", "70.0"],
        ["2024-01-16 10:00:00", "u3", "SERIES", "Jerry, One", "1", "", "15", "30.0"],
    ])])
    assert _numbers(db) == [("Jerry, One", 1, 1, 1), ("Tom, One", 1, 1, 0), ("Tom, Three", 2, 1, 0),
                            ("Tom, Two", 1, 2, 0)]
    stored = _stored(db)
    tom = paths.same(name="Tom")
    assert tom == ref.show_page(stored, "Tom")
    assert [(s["season"], s["viewers"]) for s in tom["seasons"]] == [(1, 3), (2, 1)]
    paths.same(name="Tom", start="2024-03-01")
    assert paths.same(expect_raw=True, name="Jerry") == ref.show_page(stored, "Jerry")
    # A load whose one batch carries two pairs for a new title: mixed at once.
    load_files(db, [write_csv(tmp_path / "3.csv", [
        ["2024-04-01 10:00:00", "u1", "SERIES", "Tom, Four", "2", "2", "30", "50.0"],
        ["2024-04-02 10:00:00", "u2", "SERIES", "Tom, Four", "2", "3", "30", "50.0"],
    ])])
    assert [row[3] for row in _numbers(db) if row[0] == "Tom, Four"] == [1]
    assert paths.same(expect_raw=True, name="Tom") == ref.show_page(_stored(db), "Tom")


def test_rows_behind_moviedashs_back_are_rebuilt(db_target: Callable[[str], Any], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = db_target("m.db")
    load_files(db, [write_csv(tmp_path / "1.csv", [
        ["2024-03-01 10:00:00", "u1", "SERIES", "Tom, One", "1", "1", "30", "50.0"],
        ["2024-03-02 10:00:00", "u2", "SERIES", "Tom, Two", "1", "2", "30", "60.0"],
    ])])
    paths = Paths(db, monkeypatch)
    write_sql(db, "INSERT INTO movies (event_date, userid, sessiontype, title, seasonnumber, episodenumber, "
                  "totalminuteswatched) VALUES ('2024-03-05 10:00:00', 'u9', 'SERIES', 'Tom, One', 3, 7, 10)")
    # Stale rollups: the raw table answers (the status says so; no rollup is read).
    with monkeypatch.context() as patch:
        patch.setattr(show_serve, "show_entries", lambda *args: pytest.fail("stale rollups read"))
        stale = paths.client.get("/data/show/", query_string={"name": "Tom"}).get_json()
    assert stale == ref.show_page(_stored(db), "Tom")
    # The next load folds the foreign row in (SQLite) or rebuilds (PostgreSQL): "Tom, One" is mixed.
    load_files(db, [write_csv(tmp_path / "2.csv", [
        ["2024-03-06 10:00:00", "u1", "SERIES", "Tom, Two", "1", "2", "30", "60.0"]])])
    assert [row[3] for row in _numbers(db) if row[0] == "Tom, One"] == [1]
    assert paths.same(expect_raw=True, name="Tom") == ref.show_page(_stored(db), "Tom")


def test_numbers_as_text_are_read_as_the_raw_sql_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows appended the course's way (sqlite's .import: every field text, '' for none) are folded in
    # by the next load's SQL pass, which reads the numbers as the raw SQL does.
    path = build_db(tmp_path / "m.db", [_episode("2024-01-01 10:00:00", "u1", "Girls, Pilot", 1, 1)])
    write_sql(path, "INSERT INTO movies (event_date, userid, sessiontype, title, seasonnumber, episodenumber, "
                    "totalminuteswatched) VALUES ('2024-01-02 10:00:00', 'u2', 'SERIES', 'Girls, Two', '1', '', '5'), "
                    "('2024-01-02 11:00:00', 'u2', 'SERIES', 'Girls, Pilot', '1', '1', '7')")
    load_files(path, [write_csv(tmp_path / "1.csv", [
        ["2024-01-03 10:00:00", "u3", "SERIES", "Girls, Pilot", "1", "1", "30", "50.0"]])])
    assert _numbers(path) == [("Girls, Pilot", 1, 1, 0), ("Girls, Two", 1, None, 0)]
    page = Paths(path, monkeypatch).same(name="Girls")
    assert [(e["season"], e["episode"], e["plays"]) for e in page["episodes"]] == [(1, 1, 3), (1, None, 1)]


# --------------------------------------------------------------------------- #
# The per-batch work (unit)
# --------------------------------------------------------------------------- #


def test_title_numbers_across_batches() -> None:
    numbers = TitleNumbers(known=0)
    ints = lambda *v: pa.array(list(v), type=pa.int64())  # noqa: E731
    # Titles 0-3; -1 has no title (ignored).  Title 1 differs within the batch (NULL vs 0).
    numbers.add(np.array([0, 1, 1, 2, -1, 0]), ints(1, 2, 2, None, 9, 1), ints(1, None, 0, None, 9, 1))
    # Title 0 again the same; title 2 now numbered (mixed); title 3 new.
    numbers.add(np.array([0, 2, 3]), ints(1, 4, 5), ints(1, 4, None))
    seen = np.flatnonzero(numbers.seen).tolist()
    assert seen == [0, 1, 2, 3]
    assert numbers.mixed[seen].tolist() == [False, True, True, False]
    season, season_valid, episode, episode_valid = (v[seen].tolist() for v in numbers.values)
    assert (season[0], episode[0], season[3], season_valid[3], episode_valid[3]) == (1, 1, 5, 1, 0)


def test_unpack_column_rows_equals_one_blob_at_a_time() -> None:
    rng = np.random.default_rng(3)
    lengths = np.array([3, 0, 5, 1, 4])
    rows = [[rng.integers(-(10 ** k), 10 ** k, n) for k in (1, 4, 12)] for n in lengths.tolist()]
    blobs = [pack_columns(columns) for columns in rows]
    got = unpack_column_rows(blobs, 3, lengths)
    for k in range(3):
        assert got[k].tolist() == [v for r, n in zip(blobs, lengths.tolist(), strict=True)
                                   for v in unpack_columns(r, 3, n)[k].tolist()]
    assert [a.tolist() for a in unpack_column_rows([], 2, np.zeros(0, dtype=np.int64))] == [[], []]
