"""Data-quality settings (issue 14): what counts as a play and as a viewer, on both backends.

Hand-worked numbers over :data:`EVENTS`, checked against the plain-Python
reference (tests/reference.py), from the rollups and from the raw SQL.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from moviedash import analysis, dataquality, rollups
from moviedash import settings as data_settings
from moviedash.cli import main
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.store import connect_readonly, dialect_of
from tests import reference as ref
from tests.helpers import event, query, write_sql

ANON = data_settings.ANONYMOUS_USER
EVENTS = [
    event("2013-01-01 10:00:00", "u1", minutes=10, title="A"),
    event("2013-01-01 11:00:00", "u2", minutes=5, title="A"),
    event("2013-01-01 12:00:00", ANON, minutes=20, title="B"),
    event("2013-01-01 13:00:00", "u3", minutes=0, title="B"),
    event("2013-01-02 10:00:00", "u1", minutes=4, title="B"),
    event("2013-01-02 11:00:00", ANON, minutes=4, title="A"),
    event("2013-01-02 12:00:00", "u4", minutes=None, title="C"),
    event("2013-01-02 13:00:00", "u2", minutes=30, title="C", viewpercentage=104.5),
    event("2013-01-02 14:00:00", "u3", minutes=5, title="C", viewpercentage=100.0),
]


@pytest.fixture(params=["rollups", "raw"])
def source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(make_db: Any, source: str) -> Any:
    """:data:`EVENTS` in a database answered from its rollups, or (rollups removed) from the raw table."""
    path = make_db(EVENTS)
    conn = connect_readonly(path)
    has_rollups = rollups.status(conn) is not None
    conn.close()
    assert has_rollups  # both backends keep rollups
    if source == "raw":
        write_sql(path, "DROP TABLE md_meta")
    return path


def answers(path: Any) -> dict[str, Any]:
    """What the routes answer: totals, per-day series, top lists, heatmap, span."""
    conn = connect_readonly(path)
    try:
        daily = SeriesQuery("daily", Filters())
        out: dict[str, Any] = {
            "totals": analysis.totals(conn, Filters()),
            "source": "rollups" if (rollups.status(conn) or rollups.Status("", 0, 0, False)).usable else "raw",
        }
        for name in ("unique_users", "plays", "minutes_watched"):
            out[name] = analysis.series(conn, name, daily)["values"].tolist()
        for rank in ("plays", "minutes", "viewers"):
            frame = analysis.toplist(conn, TopQuery(10, rank, Filters()))
            out[f"top:{rank}"] = dict(zip(frame["title"], frame["values"].tolist(), strict=True))
        # A filtered selection too: not the stored default rows.
        one_day = Filters(start=ref.dt.date(2013, 1, 2), end=ref.dt.date(2013, 1, 2))
        out["day2"] = analysis.totals(conn, one_day)
        frame = analysis.toplist(conn, TopQuery(10, "viewers", one_day))
        out["top:viewers:day2"] = dict(zip(frame["title"], frame["values"].tolist(), strict=True))
        out["heatmap"] = int(analysis.heatmap(conn, Filters()).to_numpy().sum())
        out["span"] = analysis.span(conn).events
        return out
    finally:
        conn.close()


def set_value(path: Any, name: str, text: str) -> dataquality.Change:
    return dataquality.change(path, name, data_settings.parse(name, text))


def test_hand_worked_numbers_equal_the_reference() -> None:
    """The fixture's numbers, worked by hand, are the reference's (so the checks below test the product)."""
    exclude = ref.Settings(exclude_users=frozenset({ANON}))
    short = ref.Settings(min_minutes=5)
    assert ref.viewers(EVENTS) == 5 and ref.viewers(EVENTS, exclude) == 4 and ref.viewers(EVENTS, short) == 4
    assert len(ref.plays(EVENTS)) == 9 and len(ref.plays(EVENTS, short)) == 5
    assert ref.minutes_watched(EVENTS) == 78
    assert ref.anonymous_plays(EVENTS, exclude) == 2
    assert ref.anonymous_plays(EVENTS, ref.Settings(min_minutes=5, exclude_users=frozenset({ANON}))) == 1
    assert ref.capped_rows(EVENTS) == 1


def test_defaults_reproduce_todays_answers(db: Any, source: str) -> None:
    got = answers(db)
    assert got["source"] == source
    assert got["totals"] == analysis.Totals(viewers=5, plays=9, minutes=78)
    assert got["unique_users"] == [4, 5] and got["plays"] == [4, 5] and got["minutes_watched"] == [35, 43]
    assert got["top:plays"] == {"A": 3, "B": 3, "C": 3}
    assert got["top:viewers"] == {"A": 3, "B": 3, "C": 3}
    # Setting every value to its default (and back) stores nothing and changes nothing.
    set_value(db, "min_minutes", "0")
    set_value(db, "exclude_users", "none")
    assert query(db, "SELECT count(*) FROM moviedash_settings") == [(0,)]
    assert answers(db) == got


def test_exclude_users_drops_exactly_them_from_viewer_counts(db: Any, source: str) -> None:
    before = answers(db)
    done = set_value(db, "exclude_users", ANON)
    assert done.rebuilt == (source == "rollups")
    got = answers(db)
    assert got["source"] == source
    settings = ref.Settings(exclude_users=frozenset({ANON}))
    assert got["totals"] == analysis.Totals(viewers=ref.viewers(EVENTS, settings), plays=9, minutes=78)
    assert got["totals"].viewers == before["totals"].viewers - 1
    assert got["unique_users"] == [3, 4]  # ANON watched on both days
    assert got["top:viewers"] == {"C": 3, "A": 2, "B": 2}
    assert got["day2"] == analysis.Totals(viewers=4, plays=5, minutes=43)
    assert got["top:viewers:day2"] == {"C": 3, "B": 1}
    # Plays and minutes do not move: the excluded users' plays are anonymous plays.
    for same in ("plays", "minutes_watched", "top:plays", "top:minutes", "heatmap", "span"):
        assert got[same] == before[same], same


def test_min_minutes_events_of_exactly_it_are_plays_and_minutes_do_not_move(db: Any, source: str) -> None:
    before = answers(db)
    set_value(db, "min_minutes", "5")
    got = answers(db)
    assert got["source"] == source
    settings = ref.Settings(min_minutes=5)
    assert got["totals"] == analysis.Totals(
        viewers=ref.viewers(EVENTS, settings), plays=len(ref.plays(EVENTS, settings)),
        minutes=ref.minutes_watched(EVENTS))
    assert got["totals"] == analysis.Totals(viewers=4, plays=5, minutes=78)
    assert got["plays"] == [3, 2]  # 10, 5 (exactly 5), 20 | 30, 5 (exactly 5); not 0, 4, 4, NULL
    assert got["unique_users"] == [3, 2]
    assert got["top:plays"] == {"A": 2, "C": 2, "B": 1}
    assert got["minutes_watched"] == before["minutes_watched"] and got["top:minutes"] == before["top:minutes"]
    assert got["heatmap"] == 5 and got["span"] == 5
    assert got["top:viewers:day2"] == {"C": 2} and got["top:plays"]["B"] == 1  # day 2's A and B: no play
    assert got["day2"] == analysis.Totals(viewers=2, plays=2, minutes=43)
    # Both settings together.
    set_value(db, "exclude_users", ANON)
    both = ref.Settings(min_minutes=5, exclude_users=frozenset({ANON}))
    assert answers(db)["totals"] == analysis.Totals(viewers=ref.viewers(EVENTS, both), plays=5, minutes=78)
    conn = connect_readonly(db)
    try:
        about = dataquality.about(conn)
    finally:
        conn.close()
    assert (about.events, about.anonymous_plays, about.anonymous_id_events, about.capped_rows) == (
        9, ref.anonymous_plays(EVENTS, both), 2, ref.capped_rows(EVENTS, both))


def test_a_failed_rebuild_leaves_settings_and_rollups_as_they_were(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    set_value(db, "min_minutes", "5")
    before = answers(db)
    stored = query(db, "SELECT key, value FROM moviedash_settings ORDER BY key")
    real = rollups.rebuild

    def rebuild_then_fail(conn: Any, dialect: Any = None) -> bool:
        real(conn, dialect)  # every rollup rewritten with the new settings, then:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "rebuild", rebuild_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        set_value(db, "exclude_users", ANON)
    assert query(db, "SELECT key, value FROM moviedash_settings ORDER BY key") == stored
    analysis.CACHE.clear()
    assert answers(db) == before


def test_rollups_a_load_adds_follow_the_settings(make_db: Any, tmp_path: Path) -> None:
    """Rows a later load streams through the aggregator are counted by the settings in force."""
    path = make_db(EVENTS[:4])
    set_value(path, "exclude_users", ANON)
    set_value(path, "min_minutes", "5")
    csv_path = tmp_path / "more.csv"
    csv_path.write_text(
        f"2013-01-02 11:00:00,{ANON},c,Computer,NO,40,,,,MOVIE,A,,\n"
        "2013-01-02 12:00:00,u5,c,Computer,NO,4,,,,MOVIE,A,,\n"
        "2013-01-02 13:00:00,u6,c,Computer,NO,5,,,,MOVIE,B,,\n"
    )
    result = CliRunner().invoke(main, ["load", str(csv_path), "--db", str(path)])
    assert result.exit_code == 0, result.output
    settings = ref.Settings(min_minutes=5, exclude_users=frozenset({ANON}))
    everything = [*EVENTS[:4], event("2013-01-02 11:00:00", ANON, minutes=40),
                  event("2013-01-02 12:00:00", "u5", minutes=4), event("2013-01-02 13:00:00", "u6", minutes=5)]
    got = answers(path)
    assert got["totals"] == analysis.Totals(ref.viewers(everything, settings), len(ref.plays(everything, settings)),
                                            ref.minutes_watched(everything))
    assert got["unique_users"] == [2, 1] and got["plays"] == [3, 2]
    if got["source"] == "rollups":
        write_sql(path, "DROP TABLE md_meta")
    assert answers(path)["totals"] == got["totals"]  # the raw SQL agrees


# --------------------------------------------------------------------------- #
# The command line.
# --------------------------------------------------------------------------- #


def test_settings_show_set_reset_round_trip(make_db: Any) -> None:
    path = str(make_db(EVENTS))
    runner = CliRunner()
    shown = runner.invoke(main, ["settings", "show", "--db", path])
    assert shown.exit_code == 0, shown.output
    for declared in data_settings.SETTINGS:
        assert f"{declared.name} = {declared.show(declared.default)} (default)" in shown.output
        assert declared.help in shown.output
    assert "9 events; 0 anonymous plays" in shown.output and "1 play with viewpercentage above 100" in shown.output
    changed = runner.invoke(main, ["settings", "set", "watched_threshold", "85", "--db", path])
    assert changed.exit_code == 0, changed.output
    assert changed.output.startswith("watched_threshold: 90 -> 85 in ")
    excluded = runner.invoke(main, ["settings", "set", "exclude_users", f"{ANON},u9", "--db", path])
    assert excluded.exit_code == 0, excluded.output
    shown = runner.invoke(main, ["settings", "show", "--db", path])
    assert "watched_threshold = 85\n" in shown.output and f"exclude_users = {ANON},u9\n" in shown.output
    assert "2 anonymous plays" in shown.output
    conn = connect_readonly(path)
    try:
        assert data_settings.load(conn) == data_settings.Settings(watched_threshold=85.0,
                                                                  exclude_users=frozenset({ANON, "u9"}))
    finally:
        conn.close()
    for name in ("watched_threshold", "exclude_users"):
        reset = runner.invoke(main, ["settings", "reset", name, "--db", path])
        assert reset.exit_code == 0, reset.output
    assert query(path, "SELECT count(*) FROM moviedash_settings") == [(0,)]
    assert "watched_threshold = 90 (default)" in runner.invoke(main, ["settings", "show", "--db", path]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "min_minute", "5"], "unknown setting 'min_minute'; settings: min_minutes, "),
        (["set", "min_minutes", "--", "-1"], "min_minutes: '-1' must be a whole number of minutes from 0 to 100,000"),
        (["set", "min_minutes", "2.5"], "min_minutes: '2.5' not a whole number"),
        (["set", "watched_threshold", "101"], "watched_threshold: '101' must be a percentage above 0 and at most 100"),
        (["set", "watched_threshold", "nan"], "watched_threshold: 'nan' must be a percentage"),
        (["set", "poor_quality_threshold", "inf"], "poor_quality_threshold: 'inf' must be a finite number"),
        (["set", "errorperception_higher_is_worse", "maybe"],
         "errorperception_higher_is_worse: 'maybe' not true or false"),
        (["reset", "nope"], "unknown setting 'nope'"),
    ],
)
def test_bad_keys_and_values_are_one_line_and_exit_status_2(make_db: Any, args: list[str], message: str) -> None:
    path = str(make_db(EVENTS))
    before = query(path, "SELECT count(*) FROM moviedash_settings")
    result = CliRunner().invoke(main, ["settings", args[0], "--db", path, *args[1:]])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}"), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert query(path, "SELECT count(*) FROM moviedash_settings") == before


def test_the_load_names_the_anonymous_id_and_the_capped_rows(db_target: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(db_target("n.db"))
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        f"2013-01-22 17:20:56,{ANON},c1,Computer,NO,29,,,,,,,\n"
        f"2013-01-22 18:20:56,{ANON},c1,Computer,NO,29,90,100.00004,,MOVIE,Argo,,\n"
        "2013-01-22 19:20:56,u1,c1,Computer,NO,29,90,104.5,,MOVIE,Argo,,\n"
        "2013-01-22 20:20:56,u2,c1,Computer,NO,29,90,100.0001,,MOVIE,Argo,,\n"
        "2013-01-22 21:20:56,u3,c1,Computer,NO,29,90,bad,,MOVIE,Argo,,\n"
    )
    runner = CliRunner()
    result = runner.invoke(main, ["load", str(csv_path), "--db", path])
    assert result.exit_code == 1, result.output  # the bad row is rejected: its 'capped' value is not counted
    lines = result.output.splitlines()
    notice = next(line for line in lines if "anonymous user id" in line)
    assert notice.startswith(f"2 events have the anonymous user id {ANON}; to leave it out of viewer counts: ")
    assert "2 rows with viewpercentage above 100 (capped at 100 for completion)" in lines
    # The command runs as printed (the program's own path first).
    command = shlex.split(notice.split("viewer counts: ", 1)[1])
    assert command[1:5] == ["settings", "set", "exclude_users", ANON] and command[-2] == "--db"
    ran = runner.invoke(main, command[1:])
    assert ran.exit_code == 0, ran.output
    conn = connect_readonly(path)
    try:
        assert analysis.totals(conn, Filters()).viewers == 2
    finally:
        conn.close()
    # A later load sees that it is left out.
    more = tmp_path / "more.csv"
    more.write_text(f"2013-01-23 17:20:56,{ANON},c1,Computer,NO,29,,,,,,,\n")
    again = runner.invoke(main, ["load", str(more), "--db", path])
    assert (f"1 event has the anonymous user id {ANON}; left out of viewer counts (setting exclude_users)"
            in again.output)


def test_report_has_an_about_this_data_section(make_db: Any) -> None:
    from moviedash.report.build import ReportSpec, render_html

    path = make_db(EVENTS)
    set_value(path, "min_minutes", "5")
    conn = connect_readonly(path)
    try:
        page = render_html(conn, ReportSpec())
    finally:
        conn.close()
    heading = '<section class="about" id="about-this-data"><h2>About this data</h2>'
    section = page.split(heading, 1)[1].split("</section>")[0]
    assert "<li>min_minutes = 5 (default 0): Events shorter than this are not plays" in section
    assert "<li>exclude_users = none (default): " in section
    assert ("9 events in the database; 0 anonymous plays (of excluded users); "
            "1 play with viewpercentage above 100") in section
    assert f"2 events with the anonymous user id {ANON}, which counts as one viewer" in section


def test_settings_are_read_per_connection_not_cached_across_changes(make_db: Any) -> None:
    path = make_db(EVENTS)
    conn = connect_readonly(path)
    try:
        assert data_settings.load(conn) == data_settings.DEFAULT
        assert dialect_of(conn).table_exists_sql
    finally:
        conn.close()
    set_value(path, "poor_quality_threshold", "6.5")
    conn = connect_readonly(path)
    try:
        assert data_settings.load(conn).poor_quality_threshold == 6.5
    finally:
        conn.close()
