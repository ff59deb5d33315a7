#!/usr/bin/env bash
# Refresh assets/plotly-cartesian.min.js: plotly.js's cartesian bundle (bar, heatmap,
# scatter... 1.5 MB instead of the full bundle's 4.8 MB), at the plotly.js version
# of the installed plotly package, from the npm registry. Run after upgrading plotly;
# tests/integration/test_delivery.py fails while the two versions differ.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(.venv/bin/python -c 'from plotly.offline import get_plotlyjs_version; print(get_plotlyjs_version())')
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "update-plotly-bundle: fetching plotly.js-cartesian-dist-min@$version"
(cd "$scratch" && npm pack --silent "plotly.js-cartesian-dist-min@$version" >/dev/null && tar xzf ./*.tgz)
cp "$scratch/package/plotly-cartesian.min.js" assets/plotly-cartesian.min.js
echo "update-plotly-bundle: assets/plotly-cartesian.min.js is plotly.js $version"
