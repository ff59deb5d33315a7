"""The pure figure builders and KPI texts: traces, axes, hover text, empty data, themes."""
from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from moviedash import charts
from moviedash.analysis import WEEKDAYS, Totals
from tests.helpers import MARKUP_TITLES


def frame(dates: list[str], values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"date": pd.Series(dates, dtype=object), "values": pd.Series(values, dtype="int64")})


def top_frame(titles: list[str], values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"title": pd.Series(titles, dtype=object), "values": pd.Series(values, dtype="int64")})


def grid(cells: dict[tuple[int, int], int]) -> pd.DataFrame:
    g = pd.DataFrame(0, index=pd.Index(WEEKDAYS, name="weekday"), columns=pd.Index(range(24), name="hour"))
    for (day, hour), n in cells.items():
        g.iloc[day, hour] = n
    return g.astype("int64")


def assert_empty(fig: go.Figure) -> None:
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations] == [charts.EMPTY_MESSAGE]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False


# --------------------------------------------------------------------------- #
# Time series.
# --------------------------------------------------------------------------- #


def test_timeseries_has_one_trace_with_the_frame_values() -> None:
    fig = charts.timeseries_figure(frame(["2013-01-01", "2013-01-02"], [3, 1234]), "unique_users", "daily")
    (trace,) = fig.data
    assert isinstance(trace, go.Scatter)
    assert list(trace.x) == ["2013-01-01", "2013-01-02"]
    assert list(trace.y) == [3, 1234]
    assert fig.layout.xaxis.title.text == "Day"
    assert fig.layout.yaxis.title.text == "Unique users"
    assert fig.layout.title.text == "Unique users"
    assert fig.layout.xaxis.type == "date"


@pytest.mark.parametrize(
    ("resolution", "dates", "axis", "labels"),
    [
        ("daily", ["2013-01-07"], "Day", ["Mon 7 Jan 2013"]),
        ("weekly", ["2012-12-31", "2013-01-07"], "Week (starting Monday)",
         ["Week of Mon 31 Dec 2012", "Week of Mon 7 Jan 2013"]),
        ("monthly", ["2013-01-01", "2013-02-01"], "Month", ["January 2013", "February 2013"]),
    ],
)
def test_timeseries_hover_names_the_whole_period(
    resolution: str, dates: list[str], axis: str, labels: list[str]
) -> None:
    fig = charts.timeseries_figure(frame(dates, [1] * len(dates)), "unique_users", resolution)
    (trace,) = fig.data
    assert [row[0] for row in trace.customdata] == labels
    assert "%{customdata[0]}" in trace.hovertemplate
    assert "%{y:,}" in trace.hovertemplate  # thousands separators
    assert fig.layout.xaxis.title.text == axis


def test_hover_says_when_the_range_cuts_a_period_short() -> None:
    weeks = frame(["2012-12-31", "2013-01-07", "2013-01-14"], [1, 2, 3])
    fig = charts.timeseries_figure(weeks, "unique_users", "weekly", bounds=(dt.date(2013, 1, 1), dt.date(2013, 1, 15)))
    assert [row[0] for row in fig.data[0].customdata] == [
        "Week of Mon 31 Dec 2012 (partial: 6 of 7 days)",
        "Week of Mon 7 Jan 2013",
        "Week of Mon 14 Jan 2013 (partial: 2 of 7 days)",
    ]
    months = frame(["2012-02-01", "2012-03-01"], [1, 2])
    fig = charts.timeseries_figure(
        months, "minutes_watched", "monthly", bounds=(dt.date(2012, 2, 10), dt.date(2012, 3, 31))
    )
    assert [row[0] for row in fig.data[0].customdata] == ["February 2012 (partial: 20 of 29 days)", "March 2012"]
    assert charts.partial_note(dt.date(2013, 1, 1), "daily", (dt.date(2013, 1, 1), dt.date(2013, 1, 1))) == ""


