"""The dashboard page: components only (behaviour lives in :mod:`.callbacks`).

The layout is built per request (``app.layout = serve_layout``) from the
database's span and options, so nothing is read at import time.  The controls
start at the view of the address the browser opened (the layout request's
``Referer``), and the charts, key figures and empty state are drawn into it
(:mod:`.views`), so a first load needs no callback round trip at all; without
a ``Referer`` they start at the defaults and the restore callback applies the URL.
"""
from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dash import dcc, html
from flask import has_request_context, request

from .. import analysis, dimensions, emptiness, metrics
from ..auth.header import account_controls
from ..charts import placeholder_figure
from ..errors import MoviedashError
from ..params import RESOLUTIONS
from ..viewstate import TOP_MAX, TOP_MIN, ViewState, to_query
from ..web.context import get_connection
from . import audience_page, engagement_page, ids, series_page, views
from .selection import (
    ALL,
    CONTROL_NAMES,
    controls_from_state,
    restore,
    state_from_controls,
)
from .views import FirstView, first_view, graph_config

PRODUCT = "moviedash"
_SESSION_LABELS = {"MOVIE": "Movies", "SERIES": "Series"}
_MARKET_LABELS = {"NO": "Norway", "SE": "Sweden", "DK": "Denmark", "FI": "Finland", "IS": "Iceland"}
_RESOLUTION_LABELS = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
_RANK_LABELS = {"plays": "Plays", "minutes": "Minutes", "viewers": "Viewers"}
#: Buttons setting the date range: (id, label, description shown as the tooltip).
PRESETS = (
    (ids.PRESETS[0], "7 days", "Last 7 days of the data"),
    (ids.PRESETS[1], "30 days", "Last 30 days of the data"),
    (ids.PRESETS[2], "90 days", "Last 90 days of the data"),
    (ids.PRESETS[3], "All time", "The whole date range of the data"),
)
#: Dash's page template with the document's language declared (screen readers pick
#: their voice by it; Dash's default ``<html>`` has none).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def day_text(day: Any) -> str:
    """``7 Jan 2013``."""
    return f"{day.day} {day:%b %Y}" if day else "—"


def attrs(names: dict[str, str]) -> dict[str, Any]:
    """HTML attributes whose names are not Python identifiers (``aria-*``, ``data-*``), as Dash keyword arguments."""
    return names


def _label(text: str, html_for: str | None = None, **kwargs: Any) -> html.Label:
    kwargs.setdefault("className", "control-label")
    return html.Label(text, htmlFor=html_for, **kwargs)


def _segmented(
    component_id: str,
    options: list[dict[str, str]],
    value: str,
    label: str,
    class_name: str = "control",
    label_class: str = "control-label",
    **radio: Any,
) -> html.Fieldset:
    """Radio buttons styled as a segmented control: native radios in a ``<fieldset>`` named by its ``<legend>``.

    Dash's RadioItems wraps the radios in listbox/option roles; assets/a11y.js
    removes those, leaving the native radio group.
    """
    return html.Fieldset(
        [
            html.Legend(label, id=f"{component_id}-label", className=label_class),
            dcc.RadioItems(
                id=component_id,
                options=options,
                value=value,
                inline=True,
                className="segmented",
                inputClassName="segmented-input",
                labelClassName="segmented-option",
                **radio,
            ),
        ],
        className=f"{class_name} fieldset",
    )


def header(span: analysis.Span, account: list[Any] | None = None, empty: bool = False) -> html.Header:
    """Product name, the data's span and size, the report download (disabled when ``empty``), the theme switch
    and ``account`` (sign out)."""
    account = account or []
    if span.events:
        facts = f"{day_text(span.first)} – {day_text(span.last)} · {span.events:,} events"
    else:
        facts = "The database holds no events yet"
    return html.Header(
        html.Div(
            [
                html.Div(
                    [
                        html.Span(className="logo", **attrs({"aria-hidden": "true"})),
                        html.Div(
                            [html.H1(PRODUCT, className="brand"), html.P(facts, id="data-span", className="facts")],
                        ),
                    ],
                    className="brand-block",
                ),
                html.Div(
                    [
                        html.Button(
                            "Report",
                            id=ids.REPORT_BUTTON,
                            className="btn btn-report",
                            type="button",
                            title="Download an HTML report of this view (opens offline, prints cleanly)",
                            disabled=empty,
                            **attrs({"aria-label": "Download an HTML report of this view"}),
                        ),
                        dcc.Download(id=ids.REPORT_DOWNLOAD),
                        _segmented(
                            ids.THEME,
                            [{"label": "Light", "value": "light"}, {"label": "Dark", "value": "dark"}],
                            "light",
                            "Theme",
                            class_name="control theme-switch",
                            label_class="control-label sr-only",  # "Light | Dark" speaks for itself
                            # A personal preference, not part of the shared view: kept in
                            # localStorage and applied before the first callbacks run.
                            persistence=True,
                            persistence_type="local",
                        ),
                        *account,
                    ],
                    className="header-tools",
                ),
            ],
            className="header-inner",
        ),
        className="header",
    )


