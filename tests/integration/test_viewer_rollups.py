"""Concentration and heavy viewers served from the per-viewer rollups (``md_viewer_day``/``md_viewer_month``).

On both backends, the answers from the rollups must equal the plain-Python reference and the
raw table's (rollups removed): on demo rows as ``moviedash demo`` streams them, after a second
load whose days overlap the first (merged with the stored rows, no SQL pass over ``movies``,
the same tables as a rebuild from scratch), after a settings change (rebuilt), and with rows
appended behind moviedash's back (answered from the raw table).
"""
from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from moviedash import analysis, dataquality, rollups, viewers
from moviedash import settings as data_settings
from moviedash.cli import main
from moviedash.ingest.demo import generate_events
from moviedash.params import Filters
from moviedash.rollups import maintain
from moviedash.rollups.viewer_sums import unpack_viewers
from moviedash.store import COLUMNS, connect_readonly, write_transaction
from tests import reference as ref
from tests.helpers import build_db, event, query, write_sql


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Notes each time the per-viewer rollups answer (so a test knows which path did)."""
    seen: list[str] = []
    original = rollups.viewer_totals

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append("viewer_totals")
        return original(*args, **kwargs)

    monkeypatch.setattr(rollups, "viewer_totals", spy)
    return seen


@pytest.fixture
def demo_db(db_target: Callable[[str], str | Path]) -> str:
    """A demo database of 3,000 events, its rollups streamed by the demo's aggregator."""
    target = str(db_target("demo"))
    result = CliRunner().invoke(main, ["demo", "--db", target, "--events", "3000", "--seed", "5", "--force"])
    assert result.exit_code == 0, result.output
    return target


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


def stored(path: str) -> list[dict[str, Any]]:
    return ref.as_events(query(path, f"SELECT {', '.join(COLUMNS)} FROM movies"))


def settings_of(path: str) -> ref.Settings:
    conn = connect_readonly(path)
    try:
        s = data_settings.load(conn)
    finally:
        conn.close()
    return ref.Settings(s.min_minutes, s.watched_threshold, s.exclude_users, s.poor_quality_threshold,
                        s.errorperception_higher_is_worse)


