#!/usr/bin/env bash
# Resources: memory stays bounded by configuration while a slow handler faces a
# 1,000,000-message backlog. `kstrand broker` as its own process, the backlog
# produced up front, then `kstrand consume --work 1ms` (4 workers sleeping 1 ms:
# ~4,000 messages/s, far slower than the fetcher) for 10 s under each
# configuration below, stopped by SIGTERM; --report gives its peak RSS (VmHWM).
# Each run must stay under the bound its configuration implies, and the tight
# configuration's peak must be well below the default's: the limits, not luck,
# bound the memory.
# Usage: bounded_memory_test.sh KSTRAND_BIN
set -euo pipefail
kstrand="$1"
. "$(dirname "$0")/../multiprocess/lib.sh"
partitions=12
count=1000000
run_seconds=10

start_broker "$kstrand" "in:$partitions"
start=$SECONDS
"$kstrand" produce -t in --count "$count" --keys 10000 --size 100 >"$work/produce.out" 2>&1 ||
  { cat "$work/produce.out"; exit 1; }
echo "produced $count messages in $((SECONDS - start)) s"

# run NAME FLAGS...: a group of its own consumes the backlog for run_seconds
# with FLAGS; sets peak_kb (VmHWM) and processed from the RESULT line.
run() {
  local name="$1"
  shift
  "$kstrand" consume -t in -G "$name" --report "$@" \
    >"$work/$name.out" 2>"$work/$name.log" &
  local pid=$!
  pids+=("$pid")
  sleep "$run_seconds"
  kill -TERM "$pid"
  wait "$pid" || { echo "$name: consume failed"; cat "$work/$name.log"; exit 1; }
  local result
  result=$(grep '^RESULT ' "$work/$name.out") || { echo "$name: no RESULT line"; cat "$work/$name.log"; exit 1; }
  peak_kb=$(sed -n 's/.* peak_rss_kb=\([0-9]*\).*/\1/p' <<<"$result")
  processed=$(sed -n 's/.* processed=\([0-9]*\).*/\1/p' <<<"$result")
  echo "$name: peak RSS $peak_kb KB, processed $processed in $run_seconds s; flags: $*"
}

# The bound: what a configuration lets the process hold, at kPerMessageKb per
# message (the message, librdkafka's op and its share of a fetch buffer, the
# lane's entry: ~0.2-0.4 KB measured for these 100-byte values, so 1 KB leaves
# the allocator room), on top of the floor (the same process facing the same
# backlog with every buffer at a few messages: threads, malloc arenas, the
# libraries), plus kSlackKb for the machine's noise (peaks of one configuration
# varied by up to ~12 MB between runs).
#   held messages = partitions x per-partition bound + librdkafka's prefetch
#   per-partition bound: partition order: min(lane.max.messages, lane.max.bytes / 100)
#                        key order: max.ahead (the offsets a partition may run ahead of
#                        its oldest incomplete one: buffered, in flight or completed)
#   prefetch: min(queued.min.messages, queued.max.messages.kbytes x 1024 / 100)
kPerMessageKb=1
kSlackKb=16384
# bound PER_PARTITION PREFETCH: the bound in KB.
bound() { echo $((floor_kb + kSlackKb + (partitions * $1 + $2) * kPerMessageKb)); }

# check NAME BOUND_KB: the run faced the backlog and stayed under its bound.
check() {
  # A run that processed next to nothing never faced the backlog: it proves nothing.
  if [ "$processed" -lt 5000 ]; then echo "$1: processed only $processed"; cat "$work/$1.log"; exit 1; fi
  if [ "$peak_kb" -ge "$2" ]; then echo "$1: peak RSS $peak_kb KB reached its bound $2 KB"; exit 1; fi
  echo "$1: under its bound of $2 KB"
}

# Every buffer at a few messages: 12 x 10 in lanes, 100 prefetched.
run floor --work 1ms --lane-max-messages 10 --lane-max-bytes 4096 \
  -X queued.min.messages=100 -X queued.max.messages.kbytes=64 -X max.partition.fetch.bytes=16384
floor_kb=$peak_kb

# The defaults: lanes of 10,000 messages (16 MB is more), 100,000 prefetched
# (64 MB would be more). They allow about as much as the embedded broker keeps
# of the backlog (~5 MB per partition: with every limit lifted the peak was
# 148 MB), so this bound only catches gross growth; a limit that is ignored
# fails the tight run below (its bound ~55 MB).
run default --work 1ms
default_kb=$peak_kb
check default "$(bound 10000 100000)"

# Lanes of 200 messages (64 KB is more), 1 MB prefetched (~10,485 messages).
run tight --work 1ms --lane-max-messages 200 --lane-max-bytes 65536 -X queued.max.messages.kbytes=1024
tight_kb=$peak_kb
check tight "$(bound 200 10485)"
# The limits, not the workload, set the footprint: tightening them must save
# clearly more than the noise (measured: ~30-40 MB less).
if [ "$tight_kb" -ge $((default_kb - kSlackKb)) ]; then
  echo "tight limits saved less than $kSlackKb KB: tight $tight_kb KB, default $default_kb KB"; exit 1
fi

# Key order with asynchronous handlers (100 ms timers, up to 200 in flight):
# per-key sub-lanes and completions ahead of the oldest incomplete message.
run key --order key --work-mode async --work 100ms --max-in-flight 200 --max-ahead 2000 \
  --lane-max-messages 200 --lane-max-bytes 65536 -X queued.max.messages.kbytes=1024
key_kb=$peak_kb
check key "$(bound 2000 10485)"
echo "peak RSS: floor $floor_kb KB, default $default_kb KB, tight $tight_kb KB, key order $key_kb KB"
