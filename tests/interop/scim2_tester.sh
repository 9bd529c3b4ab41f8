#!/usr/bin/env bash
# The independent check of the built-in double: the PyPI package scim2-tester,
# in a venv of its own, against `scimcheck serve` on a loopback port.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/interop-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt

cargo build --locked --quiet --bin scimcheck
token="interop-$(date +%s)-$$"
log=$(mktemp)
./target/debug/scimcheck serve --port 0 --token "$token" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "scimcheck serve did not start:"; cat "$log"; exit 1
fi
echo "scim2-tester against $url"
"$venv/bin/python" tests/interop/scim2_tester_check.py "$url" "$token"
