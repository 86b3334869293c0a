#!/usr/bin/env bash
# The classroom tutorial (examples/tutorial/README.md) in one command: sets up,
# builds, and starts on the embedded broker the instructor's side (broker,
# event source, leaderboard) and two teams: team-1 with two instances (⚖️)
# and team-2 with one (🔌). Open the printed address, then start and stop
# instances from another terminal and watch the leaderboard. Ctrl-C stops all.
# Environment: PORT (leaderboard, default 8090), RATE (events/s, default 20),
# BUILD_DIR (default build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
NINJA_ARGS="kstrand-cli tutorial-source tutorial-team tutorial-leaderboard" \
  "$root/scripts/build.sh" "$build" -DKSTRAND_BUILD_TESTS=OFF -DKSTRAND_BUILD_BENCH=OFF
kstrand="$build/src/cli/kstrand"
bin="$build/examples/tutorial"
logs="$build/tutorial-logs"
mkdir -p "$logs"

source "$root/scripts/example-processes.sh"
start_broker
start source "$bin/tutorial-source" --rate "${RATE:-20}"
for _ in $(seq 100); do grep -q "producing to" "$logs/source.log" 2>/dev/null && break; sleep 0.1; done
start leaderboard "$bin/tutorial-leaderboard" --http "${PORT:-8090}"
for _ in $(seq 100); do grep -q "^http://" "$logs/leaderboard.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -m1 "^http://" "$logs/leaderboard.log" || true)
[ -n "$url" ] || { echo "the leaderboard did not start:"; cat "$logs/leaderboard.log"; exit 1; }
start team-1-alice "$bin/tutorial-team" --team team-1 --count --name alice
start team-1-bob "$bin/tutorial-team" --team team-1 --count --name bob
start team-2-carol "$bin/tutorial-team" --team team-2 --count --country FR --min-age 30 --name carol

cat <<EOF

  Leaderboard: $url
  Logs:        $logs/

  Try, from another terminal:
    $bin/tutorial-team --team team-2 --count --country FR --min-age 30 --name dave   # team-2 scales out: ⚖️
    kill -TERM ${pids[-3]}        # alice leaves team-1: bob takes her partitions
    $bin/tutorial-team --team team-1 --count --name alice                            # she comes back; counters continue
    $bin/tutorial-source --rate 200                                                  # more load: watch the lag

  Ctrl-C stops everything.
EOF
wait
