"""The HTML report in a real browser: the dashboard's "Report" button, and the file opened offline."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from moviedash import metrics, pipeline
from moviedash.cli import main
from moviedash.params import Filters, SeriesQuery, TopQuery
from moviedash.report import ReportSpec, render_html
from moviedash.viewstate import parse_query
from tests.helpers import no_console_errors, open_offline, wait_for_file

pytestmark = pytest.mark.browser


def without_generated(html: str) -> str:
    return re.sub(r"<p class=\"meta\">Generated: <b>[^<]*</b></p>", "", html)


def test_report_button_downloads_the_report_of_the_view(page, conn: sqlite3.Connection, tmp_path: Path) -> None:
    # Every time-series chart weekly: what the command line's --resolution gives.
    query = "?" + "&".join(f"{key}=weekly" for key in metrics.SERIES_KEYS) + "&top=5&rank=minutes&market=NO"
    page.open(query)
    page.duo.find_element("#report-button").click()
    downloaded = wait_for_file(page, "moviedash-report.html").read_text(encoding="utf-8")
    state, ignored = parse_query(query)
    assert ignored == ()
    assert without_generated(downloaded) == without_generated(render_html(conn, ReportSpec.from_view(state)))
    # ... which is what the command line writes for the same selection.
    cli_out = tmp_path / "cli.html"
    result = CliRunner().invoke(main, [
        "report", "--db", str(page.db), "--out", str(cli_out),
        "--resolution", "weekly", "--top", "5", "--rank", "minutes", "--market", "NO",
    ])
    assert result.exit_code == 0, result.output
    assert without_generated(downloaded) == without_generated(cli_out.read_text(encoding="utf-8"))
    no_console_errors(page)

    # The downloaded file opens offline and draws the view's numbers.
    open_offline(page, Path(page.duo.download_path) / "moviedash-report.html")
    users = page.duo.driver.execute_script("return document.getElementById('chart-unique_users').data[0].y")
    frame = pipeline.series_data(conn, "unique_users", SeriesQuery("weekly", Filters(market=("NO",)))).frame
    assert [int(v) for v in users] == frame["values"].tolist()
    assert [e for e in page.duo.driver.get_log("browser") if e["level"] == "SEVERE"] == []


def test_cli_report_opens_from_a_file_url_with_no_console_errors(page, conn: sqlite3.Connection,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["report", "--db", str(page.db), "--out", str(out), "--resolution", "weekly", "--device", "TV"]
    )
    assert result.exit_code == 0, result.output
    page.duo.driver.get_log("browser")  # drop anything logged before
    open_offline(page, out)
    headings = [h.text for h in page.duo.find_elements("section.chart h2")]
    assert headings[:len(metrics.MEASURES) + 2] == [
        *(f"{m.label} (weekly)" for m in metrics.MEASURES), "Top 10 titles by plays",
        "When people watch: plays by weekday and hour started",
    ]
    # Then the engagement page's charts, as the page first shows them.
    most_played = pipeline.top_data(conn, TopQuery(1, "plays", Filters(device=("TV",)))).frame["title"][0]
    engagement_end = len(metrics.MEASURES) + 2 + 7
    assert headings[len(metrics.MEASURES) + 2:engagement_end] == [
        "Completion rate (weekly)", "Completion rate by device", "How far people get",
        f"Where people stop: {most_played}",
        "Poor-quality plays (weekly)", "Worst segments (weekly)", "Quality against completion",
    ]
    # Then the series page's: the top shows and the selection's most played show.
    top_show = pipeline.top_data(conn, TopQuery(1, "plays", Filters(device=("TV",)), group="shows")).frame["title"][0]
    series_end = engagement_end + 4 + 3
    assert headings[engagement_end:series_end] == [
        "Top 10 shows by plays", f"Viewers per episode: {top_show}", f"Episode drop-off: {top_show}",
        f"Episodes watched per viewer: {top_show}",
        # The binge cards, at their first controls.
        "Binge sessions (weekly)", "Series minutes watched in binges (weekly)", "Most binged shows (top 10)",
    ]
    # Then the audience page's: new and returning viewers, cohorts, concentration and heavy viewers.
    assert headings[series_end:] == [
        "New and returning viewers (weekly)", "Cohort retention (month)", "How concentrated viewing is",
        "The heaviest viewers' share", "Plays per viewer", "Minutes per viewer",
    ]
    assert headings[:2] == ["Unique users (weekly)", "Minutes watched (weekly)"]
    assert [e for e in page.duo.driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