def filter_bar(span: analysis.Span, options: dict[str, list[str]], controls: dict[str, Any]) -> html.Section:
    """Date range with presets, session type, device and market (``controls``' values): applies to everything below."""
    first = span.first.isoformat() if span.first else None
    last = span.last.isoformat() if span.last else None
    return html.Section(
        [
            html.Div(
                [
                    _label("Date range", f"{ids.DATE_RANGE}-start", id=f"{ids.DATE_RANGE}-label"),
                    html.Div([date_picker(first, last, controls["start"], controls["end"]), presets()],
                             className="date-row"),
                ],
                className="control control-dates",
                role="group",
                **attrs({"aria-labelledby": f"{ids.DATE_RANGE}-label"}),
            ),
            _segmented(
                ids.SESSIONTYPE,
                [{"label": "All", "value": ALL}]
                + [{"label": _SESSION_LABELS.get(v, dimensions.label(v)), "value": v} for v in options["sessiontype"]],
                controls["sessiontype"],
                "Content",
            ),
            _multi(ids.DEVICE, "Device", "All devices",
                   [{"label": dimensions.label(v), "value": v} for v in options["device"]], controls["device"]),
            _multi(
                ids.MARKET,
                "Market",
                "All markets",
                [
                    {"label": f"{_MARKET_LABELS[v]} ({v})" if v in _MARKET_LABELS else dimensions.label(v), "value": v}
                    for v in options["market"]
                ],
                controls["market"],
            ),
            html.A("Reset", href="./", className="reset", title="Back to the default view"),
        ],
        className="filters",
        **attrs({"aria-label": "Filters"}),
    )


def date_picker(first: str | None, last: str | None, start: str | None, end: str | None) -> dcc.DatePickerRange:
    """The date range ``start``-``end``, bounded by the data's ``first`` and ``last`` day."""
    return dcc.DatePickerRange(
        id=ids.DATE_RANGE,
        start_date=start,
        end_date=end,
        min_date_allowed=first,
        max_date_allowed=last,
        initial_visible_month=end or last,
        display_format="D MMM YYYY",
        first_day_of_week=1,
        # One update when both ends are picked, not one per end.
        updatemode="bothdates",
        start_date_id=f"{ids.DATE_RANGE}-start",
        end_date_id=f"{ids.DATE_RANGE}-end",
        start_date_placeholder_text="Start",
        end_date_placeholder_text="End",
        className="date-range",
    )


def presets() -> html.Div:
    """Buttons setting the date range to the last 7/30/90 days of the data, or all of it."""
    return html.Div(
        [
            # Named by their visible text (speech input users say what they see); the title describes.
            html.Button(text, id=button_id, className="chip", title=title, type="button")
            for button_id, text, title in PRESETS
        ],
        className="presets",
        role="group",
        **attrs({"aria-label": "Date range presets"}),
    )


def _multi(
    component_id: str, label: str, placeholder: str, options: list[dict[str, str]], value: list[str]
) -> html.Div:
    label_id = f"{component_id}-label"
    return html.Div(
        [
            _label(label, component_id, id=label_id),
            dcc.Dropdown(
                id=component_id,
                options=options,
                value=value,
                multi=True,
                placeholder=placeholder,
                searchable=True,
                className="dropdown",
            ),
        ],
        className="control control-multi",
        role="group",
        **attrs({"aria-labelledby": label_id}),
    )


