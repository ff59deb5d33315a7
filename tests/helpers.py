"""Helpers shared by the test files (fixtures are in conftest.py)."""
from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import psycopg
import pytest
from selenium.webdriver.common.keys import Keys

from moviedash import analysis, charts, metrics, pipeline, rollups
from moviedash.dashboard import ids
from moviedash.dashboard.callbacks import FILTER_PROPS
from moviedash.params import RANKS, RESOLUTIONS, Filters, SeriesQuery, TopQuery
from moviedash.report.build import CHART_KEYS
from moviedash.rollups import refresh_derived
from moviedash.rollups.packing import unpack_codes, unpack_columns
from moviedash.store import COLUMNS
from moviedash.store.sqlite import connect_readwrite, insert_rows

if TYPE_CHECKING:
    from tests.browser.conftest import Page

PG_ENV = "MOVIEDASH_TEST_PG"


#: Titles holding the HTML subset Plotly interprets in text (links, styling, line breaks,
#: entities): each must be shown literally, as typed, wherever a chart or report shows it.
MARKUP_TITLES = (
    '<a href="//ev.il">Top</a>',
    "<b>Bold</b> move",
    "<i>Slanted</i>",
    "Line<br>break",
    '<span style="color:red;font-size:40px">Red</span>',
    "E=mc<sup>2</sup>",
    "<sub>low</sub> & <em>high</em>",
    "Tom &amp; Jerry",
    "&lt;b&gt;not bold&lt;/b&gt;",
    "<a href='javascript:alert(1)'>js</a>",
)


#: Text cells a spreadsheet would evaluate as a formula (OWASP "CSV Injection").
FORMULA_TITLES = (
    "=cmd|' /C calc'!A0",
    '+1+HYPERLINK("http://ev.il","x")',
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=HYPERLINK(\"http://ev.il\")",
)


BACKENDS = ("sqlite", "postgresql")


def with_database(url: str, dbname: str, schema: str | None = None) -> str:
    """``url`` pointing at ``dbname`` (and with ``schema`` first on the search path)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("options", "dbname")]
    if schema:
        query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(path=f"/{dbname}", query=urlencode(query)))


def close_pg_pools() -> None:
    """Close the serving pools the test's apps opened (each holds server connections)."""
    postgres = sys.modules.get("moviedash.store.postgres")
    if postgres is not None:
        postgres.close_pools()


def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
              events: Iterable[Mapping[str, Any]]) -> Path | str:
    """For module-scoped fixtures with ``params=BACKENDS``: ``events`` in a new database of that backend."""
    if request.param == "postgresql":
        return build_db(request.getfixturevalue("pg_server").new_database(), events)
    return build_db(tmp_path_factory.mktemp("db") / "m.db", events)


def query(db: str | Path, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
    """Rows of ``sql`` (``?`` placeholders) on either backend; timestamps as SQLite's text."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            values = list(params)
            pg_sql = sql.replace("%", "%%").replace("?", "%s") if values else sql
            found = conn.execute(pg_sql, values or None).fetchall()
        return [tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row) for row in found]
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


def write_sql(db: str | Path, sql: str) -> None:
    """Run one writing statement on either backend and commit it: a change made behind moviedash's back."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(sql)
        return
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


class Recording:
    """A connection (any backend) that records the statements run on it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        self.statements.append(sql)
        return self.conn.execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def event(
    event_date: str,
    userid: str = "u1",
    *,
    minutes: int | None = 10,
    title: str | None = "A",
    sessiontype: str | None = "MOVIE",
    device: str | None = "Computer",
    market: str | None = "NO",
    **extra: Any,
) -> dict[str, Any]:
    """One viewing event with sensible defaults; keys are column names."""
    row = {
        "event_date": event_date,
        "userid": userid,
        "totalminuteswatched": minutes,
        "title": title,
        "sessiontype": sessiontype,
        "device": device,
        "market": market,
    }
    row.update(extra)
    return row


def build_db(path: Path | str, events: Iterable[Mapping[str, Any]]) -> Path | str:
    """Write ``events`` into a new moviedash database at ``path`` (a file or a PostgreSQL URL) and return it."""
    if isinstance(path, str) and path.startswith("postgresql://"):
        from moviedash.store import postgres

        conn = postgres.connect_readwrite(path)
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO movies ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                    [tuple(e.get(c) for c in COLUMNS) for e in events],
                )
            refresh_derived(postgres.PgConnection(conn, path))
            conn.commit()
        finally:
            conn.close()
        return path
    conn = connect_readwrite(path)
    try:
        conn.execute("BEGIN")
        insert_rows(conn, [tuple(e.get(c) for c in COLUMNS) for e in events])
        refresh_derived(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def server_callbacks(client: Any) -> list[dict[str, Any]]:
    """The app's server-side callbacks, as ``/_dash-dependencies`` lists them."""
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if not d.get("clientside_function")]


