#!/usr/bin/env bash
# The Locust export end to end: `scimcheck load --export locust=FILE`, run
# headless by Locust (PyPI, in a venv of its own) against `scimcheck serve`
# on loopback. Its statistics must count every operation of the scenario,
# none failed, and nothing of the run may be left in the double.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/locust-venv
if [ ! -x "$venv/bin/locust" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements-locust.txt

cargo build --locked --quiet --bin scimcheck
bin=./target/debug/scimcheck
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="locust-$(date +%s)-$$"
out=$(mktemp -d)
"$bin" serve --port "$port" --token "$token" >"$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done

# 300 users, 3 groups of 40 members in PATCHes of 8, at 150 requests a second.
"$bin" load --users 300 --groups 3 --members 40 --member-batch 8 --rate 150 --concurrency 8 \
  --base-url "$url" --export "locust=$out/locustfile.py" >"$out/export.txt"
run_id=$(sed -n 's/.*(run \([0-9a-f]*\)).*/\1/p' "$out/export.txt")
echo "locust (headless, 8 users) runs the exported load of run $run_id against scimcheck serve at $url"
status=0
SCIM_TOKEN="$token" timeout 180 "$venv/bin/locust" -f "$out/locustfile.py" --headless --host "$url" \
  -u 8 -r 8 -t 90s --only-summary --json-file "$out/stats" >"$out/locust.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  echo "locust exited $status:"; tail -40 "$out/locust.log"; exit 1
fi

SCIM_URL="$url" SCIM_TOKEN="$token" RUN_ID="$run_id" "$venv/bin/python" - "$out/stats.json" "$out/locust.log" <<'PY'
import json, os, sys, urllib.parse, urllib.request

stats = {s["name"]: s for s in json.load(open(sys.argv[1]))}
log = open(sys.argv[2]).read()
expected = {
    "match (GET ?filter)": 300,
    "create (POST)": 300,
    "update (PATCH)": 30,
    "disable (PATCH active)": 15,
    "group match (GET ?filter)": 3,
    "group create (POST)": 3,
    "members (PATCH add)": 15,
    "group read back (GET)": 3,
}
problems = []
for name, count in expected.items():
    got = stats.get(name, {})
    if got.get("num_requests") != count or got.get("num_failures") != 0:
        problems.append(f"{name}: {got.get('num_requests')} requests, {got.get('num_failures')} failed; expected {count}, none failed")
if "deleted 303, left 0" not in log:
    problems.append("the locustfile's cleanup did not say it deleted the 303 resources it created")
# Nothing of the run is left in the double.
for endpoint, attribute in [("Users", "userName"), ("Groups", "displayName")]:
    query = urllib.parse.urlencode({"filter": f'{attribute} sw "scimcheck-{os.environ["RUN_ID"]}"'})
    request = urllib.request.Request(
        f'{os.environ["SCIM_URL"]}/{endpoint}?{query}',
        headers={"Authorization": f'Bearer {os.environ["SCIM_TOKEN"]}'},
    )
    left = json.load(urllib.request.urlopen(request, timeout=10))["totalResults"]
    if left:
        problems.append(f"{left} {endpoint} of the run were left")
if problems:
    print("the Locust export did not hold:\n  " + "\n  ".join(problems))
    sys.exit(1)
total = sum(s["num_requests"] for s in stats.values())
print(f"ok: {total} requests, every operation counted, none failed, 303 created and deleted, nothing left")
PY
