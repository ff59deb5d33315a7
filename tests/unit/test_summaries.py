"""The charts' text alternatives: hand-worked frames -> the words a screen reader gets."""
from __future__ import annotations

import pandas as pd

from moviedash.analysis import WEEKDAYS
from moviedash.summaries import heatmap_summary, series_summary, top_summary


def test_series_summary_names_range_extremes_and_average() -> None:
    frame = pd.DataFrame({"date": ["2013-01-07", "2013-01-14", "2013-01-21"], "values": [4, 1, 1300]})
    assert series_summary(frame, "unique_users", "weekly") == (
        "Unique users per week, Week of Mon 7 Jan 2013 to Week of Mon 21 Jan 2013 (3 weeks): "
        "lowest 1 users (Week of Mon 14 Jan 2013), highest 1,300 users (Week of Mon 21 Jan 2013), "
        "average 435.0 per week; first 4, last 1,300."
    )


def test_series_summary_of_an_empty_selection() -> None:
    empty = pd.DataFrame({"date": pd.Series([], dtype=object), "values": pd.Series([], dtype="int64")})
    assert series_summary(empty, "minutes_watched", "daily") == "Minutes watched per day: no events in this selection."


def test_top_summary_lists_every_title_with_its_value() -> None:
    frame = pd.DataFrame({"title": ["Brev", "Øisteins Blyant"], "values": [12, 3]})
    assert top_summary(frame, "minutes") == "Top 2 titles by minutes watched: 1. Brev, 12; 2. Øisteins Blyant, 3."
    assert top_summary(frame.iloc[:0], "plays") == "Top titles by plays: no titled events in this selection."


def test_heatmap_summary_finds_the_busiest_cells() -> None:
    grid = pd.DataFrame(0, index=pd.Index(WEEKDAYS, name="weekday"), columns=pd.Index(range(24), name="hour"))
    grid.loc["Tue", 20] = 5
    grid.loc["Sat", 9] = 3
    grid.loc["Sat", 20] = 4
    assert heatmap_summary(grid) == (
        "Plays by weekday and hour started, 12 plays: the busiest hour is Tue 20:00–21:00 with 5 plays; "
        "the busiest weekday is Sat (7 plays) and the busiest hour of the day 20:00–21:00 (9 plays); "
        "165 of 168 weekday-hours have no plays."
    )
    assert heatmap_summary(grid * 0) == "Plays by weekday and hour started: no events in this selection."
