#!/usr/bin/env bash
# Interop with a third real SCIM server: canaille (PyPI), a strict one whose
# /Schemas makes name (with name.formatted and name.familyName) and active
# required, and which claims no filtering. Run serially on SQLite. scimcheck
# must fit its bodies to what canaille requires, leave the steps that need
# filtering not applicable, and name every step not run; the outcome must be
# exactly canaille_expected.json, each failure a deviation of canaille's
# (docs/interop.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/interop/loopback.sh

interop_setup target/interop-canaille-venv tests/interop/requirements-canaille.txt
export SCIM_TOKEN="interop-$(date +%s)-$$" SCIM_DB="$out/canaille.sqlite3"
"$venv/bin/python" tests/interop/canaille/serve.py "$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT

url="http://127.0.0.1:$port/scim/v2"
# canaille migrates its database before it listens: give it time.
for _ in 1 2 3; do wait_for_port "$port" && break; done

echo "scimcheck (every profile, one scenario at a time) against canaille at $url"
status=0
./target/debug/scimcheck run --base-url "$url" --token "$SCIM_TOKEN" --rate 0 --concurrency 1 \
  --report "json=$out/report.json" >"$out/run.txt" 2>&1 || status=$?
judge_run "$status" "$out" tests/interop/canaille_expected.json
