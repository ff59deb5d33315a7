"""Shows (issue 15): the top list by show (``group=shows``) and the show route (``/data/show/``), both backends.

Hand-worked fixtures (answers worked out in the comments), the plain-Python reference
(tests/reference.py) on generated demo rows, the rollups against the raw-table path, the
CSV ``show`` column, incremental loads, and byte-identical answers across backends.
"""
from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest

from moviedash import analysis, create_app, dataquality
from moviedash.ingest.demo import generate_events
from moviedash.ingest.loader import load_files
from moviedash.rollups import maintain
from moviedash.rollups import serve as rollups_serve
from moviedash.store import COLUMNS
from tests import reference as ref
from tests.helpers import BACKENDS, build_db, event, module_db, query, raw_path, write_sql

RANKS = ("plays", "minutes", "viewers")


def _episode(day: str, user: str, title: str, season: int | None, number: int | None, minutes: int,
             percentage: float | None) -> dict[str, Any]:
    return event(day, user, title=title, sessiontype="SERIES", minutes=minutes, viewpercentage=percentage,
                 seasonnumber=season, episodenumber=number)


#: The hand-worked events (numbered as the comments below refer to them).
HAND = [
    _episode("2024-01-01 10:00:00", "u1", "Girls, Pilot", 1, 1, 30, 100.0),               # 1
    _episode("2024-01-01 11:00:00", "u2", "Girls, Pilot", 1, 1, 20, 50.0),                # 2
    _episode("2024-01-02 10:00:00", "u1", "Girls, Bad Friend, Part 2", 1, 2, 30, 120.0),  # 3 (capped at 100)
    _episode("2024-01-03 10:00:00", "u3", "Girls, Pilot", 1, 1, 5, None),                 # 4 (no percentage)
    _episode("2024-02-01 10:00:00", "u1", "Girls, Homecoming", 2, 1, 25, 80.0),           # 5
    _episode("2024-02-02 10:00:00", "u2", "Girls, Unnumbered", None, None, 10, 40.0),     # 6
    event("2024-01-01 12:00:00", "u2", title="Abraham Lincoln: Vampire Hunter", minutes=100, viewpercentage=95.0),
    event("2024-01-05 10:00:00", "u3", title="Solan, Ludvig og Gurin med reverompa", minutes=80),   # 8
    event("2024-01-06 10:00:00", "u1", title="Solan, Ludvig og Gurin med reverompa", minutes=70),   # 9
    _episode("2024-01-07 10:00:00", "u4", "Skam", 1, 1, 20, None),                        # 10: no separator
    _episode("2024-01-08 10:00:00", "u4", "Skam", 1, 2, 20, None),                        # 11
    event("2024-01-09 10:00:00", "u4", title="", minutes=50),                             # 12: no title, no show
]

#: group=shows by hand.  Shows: Girls (1-6), Abraham Lincoln: Vampire Hunter (7), the movie
#: "Solan, Ludvig og Gurin med reverompa" (8, 9: a movie is never split), Skam (10, 11).
HAND_TOP = {
    # plays: Girls 6; Skam 2 and Solan 2 tie ("Skam" < "Solan"); Abraham 1.
    "plays": [["Girls", 6], ["Skam", 2], ["Solan, Ludvig og Gurin med reverompa", 2],
              ["Abraham Lincoln: Vampire Hunter", 1]],
    # minutes: Solan 80 + 70 = 150; Girls 30 + 20 + 30 + 5 + 25 + 10 = 120; Abraham 100; Skam 40.
    "minutes": [["Solan, Ludvig og Gurin med reverompa", 150], ["Girls", 120],
                ["Abraham Lincoln: Vampire Hunter", 100], ["Skam", 40]],
    # viewers: Girls {u1, u2, u3} over all its episodes = 3 (not 3 + 1 + 1 + 1 + 1); Solan {u1, u3};
    # Abraham {u2} and Skam {u4} tie at 1.
    "viewers": [["Girls", 3], ["Solan, Ludvig og Gurin med reverompa", 2], ["Abraham Lincoln: Vampire Hunter", 1],
                ["Skam", 1]],
}

