/*
 * moviedash: browser-only behaviour of the dashboard.
 *
 *  - client-side callbacks (namespace "moviedash"): history writes for the
 *    shareable URL, date-range presets, the theme switch;
 *  - the static first paint, removed when Dash's page appears;
 *  - an "SVG" button in every chart's modebar (Plotly's own camera button
 *    exports PNG; plotly.js has no built-in SVG button, and a button with a
 *    click handler cannot travel through a Dash prop, so it is installed as a
 *    plotly.js default config as soon as plotly.js loads).
 */
(function () {
    "use strict";

    var DAY_MS = 24 * 60 * 60 * 1000;
    var PRESET_DAYS = {"preset-7": 7, "preset-30": 30, "preset-90": 90};
    var PRESET_IDS = ["preset-7", "preset-30", "preset-90", "preset-all"];

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    /** A page's selection store writer: the filters and the chart theme while ``page`` is shown, else no change. */
    function pageSelection(page) {
        return function (start, end, sessiontype, device, market, theme, shown) {
            if (shown !== page) {
                return noUpdate();
            }
            return {filters: [start, end, sessiontype, device, market], theme: theme};
        };
    }

    /** A page's filters store writer: the filters alone while ``page`` is shown, else no change. */
    function pageFilters(page) {
        return function (start, end, sessiontype, device, market, shown) {
            if (shown !== page) {
                return noUpdate();
            }
            return {filters: [start, end, sessiontype, device, market]};
        };
    }

    /** The ISO day ``days - 1`` days before ``last`` (so the range holds ``days`` days). */
    function daysBefore(last, days) {
        var end = new Date(last + "T00:00:00Z");
        return new Date(end.getTime() - (days - 1) * DAY_MS).toISOString().slice(0, 10);
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        moviedash: {
            /**
             * The URL the controls must follow: on load and on back/forward, but
             * not the echo of our own history write (whose query we just stored).
             */
            guardUrl: function (_search, written) {
                var current = window.location.search;
                // ``shown``: the address the first layout was built from (its controls show it already).
                if (written && (written.query === current || written.shown === current)) {
                    return noUpdate();
                }
                return {search: current};
            },

            /** Write the server's canonical query string into the history, without reloading. */
            writeUrl: function (data) {
                if (!data || typeof data.query !== "string") {
                    return noUpdate();
                }
                if (data.query !== window.location.search) {
                    var url = window.location.pathname + data.query + window.location.hash;
                    if (data.replace) {
                        window.history.replaceState(null, "", url);
                    } else {
                        window.history.pushState(null, "", url);
                    }
                    // Let dcc.Location learn the new search, so back/forward compare correctly.
                    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                }
                return data.query;
            },

            /** "7 days", "30 days", "90 days": the last N days of the data; "All time": all of it. */
            applyPreset: function (_n7, _n30, _n90, _nAll, start, end, min, max) {
                var trigger = window.dash_clientside.callback_context.triggered_id;
                if (!trigger || !min || !max) {
                    return [noUpdate(), noUpdate()];
                }
                var wanted = trigger === "preset-all" ? min : daysBefore(max, PRESET_DAYS[trigger]);
                if (wanted < min) {
                    wanted = min;
                }
                if (wanted === start && max === end) {
                    return [noUpdate(), noUpdate()];  // nothing changes: no callbacks
                }
                return [wanted, max];
            },

            /** Highlight the preset that matches the current range. */
            markPreset: function (start, end, min, max) {
                var active = null;
                if (start && end && end === max) {
                    if (start === min) {
                        active = "preset-all";
                    } else {
                        Object.keys(PRESET_DAYS).forEach(function (id) {
                            var first = daysBefore(max, PRESET_DAYS[id]);
                            if (start === (first < min ? min : first)) {
                                active = active || id;
                            }
                        });
                    }
                }
                var classes = PRESET_IDS.map(function (id) {
                    return id === active ? "chip chip-active" : "chip";
                });
                var pressed = PRESET_IDS.map(function (id) {
                    return id === active ? "true" : "false";
                });
                return classes.concat(pressed);
            },

            /** The charts' theme: ``theme`` when the charts are drawn in another (``drawn``), else no change. */
            chartTheme: function (theme, drawn) {
                var name = theme === "dark" ? "dark" : "light";
                return name === drawn ? noUpdate() : name;
            },

            /** Each page's selection stores, passed on only while that page is shown, so a filter change on
             *  the other page starts no request for the hidden one: ``<page>Selection`` holds the filters and
             *  the chart theme (the charts' trigger), ``<page>Filters`` the filters alone (the trigger of the
             *  page's other numbers: a theme switch redraws the charts only). */
            overviewSelection: pageSelection("overview"),
            overviewFilters: pageFilters("overview"),
            engagementSelection: pageSelection("engagement"),
            engagementFilters: pageFilters("engagement"),
            seriesSelection: pageSelection("series"),
            seriesFilters: pageFilters("series"),
            showSelection: pageSelection("show"),
            showFilters: pageFilters("show"),
            audienceSelection: pageSelection("audience"),

            /** The tab bar's links carry the current view's query (written by the server as url-query). */
            pageLinks: function (data) {
                var query = data && typeof data.query === "string" ? data.query : window.location.search;
                return ["/" + query, "/engagement" + query, "/series" + query, "/audience" + query];
            },

            /** The overview's top list in its Shows mode: a click on a show opens its page (as openShow). */
            openGroupedShow: function (clickData, group, data) {
                if (group !== "shows") {
                    return noUpdate();
                }
                return window.dash_clientside.moviedash.openShow(clickData, data);
            },

            /** A click on a show's bar opens its page (/show/<name>), with the current view's query. */
            openShow: function (clickData, data) {
                var point = clickData && clickData.points && clickData.points[0];
                if (!point || typeof point.y !== "string" || !point.y) {
                    return noUpdate();
                }
                var query = data && typeof data.query === "string" ? data.query : window.location.search;
                window.location.assign("/show/" + encodeURIComponent(point.y) + query);
                return noUpdate();
            },

            /** Light/dark: a class on the app and a data attribute on <html> (dropdown menus render in a portal). */
            applyTheme: function (theme) {
                var name = theme === "dark" ? "dark" : "light";
                document.documentElement.setAttribute("data-theme", name);
                return "app theme-" + name;
            }
        }
    });

    /* ------------------------------------------------------------------ */
    /* The static first paint (moviedash/dashboard/firstpaint.py).          */
    /* ------------------------------------------------------------------ */

    /* Removed in the frame in which Dash's own page appears (a mutation
     * observer runs before the browser paints), so the two never show together. */
    var shell = document.getElementById("first-paint");
    var entry = document.getElementById("react-entry-point");
    if (shell && entry && window.MutationObserver) {
        var observer = new MutationObserver(function () {
            if (entry.querySelector(".app")) {
                observer.disconnect();
                shell.remove();
            }
        });
        observer.observe(entry, {childList: true, subtree: true});
    }

    /* ------------------------------------------------------------------ */
    /* SVG export in the modebar.                                          */
    /* ------------------------------------------------------------------ */

    function installSvgButton(Plotly) {
        if (!Plotly || typeof Plotly.setPlotConfig !== "function") {
            return;
        }
        Plotly.setPlotConfig({
            modeBarButtonsToAdd: [{
                name: "downloadSvg",
                title: "Download plot as SVG",
                icon: {
                    width: 1000,
                    height: 1000,
                    // A down arrow onto a tray.
                    path: "M450 100h100v430l140-140 70 70-260 260-260-260 70-70 140 140zM100 800h800v100H100z"
                },
                click: function (gd) {
                    var options = (gd._context && gd._context.toImageButtonOptions) || {};
                    Plotly.downloadImage(gd, {
                        format: "svg",
                        filename: options.filename || "chart",
                        width: gd._fullLayout && gd._fullLayout.width,
                        height: gd._fullLayout && gd._fullLayout.height
                    });
                }
            }]
        });
    }

    if (window.Plotly) {
        installSvgButton(window.Plotly);
    } else {
        // plotly.js loads asynchronously and ends with ``window.Plotly = Plotly``:
        // install the button at that moment, before any chart is drawn.
        var plotly;
        Object.defineProperty(window, "Plotly", {
            configurable: true,
            enumerable: true,
            get: function () {
                return plotly;
            },
            set: function (value) {
                plotly = value;
                installSvgButton(value);
            }
        });
    }
})();
