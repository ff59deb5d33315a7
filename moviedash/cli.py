"""The ``moviedash`` command line: serve, load, demo, report; users and tokens for sign-in.

Every command takes ``--db PATH`` (env ``MOVIEDASH_DB``, default ``./moviedb``):
a SQLite file or a PostgreSQL URL (:mod:`moviedash.store.target`).
Domain errors (:class:`~moviedash.errors.MoviedashError`) and the operating
system's (a full disk, a path through a file) become one clean line on stderr
and exit status 1; usage errors exit 2, as click does.

Every command's help ends with an example (an epilog made by :func:`example`)
and has a one-line ``short_help`` for the command list.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from . import metrics, server, store
from . import settings as data_settings
from .errors import DatabaseNotFound, MoviedashError
from .params import parse_date_text
from .server import ServerOptions
from .store import is_postgres

DEFAULT_DB = "moviedb"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: The load summary shows a rate only for loads this long and this large.
RATE_MIN_SECONDS, RATE_MIN_ROWS = 1.0, 10_000


def _check_db(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A malformed ``--db`` URL is refused (one line, exit status 1) before anything is read or opened."""
    try:
        store.parse(value)
    except MoviedashError as exc:
        raise click.ClickException(f"--db: {exc.message}") from None
    return value


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--db`` option shared by every command."""
    return click.option(
        "--db",
        "db",
        default=DEFAULT_DB,
        envvar="MOVIEDASH_DB",
        show_default=True,
        show_envvar=True,
        callback=_check_db,
        help="SQLite database file (a path or sqlite:///path), or a PostgreSQL URL "
             "(postgresql://user:pass@host:5432/dbname).",
    )(func)


def auth_file_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--auth-file`` option: keep users and tokens in their own SQLite file, not in the database."""
    return click.option(
        "--auth-file",
        "auth_file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="MOVIEDASH_AUTH_FILE",
        show_envvar=True,
        help="Keep users and tokens in this SQLite file instead of in DB (which then stays untouched).",
    )(func)


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which path."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


