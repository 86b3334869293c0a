#!/usr/bin/env bash
# Resources: shutdown is bounded when the broker is gone for good.
# `kstrand consume` runs against `kstrand broker`; the broker is SIGKILLed
# (its port refuses connections from then on) and the consumer gets SIGTERM
# with --shutdown-timeout 3s. It must exit within the timeout plus the
# runtime's documented 5 s margin (src/runtime/runtime.cc, kShutdownMargin)
# plus 1.5 s for the process itself, and say which partitions' progress the
# final commit could not hand over. Before: 45-66 s (a blocking commit and
# close waiting for the coordinator, then two 10 s flushes).
# Usage: broker_down_shutdown_test.sh KSTRAND_BIN
set -euo pipefail
kstrand="$1"
. "$(dirname "$0")/../multiprocess/lib.sh"

start_broker "$kstrand" "in:4"
broker_pid=${pids[-1]}
"$kstrand" produce -t in --count 2000 --keys 20 >/dev/null 2>&1
start_consumer down 4 --work 5ms --shutdown-timeout 3s --commit-interval 200ms
sleep 2  # processing, with commits every 200 ms
kill -9 "$broker_pid"
sleep 1

sigterm_and_time "$consumer"
echo "exit code $code, $took_ms ms after SIGTERM (shutdown timeout 3000 ms + 5000 ms margin)"
fail() { echo "FAIL: $1"; cat "$work/consume.log"; exit 1; }
[ "$took_ms" -lt 9500 ] || fail "shutdown took $took_ms ms, over its 9500 ms bound"
[ "$code" -eq 0 ] || fail "exit code $code, want 0 (nothing was abandoned in a handler)"
grep -q "the final commit did not complete (in\[" "$work/consume.log" || fail "no line naming what was not committed"
grep "the final commit did not complete" "$work/consume.log"
echo "ok"