def empty_state(found: emptiness.Emptiness | None = None) -> html.Div:
    """Says why the selection holds no events (``found``) and offers to clear the filter to blame (hidden otherwise)."""
    return html.Div(
        [
            dcc.Store(id=ids.EMPTY_TARGET, data=found.clear if found else None),
            html.P(found.message if found else None, id=ids.EMPTY_TEXT, className="empty-text"),
            html.Button((found.action if found else "") or "Clear the filter", id=ids.EMPTY_CLEAR,
                        className="btn btn-clear", type="button", hidden=found is None or found.clear is None),
        ],
        id=ids.EMPTY,
        className="empty-state",
        role="status",
        hidden=found is None,
    )


def kpi_row(kpis: dict[str, tuple[Any, Any, str]] | None = None) -> html.Section:
    """The four headline numbers of the selection: ``kpis`` (value, delta, delta class by name), else "…"."""
    kpis = kpis or {}
    labels = {
        "viewers": "Unique viewers",
        "plays": "Plays",
        "hours": "Hours watched",
        "minutes-per-viewer": "Avg. minutes per viewer",
    }
    return html.Section(
        [
            html.Div(
                [
                    html.H2(labels[name], className="kpi-label"),
                    html.Div(kpis[name][0] if name in kpis else "…", id=ids.kpi_value(name), className="kpi-value"),
                    html.Div(kpis[name][1] if name in kpis else "", id=ids.kpi_delta(name),
                             className=kpis[name][2] if name in kpis else "kpi-delta"),
                ],
                className="kpi",
            )
            for name in ids.KPIS
        ],
        className="kpis",
        **attrs({"aria-label": "Key figures"}),
    )


def _resolution(component_id: str, value: str) -> html.Div:
    label_id = f"{component_id}-label"
    return html.Div(
        [
            _label("Resolution", component_id, id=label_id, className="control-label sr-only"),
            dcc.Dropdown(
                id=component_id,
                options=[{"label": _RESOLUTION_LABELS[r], "value": r} for r in RESOLUTIONS],
                value=value,
                clearable=False,
                searchable=False,
                className="dropdown dropdown-small",
            ),
        ],
        className="control control-inline",
        # Dash's dropdown names itself by its value; the group gives it its label.
        role="group",
        **attrs({"aria-labelledby": label_id}),
    )


def _csv_button(chart: str, what: str, disabled: bool = False) -> html.Button:
    return html.Button(
        "CSV",
        id=ids.csv_button(chart),
        className="btn",
        type="button",
        disabled=disabled,
        title=f"Download the data behind {what} as CSV",
        **attrs({"aria-label": f"Download the data behind {what} as CSV"}),
    )


def _card(
    chart: str, title: str, subtitle: str, tools: list[Any], view: FirstView, extra: list[Any] | None = None
) -> html.Section:
    """A chart card: heading and tools, the chart (as ``view`` draws it), its loading indicator and CSV download."""
    title_id = f"{chart}-title"
    graph = {"figure": placeholder_figure(), "config": graph_config(chart), **view.charts.get(chart, {})}
    return html.Section(
        [
            html.Div(
                [
                    html.Div([html.H2(title, id=title_id), html.P(subtitle, className="card-sub")]),
                    html.Div(tools, className="card-tools"),
                ],
                className="card-head",
            ),
            *(extra or []),
            html.Div(
                dcc.Loading(
                    dcc.Graph(
                        id=ids.graph(chart),
                        **graph,
                        responsive=True,
                        className="graph",
                    ),
                    type="circle",
                    delay_show=150,
                    # Keep the previous chart visible (dimmed) while the new one loads.
                    overlay_style={"visibility": "visible", "opacity": 0.45},
                    parent_className="graph-loading",
                    className="graph-loading-inner",
                ),
                # The frame sets the chart's height (CSS); the top list sets its own.
                className=f"graph-frame graph-frame-{chart}",
                **attrs({"aria-describedby": ids.summary(chart)}),
            ),
            # The plotted numbers in words, for screen readers (written with the figure).
            html.P(view.summaries.get(chart), id=ids.summary(chart), className="sr-only chart-summary"),
            dcc.Download(id=ids.download(chart)),
        ],
        className="card",
        **attrs({"aria-labelledby": title_id}),
    )


