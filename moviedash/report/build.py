"""Reports: the dashboard's KPIs and charts for one selection, as HTML or images.

``moviedash report``, the dashboard's "Download report" button and scripts
all go through :func:`render_html` / :func:`export_images`, which draw with the
same pipeline as the dashboard and the JSON routes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import analysis, charts, dataquality, dimensions, engagement, metrics, pipeline, summaries, viewer_cards
from .. import engagement_cards as cards
from .. import settings as data_settings
from ..errors import MoviedashError
from ..outputs import refuse_overwrite, replace_from, temporary_name
from ..params import NUM_DEFAULT, Filters, SeriesQuery, TopQuery
from ..store import Connection
from ..viewstate import ViewState
from .html import ChartSection, KpiRow, render

FORMATS: tuple[str, ...] = ("html", "png", "svg", "pdf")
IMAGE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: The engagement page's charts in a report (image files ``engagement_<card>``), as the page first shows them.
ENGAGEMENT_KEYS: tuple[str, ...] = tuple(f"engagement_{key.replace('-', '_')}" for key in cards.CARD_KEYS)
#: The charts of a report, in the dashboard's order: the overview's, then the engagement page's
#: (also the image files' names).
CHART_KEYS: tuple[str, ...] = (*metrics.SERIES, "top_titles", "heatmap", *ENGAGEMENT_KEYS)
DEFAULT_TITLE = "moviedash report"
_RANK_TEXT = {"plays": "plays", "minutes": "minutes watched", "viewers": "unique viewers"}
INSTALL_CHROMIUM = (
    "PNG, SVG and PDF export needs Chrome or Chromium, and none was found. "
    "Install Debian's chromium (sudo apt-get install chromium), or set BROWSER_PATH "
    "to a Chrome/Chromium binary. HTML reports need no browser."
)


@dataclass(frozen=True)
class ReportSpec:
    """What a report shows: the dashboard's selection plus presentation options.

    ``resolutions``: each time-series chart's, in the order of :data:`moviedash.metrics.MEASURES`.
    """

    resolutions: tuple[str, ...] = ("daily",) * len(metrics.MEASURES)
    top: int = NUM_DEFAULT
    rank: str = "plays"
    filters: Filters = field(default_factory=Filters)
    title: str = DEFAULT_TITLE
    width: int | None = None
    height: int | None = None
    theme: str = "light"


    @classmethod
    def from_view(cls, state: ViewState, *, theme: str = "light", title: str = DEFAULT_TITLE) -> ReportSpec:
        """The report of a dashboard view (what its shareable URL records)."""
        return cls(resolutions=state.resolutions, top=state.top, rank=state.rank,
                   filters=state.filters, title=title, theme=theme)


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "—"


def describe_selection(spec: ReportSpec, whole: analysis.Span) -> str:
    """The selection in words, e.g. ``1 Mar 2013 – 30 Jun 2013 · MOVIE · device iPad``."""
    f = spec.filters
    parts = [f"{_day(f.start or whole.first)} – {_day(f.end or whole.last)}"]
    if f.start is None and f.end is None:
        parts[0] += " (all time)"
    for dimension in dimensions.DIMENSIONS:
        label, values = dimension.label, getattr(f, dimension.column)
        parts.append(f"{label} {', '.join(map(dimensions.label, values))}" if values else f"all {label}s")
    return " · ".join(parts)


def chart_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """Every chart of the dashboard for ``spec``, in the dashboard's order."""
    f = spec.filters
    sections = []
    for measure, resolution in zip(metrics.MEASURES, spec.resolutions, strict=False):
        figure, data = pipeline.series_figure(
            conn, measure.name, SeriesQuery(resolution, f), theme=spec.theme, title=None
        )
        sections.append(ChartSection(measure.name, f"{measure.label} ({resolution})", figure,
                                     summaries.series_summary(data.frame, measure.name, resolution)))
    top, top_data = pipeline.top_figure(conn, TopQuery(spec.top, spec.rank, f), theme=spec.theme, title=None)
    heat, heat_data = pipeline.heatmap_figure(conn, f, theme=spec.theme, title=None)
    return [
        *sections,
        ChartSection("top_titles", f"Top {spec.top} titles by {_RANK_TEXT[spec.rank]}", top,
                     summaries.top_summary(top_data.frame, spec.rank)),
        ChartSection("heatmap", "When people watch: plays by weekday and hour started", heat,
                     summaries.heatmap_summary(heat_data.frame)),
        *engagement_sections(conn, spec),
    ]


def _engagement_heading(card: cards.Card, name: str, option: str | None) -> str:
    if name in metrics.ENGAGEMENT_SERIES or card.key == "segments":
        what = metrics.measure(name).label if name in metrics.ENGAGEMENT_SERIES else card.title
        return f"{what} ({option})"
    if name.endswith("_breakdown"):
        return f"{metrics.measure(name.removesuffix('_breakdown')).label} by {option}"
    if name == "completion_stops":
        return f"{card.title}: {option}" if option else card.title
    return card.title


