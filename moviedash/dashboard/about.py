"""The "About this data" panel of the engagement page: the data-quality settings in force and what they act on.

The same lines as the report's section (:func:`moviedash.report.about_lines`); they describe the whole
database, not the selection, so the filters do not change them.
"""
from __future__ import annotations

from dash import html

from .. import dataquality, report
from ..web.context import get_connection
from . import ids


def lines() -> list[str]:
    """The panel's lines for the database being served."""
    return report.about_lines(dataquality.about(get_connection()))


def body(shown: list[str]) -> list[html.Li]:
    """One list item a line."""
    return [html.Li(line) for line in shown]


def panel(shown: list[str] | None) -> html.Details:
    """The collapsed panel (``shown``: its lines as drawn; ``None`` or empty: filled by its callback)."""
    return html.Details(
        [
            html.Summary("About this data"),
            html.Ul(body(shown or []), id=ids.ABOUT_BODY, className="about-lines"),
        ],
        id=ids.ABOUT,
        className="about-data",
    )
