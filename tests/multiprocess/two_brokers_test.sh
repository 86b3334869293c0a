#!/usr/bin/env bash
# Two `kstrand broker`s on one machine: each records itself in its own file,
# and a client without -b never silently picks one.
#   1. one broker (topic a-only): `topics list` without -b lists its topic;
#   2. a second broker (topic b-only): without -b, the command fails naming both
#      addresses and how to choose; with -b it reaches the one chosen;
#   3. the first broker stops (SIGTERM): without -b, the second is used.
# Usage: two_brokers_test.sh KSTRAND_BIN
set -euo pipefail
kstrand="$1"
source "$(dirname "$0")/lib.sh"

start() {  # start NAME TOPIC: a broker whose bootstrap lands in $work/NAME.out
  "$kstrand" broker --topic "$2" >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$1.out" ] && return; sleep 0.1; done
  echo "FAIL: broker $1 did not start"; cat "$work/$1.err"; exit 1
}
fail() { echo "FAIL: $*"; exit 1; }

start first a-only:1
first_pid=${pids[-1]}
first=$(head -n 1 "$work/first.out")
out=$("$kstrand" topics list 2>&1) || fail "one broker running, topics list failed: $out"
grep -q "a-only" <<<"$out" || fail "topics list without -b did not reach the only broker: $out"
echo "ok: one broker: used without -b"

start second b-only:1
second=$(head -n 1 "$work/second.out")
[ "$(ls "$work" | grep -c '^kstrand-broker-.*\.json$')" = 2 ] || fail "expected two record files: $(ls "$work")"
if out=$("$kstrand" topics list 2>&1); then fail "two brokers running, topics list without -b succeeded: $out"; fi
grep -q "2 embedded brokers are running" <<<"$out" || fail "no count of the brokers found: $out"
grep -qF "$first" <<<"$out" && grep -qF "$second" <<<"$out" || fail "the error does not name both brokers: $out"
grep -q -- "-b " <<<"$out" || fail "the error does not say how to choose: $out"
echo "ok: two brokers: without -b: $out"
out=$("$kstrand" topics list -b "$second" 2>&1) || fail "topics list -b $second failed: $out"
grep -q "b-only" <<<"$out" && ! grep -q "a-only" <<<"$out" || fail "-b $second listed: $out"
echo "ok: two brokers: -b chooses"

kill -TERM "$first_pid"
for _ in $(seq 100); do kill -0 "$first_pid" 2>/dev/null || break; sleep 0.1; done
out=$("$kstrand" topics list 2>&1) || fail "after the first broker stopped, topics list failed: $out"
grep -q "b-only" <<<"$out" || fail "after the first broker stopped, topics list did not reach the second: $out"
echo "ok: the first broker stopped: the second is used without -b"
