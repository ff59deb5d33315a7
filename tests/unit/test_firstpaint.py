"""The static first paint: Dash components written out as inert HTML."""
from __future__ import annotations

from dash import dcc, html

from moviedash.dashboard import firstpaint


def test_markup_is_escaped_and_keeps_no_ids_nor_references_to_them() -> None:
    page = html.Div(
        [
            html.Label("Title <b>", htmlFor="x", id="label"),
            html.Button("Go & see", id="go", title='say "hi"', type="button", **{"aria-label": "Go <now>"}),
            html.P(["plays ", 1234]),
        ],
        id="root",
        className="app",
        style={"minHeight": "10px"},
        **{"aria-labelledby": "label"},
    )
    assert firstpaint.render(page) == (
        '<div class="app" style="min-height: 10px"><label>Title &lt;b&gt;</label>'
        '<button title="say &quot;hi&quot;" type="button" aria-label="Go &lt;now&gt;">Go &amp; see</button>'
        "<p>plays 1234</p></div>"
    )


def test_dash_controls_show_their_value_and_invisible_ones_nothing() -> None:
    page = html.Div([
        dcc.Store(id="s", data={"a": 1}),
        dcc.Location(id="u"),
        dcc.Dropdown(id="d", options=[{"label": "Norway (NO)", "value": "NO"}, {"label": "Sweden", "value": "SE"}],
                     value=["SE"], multi=True, placeholder="All markets", className="dropdown"),
        dcc.Dropdown(id="e", options=[{"label": "Norway", "value": "NO"}], value=[], placeholder="All <markets>"),
        dcc.RadioItems(id="r", options=[{"label": "A", "value": "a"}, {"label": "B", "value": "b"}], value="b",
                       className="segmented"),
        dcc.DatePickerRange(id="dates", start_date="2013-01-07", end_date="2013-02-28"),
        dcc.Graph(id="g", className="graph", style={"height": "300px"}),
    ])
    assert firstpaint.render(page) == (
        '<div><div class="dropdown dash-dropdown first-paint-box"><span class="first-paint-value">Sweden</span></div>'
        '<div class="dash-dropdown first-paint-box"><span class="first-paint-value">All &lt;markets&gt;</span></div>'
        '<div class="segmented dash-radioitems"><span class="dash-options-list-option">A</span>'
        '<span class="dash-options-list-option selected">B</span></div>'
        '<div class="dash-datepicker-input-wrapper first-paint-box">'
        '<span class="first-paint-value">7 Jan 2013 – 28 Feb 2013</span></div>'
        '<div class="graph" style="height: 300px"></div></div>'
    )


def test_the_shell_is_inert_and_busy() -> None:
    shell = firstpaint.shell(html.Div("x"))
    assert shell == '<div id="first-paint" class="first-paint" inert aria-busy="true"><div>x</div></div>'
