"""Reports, the figures API and /figures/<chart>.json: the same numbers as the JSON routes."""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import plotly.graph_objects as go
import pytest
from click.testing import CliRunner

from moviedash import analysis, create_app, figures, metrics
from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.report import build
from moviedash.store import connect_readonly
from tests.helpers import MARKUP_TITLES, event

EVENTS = [
    event("2013-01-06 23:59:59", "a", minutes=10, title="Skyfall", device="iPad"),
    event("2013-01-07 00:00:00", "b", minutes=20, title="Skyfall", market="SE"),
    event("2013-01-07 10:00:00", "b", minutes=30, title="Argo", sessiontype="SERIES", market="SE"),
    event("2013-01-21 21:00:00", "c", minutes=40, title="Sommaren på landet"),
    event("2013-03-01 10:00:00", "a", minutes=50, title="Argo", device="TV"),
    event("2013-03-02 20:00:00", "d", minutes=60, title="Argo", device="TV"),
]
#: The overview's charts (also at /figures/<chart>.json); a report adds the engagement and series pages'.
OVERVIEW_IDS = (*metrics.SERIES, "top_titles", "heatmap")
CHART_IDS = (*OVERVIEW_IDS, *build.ENGAGEMENT_KEYS, *build.SERIES_KEYS, *build.BINGE_KEYS, *build.AUDIENCE_KEYS,
             *build.VIEWER_KEYS)
#: Plays with completion and quality: Argo is the most played (the stop curve's title).
ENGAGED = [
    event("2013-01-07 10:00:00", "a", title="Argo", device="TV", viewpercentage=95.0, runningtime=100,
          errorperception=8.5),
    event("2013-01-08 10:00:00", "b", title="Argo", device="TV", viewpercentage=40.0, runningtime=100,
          errorperception=3.0),
    event("2013-01-15 10:00:00", "c", title="Argo", device="iPad", viewpercentage=120.0, runningtime=100,
          errorperception=7.5),
    event("2013-01-16 10:00:00", "a", title="Skyfall", device="iPad", viewpercentage=89.99, runningtime=0,
          errorperception=None),
]


@pytest.fixture
def db(make_db) -> Path:
    return make_db(EVENTS)


@pytest.fixture
def client(db):
    return create_app(db=db).server.test_client()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def plotted(html: str, chart: str) -> dict:
    """The figure JSON plotly.newPlot draws into ``#chart-<chart>``."""
    marker = f'Plotly.newPlot(                        "chart-{chart}",'
    start = html.index(marker) + len(marker)
    data, end = json.JSONDecoder().raw_decode(html, start + html[start:].index("["))
    layout, end = json.JSONDecoder().raw_decode(html, end + html[end:].index("{"))
    config, _ = json.JSONDecoder().raw_decode(html, end + html[end:].index("{"))
    return {"data": data, "layout": layout, "config": config}


def test_html_report_is_self_contained_and_has_every_chart(db, tmp_path):
    out = tmp_path / "r.html"
    result = run("report", "--db", str(db), "--out", str(out), "--title", "Q1 <viewing>")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for chart in CHART_IDS:
        assert f'id="chart-{chart}"' in html
    # plotly.js once, in the head; no network references to load anything.
    assert html.count("plotly.js v") == 1
    assert len(re.findall(r"<script\b", html)) == 1 + len(CHART_IDS)
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html)
    assert not re.search(r"@import|url\(\s*[\"']?https?:", html)
    # The title is escaped, the selection, data span, KPIs and print stylesheet are there.
    assert "<title>Q1 &lt;viewing&gt;</title>" in html
    assert "6 Jan 2013 – 2 Mar 2013 (all time)" in html
    assert "6 events from 6 Jan 2013 to 2 Mar 2013" in html
    assert "Generated: <b>" in html
    for label in ("Unique viewers", "Plays", "Hours watched", "Avg. minutes per viewer", "Completion rate",
                  "Poor-quality plays"):
        assert f"<td>{label}</td>" in html
    assert "@media print" in html and "page-break-inside: avoid" in html


