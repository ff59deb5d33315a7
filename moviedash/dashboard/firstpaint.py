"""The page's first paint: the dashboard as static HTML, shown while Dash's JavaScript loads.

Dash draws everything in the browser: its page holds only "Loading..." until
React, the component bundles and the layout have arrived, which on a slow
phone link takes seconds.  The page is served with the same layout already
written out as plain HTML (header, filters as they are set, the key figures,
the chart cards' frames), so the reader sees the numbers at once.  It is
marked ``inert`` (its controls do nothing until the page is live) and
assets/dashboard.js removes it in the same frame in which Dash's own page
appears; the charts are drawn by Dash as before.

Only the markup is written here: ids (and the attributes naming them) are
left out, so the two copies never share an id while both exist.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from html import escape
from typing import Any

import dash
from dash import dcc, html
from dash.development.base_component import Component
from flask import has_request_context, request

from ..errors import MoviedashError
from . import layout, series_page

#: The element holding the first paint (assets/dashboard.js and style.css know it by this id).
SHELL_ID = "first-paint"
#: Attributes that name other elements by id: dropped with the ids.
_ID_REFERENCES = {"id", "htmlFor", "aria-labelledby", "aria-describedby", "aria-controls"}
#: Dash components that show nothing by themselves.
_INVISIBLE = (dcc.Store, dcc.Location, dcc.Download)
_VOID = {"input", "br", "hr", "img"}
#: A script element loading a file (the app has no inline ones, which could not wait).
_SCRIPT_WITH_SRC = re.compile(r"<script (?=[^>]*\bsrc=)")
_SOURCE = re.compile(r'<script [^>]*\bsrc="([^"]+)"')
#: Dash's @babel/polyfill script (core-js 2 and the Regenerator runtime).
_POLYFILL = re.compile(r'<script [^>]*src="[^"]*/dash/deps/polyfill@[^"]*"[^>]*></script>\n?')


def _css(style: dict[str, Any]) -> str:
    def name(key: str) -> str:
        return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)

    return "; ".join(f"{name(key)}: {value}" for key, value in style.items())


def _attributes(props: dict[str, Any]) -> str:
    out = []
    for key, value in props.items():
        if key in _ID_REFERENCES or value is None or value is False:
            continue
        if key == "className":
            key = "class"
        elif key == "style":
            value = _css(value)
        elif key not in ("title", "href", "type", "role", "hidden", "disabled") and not key.startswith(
            ("aria-", "data-")
        ):
            continue
        out.append(f" {key}" if value is True else f' {key}="{escape(str(value))}"')
    return "".join(out)


def _element(tag: str, props: dict[str, Any], children: Any) -> str:
    if tag in _VOID:
        return f"<{tag}{_attributes(props)}>"
    return f"<{tag}{_attributes(props)}>{render(children)}</{tag}>"


def _props(component: Component) -> dict[str, Any]:
    """The component's explicitly set props, with its ``aria-*`` and ``data-*`` attributes."""
    names = [*component._prop_names, *(key for key in vars(component) if key.startswith(("aria-", "data-")))]
    return {name: getattr(component, name) for name in names if getattr(component, name, None) is not None}


def _option_labels(options: Iterable[dict[str, Any]], value: Any) -> list[str]:
    chosen = value if isinstance(value, list) else [value]
    return [str(option["label"]) for option in options if option["value"] in chosen]


def _day(value: Any) -> str | None:
    """An ISO day as the date picker shows it (``7 Jan 2013``)."""
    try:
        return layout.day_text(dt.date.fromisoformat(value)) if value else None
    except (TypeError, ValueError):
        return None


def _control(component: Component) -> str:
    """A Dash control as a box of its class showing its value (its widget arrives with its code)."""
    props = _props(component)
    if isinstance(component, dcc.Dropdown):
        labels = _option_labels(props.get("options", []), props.get("value"))
        text = ", ".join(labels) or props.get("placeholder", "")
        box = " ".join(filter(None, (props.get("className"), "dash-dropdown first-paint-box")))
        return _element("div", {"className": box},
                        html.Span(text, className="first-paint-value"))
    if isinstance(component, dcc.RadioItems):
        options: list[Any] = [
            html.Span(option["label"], className="dash-options-list-option"
                      + (" selected" if option["value"] == props.get("value") else ""))
            for option in props.get("options", [])
        ]
        group = " ".join(filter(None, (props.get("className"), "dash-radioitems")))
        return _element("div", {"className": group}, options)
    if isinstance(component, dcc.DatePickerRange):
        days = [_day(props.get(end)) for end in ("start_date", "end_date")]
        return _element("div", {"className": "dash-datepicker-input-wrapper first-paint-box"},
                        html.Span(" – ".join(filter(None, days)), className="first-paint-value"))
    if isinstance(component, dcc.Loading):
        return _element("div", {"className": props.get("parent_className")}, props.get("children"))
    # Graphs and sliders: their frame (sized by the style sheet), drawn once Dash is live.
    return _element("div", {"className": props.get("className"), "style": props.get("style")}, None)


