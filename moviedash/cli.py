"""The ``moviedash`` command line: serve, load, demo.

Every command takes ``--db PATH`` (env ``MOVIEDASH_DB``, default ``./moviedb``):
a SQLite file or a PostgreSQL URL (:mod:`moviedash.backend`).
Domain errors (:class:`~moviedash.errors.MoviedashError`) become one clean
line on stderr and exit status 1; usage errors exit 2, as click does.
"""
from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from . import backend
from .backend import is_postgres
from .errors import DatabaseNotFound, MoviedashError

DEFAULT_DB = "moviedb"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--db`` option shared by every command."""
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        envvar="MOVIEDASH_DB",
        show_default=True,
        show_envvar=True,
        help="SQLite database file (a path or sqlite:///path), or a PostgreSQL URL "
             "(postgresql://user:pass@host:5432/dbname).",
    )(func)


def domain_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a MoviedashError into a clean click error (exit status 1, no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MoviedashError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="moviedash")
def main() -> None:
    """moviedash: a dashboard, reports and JSON API over movie/series viewing events."""


def db_was_named(ctx: click.Context) -> bool:
    """True when the user chose the database (option or environment), not the default."""
    return ctx.get_parameter_source("db") in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def ensure_demo_database(db: str, named: bool) -> None:
    """Create the demo database at ``db`` when no database was named and none exists.

    A database the user *named* must exist: that is left to the caller's check.
    """
    if named or is_postgres(db) or Path(db).exists():
        return
    from .demo import DEFAULT_EVENTS, write_demo

    click.echo(f"No database at {db}: generating a demo database there ({DEFAULT_EVENTS:,} synthetic events)...", err=True)
    write_demo(db)
    click.echo(f"Demo database written to {db}. Load your own data with: moviedash load FILE.csv --db PATH", err=True)


def run_server(app: Any, host: str, port: int, threads: int, debug: bool) -> None:
    """Serve ``app``: waitress (production WSGI) by default, Dash's dev server with ``debug``."""
    if debug:
        if host not in LOOPBACK:
            click.echo(f"warning: --debug serves on 127.0.0.1 only, not {host}", err=True)
        click.echo("warning: debug mode: never expose this server to a network", err=True)
        app.run(host="127.0.0.1", port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    from .factory import freeze_startup_objects

    freeze_startup_objects()
    click.echo(f"moviedash: serving {backend.parse(app.server.config['MOVIEDASH_DB']).display} at http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="moviedash")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads of the WSGI server.")
@click.option("--query-timeout", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a request's queries may run before they are stopped (503); 0 for no limit.")
@click.option("--allow-embedding", "embed_origins", multiple=True, metavar="ORIGIN",
              help="Let pages of ORIGIN (e.g. https://intranet.example.com) embed the dashboard in a frame; repeatable. "
                   "Default: same origin only.")
@click.option("--debug", is_flag=True, help="Dash's development server with debugging; binds to 127.0.0.1 only.")
@click.pass_context
@domain_errors
def serve(
    ctx: click.Context, db: str, host: str, port: int, threads: int, query_timeout: float,
    embed_origins: tuple[str, ...], debug: bool,
) -> None:
    """Run the dashboard and the JSON API over DB (read-only)."""
    from . import create_app

    try:
        app = create_app(db=db, MOVIEDASH_FRAME_ANCESTORS=embed_origins, MOVIEDASH_QUERY_TIMEOUT=query_timeout,
                         MOVIEDASH_POOL_SIZE=threads)
    except DatabaseNotFound:
        if db_was_named(ctx):
            raise
        raise MoviedashError(
            f"database not found: {db}. Create one with 'moviedash demo' or "
            "'moviedash load FILE.csv', or name one with --db / MOVIEDASH_DB."
        ) from None
    run_server(app, host, port, threads, debug)


@main.command()
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Write nothing if any row is invalid.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), help="Write all rejected rows to this CSV [default: FILE.rejects.csv beside each file].")
@click.option("--force", is_flag=True, help="Load a file again even if the same content was loaded before.")
@domain_errors
def load(db: str, files: tuple[Path, ...], strict: bool, rejects: Path | None, force: bool) -> None:
    """Import viewing events from CSV FILES into DB (created if missing).

    FILES are in the course's format (no header, the 13 columns of the movies
    table in order) or have a header row naming the columns in any order.
    Everything is one transaction: an error leaves DB exactly as it was.
    Exit status: 0 all rows loaded, 1 rows rejected or nothing loaded.
    """
    from .loader import load_files

    started = time.perf_counter()
    report = load_files(db, files, strict=strict, rejects=rejects, force=force)
    elapsed = time.perf_counter() - started
    for f in report.files:
        line = f"{f.path}: {f.loaded:,} valid, {f.rejected:,} rejected"
        if f.rejects_path:
            line += f" (see {f.rejects_path})"
        click.echo(line)
    rate = report.loaded / elapsed if elapsed > 0 else 0.0
    if not report.committed:
        click.echo(f"--strict: {report.rejected:,} invalid rows, nothing loaded into {backend.parse(db).display}", err=True)
        sys.exit(1)
    click.echo(f"loaded {report.loaded:,}, rejected {report.rejected:,} into {backend.parse(db).display} in {elapsed:.1f} s ({rate:,.0f} rows/s)")
    if report.rejected:
        sys.exit(1)