def test_report_numbers_equal_the_json_routes(db, client, tmp_path):
    out = tmp_path / "r.html"
    args = ["report", "--db", str(db), "--out", str(out), "--resolution", "weekly", "--top", "2",
            "--rank", "minutes", "--start", "2013-01-01", "--end", "2013-03-31", "--market", "NO", "--market", "SE"]
    assert run(*args).exit_code == 0
    html = out.read_text(encoding="utf-8")
    query = "start=2013-01-01&end=2013-03-31&market=NO&market=SE"
    for metric in metrics.SERIES:
        chart = metric
        route = client.get(f"/data/{metric}/?resolution=weekly&{query}").get_json()
        trace = plotted(html, chart)["data"][0]
        assert trace["x"] == [r["date"] for r in route]
        assert trace["y"] == [r["values"] for r in route]
    route = client.get(f"/data/toplist/?num=2&rank=minutes&{query}").get_json()
    bars = plotted(html, "top_titles")["data"][0]
    assert list(bars["x"]) == [r["values"] for r in route]
    assert bars["y"] == [r["title"] for r in route]
    heat = plotted(html, "heatmap")["data"][0]
    conn = connect_readonly(db)
    grid = analysis.heatmap(conn, Filters.create(start="2013-01-01", end="2013-03-31", market=["NO", "SE"]))
    conn.close()
    assert heat["z"] == grid.to_numpy().tolist()


def test_report_has_the_engagement_page_charts_with_the_routes_numbers(make_db, tmp_path):
    db = make_db(ENGAGED)
    out = tmp_path / "r.html"
    assert run("report", "--db", str(db), "--out", str(out), "--start", "2013-01-01", "--end", "2013-01-31",
               ).exit_code == 0
    html = out.read_text(encoding="utf-8")
    client = create_app(db=db).server.test_client()
    query = "start=2013-01-01&end=2013-01-31"

    def values(url: str, key: str = "values") -> list:
        return [row[key] for row in client.get(f"{url}{query}").get_json()]

    # The page's first controls: completion rate and poor-quality share weekly, completion rate by device.
    assert plotted(html, "engagement_completion")["data"][0]["y"] == values("/data/completion_rate/?resolution=weekly&")
    # By hand: the week of 7 Jan, 95 % (completed) and 40 %; of 14 Jan, 120 % capped (completed) and 89.99 %.
    assert values("/data/completion_rate/?resolution=weekly&") == [None, 50.0, 50.0, None, None]
    assert plotted(html, "engagement_quality")["data"][0]["y"] == values("/data/poor_quality/?resolution=weekly&")
    bars = plotted(html, "engagement_breakdown")["data"][0]
    assert bars["y"] == values("/data/completion_rate/breakdown/?by=device&")
    assert [str(x) for x in bars["x"]] == ["TV", "iPad"]
    # Where people stop: the selection's most played title, as the page starts.
    assert "Where people stop: Argo" in html
    assert plotted(html, "engagement_stops")["data"][0]["y"] == values("/data/completion/stops/?title=Argo&")
    # The text alternatives are the page's; the key figures are the engagement page's cards.
    assert "Completion rate per period (%)" in html
    # 2 of 4 plays completed; 2 of the 3 with a quality score poor (the previous month has no play: no change).
    assert '<td>Completion rate</td><td class="num">50.0 %</td><td>—</td>' in html
    assert '<td>Poor-quality plays</td><td class="num">66.7 %</td><td>—</td>' in html


PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_image_export_writes_one_valid_file_per_chart(db, tmp_path, fmt):
    out = tmp_path / "images" / "nested"
    result = run("report", "--db", str(db), "--format", fmt, "--out", str(out), "--width", "800", "--height", "500")
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{chart}.{fmt}" for chart in CHART_IDS)
    for chart in CHART_IDS:
        data = (out / f"{chart}.{fmt}").read_bytes()
        if fmt == "png":
            assert data[:8] == PNG
            width, height = struct.unpack(">II", data[16:24])
            assert (width, height) == (800, 500)
        elif fmt == "svg":
            text = data.decode()
            assert text.startswith("<svg") and 'width="800"' in text and 'height="500"' in text
        else:
            assert data[:5] == b"%PDF-" and b"%%EOF" in data[-1024:]