def domain_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a MoviedashError or an OSError into a clean click error (exit status 1, no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MoviedashError as exc:
            raise click.ClickException(exc.message) from None
        except OSError as exc:
            raise click.ClickException(os_error_message(exc)) from None

    return wrapper


def plural(count: int, word: str) -> str:
    """``1 row``, ``2 rows``, ``1,000 rows``."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def load_rate(rows: int, seconds: float) -> str:
    """`` (N rows/s)`` for the load summary; empty for a short or small load, where a rate says nothing."""
    if seconds < RATE_MIN_SECONDS or rows < RATE_MIN_ROWS:
        return ""
    return f" ({rows / seconds:,.0f} rows/s)"


class DateType(click.ParamType):
    """A ``YYYY-MM-DD`` option, refused in the wording of the API and the loader ("not a real date")."""

    name = "date"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date_text(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def example(*lines: str, note: str = "") -> str:
    """A help epilog: "Example" and command lines, printed as written (click's ``\b``), after the options."""
    return "\b\nExample" + (f" ({note})" if note else "") + ":\n" + "\n".join(f"  {line}" for line in lines)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=example("moviedash demo", "moviedash serve", note="a demo database, then the dashboard"),
)
@click.version_option(package_name="moviedash")
def main() -> None:
    """moviedash: a dashboard, reports and JSON API over movie/series viewing events.

    Run 'moviedash COMMAND --help' for a command's options and an example.
    """


def db_was_named(ctx: click.Context) -> bool:
    """True when the user chose the database (option or environment), not the default."""
    return ctx.get_parameter_source("db") in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def ensure_demo_database(db: str, named: bool) -> None:
    """Create the demo database at ``db`` when no database was named and none exists.

    A database the user *named* must exist: that is left to the caller's check.
    """
    if named or is_postgres(db) or Path(db).exists():
        return
    from .ingest.demo import DEFAULT_EVENTS, write_demo

    click.echo(
        f"No database at {db}: generating a demo database there ({DEFAULT_EVENTS:,} synthetic events)...", err=True
    )
    write_demo(db)
    click.echo(f"Demo database written to {db}. Load your own data with: {load_command(db)}", err=True)


def load_command(db: str) -> str:
    """``moviedash load FILE.csv --db DB`` as it runs from a fresh shell in the current folder."""
    return command_line(db, "load", "FILE.csv")


def command_line(db: str, *args: str) -> str:
    """``moviedash ARGS... --db DB`` as it runs from a fresh shell in the current folder.

    A virtual environment's ``bin`` is not on a fresh shell's PATH, so the
    command is named by its path (``.venv/bin/moviedash``) when it sits beside
    this Python; a bare database name gets ``./`` so it reads as a path.
    """
    script = Path(sys.executable).parent / "moviedash"  # not resolved: a venv's python is a symlink
    if script.is_file():
        relative = os.path.relpath(script)
        command = relative if not relative.startswith("..") else str(script)
    else:
        command = "moviedash"
    target = db if is_postgres(db) or os.path.dirname(db) else f"./{db}"
    return " ".join(shlex.quote(part) for part in (command, *args, "--db", target))


def run_server(
    app: Any,
    host: str,
    port: int,
    threads: int,
    debug: bool,
    options: ServerOptions = ServerOptions(),
    notes: tuple[str, ...] = (),
) -> None:
    """Serve ``app``: waitress (production WSGI, :mod:`moviedash.server`) by default, Dash's dev server with ``debug``.

    The port is bound before anything claims to serve: a busy port is a
    :class:`MoviedashError`.  Returns after SIGTERM/SIGINT once the requests in
    progress have finished (or ``options.shutdown_timeout`` has passed).
    ``notes`` (e.g. how sign-in stands) are printed once the port is bound.
    """
    if debug:
        if host not in LOOPBACK:
            click.echo(f"warning: --debug serves on 127.0.0.1 only, not {host}", err=True)
        click.echo("warning: debug mode: never expose this server to a network", err=True)
        app.run(host="127.0.0.1", port=port, debug=True)
        return
    from .factory import freeze_startup_objects
    from .web.security import parse_origins, security_headers

    headers = security_headers(parse_origins(app.server.config.get("MOVIEDASH_FRAME_ANCESTORS", ())))
    serving = server.bind(
        app.server, host, port, threads, options, headers, say=lambda line: click.echo(line, err=True)
    )
    freeze_startup_objects()
    for note in notes:
        click.echo(f"moviedash: {note}", err=True)
    click.echo(
        f"moviedash: serving {store.parse(app.server.config['MOVIEDASH_DB']).display} at http://{host}:{port}/ "
        "(Ctrl+C to stop)",
        err=True,
    )
    serving.run()


def _count_option(name: str) -> Callable[[click.Context, click.Parameter, Any], int]:
    """A click callback: the option's text as a whole number ≥ 1 in plain ASCII digits."""

    def convert(ctx: click.Context, param: click.Parameter, value: Any) -> int:
        try:
            return server.parse_count(value, name)
        except MoviedashError as exc:
            raise click.BadParameter(exc.message.replace(f"{name} must be", "must be")) from None

    return convert


def _seconds_option(name: str, *, positive: bool) -> Callable[[click.Context, click.Parameter, Any], float]:
    """A click callback: the option's text as seconds, refusing nan, inf, negatives (and 0 with ``positive``)."""

    def convert(ctx: click.Context, param: click.Parameter, value: Any) -> float:
        try:
            return server.parse_seconds(value, name, positive=positive)
        except MoviedashError as exc:
            raise click.BadParameter(exc.message.replace(f"{name} must be", "must be")) from None

    return convert


@main.command(
    short_help="Run the dashboard and the JSON API over DB.", epilog=example("moviedash serve --db moviedb --port 8050")
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads of the WSGI server."
)
@click.option(
    "--query-timeout",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a request's queries may run before they are stopped (503); 0 for no limit.",
)
@click.option(
    "--allow-embedding",
    "embed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let pages of ORIGIN (e.g. https://intranet.example.com) embed the dashboard in a frame; repeatable. "
    "Default: same origin only.",
)
@click.option(
    "--connection-limit",
    default=str(server.DEFAULT_CONNECTION_LIMIT),
    show_default=True,
    envvar="MOVIEDASH_CONNECTION_LIMIT",
    show_envvar=True,
    metavar="N",
    callback=_count_option("--connection-limit"),
    help="Open connections at most; more wait until one closes.",
)
@click.option(
    "--channel-timeout",
    default=str(server.DEFAULT_CHANNEL_TIMEOUT),
    show_default=True,
    envvar="MOVIEDASH_CHANNEL_TIMEOUT",
    show_envvar=True,
    metavar="SECONDS",
    callback=_seconds_option("--channel-timeout", positive=True),
    help="Close a connection idle this long, or this slow to send one request (answered 408).",
)
@click.option(
    "--shutdown-timeout",
    default=str(server.DEFAULT_SHUTDOWN_TIMEOUT),
    show_default=True,
    envvar="MOVIEDASH_SHUTDOWN_TIMEOUT",
    show_envvar=True,
    metavar="SECONDS",
    callback=_seconds_option("--shutdown-timeout", positive=False),
    help="On SIGTERM/SIGINT: stop listening, let requests in progress finish this long, then exit 0.",
)
@click.option("--debug", is_flag=True, help="Dash's development server with debugging; binds to 127.0.0.1 only.")
@auth_file_option
@click.option(
    "--no-auth",
    is_flag=True,
    envvar="MOVIEDASH_NO_AUTH",
    show_envvar=True,
    help="Serve without sign-in, even on a network address or when users exist "
    "(e.g. behind a proxy that authenticates).",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    envvar="MOVIEDASH_SECURE_COOKIES",
    show_envvar=True,
    help="Mark the session cookie Secure (the site is reached over HTTPS, e.g. through a TLS proxy).",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    envvar="MOVIEDASH_BEHIND_PROXY",
    show_envvar=True,
    help="Trust one reverse proxy's X-Forwarded-For and X-Forwarded-Proto (client address for "
    "rate limits, HTTPS for Secure cookies). Only with such a proxy in front.",
)
@click.option(
    "--session-hours",
    type=click.FloatRange(min=0, min_open=True, max=8784),
    default=12.0,
    show_default=True,
    envvar="MOVIEDASH_SESSION_HOURS",
    show_envvar=True,
    help="A signed-in session ends after this many hours without a request.",
)
@click.pass_context
@domain_errors
def serve(
    ctx: click.Context,
    db: str,
    host: str,
    port: int,
    threads: int,
    query_timeout: float,
    embed_origins: tuple[str, ...],
    connection_limit: int,
    channel_timeout: float,
    shutdown_timeout: float,
    debug: bool,
    auth_file: Path | None,
    no_auth: bool,
    secure_cookies: bool,
    behind_proxy: bool,
    session_hours: float,
) -> None:
    """Run the dashboard and the JSON API over DB (read-only).

    Once a user or token exists (moviedash users add), every page and route
    needs a sign-in or a token. Serving on a network address with no user is
    refused unless --no-auth is given; on 127.0.0.1 it stays open until then.
    """
    from . import auth, create_app

    bound = "127.0.0.1" if debug else host  # run_server binds to loopback in debug mode
    mode = "off" if no_auth else ("auto" if bound in LOOPBACK else "required")
    try:
        app = create_app(
            db=db,
            MOVIEDASH_FRAME_ANCESTORS=embed_origins,
            MOVIEDASH_QUERY_TIMEOUT=query_timeout,
            MOVIEDASH_POOL_SIZE=threads,
            MOVIEDASH_AUTH=mode,
            MOVIEDASH_AUTH_FILE=auth_file,
            MOVIEDASH_SECURE_COOKIES=secure_cookies,
            MOVIEDASH_BEHIND_PROXY=behind_proxy,
            MOVIEDASH_SESSION_HOURS=session_hours,
        )
    except DatabaseNotFound:
        if db_was_named(ctx):
            raise
        raise MoviedashError(
            f"database not found: {db}. Create one with 'moviedash demo' or "
            "'moviedash load FILE.csv', or name one with --db / MOVIEDASH_DB."
        ) from None
    sign_in = auth.check_serving(app.server, bound, "--no-auth")  # a refusal comes before anything binds
    options = ServerOptions(
        connection_limit=connection_limit, channel_timeout=channel_timeout, shutdown_timeout=shutdown_timeout
    )
    run_server(app, host, port, threads, debug, options, notes=(sign_in,))


@main.command(
    short_help="Import viewing events from CSV files into DB.", epilog=example("moviedash load events.csv --db moviedb")
)
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Write nothing if any row is invalid.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write all rejected rows to this CSV [default: FILE.rejects.csv beside each file].",
)
@click.option("--force", is_flag=True, help="Load a file again even if the same content was loaded before.")
@domain_errors
def load(db: str, files: tuple[Path, ...], strict: bool, rejects: Path | None, force: bool) -> None:
    """Import viewing events from CSV FILES into DB (created if missing).

    FILES are in the course's format (no header, the 13 columns of the movies
    table in order) or have a header row naming the columns in any order.
    Everything is one transaction: an error leaves DB exactly as it was.
    Exit status: 0 all rows loaded, 1 rows rejected or nothing loaded
    (nothing loaded is not recorded: the same files may be loaded later).
    """
    from .ingest.loader import load_files

    started = time.perf_counter()
    report = load_files(db, files, strict=strict, rejects=rejects, force=force)
    elapsed = time.perf_counter() - started
    for f in report.files:
        line = f"{f.path}: {f.loaded:,} valid, {f.rejected:,} rejected"
        if f.rejects_path:
            line += f" (see {f.rejects_path})"
        click.echo(line)
    target = store.parse(db).display
    if not report.committed:
        if strict and report.rejected:
            why = f"--strict: {plural(report.rejected, 'invalid row')}"
        elif report.rejected:
            why = "no valid rows"
        else:
            why = f"no rows in {'the file' if len(files) == 1 else 'the files'}"
        click.echo(f"{why}, nothing loaded into {target}", err=True)
        sys.exit(1)
    click.echo(
        f"loaded {report.loaded:,}, rejected {report.rejected:,} into {target} in {elapsed:.1f} s"
        f"{load_rate(report.loaded, elapsed)}"
    )
    for notice in load_notices(db, report.anonymous, report.capped):
        click.echo(notice)
    if report.rejected:
        sys.exit(1)