#: /data/show/?name=Girls by hand.  Season 1: episode 1 (events 1, 2, 4), episode 2 (3); season 2:
#: episode 1 (5); no numbers (6), listed last.  Completion: capped % of the plays with a percentage.
HAND_GIRLS = {
    "show": "Girls",
    # 6 plays; u1, u2, u3; 120 minutes; (100 + 50 + 100 + 80 + 40) / 5 = 74.
    "plays": 6, "viewers": 3, "minutes": 120, "completion": 74.0,
    "seasons": [
        # (100 + 50 + 100) / 3 = 83.333... -> 83.33 (event 4 has no percentage).
        {"season": 1, "episodes": 2, "plays": 4, "viewers": 3, "minutes": 85, "completion": 83.33},
        {"season": 2, "episodes": 1, "plays": 1, "viewers": 1, "minutes": 25, "completion": 80.0},
        {"season": None, "episodes": 1, "plays": 1, "viewers": 1, "minutes": 10, "completion": 40.0},
    ],
    "episodes": [
        # Episode 1: 3 viewers, the base of season 1's drop-off; (100 + 50) / 2 = 75.
        {"season": 1, "episode": 1, "episode_name": "Pilot", "plays": 3, "viewers": 3, "minutes": 55,
         "completion": 75.0, "share_of_first": 100.0},
        # Episode 2: u1 only: 1 / 3 = 33.3 %; the comma stays in the episode name.
        {"season": 1, "episode": 2, "episode_name": "Bad Friend, Part 2", "plays": 1, "viewers": 1, "minutes": 30,
         "completion": 100.0, "share_of_first": 33.3},
        {"season": 2, "episode": 1, "episode_name": "Homecoming", "plays": 1, "viewers": 1, "minutes": 25,
         "completion": 80.0, "share_of_first": 100.0},
        {"season": None, "episode": None, "episode_name": "Unnumbered", "plays": 1, "viewers": 1, "minutes": 10,
         "completion": 40.0, "share_of_first": 100.0},
    ],
    # Season 1 (2 episodes): u1 watched both, u2 and u3 one each.
    "grid": [
        {"season": 1, "episodes_watched": 1, "viewers": 2},
        {"season": 1, "episodes_watched": 2, "viewers": 1},
        {"season": 2, "episodes_watched": 1, "viewers": 1},
        {"season": None, "episodes_watched": 1, "viewers": 1},
    ],
}


def get_json(client: Any, url: str, status: int = 200, **params: Any) -> Any:
    response = client.get(url, query_string=params or None)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def top(client: Any, rank: str, num: int = 10, **params: Any) -> list[list[Any]]:
    rows = get_json(client, "/data/toplist/", num=num, rank=rank, group="shows", **params)
    return [[r["title"], r["values"]] for r in rows]


def _both_paths(client: Any, url: str, **params: Any) -> Any:
    """The answer from the rollups, checked equal to the raw table's."""
    from_rollups = client.get(url, query_string=params or None)
    with raw_path():
        from_raw = client.get(url, query_string=params or None)
    assert from_rollups.status_code == from_raw.status_code == 200, from_rollups.get_data(as_text=True)
    assert from_rollups.get_data() == from_raw.get_data()
    return from_rollups.get_json()


# --------------------------------------------------------------------------- #
# Hand-worked
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("rank", RANKS)
def test_top_shows_by_hand(make_db: Callable[..., Any], rank: str) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    got = _both_paths(client, "/data/toplist/", rank=rank, group="shows")
    assert [[r["title"], r["values"]] for r in got] == HAND_TOP[rank]
    assert top(client, rank, num=2) == HAND_TOP[rank][:2]
    assert got == ref.top_shows(HAND, 10, rank)


