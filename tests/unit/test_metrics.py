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
    assert set(params.TOP_PARAMS) == {"num", "rank", "min_plays", "group", "start", "end", "format", *dimensions.DIMS}


def test_every_list_of_time_series_comes_from_the_measures() -> None:
    names = tuple(m.name for m in metrics.MEASURES)
    assert names[:2] == ("unique_users", "minutes_watched")  # the course's routes keep their place
    assert tuple(pipeline.SERIES) == names == metrics.SERIES
    assert pipeline.CHARTS == (*names, "top_titles", "heatmap")
    assert build.CHART_KEYS == (*pipeline.CHARTS, *build.ENGAGEMENT_KEYS, *build.SERIES_KEYS, *build.BINGE_KEYS,
                                *build.AUDIENCE_KEYS, *build.VIEWER_KEYS)
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


def test_ratios_round_exactly_half_away_from_zero() -> None:
    # 0.125 as a double is exact; 1.005 is not (1.00499999...), but as a fraction of integers it is a half.
    assert metrics.Ratio(metrics.Sum("x"), metrics.Count(), digits=2).value(1, 8) == 0.13
    assert metrics.Ratio(metrics.Sum("x"), metrics.Count(), digits=2).value(201, 200) == 1.01
    assert round(201 / 200, 2) == 1.0  # what a float round would serve
    assert metrics.round_ratio(-1, 8, 2) == -13
    percentage = metrics.Ratio(metrics.Sum("done"), metrics.Count(), digits=2, multiplier=100)
    assert percentage.value(2, 3) == 66.67 and percentage.value(0, 3) == 0.0
    average = metrics.Ratio(metrics.Sum("units"), metrics.Count(), digits=3, divisor=10_000)
    assert average.value(255_001, 4) == 6.375  # 6.375025
    no_denominator = metrics.Ratio(metrics.Sum("f"), None, digits=2, divisor=10_000, plays=metrics.Count())
    assert no_denominator.value(38_667, 1, 3) == 3.87 and no_denominator.value(0, 1, 0) is None
    assert no_denominator.counted == metrics.Count()
    with pytest.raises(ValueError):
        metrics.round_ratio(1, 0, 2)


def test_uniform_bins_give_nearest_rank_quantiles_in_both_directions() -> None:
    p90 = metrics.Distribution("quality", q=0.9, bin_units=100)
    counts = {200: 1, 700: 1, 701: 1, 950: 1}  # 2.00, 7.00, 7.01, 9.50
    assert p90.bin_quantile(counts) == 9.5  # rank ceil(3.6) = 4
    assert p90.bin_quantile({550: 9, 720: 1}) == 5.5  # rank 9 of 10
    assert p90.bin_quantile({550: 8, 720: 2}) == 7.2
    assert p90.bin_quantile({}) is None
    better_high = metrics.Distribution("quality", q=0.9, bin_units=100, descending=True)
    assert better_high.bin_quantile(counts) == 2.0


def test_measure_settings_are_the_only_values_formatted_into_sql() -> None:
    assert metrics.DEFAULT_SETTINGS.sql_values() == {
        "min_minutes": "0", "watched": "900000", "poor": "70000", "poor_op": ">",
    }
    lenient = metrics.MeasureSettings(watched_threshold=85, poor_quality_threshold=3.5,
                                      errorperception_higher_is_worse=False, min_minutes=2)
    assert lenient.sql_values() == {"min_minutes": "2", "watched": "850000", "poor": "35000", "poor_op": "<"}
    assert metrics.quantise(89.99995) == 900_000 and metrics.quantise(89.99994) == 899_999


def test_engagement_measures_are_declared_and_served_by_name() -> None:
    assert metrics.ENGAGEMENT_SERIES == (
        "completion", "completion_rate", "full_watches", "quality", "poor_quality", "quality_p90",
    )
    for name in metrics.ENGAGEMENT_SERIES:
        assert metrics.measure(name).aggregation is not None
    # The overview's cards stay the three course measures.
    assert metrics.SERIES == ("unique_users", "minutes_watched", "plays")
