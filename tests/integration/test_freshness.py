"""Never stale: after a load every route and chart of a running app shows the new numbers.

The app serves derived data and caches answers; a load (a new data version)
must show through both, with the same answers the raw ``movies`` SQL gives.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from moviedash import analysis, create_app, rollups
from moviedash.ingest.loader import load_files
from moviedash.store import connect_readonly
from tests.helpers import Dashboard, raw_path

FIRST = [
    "2013-01-07 20:00:00,u1,c1,Computer,NO,30,90,33,,MOVIE,Skyfall,,",
    "2013-01-08 21:00:00,u2,c1,iPad,SE,45,90,50,,MOVIE,Skyfall,,",
    "2013-01-20 10:00:00,u1,c2,Computer,NO,20,25,80,,SERIES,Solsidan,1,1",
    "2013-02-03 10:00:00,u3,c3,iPad,NO,60,100,60,,MOVIE,Argo,,",
]
SECOND = [
    "2013-02-04 22:00:00,u9,c4,TV,DK,120,120,100,,MOVIE,Brand new,,",
    "2013-02-05 22:00:00,u8,c4,TV,DK,110,120,91,,MOVIE,Brand new,,",
    "2013-02-05 23:00:00,u7,c4,TV,DK,100,120,83,,MOVIE,Brand new,,",
    "2013-01-08 08:00:00,u4,c1,Computer,NO,5,90,5,,MOVIE,Skyfall,,",
]

ROUTES = [
    *(f"/data/{metric}/?resolution={r}" for metric in ("unique_users", "minutes_watched")
      for r in ("daily", "weekly", "monthly")),
    *(f"/data/toplist/?num={n}&rank={rank}" for n in (1, 10) for rank in ("plays", "minutes", "viewers")),
    "/data/unique_users/?resolution=weekly&device=Computer",
    "/data/minutes_watched/?resolution=daily&start=2013-01-01&end=2013-02-28",
    "/data/toplist/?num=5&rank=viewers&market=NO",
    "/data/toplist/?num=5&rank=plays&start=2013-01-08&end=2013-02-05",
    "/data/unique_users/?resolution=monthly&format=csv",
    *(f"/figures/{chart}.json" for chart in ("unique_users", "minutes_watched", "top_titles", "heatmap")),
    "/figures/heatmap.json?start=2013-01-08&end=2013-02-05",
    "/_dash-layout",
]
#: Routes whose answer must change with SECOND (the rest is checked against raw SQL).
CHANGING = [r for r in ROUTES if "market=NO" not in r and "device=Computer" not in r]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot(client) -> dict[str, str]:
    out = {}
    for url in ROUTES:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True))
        out[url] = response.get_data(as_text=True)
    return out


#: The filter bar as the page shows it for all time (no dates picked).
ALL_TIME = {"date_range__start_date": None, "date_range__end_date": None}


def dashboard_numbers(dash: Dashboard) -> dict[str, object]:
    kpis = dash.outputs("kpi-viewers-value", **ALL_TIME)
    return {
        "kpis": {k: v["children"] for k, v in kpis.items() if k.endswith("-value")},
        **{chart: dash.figure(chart, **ALL_TIME)["data"] for chart in ("users", "minutes", "top", "heatmap")},
    }


@pytest.fixture
def db(db_target, tmp_path: Path) -> Path:
    """A database of FIRST, loaded by moviedash: a SQLite file or a PostgreSQL schema (both answer from rollups)."""
    path = db_target("m.db")
    assert load_files(path, [write(tmp_path / "first.csv", FIRST)]).committed
    return path


def test_every_route_shows_new_numbers_right_after_a_load(db: Path, tmp_path: Path) -> None:
    app = create_app(db=db)
    client = app.server.test_client()
    dash = Dashboard(app)
    before = snapshot(client)
    assert snapshot(client) == before  # repeated: served from the cache, same answers
    charts_before = dashboard_numbers(dash)
    assert analysis.CACHE.hits > 0

    assert load_files(db, [write(tmp_path / "second.csv", SECOND)]).committed

    after = snapshot(client)
    charts_after = dashboard_numbers(dash)
    for url in CHANGING:
        assert after[url] != before[url], url
    assert charts_after["kpis"] != charts_before["kpis"]
    for chart in ("users", "minutes", "top", "heatmap"):
        assert charts_after[chart] != charts_before[chart], chart
    assert '"TV"' in after["/_dash-layout"] and '"TV"' not in before["/_dash-layout"]
    assert '{"title":"Brand new","values":3}' in after["/data/toplist/?num=1&rank=plays"]

    # And the new answers are exactly those of the raw-table SQL.
    conn = connect_readonly(db)
    try:
        assert rollups.status(conn).usable and rollups.status(conn).version == 2
    finally:
        conn.close()
    analysis.CACHE.clear()
    with raw_path():
        assert snapshot(client) == after
        assert dashboard_numbers(dash) == charts_after


def test_a_second_app_process_view_after_load_is_fresh_without_a_first_view(db: Path, tmp_path: Path) -> None:
    """The stored default results are rebuilt by the load itself (not on first view)."""
    assert load_files(db, [write(tmp_path / "second.csv", SECOND)]).committed
    conn = connect_readonly(db)
    try:
        stored = dict(conn.execute("SELECT name, value FROM md_results"))
    finally:
        conn.close()
    assert '"Brand new", 3' in stored["top:plays"]
    assert {"unique_users:daily", "minutes_watched:monthly", "top:viewers", "heatmap", "totals", "span",
            "dim_values"} <= set(stored)
