#!/usr/bin/env bash
# The users API (examples/users-api/README.md) in one command: sets up, builds,
# and starts on the embedded broker three instances on ports 8081, 8082 and
# 8083, each keeping its partitions of the `users` topic in RocksDB under
# <build>/users-api-state/. Any instance answers any user. Ctrl-C stops all.
# Environment: BUILD_DIR (default build), STATE (rocksdb or memory, default rocksdb).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
NINJA_ARGS="kstrand-cli users-api" "$root/scripts/build.sh" "$build" -DKSTRAND_BUILD_TESTS=OFF -DKSTRAND_BUILD_BENCH=OFF
kstrand="$build/src/cli/kstrand"
app="$build/examples/users-api/users-api"
logs="$build/users-api-logs"
mkdir -p "$logs"

source "$root/scripts/example-processes.sh"
start_broker
for port in 8081 8082 8083; do
  start "users-$port" "$app" --http "$port" --state "${STATE:-rocksdb}" --state-dir "$build/users-api-state/$port"
  for _ in $(seq 200); do grep -q "^http://" "$logs/users-$port.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "^http://" "$logs/users-$port.log" || { echo "users-api on $port did not start:"; cat "$logs/users-$port.log"; exit 1; }
done

cat <<EOF

  Three instances: http://127.0.0.1:8081  http://127.0.0.1:8082  http://127.0.0.1:8083
  Logs:            $logs/

  Try, from another terminal (examples/users-api/README.md has more):
    curl -s -XPOST localhost:8081/users -d '{"name":"Bob Smith","email":"bob@example.com"}'
    curl -s localhost:8082/users/ID          # any instance answers any user
    curl -s localhost:8083/owners            # which instance owns which partition
    kill -TERM ${pids[-1]}                   # stop the instance on 8083: the others take its partitions
    $app --http 8083 --state rocksdb --state-dir $build/users-api-state/8083   # back: replays only what it missed

  Ctrl-C stops everything.
EOF
wait
