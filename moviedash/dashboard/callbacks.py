"""Dash callbacks, registered on a given app (no global ``@dash.callback``).

Every server callback follows the one pipeline: control values ->
:mod:`.selection` (validated ``params`` objects, membership in the data) ->
:mod:`moviedash.analysis` (SQL) -> :mod:`moviedash.charts` (figure).  The data
functions are those behind the JSON routes (:mod:`moviedash.pipeline`), so a chart and its route cannot disagree.

Invalid values (only a crafted request can send them) never raise: a chart
shows the problem as its message, and callbacks without a figure ignore the
request (``PreventUpdate``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from .. import csvsafe, emptiness, pipeline, report, viewstate
from ..errors import DatabaseUnavailable, MoviedashError, log_database_error
from ..metrics import SERIES_KEYS
from ..pipeline import ChartData
from ..web.context import get_connection
from . import about, audience_page, engagement_page, ids, layout, selection, series_page, views
from .selection import CONTROL_NAMES
from .views import SERIES_CHARTS, selected_filters, series_query, top_query

#: The filter bar, in the order of :func:`selection.filters_from_controls`'s arguments.
FILTER_PROPS: tuple[tuple[str, str], ...] = (
    (ids.DATE_RANGE, "start_date"),
    (ids.DATE_RANGE, "end_date"),
    (ids.SESSIONTYPE, "value"),
    (ids.DEVICE, "value"),
    (ids.MARKET, "value"),
)
#: What a chart with controls of its own reads when its page's selection store is still empty
#: (its own control changed before any filter or theme change): the filters and the chart theme, as state.
SELECTION_STATES: tuple[tuple[str, str], ...] = (*FILTER_PROPS, (ids.CHART_THEME, "data"))

#: Every control the URL records, in :data:`selection.CONTROL_NAMES` order.
CONTROL_PROPS: tuple[tuple[str, str], ...] = (
    *[(ids.resolution(key), "value") for key in SERIES_KEYS],
    (ids.TOP_N, "value"),
    (ids.RANK, "value"),
    (ids.GROUP, "value"),
    *FILTER_PROPS,
)
assert len(CONTROL_PROPS) == len(CONTROL_NAMES)



# --------------------------------------------------------------------------- #
# The data behind each chart, for the CSV downloads (the figures: :mod:`.views`).
# --------------------------------------------------------------------------- #


def series_data(chart: str, resolution: Any, filter_values: Sequence[Any]) -> ChartData:
    """The ``users`` or ``minutes`` chart's data, computed like ``/data/<metric>/``."""
    return pipeline.series_data(get_connection(), SERIES_CHARTS[chart], series_query(chart, resolution, filter_values))


def top_data(num: Any, rank: Any, filter_values: Sequence[Any], group: Any = "titles") -> ChartData:
    """The top-titles data (top shows with ``group=shows``), computed like ``/data/toplist/``."""
    return pipeline.top_data(get_connection(), top_query(num, rank, filter_values, group))


def heatmap_data(filter_values: Sequence[Any]) -> ChartData:
    """Plays by weekday and hour started."""
    return pipeline.heatmap_data(get_connection(), selected_filters(filter_values))


def _csv(data: ChartData, index: bool = False) -> dict[str, Any]:
    """A ``dcc.Download`` payload: the frame as the JSON routes' ``format=csv`` writes it (same neutralising)."""
    return {"content": csvsafe.to_csv(data.frame, index=index), "filename": f"{data.name}.csv", "type": "text/csv"}


# --------------------------------------------------------------------------- #
# Registration.
# --------------------------------------------------------------------------- #


def register_callbacks(app: dash.Dash) -> None:
    """Attach every callback of the dashboard to ``app``."""
    _register_url_state(app)
    _register_client_side(app)
    _register_page_stores(app, "overview", ids.OVERVIEW_SELECTION, ids.OVERVIEW_FILTERS)
    _register_kpis(app)
    _register_charts(app)
    _register_downloads(app)
    _register_report(app)
    _register_empty_state(app)
    _register_engagement(app)
    _register_series(app)
    _register_audience(app)


