"""Pure presentation: ``DataFrame + options -> plotly Figure``, and the KPI texts.

No Dash and no database here: the dashboard, the reports and the figures API
draw with these builders from the frames :mod:`moviedash.analysis` returns, so
a chart looks (and counts) the same wherever it appears.  Every builder takes a
``theme`` (``"light"`` or ``"dark"``) and an optional ``title`` (the dashboard
puts titles in its card headers and passes ``title=None``).
"""
from __future__ import annotations

import copy
import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import dimensions, metrics

EMPTY_MESSAGE = "No data for this selection"
THEMES: tuple[str, ...] = ("light", "dark")
#: The sentinel for "use the chart's standard title".
DEFAULT_TITLE = "__default__"

FONT_FAMILY = 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


#: The Plotly config of every chart (dashboard, HTML report, ``/figures/<chart>.json``).
#: Nothing may leave the page: no "Share chart…" button uploading the data to Plotly
#: Cloud (``showSendToCloud``, ``plotlyServerURL``), no Plotly logo linking out.  The
#: modebar shows on hover only, so it never covers a chart at rest.  (plotly.js 2+
#: dropped ``showLink``, ``sendData`` and ``showEditInChartStudio``: plotly.py warns
#: about them and plotly.js ignores them, so the Chart Studio buttons are removed by name.)
SAFE_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "displayModeBar": "hover",
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "responsive": True,
}
#: Modebar buttons that would send a chart elsewhere (old and new plotly.js names).
CLOUD_BUTTONS: tuple[str, ...] = ("sendDataToCloud", "sendChartToCloud", "editInChartStudio")


def plotly_config(filename: str, remove: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A chart's Plotly config: :data:`SAFE_CONFIG`, PNG export named ``filename``, and ``remove``'s buttons gone."""
    return {
        **SAFE_CONFIG,
        "modeBarButtonsToRemove": [*CLOUD_BUTTONS, *remove],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        **extra,
    }


@dataclass(frozen=True)
class Palette:
    """The colours of one theme; ``paper`` matches the dashboard's card background."""

    paper: str
    text: str
    muted: str
    grid: str
    hover_bg: str
    hover_border: str
    users: str
    minutes: str
    bars: str
    scale: tuple[str, ...]


PALETTES: dict[str, Palette] = {
    "light": Palette(
        paper="#ffffff", text="#0f172a", muted="#64748b", grid="#e8edf4",
        hover_bg="#ffffff", hover_border="#cbd5e1",
        users="#4f46e5", minutes="#0d9488", bars="#6366f1",
        scale=("#f4f5ff", "#c7d2fe", "#818cf8", "#4f46e5", "#312e81"),
    ),
    "dark": Palette(
        paper="#161d2c", text="#e2e8f0", muted="#94a3b8", grid="#253047",
        hover_bg="#0f1524", hover_border="#334155",
        users="#818cf8", minutes="#2dd4bf", bars="#818cf8",
        scale=("#1b2336", "#312e81", "#4f46e5", "#818cf8", "#e0e7ff"),
    ),
}

_PERIOD_AXIS = {"daily": "Day", "weekly": "Week (starting Monday)", "monthly": "Month"}
_RANKS = {
    # rank: (axis title, unit in hover text)
    "plays": ("Plays", "plays"),
    "minutes": ("Minutes watched", "minutes"),
    "viewers": ("Unique viewers", "unique viewers"),
}
_TOP_LABEL_CHARS = 34
#: Widths (px) of the characters of axis tick labels at their 11 px size (system fonts
#: measure up to these; anything else counts as wide): used to fit margins to labels.
_TICK_CHAR_PX = {**dict.fromkeys("0123456789", 7.0), ",": 3.5, ".": 3.5, "k": 6.5, "M": 10.0, "G": 9.0, "T": 7.5}
_WIDE_CHAR_PX = 10.0
#: Room below a series chart: two lines of tick labels (Plotly's date ticks add the
#: year under the first one) and the axis title.
_SERIES_BOTTOM = 50
#: Room right of a series chart: half the last date label may lie past the plot.
_SERIES_RIGHT = 28


def palette(theme: str) -> Palette:
    """The colours of ``theme``; raises ``ValueError`` for an unknown theme."""
    try:
        return PALETTES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; one of {', '.join(THEMES)}") from None


def template(theme: str = "light") -> go.layout.Template:
    """A small Plotly template for ``theme`` (fonts, colours, grid, hover labels)."""
    p = palette(theme)
    axis = {
        "gridcolor": p.grid,
        "linecolor": p.grid,
        "zerolinecolor": p.grid,
        "tickcolor": p.grid,
        "title": {"font": {"color": p.muted, "size": 12}},
        "tickfont": {"color": p.muted, "size": 11},
        # Each chart sets margins fitting its labels (see _series_margin): Plotly's
        # automargin measures the drawn labels and draws the whole chart again,
        # which doubles a chart's drawing time on the page's first load.
        "automargin": False,
    }
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "color": p.text, "size": 13},
            "paper_bgcolor": p.paper,
            "plot_bgcolor": p.paper,
            "colorway": [p.users, p.minutes, p.bars],
            "xaxis": {**axis, "showgrid": False},
            "yaxis": axis,
            "hoverlabel": {
                "bgcolor": p.hover_bg,
                "bordercolor": p.hover_border,
                "font": {"family": FONT_FAMILY, "color": p.text, "size": 13},
            },
            # Room at the top for Plotly's modebar, so it never covers data.
            "margin": {"l": 8, "r": 16, "t": 32, "b": 8},
        }
    )


