"""The synthetic demo database: shape, realism, determinism and safe writing."""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moviedash.errors import MoviedashError
from moviedash.ingest import demo
from moviedash.shows import split_title
from moviedash.store import COLUMNS, connect_readonly

EVENTS = 20_000
SEED = 7
FIRST = "2023-01-01 00:00:00"
LAST = "2024-12-31 23:59:59"


def _frame(events: int = EVENTS, seed: int = SEED, **kwargs) -> pd.DataFrame:
    return pd.concat(list(demo.generate_events(events, seed, **kwargs)), ignore_index=True)


def _as_rows(frame: pd.DataFrame) -> list[tuple]:
    """The frame's rows with NULLs as None, as the database returns them."""
    plain = frame.astype(object)
    return list(plain.where(frame.notna(), None).itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def titled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["title"].notna()]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert demo.write_demo(path, EVENTS, SEED) == EVENTS
    return path


# --- shape ------------------------------------------------------------------ #


def test_defaults() -> None:
    assert demo.DEFAULT_EVENTS == 100_000
    assert demo.DEFAULT_SEED == 42


def test_columns_and_types(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == EVENTS
    for column in ("event_date", "userid", "contentid", "device", "market", "sessiontype", "title"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["totalminuteswatched"].dtype == np.int64
    for column in ("runningtime", "seasonnumber", "episodenumber"):
        assert frame[column].dtype == "Int64", column
    assert frame["viewpercentage"].dtype == np.float64
    assert frame["errorperception"].dtype == np.float64


def test_ids_are_hex(frame: pd.DataFrame, titled: pd.DataFrame) -> None:
    assert frame["userid"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert titled["contentid"].str.fullmatch(r"[0-9a-f]{24}").all()
    # Content missing from the catalogue has a longer id, as in the real log.
    untitled = frame.loc[frame["title"].isna(), "contentid"]
    assert untitled.str.fullmatch(r"[0-9a-f]{32}").all()
    # One contentid per title.
    assert (titled.groupby("title")["contentid"].nunique() == 1).all()


def test_dates_are_text_in_the_documented_span_and_in_order(frame: pd.DataFrame) -> None:
    dates = frame["event_date"]
    assert dates.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    parsed = pd.to_datetime(dates, format="%Y-%m-%d %H:%M:%S")
    assert dates.min() >= FIRST and dates.max() <= LAST
    assert parsed.dt.normalize().nunique() > 700  # covers (nearly) every day of two years
    assert dates.is_monotonic_increasing


def test_chunks_are_bounded_and_whole_days() -> None:
    frames = list(demo.generate_events(EVENTS, SEED, chunk_size=3_000))
    assert len(frames) > 3
    assert sum(len(f) for f in frames) == EVENTS
    for before, after in zip(frames, frames[1:], strict=False):
        assert before["event_date"].iloc[-1][:10] < after["event_date"].iloc[0][:10]
    assert all(len(f) < 3_000 + 200 for f in frames)  # a chunk overshoots by less than a day


# --- determinism ------------------------------------------------------------ #


def test_same_seed_gives_the_same_rows(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_frame(), frame)


def test_rows_do_not_depend_on_chunk_size(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_frame(chunk_size=1_234), frame)


def test_runs_across_midnight_do_not_depend_on_chunk_size(frame: pd.DataFrame) -> None:
    """Chunks of a day or two: a run that goes on after a chunk's last midnight is
    carried into the next chunk, and the rows are the same."""
    pieces = list(demo.generate_events(EVENTS, SEED, chunk_size=60))
    assert len(pieces) > 200
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), frame)
    piece_of = {dt.date.fromisoformat(day): i for i, piece in enumerate(pieces) for day in piece["event_date"].str[:10]}
    carried = [run for run in _binges(frame) if piece_of[run[0].start.date()] != piece_of[run[-1].start.date()]]
    assert len(carried) >= 3  # the carrying is exercised


def test_different_seed_gives_different_rows(frame: pd.DataFrame) -> None:
    other = _frame(seed=SEED + 1)
    assert len(other) == len(frame)
    assert not other.equals(frame)
    assert set(other["userid"]).isdisjoint(set(frame["userid"]))


def test_row_count_is_exact() -> None:
    for events in (1, 2, 999):
        assert len(_frame(events)) == events


# --- realism ---------------------------------------------------------------- #


def test_evening_peak_and_quiet_nights(frame: pd.DataFrame) -> None:
    hour = pd.to_datetime(frame["event_date"]).dt.hour
    share = hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    assert share[19:23].sum() > 3 * share[6:10].sum()
    assert share[3:6].sum() < 0.03
    assert share.idxmax() in (20, 21, 22)


def test_more_viewing_at_weekends(frame: pd.DataFrame) -> None:
    day = pd.to_datetime(frame["event_date"]).dt.normalize()
    per_day = day.value_counts()
    weekday = per_day.index.day_of_week
    assert per_day[weekday >= 4].mean() > 1.15 * per_day[weekday <= 3].mean()  # Fri-Sun vs Mon-Thu


def test_mild_growth(frame: pd.DataFrame) -> None:
    year = frame["event_date"].str[:4].value_counts()
    assert 1.05 * year["2023"] < year["2024"] < 1.8 * year["2023"]


def test_a_minority_of_heavy_viewers(frame: pd.DataFrame) -> None:
    per_user = frame["userid"].value_counts()
    assert len(per_user) <= max(50, EVENTS // 15)
    top = per_user.iloc[: len(per_user) // 10].sum()
    assert top > 0.4 * EVENTS
    assert per_user.median() < per_user.mean()


def test_popular_and_long_tail_titles(titled: pd.DataFrame) -> None:
    plays = titled["title"].value_counts()
    assert len(plays) > 500
    assert plays.iloc[:10].sum() > 0.10 * len(titled)
    assert (plays <= 2).sum() > 100


def test_movies_and_series_episodes(titled: pd.DataFrame) -> None:
    kinds = titled["sessiontype"].value_counts(normalize=True)
    assert set(kinds.index) == {"MOVIE", "SERIES"}
    assert 0.3 < kinds["SERIES"] < 0.7
    movies = titled[titled["sessiontype"] == "MOVIE"]
    series = titled[titled["sessiontype"] == "SERIES"]
    assert movies["seasonnumber"].isna().all() and movies["episodenumber"].isna().all()
    assert series["seasonnumber"].notna().all() and series["episodenumber"].notna().all()
    assert (series["seasonnumber"] >= 1).all() and (series["episodenumber"] >= 1).all()
    assert series["title"].str.contains(", ", regex=False).all()
    assert movies["runningtime"].between(80, 150).all()
    assert series["runningtime"].between(20, 60).all()
    assert not movies["title"].str.contains(",", regex=False).any()


def test_some_titles_are_not_ascii(titled: pd.DataFrame) -> None:
    assert any(not title.isascii() for title in titled["title"].unique())


def test_devices_and_markets(frame: pd.DataFrame) -> None:
    devices = frame["device"].value_counts(normalize=True)
    assert set(devices.index) == {"Computer", "iPad", "TV"}
    assert devices.idxmax() == "Computer"
    markets = frame["market"].value_counts()
    assert set(markets.index) == {"NO", "SE", "DK", "FI"}
    # A user lives in one market.
    assert (frame.groupby("userid")["market"].nunique() == 1).all()


def test_minutes_consistent_with_running_time(titled: pd.DataFrame) -> None:
    minutes = titled["totalminuteswatched"]
    running = titled["runningtime"].astype("int64")
    assert (minutes >= 1).all()
    assert (minutes <= running).mean() > 0.9
    assert (minutes <= 1.1 * running + 1).all()
    expected = (100 * minutes / running).round(4)
    np.testing.assert_allclose(titled["viewpercentage"], expected, rtol=0, atol=1e-9)
    percentage = titled["viewpercentage"]
    assert (percentage >= 90).mean() > 0.25  # many watch (nearly) to the end
    assert (percentage < 10).mean() > 0.10  # many stop early


def test_a_few_events_lack_metadata(frame: pd.DataFrame) -> None:
    missing = frame["title"].isna()
    assert 0.015 < missing.mean() < 0.045
    for column in ("runningtime", "viewpercentage", "sessiontype", "seasonnumber", "episodenumber"):
        assert frame.loc[missing, column].isna().all(), column
    assert frame.loc[~missing, ["runningtime", "viewpercentage", "sessiontype"]].notna().all().all()
    for column in ("event_date", "userid", "contentid", "device", "market", "totalminuteswatched"):
        assert frame[column].notna().all(), column


# --- quality of experience and completion --------------------------------- #


def _capped(frame: pd.DataFrame) -> pd.Series:
    return frame["viewpercentage"].clip(upper=100)


def test_errorperception_values_and_nulls(frame: pd.DataFrame) -> None:
    quality = frame["errorperception"]
    filled = quality.dropna()
    # A share of events without a value, as in the real sample (1,209 of 2,000).
    assert 0.5 < quality.notna().mean() < 0.7
    assert ((filled > 0) & (filled <= 10)).all()
    assert (filled == filled.round(4)).all()
    # Mostly good, like the sample (median 5.5, 90th percentile 7.2, ~13 % above 7).
    assert 5.0 < filled.median() < 6.0
    assert 6.8 < filled.quantile(0.9) < 7.6
    assert 0.08 < (filled > 7).mean() < 0.18
    # Measured from QUALITY_FROM on; hardly ever for content without metadata.
    assert quality[frame["event_date"] < demo.QUALITY_FROM].isna().all()
    assert quality[frame["event_date"] >= demo.QUALITY_FROM].notna().mean() > 0.6
    assert quality[frame["title"].isna()].notna().mean() < 0.1


def test_heavier_tails_on_ipad_and_in_finland(frame: pd.DataFrame) -> None:
    filled = frame[frame["errorperception"].notna()]
    poor = filled["errorperception"] > 7
    by_device = poor.groupby(filled["device"]).mean()
    by_market = poor.groupby(filled["market"]).mean()
    assert by_device["iPad"] > 1.3 * by_device["Computer"] > 1.3 * by_device["TV"]
    assert by_market["FI"] > 1.3 * by_market["NO"]


def test_evening_peak_degrades_quality(frame: pd.DataFrame) -> None:
    filled = frame[frame["errorperception"].notna()]
    hour = filled["event_date"].str[11:13].astype(int)
    quality = filled["errorperception"]
    assert quality[hour.between(20, 22)].mean() > quality[hour.between(3, 14)].mean() + 0.3


def test_the_incident_is_clearly_visible(frame: pd.DataFrame) -> None:
    first, last = demo.INCIDENT_DAYS
    filled = frame[frame["errorperception"].notna()]
    day = filled["event_date"].str[:10]
    poor = filled["errorperception"] > 7
    during = day.between(first, last)
    incident = during & (filled["market"] == demo.INCIDENT_MARKET)
    assert incident.sum() >= 20
    assert poor[incident].mean() > 0.55
    assert poor[~incident].mean() < 0.2
    # Every incident day is poor, and the incident's week (a Monday to Friday) is
    # the market's worst week by far.
    market = filled["market"] == demo.INCIDENT_MARKET
    daily = poor[market].groupby(day[market]).mean()
    assert (daily[daily.index.to_series().between(first, last)] > 0.4).all()
    monday = pd.to_datetime(day[market]).dt.to_period("W-SUN").dt.start_time
    weekly = poor[market].groupby(monday).mean().sort_values(ascending=False)
    assert weekly.index[0] == pd.Timestamp(first)
    assert weekly.iloc[0] > 2 * weekly.iloc[1]
    # ... and only that market is hit.
    assert poor[during & ~market].mean() < 0.25


def test_poor_plays_stop_earlier(frame: pd.DataFrame) -> None:
    rated = frame[frame["errorperception"].notna() & frame["viewpercentage"].notna()]
    completion = _capped(rated)
    poor = rated["errorperception"] > 7
    assert completion[poor].mean() < completion[~poor].mean() - 8
    # Monotone over quality bins (higher is worse): good plays go furthest.
    bins = pd.cut(rated["errorperception"], [0, 4, 6, 8, 10])
    means = completion.groupby(bins, observed=True).mean()
    assert means.is_monotonic_decreasing


def test_series_are_finished_more_often_than_movies(titled: pd.DataFrame) -> None:
    completion = _capped(titled)
    by_kind = completion.groupby(titled["sessiontype"]).mean()
    assert by_kind["SERIES"] > by_kind["MOVIE"] + 5
    finished = (completion >= 90).groupby(titled["sessiontype"]).mean()
    assert finished["SERIES"] > finished["MOVIE"] + 0.08


def test_some_titles_lose_viewers_early(titled: pd.DataFrame) -> None:
    completion = _capped(titled)
    per_title = completion.groupby(titled["title"]).agg(["mean", "size"])
    popular = per_title[per_title["size"] >= 25]["mean"]
    assert len(popular) > 50
    assert popular.min() < 45 < 75 < popular.max()
    assert (popular < popular.median() - 15).sum() >= 3
    early = (completion < 25).groupby(titled["title"]).mean()[popular.index]
    assert early.max() > 2 * early.median()


def test_quality_columns_do_not_depend_on_chunk_size(frame: pd.DataFrame) -> None:
    pieces = list(demo.generate_events(EVENTS, SEED, chunk_size=777))
    assert len(pieces) > 10
    joined = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_series_equal(joined["errorperception"], frame["errorperception"])
    pd.testing.assert_series_equal(joined["viewpercentage"], frame["viewpercentage"])


def test_each_sitting_starts_at_a_time_of_its_day_s_first_stream(frame: pd.DataFrame) -> None:
    """Quality and sittings come from streams of their own: the hour and minute of
    each sitting are drawn from the day's first stream as before; only a binge
    run's later episodes start elsewhere (when the previous one ended, plus a gap)."""
    world = demo._world(EVENTS, SEED)
    n = int(world.day_counts[0])
    u = np.random.default_rng([SEED, 1, 0]).random((8, n))  # day 0, a Sunday
    seconds = demo._draw(demo._HOUR_CDF[1], u[0]) * 3600 + (u[1] * 3600).astype(np.int64)
    drawn = {f"2023-01-01 {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in seconds.tolist()}
    day = frame[frame["event_date"].str[:10] == "2023-01-01"]
    assert len(day) >= 0.9 * n  # a few of the day's runs went on after midnight
    elsewhere = day[~day["event_date"].isin(drawn)]
    assert len(elsewhere) < 0.3 * len(day)
    for row in elsewhere.itertuples():
        earlier = day[(day["userid"] == row.userid) & (day["event_date"] < row.event_date)].iloc[-1]
        pause = _seconds(row.event_date) - _seconds(earlier["event_date"]) - 60 * earlier["totalminuteswatched"]
        assert earlier["title"].split(", ")[0] == row.title.split(", ")[0]
        assert (earlier["seasonnumber"], earlier["episodenumber"] + 1) == (row.seasonnumber, row.episodenumber)
        assert 0 <= pause <= demo._RUN_GAP or demo._RUN_BREAK[0] <= pause <= demo._RUN_BREAK[1]


def _seconds(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp).timestamp())


# --- the database ----------------------------------------------------------- #


def test_database_holds_exactly_the_generated_rows(db: Path, frame: pd.DataFrame) -> None:
    conn = connect_readonly(db)
    try:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM movies ORDER BY rowid").fetchall()
    finally:
        conn.close()
    assert rows == _as_rows(frame)


def test_missing_values_are_null_not_empty(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        empty = conn.execute(
            "SELECT COUNT(*) FROM movies WHERE title = '' OR sessiontype = '' OR market = ''"
        ).fetchone()[0]
        nulls = conn.execute(
            "SELECT COUNT(*) FROM movies WHERE typeof(title) = 'null' AND typeof(runningtime) = 'null'"
            " AND typeof(viewpercentage) = 'null' AND typeof(sessiontype) = 'null'"
        ).fetchone()[0]
        types = dict(conn.execute(
            "SELECT typeof(totalminuteswatched), COUNT(*) FROM movies GROUP BY 1"
        ).fetchall())
        quality_types = dict(conn.execute("SELECT typeof(errorperception), COUNT(*) FROM movies GROUP BY 1").fetchall())
    finally:
        conn.close()
    assert empty == 0
    assert nulls > 0
    assert types == {"integer": EVENTS}
    # Quality values are REAL, the rest NULL (never empty text or 0).
    assert set(quality_types) == {"real", "null"}
    assert sum(quality_types.values()) == EVENTS


def test_database_is_complete_and_tidy(db: Path) -> None:
    assert sorted(p.name for p in db.parent.iterdir()) == ["demo.db"]  # no temp file, no -wal/-shm
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_accepts_a_sqlite_url(tmp_path: Path) -> None:
    assert demo.write_demo(f"sqlite:///{tmp_path / 'u.db'}", 100) == 100
    assert (tmp_path / "u.db").is_file()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    path.write_bytes(b"precious")
    with pytest.raises(MoviedashError, match="exists; use --force"):
        demo.write_demo(path, 100)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]


def test_force_replaces_and_drops_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    demo.write_demo(path, 300, seed=1)
    stale = [tmp_path / "demo.db-wal", tmp_path / "demo.db-shm"]
    for sidecar in stale:
        sidecar.write_bytes(b"stale")
    assert demo.write_demo(path, 200, seed=2, force=True) == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]
    conn = connect_readonly(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM movies").fetchone()[0] == 200
    finally:
        conn.close()


def test_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(conn, rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "insert_rows", boom)
    with pytest.raises(KeyboardInterrupt):
        demo.write_demo(tmp_path / "demo.db", 100)
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_old_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo.db"
    demo.write_demo(path, 100)
    before = path.read_bytes()

    def broken(conn, rows):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(demo, "insert_rows", broken)
    with pytest.raises(MoviedashError, match="disk I/O error"):
        demo.write_demo(path, 100, force=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MoviedashError, match="folder does not exist"):
        demo.write_demo(tmp_path / "nowhere" / "demo.db", 100)


def test_folder_as_target(tmp_path: Path) -> None:
    with pytest.raises(MoviedashError, match="folder"):
        demo.write_demo(tmp_path, 100, force=True)


@pytest.mark.parametrize("events", [0, -5, True, 2.5, "100", None, demo.MAX_EVENTS + 1, 10**12])
def test_invalid_events(tmp_path: Path, events: object) -> None:
    with pytest.raises(MoviedashError, match="events") as info:
        demo.write_demo(tmp_path / "demo.db", events)  # type: ignore[arg-type]
    assert info.value.parameter == "events"
    with pytest.raises(MoviedashError, match="events"):
        demo.generate_events(events)  # type: ignore[arg-type]  # raises at once, not on first next()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kwargs", "parameter"), [({"seed": -1}, "seed"), ({"chunk_size": 0}, "chunk_size")])
def test_invalid_seed_and_chunk_size(kwargs: dict, parameter: str) -> None:
    with pytest.raises(MoviedashError) as info:
        demo.generate_events(100, **kwargs)
    assert info.value.parameter == parameter


# --- audience: viewer lifecycles, binge runs, episode drop-off ------------- #
#
# The Series and Audience pages need the demo to show binge-watchers, new and
# returning viewers, churn and concentrated viewing.  Counted here in plain
# Python / pandas on the generated rows, by the definitions of issue 15 (a binge:
# >= 3 episodes of one show by one viewer, <= 2 h from the end of one -- start
# plus minutes watched -- to the start of the next).

AUDIENCE_EVENTS = 50_000
BINGE_GAP = dt.timedelta(hours=2)


class Play:
    """A series play as the binge definition reads it."""

    def __init__(self, row: tuple) -> None:
        self.user, stamp, self.minutes, title, self.season, self.episode = row
        self.start = dt.datetime.fromisoformat(stamp)
        self.end = self.start + dt.timedelta(minutes=int(self.minutes))
        self.show = split_title(title, "SERIES").show


def _binges(frame: pd.DataFrame, least: int = 3) -> list[list[Play]]:
    """Each viewer's runs of >= ``least`` plays of one show, <= 2 h from one's end to the next's start."""
    series = frame[frame["sessiontype"] == "SERIES"]
    columns = ["userid", "event_date", "totalminuteswatched", "title", "seasonnumber", "episodenumber"]
    by_user: dict[str, list[Play]] = defaultdict(list)
    for row in series[columns].itertuples(index=False, name=None):
        by_user[row[0]].append(Play(row))
    runs: list[list[Play]] = []
    for plays in by_user.values():
        plays.sort(key=lambda p: (p.start, p.season, p.episode))
        run = [plays[0]]
        for play in plays[1:]:
            if play.show == run[-1].show and play.start - run[-1].end <= BINGE_GAP:
                run.append(play)
            else:
                runs.append(run)
                run = [play]
        runs.append(run)
    return [run for run in runs if len(run) >= least]


def _gini(values: np.ndarray) -> float:
    """The Gini coefficient of non-negative values (0: all equal, 1: one has everything)."""
    ordered = np.sort(values.astype(np.float64))
    n = len(ordered)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(ordered) / (n * ordered.sum()))


@pytest.fixture(scope="module")
def audience() -> pd.DataFrame:
    """A 50,000-event demo with each event's day, Monday week and month."""
    frame = _frame(AUDIENCE_EVENTS, SEED)
    day = pd.to_datetime(frame["event_date"].str[:10])
    frame["day"] = day
    frame["week"] = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    frame["month"] = day.dt.to_period("M")
    return frame


@pytest.fixture(scope="module")
def binges(audience: pd.DataFrame) -> list[list[Play]]:
    return _binges(audience)


def test_gini_by_hand() -> None:
    # Equal minutes: 0.  One of four has everything: (2*4 - 4 - 1) * 1 / (4 * 1) = 3/4.
    assert _gini(np.array([5, 5, 5, 5])) == 0.0
    assert _gini(np.array([0, 0, 0, 8])) == 0.75
    # 1, 2, 3: (-2*1 + 0*2 + 2*3) / (3 * 6) = 4/18.
    assert abs(_gini(np.array([3, 1, 2])) - 4 / 18) < 1e-12


def test_binges_by_hand() -> None:
    """The plain-Python count above on hand-written plays: a gap of exactly 2 h
    still joins, 2 h and 1 s breaks, another show or another viewer breaks."""
    rows = [
        # user a: 3 episodes, 10 min and exactly 2 h apart (end = start + minutes) -> one binge of 3,
        ("a", "2024-03-01 20:00:00", 40, "Show, E1", 1, 1),
        ("a", "2024-03-01 20:50:00", 40, "Show, E2", 1, 2),   # ended 20:40, 10 min gap
        ("a", "2024-03-01 23:30:00", 45, "Show, E3", 1, 3),   # ended 21:30, exactly 2 h
        # ... then 2 h 1 s after the end of E3 (00:15): a new run of 1.
        ("a", "2024-03-02 02:15:01", 45, "Show, E4", 1, 4),
        # user b: two shows interleaved -> no run of 3.
        ("b", "2024-03-01 20:00:00", 30, "Show, E1", 1, 1),
        ("b", "2024-03-01 20:35:00", 30, "Other, E1", 1, 1),
        ("b", "2024-03-01 21:10:00", 30, "Show, E2", 1, 2),
        # user c: across midnight, 5 min gaps -> one binge of 3 over two dates.
        ("c", "2024-12-31 23:00:00", 50, "Show, E1", 2, 1),
        ("c", "2024-12-31 23:55:00", 50, "Show, E2", 2, 2),
        ("c", "2025-01-01 00:50:00", 50, "Show, E3", 2, 3),
    ]
    frame = pd.DataFrame(rows, columns=["userid", "event_date", "totalminuteswatched", "title", "seasonnumber",
                                        "episodenumber"]).assign(sessiontype="SERIES")
    found = _binges(frame)
    assert [(run[0].user, [p.episode for p in run]) for run in sorted(found, key=lambda r: r[0].user)] == [
        ("a", [1, 2, 3]),
        ("c", [1, 2, 3]),
    ]


def test_binge_runs_exist(audience: pd.DataFrame, binges: list[list[Play]]) -> None:
    series = int((audience["sessiontype"] == "SERIES").sum())
    in_binges = sum(len(run) for run in binges)
    assert len(binges) > 500
    assert 0.15 < in_binges / series < 0.5  # a share of series plays, not all
    lengths = pd.Series([len(run) for run in binges])
    assert lengths.between(3, 8).mean() > 0.97  # 3-8 episodes (a few chance meetings of two plays join)
    assert (lengths >= 6).sum() > 20
    # Binge-watchers: a minority of viewers make most binges.
    per_user = pd.Series([run[0].user for run in binges]).value_counts()
    assert per_user.iloc[: max(1, len(per_user) // 5)].sum() > 0.4 * len(binges)
    assert audience["userid"].nunique() > 2 * len(per_user)


def test_binge_runs_follow_the_episode_order(binges: list[list[Play]]) -> None:
    def in_order(run: list[Play]) -> bool:
        return all(
            (b.season, b.episode) == (a.season, a.episode + 1) for a, b in zip(run, run[1:], strict=False)
        )

    assert sum(in_order(run) for run in binges) > 0.95 * len(binges)
    gaps = pd.Series([(b.start - a.end).total_seconds() for run in binges for a, b in zip(run, run[1:],
                                                                                          strict=False)])
    assert (gaps >= 0).mean() > 0.99
    assert (gaps <= 30 * 60).mean() > 0.95  # a few minutes between episodes
    across = [run for run in binges if run[0].start.date() != run[-1].start.date()]
    assert len(across) > 0.05 * len(binges)  # some go on after midnight


def test_some_runs_are_broken_by_a_long_pause(audience: pd.DataFrame) -> None:
    """The next episode 2-4 h after the previous ended: two runs (the pause breaks the binge)."""
    pairs = _binges(audience, least=1)
    by_user: dict[str, list[Play]] = defaultdict(list)
    for run in pairs:
        by_user[run[0].user].extend(run)
    broken = 0
    for plays in by_user.values():
        plays.sort(key=lambda p: p.start)
        for a, b in zip(plays, plays[1:], strict=False):
            pause = b.start - a.end
            next_episode = (b.show, b.season, b.episode) == (a.show, a.season, a.episode + 1)
            broken += next_episode and BINGE_GAP < pause <= dt.timedelta(hours=4)
    assert broken > 30


def test_later_episodes_have_fewer_viewers(audience: pd.DataFrame) -> None:
    series = audience[audience["sessiontype"] == "SERIES"]
    show = series["title"].str.split(", ", n=1).str[0]
    viewers = series.groupby([show, series["seasonnumber"], series["episodenumber"]])["userid"].nunique()
    first, last, slopes = [], [], []
    for _, season in viewers.groupby(level=[0, 1]):
        season = season.droplevel([0, 1]).sort_index()
        if season.get(1, 0) < 20:
            continue
        first.append(season[1])
        last.append(season.iloc[-1])
        slopes.append(np.polyfit(season.index.to_numpy(float), season.to_numpy(float), 1)[0])
    assert len(first) >= 20
    first_, last_ = np.array(first), np.array(last)
    assert (last_ < first_).mean() > 0.9
    assert (last_ / first_).mean() < 0.7
    assert np.mean(np.array(slopes) < 0) > 0.8


def test_users_watch_only_while_they_are_viewers(audience: pd.DataFrame) -> None:
    """Each user has a first active day and a last one (churn); a run may go on after its last midnight."""
    world = demo._world(AUDIENCE_EVENTS, SEED)
    index = {user: i for i, user in enumerate(world.userid.tolist())}
    user = audience["userid"].map(index).to_numpy()
    day = ((audience["day"] - pd.Timestamp("2023-01-01")).dt.days).to_numpy()
    assert (day >= world.first_day[user]).all()
    assert (day <= world.last_day[user] + 2).all()
    assert (day <= world.last_day[user]).mean() > 0.995


def test_new_and_returning_viewers_in_every_period(audience: pd.DataFrame) -> None:
    for period in ("week", "month"):
        first = audience.groupby("userid")[period].transform("min")
        active = audience.assign(new=audience[period] == first).drop_duplicates([period, "userid"])
        counts = active.groupby(period)["new"].agg(new="sum", users="size")
        later = counts.iloc[1:]
        both = (later["new"] > 0) & (later["users"] > later["new"])
        assert both.mean() > (0.9 if period == "week" else 0.99), period
        # Most of a later period's viewers came back; newcomers are a real share, too.
        assert (later["new"] / later["users"]).median() < 0.3, period
        assert (later["new"] / later["users"]).median() > 0.03, period


def test_cohorts_decay(audience: pd.DataFrame) -> None:
    """Weekly cohorts by first event: fewer of a cohort are active 8 weeks on than 1 week on."""
    week = (audience["week"] - audience["week"].min()).dt.days // 7
    cohort = week.groupby(audience["userid"]).transform("min")
    active = pd.DataFrame({"userid": audience["userid"], "cohort": cohort, "age": week - cohort}).drop_duplicates()
    weeks = int(week.max())
    grown = active[active["cohort"] <= weeks - 12]  # cohorts that had 12 weeks to come back
    size = grown[grown["age"] == 0]["userid"].nunique()
    retention = {age: grown[grown["age"] == age]["userid"].nunique() / size for age in (1, 4, 8, 12)}
    assert retention[1] > retention[4] > retention[8] > 0.05
    assert retention[1] > 1.4 * retention[8]
    # Every quarter brings new cohorts, and loyal viewers stay: some of the first
    # month's viewers still watch in the last one.
    quarters = audience.groupby("userid")["day"].min().dt.to_period("Q").value_counts()
    assert len(quarters) == 8 and quarters.min() > 0.04 * quarters.sum()
    first_month = set(audience.loc[audience["month"] == audience["month"].min(), "userid"])
    last_month = set(audience.loc[audience["month"] == audience["month"].max(), "userid"])
    assert 0.05 < len(first_month & last_month) / len(first_month) < 0.5  # churned, not all


def test_viewing_is_concentrated(audience: pd.DataFrame) -> None:
    minutes = audience.groupby("userid")["totalminuteswatched"].sum().sort_values(ascending=False)
    assert 0.5 < _gini(minutes.to_numpy()) < 0.8
    total = minutes.sum()
    assert minutes.iloc[: len(minutes) // 10].sum() > 0.4 * total
    assert minutes.iloc[: len(minutes) // 100].sum() > 0.08 * total
    assert minutes.iloc[len(minutes) // 2:].sum() < 0.15 * total