def _inputs(props: Sequence[tuple[str, str]]) -> list[Input]:
    return [Input(component, prop) for component, prop in props]


def _states(props: Sequence[tuple[str, str]]) -> list[State]:
    return [State(component, prop) for component, prop in props]


def _same(wanted: Any, current: Any) -> bool:
    # A cleared multi-select may hold None rather than [].
    if isinstance(wanted, list) and current is None:
        return wanted == []
    return wanted == current


def _register_url_state(app: dash.Dash) -> None:
    """The URL <-> controls round trip.

    ``restore_controls`` applies a URL the user opened or went back/forward to;
    ``write_url`` computes the canonical query string of the controls, which a
    client-side callback writes into the history (push for a user's change,
    replace when only tidying the URL of the view already shown).  The
    client-side guard drops the echo of our own history writes, so a change
    runs each callback once.
    """

    @app.callback(
        *[Output(component, prop) for component, prop in CONTROL_PROPS],
        Output(ids.NOTICE, "children"),
        Input(ids.URL_RESTORE, "data"),
        *_states(CONTROL_PROPS),
        # The first layout already shows the page's address (layout.page_search); when it
        # could not, the URL guard's first answer names the address and this runs then.
        prevent_initial_call=True,
    )
    def restore_controls(restore: Any, *current: Any) -> list[Any]:
        """Set the controls a URL names (only those that differ), and say what was not understood."""
        search = restore.get("search") if isinstance(restore, dict) else None
        if not isinstance(search, str):
            search = ""
        wanted, problems = selection.restore(get_connection(), search)
        values = [
            no_update if _same(wanted[name], value) else wanted[name]
            for name, value in zip(CONTROL_NAMES, current, strict=False)
        ]
        notice = layout.notice(problems)
        return [*values, notice]

    @app.callback(
        Output(ids.URL_QUERY, "data"),
        *_inputs(CONTROL_PROPS),
        State(ids.URL, "search"),
        # The first layout holds the canonical query of the controls it starts at.
        prevent_initial_call=True,
    )
    def write_url(*values: Any) -> dict[str, Any]:
        """The canonical query string of the controls, and whether it only tidies the address."""
        *controls, search = values
        conn = get_connection()
        try:
            state = selection.state_from_controls(conn, *controls)
        except MoviedashError:
            raise PreventUpdate from None
        shown, _ = selection.resolve_state(conn, viewstate.parse_query(search if isinstance(search, str) else "")[0])
        return {"query": viewstate.to_query(state), "replace": shown == state}


