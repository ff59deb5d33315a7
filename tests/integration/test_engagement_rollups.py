"""The engagement answers served from the rollups (``md_engagement``, ``md_engagement_bins`` and the
per-title engagement of ``md_title_day``/``md_title_month``) on both backends.

Series (every resolution, filtered too), breakdowns, whole-selection figures,
worst segments, the 90th percentile of quality, the completion distribution,
completion by quality, the ``rank=completion|full_watches`` top lists
(``min_plays`` edges) and the stop curves must be what the raw-table SQL
answers (rollups removed) and what the plain-Python reference
(tests/reference.py) computes, on demo rows: as ``moviedash demo`` streams
them, after settings changes (rebuilt
from SQL) and after a second load appending rows (streamed by the loader).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from moviedash import analysis, dataquality, engagement, metrics, rollups
from moviedash import settings as data_settings
from moviedash.cli import main
from moviedash.ingest.demo import generate_events
from moviedash.params import Filters, SeriesQuery
from moviedash.rollups import maintain
from moviedash.rollups.serve import default_binned
from moviedash.rollups.tables import BIN_ARRAYS, unpack
from moviedash.store import COLUMNS, connect_readonly, dialect_of, write_transaction
from tests import reference as ref
from tests.helpers import build_db, event, query, title_entries, write_sql

RESOLUTIONS = ("daily", "weekly", "monthly")
#: The ratio measures (``md_engagement``) and the distributions (``quality_p90``: ``md_engagement_bins``).
RATIOS = tuple(m.name for m in metrics.ENGAGEMENT if isinstance(m.aggregation, metrics.Ratio))
DISTRIBUTIONS = tuple(m.name for m in metrics.ENGAGEMENT if isinstance(m.aggregation, metrics.Distribution))
MEASURES = (*RATIOS, *DISTRIBUTIONS)
BYS = ("device", "market", "sessiontype")
#: The rollup readers, each noted in ``calls`` when it answers.
READERS = ("engagement_rows", "quantile_rows", "binned_rows", "title_engagement", "title_deciles")
#: A title no event has.
NO_SUCH_TITLE = "No such title (2099)"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Notes the rollup readers called (so a test knows which path answered)."""
    seen: list[str] = []

    def spy(name: str) -> Callable[..., Any]:
        original = getattr(rollups, name)

        def read(*args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return original(*args, **kwargs)
        return read

    for name in READERS:
        monkeypatch.setattr(rollups, name, spy(name))
    return seen


@pytest.fixture
def demo_db(db_target: Callable[[str], str | Path]) -> str:
    """A demo database of 3,000 events, its rollups streamed by the demo's aggregator."""
    target = str(db_target("demo"))
    result = CliRunner().invoke(main, ["demo", "--db", target, "--events", "3000", "--seed", "5", "--force"])
    assert result.exit_code == 0, result.output
    return target


def stored(path: str) -> list[dict[str, Any]]:
    return ref.as_events(query(path, f"SELECT {', '.join(COLUMNS)} FROM movies"))


def _window(events: list[dict[str, Any]]) -> tuple[dt.date, dt.date, str]:
    """A filtered selection: the middle third of the data's days, on its most common device."""
    days = sorted(d for d in (ref.event_day(e) for e in events) if d is not None)
    devices = pd.Series([e["device"] for e in events if e["device"]]).value_counts()
    return days[len(days) // 3], days[2 * len(days) // 3], str(devices.index[0])


def _month(events: list[dict[str, Any]]) -> tuple[dt.date, dt.date]:
    """Days inside one month and no whole month (the per-title answers from ``md_title_day`` alone)."""
    start = _window(events)[0]
    return start.replace(day=3), start.replace(day=20)


def _stop_titles(events: list[dict[str, Any]]) -> list[str]:
    """The titles whose stop curves are checked: the most played, one with no event in the window, one
    whose plays have no percentage (where the demo has one) and one no event has."""
    start, end, device = _window(events)
    counts = pd.Series([e["title"] for e in events if e["title"]]).value_counts()
    inside = {e["title"] for e in ref.select(events, start, end, device=device)}
    absent = sorted(t for t in counts.index if t not in inside)[:1]
    rated = {e["title"] for e in events if e["viewpercentage"] is not None}
    unrated = sorted(t for t in counts.index if t not in rated)[:1]
    return [str(counts.index[0]), *absent, *unrated, NO_SUCH_TITLE]


def _min_plays_edges(events: list[dict[str, Any]], settings: ref.Settings) -> list[int]:
    """``min_plays`` at a title's plays with a percentage exactly, one more, and more than any title has."""
    ranked = sorted({row["plays"] for row in ref.top_by_completion(events, 10**6, 1, settings)})
    return [1, ranked[len(ranked) // 2], ranked[len(ranked) // 2] + 1, ranked[-1] + 1]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in frame.to_dict("records")]


def answers(path: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Every answer the rollups may serve, as the routes shape them."""
    start, end, device = _window(events)
    window = Filters(start=start, end=end, device=(device,))
    conn = connect_readonly(path)
    try:
        out: dict[str, Any] = {}
        for name in MEASURES:
            for resolution in RESOLUTIONS:
                out[f"{name}:{resolution}"] = records(engagement.series(conn, name, SeriesQuery(resolution, Filters())))
                detail = engagement.series_detail(conn, name, SeriesQuery(resolution, Filters()))
                out[f"{name}:{resolution}:counts"] = list(zip(detail["plays"].tolist(), detail["hits"], strict=True))
            out[f"{name}:window"] = records(engagement.series(conn, name, SeriesQuery("weekly", window)))
            for by in BYS:
                out[f"{name}:by:{by}"] = records(engagement.breakdown(conn, name, by, Filters()))
            out[f"{name}:by:market:window"] = records(engagement.breakdown(conn, name, "market", window))
            out[f"{name}:overall"] = engagement.overall(conn, name, Filters())
        for resolution in RESOLUTIONS:
            out[f"worst:{resolution}"] = records(engagement.worst_segments(conn, resolution, Filters()))
        out["worst:window"] = records(engagement.worst_segments(conn, "weekly", window))
        out["kpis"] = engagement.kpis(conn, window)
        first, last = _month(events)
        selections = {"all": Filters(), "window": window, "month": Filters(start=first, end=last)}
        for label, filters in selections.items():
            for rank in engagement.RANKS:
                out[f"top:{rank}:{label}"] = records(engagement.toplist(conn, rank, 15, 5, filters))
            for title in _stop_titles(events):
                out[f"stops:{title}:{label}"] = records(engagement.stops(conn, title, filters))
        for min_plays in _min_plays_edges(events, current_settings(path)):
            out[f"top:completion:min{min_plays}"] = records(engagement.toplist(conn, "completion", 1000, min_plays,
                                                                                Filters()))
        for selection, filters in (("all", Filters()), ("window", window)):
            out[f"distribution:{selection}"] = records(engagement.completion_distribution(conn, filters))
            out[f"by_quality:{selection}"] = records(engagement.completion_by_quality(conn, filters))
        return out
    finally:
        conn.close()


def reference(events: list[dict[str, Any]], settings: ref.Settings) -> dict[str, Any]:
    """The same answers from the plain-Python reference."""
    start, end, device = _window(events)
    selected = ref.select(events, device=device)
    out: dict[str, Any] = {}
    for name in MEASURES:
        for resolution in RESOLUTIONS:
            out[f"{name}:{resolution}"] = ref.series(events, name, resolution, settings)
            out[f"{name}:{resolution}:counts"] = ref.series_counts(events, name, resolution, settings)
        out[f"{name}:window"] = ref.series(selected, name, "weekly", settings, start=start, end=end)
        for by in BYS:
            out[f"{name}:by:{by}"] = [{**row, by: "unknown" if row[by] is None else row[by]}
                                      for row in ref.breakdown(events, name, by, settings)]
        windowed = ref.select(selected, start, end)
        out[f"{name}:by:market:window"] = [{**row, "market": "unknown" if row["market"] is None else row["market"]}
                                           for row in ref.breakdown(windowed, name, "market", settings)]
        result = ref.MEASURES[name](events, settings)
        out[f"{name}:overall"] = (result[0], int(result[-1]))
    for resolution in RESOLUTIONS:
        out[f"worst:{resolution}"] = _unknown(ref.worst_segments(events, resolution, settings=settings))
    out["worst:window"] = _unknown(ref.worst_segments(ref.select(selected, start, end), "weekly", settings=settings))
    first, last = _month(events)
    selections = {"all": events, "window": ref.select(selected, start, end), "month": ref.select(events, first, last)}
    for label, chosen in selections.items():
        out[f"top:completion:{label}"] = ref.top_by_completion(chosen, 15, 5, settings)
        out[f"top:full_watches:{label}"] = ref.top_by_full_watches(chosen, 15, settings)
        for title in _stop_titles(events):
            out[f"stops:{title}:{label}"] = ref.where_people_stop(chosen, title, settings)
    for min_plays in _min_plays_edges(events, settings):
        out[f"top:completion:min{min_plays}"] = ref.top_by_completion(events, 1000, min_plays, settings)
    for selection, chosen in (("all", events), ("window", ref.select(selected, start, end))):
        out[f"distribution:{selection}"] = ref.completion_histogram(chosen, settings)
        out[f"by_quality:{selection}"] = ref.completion_by_quality(chosen, settings)
    return out


def _unknown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, **{k: "unknown" for k in ("device", "market") if row[k] is None}} for row in rows]


def current_settings(path: str) -> ref.Settings:
    conn = connect_readonly(path)
    try:
        s = data_settings.load(conn)
    finally:
        conn.close()
    return ref.Settings(s.min_minutes, s.watched_threshold, s.exclude_users, s.poor_quality_threshold,
                        s.errorperception_higher_is_worse)


def check(path: str, calls: list[str]) -> dict[str, Any]:
    """Rollup answers == the reference, then (rollups removed) raw answers == the rollup answers."""
    events = stored(path)
    calls.clear()
    from_rollups = answers(path, events)
    assert set(calls) == set(READERS), "the rollups did not answer"
    expected = reference(events, current_settings(path))
    assert {k: v for k, v in from_rollups.items() if k in expected} == expected
    assert set(expected) | {"kpis"} == set(from_rollups)
    assert any(row["values"] is not None for row in from_rollups["completion:daily"])
    assert any(row["values"] is not None for row in from_rollups["quality_p90:weekly"])
    assert from_rollups["by_quality:all"] and sum(r["movie_plays"] for r in from_rollups["distribution:all"])
    assert from_rollups["worst:daily"], "the demo's incident makes worst segments"
    # The per-title answers are not vacuous: lists in every selection, curves with and without plays.
    assert all(from_rollups[f"top:{rank}:all"] for rank in engagement.RANKS)
    assert from_rollups["top:full_watches:window"] and from_rollups["top:full_watches:month"]
    edges = [from_rollups[k] for k in from_rollups if k.startswith("top:completion:min")]
    assert len(edges[1]) > len(edges[2]) > 0 and edges[3] == []
    assert from_rollups[f"stops:{NO_SUCH_TITLE}:all"][0] == {"at": 10, "values": None, "plays": 0}
    absent = _stop_titles(events)[1]
    assert from_rollups[f"stops:{absent}:window"][0]["plays"] == 0 < from_rollups[f"stops:{absent}:all"][0]["plays"]
    # The default views without their stored rows: the same from the tables (whole months from the monthly ones).
    stored_names = {name for (name,) in query(path, "SELECT name FROM md_results")}
    assert {f"{name}:{view}" for name in DISTRIBUTIONS for view in rollups.VIEWS} | set(rollups.BINNED) <= stored_names
    write_sql(path, "DELETE FROM md_results")
    analysis.CACHE.clear()
    assert answers(path, events) == from_rollups
    write_sql(path, "DROP TABLE md_meta")
    calls.clear()
    raw = answers(path, events)
    assert calls == []
    assert raw == from_rollups
    return from_rollups


def test_demo_rollups_answer_like_the_raw_table_and_the_reference(demo_db: str, calls: list[str]) -> None:
    check(demo_db, calls)


@pytest.mark.parametrize(("name", "text"), [
    ("watched_threshold", "80"),
    ("poor_quality_threshold", "6.5"),
    ("min_minutes", "20"),
    ("errorperception_higher_is_worse", "false"),
])
def test_rollups_follow_a_settings_change(demo_db: str, calls: list[str], name: str, text: str) -> None:
    before = answers(demo_db, stored(demo_db))
    change = dataquality.change(demo_db, name, data_settings.parse(name, text))
    assert change.rebuilt
    after = check(demo_db, calls)
    assert after != before  # the change moved some answer: the rebuilt sums embody it


@pytest.fixture
def more_csv(tmp_path: Path) -> Iterator[Path]:
    """Demo events of another seed as a headerless CSV of the 13 columns (their days overlap the first load's)."""
    frame = pd.concat(list(generate_events(1_500, 9)), ignore_index=True)
    path = tmp_path / "more.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        for row in frame[list(COLUMNS)].astype(object).itertuples(index=False, name=None):
            out.writerow(["" if pd.isna(v) else repr(v) if isinstance(v, float) else v for v in row])
    yield path


def binned_state(path: str) -> dict[str, Any]:
    """``md_engagement_bins`` and ``md_engagement_bins_month`` unpacked (``{(period, *dims): {column: arrays}}``,
    empty rows left out) and the stored rows of the binned default views (``md_results``, rows sorted)."""
    out: dict[str, Any] = {}
    for table, period in (("md_engagement_bins", "day"), ("md_engagement_bins_month", "month")):
        rows = query(path, f"SELECT {period}, sessiontype, device, market, "
                           f"{', '.join(rollups.BIN_COLUMNS)} FROM {table}")
        out[table] = {
            tuple(row[:4]): {c: [a.tolist() for a in unpack(bytes(blob), BIN_ARRAYS[c])]
                             for c, blob in zip(rollups.BIN_COLUMNS, row[4:], strict=True)}
            for row in rows
        }
    names = [f"{name}:{view}" for name in DISTRIBUTIONS for view in rollups.VIEWS] + list(rollups.BINNED)
    results = dict(query(path, "SELECT name, value FROM md_results"))
    out["md_results"] = {name: sorted(json.loads(results[name]), key=repr) for name in names}
    return out


def month_sums(days: dict[tuple[Any, ...], dict[str, list[list[int]]]]) -> dict[tuple[Any, ...], Any]:
    """Per (month, dims), the sums of its days' bins (as ``md_engagement_bins_month`` must hold them)."""
    summed: dict[tuple[Any, ...], dict[str, dict[int, list[int]]]] = {}
    for (day, *dims), columns in days.items():
        month = summed.setdefault((str(day)[:8] + "01", *dims), {c: {} for c in rollups.BIN_COLUMNS})
        for column, arrays in columns.items():
            if BIN_ARRAYS[column] == 1:  # dense: the histogram's bins are the places
                arrays = [list(range(len(arrays[0]))), arrays[0]]
            for b, *values in zip(*arrays, strict=True):
                found = month[column].setdefault(b, [0] * len(values))
                month[column][b] = [x + y for x, y in zip(found, values, strict=True)]
    out = {}
    for key, columns in summed.items():
        out[key] = {}
        for column, by_bin in columns.items():
            ordered = sorted(by_bin)
            if BIN_ARRAYS[column] == 1:
                out[key][column] = [[by_bin.get(b, [0])[0] for b in range(metrics.COMPLETION_BINS)]]
            else:
                out[key][column] = [ordered, *([by_bin[b][i] for b in ordered] for i in range(BIN_ARRAYS[column] - 1))]
    return out


def check_binned(path: str) -> dict[str, Any]:
    """The monthly companion holds its days' sums; the stored default rows are what the tables answer."""
    state = binned_state(path)
    assert state["md_engagement_bins_month"] == month_sums(state["md_engagement_bins"])
    assert len(state["md_engagement_bins_month"]) < len(state["md_engagement_bins"])
    conn = connect_readonly(path)
    try:
        settings = data_settings.load(conn)
        computed = {name: sorted(rows, key=repr)
                    for name, rows in default_binned(conn, settings, dialect_of(conn)).items()}
    finally:
        conn.close()
    assert json.loads(json.dumps(computed)) == state["md_results"]
    return state


def test_binned_rollups_after_a_settings_change(demo_db: str) -> None:
    """The monthly companion and the stored default rows are rebuilt with the rest (``settings set``)."""
    before = check_binned(demo_db)
    assert before["md_results"]["quality_p90:daily"] and before["md_results"]["completion_histogram"]
    dataquality.change(demo_db, "errorperception_higher_is_worse", False)
    reversed_ranks = check_binned(demo_db)
    assert reversed_ranks["md_engagement_bins"] == before["md_engagement_bins"]  # the same bins, other quantiles
    assert reversed_ranks["md_results"]["quality_p90:daily"] != before["md_results"]["quality_p90:daily"]
    dataquality.change(demo_db, "min_minutes", 20)
    fewer = check_binned(demo_db)
    assert fewer["md_engagement_bins_month"] != before["md_engagement_bins_month"]
    assert fewer["md_results"]["completion_histogram"] != before["md_results"]["completion_histogram"]


def test_rollups_after_a_second_load_appending_rows(
    demo_db: str, calls: list[str], more_csv: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows a second load streams are added to the stored sums, under the settings in force."""
    dataquality.change(demo_db, "min_minutes", 5)
    dataquality.change(demo_db, "watched_threshold", 85.0)
    first = len(stored(demo_db))

    def no_sql_pass(*args: Any) -> bool:
        raise AssertionError("the load's aggregator should fold in its rows, not an SQL pass")

    with monkeypatch.context() as patch:
        patch.setattr(maintain, "_add_rows", no_sql_pass)
        result = CliRunner().invoke(main, ["load", str(more_csv), "--db", demo_db])
    assert result.exit_code == 0, result.output
    assert len(stored(demo_db)) == first + 1_500
    conn = connect_readonly(demo_db)
    try:
        status = rollups.status(conn)
    finally:
        conn.close()
    assert status is not None and status.usable
    # The bins added to the stored ones (days and months) are those a build from scratch makes.
    incremental = check_binned(demo_db)
    with write_transaction(demo_db) as conn:
        assert rollups.rebuild(conn)
    assert check_binned(demo_db) == incremental
    check(demo_db, calls)


def test_rollups_with_users_excluded_and_min_minutes(demo_db: str, calls: list[str]) -> None:
    """Excluded users' plays still count (anonymous) in the engagement sums."""
    top = query(demo_db, "SELECT userid FROM movies GROUP BY userid ORDER BY COUNT(*) DESC, userid LIMIT 2")
    users = ",".join(str(row[0]) for row in top)
    before = answers(demo_db, stored(demo_db))
    assert dataquality.change(demo_db, "exclude_users", data_settings.parse("exclude_users", users)).rebuilt
    assert current_settings(demo_db).exclude_users == frozenset(users.split(","))
    # The engagement measures keep excluded users' plays (check() ends with the rollups removed:
    # min_minutes is covered by test_rollups_follow_a_settings_change).
    assert check(demo_db, calls) == before


# --------------------------------------------------------------------------- #
# The per-title engagement rollup's content, hand-worked edges
# --------------------------------------------------------------------------- #

#: Completion at the decile edges (exactly 10 % and 90 %, just below 20 %), capped (104.5 %) and below 0,
#: no percentage; running time 0 and missing; a short event (a play only while min_minutes <= 4).
TITLE_EDGES = [
    event("2024-01-05 10:00:00", "a", minutes=45, title="A", viewpercentage=10.0, runningtime=50),
    event("2024-01-05 11:00:00", "b", minutes=30, title="A", viewpercentage=104.5, runningtime=0),
    event("2024-01-05 12:00:00", "c", minutes=10, title="A", viewpercentage=None, runningtime=None),
    event("2024-01-05 13:00:00", "d", minutes=4, title="A", viewpercentage=19.99994, runningtime=8),
    event("2024-01-05 14:00:00", "e", minutes=50, title="A", viewpercentage=90.0, runningtime=100),
    event("2024-01-06 09:00:00", "a", minutes=12, title="A", viewpercentage=-3.0, runningtime=40, device="TV"),
    event("2024-01-31 23:00:00", "a", minutes=20, title="B", viewpercentage=100.0, runningtime=20),
    event("2024-02-01 08:00:00", "f", minutes=7, title="B", viewpercentage=55.5, runningtime=14),
    event("2024-02-01 08:30:00", "f", minutes=7, title=None, viewpercentage=55.5, runningtime=14),
    event("2024-02-02 10:00:00", "g", minutes=30, title="C", viewpercentage=None, runningtime=None),  # no value
]


def _expected_entries(events: list[dict[str, Any]], period: str, settings: ref.Settings) -> list[tuple[Any, ...]]:
    """:func:`tests.helpers.title_entries` computed in plain Python from the events."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in ref.as_events(events):
        if e["title"]:
            day = e["event_date"][:10] if period == "day" else e["event_date"][:8] + "01"
            key = (day, e["sessiontype"] or "", e["device"] or "", e["market"] or "", e["title"])
            groups.setdefault(key, []).append(e)
    out = []
    for key, group in groups.items():
        played = ref.plays(group, settings)
        completions = [c for e in played if (c := ref.capped(e)) is not None]
        shares = [s for e in played if (s := ref.full_watch_share(e)) is not None]
        deciles = [0] * rollups.DECILES
        for c in completions:
            deciles[min(max(c, 0) // rollups.DECILE_UNITS, rollups.DECILES - 1)] += 1
        sums = {"completion_units": sum(completions), "completion_plays": len(completions),
                "full_watch_units": sum(shares), "full_watch_plays": len(shares)}
        out.append((*key, len(played), sum(ref.minutes(e) for e in group), sums, tuple(deciles)))
    return sorted(out, key=lambda e: e[:5])


def _entries(path: str) -> dict[str, list[tuple[Any, ...]]]:
    conn = connect_readonly(path)
    try:
        return {table: title_entries(conn, table) for table in ("md_title_day", "md_title_month")}
    finally:
        conn.close()


def test_per_title_engagement_rollup_by_hand(db_target: Callable[[str], str | Path], calls: list[str]) -> None:
    """Each (period, dims, title) entry holds the raw SQL's per-title sums and deciles, under the settings."""
    path = str(build_db(db_target("edges"), TITLE_EDGES))
    assert _entries(path) == {
        "md_title_day": _expected_entries(TITLE_EDGES, "day", ref.DEFAULT),
        "md_title_month": _expected_entries(TITLE_EDGES, "month", ref.DEFAULT),
    }
    day = {e[4]: e for e in _entries(path)["md_title_day"] if e[0] == "2024-01-05"}
    # 10 % -> decile 1, 104.5 % -> 10 (capped), 19.99994 % -> 19.9999 (decile 1), 90 % -> 9; no percentage: none.
    assert day["A"][7] == {"completion_units": 100_000 + 1_000_000 + 199_999 + 900_000, "completion_plays": 4,
                           "full_watch_units": 9_000 + 5_000 + 5_000, "full_watch_plays": 3}
    assert day["A"][8] == (0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1)
    stops = _stop_curve(path, "A")
    assert stops == ref.where_people_stop(TITLE_EDGES, "A")
    assert [s["values"] for s in stops] == [80.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 20.0]
    assert _stop_curve(path, "C") == ref.where_people_stop(TITLE_EDGES, "C") == [
        {"at": at, "values": None, "plays": 0} for at in metrics.STOP_POINTS
    ]
    assert _tops(path) == _reference_tops(ref.DEFAULT)
    assert [row["title"] for row in _tops(path)["completion:2"]] == ["B", "A"]  # 77.75 %, 43.4 %; C has no value
    assert set(calls) == {"title_deciles", "title_engagement"}
    assert dataquality.change(path, "min_minutes", 5).rebuilt  # the 4-minute event is no play any more
    settings = ref.Settings(min_minutes=5)
    assert _entries(path)["md_title_day"] == _expected_entries(TITLE_EDGES, "day", settings)
    assert _stop_curve(path, "A") == ref.where_people_stop(TITLE_EDGES, "A", settings)
    assert _tops(path) == _reference_tops(settings)


def _stop_curve(path: str, title: str) -> list[dict[str, Any]]:
    conn = connect_readonly(path)
    try:
        return records(engagement.stops(conn, title, Filters()))
    finally:
        conn.close()


def _tops(path: str) -> dict[str, list[dict[str, Any]]]:
    """Both engagement top lists, ``completion`` at every ``min_plays`` from 1 to one beyond A's plays."""
    conn = connect_readonly(path)
    try:
        out = {f"completion:{n}": records(engagement.toplist(conn, "completion", 10, n, Filters()))
               for n in range(1, 7)}
        out["full_watches"] = records(engagement.toplist(conn, "full_watches", 10, 1, Filters()))
        return out
    finally:
        conn.close()


def _reference_tops(settings: ref.Settings) -> dict[str, list[dict[str, Any]]]:
    out = {f"completion:{n}": ref.top_by_completion(TITLE_EDGES, 10, n, settings) for n in range(1, 7)}
    out["full_watches"] = ref.top_by_full_watches(TITLE_EDGES, 10, settings)
    return out
#: Bin edges, by hand: completions 0, just below 10 %, 10 %, 99.99994 % (99.9999), exactly 100 %, capped 130 %
#: and below 0 (first bin); qualities at bin edges (7.0, 7.00995 -> 7.0100), below 0, and one far beyond int32 bins.
BIN_EDGES = [
    event("2024-03-04 10:00:00", "a", viewpercentage=0.0, errorperception=7.0),
    event("2024-03-04 11:00:00", "b", viewpercentage=9.99994, errorperception=7.00995),
    event("2024-03-04 12:00:00", "c", viewpercentage=10.0, errorperception=-0.005, sessiontype="SERIES"),
    event("2024-03-04 13:00:00", "d", viewpercentage=99.99994, errorperception=6.99999, device="TV"),
    event("2024-03-05 10:00:00", "e", viewpercentage=100.0, errorperception=None, sessiontype="SERIES"),
    event("2024-03-05 11:00:00", "f", viewpercentage=130.0, errorperception=2.5e8, market=""),
    event("2024-03-05 12:00:00", "g", viewpercentage=-15.0, errorperception=1.0, sessiontype=None),
    event("2024-03-05 13:00:00", "h", viewpercentage=-250.0, errorperception=0.0, minutes=3),
    event("2024-03-06 10:00:00", "i", viewpercentage=None, errorperception=9.99999, device="TV"),
]


def test_hand_worked_bins_from_rollups_and_raw(make_db: Callable[..., Any], calls: list[str]) -> None:
    """The rollups' bins answer edge values as the raw SQL and the reference, by hand."""
    path = str(make_db(BIN_EDGES))
    events = stored(path)

    def served() -> dict[str, Any]:
        conn = connect_readonly(path)
        try:
            return {
                "distribution": records(engagement.completion_distribution(conn, Filters())),
                "by_quality": records(engagement.completion_by_quality(conn, Filters())),
                "p90": records(engagement.series(conn, "quality_p90", SeriesQuery("daily", Filters()))),
                "p90:device": records(engagement.breakdown(conn, "quality_p90", "device", Filters())),
            }
        finally:
            conn.close()

    calls.clear()
    got = served()
    assert set(calls) == {"quantile_rows", "binned_rows"}
    movies = [r["movie_plays"] for r in got["distribution"]]
    series = [r["series_plays"] for r in got["distribution"]]
    # 0, 9.9999, -15 and -250 % in the first bin; 99.9999, 130 (capped) in the last; no session type: left out.
    assert movies == [3, 0, 0, 0, 0, 0, 0, 0, 0, 2] and series == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert got["distribution"] == ref.completion_histogram(events)
    # One-unit bins: -0.005 is in [-1, 0); 6.99999 is 7.0000: (0 + 9.9999 + 99.9999) / 3 = 36.6666 in [7, 8);
    # 2.5e8 in its own bin, far beyond 32-bit 0.01 bins.
    assert [(r["from"], r["plays"], r["values"]) for r in got["by_quality"]] == [
        (-1, 1, 10.0), (0, 1, -250.0), (1, 1, -15.0), (7, 3, 36.67), (250_000_000, 1, 100.0),
    ]
    assert got["by_quality"] == ref.completion_by_quality(events)
    # Day 1: -0.005 (bin -1), 6.99999 (7.0000: 700), 7.0, 7.00995 (7.0100) -> rank ceil(3.6) = 4: 7.01;
    # day 2: 0, 1, 2.5e8 -> rank 3; day 3: 9.99999 (10.0000).
    assert [r["values"] for r in got["p90"]] == [7.01, 250_000_000.0, 10.0]
    assert got["p90"] == ref.series(events, "quality_p90", "daily")
    write_sql(path, "DELETE FROM md_results")  # not the stored default rows: the same from the tables
    analysis.CACHE.clear()
    assert served() == got
    write_sql(path, "DROP TABLE md_meta")
    calls.clear()
    assert served() == got
    assert calls == []
