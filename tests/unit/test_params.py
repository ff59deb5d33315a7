"""Parameter parsing: one place that validates every selection."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from moviedash.errors import MoviedashError
from moviedash.params import (
    DATE_MAX,
    DATE_MIN,
    Filters,
    SeriesQuery,
    TopQuery,
    parse_date,
    parse_num,
    parse_rank,
    parse_resolution,
    parse_timeout,
    series_query_from_args,
    top_query_from_args,
)


def test_defaults():
    assert series_query_from_args({}) == (SeriesQuery("daily", Filters()), "json")
    assert top_query_from_args({}) == (TopQuery(10, "plays", Filters()), "json")


def test_full_series_query():
    query, fmt = series_query_from_args(
        {"resolution": ["weekly"], "start": ["2013-01-01"], "end": ["2013-02-01"],
         "device": ["iPad", "Computer", "iPad"], "market": ["NO"], "format": ["csv"]}
    )
    assert fmt == "csv"
    assert query == SeriesQuery(
        "weekly",
        Filters(dt.date(2013, 1, 1), dt.date(2013, 2, 1), (), ("Computer", "iPad"), ("NO",)),
    )


def test_equal_selections_compare_equal_whatever_the_order():
    a = Filters.create(device=["iPad", "TV"], market="NO")
    b = Filters.create(device=["TV", "iPad", "TV"], market=["NO"])
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize(
    "value", ["0", "1001", "-1", "abc", "", "1.5", "1e3", " ", "99999999999999999999", None, True, 2.0, [5]]
)
def test_num_out_of_range_or_not_an_integer(value):
    with pytest.raises(MoviedashError) as info:
        parse_num(value)
    assert info.value.parameter == "num" and info.value.status == 400


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("1000", 1000), (" 7 ", 7), (50, 50)])
def test_num_accepts_integers(value, expected):
    assert parse_num(value) == expected


@pytest.mark.parametrize("value", ["Daily", "yearly", "", None, 1, ["daily"]])
def test_bad_resolution(value):
    with pytest.raises(MoviedashError, match="resolution must be one of daily, weekly, monthly"):
        parse_resolution(value)


def test_bad_rank():
    with pytest.raises(MoviedashError) as info:
        parse_rank("title")
    assert info.value.parameter == "rank"


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ({"start": ["2013-02-30"]}, "start"),
        ({"start": ["20130101"]}, "start"),
        ({"end": ["2013-1-1"]}, "end"),
        ({"start": ["2013-02-01"], "end": ["2013-01-01"]}, "end"),
        ({"start": ["2013-01-01", "2013-01-02"]}, "start"),
        ({"device": [""]}, "device"),
        ({"market": ["x" * 201]}, "market"),
        ({"sessiontype": ["MOVIE"] * 101}, "sessiontype"),
        ({"resolution": ["daily", "weekly"]}, "resolution"),
        ({"format": ["xml"]}, "format"),
        ({"colour": ["red"]}, "colour"),
        ({"num": ["5"]}, "num"),  # num belongs to the top list only
    ],
)
def test_series_errors_name_the_parameter(args, parameter):
    with pytest.raises(MoviedashError) as info:
        series_query_from_args(args)
    assert info.value.parameter == parameter
    assert info.value.to_dict()["parameter"] == parameter


def test_error_shape_is_pinned():
    error = MoviedashError("resolution must be one of daily, weekly, monthly", parameter="resolution")
    assert error.to_dict() == {"error": "resolution must be one of daily, weekly, monthly", "parameter": "resolution"}
    assert MoviedashError("not found", status=404).to_dict() == {"error": "not found"}


@pytest.mark.parametrize(
    "value", ["0465-12-24", "0001-01-01", "1899-12-31", "2100-01-01", "9999-12-31", dt.date(1, 1, 1)]
)
def test_dates_outside_the_supported_range_are_rejected(value):
    # Years before 1000 came back unpadded ("465-12-24"), 9999-12-31 overflowed into a 500
    # and wide ranges zero-filled millions of rows.
    with pytest.raises(MoviedashError) as info:
        parse_date(value, "start")
    assert info.value.parameter == "start"
    assert info.value.message == "start must be a date from 1900-01-01 to 2099-12-31"
    with pytest.raises(MoviedashError):
        series_query_from_args({"end": [str(value)]})


def test_dates_at_the_range_bounds_are_accepted():
    assert parse_date("1900-01-01", "start") == DATE_MIN
    assert parse_date("2099-12-31", "end") == DATE_MAX
    query, _ = series_query_from_args({"start": ["1900-01-01"], "end": ["2099-12-31"]})
    assert (query.filters.start, query.filters.end) == (DATE_MIN, DATE_MAX)


# Unicode digits ("５", Arabic-Indic "٥", Devanagari "५", mathematical "𝟓") are digits to
# Python's \d and int(); a sign is not part of a count.  Only ASCII 0-9 are accepted.
NOT_ASCII_INTEGERS = ["５", "٥", "५", "𝟓", "1５", "１０", "+5", "-5", "+0005", "5\u200b", "٣٠"]


@pytest.mark.parametrize("value", NOT_ASCII_INTEGERS)
def test_num_refuses_unicode_digits_and_signs(value):
    with pytest.raises(MoviedashError) as info:
        parse_num(value)
    assert info.value.parameter == "num" and info.value.status == 400
    with pytest.raises(MoviedashError):
        top_query_from_args({"num": [value]})


@pytest.mark.parametrize("value", ["２０１３-01-01", "2013-0١-01", "2013-01-0５", "+2013-01-01", "2013-01-01\n"])
def test_dates_refuse_unicode_digits(value):
    with pytest.raises(MoviedashError) as info:
        parse_date(value, "start")
    assert info.value.parameter == "start"


@pytest.mark.parametrize(
    "value",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "-5",
        "-0.1",
        "1e400",
        "86401",
        "５",
        "",
        "soon",
        float("nan"),
        float("inf"),
        -1,
        True,
        None,
    ],
)
def test_query_timeout_refuses_values_that_disable_the_limit(value):
    with pytest.raises(MoviedashError) as info:
        parse_timeout(value)
    assert "MOVIEDASH_QUERY_TIMEOUT must be a number of seconds from 0 (no limit) to 86,400" in info.value.message


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0.0), ("2.5", 2.5), (" 10 ", 10.0), (5, 5.0), ("1e-3", 0.001), ("86400", 86400.0)]
)
def test_query_timeout_accepts_finite_seconds(value, expected):
    assert parse_timeout(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "start: 2024-02-30 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
        ("2023-02-29", "start: 2023-02-29 is not a real date (expected YYYY-MM-DD, e.g. 2023-02-28)"),
        ("2013-04-31", "start: 2013-04-31 is not a real date (expected YYYY-MM-DD, e.g. 2013-04-30)"),
        ("2013-00-10", "start: 2013-00-10 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
        ("2013-1-7", "start: '2013-1-7' is not a date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
        ("yesterday", "start: 'yesterday' is not a date (expected YYYY-MM-DD, e.g. 2024-02-29)"),
    ],
)
def test_dates_that_do_not_exist_say_so_with_an_example(value, message):
    with pytest.raises(MoviedashError) as info:
        parse_date(value, "start")
    assert (info.value.message, info.value.parameter) == (message, "start")
    with pytest.raises(MoviedashError) as info:
        series_query_from_args({"start": [value]})
    assert info.value.message == message


def test_the_api_the_cli_and_the_loader_word_a_date_that_does_not_exist_alike():
    from click.testing import CliRunner

    from moviedash.cli import main
    from moviedash.ingest.loader import date_reason

    wording = "2024-02-30 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)"
    with pytest.raises(MoviedashError, match=rf"^start: {re.escape(wording)}$"):
        parse_date("2024-02-30", "start")
    assert f"Invalid value for '--end': {wording}" in CliRunner().invoke(main, ["report", "--end", "2024-02-30"]).output
    assert date_reason("2024-02-30") == wording