@functools.cache
def _template_dict(theme: str) -> dict[str, Any]:
    return template(theme).to_plotly_json()


def _figure(traces: list[dict[str, Any]], theme: str, title: str | None, layout: dict[str, Any]) -> go.Figure:
    """One ``go.Figure`` from plain dicts, validated once.

    Why not ``go.Figure(go.Scatter(...))`` and ``update_layout``: each of those
    steps validates and copies again (14 ms for a 731-day series against 2 ms
    this way, which is most of a warm dashboard request).  Per-point
    ``customdata`` goes in as a numpy object array for the same reason; the
    figure's JSON is unchanged.
    """
    base: dict[str, Any] = {"template": copy.deepcopy(_template_dict(theme)), "showlegend": False}
    if title:
        base["title"] = {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}}
        base["margin"] = {"t": 48}
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return go.Figure({"data": traces, "layout": base})


def _points(rows: list[list[Any]] | list[Any]) -> np.ndarray:
    """Per-point values as a numpy object array (validated as one array, not per element)."""
    out = np.empty(len(rows), dtype=object) if rows and not isinstance(rows[0], list) else None
    if out is not None:
        out[:] = rows
        return out
    return np.array(rows, dtype=object)


def _title(title: str | None, standard: str) -> str | None:
    return standard if title == DEFAULT_TITLE else title


def empty_figure(
    message: str = EMPTY_MESSAGE, title: str | None = None, *, theme: str = "light"
) -> go.Figure:
    """A figure with no axes and a centred message (empty selection, invalid input)."""
    return _figure([], theme, title, {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [
            {
                # Messages may quote a crafted request's values: shown literally.
                "text": plotly_text(message),
                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                "showarrow": False,
                "font": {"size": 15, "color": palette(theme).muted},
            }
        ],
    })


def placeholder_figure() -> dict[str, Any]:
    """What a chart shows before its data arrives: nothing, on the card's background.

    The graph draws some figure as soon as it mounts; without one it draws
    Plotly's default empty axes (ticks, grid lines) only to draw again moments
    later.  No axes is the cheapest drawing, and transparent suits both themes.
    """
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def period_label(day: dt.date, resolution: str) -> str:
    """How a period reads in hover text: ``Mon 7 Jan 2013``, ``Week of Mon 7 Jan 2013``, ``January 2013``."""
    text = f"{day:%a} {day.day} {day:%b %Y}"
    if resolution == "daily":
        return text
    if resolution == "weekly":
        return f"Week of {text}"
    if resolution == "monthly":
        return f"{day:%B %Y}"
    raise ValueError(f"unknown resolution {resolution!r}")


