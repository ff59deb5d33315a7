"""Reports: the dashboard's KPIs and charts for one selection, as HTML or images.

``moviedash report``, the dashboard's "Download report" button and scripts
all go through :func:`render_html` / :func:`export_images`, which draw with the
same pipeline as the dashboard and the JSON routes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import (
    analysis,
    audience_cards,
    binge_cards,
    charts,
    dataquality,
    dimensions,
    engagement,
    metrics,
    pipeline,
    summaries,
    viewer_cards,
)
from .. import engagement_cards as cards
from .. import settings as data_settings
from ..errors import MoviedashError
from ..outputs import refuse_overwrite, replace_from, temporary_name
from ..params import NUM_DEFAULT, Filters, SeriesQuery, TopQuery
from ..show_charts import episode_label, season_label
from ..store import Connection
from ..viewstate import ViewState
from .html import ChartSection, KpiRow, render

FORMATS: tuple[str, ...] = ("html", "png", "svg", "pdf")
IMAGE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: The engagement page's charts in a report (image files ``engagement_<card>``), as the page first shows them.
ENGAGEMENT_KEYS: tuple[str, ...] = tuple(f"engagement_{key.replace('-', '_')}" for key in cards.CARD_KEYS)
#: The overview's charts in a report.
OVERVIEW_KEYS: tuple[str, ...] = (*metrics.SERIES, "top_titles", "heatmap")
#: The series page's charts in a report: the top shows, then the charts of the selection's most played
#: show (as "where people stop" follows the most played title).
SERIES_KEYS: tuple[str, ...] = ("series_top_shows", *(f"series_{chart}" for chart in pipeline.SHOW_CHARTS))
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
    ``page``: the dashboard page whose charts it holds (:data:`PAGE_CHOICES`; ``all``: every page's).
    ``group``: the overview's top list of ``titles`` or of ``shows`` (:data:`moviedash.params.GROUPS`).
    """

    resolutions: tuple[str, ...] = ("daily",) * len(metrics.MEASURES)
    top: int = NUM_DEFAULT
    rank: str = "plays"
    filters: Filters = field(default_factory=Filters)
    title: str = DEFAULT_TITLE
    width: int | None = None
    height: int | None = None
    theme: str = "light"
    page: str = "all"
    group: str = "titles"


    @classmethod
    def from_view(cls, state: ViewState, *, theme: str = "light", title: str = DEFAULT_TITLE) -> ReportSpec:
        """The report of a dashboard view (what its shareable URL records)."""
        return cls(resolutions=state.resolutions, top=state.top, rank=state.rank,
                   filters=state.filters, title=title, theme=theme, group=state.group)


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
    """Every chart of ``spec``'s page (all pages: the dashboard's, in its order) for its selection."""
    return [section for page in report_pages(spec.page) for section in page.sections(conn, spec)]


def overview_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The overview's charts for ``spec``, in the dashboard's order."""
    f = spec.filters
    sections = []
    for measure, resolution in zip(metrics.MEASURES, spec.resolutions, strict=False):
        figure, data = pipeline.series_figure(
            conn, measure.name, SeriesQuery(resolution, f), theme=spec.theme, title=None
        )
        sections.append(ChartSection(measure.name, f"{measure.label} ({resolution})", figure,
                                     summaries.series_summary(data.frame, measure.name, resolution)))
    top, top_data = pipeline.top_figure(conn, TopQuery(spec.top, spec.rank, f, group=spec.group),
                                        theme=spec.theme, title=None)
    heat, heat_data = pipeline.heatmap_figure(conn, f, theme=spec.theme, title=None)
    return [
        *sections,
        ChartSection("top_titles", f"Top {spec.top} {spec.group} by {_RANK_TEXT[spec.rank]}", top,
                     summaries.top_summary(top_data.frame, spec.rank)),
        ChartSection("heatmap", "When people watch: plays by weekday and hour started", heat,
                     summaries.heatmap_summary(heat_data.frame)),
    ]


def series_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The series page's charts for ``spec``: its top shows (``spec.top`` by ``spec.rank``), then the
    episodes, drop-off and episode grid of the selection's most played show."""
    f = spec.filters
    top, top_data = pipeline.top_figure(conn, TopQuery(spec.top, spec.rank, f, group="shows"),
                                        theme=spec.theme, title=None)
    sections = [ChartSection("series_top_shows", f"Top {spec.top} shows by {_RANK_TEXT[spec.rank]}", top,
                             summaries.top_summary(top_data.frame, spec.rank))]
    most = pipeline.top_data(conn, TopQuery(1, "plays", f, group="shows")).frame
    name = str(most["title"].iloc[0]) if len(most) else None
    for key, chart in zip(SERIES_KEYS[1:], pipeline.SHOW_CHARTS, strict=True):
        heading = _SHOW_HEADINGS[chart]
        if name is None:
            sections.append(ChartSection(key, heading, charts.empty_figure(theme=spec.theme),
                                         f"{heading}: no plays in this selection."))
            continue
        figure, data = pipeline.show_figure(conn, chart, name, f, theme=spec.theme, title=None)
        sections.append(ChartSection(key, f"{heading}: {name}", figure, _show_text(chart, name, data.frame)))
    return sections


_SHOW_HEADINGS = {"show_episodes": "Viewers per episode", "show_dropoff": "Episode drop-off",
                  "show_grid": "Episodes watched per viewer"}