def load_notices(db: str, anonymous: int, capped: int) -> list[str]:
    """What a load tells about the data-quality settings: the anonymous user id and capped completions."""
    notices = []
    if anonymous:
        user = data_settings.ANONYMOUS_USER
        conn = store.connect_readonly(db)
        try:
            excluded = user in data_settings.load(conn).exclude_users
        finally:
            conn.close()
        what = f"{plural(anonymous, 'event')} {'has' if anonymous == 1 else 'have'} the anonymous user id {user}"
        if excluded:
            notices.append(f"{what}; left out of viewer counts (setting exclude_users)")
        else:
            command = command_line(db, "settings", "set", "exclude_users", user)
            notices.append(f"{what}; to leave it out of viewer counts: {command}")
    if capped:
        notices.append(f"{plural(capped, 'row')} with viewpercentage above 100 (capped at 100 for completion)")
    return notices


@main.command(
    short_help="Write a synthetic demo database to DB.",
    epilog=example("moviedash demo --db moviedb --events 1000000 --seed 7"),
)
@db_option
@click.option(
    "--events",
    default=None,
    type=click.IntRange(min=1),
    help="Number of events to generate, at most 200,000,000 (which needs about 4 GB of memory "
    "and 30 GB of disk) [default: 100,000].",
)
@click.option(
    "--seed", default=None, type=int, help="Random seed; the same seed gives the same database [default: 42]."
)
@click.option("--force", is_flag=True, help="Replace DB if it exists.")
@domain_errors
def demo(db: str, events: int | None, seed: int | None, force: bool) -> None:
    """Write a realistic synthetic database of viewing events to DB."""
    from .ingest.demo import DEFAULT_EVENTS, DEFAULT_SEED, MAX_EVENTS, write_demo

    if events is not None and events > MAX_EVENTS:
        # Checked here, not by click.IntRange: the limit lives with the generator (demo imports pandas).
        raise click.BadParameter(f"{events:,} is more than the maximum of {MAX_EVENTS:,} events", param_hint="--events")

    started = time.perf_counter()
    written = write_demo(db, events=events or DEFAULT_EVENTS, seed=DEFAULT_SEED if seed is None else seed, force=force)
    click.echo(f"wrote {written:,} demo events to {store.parse(db).display} in {time.perf_counter() - started:.1f} s")