def partial_note(day: dt.date, resolution: str, bounds: tuple[dt.date, dt.date] | None) -> str:
    """`` (partial: 2 of 7 days)`` when only part of the period lies within ``bounds``, else ``""``.

    Explains the dip of a first or last week/month that the range cuts short.
    """
    if bounds is None or resolution == "daily":
        return ""
    if resolution == "weekly":
        last = day + dt.timedelta(days=6)
    else:
        last = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    covered = (min(last, bounds[1]) - max(day, bounds[0])).days + 1
    total = (last - day).days + 1
    return f" (partial: {covered} of {total} days)" if 0 < covered < total else ""


def _period_ticks(days: list[dt.date], resolution: str) -> dict[str, Any]:
    """Ticks on period starts for weekly/monthly series (Plotly's own would fall mid-week).

    At most seven ticks (they must fit a phone); the year is shown on the first
    tick and when it changes.
    """
    if resolution == "daily" or not days:
        return {}
    step = max(1, math.ceil(len(days) / 7))
    chosen = days[::step]
    texts, year = [], None
    for day in chosen:
        text = f"{day.day} {day:%b}" if resolution == "weekly" else f"{day:%b}"
        if day.year != year:
            text += f"<br>{day.year}"
            year = day.year
        texts.append(text)
    return {"tickmode": "array", "tickvals": [d.isoformat() for d in chosen], "ticktext": texts}


def timeseries_figure(
    df: pd.DataFrame,
    metric: str,
    resolution: str,
    *,
    theme: str = "light",
    title: str | None = DEFAULT_TITLE,
    bounds: tuple[dt.date, dt.date] | None = None,
) -> go.Figure:
    """An area line of a ``date``/``values`` frame for a declared measure (``unique_users``, ...).

    ``x`` holds the period labels exactly as the JSON routes give them (weeks
    by their Monday) and ``y`` the values; hover text names the whole period,
    with thousands separators, and minutes also as hours.  With ``bounds`` (the
    first and last day selected), weeks and months cut short say so in their hover text.
    """
    measure = metrics.measure(metric)
    # The measure's label titles the chart and its y axis; its unit follows numbers in hover text.
    standard, y_title, unit = measure.label, measure.label, measure.unit
    title = _title(title, standard)
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    labels = [str(d) for d in df["date"]]
    days = [dt.date.fromisoformat(d) for d in labels]
    values = [int(v) for v in df["values"]]
    colour = getattr(p, measure.colour)
    periods = [period_label(d, resolution) + partial_note(d, resolution, bounds) for d in days]
    if measure.hours:
        customdata = [[period, v / 60] for period, v in zip(periods, values, strict=False)]
        hover = f"<b>%{{customdata[0]}}</b><br>%{{y:,}} {unit} (%{{customdata[1]:,.1f}} hours)<extra></extra>"
    else:
        customdata = [[period] for period in periods]
        hover = f"<b>%{{customdata[0]}}</b><br>%{{y:,}} {unit}<extra></extra>"
    dense = resolution == "daily" and len(values) > 45
    trace = {
        "type": "scatter",
        "x": labels,
        "y": values,
        "customdata": _points(customdata),
        "hovertemplate": hover,
        "mode": "lines" if dense else "lines+markers",
        "line": {"color": colour, "width": 2, "shape": "linear"},
        "marker": {"size": 6, "color": colour},
        "fill": "tozeroy",
        "fillcolor": _with_alpha(colour, 0.12),
        "name": standard,
    }
    return _figure([trace], theme, title, {
        "hovermode": "x",
        "margin": _series_margin(max(values)),
        "xaxis": {
            "title": {"text": _PERIOD_AXIS[resolution]},
            "type": "date",
            "showspikes": True, "spikemode": "across", "spikethickness": 1, "spikecolor": p.muted, "spikedash": "dot",
            **_period_ticks(days, resolution),
            # One day's range has no width: Plotly labels it down to the millisecond,
            # in labels no fixed margin foresees (a rare view; the cost does not matter).
            **({"automargin": True} if len(days) == 1 else {}),
        },
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", **count_ticks(max(values))},
    })


