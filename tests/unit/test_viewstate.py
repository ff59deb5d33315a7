"""The dashboard's query string <-> view state, both ways (pure, no data)."""
from __future__ import annotations

import datetime as dt

import pytest

from moviedash.errors import MoviedashError
from moviedash.metrics import SERIES_KEYS
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.viewstate import KEYS, TOP_MAX, ViewState, parse_query, to_query

ISSUE_URL = (
    "?users=weekly&minutes=monthly&top=5&rank=plays&start=2013-03-01&end=2013-06-30"
    "&sessiontype=MOVIE&device=iPad&market=NO"
)


def test_the_defaults_are_the_plain_page() -> None:
    assert to_query(ViewState()) == ""
    assert parse_query("") == (ViewState(), ())
    assert parse_query(None) == (ViewState(), ())
    assert parse_query("?") == (ViewState(), ())
    default = ViewState()
    assert (default.resolution("users"), default.resolution("minutes"), default.top, default.rank) == (
        "daily", "daily", 10, "plays")
    assert default.filters == Filters()


def test_the_issue_example_is_read_exactly() -> None:
    state, ignored = parse_query(ISSUE_URL)
    assert ignored == ()
    assert state == ViewState(
        users="weekly", minutes="monthly", top=5, rank="plays",
        start=dt.date(2013, 3, 1), end=dt.date(2013, 6, 30),
        sessiontype="MOVIE", device=("iPad",), market=("NO",),
    )
    # rank=plays is the default, so the canonical URL leaves it out.
    assert to_query(state) == ISSUE_URL.replace("&rank=plays", "")


@pytest.mark.parametrize(
    "state",
    [
        ViewState(),
        ViewState(users="monthly"),
        ViewState(minutes="weekly", top=1, rank="viewers"),
        ViewState(top=TOP_MAX, rank="minutes", start=dt.date(2013, 1, 1)),
        ViewState(end=dt.date(2013, 2, 28), sessiontype="SERIES"),
        ViewState(device=("Computer", "Smart TV", "iPad"), market=("DK", "NO", "SE")),  # sorted, as read
        ViewState(device=("Tv & Co/1?",), market=("Åland",), sessiontype="Kort film"),
    ],
)
def test_round_trip(state: ViewState) -> None:
    query = to_query(state)
    assert parse_query(query) == (state, ())
    assert to_query(parse_query(query)[0]) == query


def test_keys_are_written_in_a_fixed_order_and_multi_values_repeat() -> None:
    state = ViewState(market=("NO", "SE"), device=("iPad",), users="weekly", end=dt.date(2013, 5, 1))
    assert to_query(state) == "?users=weekly&end=2013-05-01&device=iPad&market=NO&market=SE"
    order = [pair.split("=")[0] for pair in to_query(ViewState(
        **dict.fromkeys(SERIES_KEYS, "weekly"), top=3, rank="minutes", group="shows", start=dt.date(2013, 1, 2),
        end=dt.date(2013, 1, 3), sessiontype="MOVIE", device=("a",), market=("b",),
    )).lstrip("?").split("&")]
    assert order == list(KEYS)


def test_repeated_values_are_sorted_and_deduplicated_on_reading() -> None:
    state, ignored = parse_query("?device=iPad&device=Computer&device=iPad")
    assert (state.device, ignored) == (("Computer", "iPad"), ())


def test_special_characters_are_encoded() -> None:
    query = to_query(ViewState(device=("Smart TV",), market=("A&B=C",)))
    assert query == "?device=Smart+TV&market=A%26B%3DC"
    assert parse_query(query)[0].market == ("A&B=C",)


@pytest.mark.parametrize(
    ("query", "ignored"),
    [
        ("?users=hourly", ("users",)),
        ("?minutes=", ("minutes",)),
        ("?top=0", ("top",)),
        ("?top=51", ("top",)),
        ("?top=five", ("top",)),
        ("?top=5&top=6", ("top",)),
        ("?rank=popularity", ("rank",)),
        ("?start=2013-02-30", ("start",)),
        ("?end=01/03/2013", ("end",)),
        ("?sessiontype=", ("sessiontype",)),
        ("?sessiontype=MOVIE&sessiontype=SERIES", ("sessiontype",)),
        ("?device=", ("device",)),
        ("?market=" + "x" * 201, ("market",)),
        ("?colour=red", ("colour",)),
    ],
)
def test_bad_values_are_ignored_and_reported(query: str, ignored: tuple[str, ...]) -> None:
    assert parse_query(query) == (ViewState(), ignored)


def test_good_values_survive_next_to_bad_ones() -> None:
    state, ignored = parse_query("?users=weekly&top=500&rank=bogus&device=iPad&colour=red")
    assert state == ViewState(users="weekly", device=("iPad",))
    assert set(ignored) == {"top", "rank", "colour"}


def test_an_end_before_the_start_is_dropped() -> None:
    state, ignored = parse_query("?start=2013-03-01&end=2013-02-01")
    assert (state.start, state.end, ignored) == (dt.date(2013, 3, 1), None, ("end",))


def test_absurdly_many_fields_are_refused() -> None:
    assert parse_query("&".join(["device=a"] * 500)) == (ViewState(), ("query",))


def test_the_state_gives_the_queries_of_the_charts() -> None:
    state = ViewState(users="weekly", minutes="monthly", top=7, rank="viewers",
                      start=dt.date(2013, 1, 1), sessiontype="MOVIE", market=("NO",))
    filters = Filters(start=dt.date(2013, 1, 1), sessiontype=("MOVIE",), market=("NO",))
    assert state.filters == filters
    assert state.series_query("users") == SeriesQuery("weekly", filters)
    assert state.series_query("minutes") == SeriesQuery("monthly", filters)
    assert state.top_query() == TopQuery(7, "viewers", filters)


def test_the_top_lists_group_is_part_of_the_address() -> None:
    state, ignored = parse_query("?group=shows&rank=viewers")
    assert (state.group, ignored) == ("shows", ())
    assert state.top_query().group == "shows" and state.top_query().rank == "viewers"
    assert to_query(state) == "?rank=viewers&group=shows"
    assert to_query(ViewState(group="titles")) == ""  # the default is left out
    # Lenient for a shared link, strict for API callers.
    assert parse_query("?group=episodes") == (ViewState(), ("group",))
    with pytest.raises(MoviedashError) as bad:
        parse_query("?group=episodes", strict=True)
    assert bad.value.parameter == "group"
