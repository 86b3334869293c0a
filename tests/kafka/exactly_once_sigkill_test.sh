#!/usr/bin/env bash
# Kafka tier, multi-process: two `kstrand consume --forward-to out --exactly-once`
# replicas process a keyed backlog while they are SIGKILLed and restarted several
# times (fixed seed), each restart under the same transactional.id, which aborts
# what the killed one left open. A plain librdkafka reader with
# isolation.level=read_committed then checks `out`: every input exactly once, and
# each source partition's offsets in order (keys map to the same partition in
# both topics, so that is per-key order).
# Usage: exactly_once_sigkill_test.sh KSTRAND_BIN VERIFY_BIN [GROUP_PROTOCOL]
# Needs KSTRAND_KAFKA_BOOTSTRAP (scripts/test.sh sets it).
set -euo pipefail
kstrand="$1" verify="$2" protocol="${3:-classic}"
brokers="${KSTRAND_KAFKA_BOOTSTRAP:?set KSTRAND_KAFKA_BOOTSTRAP to a Kafka bootstrap server (scripts/test.sh starts one)}"
work=$(mktemp -d)
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/c*.log; do [ -f "$log" ] && { echo "--- $log (last 40 lines)"; tail -n 40 "$log"; }; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
RANDOM=6  # the kill schedule is the same on every run
count=12000
suffix="$protocol-$$-$RANDOM"
in="eos-in-$suffix" out="eos-out-$suffix" group="eos-$suffix"

"$kstrand" topics create -b "$brokers" -t "$in" -p 6 >/dev/null
"$kstrand" topics create -b "$brokers" -t "$out" -p 6 >/dev/null
"$kstrand" produce -b "$brokers" -t "$in" --count "$count" --keys 60 >"$work/produce.out" 2>&1 || {
  cat "$work/produce.out"; exit 1; }

# A killed member's partitions move once its session expires: short timeouts
# keep the test short (KIP-848 takes them from the broker's settings).
group_props=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
[ "$protocol" = consumer ] && group_props=(-X group.protocol=consumer)

start() {  # start NAME: a replica; its transactional.id is its name, the same after every restart
  "$kstrand" consume -b "$brokers" -t "$in" -G "$group" --forward-to "$out" --exactly-once \
    --transactional-id "$group-$1" --work 3ms "${group_props[@]}" >>"$work/$1.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$1.pid"
}
assigned() { grep -c "partitions assigned ([1-9]" "$work/$1.log" 2>/dev/null || true; }
wait_assigned() {  # wait_assigned NAME N: until NAME logged its N-th non-empty assignment
  for _ in $(seq 600); do [ "$(assigned "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  echo "$1 got no partitions"; cat "$work/$1.log"; exit 1
}

start c1
start c2
wait_assigned c1 1
wait_assigned c2 1
kills=0
for victim in c1 c2 c1 c1; do
  sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
  before=$(assigned "$victim")
  kill -0 "$(cat "$work/$victim.pid")" 2>/dev/null || { echo "$victim exited before its SIGKILL"; exit 1; }
  kill -9 "$(cat "$work/$victim.pid")"
  wait "$(cat "$work/$victim.pid")" 2>/dev/null || true
  kills=$((kills + 1))
  echo "SIGKILLed $victim ($kills)"
  start "$victim"
  wait_assigned "$victim" $((before + 1))
done

# Whatever is left of the backlog, the two finish.
for _ in $(seq 120); do
  if "$verify" "$brokers" "$out" "$count" >/dev/null 2>&1; then break; fi
  sleep 1
done
for name in c1 c2; do kill -TERM "$(cat "$work/$name.pid")"; done
for name in c1 c2; do
  wait "$(cat "$work/$name.pid")" || { echo "$name did not exit cleanly"; exit 1; }
done
"$verify" "$brokers" "$out" "$count"
echo "survived $kills SIGKILLs"