def tick_label_width(text: str) -> float:
    """Pixel width (an upper bound) of a tick label at 11 px."""
    return sum(_TICK_CHAR_PX.get(char, _WIDE_CHAR_PX) for char in text)


def _si(value: float) -> str:
    """``value`` with two significant digits and an SI suffix.

    As d3's ``~s`` writes a round tick: ``150k``, ``1.5M``.
    """
    for power, suffix in ((12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if value >= 10**power:
            scaled = float(f"{value / 10**power:.2g}")
            return f"{scaled:g}{suffix}"
    return f"{float(f'{value:.2g}'):g}"


def count_axis_width(largest: int) -> float:
    """Pixel width of the widest tick label of a count axis (:func:`count_ticks`) reaching ``largest``.

    Plotly's top tick may lie above the largest value (the range is padded):
    the label of a value 10% larger, as :func:`count_ticks` formats it, is at
    least as wide as any tick's.
    """
    top = max(1, math.ceil(largest * 1.1))
    text = _si(top) if largest >= 10_000 else f"{top:,}"
    # A label of the same length with the widest digits (e.g. "9.9M"): rounding may add a digit.
    return tick_label_width(text) + _TICK_CHAR_PX["0"]


def _series_margin(largest: int) -> dict[str, int]:
    """Margins fitting a series chart's labels: the y ticks and title on the left, dates and title below."""
    # The y title (12 px, turned) and the gaps around the tick labels take 24 px.
    return {"l": 24 + math.ceil(count_axis_width(largest)), "r": _SERIES_RIGHT, "b": _SERIES_BOTTOM}


def count_ticks(largest: int) -> dict[str, Any]:
    """Axis ticks for counts: whole numbers only (``1, 2, 3``, never ``0.5``), ``12k`` when large."""
    if largest >= 10_000:
        return {"tickformat": "~s"}
    return {"tickformat": ",d", "dtick": 1} if largest <= 5 else {"tickformat": ",d"}


def plotly_text(value: object) -> str:
    """``value`` as text Plotly displays literally.

    Plotly reads a subset of HTML in every displayed string (``<a href>``
    becomes a link, ``<b>``, ``<br>``, ``<span style>`` style it); titles are
    data from the viewing log, so ``&``, ``<`` and ``>`` become entities, which
    Plotly shows as those characters.  (Not ``html.escape``: Plotly knows no
    ``&quot;`` and would show it as is; quotes are harmless outside a tag.)
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _short(text: str, limit: int = _TOP_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def toplist_height(rows: int) -> int:
    """Pixel height giving each of ``rows`` bars room for its label."""
    return max(300, 90 + 26 * rows)


def toplist_figure(
    df: pd.DataFrame,
    rank: str,
    *,
    theme: str = "light",
    title: str | None = DEFAULT_TITLE,
) -> go.Figure:
    """Horizontal bars of a ``title``/``values`` top list, the first row at the top.

    ``y`` keeps the full titles in the frame's order (long ones are shortened
    only in the tick labels); ``x`` holds the values.
    """
    axis_title, unit = _RANKS[rank]
    title = _title(title, f"Top {len(df)} titles by {axis_title.lower()}" if len(df) else "Top titles")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    titles = [str(t) for t in df["title"]]
    values = [int(v) for v in df["values"]]
    # y keeps the titles as data (the figure JSON's categories); every text Plotly
    # displays (hover, tick labels) is escaped, so markup in a title shows literally.
    shown = [plotly_text(t) for t in titles]
    if rank == "minutes":
        customdata = [[text, v / 60] for text, v in zip(shown, values, strict=False)]
        hover = f"<b>%{{customdata[0]}}</b><br>%{{x:,}} {unit} (%{{customdata[1]:,.1f}} hours)<extra></extra>"
    else:
        customdata = [[text] for text in shown]
        hover = f"<b>%{{customdata[0]}}</b><br>%{{x:,}} {unit}<extra></extra>"
    trace = {
        "type": "bar",
        "x": values,
        "y": titles,
        "orientation": "h",
        "customdata": _points(customdata),
        "hovertemplate": hover,
        # Light bars with the title written over them (as in an analytics
        # "top pages" list): long titles never squeeze the bars, even on a phone.
        "marker": {
            "color": _with_alpha(p.bars, 0.22),
            "line": {"color": _with_alpha(p.bars, 0.55), "width": 1},
            "cornerradius": 4,
        },
        "name": axis_title,
    }
    width = max(len(f"{v:,}") for v in values)
    return _figure(
        [trace],
        theme,
        title,
        {
            "height": toplist_height(len(titles)) + (36 if title else 0),
            "bargap": 0.18,
            # The values in a right-aligned column beside the bars; the axis title below.
            "margin": {"r": 16 + 8 * width, "b": 22},
            "annotations": [
                {
                    "x": 1,
                    "xref": "paper",
                    "xanchor": "right",
                    "xshift": 8 * width + 10,
                    "align": "right",
                    "y": t,
                    "yref": "y",
                    "text": f"{v:,}",
                    "showarrow": False,
                    "font": {"color": p.text, "size": 12},
                }
                for t, v in zip(titles, values, strict=False)
            ],
            "yaxis": {
                "type": "category",
                "autorange": "reversed",  # most watched first, at the top
                "tickmode": "array",
                "tickvals": titles,
                "ticktext": [plotly_text(_short(t)) for t in titles],
                "ticklabelposition": "inside",
                "ticklabelstandoff": 8,
                "tickfont": {"color": p.text, "size": 12},
                "showgrid": False,
                "showline": False,
                "ticks": "",
            },
            "xaxis": {
                "title": {"text": axis_title},
                "range": [0, max(values) or 1],
                "showticklabels": False,  # every bar has its value beside it
                "showgrid": False,
                "zeroline": False,
            },
        },
    )


def hour_range(hour: int) -> str:
    """``18:00–19:00``."""
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


def heatmap_figure(
    grid: pd.DataFrame,
    *,
    theme: str = "light",
    title: str | None = DEFAULT_TITLE,
) -> go.Figure:
    """Plays by weekday (rows, Monday at the top) and hour started (columns 0-23)."""
    title = _title(title, "When people watch")
    if grid.empty or int(grid.to_numpy().sum()) == 0:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    hours = [int(h) for h in grid.columns]
    weekdays = [str(d) for d in grid.index]
    z = [[int(v) for v in row] for row in grid.to_numpy()]
    scale = [[i / (len(p.scale) - 1), colour] for i, colour in enumerate(p.scale)]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": hours,
        "y": weekdays,
        "customdata": _points([[hour_range(h) for h in hours] for _ in weekdays]),
        "hovertemplate": "<b>%{y} %{customdata}</b><br>%{z:,} plays<extra></extra>",
        "colorscale": scale,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {
            "title": {"text": "Plays", "side": "top"},
            "thickness": 10,
            "outlinewidth": 0,
            "tickfont": {"color": p.muted, "size": 11},
            **count_ticks(max(map(max, z))),
        },
        "name": "Plays",
    }
    return _figure(
        [trace],
        theme,
        title,
        {
            # The weekday labels on the left, one line of hours and the axis title below
            # (the colour bar makes room for itself on the right).
            "margin": {"l": 24 + math.ceil(max(map(tick_label_width, weekdays))), "b": 44},
            "xaxis": {
                "title": {"text": "Hour of day (viewing started)"},
                "tickmode": "array",
                "tickvals": list(range(0, 24, 3)),
                "ticktext": [f"{h:02d}" for h in range(0, 24, 3)],
                "tickangle": 0,
                "showgrid": False,
                "zeroline": False,
            },
            "yaxis": {
                "title": {"text": ""},
                "autorange": "reversed",
                "showgrid": False,
                "zeroline": False,
                "type": "category",
            },
        },
    )


def _with_alpha(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


# --------------------------------------------------------------------------- #
# KPI texts (the dashboard's cards; the reports can print the same).
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Kpi:
    """One headline number, formatted: ``change`` is ``"—"`` when there is nothing to compare."""

    name: str
    label: str
    value: str
    change: str
    direction: str  # "up", "down", "flat" or "none"
    comparison: str


def format_change(ratio: float | None) -> str:
    """``+12%``, ``-4.5%``; ``—`` when there is no previous value."""
    if ratio is None:
        return "—"
    percent = ratio * 100
    return f"{percent:+,.0f}%" if abs(percent) >= 10 else f"{percent:+.1f}%"


def comparison_text(days: int) -> str:
    """``vs previous 30 days``."""
    return "vs previous day" if days == 1 else f"vs previous {days:,} days"


def format_hours(minutes: float) -> str:
    """Minutes as hours: ``1,235`` (one decimal below 100 hours)."""
    hours = minutes / 60
    return f"{hours:,.0f}" if hours >= 100 else f"{hours:,.1f}"


def kpis(current: Any, previous: Any | None, days: int) -> list[Kpi]:
    """The four KPI cards from two :class:`moviedash.analysis.Totals` (``previous`` may be ``None``)."""

    def change(now: float | None, before: float | None) -> tuple[str, str]:
        if now is None or before is None or before == 0:
            return "—", "none"
        ratio = (now - before) / before
        text = format_change(ratio)
        return text, "flat" if text in ("+0.0%", "-0.0%") else ("up" if ratio > 0 else "down")

    def prev(attr: str) -> float | None:
        return None if previous is None else getattr(previous, attr)

    per_viewer = current.minutes_per_viewer
    rows = [
        ("viewers", "Unique viewers", f"{current.viewers:,}", current.viewers, prev("viewers")),
        ("plays", "Plays", f"{current.plays:,}", current.plays, prev("plays")),
        ("hours", "Hours watched", format_hours(current.minutes), current.minutes, prev("minutes")),
        (
            "minutes-per-viewer",
            "Avg. minutes per viewer",
            "—" if per_viewer is None else f"{per_viewer:,.1f}",
            per_viewer,
            prev("minutes_per_viewer"),
        ),
    ]
    out = []
    for name, label, value, now, before in rows:
        text, direction = change(now, before)
        out.append(Kpi(name, label, value, text, direction, comparison_text(days) if days else ""))
    return out


def warm_up() -> None:
    """Build one small chart of each kind, so Plotly loads its validators now.

    Plotly imports and builds them lazily, on the first figure of each trace
    type (~60 ms); the server calls this at start so the first visitor does
    not pay for it.
    """
    day = dt.date(2024, 1, 1)
    series = pd.DataFrame({"date": [day.isoformat()], "values": [1]})
    for theme in THEMES:
        timeseries_figure(series, "minutes_watched", "weekly", theme=theme, bounds=(day, day))
        toplist_figure(pd.DataFrame({"title": ["A"], "values": [1]}), "minutes", theme=theme)
        heatmap_figure(pd.DataFrame([[1]], index=["Mon"], columns=[0]), theme=theme)
        empty_figure(theme=theme).to_plotly_json()


# --------------------------------------------------------------------------- #
# Engagement and quality (issue 14): bar and scatter traces only (the bundle's).
# --------------------------------------------------------------------------- #

_BY_AXIS = {"device": "Device", "market": "Market", "sessiontype": "Session type"}


def _value_margin(values: Any) -> dict[str, int]:
    """Margins fitting the tick labels of a value axis holding ``values`` (``None`` ignored)."""
    largest = max((float(v) for v in values if v is not None and v == v), default=1.0)
    return _series_margin(max(1, math.ceil(largest)))


def _nullable(values: Any) -> list[float | None]:
    """Values with ``None``/NaN as ``None`` (a gap in a line, no bar)."""
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]


def ratio_series_figure(
    df: pd.DataFrame, metric: str, resolution: str, *, theme: str = "light", title: str | None = DEFAULT_TITLE
) -> go.Figure:
    """A line of an engagement measure per period; a period without a play with a value is a gap."""
    measure = metrics.measure(metric)
    title = _title(title, measure.label)
    values = _nullable(df["values"]) if not df.empty else []
    if not any(v is not None for v in values):
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    colour = getattr(p, measure.colour)
    labels = [str(d) for d in df["date"]]
    periods = [period_label(dt.date.fromisoformat(d), resolution) for d in labels]
    if "plays" in df:  # the counts behind each value (engagement.series_detail)
        hits = df["hits"] if "hits" in df else [None] * len(labels)
        custom = [[period, int(n), 0 if h is None else int(h)]
                  for period, n, h in zip(periods, df["plays"], hits, strict=True)]
        share = isinstance(measure.aggregation, metrics.Ratio) and measure.aggregation.of_plays
        counts = " · %{customdata[2]:,} of %{customdata[1]:,} plays" if share else " · %{customdata[1]:,} plays"
    else:
        custom, counts = [[period] for period in periods], ""
    trace = {
        "type": "scatter", "x": labels, "y": values, "customdata": _points(custom),
        "hovertemplate": f"<b>%{{customdata[0]}}</b><br>%{{y:,}} {measure.unit}{counts}<extra></extra>",
        "mode": "lines+markers", "connectgaps": False,
        "line": {"color": colour, "width": 2}, "marker": {"size": 5, "color": colour}, "name": measure.label,
    }
    return _figure([trace], theme, title, {
        "hovermode": "x",
        "xaxis": {"title": {"text": _PERIOD_AXIS[resolution]}, "type": "date"},
        "yaxis": {"title": {"text": measure.label}, "rangemode": "tozero"},
        "margin": _value_margin(trace["y"]),
    })


def breakdown_figure(
    df: pd.DataFrame, metric: str, by: str, *, theme: str = "light", title: str | None = DEFAULT_TITLE
) -> go.Figure:
    """Bars of an engagement measure per value of ``by``, with the plays each comes from in the hover text."""
    measure = metrics.measure(metric)
    title = _title(title, f"{measure.label} by {_BY_AXIS[by].lower()}")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    names = [dimensions.label(str(v)) for v in df[by]]
    trace = {
        "type": "bar", "x": names, "y": _nullable(df["values"]),
        "customdata": _points([[int(n)] for n in df["plays"]]),
        "hovertemplate": f"<b>%{{x}}</b><br>%{{y:,}} {measure.unit} · %{{customdata[0]:,}} plays<extra></extra>",
        "marker": {"color": getattr(p, measure.colour)}, "name": measure.label,
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": _BY_AXIS[by]}, "type": "category"},
        "yaxis": {"title": {"text": measure.label}, "rangemode": "tozero"},
        "margin": _value_margin(trace["y"]),
    })


def distribution_figure(df: pd.DataFrame, *, theme: str = "light", title: str | None = DEFAULT_TITLE) -> go.Figure:
    """The completion histogram: movies and series side by side (share of each type's plays per 10 % bin)."""
    title = _title(title, "How far people get")
    if df.empty or int(df["movie_plays"].sum() + df["series_plays"].sum()) == 0:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    bins = [f"{a}–{b} %" for a, b in zip(df["from"], df["to"], strict=True)]
    traces = [
        {
            "type": "bar", "x": bins, "y": _nullable(df[f"{kind}_share"]), "name": label,
            "customdata": _points([[int(n)] for n in df[f"{kind}_plays"]]),
            "hovertemplate": f"<b>{label}, %{{x}}</b><br>%{{y:,}} % of plays · %{{customdata[0]:,}} plays"
            "<extra></extra>",
            "marker": {"color": colour},
        }
        for kind, label, colour in (("movie", "Movies", p.users), ("series", "Series", p.minutes))
    ]
    return _figure(traces, theme, title, {
        "barmode": "group", "showlegend": True,
        "xaxis": {"title": {"text": "Completion"}, "type": "category"},
        "yaxis": {"title": {"text": "% of plays"}, "rangemode": "tozero"},
        "margin": _value_margin([100]),
    })


def stops_figure(df: pd.DataFrame, title_name: str, *, theme: str = "light",
                 title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Where people stop: the share of a title's plays still watching at each 10 % mark."""
    title = _title(title, f"Where people stop: {title_name}")
    values = _nullable(df["values"]) if not df.empty else []
    if not any(v is not None for v in values):
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    trace = {
        "type": "scatter", "x": [int(a) for a in df["at"]], "y": values, "mode": "lines+markers",
        "hovertemplate": "<b>At %{x} %</b><br>%{y:,} % still watching<extra></extra>",
        "line": {"color": p.users, "width": 2, "shape": "hv"}, "marker": {"size": 6, "color": p.users},
        "name": title_name,
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": "Completion (%)"}, "range": [0, 105]},
        "yaxis": {"title": {"text": "% of plays still watching"}, "range": [0, 105]},
        "margin": _value_margin([100]),
    })


def worst_segments_figure(df: pd.DataFrame, *, theme: str = "light",
                          title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Horizontal bars of the worst segments' impact (poor plays beyond the overall rate), the worst on top."""
    title = _title(title, "Worst quality segments")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    names = [f"{dimensions.label(d)} · {dimensions.label(m)} · {day}"
             for d, m, day in zip(df["device"], df["market"], df["date"], strict=True)]
    custom = [[int(n), int(poor), float(share)]
              for n, poor, share in zip(df["plays"], df["poor"], df["poor_share"], strict=True)]
    trace = {
        "type": "bar", "orientation": "h", "y": names[::-1], "x": [float(v) for v in df["impact"]][::-1],
        "customdata": _points(custom[::-1]),
        "hovertemplate": "<b>%{y}</b><br>%{x:,} poor plays beyond the overall rate<br>"
        "%{customdata[1]:,} of %{customdata[0]:,} plays poor (%{customdata[2]} %)<extra></extra>",
        "marker": {"color": p.bars}, "name": "Impact",
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": "Poor plays beyond the overall rate"}, "rangemode": "tozero"},
        "yaxis": {"type": "category"},
        # Room for the longest segment name on the left and for the ticks and the axis title below
        # (fixed margins: automargin would draw the chart twice, see the template).
        "margin": {"l": 16 + math.ceil(max(map(tick_label_width, names))), "b": _SERIES_BOTTOM},
    })


def quality_completion_figure(df: pd.DataFrame, *, theme: str = "light",
                              title: str | None = DEFAULT_TITLE) -> go.Figure:
    """Average completion per one-unit bin of the quality score (do poorer plays stop earlier?)."""
    title = _title(title, "Completion by quality score")
    if df.empty:
        return empty_figure(title=title, theme=theme)
    p = palette(theme)
    bins = [f"{a}–{b}" for a, b in zip(df["from"], df["to"], strict=True)]
    trace = {
        "type": "bar", "x": bins, "y": [float(v) for v in df["values"]],
        "customdata": _points([[int(n)] for n in df["plays"]]),
        "hovertemplate": "<b>Quality score %{x}</b><br>%{y:,} % watched on average · %{customdata[0]:,} plays"
        "<extra></extra>",
        "marker": {"color": p.minutes}, "name": "Average completion",
    }
    return _figure([trace], theme, title, {
        "xaxis": {"title": {"text": "Quality score (error perception)"}, "type": "category"},
        "yaxis": {"title": {"text": "Average completion (%)"}, "rangemode": "tozero"},
        "margin": _value_margin([100]),
    })
