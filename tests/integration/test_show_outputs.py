"""Shows in the outputs: the figures API, the pure show charts, the CSV exports and reports (``--page``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from moviedash import figures, pipeline, show_charts, showstats
from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.params import Filters
from moviedash.report import build
from moviedash.store import connect_readonly
from tests.integration.test_shows import HAND, HAND_GIRLS, HAND_TOP


@pytest.fixture
def db(make_db: Any) -> Any:
    return make_db(HAND)


def test_figures_api_top_shows(db: Any) -> None:
    for rank in ("plays", "minutes", "viewers"):
        figure = figures.top_shows(db, rank=rank)
        assert [list(p) for p in zip(figure.data[0].y, figure.data[0].x, strict=True)] == HAND_TOP[rank]
        assert figure.layout.title.text == f"Top 4 shows by {show_charts._RANK_WORDS[rank]}"
    same = figures.top_titles(db, 2, "viewers", group="shows", title=None)
    assert list(same.data[0].y) == ["Girls", "Solan, Ludvig og Gurin med reverompa"] and same.layout.title.text is None
    with pytest.raises(MoviedashError) as bad:
        figures.top_titles(db, group="seasons")
    assert bad.value.parameter == "group"
    with pytest.raises(MoviedashError) as engaged:
        figures.top_titles(db, rank="completion", group="shows")
    assert engaged.value.parameter == "rank"  # the figures API's ranks are plays, minutes, viewers


def test_figures_api_show_charts_by_hand(db: Any) -> None:
    episodes = figures.show("show_episodes", db, "Girls")
    # One bar trace per season (1, 2, no season), viewers in episode order (HAND_GIRLS' episodes).
    assert [t.name for t in episodes.data] == ["Season 1", "Season 2", "No season"]
    assert [list(t.x) for t in episodes.data] == [["S1E1", "S1E2"], ["S2E1"], ["S?E?"]]
    assert [list(t.y) for t in episodes.data] == [[3, 1], [1], [1]]
    dropoff = figures.show("show_dropoff", db, "Girls", theme="dark")
    assert [list(t.y) for t in dropoff.data] == [[100.0, 33.3], [100.0], [100.0]]
    grid = figures.show("show_grid", db, "Girls", start="2024-01-01", end="2024-01-31")
    # January: season 1 only (events 1-4): u1 watched 2 episodes, u2 and u3 one each.
    assert [(t.name, list(t.x), list(t.y)) for t in grid.data] == [("Season 1", [1, 2], [2, 1])]
    for chart, problem in (("show_nope", "chart"), ("show_grid", "name")):
        with pytest.raises(MoviedashError) as bad:
            figures.show(chart, db, "" if problem == "name" else "Girls")
        assert bad.value.parameter == problem
    with pytest.raises(MoviedashError) as unknown:
        figures.show("show_grid", db, "No such show")
    assert unknown.value.status == 404 and unknown.value.parameter == "name"


def test_show_charts_are_pure_and_show_text_literally() -> None:
    frame = showstats.frame(HAND_GIRLS, "episodes")
    assert list(frame["season"].astype(object).where(frame["season"].notna(), None)) == [1, 1, 2, None]
    figure = show_charts.episodes_figure(frame, "<b>Girls</b>", title=show_charts.DEFAULT_TITLE)
    assert figure.layout.title.text == "Viewers per episode: <b>Girls</b>"  # the title is set as text
    name = "<i>Pilot</i>"
    marked = frame.assign(episode_name=[name, None, None, None])
    hover = show_charts.episodes_figure(marked, "Girls").data[0].customdata[0][0]
    assert "<i>" not in hover  # markup in an episode name is escaped for Plotly
    empty = show_charts.dropoff_figure(frame.iloc[0:0], "Girls")
    assert not empty.data and empty.layout.annotations
    assert not show_charts.grid_figure(pd.DataFrame(columns=["season", "episodes_watched", "viewers"]), "x").data


def test_show_csv_exports_are_named_after_the_table_and_range(db: Any) -> None:
    conn = connect_readonly(db)
    try:
        for part in showstats.PARTS:
            data = pipeline.show_data(conn, "Girls", part, Filters.create(start="2024-01-01"))
            assert data.name == f"show_{part}_2024-01-01_end"
            assert data.frame.to_dict("records") == [
                {k: (None if pd.isna(v) else v) for k, v in r.items()} for r in HAND_GIRLS[part]
            ]
    finally:
        conn.close()


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_report_pages(db: Any, tmp_path: Path) -> None:
    out = tmp_path / "series.html"
    result = run("report", "--db", str(db), "--out", str(out), "--page", "series", "--rank", "viewers")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for key in build.SERIES_KEYS:
        assert f'id="chart-{key}"' in html
    for key in (*build.OVERVIEW_KEYS, *build.ENGAGEMENT_KEYS):
        assert f'id="chart-{key}"' not in html
    # The selection's most played show is Girls (6 plays): its charts follow the top shows.
    assert "Episode drop-off: Girls" in html and "Top 10 shows by unique viewers" in html
    assert "S1E2 33.3 %" in html  # the drop-off in words (the charts' text alternative)
    overview = tmp_path / "overview.html"
    assert run("report", "--db", str(db), "--out", str(overview), "--page", "overview",
               "--group", "shows").exit_code == 0
    text = overview.read_text(encoding="utf-8")
    assert "Top 10 shows by plays" in text and 'id="chart-series_top_shows"' not in text
    assert 'id="chart-top_titles"' in text
    everything = tmp_path / "all.html"
    assert run("report", "--db", str(db), "--out", str(everything)).exit_code == 0
    assert all(f'id="chart-{key}"' in everything.read_text(encoding="utf-8") for key in build.CHART_KEYS)


@pytest.mark.parametrize(("option", "value"), [("--page", "audiences"), ("--group", "episodes")])
def test_report_refuses_an_unknown_page_or_group(db: Any, tmp_path: Path, option: str, value: str) -> None:
    result = run("report", "--db", str(db), "--out", str(tmp_path / "r.html"), option, value)
    assert result.exit_code == 2 and option in result.output
    assert not (tmp_path / "r.html").exists()


def test_the_page_registry() -> None:
    assert build.PAGE_CHOICES == ("overview", "engagement", "series", "audience", "all")
    assert [p.name for p in build.report_pages("all")] == ["overview", "engagement", "series", "audience"]
    assert build.report_pages("series") == [build.REPORT_PAGES["series"]]
    with pytest.raises(MoviedashError) as bad:
        build.report_pages("nope")
    assert bad.value.parameter == "page"


def test_a_series_report_of_an_empty_selection(db: Any) -> None:
    conn = connect_readonly(db)
    try:
        spec = build.ReportSpec(filters=Filters.create(start="2030-01-01"), page="series")
        sections = build.chart_sections(conn, spec)
    finally:
        conn.close()
    # The series page's own charts, then the binge cards' (no series events: each says so).
    assert [s.key for s in sections] == [*build.SERIES_KEYS, *build.BINGE_KEYS]
    shows, binges = sections[:len(build.SERIES_KEYS)], sections[len(build.SERIES_KEYS):]
    assert all("no plays in this selection" in s.summary for s in shows[1:])
    assert all("no series events" in s.summary or "no binge sessions" in s.summary for s in binges)
    assert json.loads(sections[0].figure.to_json())["layout"]["annotations"]