def test_image_export_without_a_browser_says_what_to_install(db, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    result = run("report", "--db", str(db), "--format", "png", "--out", str(tmp_path / "png"))
    assert result.exit_code == 1
    assert "apt-get install chromium" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--resolution", "hourly"], "--resolution"),
        (["--top", "0"], "--top"),
        (["--top", "1001"], "--top"),
        (["--rank", "title"], "--rank"),
        (["--format", "gif"], "--format"),
        (["--start", "2013-02-30"], "--start"),
        (["--start", "2013-03-01", "--end", "2013-02-01"], "--end"),
        (["--width", "10"], "--width"),
        (["--device", ""], "--device"),
    ],
)
def test_bad_options_are_usage_errors(db, tmp_path, args, fragment):
    result = run("report", "--db", str(db), "--out", str(tmp_path / "r.html"), *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--market", "XX"], "--market", "market 'XX' is not in the data; known values: NO, SE"),
        (["--device", "ipad"], "--device", "device 'ipad' is not in the data; known values: Computer, TV, iPad"),
        (
            ["--sessiontype", "movie"],
            "--sessiontype",
            "sessiontype 'movie' is not in the data; known values: MOVIE, SERIES",
        ),
    ],
)
def test_a_value_not_in_the_data_is_a_usage_error_naming_the_known_values(db, tmp_path, args, option, message):
    result = run("report", "--db", str(db), "--out", str(tmp_path / "r.html"), *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_report_of_the_unknown_market(make_db, tmp_path):
    """Hand-worked: the events without a market (NULL and 0) are the report's "Unknown" market."""
    db = make_db(
        [
            *EVENTS,
            event("2013-01-08 10:00:00", "e", minutes=7, title="Brev", market=None),
            event("2013-01-09 10:00:00", "f", minutes=9, title="Brev", market="0"),
        ],
        name="unknown.db",
    )
    out = tmp_path / "r.html"
    result = run("report", "--db", str(db), "--out", str(out), "--market", "unknown")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "market Unknown" in html
    assert "Top 1 title by plays: 1. Brev, 2." in html  # the top list's text alternative


def test_missing_database_is_the_same_error_as_serve(tmp_path):
    missing = tmp_path / "none.db"
    result = run("report", "--db", str(missing), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert f"database not found: {missing}" in result.output
    assert not missing.exists()


def test_figures_api_matches_the_analysis(db):
    conn = connect_readonly(db)
    try:
        fig = figures.unique_users(db, resolution="weekly", market="SE")
        assert isinstance(fig, go.Figure)
        expected = analysis.unique_users(conn, SeriesQuery("weekly", Filters(market=("SE",))))
        assert list(fig.data[0].x) == expected["date"].tolist()
        assert list(fig.data[0].y) == expected["values"].tolist()

        fig = figures.minutes_watched(conn, "monthly", device=["TV", "iPad"])  # an open connection works too
        expected = analysis.minutes_watched(conn, SeriesQuery("monthly", Filters(device=("TV", "iPad"))))
        assert list(fig.data[0].y) == expected["values"].tolist() == [10, 0, 110]

        fig = figures.top_titles(db if isinstance(db, str) else f"sqlite:///{db}", num=2, rank="viewers")
        expected = analysis.toplist(conn, TopQuery(2, "viewers"))
        assert list(fig.data[0].x) == expected["values"].tolist()

        grid = figures.heatmap(db, start="2013-03-01").data[0].z
        assert [list(row) for row in grid] == analysis.heatmap(
            conn, Filters.create(start="2013-03-01")
        ).to_numpy().tolist()

        # 7-21 Jan (15 days) against 23 Dec - 6 Jan, which holds one play by a.
        kpis = figures.kpis(db, start="2013-01-07", end="2013-01-21")
        assert list(kpis.index) == ["viewers", "plays", "hours", "minutes-per-viewer"]
        assert kpis.loc["viewers", "value"] == 2 and kpis.loc["plays", "value"] == 3
        assert kpis.loc["hours", "value"] == pytest.approx(90 / 60)
        assert kpis.loc["plays", "previous"] == 1 and kpis.loc["plays", "change"] == "+200%"
        assert kpis.loc["plays", "compared_with"] == "vs previous 15 days"
        # Nothing before March's previous period: no change to report.
        march = figures.kpis(db, start="2013-03-01", end="2013-03-31")
        assert march.loc["plays", "change"] == "—" and march.loc["plays", "previous"] is None
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda db: figures.unique_users(db, resolution="hourly"), "resolution"),
        (lambda db: figures.top_titles(db, num=0), "num"),
        (lambda db: figures.top_titles(db, rank="title"), "rank"),
        (lambda db: figures.heatmap(db, start="2013-03-01", end="2013-01-01"), "end"),
        (lambda db: figures.kpis(db, start="March"), "start"),
    ],
)
def test_figures_api_rejects_bad_options(db, call, parameter):
    with pytest.raises(MoviedashError) as info:
        call(db)
    assert info.value.parameter == parameter