def test_minutes_hover_also_gives_hours() -> None:
    fig = charts.timeseries_figure(frame(["2013-01-01"], [1500]), "minutes_watched", "daily")
    (trace,) = fig.data
    assert trace.customdata[0][1] == 25.0
    assert "minutes (%{customdata[1]:,.1f} hours)" in trace.hovertemplate
    assert fig.layout.yaxis.title.text == "Minutes watched"
    assert fig.layout.title.text == "Minutes watched"


def test_weekly_ticks_sit_on_mondays_with_the_year_when_it_changes() -> None:
    mondays = [(dt.date(2012, 12, 31) + dt.timedelta(weeks=i)).isoformat() for i in range(4)]
    fig = charts.timeseries_figure(frame(mondays, [1, 2, 3, 4]), "unique_users", "weekly")
    assert list(fig.layout.xaxis.tickvals) == mondays
    assert list(fig.layout.xaxis.ticktext) == ["31 Dec<br>2012", "7 Jan<br>2013", "14 Jan", "21 Jan"]


def test_long_monthly_series_gets_at_most_about_ten_ticks() -> None:
    months = [f"{2013 + i // 12}-{i % 12 + 1:02d}-01" for i in range(24)]
    fig = charts.timeseries_figure(frame(months, list(range(24))), "minutes_watched", "monthly")
    assert len(fig.layout.xaxis.tickvals) <= 10
    assert fig.layout.xaxis.ticktext[0] == "Jan<br>2013"


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (1, {"tickformat": ",d", "dtick": 1}),
        (5, {"tickformat": ",d", "dtick": 1}),
        (6, {"tickformat": ",d"}),
        (12_000, {"tickformat": "~s"}),
    ],
)
def test_count_axes_only_show_whole_numbers(largest: int, ticks: dict) -> None:
    assert charts.count_ticks(largest) == ticks
    fig = charts.timeseries_figure(frame(["2013-01-01", "2013-01-02"], [0, largest]), "unique_users", "daily")
    assert fig.layout.yaxis.tickformat == ticks["tickformat"] and fig.layout.yaxis.dtick == ticks.get("dtick")
    heat = charts.heatmap_figure(grid({(0, 0): largest}))
    assert heat.data[0].colorbar.dtick == ticks.get("dtick")


def test_daily_ticks_are_left_to_plotly() -> None:
    fig = charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily")
    assert fig.layout.xaxis.tickvals is None


def test_timeseries_of_an_empty_frame_says_no_data() -> None:
    fig = charts.timeseries_figure(frame([], []), "minutes_watched", "weekly")
    assert_empty(fig)
    assert fig.layout.title.text == "Minutes watched"


def test_titles_can_be_left_to_the_page() -> None:
    fig = charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily", title=None)
    assert fig.layout.title.text is None
    fig = charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily", title="Custom")
    assert fig.layout.title.text == "Custom"


def test_unknown_metric_resolution_or_theme_is_an_error() -> None:
    with pytest.raises(KeyError):
        charts.timeseries_figure(frame(["2013-01-01"], [1]), "no_such_metric", "daily")
    with pytest.raises(ValueError, match="resolution"):
        charts.period_label(dt.date(2013, 1, 1), "hourly")
    with pytest.raises(ValueError, match="theme"):
        charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily", theme="sepia")


# --------------------------------------------------------------------------- #
# Top list.
# --------------------------------------------------------------------------- #


def test_toplist_is_horizontal_bars_most_watched_at_the_top() -> None:
    fig = charts.toplist_figure(top_frame(["Skyfall", "Argo", "Up"], [1200, 30, 2]), "plays")
    (trace,) = fig.data
    assert isinstance(trace, go.Bar) and trace.orientation == "h"
    assert list(trace.y) == ["Skyfall", "Argo", "Up"]
    assert list(trace.x) == [1200, 30, 2]
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.title.text == "Plays"
    assert fig.layout.title.text == "Top 3 titles by plays"
    # Each bar's value, with thousands separators, in a column beside it.
    assert [(a.y, a.text) for a in fig.layout.annotations] == [("Skyfall", "1,200"), ("Argo", "30"), ("Up", "2")]