@main.command(
    short_help="Write an HTML report (or PNG/SVG/PDF charts) of DB.",
    epilog=example("moviedash report --db moviedb --out q2.html --start 2024-04-01 --market NO"),
)
@db_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output file (html) or folder (png/svg/pdf)  [default: report.html, or report/ for images].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "png", "svg", "pdf"]),
    default="html",
    show_default=True,
    help="html: one self-contained file that opens offline; png/svg/pdf: one file per chart.",
)
@click.option(
    "--resolution",
    type=click.Choice(["daily", "weekly", "monthly"]),
    default="daily",
    show_default=True,
    help="Period of the time-series charts.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Number of titles in the top list.",
)
@click.option(
    "--rank",
    type=click.Choice(["plays", "minutes", "viewers"]),
    default="plays",
    show_default=True,
    help="What ranks the top titles.",
)
@click.option("--start", type=DateType(), help="First day of the selection (YYYY-MM-DD, inclusive).")
@click.option("--end", type=DateType(), help="Last day of the selection (YYYY-MM-DD, inclusive).")
@click.option(
    "--sessiontype",
    multiple=True,
    help="Only this session type (MOVIE, SERIES; unknown: events without one); repeat for several.",
)
@click.option("--device", multiple=True, help="Only this device (unknown: events without one); repeat for several.")
@click.option("--market", multiple=True, help="Only this market (unknown: events without one); repeat for several.")
@click.option("--title", default="moviedash report", show_default=True, help="Title of the report.")
@click.option(
    "--page",
    default="all",
    show_default=True,
    help="The dashboard page whose charts the report holds (overview, engagement, series, ...), or all of them.",
)
@click.option(
    "--group",
    type=click.Choice(["titles", "shows"]),
    default="titles",
    show_default=True,
    help="The overview's top list: each title, or movies and whole shows together.",
)
@click.option(
    "--width", type=click.IntRange(200, 4000), help="Chart width in pixels  [default: page width; 1000 for images]."
)
@click.option(
    "--height", type=click.IntRange(150, 4000), help="Chart height in pixels  [default: 450; 560 for images]."
)
@domain_errors
def report(
    db: str,
    out: Path | None,
    fmt: str,
    resolution: str,
    top: int,
    rank: str,
    start: dt.date | None,
    end: dt.date | None,
    sessiontype: tuple[str, ...],
    device: tuple[str, ...],
    market: tuple[str, ...],
    title: str,
    page: str,
    group: str,
    width: int | None,
    height: int | None,
) -> None:
    """Write a report of DB's KPIs and charts for a selection: HTML, or PNG/SVG/PDF per chart."""
    from . import analysis
    from .foreign import check_database
    from .outputs import AtomicFile, database_files, refuse_overwrite
    from .params import Filters
    from .report import ReportSpec, export_images, render_html, report_pages
    from .store import connect_readonly

    if start and end and end < start:
        raise click.BadParameter("must not be before --start", param_hint="--end")
    try:
        filters = Filters.create(
            start=start,
            end=end,
            sessiontype=list(sessiontype),
            device=list(device),
            market=list(market),
        )
    except MoviedashError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.parameter}") from None
    try:  # the pages are a registry of the report module (imported only here: the CLI starts fast)
        report_pages(page)
    except MoviedashError as exc:
        raise click.BadParameter(exc.message, param_hint="--page") from None
    spec = ReportSpec(resolutions=(resolution,) * len(metrics.MEASURES), top=top, rank=rank, filters=filters,
                      title=title, width=width, height=height, page=page, group=group)
    database = database_files(db)
    target = out or Path("report.html" if fmt == "html" else "report")
    check_out_path(target.parent if fmt == "html" else target)
    if fmt == "html":
        # Before anything is read or written: --out must never be the database.
        refuse_overwrite(target, database=database, what="report")
    check_database(db)  # the same start-up check as serve: one line naming what is wrong
    conn = connect_readonly(db)
    try:
        try:
            analysis.check_known(conn, filters)  # a value not in the data: a usage error, not a report of zeros
        except MoviedashError as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.parameter}") from None
        if fmt == "html":
            html = render_html(conn, spec)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with AtomicFile(target, "w", encoding="utf-8") as handle:
                    handle.write(html)
            except OSError as exc:  # e.g. a full disk: the write's own error names no file
                raise MoviedashError(f"cannot write the report to {target}: {exc.strerror or exc}") from None
            click.echo(f"wrote {target} ({target.stat().st_size / 2**20:.1f} MiB, opens offline)")
        else:
            for path in export_images(conn, spec, target, fmt, protect=database):
                click.echo(f"wrote {path}")
    finally:
        conn.close()