def test_figure_route_serves_the_dashboard_charts(client):
    body = client.get("/figures/unique_users.json?users=weekly&market=SE")
    assert body.status_code == 200 and body.mimetype == "application/json"
    figure = body.get_json()
    route = client.get("/data/unique_users/?resolution=weekly&market=SE").get_json()
    assert figure["data"][0]["x"] == [r["date"] for r in route]
    assert figure["data"][0]["y"] == [r["values"] for r in route]
    top = client.get("/figures/top_titles.json?top=1&rank=minutes&theme=dark").get_json()
    assert top["data"][0]["x"] == [r["values"] for r in client.get("/data/toplist/?num=1&rank=minutes").get_json()]
    for chart in OVERVIEW_IDS:
        assert client.get(f"/figures/{chart}.json").status_code == 200


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/figures/pie.json", 404, None),
        ("/figures/.json", 404, None),
        ("/figures/a/b.json", 404, None),
        ("/figures/unique_users.json/x", 404, None),
        ("/figures/", 404, None),
        ("/figures/top_titles.json?top=51", 400, "top"),
        ("/figures/top_titles.json?rank=x", 400, "rank"),
        ("/figures/unique_users.json?users=hourly", 400, "users"),
        ("/figures/unique_users.json?resolution=weekly", 400, "resolution"),
        ("/figures/heatmap.json?theme=neon", 400, "theme"),
        ("/figures/heatmap.json?start=2013-02-30", 400, "start"),
        ("/figures/heatmap.json?start=2013-03-01&end=2013-01-01", 400, "end"),
    ],
)
def test_figure_route_errors(client, url, status, parameter):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]
    if parameter:
        assert body["parameter"] == parameter


def assert_stays_on_the_page(config: dict) -> None:
    """No "Share chart…" (Plotly Cloud), no Chart Studio link or logo; the modebar on hover only."""
    assert config.get("showSendToCloud") is False and config.get("plotlyServerURL", "") == ""
    assert not config.get("showEditInChartStudio") and not config.get("showLink") and not config.get("sendData")
    assert config.get("displaylogo") is False and config.get("displayModeBar") == "hover"
    assert {"sendDataToCloud", "sendChartToCloud"} <= set(config.get("modeBarButtonsToRemove", []))


def test_figure_route_includes_a_config_that_keeps_the_chart_on_the_page(client):
    for chart in OVERVIEW_IDS:
        figure = client.get(f"/figures/{chart}.json?top=3").get_json()
        assert set(figure) == {"data", "layout", "config"}
        assert_stays_on_the_page(figure["config"])
    named = client.get("/figures/unique_users.json?users=weekly&start=2013-01-07").get_json()["config"]
    assert named["toImageButtonOptions"]["filename"] == "unique_users_weekly_2013-01-07_end"


def test_report_charts_keep_their_data_on_the_page(db, tmp_path):
    out = tmp_path / "r.html"
    assert run("report", "--db", str(db), "--out", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    for chart in CHART_IDS:
        assert_stays_on_the_page(plotted(html, chart)["config"])
    # Nothing the report loads or links to is on another host (plotly.js's own strings aside).
    assert not re.findall(
        r"""<(?:script|img|link|iframe|source|video|audio)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", html
    )


def test_report_shows_markup_titles_literally(make_db, tmp_path):
    db = make_db(
        [
            event(f"2013-01-{1 + n:02d} 10:00:00", f"u{k}", title=t)
            for n, t in enumerate(MARKUP_TITLES)
            for k in range(n + 1)
        ]
    )
    out = tmp_path / "r.html"
    assert run("report", "--db", str(db), "--out", str(out), "--top", "20").exit_code == 0
    top = plotted(out.read_text(encoding="utf-8"), "top_titles")
    trace = top["data"][0]
    assert set(trace["y"]) == set(MARKUP_TITLES)  # the data as it is
    for text in [*(row[0] for row in trace["customdata"]), *top["layout"]["yaxis"]["ticktext"]]:
        assert "<" not in text and ">" not in text, text
    assert "%{y}" not in trace["hovertemplate"]