@pytest.mark.parametrize(
    ("rank", "axis", "unit"),
    [
        ("plays", "Plays", "plays"),
        ("minutes", "Minutes watched", "minutes"),
        ("viewers", "Unique viewers", "unique viewers"),
    ],
)
def test_toplist_axis_and_hover_follow_the_rank(rank: str, axis: str, unit: str) -> None:
    fig = charts.toplist_figure(top_frame(["Argo"], [90]), rank)
    assert fig.layout.xaxis.title.text == axis
    assert f"%{{x:,}} {unit}" in fig.data[0].hovertemplate
    assert ("hours" in fig.data[0].hovertemplate) == (rank == "minutes")


def test_toplist_shortens_long_titles_only_in_the_labels() -> None:
    long = "A Very Long Series Name That Goes On And On, Episode 12"
    fig = charts.toplist_figure(top_frame([long, "Argo"], [2, 1]), "plays")
    assert list(fig.data[0].y) == [long, "Argo"]
    assert list(fig.layout.yaxis.tickvals) == [long, "Argo"]
    short = fig.layout.yaxis.ticktext[0]
    assert short.endswith("…") and len(short) <= 34 and long.startswith(short[:-1])


def test_toplist_height_grows_with_the_rows() -> None:
    small = charts.toplist_figure(top_frame(["A"], [1]), "plays", title=None)
    big = charts.toplist_figure(top_frame([f"T{i}" for i in range(50)], list(range(50, 0, -1))), "plays", title=None)
    assert small.layout.height == charts.toplist_height(1) == 300
    assert big.layout.height == charts.toplist_height(50) > 1000


def test_toplist_of_an_empty_frame_says_no_data() -> None:
    assert_empty(charts.toplist_figure(top_frame([], []), "viewers"))


# --------------------------------------------------------------------------- #
# Heatmap.
# --------------------------------------------------------------------------- #


def test_heatmap_has_weekdays_by_hours() -> None:
    cells = {(0, 20): 5, (6, 3): 1234}
    fig = charts.heatmap_figure(grid(cells))
    (trace,) = fig.data
    assert isinstance(trace, go.Heatmap)
    assert list(trace.x) == list(range(24))
    assert list(trace.y) == list(WEEKDAYS)
    assert [list(row) for row in trace.z] == grid(cells).to_numpy().tolist()
    assert fig.layout.yaxis.autorange == "reversed"  # Monday at the top
    assert fig.layout.xaxis.title.text == "Hour of day (viewing started)"
    assert trace.customdata[0][20] == "20:00–21:00" and trace.customdata[0][23] == "23:00–00:00"
    assert "%{z:,} plays" in trace.hovertemplate
    assert fig.layout.title.text == "When people watch"


def test_heatmap_without_plays_says_no_data() -> None:
    assert_empty(charts.heatmap_figure(grid({})))


# --------------------------------------------------------------------------- #
# Shared: empty figure, themes, purity.
# --------------------------------------------------------------------------- #


def test_empty_figure_carries_any_message() -> None:
    fig = charts.empty_figure("Invalid selection: x", theme="dark")
    assert [a.text for a in fig.layout.annotations] == ["Invalid selection: x"]
    assert fig.layout.paper_bgcolor is None and fig.layout.template.layout.paper_bgcolor == charts.palette("dark").paper


@pytest.mark.parametrize("theme", charts.THEMES)
def test_themes_colour_the_whole_figure(theme: str) -> None:
    p = charts.palette(theme)
    figures = [
        charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily", theme=theme),
        charts.toplist_figure(top_frame(["A"], [1]), "plays", theme=theme),
        charts.heatmap_figure(grid({(0, 0): 1}), theme=theme),
    ]
    for fig in figures:
        full = fig.layout.template.layout
        assert full.paper_bgcolor == p.paper and full.font.color == p.text
    assert figures[0].data[0].line.color == p.users
    assert (
        charts.timeseries_figure(frame(["2013-01-01"], [1]), "minutes_watched", "daily", theme=theme).data[0].line.color
        == p.minutes
    )