def outputs_of(spec: str) -> list[dict[str, str]] | dict[str, str]:
    """The ``outputs`` of a callback body for the output key ``spec`` (``a.b`` or ``..a.b...c.d..``)."""
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    outs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outs.append({"id": component, "property": prop.split("@")[0]})
    return outs if spec.startswith("..") else outs[0]


def callback_body(dep: dict[str, Any], values: Mapping[int, object]) -> dict[str, Any]:
    """A well-formed body for callback ``dep``, argument ``n`` (inputs, then state) set to ``values[n]``."""
    inputs = [{**i, "value": values.get(n)} for n, i in enumerate(dep["inputs"])]
    state = [{**s, "value": values.get(len(inputs) + n)} for n, s in enumerate(dep.get("state", []))]
    return {
        "output": dep["output"],
        "outputs": outputs_of(dep["output"]),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "SAMEORIGIN"}


def plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


#: The first and last day of the events of tests/integration/test_dashboard_callbacks.py.
FIRST, LAST = "2013-01-06", "2013-03-01"
#: The controls as the page first shows them for EVENTS.
DEFAULTS: dict[str, Any] = {
    **{f"{ids.resolution(m.key)}.value": "daily" for m in metrics.MEASURES},
    "top-n.value": 10,
    "rank.value": "plays",
    "group.value": "titles",
    "date-range.start_date": FIRST,
    "date-range.end_date": LAST,
    "sessiontype.value": "",
    "device.value": [],
    "market.value": [],
    "theme.value": "light",
    "chart-theme.data": "light",
    "url-restore.data": {"search": ""},
    "url.search": "",
}


