#!/usr/bin/env bash
# Multi-process: `kstrand broker`, two `kstrand consume --forward-to` replicas in
# one group; SIGTERM one mid-stream; the other takes over. A plain librdkafka
# client then checks the output topic: every input processed exactly once.
# Usage: sigterm_handover_test.sh KSTRAND_BIN VERIFY_BIN
set -euo pipefail
kstrand="$1" verify="$2"
. "$(dirname "$0")/lib.sh"
count=6000

start_broker "$kstrand" in:6 out:6

"$kstrand" produce -t in --count "$count" --keys 60 >"$work/produce.out" 2>&1
cat "$work/produce.out"

start_consumer() {
  "$kstrand" consume -t in -G handover --forward-to out --work 5ms --commit-interval 200ms >"$work/$1.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$1.pid"
}
start_consumer c1
start_consumer c2
# Wait until both replicas own partitions (the first join takes a few seconds).
for _ in $(seq 300); do
  if grep -q "partitions assigned ([1-9]" "$work/c1.log" && grep -q "partitions assigned ([1-9]" "$work/c2.log"; then break; fi
  sleep 0.1
done
sleep 2
kill -TERM "$(cat "$work/c1.pid")"
if ! wait "$(cat "$work/c1.pid")"; then echo "c1 did not exit cleanly"; cat "$work/c1.log"; exit 1; fi
echo "c1 stopped:"; grep -E "revoked|processed" "$work/c1.log" | tail -n 3

# c2 takes over c1's partitions and finishes the stream.
for _ in $(seq 120); do
  if "$verify" "$brokers" out "$count" >/dev/null 2>&1; then break; fi
  sleep 1
done
kill -TERM "$(cat "$work/c2.pid")"
wait "$(cat "$work/c2.pid")" || { echo "c2 did not exit cleanly"; cat "$work/c2.log"; exit 1; }
if ! "$verify" "$brokers" out "$count"; then
  echo "--- c1"; cat "$work/c1.log"; echo "--- c2"; cat "$work/c2.log"; exit 1
fi
