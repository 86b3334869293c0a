#!/usr/bin/env bash
# HTTP GET throughput of the users API (examples/users-api) with wrk, against
# one instance, for a user it owns (served from its table) and for a user the
# other instance owns (forwarded), alternating, 3 runs each; prints the median.
# Usage: bench/users_api_http.sh [BUILD_DIR]   (default: build-bench)
# Environment: DURATION (per run, default 10s), CONNECTIONS (default 16).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-bench}"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup.sh" >&2; exit 1; }
NINJA_ARGS="kstrand-cli users-api" "$root/scripts/build.sh" "$build" >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A broker of its own: `kstrand broker` records its address under XDG_RUNTIME_DIR,
# where the instances look for it.
export XDG_RUNTIME_DIR="$work"
"$build/src/cli/kstrand" broker >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do ls "$work"/kstrand-broker-*.json >/dev/null 2>&1 && break; sleep 0.1; done
for port in 0 0; do
  "$build/examples/users-api/users-api" --http 127.0.0.1:$port --name "bench-${#pids[@]}" >"$work/app-${#pids[@]}.log" 2>&1 &
  pids+=($!)
done
urls=()
for log in "$work/app-1.log" "$work/app-2.log"; do
  for _ in $(seq 200); do grep -q "^http://" "$log" 2>/dev/null && break; sleep 0.1; done
  urls+=("$(grep -m1 "^http://" "$log")")
done
a=${urls[0]} b=${urls[1]}
# Settled: both own partitions and A routes all six.
for _ in $(seq 300); do
  n=$(curl -s "$a/owners" | python3 -c 'import sys,json; o=json.load(sys.stdin)["owners"]; print(len(set(o.values())) * 10 + len(o))' || echo 0)
  [ "$n" = 26 ] && break
  sleep 0.1
done
for i in $(seq 200); do curl -s -o /dev/null -XPOST "$a/users" -d "{\"name\":\"user $i\",\"email\":\"u$i@example.com\"}"; done
local_id=$(curl -s "$a/users?limit=1" | python3 -c 'import sys,json; print(json.load(sys.stdin)["users"][0]["id"])')
remote_id=$(curl -s "$b/users?limit=1" | python3 -c 'import sys,json; print(json.load(sys.stdin)["users"][0]["id"])')

run() {  # prints requests/s and p50 latency
  wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION:-10s}" --latency "$1" |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} END {print rps, p50}'
}
declare -a local_runs remote_runs
for round in 1 2 3; do
  local_runs+=("$(run "$a/users/$local_id")")
  remote_runs+=("$(run "$a/users/$remote_id")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
l=$(median "${local_runs[@]}") r=$(median "${remote_runs[@]}")
echo "users-api GET, wrk -t2 -c${CONNECTIONS:-16} -d${DURATION:-10s}, median of 3 (requests/s, p50 latency):"
echo "  local key (served from the table)    $l"
echo "  forwarded key (owned by the other)   $r"
python3 -c "import sys; print('  forwarded/local %.2f' % (float('${r%% *}') / float('${l%% *}')))"