class Dashboard:
    """Calls the app's registered callbacks the way the browser does."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.server.test_client()

    def key(self, fragment: str) -> str:
        (key,) = [k for k, spec in self.app.callback_map.items() if fragment in k and "callback" in spec]
        return key

    def post(self, fragment: str, **controls: Any) -> tuple[int, str]:
        """POST the callback whose output contains ``fragment``.

        ``controls`` are ``component_id__property`` keywords (``_`` in the id stands for ``-``).
        """
        key = self.key(fragment)
        spec = self.app.callback_map[key]
        values = dict(DEFAULTS)
        for name, value in controls.items():
            component, prop = name.split("__")
            values[f"{component.replace('_', '-')}.{prop}"] = value
        # The overview's selection stores, as assets/dashboard.js's overviewSelection and overviewFilters
        # write them from the controls.
        filters = [values.get(f"{component}.{prop}") for component, prop in FILTER_PROPS]
        values.setdefault(f"{ids.OVERVIEW_SELECTION}.data", {
            "filters": filters, "theme": values.get(f"{ids.CHART_THEME}.data"),
        })
        values.setdefault(f"{ids.OVERVIEW_FILTERS}.data", {"filters": filters})

        def with_values(items: list[dict[str, str]]) -> list[dict[str, Any]]:
            return [dict(item, value=values.get(f"{item['id']}.{item['property']}")) for item in items]

        if key.startswith(".."):
            outputs: Any = [
                {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
                for part in key.strip(".").split("...")
            ]
        else:
            component, prop = key.rsplit(".", 1)
            outputs = {"id": component, "property": prop}
        body = {
            "output": key,
            "outputs": outputs,
            "inputs": with_values(spec["inputs"]),
            "state": with_values(spec["state"]),
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]][:1],
        }
        response = self.client.post("/_dash-update-component", json=body)
        return response.status_code, response.get_data(as_text=True)

    def outputs(self, fragment: str, **controls: Any) -> dict[str, dict[str, Any]]:
        status, body = self.post(fragment, **controls)
        assert status == 200, body
        return json.loads(body)["response"]

    def figure(self, chart: str, **controls: Any) -> dict[str, Any]:
        return self.outputs(f"{chart}-graph.figure", **controls)[f"{chart}-graph"]["figure"]

    def route(self, url: str) -> Any:
        response = self.client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json() if response.mimetype == "application/json" else response.get_data(as_text=True)


@contextmanager
def raw_path():
    """Force :mod:`moviedash.analysis` onto its raw ``movies`` SQL (as for a course-made database)."""
    with mock.patch.object(rollups, "status", lambda conn: None):
        yield
ROOT = Path(__file__).resolve().parents[1]


# Browser tests (tests/browser): reading and driving the page of a ``Page``.


ALL = Filters()


def series(conn: sqlite3.Connection, metric: str, resolution: str = "daily", filters: Filters = ALL) -> dict[str, Any]:
    frame = pipeline.SERIES[metric](conn, SeriesQuery(resolution, filters))
    return {"x": [str(d) for d in frame["date"]], "y": [int(v) for v in frame["values"]]}


def top(conn: sqlite3.Connection, num: int = 10, rank: str = "plays", filters: Filters = ALL) -> dict[str, Any]:
    frame = analysis.toplist(conn, TopQuery(num, rank, filters))
    return {"y": [str(t) for t in frame["title"]], "x": [int(v) for v in frame["values"]]}


def heat(conn: sqlite3.Connection, filters: Filters = ALL) -> dict[str, Any]:
    return {"z": analysis.heatmap(conn, filters).to_numpy().tolist()}


def kpi_texts(conn: sqlite3.Connection, filters: Filters) -> dict[str, tuple[str, str]]:
    comparison = analysis.compare_previous(conn, filters)
    return {
        kpi.name: (kpi.value, f"{kpi.change} {kpi.comparison}".strip())
        for kpi in charts.kpis(comparison.current, comparison.previous, comparison.days)
    }


def shown_kpis(page: Page) -> dict[str, tuple[str, str]]:
    return {
        name: (page.text(f"#kpi-{name}-value"), page.text(f"#kpi-{name}-delta"))
        for name in ("viewers", "plays", "hours", "minutes-per-viewer")
    }


def assert_view(
    page: Page,
    conn: sqlite3.Connection,
    filters: Filters = ALL,
    *,
    users: str = "daily",
    minutes: str = "daily",
    num: int = 10,
    rank: str = "plays",
) -> None:
    """Every chart and KPI shows what the analysis gives for this selection."""
    expected = {
        "users-graph": series(conn, "unique_users", users, filters),
        "minutes-graph": series(conn, "minutes_watched", minutes, filters),
        "top-graph": top(conn, num, rank, filters),
        "heatmap-graph": heat(conn, filters),
    }
    for graph, data in expected.items():
        if any(value == [] for value in data.values()) or data.get("z") and not any(map(any, data["z"])):
            page.wait_for_message(graph, charts.EMPTY_MESSAGE)
        else:
            page.wait_for_data(graph, data)
    want = kpi_texts(conn, filters)
    try:
        page.wait(lambda: shown_kpis(page) == want, "KPI cards")
    except Exception:  # noqa: BLE001 - show the difference
        assert shown_kpis(page) == want
        raise


def no_console_errors(page: Page) -> None:
    assert page.duo.get_logs() == []


def choose(page: Page, group: str, label: str) -> None:
    """Click the option labelled ``label`` of the segmented control ``#group``."""
    for option in page.duo.find_elements(f"#{group} label"):
        if option.text == label:
            option.click()
            return
    raise AssertionError(f"no option {label!r} in #{group}")


def select(page: Page, dropdown: str, label: str) -> None:
    """Pick ``label`` in a Dash dropdown and close its menu."""
    page.duo.select_dcc_dropdown(f"#{dropdown}", label)
    page.duo.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    page.wait(lambda: page.count(".dash-dropdown-options") == 0, "menu closed")


def wait_for_file(page: Page, name: str) -> Path:
    path = Path(page.duo.download_path) / name
    page.wait(lambda: path.is_file() and path.stat().st_size > 0 and not Path(f"{path}.crdownload").exists(),
              f"download {name}")
    return path


def open_offline(page, path: Path) -> None:
    """Open a report file from disk and wait until plotly has drawn every chart."""
    driver = page.duo.driver
    driver.get(path.resolve().as_uri())
    page.wait(
        lambda: driver.execute_script(
            "const plots = document.querySelectorAll('.js-plotly-plot');"
            # A chart with no numbers draws its message (an annotation) instead of traces.
            "return plots.length === arguments[0] && [...plots].every(p => p._fullData"
            " && (p._fullData.length > 0 || (p._fullLayout.annotations || []).length > 0)"
            " && p.querySelector('.main-svg'));",
            len(CHART_KEYS),
        ),
        f"all {len(CHART_KEYS)} report charts drawn",
    )


