"""The fixed set of selections, and how each becomes route URLs and Dash callback requests.

Route URLs are the three ``/data`` routes with their query strings.  Callback
requests are the JSON bodies Dash's renderer POSTs to ``/_dash-update-component``,
built from ``GET /_dash-dependencies`` (each callback's ``output``, ``inputs`` and
``state``) and the control values of ``GET /_dash-layout`` (the page as the
browser receives it), with the selection's values put into the filter bar.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .client import BenchmarkError

# Component ids (moviedash/dashboard/ids.py; copied, not imported, so the harness
# fails loudly rather than silently following a renamed id).
DATE_RANGE, SESSIONTYPE, DEVICE, MARKET = "date-range", "sessiontype", "device", "market"
USERS_RESOLUTION, MINUTES_RESOLUTION, TOP_N, RANK, THEME = (
    "users-resolution",
    "minutes-resolution",
    "top-n",
    "rank",
    "theme",
)
URL, URL_RESTORE, URL_QUERY = "url", "url-restore", "url-query"
#: The overview's selection stores (what its chart callbacks read; what its KPI callback reads) and the chart theme.
OVERVIEW_SELECTION, OVERVIEW_FILTERS, CHART_THEME = "overview-selection", "overview-filters", "chart-theme"

#: Callbacks measured, found by one of their output ``id.property``.
CHART_CALLBACKS: dict[str, str] = {
    "kpis": "kpi-viewers-value.children",
    "users": "users-graph.figure",
    "minutes": "minutes-graph.figure",
    "top": "top-graph.figure",
    "heatmap": "heatmap-graph.figure",
}
#: The URL-state callbacks the browser also runs on load (write_url also on every change).
URL_CALLBACKS: dict[str, str] = {
    "url-write": "url-query.data",
    "url-restore": "notice.children",
}

SERIES_ROUTES = ("unique_users", "minutes_watched")
RESOLUTIONS = ("daily", "weekly", "monthly")
TOP_NUMS = (10, 50)
RANKS = ("plays", "minutes", "viewers")
#: Charts of the ``/figures/<chart>.json`` route (Plotly figure JSON for embedding), if the product has it.
FIGURE_CHARTS = ("unique_users", "minutes_watched", "top_titles", "heatmap")
#: Pages the browser loads before any callback (and that count as routes).
PAGE_ROUTES = ("/", "/_dash-layout", "/_dash-dependencies")

#: The filter values the issue names; checked against the data's options.
FILTER_VALUES = {"sessiontype": "MOVIE", "device": "iPad", "market": "NO"}


@dataclass(frozen=True)
class Selection:
    name: str
    start: dt.date | None = None
    end: dt.date | None = None
    sessiontype: str | None = None
    device: tuple[str, ...] = ()
    market: tuple[str, ...] = ()

    @property
    def unfiltered(self) -> bool:
        return self.start is None and self.end is None and not (self.sessiontype or self.device or self.market)

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.start:
            out.append(("start", self.start.isoformat()))
        if self.end:
            out.append(("end", self.end.isoformat()))
        if self.sessiontype:
            out.append(("sessiontype", self.sessiontype))
        out += [("device", d) for d in self.device]
        out += [("market", m) for m in self.market]
        return out

    def view_query(self) -> str:
        """The dashboard's shareable query string for this selection (``?start=...``)."""
        params = self.params()
        return "?" + urlencode(params) if params else ""


def selections(last_day: dt.date) -> list[Selection]:
    """Default view; each filter alone; the last 30 days of the data; all filters together."""
    start30 = last_day - dt.timedelta(days=29)
    return [
        Selection("default"),
        Selection("sessiontype=MOVIE", sessiontype="MOVIE"),
        Selection("device=iPad", device=("iPad",)),
        Selection("market=NO", market=("NO",)),
        Selection("last 30 days", start=start30, end=last_day),
        Selection("all filters", start=start30, end=last_day, sessiontype="MOVIE", device=("iPad",), market=("NO",)),
    ]


def route_urls(selection: Selection) -> list[str]:
    """Every /data route URL for a selection: each resolution; top N 10 and 50 x each rank."""
    base = selection.params()
    urls = []
    for metric in SERIES_ROUTES:
        for resolution in RESOLUTIONS:
            urls.append(f"/data/{metric}/?" + urlencode([("resolution", resolution), *base]))
    for num in TOP_NUMS:
        for rank in RANKS:
            urls.append("/data/toplist/?" + urlencode([("num", str(num)), ("rank", rank), *base]))
    return urls


