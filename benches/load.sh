#!/usr/bin/env bash
# Figures of `scimcheck load`, on loopback only:
# 1. throughput: `scimcheck load --raw` (match GETs only) and wrk at equal
#    connections against `scimcheck serve`; both req/s and their ratio
#    (goal >= 0.8). wrk's figure is also the built-in double's ceiling.
# 2. memory: the peak RSS of `scimcheck load` (the double runs in its own
#    process) for 1,000 and 20,000 users (goal: within 1.5x).
#
#   bash benches/load.sh        (installs wrk from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin scimcheck
bin=target/release/scimcheck
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="bench-$(date +%s)-$$"
"$bin" serve --port "$port" --token "$token" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
connections=${CONNECTIONS:-32}
seconds=${SECONDS_EACH:-10}
query="$url/Users?filter=userName%20eq%20%22scimcheck-bench%40example.com%22"

wrk_rps=$(wrk -t2 -c"$connections" -d"${seconds}s" -H "Authorization: Bearer $token" -H "Accept: application/scim+json" "$query" | awk '/Requests\/sec/ {print $2}')
requests=$(python3 -c "print(int(float('$wrk_rps') * $seconds))")
# Only the figure is read; a failed verdict (say, a 5xx) is no reason to stop the bench.
ours=$({ "$bin" load --raw --concurrency "$connections" --max-requests "$requests" --base-url "$url" --token "$token" || true; } | awk '/requests a second achieved/ {print $2}')
ratio=$(awk -v a="$ours" -v b="$wrk_rps" 'BEGIN { printf "%.2f", a / b }')
echo "throughput, $connections connections, GET ?filter against scimcheck serve:"
echo "  wrk:            $wrk_rps req/s (the built-in double's ceiling with the fastest client here)"
echo "  scimcheck load: $ours req/s ($requests requests, --raw)"
echo "  ratio:          $ratio (goal >= 0.8)"
echo "  the double's RSS after both: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status) (nothing is kept per request)"

rss() { # users, rate
  { /usr/bin/time -f "%M" "$bin" load --users "$1" --rate "$2" --concurrency 64 --p99 60000 --base-url "$url" --token "$token" 2>&1 >/dev/null || true; } | tail -1
}
small=$(rss 1000 2000)
large=$(rss 20000 4000)
echo "memory, peak RSS of scimcheck load (the double in its own process):"
echo "  1,000 users:  ${small} KB"
echo "  20,000 users: ${large} KB"
echo "  ratio:        $(awk -v a="$large" -v b="$small" 'BEGIN { printf "%.2f", a / b }') (goal <= 1.5)"