def charts_grid(controls: dict[str, Any], view: FirstView | None = None) -> html.Div:
    """The chart cards (one per declared time-series measure, then top titles and heatmap).

    Their controls are at ``controls``' values, their charts as ``view`` draws them.
    """
    view = view or FirstView()
    empty = view.empty is not None
    top_tools = html.Div(
        [
            html.Div(
                [
                    _label("Number of titles", ids.TOP_N, id=f"{ids.TOP_N}-label"),
                    dcc.Slider(
                        id=ids.TOP_N,
                        min=TOP_MIN,
                        max=TOP_MAX,
                        step=1,
                        value=controls["top"],
                        marks={n: str(n) for n in (1, 10, 20, 30, 40, 50)},
                        # Only the release of a drag updates the chart, never every step.
                        updatemode="mouseup",
                        className="slider",
                    ),
                ],
                className="control control-slider",
                role="group",
                # assets/a11y.js names the slider's thumb and its number box by this label.
                **attrs({"aria-labelledby": f"{ids.TOP_N}-label", "data-a11y-label": f"{ids.TOP_N}-label"}),
            ),
            _segmented(
                ids.RANK,
                [{"label": _RANK_LABELS[r], "value": r} for r in ("plays", "minutes", "viewers")],
                controls["rank"],
                "Rank by",
            ),
            _segmented(
                ids.GROUP,
                [{"label": "Titles", "value": "titles"}, {"label": "Shows", "value": "shows"}],
                controls["group"],
                "List",
            ),
        ],
        className="card-controls",
    )
    return html.Div(
        [
            *[
                _card(m.key, m.label, m.subtitle,
                      [_resolution(ids.resolution(m.key), controls[m.key]),
                       _csv_button(m.key, f"the {m.label.lower()} chart", empty)], view)
                for m in metrics.MEASURES
            ],
            _card("top", "Top titles", "Most watched titles in the selection",
                  [_csv_button("top", "the top titles chart", empty)], view, extra=[top_tools]),
            _card("heatmap", "When people watch", "Plays by weekday and the hour viewing started",
                  [_csv_button("heatmap", "the heatmap", empty)], view),
        ],
        className="grid",
    )


def notice(problems: tuple[str, ...]) -> list[Any] | None:
    """What the page says about the parameters of its address it did not understand (``None``: all understood)."""
    if not problems:
        return None
    return [html.Strong("Part of this link was not understood: "),
            f"{', '.join(problems)} {'was' if len(problems) == 1 else 'were'} reset to the default."]


def _routes_text() -> list[Any]:
    """``/data/unique_users/, ... and /data/toplist/``: every JSON route, as code."""
    routes = [*(f"/data/{m.name}/" for m in metrics.MEASURES), "/data/toplist/"]
    parts: list[Any] = []
    for i, route in enumerate(routes):
        if i:
            parts.append(" and " if i == len(routes) - 1 else ", ")
        parts.append(html.Code(route))
    return parts


def page_search() -> str | None:
    """The query string of the page this layout request comes from (``?...`` or ``""``), ``None`` if unknown.

    Dash fetches the layout from the page's own script, so the ``Referer``
    is the page's address (the app sends ``Referrer-Policy: same-origin``);
    one from another host, or none, leaves the URL to the restore callback.
    """
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return None
    return f"?{parts.query}" if parts.query else ""


#: The pages: (path, tab label, page name).
PAGES: tuple[tuple[str, str, str], ...] = (
    ("/", "Overview", "overview"),
    (engagement_page.PATH, "Engagement and quality", "engagement"),
    (series_page.PATH, "Series", "series"),
    (audience_page.PATH, "Audience", "audience"),
)
#: A show's page (``/show/<name>``): under the series tab.
SHOW_PAGE = "show"


def page_of(path: str | None) -> str:
    """The page shown at ``path`` (``show`` for a show's page; the overview for any other)."""
    if series_page.show_name(path) is not None:
        return SHOW_PAGE
    return next((name for page_path, _, name in PAGES if page_path == path), "overview")