def check_out_path(folder: Path) -> None:
    """Refuse ``--out`` when a part of the folder it needs is a file (before any work is done)."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise click.BadParameter(f"{part} is a file, not a folder", param_hint="--out")
            return


# --------------------------------------------------------------------------- #
# Sign-in: users and API tokens (moviedash.auth).
# --------------------------------------------------------------------------- #


def print_entries(entries: Sequence[Any], none: str) -> None:
    """One ``name<TAB>created_at`` line per user or token; ``none`` on stderr when there are none."""
    if not entries:
        click.echo(none, err=True)
    for entry in entries:
        click.echo(f"{entry.name}\t{entry.created_at}")


def read_password(name: str) -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@main.group(
    short_help="Add, list and remove users who can sign in.", epilog=example("moviedash users add alice --db moviedb")
)
def users() -> None:
    """Add, list and remove the users who can sign in to the dashboard."""


@users.command(
    "add",
    short_help="Add a user who can sign in.",
    epilog=example("moviedash users add alice --db moviedb", note="asks for the password twice"),
)
@db_option
@auth_file_option
@click.argument("name")
@domain_errors
def users_add(db: str, auth_file: Path | None, name: str) -> None:
    """Add user NAME, who can then sign in (names are case-insensitive).

    The password (at least 8 characters) is asked for twice on a terminal, or
    read from the first line of standard input otherwise. The first user turns
    sign-in on for every page and route.
    """
    from .auth.store import Store, check_password, normalise_name

    normalise_name(name)  # a bad name fails before the password is asked for
    password = read_password(name)
    check_password(password)
    with Store.open(db, auth_file) as store:
        added = store.add_user(name, password)
        click.echo(f"added user {added} to {store.display}")


@users.command("list", short_help="List the users.", epilog=example("moviedash users list --db moviedb"))
@db_option
@auth_file_option
@domain_errors
def users_list(db: str, auth_file: Path | None) -> None:
    """List the users, with when each was added."""
    from .auth.store import Store

    with Store.open(db, auth_file) as store:
        print_entries(store.users(), f"no users in {store.display}")


@users.command("remove", short_help="Remove a user.", epilog=example("moviedash users remove alice --db moviedb"))
@db_option
@auth_file_option
@click.argument("name")
@domain_errors
def users_remove(db: str, auth_file: Path | None, name: str) -> None:
    """Remove user NAME; their sessions end at their next request."""
    from .auth.store import Store

    with Store.open(db, auth_file) as store:
        click.echo(f"removed user {store.remove_user(name)} from {store.display}")


@main.group(
    short_help="Create, list and revoke API tokens.", epilog=example("moviedash tokens create grafana --db moviedb")
)
def tokens() -> None:
    """Create, list and revoke API tokens (sent as 'Authorization: Bearer TOKEN')."""


@tokens.command(
    "create",
    short_help="Create a token and print it once.",
    epilog=example("moviedash tokens create grafana --db moviedb"),
)
@db_option
@auth_file_option
@click.argument("name")
@domain_errors
def tokens_create(db: str, auth_file: Path | None, name: str) -> None:
    """Create token NAME and print it (once: only its hash is kept)."""
    from .auth.store import Store

    with Store.open(db, auth_file) as store:
        token = store.create_token(name)
        click.echo(f"created token {name.strip().lower()} in {store.display}; it is shown only now:", err=True)
        click.echo(token)


@tokens.command("list", short_help="List the tokens' names.", epilog=example("moviedash tokens list --db moviedb"))
@db_option
@auth_file_option
@domain_errors
def tokens_list(db: str, auth_file: Path | None) -> None:
    """List the tokens' names, with when each was created (the tokens themselves are not kept)."""
    from .auth.store import Store

    with Store.open(db, auth_file) as store:
        print_entries(store.tokens(), f"no tokens in {store.display}")


