#!/usr/bin/env bash
# Figures of `scimcheck explore` against the built-in double served on
# loopback: its request rate beside `load --raw`'s (the cases alone, then
# the scale phase), its peak memory at two budgets (flat in the number of
# operations), and, when the known-bugs kit is
# beside the project, the time to shrink a deviation found in a
# 2,000-request run. Prints figures; judges nothing.
#
#   cargo build --release && bash benches/explore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/scimcheck
token="bench-$(date +%s%N | sha256sum | head -c 16)"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port)
"$bin" serve --port "$port" --token "$token" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/ServiceProviderConfig" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
rate_of() { grep -o '([0-9]*/s)' | tr -d '(/s)'; }

# Five pairs, each raw run beside an explore run at --workers 8 (eight
# cases at once on one thread): the machine's noise reaches both alike, and
# the median of the pairs' ratios is the figure.
raw_rate() {
  "$bin" load --raw --max-requests 40000 --base-url "$url" --token "$token" --rate 100000 --yes 2>&1 \
    | grep -o '^PASS [0-9.]* requests a second' | awk '{print int($2)}'
}
explore_rate() {
  "$bin" explore --budget 40000 --workers "$1" --seed 3 --tenant-size 0 --base-url "$url" --token "$token" --rate 0 2>&1 | tail -1 | rate_of
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pairs=""
for _ in 1 2 3 4 5; do
  raw=$(raw_rate)
  rate=$(explore_rate 8)
  pairs="$pairs$raw $rate $(( 1000 * rate / raw ))"$'\n'
done
raw=$(printf '%s' "$pairs" | awk '{print $1}' | median)
rate=$(printf '%s' "$pairs" | awk '{print $2}' | median)
ratio=$(printf '%s' "$pairs" | awk '{print $3}' | median)
echo "load --raw (16 at once):                  $raw requests/s (median of 5)"
echo "explore --workers 8 (cases):              $rate requests/s (median of 5); median of the pairs' ratios: $(( ratio / 10 )).$(( ratio % 10 )) % of raw (goal: 25 %)"
for workers in 1 4; do
  rate=$(explore_rate "$workers")
  echo "explore --workers $workers (cases):               $rate requests/s"
done
scale=$("$bin" explore --budget 10 --seed 3 --tenant-size 1050 --base-url "$url" --token "$token" --rate 0 2>&1 | grep '^scale phase')
echo "explore --tenant-size 1050 (6 at once):   ${scale#scale phase: }"
for budget in 5000 50000; do
  kb=$( { /usr/bin/time -f '%M' "$bin" explore --budget "$budget" --seed 3 --tenant-size 0 --base-url "$url" --token "$token" --rate 0 >/dev/null; } 2>&1 | tail -1)
  echo "explore --budget $budget peak memory:       $kb KiB"
done

kit=../shared/mutants/mutants2/scim_mutant_server2.py
if [ -f "$kit" ]; then
  for bug in patch_not_atomic patch_returns_old filter_and_or_precedence; do
    kport=$(free_port)
    python3 "$kit" --port "$kport" --token "$token" --mutant "$bug" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$kport/scim/v2/ServiceProviderConfig" && break; sleep 0.1; done
    line=$("$bin" explore --budget 2000 --seed 1 --tenant-size 0 --base-url "http://127.0.0.1:$kport/scim/v2" --token "$token" --rate 0 2>&1 | grep -o 'shrunk to .* s;' | head -1 || true)
    echo "kit $bug: ${line:-not found in 2000 requests}"
    kill $pid 2>/dev/null || true
  done
else
  echo "shrinking: the known-bugs kit is not beside the project; not measured"
fi
