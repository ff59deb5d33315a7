"""The CSV loader: both CSV forms, every kind of bad row, strict, rejects, the ledger, atomicity."""
from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest

from moviedash import create_app
from moviedash.errors import MoviedashError
from moviedash.escapes import decode_escapes
from moviedash.ingest.loader import RAW_CHARS, load_files
from tests.helpers import query

GOOD = [
    "2013-01-22 17:20:56,u1,c1,Computer,NO,29,,,,,,,",
    '2013-03-09 16:33:25,u2,c2,iPad,SE,87,89,97.7528,,MOVIE,"Sommaren p<e5> landet",,',
    '2013-03-10 20:10:48,u3,c3,Computer,NO,21,21,100,,SERIES,"Solsidan, F<f6>rlossning",1,10',
]


def write(tmp_path: Path, lines: list[str], name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(db: Path | str, sql: str = "SELECT * FROM movies ORDER BY event_date") -> list[tuple]:
    return query(db, sql)


def test_course_format_is_loaded_with_types_nulls_and_decoded_titles(db_target, tmp_path):
    db = db_target()
    report = load_files(db, [write(tmp_path, GOOD)])
    assert (report.loaded, report.rejected, report.committed) == (3, 0, True)
    assert report.files[0].rejects_path is None
    assert rows(db) == [
        ("2013-01-22 17:20:56", "u1", "c1", "Computer", "NO", 29, None, None, None, None, None, None, None),
        (
            "2013-03-09 16:33:25",
            "u2",
            "c2",
            "iPad",
            "SE",
            87,
            89,
            97.7528,
            None,
            "MOVIE",
            "Sommaren på landet",
            None,
            None,
        ),
        (
            "2013-03-10 20:10:48",
            "u3",
            "c3",
            "Computer",
            "NO",
            21,
            21,
            100.0,
            None,
            "SERIES",
            "Solsidan, Förlossning",
            1,
            10,
        ),
    ]
    if isinstance(db, Path):
        assert rows(db, "SELECT typeof(totalminuteswatched), typeof(viewpercentage) FROM movies LIMIT 1") == [
            ("integer", "null")
        ]
        assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    else:  # the types: timestamps as timestamp, numbers as integer/double
        assert rows(
            db,
            "SELECT pg_typeof(event_date)::text, pg_typeof(totalminuteswatched)::text, "
            "pg_typeof(viewpercentage)::text FROM movies LIMIT 1",
        ) == [("timestamp without time zone", "integer", "double precision")]


def test_header_form_in_any_order_with_missing_optional_columns(db_target, tmp_path):
    db = db_target()
    path = write(
        tmp_path,
        [
            "title,userid,EVENT_DATE,totalminuteswatched",
            "Argo,u1,2013-01-01T10:00:00,5",
            "Argo,u2,2013-01-02 10:00:00.123456,7",
            ",u3,2013-01-03,9",
        ],
    )
    report = load_files(db, [path])
    assert (report.loaded, report.rejected) == (3, 0)
    assert rows(db, "SELECT event_date, userid, title, totalminuteswatched, device FROM movies ORDER BY 1") == [
        ("2013-01-01 10:00:00", "u1", "Argo", 5, None),
        ("2013-01-02 10:00:00", "u2", "Argo", 7, None),
        ("2013-01-03 00:00:00", "u3", None, 9, None),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("event_date,userid,colour", "unknown column(s) in header: 'colour'"),
        ("event_date,userid,userid", "named twice"),
        ("event_date,title", "lacks required column(s): userid"),
    ],
)
def test_bad_headers_are_errors_and_nothing_is_written(db_target, tmp_path, header, message):
    db = db_target()
    load_files(db, [write(tmp_path, GOOD, "first.csv")])
    with pytest.raises(MoviedashError, match=re.escape(message)):
        load_files(db, [write(tmp_path, [header, "2013-01-01 00:00:00,u1,x"], "bad.csv")])
    assert len(rows(db)) == 3


