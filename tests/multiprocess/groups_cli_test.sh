#!/usr/bin/env bash
# Multi-process: `kstrand broker`, a `kstrand consume` replica drains a topic,
# then `kstrand groups describe --json` (another process, reading the member
# announcements) shows every partition committed at its end offset, lag 0 and
# owned by the replica; `groups list` names the group; an unknown group fails.
# Usage: groups_cli_test.sh KSTRAND_BIN CHECK_GROUP_JSON_BIN
set -euo pipefail
kstrand="$1" check="$2"
. "$(dirname "$0")/lib.sh"
count=600

start_broker "$kstrand" in:4
"$kstrand" produce -t in --count "$count" --keys 20 >/dev/null 2>&1

"$kstrand" consume -t in -G lagcheck --commit-interval 200ms >"$work/consume.log" 2>&1 &
pids+=($!)
consumer=$!

# Drained: the JSON parses; 4 partitions, together `count` committed, each at
# its end offset with lag 0, owned by the one member.
ok=
for _ in $(seq 120); do
  if "$kstrand" groups describe -G lagcheck --json >"$work/describe.json" 2>"$work/describe.err" &&
     "$check" "$work/describe.json" 4 "$count" 2>"$work/check.err"; then
    ok=1
    break
  fi
  sleep 0.5
done
if [ -z "$ok" ]; then
  echo "group never showed lag 0"; cat "$work/check.err" "$work/describe.err" "$work/consume.log"; exit 1
fi
echo "describe --json: lag 0 on 4 partitions"

"$kstrand" groups describe -G lagcheck >"$work/describe.txt"
grep -q "^GROUP  *TOPIC  *PARTITION  *CURRENT-OFFSET  *LOG-END-OFFSET  *LAG  *CONSUMER-ID  *HOST  *CLIENT-ID$" \
  "$work/describe.txt" || { echo "no offsets table:"; cat "$work/describe.txt"; exit 1; }
"$kstrand" groups list >"$work/list.out" 2>"$work/list.err"
grep -qx lagcheck "$work/list.out" || { echo "groups list:"; cat "$work/list.out" "$work/list.err"; exit 1; }

if "$kstrand" groups describe -G no-such-group >"$work/unknown.out" 2>&1; then
  echo "describing an unknown group succeeded"; cat "$work/unknown.out"; exit 1
fi
grep -q "no-such-group not found" "$work/unknown.out" || { cat "$work/unknown.out"; exit 1; }

kill -TERM "$consumer"
wait "$consumer" || { echo "consumer did not exit cleanly"; cat "$work/consume.log"; exit 1; }
echo "ok"