def _show_text(chart: str, name: str, frame: Any) -> str:
    """A show chart's numbers in words (the report's text alternative)."""
    if frame.empty:
        return f"{_SHOW_HEADINGS[chart]} of {name}: no plays in this selection."
    if chart == "show_grid":
        parts = [f"{season_label(r.season)}: {int(r.viewers):,} watched {int(r.episodes_watched)}"
                 for r in frame.itertuples() if r.viewers]
        return f"Viewers by distinct episodes watched of {name}: " + "; ".join(parts) + "."
    rows = list(frame.itertuples())
    if chart == "show_dropoff":
        shares = [f"{episode_label(r.season, r.episode)} {r.share_of_first} %" for r in rows
                  if pd.notna(r.share_of_first)]
        return f"Episode drop-off of {name} (% of each season's first episode's viewers): {', '.join(shares)}."
    viewers = [f"{int(r.viewers):,}" for r in rows]
    return f"Viewers per episode of {name}, in episode order: {', '.join(viewers)}."



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


#: The binge cards' charts in a report (image files ``binge_<card>``), for the series page's report.
BINGE_KEYS: tuple[str, ...] = tuple(key.replace("-", "_") for key in binge_cards.CARD_KEYS)


def binge_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The binge cards' charts for ``spec``'s selection, with the cards' first controls.

    The cards are :mod:`moviedash.binge_cards`' (the series page's); image files ``binge_<card>``.
    """
    sections = []
    for key, card in zip(BINGE_KEYS, binge_cards.CARDS, strict=True):
        name, option = binge_cards.chart_request(card.key, binge_cards.DEFAULTS)
        figure, data = pipeline.binge_figure(conn, name, spec.filters, option, theme=spec.theme, title=None)
        heading = f"{card.title} ({option})" if isinstance(option, str) else f"{card.title} (top {option})"
        sections.append(ChartSection(key, heading, figure, binge_cards.describe(name, data.frame)))
    return sections


def series_page_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The series page in a report: its shows' charts, then the binge cards'."""
    return series_sections(conn, spec) + binge_sections(conn, spec)


AUDIENCE_KEYS: tuple[str, ...] = tuple(f"audience_{key.replace('-', '_')}" for key in audience_cards.CARD_KEYS)


def audience_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The audience page's charts for ``spec``'s selection, with the page's first controls (the report's
    ``audience`` page; registered with the other pages' sections by the page registry)."""
    sections = []
    for key, card in zip(AUDIENCE_KEYS, audience_cards.CARDS, strict=True):
        name, option = audience_cards.chart_request(card.key, audience_cards.DEFAULTS)
        heading = f"{card.title} ({option})" if option else card.title
        try:
            figure, data = pipeline.audience_figure(conn, name, spec.filters, option, theme=spec.theme, title=None)
        except MoviedashError as exc:
            if exc.status != 400:
                raise
            # A triangle too wide to draw (data spanning decades): the section says so, as the page's card does.
            message = f"{card.title}: {exc.public_message}"
            sections.append(ChartSection(key, heading, charts.empty_figure(message, theme=spec.theme), message))
            continue
        sections.append(ChartSection(key, heading, figure, audience_cards.describe(name, option, data.frame)))
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


def audience_page_sections(conn: Connection, spec: ReportSpec) -> list[ChartSection]:
    """The audience page in a report: new vs returning and cohorts, then concentration and heavy viewers."""
    return audience_sections(conn, spec) + viewer_sections(conn, spec)


@dataclass(frozen=True)
class ReportPage:
    """A dashboard page in reports: its charts' keys (image files' names) and what draws them."""

    name: str
    keys: tuple[str, ...]
    sections: Callable[[Connection, ReportSpec], list[ChartSection]]


#: The pages a report may hold (``moviedash report --page``), in the dashboard's order: a new page is one entry.
REPORT_PAGES: dict[str, ReportPage] = {page.name: page for page in (
    ReportPage("overview", OVERVIEW_KEYS, overview_sections),
    ReportPage("engagement", ENGAGEMENT_KEYS, engagement_sections),
    ReportPage("series", SERIES_KEYS + BINGE_KEYS, series_page_sections),
    ReportPage("audience", AUDIENCE_KEYS + VIEWER_KEYS, audience_page_sections),
)}
#: ``--page``'s values: each page, or ``all`` of them.
ALL_PAGES = "all"
PAGE_CHOICES: tuple[str, ...] = (*REPORT_PAGES, ALL_PAGES)
#: The charts of a report of every page, in the dashboard's order (also the image files' names).
CHART_KEYS: tuple[str, ...] = tuple(key for page in REPORT_PAGES.values() for key in page.keys)


def report_pages(page: str) -> list[ReportPage]:
    """The pages of a report of ``page`` (:data:`PAGE_CHOICES`); a 400 naming ``page`` for another."""
    if page == ALL_PAGES:
        return list(REPORT_PAGES.values())
    if page not in REPORT_PAGES:
        raise MoviedashError(f"page must be one of {', '.join(PAGE_CHOICES)}", parameter="page")
    return [REPORT_PAGES[page]]


#: The audience page's charts in a report (image files ``audience_<card>``), as the page first shows them.


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
    paths = [out_dir / f"{key}.{fmt}" for page in report_pages(spec.page) for key in page.keys]
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
