#!/usr/bin/env bash
# `make css`: rebuild static/'s committed outputs with the pinned npm tools (package-lock.json):
#   dist/app.css          Tailwind's CLI over src/app.css, index.html, tracker-test.html, js/
#   dist/tracker.min.js   terser over tracker.js
#   vendor/uplot/         uPlot's minified build, its CSS and LICENSE, and VERSION
# Each output names the sha256 of its sources (first 16 hex digits); the browser tests
# recompute it, so an output not rebuilt after its sources changed fails them.
set -euo pipefail
export LC_ALL=C  # the order of js/*.js, and so the stamp, must not depend on the locale
cd "$(dirname "$0")"

stamp() { cat "$@" | sha256sum | cut -c1-16; }
version() { node -p "require('./node_modules/$1/package.json').version"; }

npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p dist vendor/uplot

npx tailwindcss --input src/app.css --output dist/app.css.tmp --minify
{
  printf '/* built by make css with tailwindcss %s; sources sha256 %s */\n' "$(version tailwindcss)" \
    "$(stamp src/app.css index.html tracker-test.html js/*.js)"
  cat dist/app.css.tmp
} > dist/app.css
rm dist/app.css.tmp

npx terser tracker.js --compress --mangle --output dist/tracker.min.js.tmp
{
  printf '/* tracker.js sha256 %s, minified by terser %s */\n' "$(stamp tracker.js)" "$(version terser)"
  cat dist/tracker.min.js.tmp
} > dist/tracker.min.js
rm dist/tracker.min.js.tmp

cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE vendor/uplot/
printf 'uPlot %s, from the npm registry (package "uplot"), MIT license (LICENSE)\n' "$(version uplot)" > vendor/uplot/VERSION

wc -c dist/app.css dist/tracker.min.js vendor/uplot/uPlot.iife.min.js
printf 'tracker gzipped: %s bytes\n' "$(gzip -9 -c dist/tracker.min.js | wc -c)"