def test_top_shows_come_from_the_rollups(make_db: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()

    def no_raw(*args: Any) -> Any:
        raise AssertionError("the rollups should answer")

    monkeypatch.setattr(analysis, "_raw_top_shows", no_raw)
    for rank in RANKS:
        assert top(client, rank) == HAND_TOP[rank]


def test_the_whole_datas_top_shows_by_viewers_union_the_titles_all_time_viewers(
        make_db: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # Unfiltered, a show's viewers are the union of its titles' all-time viewer bitmaps (md_title_users), not
    # the pairs of every (day, dims) row -- unless a title was watched as a series episode and as a movie: its
    # one bitmap holds the viewers of two shows ("Girls" and the movie "Girls, Pilot"), so the pairs count.
    used: list[Any] = []
    real = rollups_serve._all_time_show_viewers
    monkeypatch.setattr(rollups_serve, "_all_time_show_viewers", lambda *a: used.append(real(*a)) or used[-1])
    client = create_app(db=make_db(HAND)).server.test_client()
    assert top(client, "viewers") == HAND_TOP["viewers"] and used[-1] is not None
    mixed = [*HAND, event("2024-01-10 10:00:00", "u5", title="Girls, Pilot", minutes=30)]
    client = create_app(db=make_db(mixed, name="mixed.db")).server.test_client()
    got = _both_paths(client, "/data/toplist/", rank="viewers", group="shows")
    assert used[-1] is None
    assert [[r["title"], r["values"]] for r in got] == [
        ["Girls", 3], ["Solan, Ludvig og Gurin med reverompa", 2], ["Abraham Lincoln: Vampire Hunter", 1],
        ["Girls, Pilot", 1], ["Skam", 1]]
    assert got == ref.top_shows(mixed, 10, "viewers")


def test_the_titles_top_list_is_unchanged_by_default(make_db: Callable[..., Any]) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    default = client.get("/data/toplist/?num=3").get_data()
    assert client.get("/data/toplist/?num=3&group=titles").get_data() == default
    assert [r["title"] for r in get_json(client, "/data/toplist/?num=3")] == [
        "Girls, Pilot", "Skam", "Solan, Ludvig og Gurin med reverompa",  # 3 plays, then 2 and 2 by title
    ]


def test_the_show_page_by_hand(make_db: Callable[..., Any]) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    got = _both_paths(client, "/data/show/", name="Girls")
    assert got == HAND_GIRLS
    assert got == ref.show_page(HAND, "Girls")
    # A movie is its own show: one episode without numbers, no episode name.
    movie = get_json(client, "/data/show/", name="Solan, Ludvig og Gurin med reverompa")
    assert movie["episodes"] == [{"season": None, "episode": None, "episode_name": None, "plays": 2, "viewers": 2,
                                  "minutes": 150, "completion": None, "share_of_first": 100.0}]
    # A series title without the separator: one show, its episodes told apart by their numbers.
    skam = get_json(client, "/data/show/", name="Skam")
    assert [(e["episode"], e["viewers"], e["share_of_first"]) for e in skam["episodes"]] == [(1, 1, 100.0),
                                                                                            (2, 1, 100.0)]
    assert skam["grid"] == [{"season": 1, "episodes_watched": 1, "viewers": 0},
                            {"season": 1, "episodes_watched": 2, "viewers": 1}]


def test_the_show_page_of_a_selection_by_hand(make_db: Callable[..., Any]) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    # January 2-31: events 3 (u1, episode 2) and 4 (u3, episode 1, no percentage).
    got = _both_paths(client, "/data/show/", name="Girls", start="2024-01-02", end="2024-01-31")
    assert got["seasons"] == [{"season": 1, "episodes": 2, "plays": 2, "viewers": 2, "minutes": 35,
                               "completion": 100.0}]
    assert got["episodes"] == [
        {"season": 1, "episode": 1, "episode_name": "Pilot", "plays": 1, "viewers": 1, "minutes": 5,
         "completion": None, "share_of_first": 100.0},
        {"season": 1, "episode": 2, "episode_name": "Bad Friend, Part 2", "plays": 1, "viewers": 1, "minutes": 30,
         "completion": 100.0, "share_of_first": 100.0},
    ]
    assert got["grid"] == [{"season": 1, "episodes_watched": 1, "viewers": 2},
                           {"season": 1, "episodes_watched": 2, "viewers": 0}]
    # A known show without events in the selection: empty tables, not a 404.
    empty = get_json(client, "/data/show/", name="Girls", start="2024-03-01")
    assert (empty["plays"], empty["seasons"], empty["episodes"], empty["grid"]) == (0, [], [], [])
    assert empty["completion"] is None


def test_the_settings_apply_to_shows_by_hand(db_target: Callable[[str], Any]) -> None:
    db = build_db(db_target("m.db"), HAND)
    dataquality.change(db, "min_minutes", 10)  # event 4 (5 minutes, u3) is no play; its minutes still count
    client = create_app(db=db).server.test_client()
    assert [row[1] for row in top(client, "plays")][:1] == [5]
    # Girls' viewers are u1 and u2 now: tied with Solan's u1 and u3, "Girls" first.
    got = _both_paths(client, "/data/toplist/", rank="viewers", group="shows")
    assert [[r["title"], r["values"]] for r in got][:2] == [["Girls", 2], ["Solan, Ludvig og Gurin med reverompa", 2]]
    page = _both_paths(client, "/data/show/", name="Girls")
    assert page["episodes"][0] == {"season": 1, "episode": 1, "episode_name": "Pilot", "plays": 2, "viewers": 2,
                                   "minutes": 55, "completion": 75.0, "share_of_first": 100.0}
    assert page["grid"][:2] == [{"season": 1, "episodes_watched": 1, "viewers": 1},
                                {"season": 1, "episodes_watched": 2, "viewers": 1}]
    settings = ref.Settings(min_minutes=10)
    assert page == ref.show_page(HAND, "Girls", settings)
    for rank in RANKS:
        assert get_json(client, "/data/toplist/", rank=rank, group="shows") == ref.top_shows(HAND, 10, rank,
                                                                                              settings)


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/data/toplist/?group=episodes", 400, "group"),
        ("/data/toplist/?group=", 400, "group"),
        ("/data/toplist/?group=shows&group=titles", 400, "group"),
        ("/data/toplist/?group=shows&rank=completion", 400, "group"),
        ("/data/show/", 400, "name"),
        ("/data/show/?name=", 400, "name"),
        ("/data/show/?name=Girls&name=Skam", 400, "name"),
        ("/data/show/?name=Girls&group=shows", 400, "group"),
        ("/data/show/?name=Girls&device=Toaster", 400, "device"),
        ("/data/show/?name=No+such+show", 404, "name"),
        ("/data/show/?name=Girls%2C+Pilot", 404, "name"),  # an episode's title is not a show
        ("/data/show/?name=Girls&start=2024-02-30", 400, "start"),
    ],
)
def test_bad_requests_name_the_parameter(make_db: Callable[..., Any], url: str, status: int, parameter: str) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    body = get_json(client, url, status=status)
    assert body["parameter"] == parameter and body["error"]