def figure_urls(selection: Selection) -> list[str]:
    """``/figures/<chart>.json`` with the dashboard's query string for the selection (default controls)."""
    return [f"/figures/{chart}.json{selection.view_query()}" for chart in FIGURE_CHARTS]


def course_urls() -> dict[str, str]:
    """The seven course results as moviedash route URLs (default view)."""
    out = {}
    for metric in SERIES_ROUTES:
        for resolution in RESOLUTIONS:
            out[f"{metric} {resolution}"] = f"/data/{metric}/?" + urlencode([("resolution", resolution)])
    out["toplist 10"] = "/data/toplist/?" + urlencode([("num", "10"), ("rank", "plays")])
    return out


# --------------------------------------------------------------------------- #
# Dash: layout values, dependencies, request bodies.
# --------------------------------------------------------------------------- #


def layout_props(layout: Any) -> dict[str, dict[str, Any]]:
    """``{component id: props}`` of every component with a string id in a ``/_dash-layout`` tree."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if isinstance(props.get("id"), str):
                    found[props["id"]] = props
                for value in props.values():
                    if isinstance(value, (list, dict)):
                        walk(value)

    walk(layout)
    return found


def parse_outputs(output: str) -> list[dict[str, str]] | dict[str, str]:
    """``"..a.figure...a.config.."`` -> a list of ``{id, property}``.

    ``"b.data"`` -> one dict (as the renderer sends).
    """

    def one(text: str) -> dict[str, str]:
        component, _, prop = text.rpartition(".")
        return {"id": component, "property": prop}

    if output.startswith("..") and output.endswith(".."):
        return [one(part) for part in output[2:-2].split("...")]
    return one(output)


@dataclass
class Callback:
    name: str
    output: str
    outputs: list[dict[str, str]] | dict[str, str]
    inputs: list[dict[str, str]]
    state: list[dict[str, str]]


def find_callbacks(dependencies: list[dict[str, Any]], wanted: dict[str, str] | None = None) -> dict[str, Callback]:
    """The server callbacks to measure, by name.

    ``wanted``: ``{name: one of its outputs' id.property}``, each of which must exist; by default the
    overview's chart, KPI and URL callbacks (:data:`CHART_CALLBACKS` must exist, :data:`URL_CALLBACKS` may).
    """
    searched = {**CHART_CALLBACKS, **URL_CALLBACKS} if wanted is None else wanted
    required = CHART_CALLBACKS if wanted is None else wanted
    found: dict[str, Callback] = {}
    for dep in dependencies:
        if dep.get("clientside_function"):
            continue
        outputs = parse_outputs(dep["output"])
        keys = {
            f"{o['id']}.{o['property'].split('@')[0]}" for o in (outputs if isinstance(outputs, list) else [outputs])
        }
        for name, key in searched.items():
            if key in keys:
                found[name] = Callback(name, dep["output"], outputs, dep.get("inputs", []), dep.get("state", []))
    missing = [name for name in required if name not in found]
    if missing:
        raise BenchmarkError(f"/_dash-dependencies has no server callback for {', '.join(missing)}")
    return found


@dataclass
class Page:
    """What the page offers: the control defaults and options of ``/_dash-layout``."""

    props: dict[str, dict[str, Any]]
    first_day: dt.date
    last_day: dt.date
    options: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_layout(cls, layout: Any) -> Page:
        props = layout_props(layout)
        for component in (DATE_RANGE, SESSIONTYPE, DEVICE, MARKET, USERS_RESOLUTION, MINUTES_RESOLUTION, TOP_N, RANK):
            if component not in props:
                raise BenchmarkError(f"/_dash-layout has no component {component!r}")
        dates = props[DATE_RANGE]
        first = dates.get("min_date_allowed") or dates.get("start_date")
        last = dates.get("max_date_allowed") or dates.get("end_date")
        if not first or not last:
            raise BenchmarkError(f"/_dash-layout: the date range has no bounds: {dates}")
        options = {}
        for component in (SESSIONTYPE, DEVICE, MARKET):
            options[component] = [o["value"] if isinstance(o, dict) else o for o in props[component].get("options", [])]
        for component, value in FILTER_VALUES.items():
            if value not in options[component]:
                raise BenchmarkError(
                    f"{value!r} is not among the {component} options of the data: {options[component]}"
                )
        return cls(props, dt.date.fromisoformat(first[:10]), dt.date.fromisoformat(last[:10]), options)

    def default_values(self) -> dict[tuple[str, str], Any]:
        """The value of every control prop the callbacks read, as the page starts."""
        values: dict[tuple[str, str], Any] = {}
        for component, props in self.props.items():
            for prop, value in props.items():
                values[(component, prop)] = value
        values[(THEME, "value")] = "light"
        values[(URL, "search")] = ""
        values[(URL_RESTORE, "data")] = {"search": ""}
        values[(URL_QUERY, "data")] = None
        return with_selection(values)

    def values_for(self, selection: Selection) -> dict[tuple[str, str], Any]:
        """Control values showing ``selection`` (the whole span when it has no dates)."""
        values = self.default_values()
        values[(DATE_RANGE, "start_date")] = (selection.start or self.first_day).isoformat()
        values[(DATE_RANGE, "end_date")] = (selection.end or self.last_day).isoformat()
        values[(SESSIONTYPE, "value")] = selection.sessiontype or ""
        values[(DEVICE, "value")] = list(selection.device)
        values[(MARKET, "value")] = list(selection.market)
        return with_selection(values)


def with_selection(values: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """``values`` with the overview's selection stores as the page's script writes them from the filters."""
    keys = [(DATE_RANGE, "start_date"), (DATE_RANGE, "end_date"), (SESSIONTYPE, "value"), (DEVICE, "value"),
            (MARKET, "value")]
    filters = [values.get(key) for key in keys]
    values[(OVERVIEW_SELECTION, "data")] = {"filters": filters, "theme": values.get((CHART_THEME, "data"), "light")}
    values[(OVERVIEW_FILTERS, "data")] = {"filters": filters}
    return values


def changed_props(selection: Selection) -> list[str]:
    """What a user changed to get from the default view to ``selection``."""
    changed = []
    if selection.start or selection.end:
        changed += [f"{DATE_RANGE}.start_date", f"{DATE_RANGE}.end_date"]
    if selection.sessiontype:
        changed.append(f"{SESSIONTYPE}.value")
    if selection.device:
        changed.append(f"{DEVICE}.value")
    if selection.market:
        changed.append(f"{MARKET}.value")
    return changed


def request_body(callback: Callback, values: dict[tuple[str, str], Any], changed: list[str]) -> dict[str, Any]:
    """The body Dash's renderer POSTs to /_dash-update-component for ``callback``."""

    def fill(deps: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{"id": d["id"], "property": d["property"], "value": values.get((d["id"], d["property"]))} for d in deps]

    reads = {f"{d['id']}.{d['property']}" for d in callback.inputs}
    stores = [f"{store}.data" for store in (OVERVIEW_SELECTION, OVERVIEW_FILTERS) if f"{store}.data" in reads]
    if stores and any(prop not in reads for prop in changed):
        # A filter change reaches the overview's callbacks through its selection stores.
        changed = [prop for prop in changed if prop in reads] + stores
    body: dict[str, Any] = {
        "output": callback.output,
        "outputs": callback.outputs,
        "inputs": fill(callback.inputs),
        "changedPropIds": changed,
        "parsedChangedPropsIds": changed,
    }
    if callback.state:
        body["state"] = fill(callback.state)
    return body


@dataclass
class CallbackCase:
    selection: str
    callback: str
    label: str
    body: dict[str, Any]
    unfiltered: bool
    default_view: bool


def callback_cases(page: Page, found: dict[str, Callback], chosen: list[Selection]) -> list[CallbackCase]:
    """Every callback request measured: the chart, KPI and URL callbacks of each selection,
    plus the chart controls (each resolution, top N 10/50 x rank) on the unfiltered data."""
    cases: list[CallbackCase] = []
    for selection in chosen:
        values = page.values_for(selection)
        if selection.unfiltered:
            values[(URL_RESTORE, "data")] = {"search": ""}
        else:
            values[(URL_RESTORE, "data")] = {"search": selection.view_query()}
        changed = changed_props(selection)
        names = [*CHART_CALLBACKS, "url-write"]
        if selection.unfiltered or selection.name == "all filters":
            names.append("url-restore")  # opening the page / a shared link with these filters
        for name in names:
            if name not in found:
                continue
            label = name if name != "url-restore" else f"url-restore ({selection.view_query() or 'no query'})"
            cases.append(
                CallbackCase(
                    selection.name,
                    name,
                    label,
                    request_body(found[name], values, [] if selection.unfiltered or name == "url-restore" else changed),
                    selection.unfiltered,
                    selection.unfiltered,
                )
            )
    default = Selection("default")
    defaults = page.default_values()
    variants: list[tuple[str, str, dict[str, Any]]] = []
    for chart, component in (("users", USERS_RESOLUTION), ("minutes", MINUTES_RESOLUTION)):
        for resolution in RESOLUTIONS:
            if resolution != defaults.get((component, "value")):
                variants.append((chart, f"{component}={resolution}", {component: resolution}))
    for num in TOP_NUMS:
        for rank in RANKS:
            if (num, rank) != (defaults.get((TOP_N, "value")), defaults.get((RANK, "value"))):
                variants.append(("top", f"top-n={num}, rank={rank}", {TOP_N: num, RANK: rank}))
    for chart, label, controls in variants:
        values = page.values_for(default)
        for component, value in controls.items():
            values[(component, "value")] = value
        changed = [f"{component}.value" for component in controls]
        cases.append(
            CallbackCase(f"controls: {label}", chart, chart, request_body(found[chart], values, changed), True, False)
        )
    return cases


def check_callback_answer(status: int, body: bytes, what: str) -> None:
    """A chart/KPI callback must answer 200 with JSON holding "response" and no error figure."""
    import json

    if status != 200:
        raise BenchmarkError(f"{what}: HTTP {status}: {body[:500]!r}")
    try:
        payload = json.loads(body)
    except ValueError:
        raise BenchmarkError(f"{what}: not JSON: {body[:500]!r}") from None
    if not isinstance(payload, dict) or "response" not in payload:
        raise BenchmarkError(f"{what}: JSON without 'response': {body[:500]!r}")
    if b"Invalid selection" in body:
        raise BenchmarkError(f"{what}: the chart says the selection is invalid: {body[:800]!r}")


def check_route_answer(status: int, body: bytes, content_type: str, what: str, expect_rows: bool) -> None:
    import json

    if status != 200:
        raise BenchmarkError(f"{what}: HTTP {status}: {body[:500]!r}")
    if what.startswith(("/data/", "/figures/")):
        try:
            payload = json.loads(body)
        except ValueError:
            raise BenchmarkError(f"{what}: not JSON ({content_type}): {body[:300]!r}") from None
        if what.startswith("/figures/"):
            if not isinstance(payload, dict) or "data" not in payload:
                raise BenchmarkError(f"{what}: expected Plotly figure JSON, got {body[:300]!r}")
        elif not isinstance(payload, list) or (expect_rows and not payload):
            raise BenchmarkError(f"{what}: expected a non-empty JSON list, got {body[:300]!r}")


# --------------------------------------------------------------------------- #
# Seeded random selections (the backends benchmark: benchmarks/backends.py).
# --------------------------------------------------------------------------- #

#: The "Number of titles" values a random selection draws from (the slider's range).
TOP_N_RANGE = (1, 50)
FILTERS = (SESSIONTYPE, DEVICE, MARKET)


@dataclass(frozen=True)
class RandomSelection:
    """A date range and filters (as :class:`Selection`), and the chart controls: resolution, top N, rank."""

    selection: Selection
    resolution: str
    num: int
    rank: str

    @property
    def name(self) -> str:
        return self.selection.name

    def route_urls(self) -> list[str]:
        """The three /data routes this selection's charts use."""
        base = self.selection.params()
        return [
            "/data/unique_users/?" + urlencode([("resolution", self.resolution), *base]),
            "/data/minutes_watched/?" + urlencode([("resolution", self.resolution), *base]),
            "/data/toplist/?" + urlencode([("num", str(self.num)), ("rank", self.rank), *base]),
        ]

    def as_dict(self) -> dict[str, Any]:
        s = self.selection
        return {
            "name": s.name,
            "start": s.start.isoformat() if s.start else None,
            "end": s.end.isoformat() if s.end else None,
            "sessiontype": s.sessiontype,
            "device": list(s.device),
            "market": list(s.market),
            "resolution": self.resolution,
            "num": self.num,
            "rank": self.rank,
        }


def random_selections(
    count: int, seed: int, first_day: dt.date, last_day: dt.date, options: dict[str, list[str]]
) -> list[RandomSelection]:
    """``count`` selections drawn from ``random.Random(seed)`` alone: the same arguments give the same list.

    Date ranges: the first is one day, the second the whole span, the rest of a
    length drawn log-uniformly from one day to the span (short ranges are as
    common as long ones), at a uniform position.  Filters: each of session type,
    device and market is left out (all values) half the time, else a random
    non-empty subset of the data's ``options`` (session type: one value, as the
    dashboard offers), ``unknown`` included when the data have it; every fifth
    selection that can filters on ``unknown``.  Resolution and rank cycle so
    every combination occurs (in any 9 consecutive selections); top N is drawn
    from 1 to 50, the first two 1 and 50.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if last_day < first_day:
        raise ValueError(f"the span {first_day}..{last_day} is empty")
    rng = random.Random(seed)
    span = (last_day - first_day).days + 1
    out: list[RandomSelection] = []
    for i in range(count):
        if i == 0:
            length = 1
        elif i == 1:
            length = span
        else:
            length = min(span, max(1, round(math.exp(rng.uniform(0.0, math.log(span))))))
        start = first_day + dt.timedelta(days=rng.randrange(span - length + 1))
        end = start + dt.timedelta(days=length - 1)
        chosen: dict[str, tuple[str, ...]] = {}
        for component in FILTERS:
            values = sorted(options.get(component, []))
            if not values or rng.random() < 0.5:
                chosen[component] = ()
            elif component == SESSIONTYPE:
                chosen[component] = (rng.choice(values),)
            else:
                chosen[component] = tuple(sorted(rng.sample(values, rng.randint(1, len(values)))))
        if i % 5 == 4:
            with_unknown = [c for c in FILTERS if "unknown" in options.get(c, [])]
            if with_unknown:
                component = rng.choice(with_unknown)
                chosen[component] = (
                    ("unknown",) if component == SESSIONTYPE else tuple(sorted({*chosen[component], "unknown"}))
                )
        resolution = RESOLUTIONS[i % len(RESOLUTIONS)]
        rank = RANKS[(i // len(RESOLUTIONS)) % len(RANKS)]
        num = TOP_N_RANGE[0] if i == 0 else TOP_N_RANGE[1] if i == 1 else rng.randint(*TOP_N_RANGE)
        filters = ", ".join(f"{c}={'+'.join(v)}" for c, v in chosen.items() if v) or "no filter"
        name = f"r{i + 1:02d} {start}..{end} ({length} d), {filters}, {resolution}, top {num} by {rank}"
        selection = Selection(name, start, end, (chosen[SESSIONTYPE] or (None,))[0], chosen[DEVICE], chosen[MARKET])
        out.append(RandomSelection(selection, resolution, num, rank))
    return out


def random_selection_cases(page: Page, found: dict[str, Callback], chosen: RandomSelection) -> list[CallbackCase]:
    """The chart and KPI callbacks the page runs for ``chosen``: its dates, filters and chart controls."""
    values = page.values_for(chosen.selection)
    values[(USERS_RESOLUTION, "value")] = chosen.resolution
    values[(MINUTES_RESOLUTION, "value")] = chosen.resolution
    values[(TOP_N, "value")] = chosen.num
    values[(RANK, "value")] = chosen.rank
    changed = changed_props(chosen.selection) + [
        f"{c}.value" for c in (USERS_RESOLUTION, MINUTES_RESOLUTION, TOP_N, RANK)
    ]
    cases = []
    for name in CHART_CALLBACKS:
        callback = found[name]
        # The renderer names only the callback's own inputs as changed (the server refuses others).
        inputs = {f"{d['id']}.{d['property']}" for d in callback.inputs}
        body = request_body(callback, values, [c for c in changed if c in inputs])
        cases.append(CallbackCase(chosen.name, name, name, body, False, False))
    return cases
