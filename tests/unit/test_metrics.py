"""The metric model: dimensions and measures declared once, and everything that lists them agrees."""
from __future__ import annotations

import dataclasses

import pytest

from moviedash import charts, dimensions, metrics, params, pipeline, viewstate
from moviedash.dashboard import ids, selection
from moviedash.params import Filters
from moviedash.report import build


def test_the_dimensions_are_spelled_once() -> None:
    assert dimensions.DIMS == ("sessiontype", "device", "market")
    assert params.FILTER_KEYS == dimensions.DIMS
    assert metrics.DIMS == dimensions.DIMS
    value_fields = [f.name for f in dataclasses.fields(Filters) if f.name not in ("start", "end")]
    assert value_fields == list(dimensions.DIMS)
    assert set(params.SERIES_PARAMS) == {"resolution", "start", "end", "format", *dimensions.DIMS}
    assert set(params.TOP_PARAMS) == {"num", "rank", "start", "end", "format", *dimensions.DIMS}


def test_every_list_of_time_series_comes_from_the_measures() -> None:
    names = tuple(m.name for m in metrics.MEASURES)
    assert names[:2] == ("unique_users", "minutes_watched")  # the course's routes keep their place
    assert tuple(pipeline.SERIES) == names == metrics.SERIES
    assert pipeline.CHARTS == (*names, "top_titles", "heatmap")
    assert build.CHART_KEYS == pipeline.CHARTS
    keys = tuple(m.key for m in metrics.MEASURES)
    assert viewstate.KEYS[: len(keys)] == keys == metrics.SERIES_KEYS
    assert selection.CONTROL_NAMES == viewstate.KEYS
    assert ids.CHARTS == (*keys, "top", "heatmap")


def test_the_course_measures_aggregate_as_before() -> None:
    users, minutes = metrics.measure("unique_users"), metrics.measure("minutes_watched")
    assert metrics.raw_aggregate(users.aggregation) == "COUNT(DISTINCT userid)"
    assert metrics.raw_aggregate(minutes.aggregation) == "COALESCE(SUM(CAST(totalminuteswatched AS integer)), 0)"
    assert metrics.raw_aggregate(metrics.Count()) == "COUNT(*)"
    assert metrics.rollup_column(users.aggregation) == "users"
    assert metrics.rollup_column(minutes.aggregation) == "minutes"
    assert metrics.rollup_column(metrics.Sum("x")) is None  # no rollup: the raw table answers
    with pytest.raises(KeyError):
        metrics.measure("toplist")


def test_a_ratio_is_a_ratio_of_totals_and_none_without_a_denominator() -> None:
    ratio = metrics.Ratio(metrics.Sum(metrics.MINUTES, rollup="minutes"), metrics.Count(), digits=2)
    assert ratio.value(10, 3) == 3.33
    assert ratio.value(0, 4) == 0.0
    assert ratio.value(5, 0) is None
    assert metrics.rollup_column(ratio) is None


def test_a_distribution_reads_quantiles_off_summed_bins() -> None:
    spread = metrics.Distribution("viewpercentage", (0, 25, 50, 75, 100.01))
    assert spread.quantile([1, 1, 1, 7], 0.9) == 75
    assert spread.quantile([1, 1, 1, 7], 0.3) == 50
    assert spread.quantile([10, 0, 0, 0], 0.5) == 0
    assert spread.quantile([0, 0, 0, 0], 0.9) is None
    with pytest.raises(ValueError):
        spread.quantile([1, 2], 0.5)


def test_declarations_must_not_collide() -> None:
    first = metrics.MEASURES[0]
    with pytest.raises(ValueError, match="unique"):
        metrics._check((first, dataclasses.replace(first, key="other")))
    with pytest.raises(ValueError, match="route or parameter"):
        metrics._check((dataclasses.replace(first, name="toplist"),))
    with pytest.raises(ValueError, match="route or parameter"):
        metrics._check((dataclasses.replace(first, key="market"),))
    with pytest.raises(ValueError, match="route or parameter"):
        metrics._check((dataclasses.replace(first, key="top"),))


def test_every_measure_is_drawn_in_a_palette_colour_of_each_theme() -> None:
    colours = {f.name for f in dataclasses.fields(charts.Palette)}
    for measure in metrics.MEASURES:
        assert measure.colour in colours, measure.name
        for theme in charts.THEMES:
            assert getattr(charts.palette(theme), measure.colour).startswith("#")