BAD_ROWS = [
    (
        "2013-02-30 10:00:00,u,c,Computer,NO,1,,,,,,,",
        "event_date 2013-02-30 10:00:00 is not a real date (expected YYYY-MM-DD, e.g. 2013-02-28)",
    ),
    (
        "2024-02-30,u,c,Computer,NO,1,,,,,,,",
        "event_date 2024-02-30 is not a real date (expected YYYY-MM-DD, e.g. 2024-02-29)",
    ),
    (
        "2013-01-01 25:00:00,u,c,Computer,NO,1,,,,,,,",
        "event_date '2013-01-01 25:00:00' is not a date and time (expected YYYY-MM-DD HH:MM:SS",
    ),
    (
        "yesterday,u,c,Computer,NO,1,,,,,,,",
        "event_date 'yesterday' is not a date (expected YYYY-MM-DD, e.g. 2024-02-29)",
    ),
    (
        "2013-01-01 10:00:00+02:00,u,c,Computer,NO,1,,,,,,,",
        "event_date '2013-01-01 10:00:00+02:00' is not a date and time",
    ),
    (",u,c,Computer,NO,1,,,,,,,", "event_date is empty"),
    ("2013-01-01 10:00:00,,c,Computer,NO,1,,,,,,,", "userid is empty"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,ten,,,,,,,", "totalminuteswatched is not an integer: 'ten'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1.5,,,,,,,", "totalminuteswatched is not an integer: '1.5'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,-3,,,,,,,", "totalminuteswatched is negative: '-3'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1,abc,,,,,,", "runningtime is not an integer: 'abc'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1,10,1O.5,,,,,", "viewpercentage is not a number: '1O.5'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1,10,inf,,,,,", "viewpercentage is not a number: 'inf'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1,10,5,,MOVIE,T,x,", "seasonnumber is not an integer: 'x'"),
    ("2013-01-01 10:00:00,u,c,Computer,NO", "expected 13 fields, found 5"),
    ("2013-01-01 10:00:00,u,c,Computer,NO,1,,,,,,,,extra", "expected 13 fields, found 14"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_ROWS)
def test_each_kind_of_bad_row_is_rejected_with_line_number_and_reason(db_target, tmp_path, line, reason):
    db = db_target()
    path = write(tmp_path, [GOOD[0], line, GOOD[1]])
    report = load_files(db, [path])
    assert (report.loaded, report.rejected, report.committed) == (2, 1, True)
    assert report.files[0].rejects_path == tmp_path / "events.rejects.csv"
    with open(report.files[0].rejects_path, newline="", encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert len(rejects) == 1
    assert rejects[0]["line"] == "2"
    assert rejects[0]["reason"].startswith(reason)
    assert rejects[0]["file"] == str(path)
    assert next(csv.reader([rejects[0]["raw"]])) == next(csv.reader([line]))
    assert len(rows(db)) == 2


def test_line_numbers_count_physical_lines_with_quoted_newlines_and_blank_lines(db_target, tmp_path):
    db = db_target()
    path = write(
        tmp_path,
        [
            "event_date,userid,title,totalminuteswatched",
            '2013-01-01 10:00:00,u1,"A title\nover two lines",5',
            "",
            " \t ",
            "2013-01-01 10:00:00,u2,B,five",
            "2013-01-01 10:00:00,u3,C",
        ],
    )
    report = load_files(db, [path])
    assert (report.loaded, report.rejected) == (1, 2)  # blank lines are skipped, not rejected
    with open(report.files[0].rejects_path, newline="", encoding="utf-8") as fh:
        found = [(r["line"], r["reason"]) for r in csv.DictReader(fh)]
    assert found == [
        ("6", "totalminuteswatched is not an integer: 'five'"),
        ("7", "expected 4 fields, found 3"),
    ]
    assert rows(db, "SELECT title FROM movies") == [("A title\nover two lines",)]


def test_strict_writes_nothing_when_a_row_is_bad(db_target, tmp_path):
    db = db_target()
    load_files(db, [write(tmp_path, GOOD[:1], "first.csv")])
    report = load_files(db, [write(tmp_path, [GOOD[1], "bad,row", GOOD[2]])], strict=True)
    # Nothing is written, but the count of valid rows is the real one.
    assert (report.committed, report.loaded, report.rejected) == (False, 2, 1)
    assert report.files[0].rejects_path.exists()
    assert len(rows(db)) == 1
    assert rows(db, "SELECT count(*) FROM moviedash_loads") == [(1,)]


def test_rejects_option_collects_every_file(db_target, tmp_path):
    db = db_target()
    a = write(tmp_path, [GOOD[0], "bad"], "a.csv")
    b = write(tmp_path, ["worse", GOOD[1]], "b.csv")
    out = tmp_path / "all-rejects.csv"
    report = load_files(db, [a, b], rejects=out)
    assert (report.loaded, report.rejected) == (2, 2)
    with open(out, newline="", encoding="utf-8") as fh:
        found = [(r["file"], r["line"]) for r in csv.DictReader(fh)]
    assert found == [(str(a), "2"), (str(b), "1")]


def test_loading_the_same_content_again_is_refused_unless_forced(db_target, tmp_path):
    db = db_target()
    first = write(tmp_path, GOOD, "first.csv")
    load_files(db, [first])
    copy = write(tmp_path, GOOD, "renamed-copy.csv")
    with pytest.raises(MoviedashError, match="already loaded"):
        load_files(db, [copy])
    assert len(rows(db)) == 3
    report = load_files(db, [copy], force=True)
    assert report.loaded == 3 and len(rows(db)) == 6
    ledger = rows(db, "SELECT filename, rows, rejected FROM moviedash_loads ORDER BY id")
    assert ledger == [(str(first.resolve()), 3, 0), (str(copy.resolve()), 3, 0)]


def test_the_same_file_twice_in_one_command_is_refused(db_target, tmp_path):
    db = db_target()
    a = write(tmp_path, GOOD, "a.csv")
    with pytest.raises(MoviedashError, match="same content"):
        load_files(db, [a, a])


def test_a_failed_load_leaves_the_database_as_it_was(db_target, tmp_path, monkeypatch):
    db = db_target()
    load_files(db, [write(tmp_path, GOOD, "first.csv")])
    before = rows(db)
    import moviedash.ingest.loader as loader

    calls = {"n": 0}
    sink = loader._PostgresSink if isinstance(db, str) else loader._SQLiteSink
    real_record = sink.record

    def failing_record(self, row):
        calls["n"] += 1
        real_record(self, row)  # the rows and the ledger entry are written...
        raise OSError("disk on fire")  # ...then the load dies before committing

    monkeypatch.setattr(sink, "record", failing_record)
    with pytest.raises(OSError):
        load_files(db, [write(tmp_path, [GOOD[0].replace("u1", "u9")], "second.csv")])
    assert calls["n"] == 1
    assert rows(db) == before
    assert rows(db, "SELECT count(*) FROM moviedash_loads") == [(1,)]
    if isinstance(db, Path):
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_latin1_file_is_read(db_target, tmp_path):
    db = db_target()
    path = tmp_path / "latin1.csv"
    path.write_bytes("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Sm\xe5 ting,,\n".encode("latin-1"))
    load_files(db, [path])
    assert rows(db, "SELECT title FROM movies") == [("Små ting",)]


def test_empty_file_loads_nothing_and_is_not_recorded(db_target, tmp_path):
    db = db_target()
    load_files(db, [write(tmp_path, GOOD, "first.csv")])
    for name, text in (("empty.csv", ""), ("header-only.csv", "event_date,userid\n")):
        path = tmp_path / name
        path.write_text(text)
        report = load_files(db, [path])
        assert (report.loaded, report.rejected, report.committed) == (0, 0, False)
        assert load_files(db, [path]).committed is False  # not "already loaded": nothing was recorded
    assert rows(db, "SELECT count(*) FROM moviedash_loads") == [(1,)]


def test_a_file_without_valid_rows_is_not_recorded_and_creates_no_database(tmp_path):
    path = write(tmp_path, ["yesterday,u1,c,Computer,NO,5,,,,,,,"])
    db = tmp_path / "new.db"
    report = load_files(db, [path])
    assert (report.loaded, report.rejected, report.committed) == (0, 1, False)
    assert not db.exists() and report.files[0].rejects_path.exists()
    path.write_text(GOOD[0] + "\n")  # fixed: loads now
    assert load_files(db, [path]).committed and len(rows(db)) == 1


def test_only_files_that_loaded_rows_are_recorded(db_target, tmp_path):
    db = db_target()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    full = write(tmp_path, GOOD)
    report = load_files(db, [empty, full])
    assert report.committed and report.loaded == 3
    assert rows(db, "SELECT filename, rows FROM moviedash_loads") == [(str(full.resolve()), 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("p<e5>", "på"), ("<C5>land", "Åland"), ("F<f6>rlossning", "Förlossning"), ("a<b>c", "a<b>c"), ("<zz>", "<zz>")],
)
def test_decode_escapes(text, expected):
    assert decode_escapes(text) == expected


def test_database_made_the_course_way_is_served_like_a_loaded_one(tmp_path):
    """sqlite3's .import: TEXT values with '' for missing fields, no extra tables or indexes."""
    lines = GOOD + [
        "2013-03-11 10:00:00,u1,c2,iPad,,40,89,44.9,,MOVIE,Argo,,",
        "2013-03-18 10:00:00,u2,c2,iPad,0,50,89,56.1,,MOVIE,Argo,,",
    ]
    path = write(tmp_path, lines)
    course = tmp_path / "course.db"
    conn = sqlite3.connect(course)
    conn.execute(
        "CREATE TABLE movies (event_date timestamp, userid text, contentid text, device text, market text, "
        "totalminuteswatched integer, runningtime integer, viewpercentage real, errorperception real, "
        "sessiontype text, title text, seasonnumber integer, episodenumber integer)"
    )
    with open(path, newline="", encoding="utf-8") as fh:
        conn.executemany(f"INSERT INTO movies VALUES ({', '.join('?' * 13)})", csv.reader(fh))
    conn.commit()
    conn.close()
    loaded = tmp_path / "loaded.db"
    load_files(loaded, [path])

    course_client = create_app(db=course).server.test_client()
    loaded_client = create_app(db=loaded).server.test_client()
    for url in [
        *(
            f"/data/{m}/?resolution={r}"
            for m in ("unique_users", "minutes_watched")
            for r in ("daily", "weekly", "monthly")
        ),
        "/data/toplist/?num=10",
        "/data/toplist/?num=10&rank=minutes",
        # The empty market ('' here, NULL when loaded) and the placeholder 0 are one "unknown" bucket.
        "/data/minutes_watched/?resolution=weekly&device=iPad&market=unknown",
    ]:
        a, b = course_client.get(url), loaded_client.get(url)
        assert a.status_code == b.status_code == 200
        assert a.get_json() == b.get_json(), url
    assert course_client.get("/data/minutes_watched/?resolution=weekly&device=iPad&market=unknown").get_json() == [
        {"date": "2013-03-11", "values": 40},
        {"date": "2013-03-18", "values": 50},
    ]
    for client in (course_client, loaded_client):  # a placeholder is no value of its own
        assert client.get("/data/minutes_watched/?market=0").status_code == 400
    assert course_client.get("/data/minutes_watched/?resolution=monthly").get_json() == [
        {"date": "2013-01-01", "values": 29},
        {"date": "2013-02-01", "values": 0},
        {"date": "2013-03-01", "values": 198},
    ]


def test_fast_date_check_accepts_exactly_what_the_general_one_does():
    """The numpy check of 19-character dates agrees with the general path on every kind of near miss."""
    import random

    import numpy as np
    import pyarrow as pa

    from moviedash.ingest import loader

    rng = random.Random(5)
    values = [
        f"{rng.choice(['2013', '2012', '2000', '1900', '0000', '0001', '9999', '20a3'])}"
        f"{rng.choice('-/')}{rng.choice(['01', '02', '04', '12', '13', '00', '1a'])}-"
        f"{rng.choice(['01', '28', '29', '30', '31', '00', '32'])}{rng.choice(' Tx')}"
        f"{rng.choice(['00', '23', '24', '1x'])}:{rng.choice(['00', '59', '60'])}:{rng.choice(['00', '59', '60'])}"
        for _ in range(50_000)
    ]
    fast_norm, fast_ok = loader._canonical_dates(pa.array(values))
    # One value of another length sends the whole block down the general path.
    general_norm, general_ok = loader._normalise_dates(pa.array([*values, "2013-01-01"]))
    assert np.array_equal(fast_ok, general_ok[:-1])
    assert 500 < fast_ok.sum() < len(values) / 2
    keep = pa.array(fast_ok)
    assert fast_norm.filter(keep).equals(general_norm.slice(0, len(values)).filter(keep))
    assert not loader._normalise_dates(pa.array(["0000-01-01 10:00:00", "0000-01-01"]))[1].any()  # no year 0


def test_integers_with_a_leading_plus_are_loaded(db_target, tmp_path):
    """'+5' is 5 (it used to abort the whole load with Arrow's cast error); '++5' and '+' are rejected rows."""
    db = db_target()
    path = write(
        tmp_path,
        [
            "2013-01-01 10:00:00,u1,c,Computer,NO,+29,+90,+32.5,,MOVIE,Argo,+1,+2",
            "2013-01-01 11:00:00,u2,c,Computer,NO,++5,,,,MOVIE,Argo,,",
            "2013-01-01 12:00:00,u3,c,Computer,NO,+,,,,MOVIE,Argo,,",
        ],
    )
    report = load_files(db, [path])
    assert (report.loaded, report.rejected, report.committed) == (1, 2, True)
    assert rows(
        db, "SELECT totalminuteswatched, runningtime, viewpercentage, seasonnumber, episodenumber FROM movies"
    ) == [(29, 90, 32.5, 1, 2)]
    with open(report.files[0].rejects_path, newline="", encoding="utf-8") as fh:
        assert [r["reason"] for r in csv.DictReader(fh)] == [
            "totalminuteswatched is not an integer: '++5'",
            "totalminuteswatched is not an integer: '+'",
        ]


BIG = "x" * 200_000  # over the csv module's default field limit (128 KiB)


@pytest.mark.parametrize("where", ["first", "middle"])
def test_fields_over_128_kib_are_read_by_every_pass(db_target, tmp_path, where):
    """A huge field in the first row (the header check) or next to a rejected row (the rejects pass)."""
    db = db_target()
    huge = f"2013-01-01 10:00:00,u9,c,Computer,NO,5,,,,MOVIE,{BIG},,"
    lines = [huge, GOOD[0], "2013-01-01 10:00:00,u8,c,Computer,NO,-1,,,,,,,"]
    if where == "middle":
        lines = [GOOD[0], huge, "2013-01-01 10:00:00,u8,c,Computer,NO,-1,,,,,,,"]
    report = load_files(db, [write(tmp_path, lines)])
    assert (report.loaded, report.rejected) == (2, 1)
    assert rows(db, "SELECT length(title) FROM movies WHERE userid = 'u9'") == [(len(BIG),)]
    with open(report.files[0].rejects_path, newline="", encoding="utf-8") as fh:
        assert [(r["line"], r["reason"]) for r in csv.DictReader(fh)] == [
            ("3", "totalminuteswatched is negative: '-1'")
        ]
    assert csv.field_size_limit() == 131072  # the process-wide limit is left as it was


def test_a_rejected_row_with_a_huge_field_is_reported_with_the_start_of_its_raw_text(db_target, tmp_path):
    db = db_target()
    report = load_files(db, [write(tmp_path, [GOOD[0], f"2013-01-01 10:00:00,u8,c,Computer,NO,-1,,,,,{BIG},,"])])
    assert (report.loaded, report.rejected) == (1, 1)
    with open(report.files[0].rejects_path, newline="", encoding="utf-8") as fh, _field_limit(1 << 20):
        (reject,) = csv.DictReader(fh)
    # The raw row is cut (memory per rejected row stays bounded), never an error.
    assert reject["line"] == "2" and len(reject["raw"]) <= RAW_CHARS
    assert f"2013-01-01 10:00:00,u8,c,Computer,NO,-1,,,,,{BIG}".startswith(reject["raw"].rstrip("…"))


class _field_limit:
    """The csv module's field limit raised for reading a rejects file back in a test."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __enter__(self) -> None:
        self.previous = csv.field_size_limit(self.limit)

    def __exit__(self, *exc: object) -> None:
        csv.field_size_limit(self.previous)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_with_a_byte_order_mark_are_decoded(db_target, tmp_path, encoding):
    db = db_target()
    text = "event_date,userid,title\n2013-01-01 10:00:00,u1,Øisteins Blyant\n2013-01-02 10:00:00,u2,Flåm\n"
    path = tmp_path / "wide.csv"
    # "utf-16-be" writes no byte-order mark: add it, as editors saving big-endian UTF-16 do.
    path.write_bytes((("\ufeff" + text) if encoding == "utf-16-be" else text).encode(encoding))
    report = load_files(db, [path])
    assert (report.loaded, report.rejected, report.committed) == (2, 0, True)
    assert rows(db, "SELECT userid, title FROM movies ORDER BY userid") == [("u1", "Øisteins Blyant"), ("u2", "Flåm")]


def test_nul_bytes_without_a_byte_order_mark_are_refused_with_a_hint(db_target, tmp_path):
    db = db_target()
    path = tmp_path / "no-bom.csv"
    path.write_bytes("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n".encode("utf-16-le"))
    with pytest.raises(
        MoviedashError, match="contains NUL bytes.*UTF-16 without a byte-order mark; save it as CSV UTF-8"
    ):
        load_files(db, [path])
