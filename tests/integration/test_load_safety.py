"""Issue 11: no input that breaks serving, no typo that destroys data (the loader and the report's outputs)."""
from __future__ import annotations

import csv
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import moviedash.outputs as outputs
from moviedash import create_app
from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.ingest.loader import load_files
from tests.helpers import query

GOOD = [
    "2013-01-22 17:20:56,u1,c1,Computer,NO,29,,,,,,,",
    "2013-03-09 16:33:25,u2,c2,iPad,SE,87,89,97.7528,,MOVIE,Argo,,",
    "2013-03-10 20:10:48,u3,c3,Computer,NO,21,21,100,,SERIES,Solsidan,1,10",
]
ROW = "{date},u{n},c,Computer,NO,{minutes},{running},50,,MOVIE,T,{season},"


def write(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False, trailing: bool = True) -> Path:
    text = newline.join(lines) + (newline if trailing else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def rejects_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- #
# 1. Event dates outside the range the API serves are rejected per row.
# --------------------------------------------------------------------------- #

OUTSIDE = ["9999-12-31", "0001-01-01", "0001-01-01 00:00:00", "1899-12-31 23:59:59", "2100-01-01",
           "9999-12-31T23:59:59", "1000-06-15 12:00"]
INSIDE = ["1900-01-01 00:00:00", "2099-12-31 23:59:59", "2013-01-22"]


def test_dates_outside_the_served_range_are_rejected_with_the_reason(db_target, tmp_path):
    db = db_target()
    lines = [ROW.format(date=d, n=n, minutes=5, running=10, season="") for n, d in enumerate(OUTSIDE + INSIDE)]
    report = load_files(db, [write(tmp_path / "dates.csv", lines)])
    assert (report.loaded, report.rejected) == (len(INSIDE), len(OUTSIDE))
    found = rejects_of(report.files[0].rejects_path)
    assert [r["line"] for r in found] == [str(n + 1) for n in range(len(OUTSIDE))]
    for row, date in zip(found, OUTSIDE, strict=False):
        assert row["reason"] == f"event_date is outside the dates served (1900-01-01 to 2099-12-31): {date!r}"
    assert sorted(r[0][:10] for r in query(db, "SELECT event_date FROM movies")) == sorted(d[:10] for d in INSIDE)


# --------------------------------------------------------------------------- #
# 2. Per-value limits: no sum can overflow.
# --------------------------------------------------------------------------- #

LIMITS = [
    ("totalminuteswatched", dict(minutes=2**53 - 1), "totalminuteswatched is above the maximum of 10,000,000"),
    ("totalminuteswatched", dict(minutes=10**7 + 1), "totalminuteswatched is above the maximum of 10,000,000"),
    ("totalminuteswatched", dict(minutes=999_999_999_999_999_999), "totalminuteswatched is above the maximum"),
    ("runningtime", dict(running=2**62), "runningtime is above the maximum of 10,000,000"),
    ("seasonnumber", dict(season=-1), "seasonnumber is negative"),
    ("seasonnumber", dict(season=10**6 + 1), "seasonnumber is above the maximum of 1,000,000"),
]


@pytest.mark.parametrize(("column", "values", "reason"), LIMITS)
def test_values_beyond_the_limits_are_rejected_per_row(db_target, tmp_path, column, values, reason):
    db = db_target()
    fields = {"minutes": 5, "running": 10, "season": "", **values}
    lines = [GOOD[0], ROW.format(date="2013-01-01 10:00:00", n=9, **fields)]
    report = load_files(db, [write(tmp_path / "limits.csv", lines)])
    assert (report.loaded, report.rejected) == (1, 1)
    assert rejects_of(report.files[0].rejects_path)[0]["reason"].startswith(reason)


def test_reals_beyond_the_limits_are_rejected(db_target, tmp_path):
    db = db_target()
    lines = [
        GOOD[0],
        "2013-01-01 10:00:00,u,c,Computer,NO,1,10,1e10,,,,,",
        "2013-01-01 10:00:00,u,c,Computer,NO,1,10,5,-2e9,,,,",
    ]
    report = load_files(db, [write(tmp_path / "reals.csv", lines)])
    assert (report.loaded, report.rejected) == (1, 2)
    reasons = [r["reason"] for r in rejects_of(report.files[0].rejects_path)]
    assert reasons == [
        "viewpercentage is above the maximum of 1,000,000,000: '1e10'",
        "errorperception is below the minimum of -1,000,000,000: '-2e9'",
    ]


def test_largest_values_allowed_sum_exactly(db_target, tmp_path):
    """1,100 events of the largest minutes allowed (and 1,100 beyond it) over 28 days: exact sums, no wrap."""
    db = db_target()
    lines = []
    for n in range(1100):
        day = f"2013-02-{n % 28 + 1:02d} 10:00:00"
        lines.append(ROW.format(date=day, n=n, minutes=10**7, running=10**7, season=""))
        lines.append(ROW.format(date=day, n=n, minutes=2**53 - 1, running=10, season=""))
    report = load_files(db, [write(tmp_path / "big.csv", lines)])
    assert (report.loaded, report.rejected, report.committed) == (1100, 1100, True)
    client = create_app(db=db).server.test_client()
    series = client.get("/data/minutes_watched/").get_json()
    assert sum(p["values"] for p in series) == 1100 * 10**7
    assert all(p["values"] >= 0 for p in series)
    assert client.get("/data/minutes_watched/?resolution=monthly").get_json() == [
        {"date": "2013-02-01", "values": 1100 * 10**7}
    ]


# --------------------------------------------------------------------------- #
# 4. No output over the database, its sidecars or an input; outputs written whole.
# --------------------------------------------------------------------------- #


@pytest.fixture
def loaded(tmp_path) -> tuple[Path, Path, bytes]:
    """A database with three rows, a new CSV with a bad row, and the database's bytes."""
    db = tmp_path / "victim.db"
    load_files(db, [write(tmp_path / "first.csv", GOOD)])
    new = write(tmp_path / "in.csv", [GOOD[0].replace("u1", "u7"), "bad,row"])
    return db, new, db.read_bytes()


def _aliases(tmp_path: Path, target: Path) -> list[str]:
    """Other names of ``target``: relative, ``./``, ``..``, a symlink, a hard link."""
    link = tmp_path / "link-to-target"
    link.symlink_to(target)
    hard = tmp_path / "hard-link"
    if target.exists():
        os.link(target, hard)
    names = [
        str(target),
        os.path.relpath(target),
        f"./{os.path.relpath(target)}",
        str(target.parent / ".." / target.parent.name / target.name),
        str(link),
    ]
    return names + ([str(hard)] if target.exists() else [])


@pytest.mark.parametrize("which", ["db", "wal", "shm", "journal", "input"])
def test_load_refuses_a_rejects_path_that_is_the_database_or_an_input(tmp_path, loaded, monkeypatch, which):
    db, new, before = loaded
    monkeypatch.chdir(tmp_path)
    target = {
        "db": db,
        "wal": Path(f"{db}-wal"),
        "shm": Path(f"{db}-shm"),
        "journal": Path(f"{db}-journal"),
        "input": new,
    }[which]
    if which in ("wal", "shm"):
        target.write_bytes(b"")  # present while a reader has the database open
    input_bytes = new.read_bytes()
    runner = CliRunner()
    for name in _aliases(tmp_path, target):
        result = runner.invoke(main, ["load", str(new), "--db", str(db), "--rejects", name])
        assert result.exit_code == 1, (name, result.output)
        assert "refusing to write the rejected rows" in result.output and "nothing changed" in result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
        assert db.read_bytes() == before and new.read_bytes() == input_bytes
    # (Not inside the loop: closing a reader removes the -wal file the links point at.)
    assert query(db, "SELECT count(*) FROM movies") == [(3,)]


def test_load_refuses_a_default_rejects_path_that_is_another_input(tmp_path):
    db = tmp_path / "m.db"
    a = write(tmp_path / "a.csv", [GOOD[0], "bad,row"])
    a_rejects = write(tmp_path / "a.rejects.csv", [GOOD[1]])
    kept = a_rejects.read_bytes()
    with pytest.raises(MoviedashError, match="that is the input file"):
        load_files(db, [a, a_rejects])
    assert a_rejects.read_bytes() == kept
    assert not db.exists()


def test_report_refuses_an_out_path_that_is_the_database(tmp_path, loaded, monkeypatch):
    db, _new, before = loaded
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for target in (db, Path(f"{db}-wal"), Path(f"{db}-journal")):
        for name in _aliases(tmp_path, target):
            result = runner.invoke(main, ["report", "--db", str(db), "--out", name])
            assert result.exit_code == 1, (name, result.output)
            assert "refusing to write the report" in result.output
            assert len(result.output.strip().splitlines()) == 1
            assert db.read_bytes() == before
        for name in ("link-to-target", "hard-link"):
            (tmp_path / name).unlink(missing_ok=True)
    # And image exports into the database's folder cannot take a sidecar's name either.
    result = runner.invoke(main, ["report", "--db", str(db), "--format", "png", "--out", str(tmp_path / "victim.db")])
    assert result.exit_code != 0 and db.read_bytes() == before


class FullDisk:
    """A file object whose writes fail with ENOSPC once ``room`` bytes were written (a full disk)."""

    def __init__(self, real, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data):
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


def fill_disk_after(monkeypatch, room: int) -> None:
    real_open = open
    monkeypatch.setattr(outputs, "open", lambda *a, **k: FullDisk(real_open(*a, **k), room), raising=False)


def test_a_full_disk_while_writing_rejects_leaves_the_previous_file_and_the_database(tmp_path, monkeypatch):
    db = tmp_path / "m.db"
    load_files(db, [write(tmp_path / "first.csv", GOOD)])
    before = db.read_bytes()
    rejects = write(tmp_path / "rejects.csv", ["an earlier rejects file"])
    many_bad = write(tmp_path / "bad.csv", [GOOD[0].replace("u1", "u8")] + [f"bad,row,{n}" for n in range(5000)])
    fill_disk_after(monkeypatch, 10_000)
    result = CliRunner().invoke(main, ["load", str(many_bad), "--db", str(db), "--rejects", str(rejects)])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert rejects.read_text() == "an earlier rejects file\n"
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp" in p.name) == []
    assert db.read_bytes() == before and query(db, "SELECT count(*) FROM movies") == [(3,)]


def test_a_full_disk_while_writing_a_report_leaves_the_previous_report(tmp_path, loaded, monkeypatch):
    db, _new, _before = loaded
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    fill_disk_after(monkeypatch, 50_000)
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert out.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
    monkeypatch.undo()
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


def test_writing_to_dev_full_fails_cleanly(tmp_path, loaded):
    """A real full device (written directly: never renamed over): a clean error."""
    db, _new, before = loaded
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", "/dev/full"])
    assert result.exit_code == 1 and "cannot write the report" in result.output
    assert db.read_bytes() == before


# --------------------------------------------------------------------------- #
# 5. Blank lines are skipped; memory stays bounded.
# --------------------------------------------------------------------------- #


def test_blank_and_whitespace_lines_are_skipped_and_exit_status_is_0(tmp_path):
    db = tmp_path / "m.db"
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\n \n" + GOOD[0].encode() + b"\n\n\t\n \r\n" + GOOD[1].encode() + b"\n\n\n  \n")
    result = CliRunner().invoke(main, ["load", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "2 valid, 0 rejected" in result.output
    assert not (tmp_path / "blank.rejects.csv").exists()


def test_header_after_blank_lines_is_still_a_header(db_target, tmp_path):
    db = db_target()
    path = write(tmp_path / "h.csv", ["", "  ", "userid,event_date", "u1,2013-01-01 10:00:00", "", "u2,2013-01-02"])
    report = load_files(db, [path])
    assert (report.loaded, report.rejected) == (2, 0)


def _peak_rss_mib(tmp_path: Path, args: list[str]) -> tuple[int, float]:
    """Exit status and peak resident memory (MiB) of ``moviedash ARGS`` in a child process."""
    script = (
        "import resource, subprocess, sys\n"
        "code = subprocess.call([sys.executable, '-m', 'moviedash.cli', *sys.argv[1:]], stdout=subprocess.DEVNULL)\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=300
    )
    code, kib = out.stdout.split()
    return int(code), int(kib) / 1024


def test_millions_of_blank_lines_load_in_bounded_memory(tmp_path):
    path = tmp_path / "newlines.csv"
    with open(path, "wb") as fh:
        fh.write(GOOD[0].encode() + b"\n")
        fh.write(b"\n" * 3_000_000 + b"  \n" * 200_000 + b"\r\n" * 200_000)
        fh.write(GOOD[1].encode() + b"\n")
    code, peak = _peak_rss_mib(tmp_path, ["load", str(path), "--db", str(tmp_path / "m.db")])
    assert code == 0
    assert peak < 400, f"peak RSS {peak:.0f} MiB"


def test_many_rejected_rows_keep_memory_bounded(tmp_path):
    """600,000 rejected rows (a 60-digit value each): no more memory than as many accepted rows.

    Before the rejects were streamed and capped, this took ~900 MiB (1.5 KiB a row).
    """
    path = tmp_path / "bad.csv"
    path.write_bytes((b"2013-01-22 17:20:56,u1,c1,Computer,NO," + b"9" * 60 + b",,,,,,,\n") * 600_000)
    code, peak = _peak_rss_mib(tmp_path, ["load", str(path), "--db", str(tmp_path / "m.db")])
    assert code == 1
    assert peak < 650, f"peak RSS {peak:.0f} MiB"
    with open(tmp_path / "bad.rejects.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        first = next(reader)
        assert sum(1 for _ in reader) == 599_999
    assert first["reason"] == "totalminuteswatched is above the maximum of 10,000,000: '" + "9" * 60 + "'"


def test_rejected_values_and_rows_are_cut_to_a_bounded_length(db_target, tmp_path):
    db = db_target()
    path = write(tmp_path / "long.csv", [GOOD[0], "2013-01-22 17:20:56,u1,c1,Computer,NO," + "9" * 5000 + ",,,,,,,"])
    report = load_files(db, [path])
    (found,) = rejects_of(report.files[0].rejects_path)
    assert found["reason"] == "totalminuteswatched is above the maximum of 10,000,000: '" + "9" * 78 + "…"
    assert len(found["raw"]) == 2000 and found["raw"].endswith("…")


# --------------------------------------------------------------------------- #
# 6. The repeat check compares the rows, not the bytes.
# --------------------------------------------------------------------------- #

LAYOUTS = {
    "crlf": dict(newline="\r\n"),
    "bom": dict(bom=True),
    "no trailing newline": dict(trailing=False),
    "crlf, bom, no trailing newline": dict(newline="\r\n", bom=True, trailing=False),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_same_rows_in_another_layout_are_recognised_as_loaded(db_target, tmp_path, layout):
    db = db_target()
    load_files(db, [write(tmp_path / "original.csv", GOOD)])
    again = write(tmp_path / "resaved.csv", GOOD, **LAYOUTS[layout])
    assert again.read_bytes() != (tmp_path / "original.csv").read_bytes()
    with pytest.raises(MoviedashError, match="already loaded"):
        load_files(db, [again])
    assert query(db, "SELECT count(*) FROM movies") == [(3,)]
    report = load_files(db, [again], force=True)
    assert report.loaded == 3 and query(db, "SELECT count(*) FROM movies") == [(6,)]


def test_blank_lines_and_a_reordered_header_are_the_same_rows(db_target, tmp_path):
    db = db_target()
    header = "event_date,userid,totalminuteswatched,title"
    load_files(
        db, [write(tmp_path / "a.csv", [header, "2013-01-01 10:00:00,u1,5,Argo", "2013-01-02 10:00:00,u2,6,Up"])]
    )
    other = write(
        tmp_path / "b.csv",
        [
            "",
            "title,userid,event_date,totalminuteswatched",
            "Argo,u1,2013-01-01 10:00:00,5",
            "",
            "Up,u2,2013-01-02T10:00:00,6",
            "",
        ],
        newline="\r\n",
    )
    with pytest.raises(MoviedashError, match="already loaded"):
        load_files(db, [other])


def test_the_same_rows_twice_in_one_command_are_refused(db_target, tmp_path):
    db = db_target()
    a = write(tmp_path / "a.csv", GOOD)
    b = write(tmp_path / "b.csv", GOOD, newline="\r\n")
    with pytest.raises(MoviedashError, match="same rows as"):
        load_files(db, [a, b])
    assert load_files(db, [a, b], force=True).loaded == 6


def test_different_rows_are_not_a_repeat(db_target, tmp_path):
    db = db_target()
    load_files(db, [write(tmp_path / "a.csv", GOOD)])
    report = load_files(
        db, [write(tmp_path / "b.csv", [GOOD[0], GOOD[1], GOOD[2].replace(",21,21,", ",22,21,")], newline="\r\n")]
    )
    assert report.loaded == 3
