#!/usr/bin/env bash
# Rebuild assets/plotly-moviedash.min.js: plotly.js with only the trace types the
# dashboard draws (core with scatter, plus bar and heatmap; 1.1 MB instead of the
# cartesian dist bundle's 1.5 MB and the full bundle's 4.8 MB), at the plotly.js
# version of the installed plotly package. Run after upgrading plotly or changing
# the trace types in moviedash/charts.py; tests/integration/test_delivery.py fails
# while the versions differ or a chart uses a trace type the bundle lacks.
#
# Built the way plotly.js documents for partial bundles (BUILDING.md: bundle its
# lib/ modules like lib/index-basic.js), with esbuild and the options of plotly.js's
# own esbuild-config.js. Reproducible: plotly.js and esbuild are pinned, and
# plotly.js's dependencies are resolved as they were on its release day (npm
# --before). Only the npm registry is used; no package install scripts are run.
set -euo pipefail
cd "$(dirname "$0")/.."
ESBUILD=0.28.2
TRACES=(bar heatmap)  # scatter is part of plotly.js/lib/core
out=assets/plotly-moviedash.min.js
version=$(.venv/bin/python -c 'from plotly.offline import get_plotlyjs_version; print(get_plotlyjs_version())')
released=$(npm view "plotly.js@$version" "time[$version]")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/src" "$scratch/tools"
echo "update-plotly-bundle: installing plotly.js@$version (dependencies as of $released) and esbuild@$ESBUILD"
npm() { command npm --prefix "$1" install --no-audit --no-fund --silent --ignore-scripts -E "${@:2}"; }
echo '{"private": true}' | tee "$scratch/src/package.json" > "$scratch/tools/package.json"
npm "$scratch/src" --before="$released" "plotly.js@$version"
npm "$scratch/tools" "esbuild@$ESBUILD"
{
  echo "'use strict';"
  echo "var Plotly = require('plotly.js/lib/core');"
  echo "Plotly.register(["
  for trace in "${TRACES[@]}"; do echo "    require('plotly.js/lib/$trace'),"; done
  echo "]);"
  echo "module.exports = Plotly;"
} > "$scratch/src/entry.js"
banner="/**
* plotly.js (moviedash: scatter, bar, heatmap - minified) v$version
* Copyright 2012-$(date -u -d "$released" +%Y), Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
*/"
# --format=iife --global-name=Plotly: a classic script defining window.Plotly,
# which dcc.Graph uses instead of loading plotly's full bundle. The defines and
# target are those of plotly.js's esbuild-config.js; CSS is only required by the
# map traces, which are not in the bundle.
"$scratch/tools/node_modules/.bin/esbuild" "$scratch/src/entry.js" \
  --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --define:process.env.NODE_DEBUG=false \
  --loader:.css=empty --banner:js="$banner" --log-level=warning --outfile="$out"
echo "update-plotly-bundle: $out is plotly.js $version ($(wc -c < "$out") bytes)"
