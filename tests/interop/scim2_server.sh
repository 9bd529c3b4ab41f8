#!/usr/bin/env bash
# Interop with a real SCIM server: the PyPI package scim2-server, in a venv
# of its own, on a loopback port; scimcheck runs every built-in profile
# against it and the outcome must be exactly the expected one
# (scim2_server_expected.json, each deviation explained in docs/interop.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/interop/loopback.sh

interop_setup target/interop-server-venv tests/interop/requirements-server.txt
token="interop-$(date +%s)-$$"
"$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT

url="http://127.0.0.1:$port"
wait_for_port "$port"

echo "scimcheck (every profile) against scim2-server at $url"
status=0
./target/debug/scimcheck run --base-url "$url" --token "$token" --rate 0 \
  --report "json=$out/report.json" >"$out/run.txt" 2>&1 || status=$?
judge_run "$status" "$out" tests/interop/scim2_server_expected.json