def engagement_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The engagement page's charts for ``spec``'s selection, with the page's first controls.

    "Where people stop" follows the selection's most played title, as the page starts.
    """
    f = spec.filters
    most_played = pipeline.top_data(conn, TopQuery(1, "plays", f)).frame
    controls = {**cards.DEFAULTS, "stops_title": str(most_played["title"].iloc[0]) if len(most_played) else ""}
    sections = []
    for key, card in zip(ENGAGEMENT_KEYS, cards.CARDS, strict=True):
        name, option = cards.chart_request(card.key, controls)
        if name == "completion_stops" and not option:
            text = "Where people stop: no plays in this selection."
            figure = charts.empty_figure(theme=spec.theme)
        else:
            figure, data = pipeline.engagement_figure(conn, name, f, option, theme=spec.theme, title=None)
            text = cards.describe(name, data.frame)
        sections.append(ChartSection(key, _engagement_heading(card, name, option), figure, text))
    return sections


#: The concentration and heavy-viewer charts in a report (image files ``viewers_<card>``), as the cards show them.
VIEWER_KEYS: tuple[str, ...] = tuple(f"viewers_{key.replace('-', '_')}" for key in viewer_cards.CARD_KEYS)


def viewer_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The concentration and heavy-viewer cards' charts for ``spec``'s selection (counts only, no user ids)."""
    sections = []
    for key, card in zip(VIEWER_KEYS, viewer_cards.CARDS, strict=True):
        figure, data = pipeline.viewer_figure(conn, card.chart, spec.filters, theme=spec.theme, title=None)
        gini = pipeline.concentration(conn, spec.filters).gini if card.chart == "viewer_lorenz" else None
        sections.append(ChartSection(key, card.title, figure, viewer_cards.describe(card.chart, data.frame, gini)))
    return sections


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}" if number == 1 else f"{number:,} {word}s"


def about_lines(about: dataquality.About) -> list[str]:
    """The "About this data" section: every data-quality setting in force and what it acts on."""
    lines = []
    for shown in data_settings.describe(about.settings):
        state = "default" if not shown.changed else f"default {shown.default}"
        lines.append(f"{shown.name} = {shown.value} ({state}): {shown.help}")
    lines.append(
        f"{_count(about.events, 'event')} in the database; {_count(about.anonymous_plays, 'anonymous play')} "
        f"(of excluded users); {_count(about.capped_rows, 'play')} with viewpercentage above 100, "
        "capped at 100 for completion."
    )
    if about.anonymous_id_events and not about.anonymous_id_excluded:
        lines.append(f"{_count(about.anonymous_id_events, 'event')} with the anonymous user id "
                     f"{data_settings.ANONYMOUS_USER}, "
                     "which counts as one viewer (moviedash settings set exclude_users leaves it out).")
    return lines


def render_html(conn: Connection, spec: ReportSpec, generated: dt.datetime | None = None) -> str:
    """The self-contained HTML report for ``spec`` (opens offline, prints to A4/Letter)."""
    generated = generated or dt.datetime.now(dt.UTC)
    whole = analysis.span(conn)
    rows = [KpiRow(k.label, k.value, f"{k.change} {k.comparison}".strip())
            for k in [*pipeline.kpis(conn, spec.filters), *engagement.kpis(conn, spec.filters)]]
    meta = [
        ("Selection", describe_selection(spec, whole)),
        ("Data", f"{whole.events:,} events from {_day(whole.first)} to {_day(whole.last)}"),
        ("Generated", generated.strftime("%Y-%m-%d %H:%M %Z").strip()),
    ]
    return render(
        spec.title,
        meta,
        rows,
        chart_sections(conn, spec),
        footer=(
            "Made with moviedash. The numbers equal those of the dashboard and of the /data/ JSON routes "
            "for this selection."
        ),
        width=spec.width,
        height=spec.height,
        about=about_lines(dataquality.about(conn)),
    )


def export_images(
    conn: Connection, spec: ReportSpec, out_dir: Path, fmt: str, *, protect: Sequence[Path] = ()
) -> list[Path]:
    """Write one ``fmt`` file per chart into ``out_dir`` (created if missing), named after the chart.

    No file is written over one of ``protect`` (the database's files); each is
    written to a temporary name and renamed once every chart is complete, so a
    failure leaves the previous files intact.  Uses kaleido with the system's
    Chrome/Chromium; raises :class:`MoviedashError` with what to install when there is none.
    """
    if fmt not in IMAGE_FORMATS:
        raise MoviedashError(f"format must be one of {', '.join(IMAGE_FORMATS)}", parameter="format")
    paths = [out_dir / f"{key}.{fmt}" for key in CHART_KEYS]
    for path in paths:
        refuse_overwrite(path, database=protect, what="chart image")
    import plotly.io as pio
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError

    sections = chart_sections(conn, spec)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MoviedashError(f"cannot create the folder {out_dir}: {exc.strerror or exc}") from None
    temps = [temporary_name(path) for path in paths]
    figures = []
    for section in sections:
        figure = section.figure
        figure.update_layout(title={"text": section.heading})
        figures.append(figure)
    try:
        # One call: kaleido starts the browser once for all charts.
        pio.write_images(figures, temps, format=fmt, width=spec.width or 1000, height=spec.height or 560)
        for temp, path in zip(temps, paths, strict=False):
            replace_from(temp, path)
    except OSError as exc:
        raise MoviedashError(f"cannot write the chart images to {out_dir}: {exc.strerror or exc}") from None
    except (ChromeNotFoundError, BrowserFailedError, RuntimeError) as exc:
        # plotly re-raises kaleido's ChromeNotFoundError as a RuntimeError.
        chain = [exc, exc.__cause__, exc.__context__]
        if any(isinstance(e, ChromeNotFoundError) for e in chain):
            raise MoviedashError(INSTALL_CHROMIUM, status=500) from None
        if any(isinstance(e, BrowserFailedError) for e in chain):
            raise MoviedashError(f"the browser used for image export failed: {exc}", status=500) from None
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return paths