def answers(conn: sqlite3.Connection, filters: Filters, nums=(1, 10, 1000)) -> dict:
    """Every analysis answer for one selection (frames as records, so they compare with ==)."""
    out: dict = {}
    for resolution in RESOLUTIONS:
        for name in metrics.SERIES:
            df = analysis.series(conn, name, SeriesQuery(resolution, filters))
            out[name, resolution] = (list(df.dtypes.astype(str)), df.to_dict("records"))
    for rank in RANKS:
        for num in nums:
            df = analysis.toplist(conn, TopQuery(num, rank, filters))
            out["top", rank, num] = (list(df.dtypes.astype(str)), df.to_dict("records"))
    grid = analysis.heatmap(conn, filters)
    out["heatmap"] = (grid.to_dict(), list(grid.index), list(grid.columns), str(grid.values.dtype))
    out["totals"] = analysis.totals(conn, filters)
    out["compare"] = analysis.compare_previous(conn, filters)
    out["unknown"] = analysis.unknown_values(conn, filters)
    out["span"] = analysis.span(conn)
    out["options"] = analysis.options(conn)
    return out


def title_entries(conn: Any, table: str) -> list[tuple[Any, ...]]:
    """Every (period, dims, title) entry of ``md_title_day`` or ``md_title_month`` unpacked:
    ``(period, sessiontype, device, market, title, plays, minutes, {engagement column: sum}, deciles)``,
    sorted; ``deciles``: the entry's plays per completion decile (the codes must number its
    ``completion_plays``).  ``conn``: any connection of the database (SQLite or PostgreSQL)."""
    period = "day" if table == "md_title_day" else "month"
    names = {int(i): str(t) for i, t in conn.execute("SELECT id, title FROM md_titles").fetchall()}
    columns = rollups.TITLE_ENGAGEMENT_COLUMNS
    rated = columns.index("completion_plays")
    out = []
    sql = (f"SELECT {period}, sessiontype, device, market, titles, plays, minutes, engagement, deciles "
           f"FROM {table}")
    for key, *dims, blob_ids, blob_plays, blob_minutes, engagement, deciles in conn.execute(sql).fetchall():
        ids = np.frombuffer(bytes(blob_ids), dtype="<i4")
        plays, minutes = (unpack_columns(bytes(b), 1, len(ids))[0] for b in (blob_plays, blob_minutes))
        sums = unpack_columns(bytes(engagement), len(columns), len(ids))
        codes = unpack_codes(bytes(deciles), int(sums[rated].sum()))
        ends = np.cumsum(sums[rated])
        for i, title in enumerate(ids.tolist()):
            own = codes[ends[i] - sums[rated][i]:ends[i]]
            assert list(own) == sorted(own), "codes ascend within an entry"
            out.append((str(key)[:10], *dims, names[title], int(plays[i]), int(minutes[i]),
                        {c: int(s[i]) for c, s in zip(columns, sums, strict=True)},
                        tuple(np.bincount(own, minlength=rollups.DECILES).tolist())))
    return sorted(out, key=lambda e: e[:5])


def assert_same_as_raw(conn: sqlite3.Connection, filters: Filters, **kw) -> None:
    assert rollups.status(conn) is not None and rollups.status(conn).usable
    analysis.CACHE.clear()
    fast = answers(conn, filters, **kw)
    with raw_path():
        slow = answers(conn, filters, **kw)
    for key in slow:
        assert fast[key] == slow[key], (filters, key)


HAND_EVENTS = [
    # A week across a month end (Mon 2013-01-28 .. Sun 2013-02-03) and a year end.
    event("2012-12-31 00:00:00", "a", minutes=5, title="Argo"),
    event("2013-01-01 23:59:59", "b", minutes=7, title="Argo", device=None),
    event("2013-01-28 08:00:00", "a", minutes=11, title="Skyfall", market=None),
    event("2013-02-03 22:00:00", "c", minutes=None, title="Skyfall", sessiontype=None),
    event("2013-02-03 22:30:00", "c", minutes=3, title="", device=""),
    event("2013-02-15 12:00:00", "d", minutes=13, title=None, market=""),
    event("2013-02-28 12:00:00", "a", minutes=17, title="p<e5> tur"),  # a course-style escape
    event("2013-03-01 00:00:00", "e", minutes=19, title="B", device="iPad"),
    event("2013-03-31 23:00:00", "e", minutes=23, title="A", device="iPad", market="SE"),
    event("2013-04-01 09:00:00", "f", minutes=0, title="A", sessiontype="SERIES"),
    event("2013-04-01 09:00:00", "f", minutes=29, title="B", sessiontype="SERIES"),
    # Placeholders of the Unknown bucket: a market 0 (as in the sample) and a literal "unknown".
    event("2013-03-15 10:00:00", "g", minutes=2, title=None, market="0"),
    event("2013-03-16 10:00:00", "g", minutes=4, title=None, device="unknown", sessiontype=""),
]