def render(node: Any) -> str:
    """``node`` (a Dash component, a list of them, text or a number) as HTML."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, (list, tuple)):
        return "".join(render(child) for child in node)
    if isinstance(node, (str, int, float)):
        return escape(str(node))
    if isinstance(node, _INVISIBLE):
        return ""
    if isinstance(node, Component) and node._namespace == "dash_html_components":
        props = _props(node)
        if props.get("hidden") is True:
            return ""  # not shown (the other page's content): nothing to paint
        return _element(node._type.lower(), props, props.get("children"))
    if isinstance(node, Component):
        return _control(node)
    return escape(str(node))


def shell(layout: Component) -> str:
    """The first paint of ``layout``: its static HTML in an inert container."""
    return f'<div id="{SHELL_ID}" class="first-paint" inert aria-busy="true">{render(layout)}</div>'


#: Starts Dash once the first paint is on screen (the renderer slot of Dash's page): runs the
#: scripts of type :data:`LATER` in order, then Dash's own start.
_START = """(function () {
    var later = Array.prototype.slice.call(document.querySelectorAll('script[type="%s"]'));
    var started = false;
    function start() {
        if (started) { return; }
        started = true;
        later.forEach(function (placeholder, index) {
            var script = document.createElement("script");
            script.src = placeholder.src;
            script.async = false;  /* run in the page's order */
            if (index === later.length - 1) {
                script.onload = function () { %s };
            }
            document.body.appendChild(script);
        });
    }
    /* After the first frame has been drawn (a timer would not wait for it: the browser may hold its
       first frame back for a while).  A hidden tab draws no frames: it starts at once. */
    if (document.visibilityState === "hidden") {
        start();
    } else {
        requestAnimationFrame(function () { setTimeout(start, 0); });
    }
})();"""
#: The type of Dash's script elements until they are started: a browser neither fetches nor runs them.
LATER = "moviedash/later"


class FirstPaintDash(dash.Dash):
    """A Dash app whose page carries the static first paint of the dashboard at the page's own address.

    Dash's scripts are fetched at once (``<link rel=preload>``) but run only
    after the browser has drawn the first paint: evaluating them (plotly.js,
    React, Dash) takes the main thread for a while, and a browser that has
    them all before it has painted would otherwise run them first and show
    nothing until Dash's own page.  They run in the page's order, then
    Dash's renderer starts.  Dash's ``@babel/polyfill`` is left out: of it,
    Dash's bundles need only the Regenerator runtime, which
    assets/regenerator-runtime.js provides (scripts/update-regenerator-runtime.sh
    says why).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dash_start = self.renderer.replace("var renderer =", "window.renderer =", 1)
        self.renderer = _START % (LATER, dash_start)

    def interpolate_index(self, **kwargs: Any) -> str:  # type: ignore[override]  # dash calls it with keywords only
        scripts = _POLYFILL.sub("", kwargs.get("scripts", ""))
        sources = _SOURCE.findall(scripts)
        kwargs["css"] = kwargs.get("css", "") + "".join(
            f'\n<link rel="preload" as="script" href="{source}">' for source in sources)
        kwargs["scripts"] = _SCRIPT_WITH_SRC.sub(f'<script type="{LATER}" ', scripts)
        if has_request_context():
            query = request.query_string.decode("utf-8", "replace")
            try:
                page = layout.page_layout(f"?{query}" if query else "", draw_charts=False,
                                          page=layout.page_of(request.path),
                                          show=series_page.show_name(request.path))
            except MoviedashError:
                page = None  # the page still loads; Dash's own page says what is wrong
            if page is not None:
                kwargs["app_entry"] = shell(page) + kwargs.get("app_entry", "")
        return str(super().interpolate_index(**kwargs))