def test_figures_are_plain_json() -> None:
    fig = charts.toplist_figure(top_frame(["Æblegrød"], [1]), "minutes")
    assert json.loads(fig.to_json())["data"][0]["y"] == ["Æblegrød"]


def test_the_module_imports_no_dash_and_no_database() -> None:
    tree = ast.parse(Path(charts.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"dash", "flask", "sqlite3"}}
    assert not {
        name for name in imported if name.lstrip(".").split(".")[0] in {"db", "context", "analysis", "dashboard"}
    }


# --------------------------------------------------------------------------- #
# KPI texts.
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(None, "—"), (0.12, "+12%"), (-0.045, "-4.5%"), (0.0, "+0.0%"), (17.5, "+1,750%"), (-1.0, "-100%")],
)
def test_format_change(ratio: float | None, text: str) -> None:
    assert charts.format_change(ratio) == text


def test_kpis_compare_with_the_previous_period() -> None:
    now = Totals(viewers=110, plays=2000, minutes=90_000)
    before = Totals(viewers=100, plays=2000, minutes=120_000)
    kpis = {k.name: k for k in charts.kpis(now, before, 30)}
    assert [k.label for k in kpis.values()] == ["Unique viewers", "Plays", "Hours watched", "Avg. minutes per viewer"]
    assert (kpis["viewers"].value, kpis["viewers"].change, kpis["viewers"].direction) == ("110", "+10%", "up")
    assert (kpis["plays"].value, kpis["plays"].change, kpis["plays"].direction) == ("2,000", "+0.0%", "flat")
    assert (kpis["hours"].value, kpis["hours"].change, kpis["hours"].direction) == ("1,500", "-25%", "down")
    assert (kpis["minutes-per-viewer"].value, kpis["minutes-per-viewer"].change) == ("818.2", "-32%")
    assert {k.comparison for k in kpis.values()} == {"vs previous 30 days"}


def test_kpis_without_previous_data_show_a_dash() -> None:
    kpis = charts.kpis(Totals(viewers=0, plays=0, minutes=0), None, 1)
    assert [(k.value, k.change, k.direction) for k in kpis] == [
        ("0", "—", "none"),
        ("0", "—", "none"),
        ("0.0", "—", "none"),
        ("—", "—", "none"),
    ]
    assert kpis[0].comparison == "vs previous day"
    assert charts.kpis(Totals(1, 1, 1), None, 0)[0].comparison == ""


# --------------------------------------------------------------------------- #
# Titles are data, not markup; nothing leaves the page.
# --------------------------------------------------------------------------- #


def plotly_displays(text: str) -> str:
    """What Plotly shows for ``text`` with no tags in it: its entities decoded (&amp; &lt; &gt;)."""
    assert "<" not in text and ">" not in text, f"markup reaches Plotly: {text!r}"
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize("title", MARKUP_TITLES)
@pytest.mark.parametrize("rank", ["plays", "minutes", "viewers"])
def test_toplist_shows_markup_titles_literally(title: str, rank: str) -> None:
    fig = charts.toplist_figure(top_frame([title, "Argo"], [5, 1]), rank)
    (trace,) = fig.data
    assert list(trace.y) == [title, "Argo"]  # the data stays the data
    # Hover names the title through customdata (not the raw category, %{y}).
    assert "%{y}" not in trace.hovertemplate and "%{customdata[0]}" in trace.hovertemplate
    assert plotly_displays(trace.customdata[0][0]) == title
    assert plotly_displays(fig.layout.yaxis.ticktext[0]) == charts._short(title)
    assert [a.text for a in fig.layout.annotations] == ["5", "1"]
    # Apart from the data itself (y, tickvals), no text of the figure carries the title's tags.
    plain = fig.to_plotly_json()
    plain["data"][0].pop("hovertemplate")  # our own markup (<b>, <br>), checked above
    dumped = json.dumps(plain, default=str).replace(json.dumps(title)[1:-1], "")
    for tag in re.findall(r"<[^>]*>", title):
        assert json.dumps(tag)[1:-1] not in dumped