def selections(events: list[dict[str, Any]]) -> dict[str, tuple[Filters, list[dict[str, Any]]]]:
    """Everything; a window across months on the most common device (whole months and edge days); days
    inside one month (the daily table alone); a range with no event."""
    days = sorted(d for d in (ref.event_day(e) for e in events) if d is not None)
    start, end = days[len(days) // 3], days[2 * len(days) // 3]
    device = str(pd.Series([e["device"] for e in events if e["device"]]).value_counts().index[0])
    first, last = start.replace(day=3), start.replace(day=20)
    return {
        "all": (Filters(), events),
        "window": (Filters(start=start, end=end, device=(device,)), ref.select(events, start, end, device=device)),
        "month": (Filters(start=first, end=last), ref.select(events, first, last)),
        "series": (Filters(sessiontype=("SERIES",)), ref.select(events, sessiontype="SERIES")),
        "none": (Filters(start=dt.date(2090, 1, 1)), []),
    }


def answers(path: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    conn = connect_readonly(path)
    try:
        out: dict[str, Any] = {}
        for label, (filters, _) in selections(events).items():
            out[f"{label}:concentration"] = viewers.concentration(conn, filters).as_json()
            for measure in ("plays", "minutes"):
                out[f"{label}:{measure}"] = viewers.heavy_viewers(conn, measure, filters).as_json()
        return out
    finally:
        conn.close()


def reference(events: list[dict[str, Any]], settings: ref.Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, (_, chosen) in selections(events).items():
        out[f"{label}:concentration"] = ref.concentration(chosen, settings)
        for measure in ("plays", "minutes"):
            out[f"{label}:{measure}"] = ref.heavy_viewers(chosen, measure, settings)
    return out


def check(path: str, calls: list[str]) -> dict[str, Any]:
    """Rollup answers == the reference, then (rollups removed) raw answers == the rollup answers."""
    events = stored(path)
    analysis.CACHE.clear()
    calls.clear()
    from_rollups = answers(path, events)
    assert calls, "the rollups did not answer"
    assert from_rollups == reference(events, settings_of(path))
    assert from_rollups["window:concentration"]["viewers"] > 10 and from_rollups["month:plays"]["viewers"] > 10
    assert from_rollups["none:concentration"]["viewers"] == 0
    # The unfiltered answers were stored at load; without them, the same from the tables.
    stored_names = {name for (name,) in query(path, "SELECT name FROM md_results")}
    assert {"viewers:concentration", "viewers:plays", "viewers:minutes"} <= stored_names
    write_sql(path, "DELETE FROM md_results")
    analysis.CACHE.clear()
    calls.clear()
    assert answers(path, events) == from_rollups
    assert calls
    write_sql(path, "DROP TABLE md_meta")
    analysis.CACHE.clear()
    calls.clear()
    assert answers(path, events) == from_rollups
    assert calls == []
    return from_rollups


def viewer_tables(path: str) -> dict[str, dict[tuple, list[list[int]]]]:
    """Both tables unpacked: ``{table: {(period, *dims): [users, plays, minutes]}}`` (``md_users`` ids)."""
    out = {}
    for table, period in (("md_viewer_day", "day"), ("md_viewer_month", "month")):
        rows = query(path, f"SELECT {period}, sessiontype, device, market, viewers FROM {table}")
        out[table] = {tuple(row[:4]): [a.tolist() for a in unpack_viewers([bytes(row[4])])] for row in rows}
    return out


def by_name(path: str) -> dict[str, dict[tuple, dict[str, tuple[int, int]]]]:
    """:func:`viewer_tables` with each user as its id text (a rebuild may number the users anew)."""
    names = {int(i): str(u) for i, u in query(path, "SELECT id, userid FROM md_users")}
    return {
        table: {key: {names[u]: (p, m) for u, p, m in zip(*arrays, strict=True)} for key, arrays in rows.items()}
        for table, rows in viewer_tables(path).items()
    }


def month_sums(days: dict[tuple, list[list[int]]]) -> dict[tuple, list[list[int]]]:
    """The daily rows summed per (month, dims) and user, as the monthly table must hold them."""
    summed: dict[tuple, dict[int, list[int]]] = {}
    for (day, *dims), (users, plays, minutes) in days.items():
        cell = summed.setdefault((day[:7] + "-01", *dims), {})
        for user, p, m in zip(users, plays, minutes, strict=True):
            total = cell.setdefault(user, [0, 0])
            total[0] += p
            total[1] += m
    return {key: [sorted(cell), [cell[u][0] for u in sorted(cell)], [cell[u][1] for u in sorted(cell)]]
            for key, cell in summed.items()}


def test_demo_rollups_answer_like_the_raw_table_and_the_reference(demo_db: str, calls: list[str]) -> None:
    tables = viewer_tables(demo_db)
    assert tables["md_viewer_month"] == month_sums(tables["md_viewer_day"])
    assert len(tables["md_viewer_month"]) < len(tables["md_viewer_day"])
    check(demo_db, calls)


def test_a_second_load_of_overlapping_days_merges_exactly(
    demo_db: str, calls: list[str], more_csv: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The load's aggregator adds its sums to the stored rows of the days it touches (no SQL pass over
    ``movies``); the tables are then what a rebuild from scratch makes."""
    before = by_name(demo_db)

    def no_sql_pass(*args: Any) -> bool:
        raise AssertionError("the load's aggregator should fold in its rows, not an SQL pass")

    with monkeypatch.context() as patch:
        patch.setattr(maintain, "_add_rows", no_sql_pass)
        result = CliRunner().invoke(main, ["load", str(more_csv), "--db", demo_db])
    assert result.exit_code == 0, result.output
    incremental = by_name(demo_db)
    shared = set(before["md_viewer_day"]) & set(incremental["md_viewer_day"])
    assert any(before["md_viewer_day"][k] != incremental["md_viewer_day"][k] for k in shared), "merged rows"
    with write_transaction(demo_db) as conn:
        assert rollups.rebuild(conn)
    assert by_name(demo_db) == incremental
    check(demo_db, calls)


def test_rollups_follow_a_settings_change(demo_db: str, calls: list[str]) -> None:
    """exclude_users and min_minutes are embodied in the rebuilt rollups (the heaviest viewer left out)."""
    events = stored(demo_db)
    heaviest = max(ref.per_viewer(events).items(), key=lambda item: (item[1][1], item[0]))[0]
    dataquality.change(demo_db, "exclude_users", frozenset({heaviest}))
    dataquality.change(demo_db, "min_minutes", 20)
    got = check(demo_db, calls)
    assert got["all:concentration"]["viewers"] < ref.concentration(events)["viewers"]


def test_rows_appended_behind_our_back_are_answered_from_the_raw_table(demo_db: str, calls: list[str]) -> None:
    events = stored(demo_db)
    write_sql(demo_db, "INSERT INTO movies (event_date, userid, totalminuteswatched, sessiontype, device, market) "
                       "VALUES ('2023-05-05 10:00:00', 'late-user', 100000, 'MOVIE', 'TV', 'NO')")
    analysis.CACHE.clear()
    calls.clear()
    conn = connect_readonly(demo_db)
    try:
        assert not rollups.status(conn).usable
        got = viewers.heavy_viewers(conn, "minutes", Filters())
    finally:
        conn.close()
    assert calls == []
    assert got.as_json() == ref.heavy_viewers(stored(demo_db), "minutes")
    assert got.viewers == ref.heavy_viewers(events, "minutes")["viewers"] + 1 and got.percentiles[-1] == ("max", 100000)


def test_hand_worked_rollups_on_both_paths(db_target: Callable[[str], str | Path], calls: list[str],
                                           tmp_path: Path) -> None:
    """The SQL pass (a database built without an aggregator) and the loader's aggregator both leave out the
    anonymous and the empty id, and sum a viewer's plays per key and per month."""
    anonymous = data_settings.ANONYMOUS_USER
    db = str(build_db(db_target("h.db"), [
        event("2024-03-04 10:00:00", "u1", minutes=1), event("2024-03-04 11:00:00", anonymous, minutes=500),
        event("2024-03-05 10:00:00", "u2", minutes=3), event("2024-03-05 12:00:00", "", minutes=70),
    ]))
    # Day rows: 03-04 {u1: (1 play, 1 min)}, 03-05 {u2: (1, 3)}; the month row sums both.
    tables = viewer_tables(db)
    ids = dict(query(db, "SELECT userid, id FROM md_users"))
    key = ("Computer", "NO")
    assert tables["md_viewer_day"] == {
        ("2024-03-04", "MOVIE", *key): [[ids["u1"]], [1], [1]], ("2024-03-05", "MOVIE", *key): [[ids["u2"]], [1], [3]]}
    # A load through the aggregator: u1 again on 03-05 (merged with the stored row), the anonymous id again.
    more = tmp_path / "more.csv"
    rows = [["2024-03-05 20:00:00", "u1", "", "Computer", "NO", "2", "", "", "", "MOVIE", "", "", ""],
            ["2024-03-05 21:00:00", anonymous, "", "Computer", "NO", "900", "", "", "", "MOVIE", "", "", ""]]
    with more.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    result = CliRunner().invoke(main, ["load", str(more), "--db", db])
    assert result.exit_code == 0, result.output
    tables = viewer_tables(db)
    first, second = sorted([ids["u1"], ids["u2"]]), sorted([(ids["u1"], 2), (ids["u2"], 3)])
    assert tables["md_viewer_day"][("2024-03-05", "MOVIE", *key)] == [
        [u for u, _ in second], [1, 1], [m for _, m in second]]
    # The month: u1 2 plays, 1 + 2 = 3 minutes; u2 1 play, 3 minutes.
    by_user = {ids["u1"]: (2, 3), ids["u2"]: (1, 3)}
    assert tables["md_viewer_month"] == {("2024-03-01", "MOVIE", *key): [
        first, [by_user[u][0] for u in first], [by_user[u][1] for u in first]]}
    # Served: two viewers of 3 minutes each (Gini 0); plays 1 and 2.
    analysis.CACHE.clear()
    calls.clear()
    conn = connect_readonly(db)
    try:
        got = viewers.concentration(conn, Filters())
        plays = viewers.heavy_viewers(conn, "plays", Filters(start=dt.date(2024, 3, 5), end=dt.date(2024, 3, 5)))
    finally:
        conn.close()
    assert calls
    assert (got.viewers, got.minutes, got.gini) == (2, 6, 0.0)
    assert dict(plays.percentiles) == {"p50": 1, "p90": 1, "p99": 1, "max": 1} and plays.viewers == 2