@tokens.command("revoke", short_help="Revoke a token.", epilog=example("moviedash tokens revoke grafana --db moviedb"))
@db_option
@auth_file_option
@click.argument("name")
@domain_errors
def tokens_revoke(db: str, auth_file: Path | None, name: str) -> None:
    """Revoke token NAME: it stops working at once."""
    from .auth.store import Store

    with Store.open(db, auth_file) as store:
        click.echo(f"revoked token {store.revoke_token(name)} in {store.display}")


# --------------------------------------------------------------------------- #
# Data-quality settings (declared in moviedash.settings).
# --------------------------------------------------------------------------- #


class SettingUsageError(click.ClickException):
    """An unknown setting or a bad value: one line, exit status 2 (a usage error, as click's own)."""

    exit_code = 2


def setting_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A :class:`~moviedash.settings.SettingError` becomes one line and exit status 2; other faults as usual."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except data_settings.SettingError as exc:
            raise SettingUsageError(exc.message) from None

    return wrapper


@main.group(short_help="Show and change what counts as a play and as a viewer.",
            epilog=example("moviedash settings set min_minutes 2 --db moviedb"))
def settings() -> None:
    """Show and change DB's data-quality settings: what counts as a play, who
    counts as a viewer, when a play is completed or of poor quality.

    They are kept in DB; the defaults reproduce moviedash's answers without them.
    """


