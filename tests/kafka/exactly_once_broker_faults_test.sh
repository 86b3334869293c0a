#!/usr/bin/env bash
# Kafka tier, multi-process: two `kstrand consume --forward-to out --exactly-once`
# replicas process a keyed backlog while the broker fails under them, as an
# operator's maintenance and a stalled machine would:
#   1. the broker restarts mid-transaction (scripts/kafka.sh restart: stop, start on
#      the same ports and data);
#   2. one replica stalls (SIGSTOP) for longer than the session timeout, so that the
#      group expires it and, on SIGCONT, it finds its partitions lost.
# Neither may take a replica down (only another instance fencing this one may), and a
# read_committed reader must then find every input in `out` exactly once, each source
# partition's offsets in order.
# Usage: exactly_once_broker_faults_test.sh KSTRAND_BIN VERIFY_BIN GROUP_PROTOCOL
# Needs KSTRAND_KAFKA_BOOTSTRAP and KSTRAND_KAFKA_DIR (the broker's directory of
# scripts/kafka.sh; scripts/test.sh sets both). It restarts that broker, so it runs
# alone, after the rest of the tier.
set -euo pipefail
kstrand="$1" verify="$2" protocol="$3"
brokers="${KSTRAND_KAFKA_BOOTSTRAP:?set KSTRAND_KAFKA_BOOTSTRAP to a Kafka bootstrap server (scripts/test.sh starts one)}"
kafka_dir="${KSTRAND_KAFKA_DIR:?set KSTRAND_KAFKA_DIR to the directory of a broker started by scripts/kafka.sh}"
kafka_sh="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/kafka.sh"
work=$(mktemp -d)
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/c*.log; do [ -f "$log" ] && { echo "--- $log (last 60 lines)"; tail -n 60 "$log"; }; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
suffix="$protocol-$$-$RANDOM"
in="eosf-in-$suffix" out="eosf-out-$suffix" group="eosf-$suffix"
"$kstrand" topics create -b "$brokers" -t "$in" -p 6 >/dev/null
"$kstrand" topics create -b "$brokers" -t "$out" -p 6 >/dev/null

# The input comes in three batches, one before each phase, so that every fault
# meets replicas busy with transactions: a batch takes them about 5 s (1,000
# messages per partition lane, 5 ms each).
batch=6000
produced=0
produce_batch() {
  "$kstrand" produce -b "$brokers" -t "$in" --count "$batch" --keys 60 >"$work/produce.out" 2>&1 || {
    cat "$work/produce.out"; exit 1; }
  produced=$((produced + batch))
}

# The session timeout the stall must outlast: the client's under the classic
# protocol, the broker's (scripts/kafka.sh: 10 s) under KIP-848.
if [ "$protocol" = consumer ]; then
  group_props=(-X group.protocol=consumer)
  stall_s=14
else
  group_props=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
  stall_s=10
fi

alive() {  # every replica still runs
  for name in c1 c2; do
    kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || { echo "$name exited after: $1"; exit 1; }
  done
}
forwarded() {  # how many inputs `out` holds, committed (verify_forwarded fails until it holds all)
  { "$verify" "$brokers" "$out" "$produced" 2>/dev/null || true; } | sed -n 's/^unique \([0-9]*\).*/\1/p'
}
wait_forwarded() {  # wait_forwarded N AFTER: until `out` holds N inputs, committed
  local now
  for _ in $(seq 120); do
    now=$(forwarded)
    [ "${now:-0}" -ge "$1" ] && return 0
    alive "$2"
    sleep 1
  done
  echo "after $2, only ${now:-0} of $1 inputs were forwarded within 120 s"; exit 1
}
# A phase's fault must meet work in progress, or it proves nothing.
busy() {  # busy WHAT: fails unless some but not all of the batch is forwarded
  local now
  now=$(forwarded)
  if [ "${now:-0}" -ge "$produced" ]; then echo "the replicas had finished the batch before $1"; exit 1; fi
  echo "$1 with ${now:-0} of $produced inputs forwarded"
}

produce_batch
for name in c1 c2; do
  "$kstrand" consume -b "$brokers" -t "$in" -G "$group" --forward-to "$out" --exactly-once \
    --transactional-id "$group-$name" --work 5ms "${group_props[@]}" >"$work/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$name.pid"
done
wait_forwarded "$produced" "the start"

# 1. A restart with transactions open (the replicas commit every 100 ms and always have one).
produce_batch
sleep 1
busy "restarting the broker"
bash "$kafka_sh" restart "$kafka_dir" >"$work/restart.log" 2>&1 || { cat "$work/restart.log"; exit 1; }
wait_forwarded "$produced" "the broker restart"

# 2. Lost partitions: c1 stalls (SIGSTOP) past the session timeout, the group
# expires it and gives its partitions to c2; on SIGCONT, c1 finds them lost with
# its transaction open. (Pausing the broker instead does not expire KIP-848
# members reliably: the heartbeats queued during the pause may be served first.)
lost_before=$(grep -c "partitions lost (" "$work/c1.log" || true)
produce_batch
sleep 1
busy "stopping c1 for $stall_s s"
kill -STOP "$(cat "$work/c1.pid")"
sleep "$stall_s"
kill -CONT "$(cat "$work/c1.pid")"
wait_forwarded "$produced" "c1's stall"
lost_after=$(grep -c "partitions lost (" "$work/c1.log" || true)
[ "$lost_after" -gt "$lost_before" ] || { echo "c1 did not lose its partitions in its stall"; exit 1; }

for name in c1 c2; do kill -TERM "$(cat "$work/$name.pid")"; done
for name in c1 c2; do
  wait "$(cat "$work/$name.pid")" || { echo "$name did not exit cleanly"; exit 1; }
done
"$verify" "$brokers" "$out" "$produced"
echo "producers renewed: $(cat "$work"/c*.log | grep -c "starting a new producer" || true);" \
  "c1's assignments lost: $lost_after (in its stall: $((lost_after - lost_before)))"
