"""The self-contained HTML report: one file that opens offline and prints cleanly.

plotly.js is embedded once, in the head; every chart is a ``<div>`` plus a
small script that draws it.  Nothing refers to the network (no CDN, fonts or
MathJax), so the file can be mailed, archived or opened on a plane.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from ..charts import plotly_config

_CSS = """
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #3454d1; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--fg); margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
header { border-bottom: 2px solid var(--accent); margin-bottom: 16px; padding-bottom: 8px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { font-size: 18px; margin: 24px 0 4px; }
.meta { color: var(--muted); font-size: 14px; margin: 2px 0; }
.meta b { color: var(--fg); font-weight: 600; }
table.kpis { border-collapse: collapse; width: 100%; margin: 12px 0 8px; font-size: 15px; }
table.kpis th, table.kpis td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; }
table.kpis td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kpis th { color: var(--muted); font-weight: 600; font-size: 13px; text-transform: uppercase; \
letter-spacing: .03em; }
section.chart { break-inside: avoid; page-break-inside: avoid; margin-bottom: 12px; }
.chart .plot { width: 100%; }
.chart .summary { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
.about ul { color: var(--muted); font-size: 13px; margin: 4px 0; padding-left: 20px; }
footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); margin-top: 24px; padding-top: 8px; }
@page { size: auto; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  header { border-bottom-color: #000; }
  section.chart { margin-bottom: 6mm; }
  .modebar-container, .modebar { display: none !important; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass(frozen=True)
class KpiRow:
    """One line of the report's KPI table."""

    label: str
    value: str
    change: str


@dataclass(frozen=True)
class ChartSection:
    """One chart of the report: an anchor id, a heading and the figure."""

    key: str
    heading: str
    figure: go.Figure
    #: The plotted numbers in words (:mod:`moviedash.summaries`): the chart's text alternative.
    summary: str = ""


def _figure_div(section: ChartSection, width: int | None, height: int | None) -> str:
    # include_plotlyjs=False: the library is in the head once, not once per chart.
    return pio.to_html(
        section.figure,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"chart-{section.key}",
        default_width=f"{width}px" if width else "100%",
        default_height=f"{height}px" if height else "450px",
        config=plotly_config(f"moviedash-{section.key}"),
    )


def render(
    title: str,
    meta: Sequence[tuple[str, str]],
    kpis: Sequence[KpiRow],
    charts: Sequence[ChartSection],
    footer: str,
    *,
    width: int | None = None,
    height: int | None = None,
    about: Sequence[str] = (),
) -> str:
    """The whole report as one HTML document (UTF-8 text); ``about``: the lines of "About this data"."""
    esc = html.escape
    meta_html = "\n".join(f'<p class="meta">{esc(k)}: <b>{esc(v)}</b></p>' for k, v in meta)
    kpi_rows = "\n".join(
        f"<tr><td>{esc(k.label)}</td><td class=\"num\">{esc(k.value)}</td><td>{esc(k.change)}</td></tr>" for k in kpis
    )
    chart_html = "\n".join(
        f'<section class="chart" id="{esc(c.key)}"><h2>{esc(c.heading)}</h2>\n'
        f'<div class="plot">{_figure_div(c, width, height)}</div>'
        f'<p class="summary">{esc(c.summary)}</p></section>'
        for c in charts
    )
    about_html = ""
    if about:
        items = "\n".join(f"<li>{esc(line)}</li>" for line in about)
        about_html = (f'<section class="about" id="about-this-data"><h2>About this data</h2>\n'
                      f"<ul>\n{items}\n</ul></section>\n")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="moviedash">
<title>{esc(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
{meta_html}
</header>
<main>
<h2>Key figures</h2>
<table class="kpis">
<thead><tr><th>Measure</th><th>Value</th><th>Change</th></tr></thead>
<tbody>
{kpi_rows}
</tbody>
</table>
{chart_html}
{about_html}</main>
<footer>{esc(footer)}</footer>
</body>
</html>
"""
