"""The binge charts (pure frame -> figure), the binge cards as data, and the run rule on arrays."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from moviedash import binge, binge_cards, binge_charts
from moviedash.errors import MoviedashError
from moviedash.rollups import binges as binge_rollups

PERIODS = pd.DataFrame({
    "date": ["2024-01-01", "2024-02-01", "2024-03-01"],
    "sessions": [2, 0, 5],
    "binge_minutes": [90, 0, 300],
    "series_minutes": [180, 0, 400],
    "share": pd.Series([50.0, None, 75.0], dtype=object),
})
SHOWS = pd.DataFrame({"show": ["Alpha <b>", "Beta"], "sessions": [3, 1], "viewers": [2, 1], "episodes": [10, 3],
                      "episodes_per_session": [3.33, 3.0]})


def test_sessions_figure_draws_one_bar_per_period() -> None:
    fig = binge_charts.sessions_figure(PERIODS, "monthly", theme="dark")
    assert list(fig.data[0].x) == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert list(fig.data[0].y) == [2, 0, 5]
    assert fig.layout.title.text == "Binge sessions"
    assert list(fig.data[0].customdata) == ["January 2024", "February 2024", "March 2024"]


def test_share_figure_leaves_a_gap_without_series_minutes() -> None:
    fig = binge_charts.share_figure(PERIODS, "monthly", title=None)
    assert list(fig.data[0].y) == [50.0, None, 75.0]
    assert fig.data[0].connectgaps is False
    assert fig.layout.title.text is None
    assert [list(c)[1:] for c in fig.data[0].customdata] == [[90, 180], [0, 0], [300, 400]]


def test_shows_figure_ranks_from_the_top_and_escapes_names() -> None:
    fig = binge_charts.shows_figure(SHOWS)
    assert list(fig.data[0].y) == ["Alpha <b>", "Beta"] and list(fig.data[0].x) == [3, 1]
    assert fig.layout.yaxis.autorange == "reversed"
    assert "<b>" not in fig.data[0].customdata[0][0]  # shown literally, not as markup
    assert fig.layout.title.text == "Top 2 binged shows"


@pytest.mark.parametrize("draw", [
    lambda f: binge_charts.sessions_figure(f, "daily"),
    lambda f: binge_charts.share_figure(f, "daily"),
    lambda f: binge_charts.shows_figure(f.iloc[0:0][[]].assign(show=[], sessions=[], viewers=[], episodes=[],
                                                                episodes_per_session=[])),
])
def test_empty_selections_draw_the_empty_message(draw) -> None:
    empty = PERIODS.iloc[0:0]
    fig = draw(empty)
    assert fig.data == ()
    assert fig.layout.annotations[0].text == "No data for this selection"


def test_cards_request_their_charts_and_refuse_bad_controls() -> None:
    assert [binge_cards.chart_request(k, binge_cards.DEFAULTS) for k in binge_cards.CARD_KEYS] == [
        ("binge_sessions", "weekly"), ("binge_share", "weekly"), ("binge_shows", 10)]
    with pytest.raises(MoviedashError) as bad:
        binge_cards.chart_request("binge-shows", {**binge_cards.DEFAULTS, "binge_num": 0})
    assert bad.value.parameter == "num"
    with pytest.raises(MoviedashError) as bad:
        binge_cards.chart_request("binge-share", {**binge_cards.DEFAULTS, "binge_resolution": "hourly"})
    assert bad.value.parameter == "resolution"


def test_cards_describe_their_numbers() -> None:
    assert binge_cards.describe("binge_sessions", PERIODS) == (
        "7 binge sessions started over 3 periods; the most, 5, in the period from 2024-03-01.")
    assert binge_cards.describe("binge_share", PERIODS) == (
        "390 of 580 series minutes were watched in binges. Share per period: 2024-01-01: 50.00 %; "
        "2024-02-01: no series minutes; 2024-03-01: 75.00 %.")
    assert binge_cards.describe("binge_shows", SHOWS.iloc[1:]) == (
        "Most binged shows, most sessions first: Beta: 1 sessions by 1 viewers, 3.00 episodes per session.")


def test_runs_on_arrays() -> None:
    # One viewer, one show, starts in minutes 0, 40, 160 (gap 120 after 40+0), 281 (gap 121): minutes 0 each;
    # then a second show at 0 (a new run whatever the time), given out of order.
    user = np.array([0, 0, 0, 0, 0], dtype="int64")
    show = np.array([0, 0, 1, 0, 0], dtype="int64")
    start = 60 * np.array([160, 0, 0, 40, 281], dtype="int64")
    minutes = np.zeros(5, dtype="int64")
    order, run = binge_rollups.runs(user, show, start, minutes, 120)
    assert order.tolist() == [1, 3, 0, 4, 2]
    assert run.tolist() == [0, 0, 0, 1, 2]


def test_runs_measure_the_gap_from_the_latest_end() -> None:
    # 0+100 (ends 100), 10+1 (ends 11), 220: 120 after the long one's end, though 209 after the short one's.
    order, run = binge_rollups.runs(np.zeros(3, "int64"), np.zeros(3, "int64"), 60 * np.array([0, 10, 220], "int64"),
                            np.array([100, 1, 5], "int64"), 120)
    assert run.tolist() == [0, 0, 0]
    assert binge.share(1, 3) == 33.33 and binge.share(0, 0) is None
