#!/usr/bin/env bash
# Resources: shutdown completes within its deadline while a handler hangs.
# `kstrand consume --work 1h` never returns from its first message on each
# partition; SIGTERM with --shutdown-timeout 2s must end the process within
# the timeout plus a fixed margin (committing and leaving the group, then the
# CLI's 2 s close grace: src/cli/consume.cc), with exit code 1 (work abandoned),
# and the group's committed offsets must not pass the hung messages.
# Usage: hung_handler_shutdown_test.sh KSTRAND_BIN
set -euo pipefail
kstrand="$1"
. "$(dirname "$0")/../multiprocess/lib.sh"
partitions=2

start_broker "$kstrand" "in:$partitions"
"$kstrand" produce -t in --count 100 --keys 10 >/dev/null 2>&1

start_consumer hung "$partitions" --work 1h --shutdown-timeout 2s --commit-interval 200ms
sleep 1  # the first message of each partition reaches its handler, which hangs

sigterm_and_time "$consumer"
echo "exit code $code, $took_ms ms after SIGTERM (shutdown timeout 2000 ms)"
# The deadline: 2 s shutdown timeout + 2 s close grace + 2 s for the commit,
# the leave and process exit (a few hundred ms measured) on a loaded machine.
# At least the 2 s drain: the runtime waited for the handler before giving up.
fail() { echo "$1"; cat "$work/consume.log"; exit 1; }
[ "$code" -eq 1 ] || fail "exit code $code, want 1 (a handler abandoned)"
[ "$took_ms" -lt 6000 ] || fail "shutdown took $took_ms ms, over its 6000 ms deadline"
[ "$took_ms" -ge 2000 ] || fail "shutdown took $took_ms ms: it did not wait out the shutdown timeout"
grep -q "exiting without it" "$work/consume.log" || fail "no log line about the abandoned handler"

# Every partition's first message hung: nothing may be committed past offset 0.
"$kstrand" groups describe -G hung --json >"$work/describe.json"
committed=$(grep -o '"committed": *[-0-9a-z]*' "$work/describe.json" | sed 's/.*: *//')
echo "committed offsets: $(echo $committed)"
[ "$(wc -w <<<"$committed")" -eq "$partitions" ] || fail "want $partitions partitions: $(cat "$work/describe.json")"
for c in $committed; do
  [ "$c" = null ] || [ "$c" -le 0 ] || fail "committed offset $c passes the hung message at offset 0"
done
echo "ok"
