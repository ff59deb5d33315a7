"""PostgreSQL as the second backend: equal to SQLite byte for byte, every command, and its failures.

Needs the test server (``MOVIEDASH_TEST_PG``; see ``tests/conftest.py``), and for
the stop/restart and password tests a private throwaway cluster
(:mod:`tests.pgcluster`).  Without them the tests skip locally and fail in CI.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from moviedash import create_app
from moviedash.cli import main
from moviedash.errors import MoviedashError
from moviedash.ingest.demo import write_demo
from moviedash.rollups import TABLES
from moviedash.store import postgres
from tests.helpers import Dashboard, close_pg_pools, free_port, query, wait_for, with_database
from tests.pgcluster import PASSWORD, Cluster

EVENTS = 20_000
SEED = 11

#: Every route, with selections: date ranges, each filter, resolutions, num, rank-by, CSV, themes.
SELECTIONS = [
    "",
    "start=2023-03-01",
    "end=2023-03-31",
    "start=2024-02-26&end=2024-03-10",
    "start=2024-12-30&end=2025-01-05",
    "start=2020-01-01&end=2020-01-31",  # nothing there
    "sessiontype=MOVIE",
    "sessiontype=SERIES",
    "device=TV",
    "device=iPad&device=Computer",
    "market=FI",
    "market=NO&device=TV&sessiontype=SERIES&start=2023-06-01&end=2023-08-31",
    "market=XX",  # not in the data: the same 400 naming the known values
]
ROUTES = [
    *(f"/data/{metric}/?resolution={r}" for metric in ("unique_users", "minutes_watched")
      for r in ("daily", "weekly", "monthly")),
    *(f"/data/toplist/?num={n}&rank={rank}" for n in (1, 10, 200) for rank in ("plays", "minutes", "viewers")),
    "/data/unique_users/?resolution=weekly&format=csv",
    "/data/toplist/?num=25&rank=minutes&format=csv",
    *(f"/figures/{chart}.json" for chart in ("unique_users", "minutes_watched", "top_titles", "heatmap")),
    "/figures/unique_users.json?users=weekly&theme=dark",
    "/figures/top_titles.json?top=20&rank=viewers",
]
URLS = [
    f"{route}{'&' if '?' in route else '?'}{selection}" if selection else route
    for route in ROUTES for selection in SELECTIONS
] + ["/_dash-layout", "/data/unique_users/", "/data/toplist/"]


@pytest.fixture(scope="module")
def twins(pg_server, tmp_path_factory) -> tuple[Path, str]:
    """The same generated events in a SQLite file and in PostgreSQL."""
    path = tmp_path_factory.mktemp("twins") / "demo.db"
    assert write_demo(path, events=EVENTS, seed=SEED) == EVENTS
    url = pg_server.new_database()
    assert write_demo(url, events=EVENTS, seed=SEED) == EVENTS
    return path, url


def test_every_route_and_selection_is_byte_identical_on_both_backends(twins) -> None:
    path, url = twins
    sqlite_client = create_app(db=path).server.test_client()
    pg_client = create_app(db=url).server.test_client()
    nonempty = 0
    for target in URLS:
        a, b = sqlite_client.get(target), pg_client.get(target)
        expected = 400 if "market=XX" in target and not target.startswith("/_dash") else 200
        assert a.status_code == b.status_code == expected, (
            target,
            a.status_code,
            b.status_code,
            b.get_data(as_text=True),
        )
        assert a.get_data() == b.get_data(), target
        nonempty += a.get_data() not in (b"[]", b"")
    assert nonempty > len(URLS) * 0.8  # the selections compare real numbers, not empty answers


def test_dashboard_callbacks_are_identical_on_both_backends(twins) -> None:
    path, url = twins
    controls = [
        {"date_range__start_date": None, "date_range__end_date": None},
        {"date_range__start_date": "2024-01-01", "date_range__end_date": "2024-03-31", "market__value": ["SE"]},
        {
            "date_range__start_date": "2023-01-01",
            "date_range__end_date": "2023-12-31",
            "device__value": ["TV"],
            "users_resolution__value": "weekly",
            "minutes_resolution__value": "monthly",
            "rank__value": "viewers",
            "top_n__value": 15,
            "sessiontype__value": "SERIES",
        },
    ]
    sqlite_dash, pg_dash = Dashboard(create_app(db=path)), Dashboard(create_app(db=url))
    for chart in ("users", "minutes", "top", "heatmap"):
        for selection in controls:
            expected = sqlite_dash.figure(chart, **selection)
            assert expected["data"], (chart, selection)
            assert pg_dash.figure(chart, **selection) == expected, (chart, selection)
    for selection in controls:
        assert pg_dash.outputs("kpi-viewers-value", **selection) == sqlite_dash.outputs(
            "kpi-viewers-value", **selection
        )


def test_rows_inserted_by_another_process_are_seen_at_once(pg_server, tmp_path) -> None:
    url = pg_server.new_database()
    write_demo(url, events=500, seed=3)
    client = create_app(db=url).server.test_client()
    assert "Brand new" not in client.get("/data/toplist/?num=200").get_data(as_text=True)
    csv_path = tmp_path / "new.csv"
    csv_path.write_text(
        "".join(f"2024-12-31 2{i}:00:00,n{i},c9,TV,DK,100,100,100,,MOVIE,Brand new,,\n" for i in range(3))
    )
    done = subprocess.run(
        [sys.executable, "-m", "moviedash.cli", "load", str(csv_path), "--db", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    top = client.get("/data/toplist/?num=1&start=2024-12-31").get_json()
    assert top == [{"title": "Brand new", "values": 3}]
    users = client.get("/data/unique_users/?start=2024-12-31&end=2024-12-31&market=DK").get_json()
    assert users == [
        {
            "date": "2024-12-31",
            "values": 3
            + sum(
                1
                for _ in query(
                    url,
                    "SELECT DISTINCT userid FROM movies WHERE market = 'DK' AND userid NOT LIKE 'n%' "
                    "AND event_date >= '2024-12-31'",
                )
            ),
        }
    ]


def test_serving_connections_are_read_only_and_pooled(pg_server) -> None:
    url = pg_server.new_database()
    write_demo(url, events=200, seed=1)
    app = create_app(db=url)
    client = app.server.test_client()
    assert client.get("/data/toplist/").status_code == 200
    pool = app.server.extensions["moviedash_pool"]
    conn = postgres.checkout(pool, url, timeout=5)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM movies")
    finally:
        conn.close()
    assert client.get("/data/toplist/").status_code == 200  # the connection went back, usable
    assert query(url, "SELECT count(*) FROM movies") == [(200,)]


def test_a_statement_over_the_limit_is_the_standard_503(pg_server) -> None:
    url = pg_server.new_database()
    write_demo(url, events=200, seed=1)
    conn = postgres.checkout(postgres.make_pool(url, size=1), url, timeout=0.05)
    try:
        started = time.monotonic()
        with pytest.raises(MoviedashError) as caught:
            conn.execute("SELECT pg_sleep(?)", [3])
        assert time.monotonic() - started < 2
        assert caught.value.status == 503
        assert caught.value.message == "the query took longer than the limit of 0.05 s and was stopped"
    finally:
        conn.close()
    # The server keeps serving (its own pool; a first request on fresh connections reads the
    # partitioned rollups' catalog, so it gets a limit a cold cache can meet on a busy machine).
    app = create_app(db=url, MOVIEDASH_QUERY_TIMEOUT=2)
    app.server.testing = False
    assert app.server.test_client().get("/data/toplist/").status_code == 200


# --------------------------------------------------------------------------- #
# Every command on PostgreSQL.
# --------------------------------------------------------------------------- #


def test_demo_load_and_report_commands_on_postgresql(pg_server, tmp_path) -> None:
    runner = CliRunner()
    url = pg_server.new_database()
    result = runner.invoke(main, ["demo", "--db", url, "--events", "2000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert query(url, "SELECT count(*) FROM movies") == [(2000,)]
    again = runner.invoke(main, ["demo", "--db", url, "--events", "100"])
    assert again.exit_code == 1 and "--force" in again.output
    assert query(url, "SELECT count(*) FROM movies") == [(2000,)]
    forced = runner.invoke(main, ["demo", "--events", "100", "--force"], env={"MOVIEDASH_DB": url})
    assert forced.exit_code == 0, forced.output
    assert query(url, "SELECT count(*) FROM movies") == [(100,)]

    csv_path = tmp_path / "ok.csv"
    csv_path.write_text("2013-01-22 17:20:56,u1,c1,Computer,NO,29,90,32.2,,MOVIE,Argo,,\nbad,row\n")
    loaded = runner.invoke(main, ["load", str(csv_path), "--db", url])
    assert loaded.exit_code == 1  # one row rejected
    assert "1 valid, 1 rejected" in loaded.output
    assert query(url, "SELECT count(*) FROM movies WHERE title = 'Argo' AND event_date < '2014-01-01'") == [(1,)]
    repeat = runner.invoke(main, ["load", str(csv_path), "--db", url])
    assert repeat.exit_code == 1 and "already loaded" in repeat.output

    out = tmp_path / "report.html"
    report = runner.invoke(
        main, ["report", "--db", url, "--out", str(out), "--start", "2013-01-01", "--end", "2013-12-31"]
    )
    assert report.exit_code == 0, report.output
    assert "Argo" in out.read_text(encoding="utf-8")


def test_serve_command_on_postgresql(pg_server, tmp_path) -> None:
    url = pg_server.new_database()
    write_demo(url, events=300, seed=5)
    expected = create_app(db=url).server.test_client().get("/data/toplist/").get_data()
    close_pg_pools()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "serve", "--port", str(port)],
        env={**os.environ, "MOVIEDASH_DB": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/data/toplist/", process) == expected
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert b"serving postgresql://" in out


# --------------------------------------------------------------------------- #
# Connection failures: clear messages, non-zero exit, 503 and recovery.
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def cluster(pg_server) -> Iterator[Cluster]:
    """A private cluster with password authentication, which tests may stop and start."""
    try:
        private = Cluster()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"cannot create a throwaway PostgreSQL cluster in CI: {exc}")
        pytest.skip(f"cannot create a throwaway PostgreSQL cluster: {exc}")
    private.start()
    yield private
    close_pg_pools()
    private.remove()


COMMANDS = [
    ["serve"],
    ["load", "{csv}"],
    ["demo", "--events", "10"],
    ["report", "--out", "{out}"],
]


def run_all(url: str, tmp_path: Path) -> list[tuple[list[str], int, str]]:
    csv_path = tmp_path / "one.csv"
    csv_path.write_text("2013-01-22 17:20:56,u1,c1,Computer,NO,29,90,32.2,,MOVIE,Argo,,\n")
    results = []
    for command in COMMANDS:
        args = [a.format(csv=csv_path, out=tmp_path / "r.html") for a in command]
        result = CliRunner().invoke(main, [*args, "--db", url])
        results.append((args, result.exit_code, result.output))
    return results


def assert_clean(results: list[tuple[list[str], int, str]], expected: str, secret: str | None = None) -> None:
    for args, code, output in results:
        assert code == 1, (args, output)
        lines = output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: cannot connect to PostgreSQL at "), (args, output)
        assert expected in output, (args, output)
        assert "Traceback" not in output
        if secret:
            assert secret not in output


def test_server_down_is_a_clear_error_for_every_command(tmp_path) -> None:
    # A socket folder where no server listens.
    assert_clean(
        run_all(f"postgresql://someone:pw-123@/moviedash?host={tmp_path}", tmp_path),
        "No such file or directory",
        secret="pw-123",
    )


def test_wrong_password_is_a_clear_error_for_every_command(cluster, tmp_path) -> None:
    url = cluster.url(password="not-the-password")
    assert_clean(
        run_all(url, tmp_path), 'password authentication failed for user "postgres"', secret="not-the-password"
    )
    assert "postgres:***@" in run_all(url, tmp_path)[0][2]


def test_missing_database_is_a_clear_error_for_every_command(pg_server, tmp_path) -> None:
    url = with_database(pg_server.url, "no_such_moviedash_db")
    assert_clean(run_all(url, tmp_path), 'database "no_such_moviedash_db" does not exist')


def test_a_database_without_the_table_is_a_clear_error(pg_server) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", pg_server.new_database()])
    assert result.exit_code == 1 and "no movies table in postgresql://" in result.output


def test_server_stopped_while_serving_is_503_then_recovers(cluster) -> None:
    url = cluster.url()
    write_demo(url, events=1000, seed=2, force=True)
    app = create_app(db=url, MOVIEDASH_CONNECT_TIMEOUT=1)
    app.server.testing = False
    client = app.server.test_client()
    routes = ["/data/unique_users/?resolution=weekly", "/data/toplist/", "/figures/heatmap.json", "/_dash-layout"]
    before = {r: client.get(r).get_data() for r in routes}
    dash = Dashboard(app)
    all_time = {"date_range__start_date": None, "date_range__end_date": None}
    kpis = dash.outputs("kpi-viewers-value", **all_time)
    cluster.stop()
    try:
        for route in routes:
            response = client.get(route)
            assert response.status_code == 503, route
            body = response.get_json()
            assert body == {"error": "the database cannot be read"}  # no server address: that is logged
            assert PASSWORD not in body["error"]
        # Dashboard callbacks never fail: the KPIs keep their values (no update).
        assert dash.post("kpi-viewers-value", **all_time) == (204, "")
    finally:
        cluster.start()
    deadline = time.monotonic() + 60
    while client.get(routes[0]).status_code != 200:
        assert time.monotonic() < deadline, "no recovery within 60 s of the server's return"
        time.sleep(0.5)
    assert {r: client.get(r).get_data() for r in routes} == before
    assert dash.outputs("kpi-viewers-value", **all_time) == kpis
    assert json.loads(before[routes[1]])


def test_a_load_killed_during_copy_leaves_the_database_unchanged(pg_server, tmp_path) -> None:
    import signal

    from moviedash.ingest.demo import generate_events
    from moviedash.ingest.loader import load_files

    url = pg_server.new_database()
    first = tmp_path / "first.csv"
    first.write_text("2013-01-01 10:00:00,u1,c,Computer,NO,5,,,,MOVIE,Argo,,\n")
    load_files(url, [first])
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8", newline="") as fh:
        for frame in generate_events(300_000, seed=5):
            frame.to_csv(fh, header=False, index=False)
    before = query(url, "SELECT count(*), (SELECT count(*) FROM moviedash_loads) FROM movies")
    assert before == [(1, 1)]

    process = subprocess.Popen(
        [sys.executable, "-m", "moviedash.cli", "load", str(big), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill it while the server is receiving rows (PostgreSQL reports COPY progress).
    deadline = time.monotonic() + 60
    while not query(url, "SELECT 1 FROM pg_stat_progress_copy WHERE tuples_processed > 0"):
        assert process.poll() is None, "the load ended before its COPY was seen"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert query(url, "SELECT count(*), (SELECT count(*) FROM moviedash_loads) FROM movies") == before
    client = create_app(db=url).server.test_client()
    assert client.get("/data/toplist/").get_json() == [{"title": "Argo", "values": 1}]
    # Never recorded as loaded: loading it again just works (once the killed session is gone).
    report = load_files(url, [big])
    assert (report.loaded, report.rejected) == (300_000, 0)
    assert query(url, "SELECT count(*), (SELECT count(*) FROM moviedash_loads) FROM movies") == [(300_001, 2)]


def test_roles_least_privilege_load_and_serve(pg_server, tmp_path) -> None:
    """A loader role with SELECT and INSERT only (no CREATE; and the rollups' rows) can load;
    a SELECT-only role can serve."""
    import psycopg

    owner_url = pg_server.new_database()
    assert "//postgres@" in owner_url, "the test server is reached as the postgres superuser"
    write_demo(owner_url, events=100, seed=1)
    schema = psycopg.conninfo.conninfo_to_dict(owner_url)["options"].split("=", 1)[1]
    loader, reader = (f"{pg_server.dbname}_{schema}_{kind}" for kind in ("loader", "reader"))
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for role in (loader, reader):
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT, INSERT ON movies, moviedash_loads TO {loader}")
        # A load maintains the rollups: the loader writes them (but creates no partition: a new
        # month's rows go to the default ones).  The reader may not read them: it is served raw.
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(('md_meta', *TABLES))} TO {loader}")
        conn.execute(f"GRANT SELECT ON movies TO {reader}")
    try:
        csv_path = tmp_path / "one.csv"
        csv_path.write_text("2013-01-22 17:20:56,u1,c1,Computer,NO,29,90,32.2,,MOVIE,Argo,,\n")
        loaded = CliRunner().invoke(
            main, ["load", str(csv_path), "--db", owner_url.replace("//postgres@", f"//{loader}@")]
        )
        assert loaded.exit_code == 0, loaded.output
        client = create_app(db=owner_url.replace("//postgres@", f"//{reader}@")).server.test_client()
        assert client.get("/data/toplist/?num=1&end=2013-12-31").get_json() == [{"title": "Argo", "values": 1}]
    finally:
        close_pg_pools()
        with psycopg.connect(owner_url, autocommit=True) as conn:
            for role in (loader, reader):
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")


def test_concurrent_loads_of_one_file_load_it_once(pg_server, tmp_path) -> None:
    """Two processes loading the same file at once: the ledger lock lets exactly one through."""
    from moviedash.ingest.demo import generate_events

    url = pg_server.new_database()
    write_demo(url, events=10, seed=1)  # creates the tables
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8", newline="") as fh:
        for frame in generate_events(100_000, seed=8):
            frame.to_csv(fh, header=False, index=False)
    command = [sys.executable, "-m", "moviedash.cli", "load", str(big), "--db", url]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [(p.wait(timeout=120), p.stdout.read().decode()) for p in processes]
    for p in processes:
        p.stdout.close()
    codes = sorted(code for code, _ in outputs)
    assert codes == [0, 1], outputs
    assert any("already loaded" in out for _, out in outputs)
    assert query(url, "SELECT count(*), (SELECT count(*) FROM moviedash_loads) FROM movies") == [(100_010, 1)]