@settings.command("show", short_help="List every setting with its value and default.",
                  epilog=example("moviedash settings show --db moviedb"))
@db_option
@domain_errors
def settings_show(db: str) -> None:
    """List every setting: its value, its default and what it changes."""
    from .dataquality import about

    conn = store.connect_readonly(store.check_exists(db))
    try:
        current = about(conn)
    finally:
        conn.close()
    for shown in data_settings.describe(current.settings):
        mark = "" if shown.changed else " (default)"
        click.echo(f"{shown.name} = {shown.value}{mark}")
        click.echo(f"    default {shown.default} ({shown.kind}). {shown.help}")
    click.echo(f"{plural(current.events, 'event')}; {plural(current.anonymous_plays, 'anonymous play')} "
               f"(excluded users); {plural(current.capped_rows, 'play')} with viewpercentage above 100 "
               "(capped at 100 for completion)")


def _report_change(db: str, name: str, value: Any) -> None:
    from .dataquality import change

    done = change(db, name, value)
    shown = data_settings.setting(name).show
    rebuilt = "; rollups rebuilt" if done.rebuilt else ""
    click.echo(f"{name}: {shown(done.before)} -> {shown(done.after)} in {store.parse(db).display}{rebuilt}")


@settings.command("set", short_help="Change a setting and rebuild what depends on it.",
                  epilog=example("moviedash settings set exclude_users d41d8cd98f00b204e9800998ecf8427e",
                                 "moviedash settings set watched_threshold 85 --db moviedb"))
@db_option
@click.argument("key")
@click.argument("value")
@domain_errors
@setting_errors
def settings_set(db: str, key: str, value: str) -> None:
    """Set setting KEY to VALUE and rebuild the rollups that depend on it, in
    one transaction: if anything fails, DB stays exactly as it was.

    'moviedash settings show' lists the keys; exclude_users takes user ids
    separated by commas ('none' for none).
    """
    _report_change(db, key, data_settings.parse(key, value))


@settings.command("reset", short_help="Put a setting back to its default.",
                  epilog=example("moviedash settings reset min_minutes --db moviedb"))
@db_option
@click.argument("key")
@domain_errors
@setting_errors
def settings_reset(db: str, key: str) -> None:
    """Put setting KEY back to its default (and rebuild the rollups, in one transaction)."""
    data_settings.setting(key)
    _report_change(db, key, None)


if __name__ == "__main__":  # pragma: no cover
    main()
