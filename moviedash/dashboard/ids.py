"""Component ids, in one place: the layout, the callbacks and the browser tests share them."""
from __future__ import annotations

from ..metrics import SERIES_KEYS

APP = "app"
URL = "url"
#: The query string the server computed for the current controls (written to history client-side).
URL_QUERY = "url-query"
#: A URL the user navigated to (load, back/forward) that the controls must be restored from.
URL_RESTORE = "url-restore"
URL_ECHO = "url-echo"
NOTICE = "notice"
#: The empty state: why the selection holds no events, and a button clearing the filter to blame.
EMPTY = "empty-state"
EMPTY_TEXT = "empty-state-text"
EMPTY_CLEAR = "empty-clear"
#: Which filter the button clears (:data:`moviedash.emptiness.FILTERS` or ``all``).
EMPTY_TARGET = "empty-clear-target"
THEME = "theme"
#: The theme the charts are drawn in (follows THEME; the first layout draws them light).
CHART_THEME = "chart-theme"
REPORT_BUTTON = "report-button"
REPORT_DOWNLOAD = "report-download"

DATE_RANGE = "date-range"
PRESETS = ("preset-7", "preset-30", "preset-90", "preset-all")
SESSIONTYPE = "sessiontype"
DEVICE = "device"
MARKET = "market"

TOP_N = "top-n"
RANK = "rank"
#: The overview top list's Titles / Shows toggle.
GROUP = "group"

KPIS = ("viewers", "plays", "hours", "minutes-per-viewer")


def kpi_value(name: str) -> str:
    return f"kpi-{name}-value"


def kpi_delta(name: str) -> str:
    return f"kpi-{name}-delta"


#: The charts: each has ``<name>-graph``, ``<name>-csv`` (button) and ``<name>-download``;
#: the time-series charts (one per declared measure, by its key) also ``<name>-resolution``.
CHARTS = (*SERIES_KEYS, "top", "heatmap")


def resolution(chart: str) -> str:
    """The resolution dropdown of the time-series chart ``chart`` (e.g. ``users-resolution``)."""
    return f"{chart}-resolution"


def graph(chart: str) -> str:
    return f"{chart}-graph"


def csv_button(chart: str) -> str:
    return f"{chart}-csv"


def download(chart: str) -> str:
    return f"{chart}-download"


def summary(chart: str) -> str:
    """The chart's text alternative (visually hidden)."""
    return f"{chart}-summary"


#: The pages: the tab bar's links and each page's content.
NAV = "page-nav"
NAV_OVERVIEW = "nav-overview"
NAV_ENGAGEMENT = "nav-engagement"
NAV_SERIES = "nav-series"
NAV_AUDIENCE = "nav-audience"
#: Each page's tab link, by page name.
NAV_LINKS: dict[str, str] = {"overview": NAV_OVERVIEW, "engagement": NAV_ENGAGEMENT, "series": NAV_SERIES,
                             "audience": NAV_AUDIENCE}
OVERVIEW_SECTION = "overview-section"
ENGAGEMENT_SECTION = "engagement-section"
SERIES_SECTION = "series-section"
SHOW_SECTION = "show-section"
AUDIENCE_SECTION = "audience-section"
#: The series page's and the show page's selection stores (as the engagement page's, below).
SERIES_SELECTION = "series-selection"
SERIES_FILTERS = "series-filters"
SHOW_SELECTION = "show-selection"
SHOW_FILTERS = "show-filters"
#: The show a show page shows (its path's name), and the store a click on a show writes (it opens the page).
SHOW_NAME = "show-name"
SHOW_OPEN = "show-open"
#: The show page's per-episode table.
SHOW_TABLE = "show-table"
#: The audience page's filters and chart theme (written client side while the page is shown): its charts' trigger.
AUDIENCE_SELECTION = "audience-selection"
#: Which page the layout shows (``overview`` or ``engagement``).
PAGE = "page"

#: The engagement page's filters and chart theme (written client side while the page is shown): its charts' trigger.
ENGAGEMENT_SELECTION = "engagement-selection"
#: The engagement page's filters alone (written client side while the page is shown): the trigger of its key
#: figures, "About this data" and title list, which a theme switch leaves alone.
ENGAGEMENT_FILTERS = "engagement-filters"
#: The overview's filters and chart theme (written client side while the overview is shown): its charts' trigger.
OVERVIEW_SELECTION = "overview-selection"
#: The overview's filters alone (written client side while the overview is shown): the key figures' trigger,
#: which a theme switch leaves alone.
OVERVIEW_FILTERS = "overview-filters"
ABOUT = "about-data"
ABOUT_BODY = "about-data-body"
#: The engagement page's controls.
COMPLETION_MEASURE = "completion-measure"
COMPLETION_RESOLUTION = "completion-resolution"
BREAKDOWN_BY = "breakdown-by"
STOPS_TITLE = "stops-title-select"
QUALITY_MEASURE = "quality-measure"
QUALITY_RESOLUTION = "quality-resolution"


def csv_link(chart: str) -> str:
    """An engagement chart's CSV link (the JSON route of its numbers)."""
    return f"{chart}-csv-link"