@pytest.mark.parametrize("message", MARKUP_TITLES)
def test_message_figures_show_their_text_literally(message: str) -> None:
    fig = charts.empty_figure(f"Invalid selection: device {message!r} is not in the data")
    assert (
        plotly_displays(fig.layout.annotations[0].text) == f"Invalid selection: device {message!r} is not in the data"
    )


def test_plotly_text_escapes_only_what_plotly_reads() -> None:
    assert charts.plotly_text('<a href="x">&amp;</a>') == '&lt;a href="x"&gt;&amp;amp;&lt;/a&gt;'
    assert charts.plotly_text("Æblegrød 'n' \"Co\"") == "Æblegrød 'n' \"Co\""  # Plotly knows no &quot;


def test_every_chart_config_keeps_everything_on_the_page() -> None:
    config = charts.plotly_config("users_daily", remove=("lasso2d",))
    assert config["showSendToCloud"] is False and config["plotlyServerURL"] == ""
    assert not config.get("showEditInChartStudio") and not config.get("showLink") and not config.get("sendData")
    assert config["displaylogo"] is False and config["displayModeBar"] == "hover"
    assert {"sendDataToCloud", "sendChartToCloud", "editInChartStudio", "lasso2d"} <= set(
        config["modeBarButtonsToRemove"]
    )
    assert config["toImageButtonOptions"]["filename"] == "users_daily"


# --------------------------------------------------------------------------- #
# Fixed margins (no automargin: it draws every chart twice).
# --------------------------------------------------------------------------- #


def _automargins(fig: go.Figure) -> list[object]:
    layout = fig.to_plotly_json()["layout"]
    template = layout["template"]["layout"]
    return [
        axis.get("automargin")
        for source in (layout, template)
        for name, axis in source.items()
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict)
    ]


def test_charts_set_their_margins_instead_of_plotlys_automargin() -> None:
    figures = [
        charts.timeseries_figure(frame(["2013-01-01", "2013-01-02"], [3, 4]), "unique_users", "daily"),
        charts.timeseries_figure(frame(["2013-01-07", "2013-01-14"], [3, 4]), "minutes_watched", "weekly"),
        charts.toplist_figure(top_frame(["A", "B"], [2, 1]), "plays"),
        charts.heatmap_figure(grid({(0, 0): 5})),
    ]
    for fig in figures:
        assert not any(_automargins(fig)), fig.layout
        assert fig.layout.margin.b is not None  # room for the axis title, set by the chart


def test_a_single_day_keeps_automargin_for_plotlys_millisecond_labels() -> None:
    fig = charts.timeseries_figure(frame(["2013-01-01"], [1]), "unique_users", "daily")
    assert fig.layout.xaxis.automargin is True


@pytest.mark.parametrize(
    ("largest", "label"), [(3, "4"), (800, "881"), (9_990, "10,989"), (12_000, "13k"), (1_400_000, "1.5M")]
)
def test_the_series_left_margin_fits_the_widest_tick_label(largest: int, label: str) -> None:
    # The label of the padded top of the axis, with a digit's room for rounding.
    width = charts.count_axis_width(largest)
    assert width == charts.tick_label_width(label) + charts.tick_label_width("0")
    fig = charts.timeseries_figure(frame(["2013-01-01", "2013-01-02"], [0, largest]), "unique_users", "daily")
    assert fig.layout.margin.l >= 24 + width


