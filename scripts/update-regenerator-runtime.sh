#!/usr/bin/env bash
# Refresh assets/regenerator-runtime.js: the runtime of Regenerator-compiled async
# functions, which Dash's bundles call as the global ``regeneratorRuntime``.
#
# Dash pages load @babel/polyfill (core-js 2 and this runtime, 33 KB compressed)
# for old browsers; evaluating it is one of the longest tasks of the first load.
# The dashboard serves only the runtime instead (moviedash/dashboard/firstpaint.py
# drops the polyfill's script tag); every other feature core-js 2 fills in is native
# in the browsers Dash 4 supports. Pinned; only the npm registry is used.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.14.1
out=assets/regenerator-runtime.js
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "update-regenerator-runtime: npm pack regenerator-runtime@$VERSION"
(cd "$scratch" && npm pack --silent "regenerator-runtime@$VERSION" > /dev/null && tar xzf "regenerator-runtime-$VERSION.tgz")
{
  echo "/* regenerator-runtime $VERSION (npm), MIT license: the global regeneratorRuntime Dash's bundles use. */"
  cat "$scratch/package/runtime.js"
} > "$out"
echo "update-regenerator-runtime: $out ($(wc -c < "$out") bytes)"