def test_names_are_parameters_not_sql(make_db: Callable[..., Any]) -> None:
    client = create_app(db=make_db([*HAND, _episode("2024-01-01 09:00:00", "u9", "x' OR '1'='1, y", 1, 1, 3, None)])
                        ).server.test_client()
    assert get_json(client, "/data/show/", name="x' OR '1'='1")["plays"] == 1
    get_json(client, "/data/show/", status=404, name="' OR 1=1 --")


def test_the_show_csv_is_its_episodes(make_db: Callable[..., Any]) -> None:
    client = create_app(db=make_db(HAND)).server.test_client()
    response = client.get("/data/show/", query_string={"name": "Girls", "format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
    assert [(r["season"], r["episode"], r["episode_name"], r["viewers"], r["share_of_first"]) for r in rows] == [
        ("1", "1", "Pilot", "3", "100.0"), ("1", "2", "Bad Friend, Part 2", "1", "33.3"),
        ("2", "1", "Homecoming", "1", "100.0"), ("", "", "Unnumbered", "1", "100.0"),
    ]


# --------------------------------------------------------------------------- #
# The CSV show column, incremental loads, rows behind moviedash's back
# --------------------------------------------------------------------------- #

HEADER = ["event_date", "userid", "sessiontype", "title", "seasonnumber", "episodenumber", "totalminuteswatched"]


def write_csv(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def test_the_csv_show_column_wins_over_the_rule(db_target: Callable[[str], Any], tmp_path: Path) -> None:
    db = db_target("m.db")
    first = write_csv(tmp_path / "first.csv", [
        ["2024-01-01 10:00:00", "u1", "SERIES", "Tom, Dick and Harry, Pilot", "1", "1", "30"],
        ["2024-01-02 10:00:00", "u2", "SERIES", "Tom, Dick and Harry, Finale", "1", "2", "30"],
        ["2024-01-03 10:00:00", "u3", "SERIES", "Tom, Jerry", "1", "1", "10"],
    ])
    load_files(db, [first])
    client = create_app(db=db).server.test_client()
    # Without a show column, the rule splits at the first ", ": all three are "Tom".
    assert _both_paths(client, "/data/toplist/", group="shows", rank="viewers") == [{"title": "Tom", "values": 3}]
    # A later load names the show of two titles (one of them already loaded, one new): every event of
    # those titles counts for the named show from then on, the first load's too.
    second = write_csv(tmp_path / "second.csv", [
        ["2024-01-04 10:00:00", "u4", "SERIES", "Tom, Dick and Harry, Pilot", "1", "1", "20", "Tom, Dick and Harry"],
        ["2024-01-05 10:00:00", "u4", "SERIES", "Tom, Dick and Harry, Extra", "", "", "5", "Tom, Dick and Harry"],
        ["2024-01-05 11:00:00", "u5", "MOVIE", "Solo", "", "", "90", ""],  # empty: the rule
    ], header=[*HEADER, "show"])
    load_files(db, [second])
    assert sorted(query(db, "SELECT title, show FROM moviedash_shows")) == [
        ("Tom, Dick and Harry, Extra", "Tom, Dick and Harry"), ("Tom, Dick and Harry, Pilot", "Tom, Dick and Harry"),
    ]
    got = _both_paths(client, "/data/toplist/", group="shows", rank="plays")
    # Pilot (2 events) + Extra = 3; "Tom, Dick and Harry, Finale" (not named) and "Tom, Jerry" stay "Tom".
    assert got == [{"title": "Tom, Dick and Harry", "values": 3}, {"title": "Tom", "values": 2},
                   {"title": "Solo", "values": 1}]
    page = _both_paths(client, "/data/show/", name="Tom, Dick and Harry")
    assert [(e["season"], e["episode"], e["episode_name"], e["plays"]) for e in page["episodes"]] == [
        (1, 1, "Pilot", 2), (None, None, "Extra", 1),
    ]


@pytest.fixture
def demo_csv(tmp_path: Path) -> Iterator[Callable[[int, int], Path]]:
    """Demo events of a seed as a headerless CSV of the 13 columns."""

    def make(rows: int, seed: int) -> Path:
        frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
        path = tmp_path / f"demo-{seed}.csv"
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            for row in frame[list(COLUMNS)].astype(object).itertuples(index=False, name=None):
                out.writerow(["" if pd.isna(v) else repr(v) if isinstance(v, float) else v for v in row])
        return path

    yield make


def _stored(db: Any) -> list[dict[str, Any]]:
    return ref.as_events(query(db, f"SELECT {', '.join(COLUMNS)} FROM movies"))


def test_incremental_loads_and_rows_behind_moviedashs_back(
    db_target: Callable[[str], Any], demo_csv: Callable[[int, int], Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = db_target("m.db")
    load_files(db, [demo_csv(1_000, 3)])

    def no_sql_pass(*args: Any) -> bool:
        raise AssertionError("the load's aggregator should fold in its rows, not an SQL pass over movies")

    with monkeypatch.context() as patch:  # the second load's days overlap the first's (old dates touched)
        patch.setattr(maintain, "_add_rows", no_sql_pass)
        load_files(db, [demo_csv(800, 4)])
    client = create_app(db=db).server.test_client()
    stored = _stored(db)
    for rank in RANKS:
        assert _both_paths(client, "/data/toplist/", group="shows", rank=rank, num=25) == ref.top_shows(
            stored, 25, rank)
    # Rows appended behind moviedash's back (a new show among them): the raw table answers, exactly.
    write_sql(db, "INSERT INTO movies (event_date, userid, sessiontype, title, seasonnumber, episodenumber, "
                  "totalminuteswatched) VALUES ('2023-05-01 10:00:00', 'zz', 'SERIES', 'Zzz Show, One', 1, 1, 90000)")
    stored = _stored(db)
    assert get_json(client, "/data/toplist/", group="shows", rank="minutes", num=1) == [
        {"title": "Zzz Show", "values": 90000}]
    assert get_json(client, "/data/toplist/", group="shows", rank="viewers", num=30) == ref.top_shows(
        stored, 30, "viewers")


# --------------------------------------------------------------------------- #
# The reference on generated rows, and both backends byte for byte
# --------------------------------------------------------------------------- #


def _demo_events(rows: int = 3_000, seed: int = 11) -> list[dict[str, Any]]:
    frame = pd.concat(list(generate_events(rows, seed)), ignore_index=True)
    plain = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(COLUMNS, row, strict=True)) for row in plain.itertuples(index=False, name=None)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict]]:
    db = module_db(request, tmp_path_factory, _demo_events())
    return create_app(db=db).server.test_client(), _stored(db)


@pytest.mark.parametrize("rank", RANKS)
def test_top_shows_equal_the_reference(demo: tuple[Any, list[dict]], rank: str) -> None:
    client, stored = demo
    assert _both_paths(client, "/data/toplist/", group="shows", rank=rank, num=40) == ref.top_shows(stored, 40, rank)
    selected = ref.select(stored, device="TV")
    filtered = _both_paths(client, "/data/toplist/", group="shows", rank=rank, num=15, device="TV",
                           start="2023-03-01", end="2023-08-15")
    expected = ref.top_shows(ref.select(selected, start=dt.date(2023, 3, 1), end=dt.date(2023, 8, 15)), 15, rank)
    assert filtered == expected


def test_show_pages_equal_the_reference(demo: tuple[Any, list[dict]]) -> None:
    client, stored = demo
    series = [r["title"] for r in get_json(client, "/data/toplist/", group="shows", num=12)]
    assert any(ref.show_page(stored, name)["seasons"][0]["season"] is not None for name in series)
    for name in series:
        got = _both_paths(client, "/data/show/", name=name)
        assert got == ref.show_page(stored, name)
    name = series[0]
    filtered = _both_paths(client, "/data/show/", name=name, market="SE")
    assert filtered == ref.show_page(ref.select(stored, market="SE"), name)


def test_answers_are_byte_identical_across_backends(pg_server: Any, tmp_path: Path) -> None:
    rows = [*_demo_events(1_500, 5), *HAND]
    clients = [
        create_app(db=build_db(tmp_path / "m.db", rows)).server.test_client(),
        create_app(db=build_db(pg_server.new_database(), rows)).server.test_client(),
    ]
    names = [r["title"] for r in get_json(clients[0], "/data/toplist/", group="shows", num=6)]
    urls = [
        *(f"/data/toplist/?group=shows&rank={rank}&num=50" for rank in RANKS),
        "/data/toplist/?group=shows&rank=viewers&device=TV&start=2023-02-01",
        *(f"/data/show/?{urlencode({'name': name})}" for name in [*names, "Girls"]),
        "/data/show/?name=Girls&format=csv",
    ]
    for url in urls:
        bodies = [c.get(url) for c in clients]
        assert bodies[0].status_code == bodies[1].status_code == 200, url
        assert bodies[0].get_data() == bodies[1].get_data(), url