def test_margins_grow_with_the_labels() -> None:
    def left(largest: int) -> int:
        fig = charts.timeseries_figure(frame(["2013-01-01", "2013-01-02"], [0, largest]), "unique_users", "daily")
        return fig.layout.margin.l

    assert left(3) < left(800) < left(9_990)
    assert left(12_000) < left(9_990)  # "13k" is narrower than "10,989"
    short = charts.heatmap_figure(pd.DataFrame([[1]], index=["Mo"], columns=[0]))
    long = charts.heatmap_figure(pd.DataFrame([[1]], index=["Monday"], columns=[0]))
    assert short.layout.margin.l < long.layout.margin.l


def test_engagement_figures_use_the_bundles_traces_and_say_when_empty() -> None:
    series = pd.DataFrame({"date": ["2024-03-04", "2024-03-05"], "values": [92.5, None]})
    line = charts.ratio_series_figure(series, "completion", "daily")
    assert line.data[0].type == "scatter" and list(line.data[0].y) == [92.5, None]
    assert line.layout.title.text == "Average completion"
    assert line.data[0].hovertemplate == "<b>%{customdata[0]}</b><br>%{y:,} % watched<extra></extra>"
    counted = series.assign(plays=[606, 0], hits=[412, 0])
    rate = charts.ratio_series_figure(counted, "completion_rate", "daily")
    assert rate.data[0].hovertemplate == (
        "<b>%{customdata[0]}</b><br>%{y:,} % completed · %{customdata[2]:,} of %{customdata[1]:,} plays"
        "<extra></extra>"
    )
    assert [list(row) for row in rate.data[0].customdata] == [["Mon 4 Mar 2024", 606, 412], ["Tue 5 Mar 2024", 0, 0]]
    plain = charts.ratio_series_figure(counted.assign(hits=[None, None]), "completion", "daily")
    assert plain.data[0].hovertemplate.endswith("% watched · %{customdata[1]:,} plays<extra></extra>")
    by = pd.DataFrame({"device": ["TV", "unknown"], "values": [90.0, None], "plays": [2, 0]})
    bars = charts.breakdown_figure(by, "completion", "device", theme="dark")
    assert bars.data[0].type == "bar" and list(bars.data[0].x) == ["TV", "Unknown"]
    assert "plays" in bars.data[0].hovertemplate
    histogram = pd.DataFrame({"from": [0, 90], "to": [10, 100], "movie_plays": [1, 3], "series_plays": [0, 0],
                              "movie_share": [25.0, 75.0], "series_share": [None, None]})
    grouped = charts.distribution_figure(histogram)
    assert [t.name for t in grouped.data] == ["Movies", "Series"] and grouped.layout.barmode == "group"
    stops = pd.DataFrame({"at": [10, 20], "values": [100.0, 50.0], "plays": [2, 2]})
    assert charts.stops_figure(stops, "A").data[0].type == "scatter"
    segments = pd.DataFrame([{"device": "TV", "market": "NO", "date": "2024-03-04", "plays": 3, "poor": 3,
                              "poor_share": 100.0, "impact": 2.5}])
    worst = charts.worst_segments_figure(segments)
    assert worst.data[0].orientation == "h"
    # Fixed margins that hold the segment names and, below the ticks, the axis title (no automargin).
    assert worst.layout.margin.l >= charts.tick_label_width("TV · NO · 2024-03-04")
    assert worst.layout.margin.b >= 44 and not worst.layout.yaxis.automargin
    bins = pd.DataFrame({"from": [5], "to": [6], "values": [70.0], "plays": [3]})
    assert list(charts.quality_completion_figure(bins).data[0].y) == [70.0]
    # Nothing to draw: the empty-state figure, not an empty axis.
    nothing = pd.DataFrame({"date": ["2024-03-04"], "values": [None]})
    assert charts.ratio_series_figure(nothing, "quality", "daily").layout.annotations[0].text == charts.EMPTY_MESSAGE
    assert charts.worst_segments_figure(segments.iloc[0:0]).layout.annotations
