#!/usr/bin/env bash
# The orders processor (examples/orders/README.md) in one command: sets up,
# builds, and starts on the embedded broker two replicas of `orders process`
# (at-least-once: the embedded broker cannot do exactly-once), then writes
# COUNT test orders (default 10000, 5% invalid) and shows the group's offsets.
# Ctrl-C stops everything.
# Environment: BUILD_DIR (default build), COUNT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
NINJA_ARGS="kstrand-cli orders" "$root/scripts/build.sh" "$build" -DKSTRAND_BUILD_TESTS=OFF -DKSTRAND_BUILD_BENCH=OFF
kstrand="$build/src/cli/kstrand"
app="$build/examples/orders/orders"
logs="$build/orders-logs"
mkdir -p "$logs"

source "$root/scripts/example-processes.sh"
start_broker
for name in a b; do
  start "orders-$name" "$app" process --delivery at-least-once --name "$name"
done
# Both replicas create the topics if missing; wait until both run.
for name in a b; do
  for _ in $(seq 300); do grep -q "delivery at-least-once" "$logs/orders-$name.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "delivery at-least-once" "$logs/orders-$name.log" || { echo "replica $name did not start:"; cat "$logs/orders-$name.log"; exit 1; }
done

"$app" produce --count "${COUNT:-10000}" --invalid-share 0.05 --customers 100
sleep 3
"$kstrand" groups describe -G order-processors

cat <<EOF

  Two replicas (a, b) of the orders processor; logs in $logs/
  Try, from another terminal:
    $app produce --count 1000 --seed 2              # more orders
    $kstrand groups describe -G order-processors    # offsets and lag per partition
    kill -TERM ${pids[-1]}                          # stop replica b: a takes its partitions

  Ctrl-C stops everything.
EOF
wait