def page_path() -> str | None:
    """The path of the page this layout request comes from (its ``Referer``), ``None`` if unknown."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    return parts.path if parts.netloc == request.host else None


def page_nav(page: str, query: str) -> html.Nav:
    """The tab bar: a link to each page with the current view's query, the shown page marked ``aria-current``.

    Real links (a new page load keeps the filters through the query); a client-side callback keeps
    their query current as the controls change.
    """
    links = []
    tab = "series" if page == SHOW_PAGE else page  # a show's page is under the series tab
    for path, label, name in PAGES:
        current: dict[str, str] = {"aria-current": "page"} if name == tab else {}
        links.append(html.A(label, href=path + query, id=ids.NAV_LINKS[name],
                            className="page-tab page-tab-current" if name == tab else "page-tab", **attrs(current)))
    return html.Nav(links, id=ids.NAV, className="page-tabs", **attrs({"aria-label": "Pages"}))


#: The end of Dash's route that serves the layout (after any path prefix).
LAYOUT_ROUTE = "/_dash-layout"


def serve_layout() -> html.Div:
    """Build the page for the current request's database, its controls showing the page's address.

    The charts, key figures and empty state are drawn into the layout
    (:func:`.views.first_view`), so a first load makes no callback request.
    Dash also calls this to validate the layout when it sets itself up: at the
    first request the server gets, whichever it is (a JSON route, a figure).
    That call, like one outside any request, gets the same components without
    data, so the first request after a start does not draw a page nobody asked for.
    """
    if not has_request_context() or not request.path.endswith(LAYOUT_ROUTE):
        return build_layout(analysis.Span(None, None, 0), {"sessiontype": [], "device": [], "market": []})
    path = page_path()
    return page_layout(page_search(), page=page_of(path), show=series_page.show_name(path))


#: Built pages kept while the data's version holds (without the header's account controls, which are
#: the request's own): a page of hundreds of components is not built again for the next visitor.
LAYOUT_CACHE = analysis.ResultCache(maxsize=32)


class _Kept(NamedTuple):
    """A built page and what its header is drawn from (the header is the one per-request part)."""

    root: html.Div
    header_at: int
    span: analysis.Span
    empty: bool


def page_layout(search: str | None, *, draw_charts: bool = True, page: str = "overview",
                show: str | None = None) -> html.Div:
    """The page ``page`` showing the address ``search`` (``None``: unknown, the defaults), for the current request.

    ``show``: the show of a show's page (``page="show"``).

    ``draw_charts=False`` leaves the figures out (the static first paint has no use for them).
    The page is kept in :data:`LAYOUT_CACHE` (shared between requests: nothing may change it), and
    the signed-in user's header put into a new root around its other parts.
    """
    kept = views.kept(("page_layout", search, draw_charts, page, show),
                      lambda met: _kept_layout(search, draw_charts, page, show, met), LAYOUT_CACHE)
    account = account_controls()
    if not account:
        return kept.root
    children = list(kept.root.children)
    children[kept.header_at] = header(kept.span, account, empty=kept.empty)
    return html.Div(children, id=ids.APP, className="app")


def _kept_layout(search: str | None, draw_charts: bool, page: str, show: str | None,
                 faults: list[MoviedashError]) -> _Kept:
    """:func:`page_layout` built, its header without account controls (``faults``: the database faults its
    views met, which keep it from being kept)."""
    conn = get_connection()
    span = analysis.span(conn)
    options = analysis.options(conn)
    # The overview's charts only where the overview is shown: on the engagement page they stay hidden
    # (the tabs are links, a new page load), as the engagement page's charts stay undrawn on the overview.
    overview_charts = draw_charts and page == "overview"
    problems: tuple[str, ...] = ()
    query: str | None = None
    if search is None:
        controls = controls_from_state(ViewState(), span)
    else:
        controls, problems = restore(conn, search)
        query = to_query(state_from_controls(conn, *(controls[name] for name in CONTROL_NAMES)))
    view = first_view(controls, draw_charts=overview_charts, faults=faults)
    root = build_layout(span, options, controls=controls, search=search, problems=problems, view=view, query=query,
                        page=page, engagement=_engagement_view(page, controls, draw_charts, faults),
                        series=_series_view(page, controls, draw_charts, show, faults), show=show,
                        audience=_audience_view(page, controls, draw_charts, faults))
    at = next(i for i, child in enumerate(root.children) if isinstance(child, html.Header))
    return _Kept(root, at, span, view.empty is not None)


def _engagement_view(page: str, controls: dict[str, Any], draw_charts: bool,
                     faults: list[MoviedashError]) -> engagement_page.EngagementView | None:
    if page != "engagement" or not draw_charts:
        return None
    filter_values = [controls[name] for name in ("start", "end", "sessiontype", "device", "market")]
    return engagement_page.first_view(filter_values, views.FIRST_THEME, faults)


def _series_view(page: str, controls: dict[str, Any], draw_charts: bool, show: str | None,
                 faults: list[MoviedashError]) -> series_page.SeriesView | None:
    """The series page's outputs, or a show page's, when one of them is shown."""
    if not draw_charts or page not in ("series", SHOW_PAGE):
        return None
    filter_values = [controls[name] for name in ("start", "end", "sessiontype", "device", "market")]
    if page == SHOW_PAGE:
        return series_page.first_show_view(str(show), filter_values, views.FIRST_THEME, faults)
    return series_page.first_view(filter_values, views.FIRST_THEME, faults)


def _audience_view(page: str, controls: dict[str, Any], draw_charts: bool,
                   faults: list[MoviedashError]) -> audience_page.AudienceView | None:
    if page != "audience" or not draw_charts:
        return None
    filter_values = [controls[name] for name in ("start", "end", "sessiontype", "device", "market")]
    return audience_page.first_view(filter_values, views.FIRST_THEME, faults)


def build_layout(
    span: analysis.Span,
    options: dict[str, list[str]],
    account: list[Any] | None = None,
    *,
    controls: dict[str, Any] | None = None,
    search: str | None = None,
    problems: tuple[str, ...] = (),
    view: FirstView | None = None,
    query: str | None = None,
    page: str = "overview",
    engagement: engagement_page.EngagementView | None = None,
    series: series_page.SeriesView | None = None,
    show: str | None = None,
    audience: audience_page.AudienceView | None = None,
) -> html.Div:
    """The page for a database with this span and these filter options (``account``: the header's sign-out).

    ``controls`` (keyed like :data:`~.selection.CONTROL_NAMES`; default: the
    default view) are the address ``search``'s view, already fitted to the
    data, and ``problems`` the parameters it ignored.  ``search`` is recorded
    as the address already shown, so the page does not restore it again, and
    ``query`` (the controls' canonical query string) replaces it in the history.
    ``view`` holds the outputs drawn for ``controls`` (default: placeholders
    that the callbacks fill).  ``page`` is the page shown (:data:`PAGES`); the other's
    content is in the layout, hidden (its callbacks draw it only when shown), and
    ``engagement``, ``series`` and ``audience`` hold those pages' outputs when shown (``series`` also a
    show page's; ``show``: its show).
    """
    controls = controls or controls_from_state(ViewState(), span)
    assert set(controls) == set(CONTROL_NAMES)
    view = view or FirstView()
    written = None if search is None else {"query": search if query is None else query, "shown": search,
                                           "replace": True}
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            # What the controls show; the URL guard (assets/dashboard.js) skips restoring it,
            # and the history write (writeUrl) tidies the address to the canonical query.
            dcc.Store(id=ids.URL_QUERY, data=written),
            dcc.Store(id=ids.URL_RESTORE),
            dcc.Store(id=ids.URL_ECHO),
            # The first layout's charts are drawn light; a stored dark theme changes this and redraws them.
            dcc.Store(id=ids.CHART_THEME, data=views.FIRST_THEME),
            dcc.Store(id=ids.PAGE, data=page),
            # The filters and theme (the charts' trigger) and the filters alone (the key figures'),
            # written only while the overview is shown: a filter changed on the engagement page
            # costs the hidden overview nothing. Empty at first: filling them would run the callbacks.
            dcc.Store(id=ids.OVERVIEW_SELECTION),
            dcc.Store(id=ids.OVERVIEW_FILTERS),
            html.A("Skip to the content", href="#main", className="skip-link"),
            header(span, account, empty=view.empty is not None),
            html.Main(
                [
                    page_nav(page, (query if query is not None else search) or ""),
                    filter_bar(span, options, controls),
                    html.Div(notice(problems), id=ids.NOTICE, className="notice", role="status"),
                    empty_state(view.empty),
                    html.Div([kpi_row(view.kpis), charts_grid(controls, view)], id=ids.OVERVIEW_SECTION,
                             hidden=page != "overview"),
                    engagement_page.section(engagement, shown=page == "engagement"),
                    series_page.section(series if page == "series" else None, shown=page == "series"),
                    series_page.show_section(series if page == SHOW_PAGE else None, show,
                                             shown=page == SHOW_PAGE),
                    audience_page.section(audience, shown=page == "audience"),
                    html.Footer(
                        ["The same numbers are served as JSON and CSV at ", *_routes_text(), "."],
                        className="footer",
                    ),
                ],
                id="main",
                className="main",
            ),
        ],
        id=ids.APP,
        className="app",
    )
