#!/usr/bin/env bash
# The independent check of the HAR report: a run's `--report har=` file
# validated against HAR 1.2 by the npm package har-validator.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=target/npm-tools
if [ ! -d "$tools/node_modules/har-validator" ]; then
  mkdir -p "$tools"
  # Pinned, so a new release cannot change the verdict unannounced.
  npm install --prefix "$tools" --no-audit --no-fund --silent har-validator@5.1.5
fi

cargo build --locked --quiet --bin scimcheck
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Every built-in scenario against the double: passes, advice and cleanups.
./target/debug/scimcheck run --report "har=$out/run.har" >/dev/null
NODE_PATH="$tools/node_modules" node tests/interop/har_check.js "$out/run.har"