def _register_client_side(app: dash.Dash) -> None:
    """Browser-only behaviour (assets/dashboard.js): history writes, date presets, theme."""
    app.clientside_callback(
        ClientsideFunction("moviedash", "guardUrl"),
        Output(ids.URL_RESTORE, "data"),
        Input(ids.URL, "search"),
        State(ids.URL_QUERY, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("moviedash", "writeUrl"),
        Output(ids.URL_ECHO, "data"),
        Input(ids.URL_QUERY, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("moviedash", "applyPreset"),
        Output(ids.DATE_RANGE, "start_date", allow_duplicate=True),
        Output(ids.DATE_RANGE, "end_date", allow_duplicate=True),
        *[Input(button, "n_clicks") for button in ids.PRESETS],
        State(ids.DATE_RANGE, "start_date"),
        State(ids.DATE_RANGE, "end_date"),
        State(ids.DATE_RANGE, "min_date_allowed"),
        State(ids.DATE_RANGE, "max_date_allowed"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("moviedash", "markPreset"),
        *[Output(button, "className") for button in ids.PRESETS],
        *[Output(button, "aria-pressed") for button in ids.PRESETS],
        Input(ids.DATE_RANGE, "start_date"),
        Input(ids.DATE_RANGE, "end_date"),
        State(ids.DATE_RANGE, "min_date_allowed"),
        State(ids.DATE_RANGE, "max_date_allowed"),
    )
    app.clientside_callback(
        ClientsideFunction("moviedash", "applyTheme"),
        Output(ids.APP, "className"),
        Input(ids.THEME, "value"),
    )
    # The theme the charts are drawn in: it changes (and the charts are redrawn) only when
    # the chosen theme differs, e.g. a stored "dark" on a first load drawn in light.
    app.clientside_callback(
        ClientsideFunction("moviedash", "chartTheme"),
        Output(ids.CHART_THEME, "data"),
        Input(ids.THEME, "value"),
        State(ids.CHART_THEME, "data"),
    )


def _register_page_stores(app: dash.Dash, page: str, selection: str, filters: str) -> None:
    """A page's selection stores, written client side only while ``page`` is shown.

    A filter changed on the other page so starts no request for this hidden one. ``selection``
    (filters and chart theme) drives the page's charts; ``filters`` (the filters alone) its key
    figures and other numbers, so a theme switch redraws the charts but fetches no numbers again.
    The script's functions are ``<page>Selection`` and ``<page>Filters``.
    """
    app.clientside_callback(
        ClientsideFunction("moviedash", f"{page}Selection"),
        Output(selection, "data"),
        *_inputs(FILTER_PROPS),
        Input(ids.CHART_THEME, "data"),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("moviedash", f"{page}Filters"),
        Output(filters, "data"),
        *_inputs(FILTER_PROPS),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )


def _register_kpis(app: dash.Dash) -> None:
    outputs = []
    for name in ids.KPIS:
        outputs += [Output(ids.kpi_value(name), "children"), Output(ids.kpi_delta(name), "children"),
                    Output(ids.kpi_delta(name), "className")]

    # The first layout already shows the cards (views.first_view): no call on a first load.
    # They follow the overview's filters alone: a theme switch leaves the numbers as they are.
    @app.callback(*outputs, Input(ids.OVERVIEW_FILTERS, "data"), prevent_initial_call=True)
    def update_kpis(filters_data: Any) -> list[Any]:
        """The four KPI cards, each against the previous period of equal length."""
        filter_values, _theme = _page_selection(filters_data)
        try:
            filters = selected_filters(filter_values)
        except MoviedashError:
            raise PreventUpdate from None
        try:
            return views.kpi_view(filters)
        except DatabaseUnavailable as exc:
            # The cards keep their last numbers (the charts say why); details go to the log.
            log_database_error(exc)
            raise PreventUpdate from None


def _register_charts(app: dash.Dash) -> None:
    """The four charts.  Each starts drawn by the first layout (in :data:`views.FIRST_THEME`),
    so none is called on a first load; a stored dark theme changes ``CHART_THEME`` and redraws them."""
    for chart in SERIES_CHARTS:
        _register_series_chart(app, chart)

    @app.callback(
        Output(ids.graph("top"), "figure"),
        Output(ids.graph("top"), "config"),
        Output(ids.graph("top"), "style"),
        Output(ids.summary("top"), "children"),
        Input(ids.TOP_N, "value"),
        Input(ids.RANK, "value"),
        Input(ids.GROUP, "value"),
        Input(ids.OVERVIEW_SELECTION, "data"),
        *_states(SELECTION_STATES),
        prevent_initial_call=True,
    )
    def update_top(num: Any, rank: Any, group: Any, selection_data: Any, *fallback: Any) -> tuple[Any, ...]:
        """The top-N titles (or shows) chart, as tall as its bars need."""
        filter_values, theme_value = _page_selection(selection_data, fallback)
        return views.top_view(num, rank, filter_values, theme_value, group=group)

    # In the Shows mode, a click on a show opens its page.
    app.clientside_callback(
        ClientsideFunction("moviedash", "openGroupedShow"),
        Output(ids.SHOW_OPEN, "data", allow_duplicate=True),
        Input(ids.graph("top"), "clickData"),
        State(ids.GROUP, "value"),
        State(ids.URL_QUERY, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.graph("heatmap"), "figure"),
        Output(ids.graph("heatmap"), "config"),
        Output(ids.summary("heatmap"), "children"),
        Input(ids.OVERVIEW_SELECTION, "data"),
        prevent_initial_call=True,
    )
    def update_heatmap(selection_data: Any) -> tuple[Any, ...]:
        """The weekday x hour heatmap of plays."""
        filter_values, theme_value = _page_selection(selection_data)
        return views.heatmap_view(filter_values, theme_value)


def _register_series_chart(app: dash.Dash, chart: str) -> None:
    @app.callback(
        Output(ids.graph(chart), "figure"),
        Output(ids.graph(chart), "config"),
        Output(ids.summary(chart), "children"),
        Input(ids.resolution(chart), "value"),
        Input(ids.OVERVIEW_SELECTION, "data"),
        *_states(SELECTION_STATES),
        prevent_initial_call=True,
    )
    def update_series(resolution: Any, selection_data: Any, *fallback: Any) -> tuple[Any, ...]:
        """A time-series chart at its own resolution."""
        filter_values, theme_value = _page_selection(selection_data, fallback)
        return views.series_view(chart, resolution, filter_values, theme_value)


def _register_downloads(app: dash.Dash) -> None:
    """The "CSV" buttons: exactly the frame behind the chart, as the JSON routes' ``format=csv`` writes it."""

    def download(make: Callable[[], ChartData], index: bool = False) -> dict[str, Any]:
        try:
            data = make()
        except MoviedashError:
            raise PreventUpdate from None
        return _csv(data, index=index)

    for chart in SERIES_CHARTS:

        def download_series(_clicks: Any, resolution: Any, *filter_values: Any, chart: str = chart) -> dict[str, Any]:
            return download(lambda: series_data(chart, resolution, filter_values))

        app.callback(
            Output(ids.download(chart), "data"),
            Input(ids.csv_button(chart), "n_clicks"),
            State(ids.resolution(chart), "value"),
            *_states(FILTER_PROPS),
            prevent_initial_call=True,
        )(download_series)

    @app.callback(
        Output(ids.download("top"), "data"),
        Input(ids.csv_button("top"), "n_clicks"),
        State(ids.TOP_N, "value"),
        State(ids.RANK, "value"),
        State(ids.GROUP, "value"),
        *_states(FILTER_PROPS),
        prevent_initial_call=True,
    )
    def download_top(_clicks: Any, num: Any, rank: Any, group: Any, *filter_values: Any) -> dict[str, Any]:
        return download(lambda: top_data(num, rank, filter_values, group))

    @app.callback(
        Output(ids.download("heatmap"), "data"),
        Input(ids.csv_button("heatmap"), "n_clicks"),
        *_states(FILTER_PROPS),
        prevent_initial_call=True,
    )
    def download_heatmap(_clicks: Any, *filter_values: Any) -> dict[str, Any]:
        return download(lambda: heatmap_data(filter_values), index=True)


def _register_report(app: dash.Dash) -> None:
    """The "Report" button: the HTML report of the current view, as ``moviedash report`` writes it."""

    @app.callback(
        Output(ids.REPORT_DOWNLOAD, "data"),
        Input(ids.REPORT_BUTTON, "n_clicks"),
        *_states(CONTROL_PROPS),
        State(ids.THEME, "value"),
        prevent_initial_call=True,
        running=[(Output(ids.REPORT_BUTTON, "disabled"), True, False)],
    )
    def download_report(_clicks: Any, *values: Any) -> dict[str, Any]:
        *controls, theme_value = values
        conn = get_connection()
        try:
            state = selection.state_from_controls(conn, *controls)
        except MoviedashError:
            raise PreventUpdate from None
        spec = report.ReportSpec.from_view(state, theme=views.theme_name(theme_value))
        name = pipeline.export_name("moviedash-report", state.filters)
        return {"content": report.render_html(conn, spec), "filename": f"{name}.html", "type": "text/html"}


def _register_empty_state(app: dash.Dash) -> None:
    """An empty selection says which filter emptied it, offers to clear that filter, and disables the exports."""
    exports = [ids.csv_button(chart) for chart in ids.CHARTS]

    @app.callback(
        Output(ids.EMPTY, "hidden"),
        Output(ids.EMPTY_TEXT, "children"),
        Output(ids.EMPTY_CLEAR, "children"),
        Output(ids.EMPTY_CLEAR, "hidden"),
        Output(ids.EMPTY_TARGET, "data"),
        *[Output(button, "disabled") for button in exports],
        Output(ids.REPORT_BUTTON, "disabled", allow_duplicate=True),
        *_inputs(FILTER_PROPS),
        # The first layout already shows the empty state (views.first_view).
        prevent_initial_call=True,
    )
    def update_empty_state(*filter_values: Any) -> list[Any]:
        """Show why the selection is empty (hidden when it is not) and disable the exports meanwhile."""
        try:
            filters = selected_filters(filter_values)
        except MoviedashError:
            raise PreventUpdate from None
        return views.empty_view(filters, len(exports))

    @app.callback(
        Output(ids.SESSIONTYPE, "value", allow_duplicate=True),
        Output(ids.DEVICE, "value", allow_duplicate=True),
        Output(ids.MARKET, "value", allow_duplicate=True),
        Output(ids.DATE_RANGE, "start_date", allow_duplicate=True),
        Output(ids.DATE_RANGE, "end_date", allow_duplicate=True),
        Input(ids.EMPTY_CLEAR, "n_clicks"),
        State(ids.EMPTY_TARGET, "data"),
        State(ids.DATE_RANGE, "min_date_allowed"),
        State(ids.DATE_RANGE, "max_date_allowed"),
        prevent_initial_call=True,
    )
    def clear_filter(_clicks: Any, target: Any, first: Any, last: Any) -> list[Any]:
        """Clear the filter the empty state named (the dates: back to the whole range)."""
        if target not in (*emptiness.FILTERS, emptiness.ALL):
            raise PreventUpdate
        everything = target == emptiness.ALL
        return [
            selection.ALL if everything or target == "sessiontype" else no_update,
            [] if everything or target == "device" else no_update,
            [] if everything or target == "market" else no_update,
            first if everything or target == "dates" else no_update,
            last if everything or target == "dates" else no_update,
        ]


#: Each engagement chart's own controls (they redraw it); the page's other controls are read as they are.
ENGAGEMENT_INPUTS: dict[str, tuple[str, ...]] = {
    "completion": (ids.COMPLETION_MEASURE, ids.COMPLETION_RESOLUTION),
    "breakdown": (ids.COMPLETION_MEASURE, ids.BREAKDOWN_BY),
    "distribution": (),
    "stops": (ids.STOPS_TITLE,),
    "quality": (ids.QUALITY_MEASURE, ids.QUALITY_RESOLUTION),
    "segments": (ids.QUALITY_RESOLUTION,),
    "quality-completion": (),
}


def _register_engagement(app: dash.Dash) -> None:
    """The engagement page: its selection (client side, only while shown), charts, key figures, titles, tabs."""
    # The key figures, "About this data" and the title list follow the filters store alone.
    _register_page_stores(app, "engagement", ids.ENGAGEMENT_SELECTION, ids.ENGAGEMENT_FILTERS)
    app.clientside_callback(
        ClientsideFunction("moviedash", "pageLinks"),
        *[Output(ids.NAV_LINKS[name], "href") for _path, _label, name in layout.PAGES],
        Input(ids.URL_QUERY, "data"),
        prevent_initial_call=True,
    )
    for chart in engagement_page.CHART_KEYS:
        _register_engagement_chart(app, chart)

    outputs = []
    for name, _label in engagement_page.KPIS:
        outputs += [Output(ids.kpi_value(name), "children"), Output(ids.kpi_delta(name), "children"),
                    Output(ids.kpi_delta(name), "className")]

    @app.callback(*outputs, Input(ids.ENGAGEMENT_FILTERS, "data"), prevent_initial_call=True)
    def update_engagement_kpis(filters_data: Any) -> list[Any]:
        """Completion rate and poor-quality share, each against the previous period."""
        filter_values, _theme = _page_selection(filters_data)
        try:
            return engagement_page.kpi_view(filter_values)
        except DatabaseUnavailable as exc:
            log_database_error(exc)
            raise PreventUpdate from None
        except MoviedashError:
            raise PreventUpdate from None

    @app.callback(Output(ids.ABOUT_BODY, "children"), Input(ids.ENGAGEMENT_FILTERS, "data"),
                  prevent_initial_call=True)
    def update_about(filters_data: Any) -> list[Any]:
        """The "About this data" lines (the whole database's: the filters only say the page is shown)."""
        _page_selection(filters_data)
        try:
            return about.body(about.lines())
        except DatabaseUnavailable as exc:
            log_database_error(exc)
            raise PreventUpdate from None
        except MoviedashError:
            raise PreventUpdate from None

    @app.callback(
        Output(ids.STOPS_TITLE, "options"),
        Output(ids.STOPS_TITLE, "value"),
        Input(ids.ENGAGEMENT_FILTERS, "data"),
        State(ids.STOPS_TITLE, "value"),
        prevent_initial_call=True,
    )
    def update_titles(filters_data: Any, current: Any) -> tuple[Any, Any]:
        """The selection's most played titles; the chosen one kept while it is among them."""
        filter_values, _theme = _page_selection(filters_data)
        options = engagement_page.title_options(filter_values)
        values = [o["value"] for o in options]
        chosen = current if current in values else (values[0] if values else None)
        return options, chosen if chosen != current else no_update


def _page_selection(data: Any, fallback: Sequence[Any] | None = None) -> tuple[list[Any], str]:
    """The filter values and chart theme a page's selection store holds (written client side).

    ``fallback``: the values of :data:`SELECTION_STATES`, used while the store is empty (a chart's
    own control changed before any filter: the store is written only when a filter or the theme
    changes). Anything else (only a crafted request sends it) is ignored: ``PreventUpdate``.
    """
    if data is None and fallback is not None and len(fallback) == len(SELECTION_STATES):
        *filters, theme = fallback
        data = {"filters": list(filters), "theme": theme}
    if not isinstance(data, dict) or not isinstance(data.get("filters"), list) or len(data["filters"]) != 5:
        raise PreventUpdate
    return list(data["filters"]), views.theme_name(data.get("theme"))  # a crafted theme: light


def _register_engagement_chart(app: dash.Dash, chart: str) -> None:
    _register_page_chart(app, "engagement", chart, ENGAGEMENT_INPUTS[chart], engagement_page.CONTROLS,
                         ids.ENGAGEMENT_SELECTION, engagement_page.chart_view)


def _register_page_chart(app: dash.Dash, page_name: str, chart: str, own: Sequence[str], controls: Sequence[str],
                         selection: str, chart_view: Callable[..., tuple[Any, Any, Any, str | None]]) -> None:
    """One chart of a page with controls of its own (engagement, audience): redrawn by them and by the
    page's selection store, only while ``page_name`` is shown."""
    others = [c for c in controls if c not in own]

    @app.callback(
        Output(ids.graph(chart), "figure"),
        Output(ids.graph(chart), "config"),
        Output(ids.summary(chart), "children"),
        Output(ids.csv_link(chart), "href"),
        Output(ids.csv_link(chart), "hidden"),
        *[Input(c, "value") for c in own],
        Input(selection, "data"),
        *[State(c, "value") for c in others],
        State(ids.PAGE, "data"),
        *_states(SELECTION_STATES),
        prevent_initial_call=True,
    )
    def update_page_chart(*values: Any) -> tuple[Any, ...]:
        """One chart of the page, for the page's selection and its controls."""
        own_values, (selection_data, *rest) = values[: len(own)], values[len(own):]
        fallback = rest[len(rest) - len(SELECTION_STATES):]
        *other_values, page = rest[: len(rest) - len(SELECTION_STATES)]
        if page != page_name:
            raise PreventUpdate
        filter_values, theme = _page_selection(selection_data, fallback)
        values_of = dict(zip(own, own_values, strict=True)) | dict(zip(others, other_values, strict=True))
        figure, config, summary, href = views.kept_chart(page_name, chart, values_of, filter_values, theme, chart_view)
        return figure, config, summary, href or "", href is None


def _register_series(app: dash.Dash) -> None:
    """The series page and a show's page: their selections (client side, only while shown), their charts and
    the show table, and a click on a show (which opens its page)."""
    _register_page_stores(app, "series", ids.SERIES_SELECTION, ids.SERIES_FILTERS)
    _register_page_stores(app, layout.SHOW_PAGE, ids.SHOW_SELECTION, ids.SHOW_FILTERS)
    for card in series_page.CARDS:
        _register_series_card(app, card.key)
        if card.opens_shows:
            app.clientside_callback(
                ClientsideFunction("moviedash", "openShow"),
                Output(ids.SHOW_OPEN, "data", allow_duplicate=True),
                Input(ids.graph(card.key), "clickData"),
                State(ids.URL_QUERY, "data"),
                prevent_initial_call=True,
            )
    for key in series_page.SHOW_CHART_KEYS:
        _register_show_chart(app, key)

    @app.callback(
        Output(ids.SHOW_TABLE, "children"),
        Input(ids.SHOW_FILTERS, "data"),
        State(ids.SHOW_NAME, "data"),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )
    def update_show_table(filters_data: Any, name: Any, page: Any) -> list[Any]:
        """The show's per-episode table for the page's filters."""
        if page != layout.SHOW_PAGE or series_page.show_name(series_page.show_path(str(name))) is None:
            raise PreventUpdate
        filter_values, _theme = _page_selection(filters_data)
        return series_page.table(series_page.table_rows(str(name), filter_values))


def _register_series_card(app: dash.Dash, key: str) -> None:
    @app.callback(
        Output(ids.graph(key), "figure"),
        Output(ids.graph(key), "config"),
        Output(ids.summary(key), "children"),
        Output(ids.csv_link(key), "href"),
        Output(ids.csv_link(key), "hidden"),
        Input(ids.SERIES_SELECTION, "data"),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )
    def update_series_card(selection_data: Any, page: Any) -> tuple[Any, ...]:
        """One card of the series page, for its selection."""
        if page != "series":
            raise PreventUpdate
        filter_values, theme = _page_selection(selection_data)
        figure, config, summary, href = series_page.card_view(key, filter_values, theme)
        return figure, config, summary, href or "", href is None


def _register_show_chart(app: dash.Dash, key: str) -> None:
    @app.callback(
        Output(ids.graph(key), "figure"),
        Output(ids.graph(key), "config"),
        Output(ids.summary(key), "children"),
        Output(ids.csv_link(key), "href"),
        Output(ids.csv_link(key), "hidden"),
        Input(ids.SHOW_SELECTION, "data"),
        State(ids.SHOW_NAME, "data"),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )
    def update_show_chart(selection_data: Any, name: Any, page: Any) -> tuple[Any, ...]:
        """One chart of a show's page, for its selection."""
        if page != layout.SHOW_PAGE or not isinstance(name, str) or series_page.show_name(
                series_page.show_path(name)) is None:
            raise PreventUpdate  # only a crafted request names no show, or one the routes refuse
        filter_values, theme = _page_selection(selection_data)
        figure, config, summary, href = series_page.show_chart_view(key, name, filter_values, theme)
        return figure, config, summary, href or "", href is None


def _register_audience(app: dash.Dash) -> None:
    """The audience page: its selection store (client side, only while shown) and one callback per card."""
    app.clientside_callback(
        ClientsideFunction("moviedash", "audienceSelection"),
        Output(ids.AUDIENCE_SELECTION, "data"),
        *_inputs(FILTER_PROPS),
        Input(ids.CHART_THEME, "data"),
        State(ids.PAGE, "data"),
        prevent_initial_call=True,
    )
    for chart in audience_page.CHART_KEYS:
        _register_audience_chart(app, chart)


def _register_audience_chart(app: dash.Dash, chart: str) -> None:
    _register_page_chart(app, "audience", chart, audience_page.chart_inputs(chart), audience_page.CONTROLS,
                         ids.AUDIENCE_SELECTION, audience_page.chart_view)