@main.command()
@db_option
@click.option("--events", default=None, type=click.IntRange(min=1), help="Number of events to generate [default: 100,000].")
@click.option("--seed", default=None, type=int, help="Random seed; the same seed gives the same database [default: 42].")
@click.option("--force", is_flag=True, help="Replace DB if it exists.")
@domain_errors
def demo(db: str, events: int | None, seed: int | None, force: bool) -> None:
    """Write a realistic synthetic database of viewing events to DB."""
    from .demo import DEFAULT_EVENTS, DEFAULT_SEED, write_demo

    started = time.perf_counter()
    written = write_demo(db, events=events or DEFAULT_EVENTS, seed=DEFAULT_SEED if seed is None else seed, force=force)
    click.echo(f"wrote {written:,} demo events to {backend.parse(db).display} in {time.perf_counter() - started:.1f} s")


@main.command()
@db_option
@click.option("--out", type=click.Path(path_type=Path), help="Output file (html) or folder (png/svg/pdf)  [default: report.html, or report/ for images].")
@click.option("--format", "fmt", type=click.Choice(["html", "png", "svg", "pdf"]), default="html", show_default=True, help="html: one self-contained file that opens offline; png/svg/pdf: one file per chart.")
@click.option("--resolution", type=click.Choice(["daily", "weekly", "monthly"]), default="daily", show_default=True, help="Period of the unique-users and minutes-watched charts.")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True, help="Number of titles in the top list.")
@click.option("--rank", type=click.Choice(["plays", "minutes", "viewers"]), default="plays", show_default=True, help="What ranks the top titles.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day of the selection (YYYY-MM-DD, inclusive).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the selection (YYYY-MM-DD, inclusive).")
@click.option("--sessiontype", multiple=True, help="Only this session type (MOVIE, SERIES; unknown: events without one); repeat for several.")
@click.option("--device", multiple=True, help="Only this device (unknown: events without one); repeat for several.")
@click.option("--market", multiple=True, help="Only this market (unknown: events without one); repeat for several.")
@click.option("--title", default="moviedash report", show_default=True, help="Title of the report.")
@click.option("--width", type=click.IntRange(200, 4000), help="Chart width in pixels  [default: page width; 1000 for images].")
@click.option("--height", type=click.IntRange(150, 4000), help="Chart height in pixels  [default: 450; 560 for images].")
@domain_errors
def report(
    db: str, out: Path | None, fmt: str, resolution: str, top: int, rank: str, start: Any, end: Any,
    sessiontype: tuple[str, ...], device: tuple[str, ...], market: tuple[str, ...], title: str,
    width: int | None, height: int | None,
) -> None:
    """Write a report of DB's KPIs and charts for a selection: HTML, or PNG/SVG/PDF per chart."""
    from . import analysis
    from .db import connect_readonly
    from .params import Filters
    from .report import ReportSpec, export_images, render_html

    if start and end and end < start:
        raise click.BadParameter("must not be before --start", param_hint="--end")
    try:
        filters = Filters.create(
            start=start.date() if start else None, end=end.date() if end else None,
            sessiontype=list(sessiontype), device=list(device), market=list(market),
        )
    except MoviedashError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.parameter}") from None
    spec = ReportSpec(users=resolution, minutes=resolution, top=top, rank=rank, filters=filters,
                      title=title, width=width, height=height)
    conn = connect_readonly(db)
    try:
        try:
            analysis.check_known(conn, filters)  # a value not in the data: a usage error, not a report of zeros
        except MoviedashError as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.parameter}") from None
        if fmt == "html":
            target = out or Path("report.html")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_html(conn, spec), encoding="utf-8")
            click.echo(f"wrote {target} ({target.stat().st_size / 2**20:.1f} MiB, opens offline)")
        else:
            folder = out or Path("report")
            for path in export_images(conn, spec, folder, fmt):
                click.echo(f"wrote {path}")
    finally:
        conn.close()


if __name__ == "__main__":  # pragma: no cover
    main()
