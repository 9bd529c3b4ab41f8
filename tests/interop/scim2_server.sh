#!/usr/bin/env bash
# Interop with a real SCIM server: the PyPI package scim2-server, in a venv
# of its own, on a loopback port; scimcheck runs every built-in profile
# against it and the outcome must be exactly the expected one
# (scim2_server_expected.json, each deviation explained in docs/interop.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/interop-server-venv
if [ ! -x "$venv/bin/scim2-server" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements-server.txt

cargo build --locked --quiet --bin scimcheck
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="interop-$(date +%s)-$$"
out=$(mktemp -d)
"$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

echo "scimcheck (every profile) against scim2-server at $url"
status=0
./target/debug/scimcheck run --base-url "$url" --token "$token" --rate 0 \
  --report "json=$out/report.json" >"$out/run.txt" 2>&1 || status=$?
# 1: checks failed, as expected; anything else means the run itself went wrong.
if [ "$status" -ne 1 ]; then
  echo "scimcheck exited $status, expected 1 (the known deviations):"
  cat "$out/run.txt"
  echo "--- scim2-server log:"; tail -20 "$out/server.log"
  exit 1
fi
if ! "$venv/bin/python" tests/interop/scim2_server_check.py "$out/report.json" tests/interop/scim2_server_expected.json; then
  grep -E '^(FAIL|SKIP)' -A12 "$out/run.txt" || true
  exit 1
fi
