#!/usr/bin/env bash
# Interop with a second real SCIM server: django-scim2-server (PyPI) in a
# minimal Django project (tests/interop/django), on a loopback port, run
# serially (SQLite). It declares few optional attributes and refuses those it
# does not know, so it shows that scimcheck's bodies fit what a server
# declares: the outcome must be exactly django_scim2_server_expected.json,
# each failure a deviation of the server's (docs/interop.md), every step
# left out named.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/interop-django-venv
if [ ! -x "$venv/bin/django-admin" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements-django.txt

cargo build --locked --quiet --bin scimcheck
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(mktemp -d)
export SCIM_TOKEN="interop-$(date +%s)-$$" SCIM_DB="$out/db.sqlite3"
export DJANGO_SETTINGS_MODULE=settings PYTHONPATH="$PWD/tests/interop/django"
"$venv/bin/django-admin" migrate -v0
"$venv/bin/django-admin" runserver "127.0.0.1:$port" --noreload >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT

url="http://127.0.0.1:$port/scim/v2"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

echo "scimcheck (every profile, one scenario at a time) against django-scim2-server at $url"
status=0
./target/debug/scimcheck run --base-url "$url" --token "$SCIM_TOKEN" --rate 0 --concurrency 1 \
  --report "json=$out/report.json" >"$out/run.txt" 2>&1 || status=$?
if [ "$status" -ne 1 ]; then
  echo "scimcheck exited $status, expected 1 (the known deviations):"
  cat "$out/run.txt"
  echo "--- server log:"; tail -20 "$out/server.log"
  exit 1
fi
if ! "$venv/bin/python" tests/interop/scim2_server_check.py "$out/report.json" tests/interop/django_scim2_server_expected.json; then
  grep -E '^(FAIL|SKIP)' -A12 "$out/run.txt" || true
  exit 1
fi
