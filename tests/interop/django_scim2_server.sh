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
. tests/interop/loopback.sh

interop_setup target/interop-django-venv tests/interop/requirements-django.txt
export SCIM_TOKEN="interop-$(date +%s)-$$" SCIM_DB="$out/db.sqlite3"
export DJANGO_SETTINGS_MODULE=settings PYTHONPATH="$PWD/tests/interop/django"
"$venv/bin/django-admin" migrate -v0
"$venv/bin/django-admin" runserver "127.0.0.1:$port" --noreload >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT

url="http://127.0.0.1:$port/scim/v2"
wait_for_port "$port"

echo "scimcheck (every profile, one scenario at a time) against django-scim2-server at $url"
status=0
./target/debug/scimcheck run --base-url "$url" --token "$SCIM_TOKEN" --rate 0 --concurrency 1 \
  --report "json=$out/report.json" >"$out/run.txt" 2>&1 || status=$?
judge_run "$status" "$out" tests/interop/django_scim2_server_expected.json
