#!/usr/bin/env bash
# Kafka tier: the broker's SASL_PLAINTEXT listener (SCRAM-SHA-256, scripts/kafka.sh).
# - Right credentials: `topics create`, `produce` N and `consume --max-messages N`
#   succeed with exact counts and `groups list` shows the group, with
#   librdkafka's debug logging on and the status server up; the password appears in none of their output, /status,
#   /metrics, or anything any client wrote to the broker (its data directory,
#   the members topic included, which must hold this group's announcement).
# - A wrong password: consume, produce, topics and groups each exit 1 within
#   $fail_within_s, stderr says authentication failed as the user, never the
#   password, and the broker logged at most $max_attempts failed
#   authentications for each (no retry storm; see max_attempts).
# Usage: scram_auth_test.sh KSTRAND_BIN
# Needs KSTRAND_KAFKA_SCRAM_BOOTSTRAP and KSTRAND_KAFKA_SCRAM_PROPERTIES (a file
# with sasl.username= and sasl.password= lines, in the broker's directory);
# scripts/test.sh sets both.
set -euo pipefail
kstrand="$1"
scram="${KSTRAND_KAFKA_SCRAM_BOOTSTRAP:?set KSTRAND_KAFKA_SCRAM_BOOTSTRAP to the SASL_PLAINTEXT listener (scripts/test.sh does)}"
props_file="${KSTRAND_KAFKA_SCRAM_PROPERTIES:?set KSTRAND_KAFKA_SCRAM_PROPERTIES to the SCRAM credentials file (scripts/test.sh does)}"
broker_dir=$(dirname "$props_file")  # scripts/kafka.sh writes it into the broker's directory
broker_log="$broker_dir/logs/server.log"
user=$(sed -n 's/^sasl.username=//p' "$props_file")
password=$(sed -n 's/^sasl.password=//p' "$props_file")
[ -n "$user" ] && [ -n "$password" ] || { echo "no sasl.username/sasl.password in $props_file"; exit 1; }
[ -f "$broker_log" ] || { echo "no broker log at $broker_log"; exit 1; }
fail_within_s=15
# Per command, each with one client. librdkafka reconnects 100 ms after a
# rejection, so the first failure's report can race one more attempt; without
# the fast failure a command retries with backoff until --connect-timeout (60 s
# here) and fails the time limit above.
max_attempts=3
count=500

# $work, the cleanup of $pids (logs shown on failure), and http_get (no curl).
source "$(dirname "${BASH_SOURCE[0]}")/../browser/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }

suffix="$$-$RANDOM"
topic="scram-$suffix" group="scram-$suffix"
auth=(-b "$scram" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=SCRAM-SHA-256 -X "sasl.username=$user")
good=("${auth[@]}" -X "sasl.password=$password")

# Every output must be free of the password (grep -F: it is a literal).
no_password() {  # no_password FILE...
  for f in "$@"; do
    if grep -qF -- "$password" "$f"; then fail "the password appears in $f: $(grep -F -- "$password" "$f" | head -3)"; fi
  done
}

echo "== right credentials"
"$kstrand" topics create "${good[@]}" -t "$topic" -p 3 -X debug=security,broker >"$work/create.log" 2>&1 ||
  fail "topics create over SASL/SCRAM failed: $(cat "$work/create.log")"
"$kstrand" produce "${good[@]}" -t "$topic" --count "$count" --keys 50 -X debug=security,broker >"$work/produce.log" 2>&1 ||
  fail "produce over SASL/SCRAM failed"
grep -q "produced $count messages to $topic .*: $count delivered, 0 failed" "$work/produce.log" ||
  fail "produce did not deliver exactly $count: $(grep produced "$work/produce.log")"

"$kstrand" consume "${good[@]}" -t "$topic" -G "$group" --max-messages "$count" --http 0 \
  --work 20ms -X auto.offset.reset=earliest -X debug=security,broker,cgrp >"$work/consume.log" 2>&1 &
pid=$!
pids+=("$pid")
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^dashboard: //p' "$work/consume.log" | head -1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "consume printed no dashboard URL"
# /status and /metrics while the member runs (--work keeps it running a few
# seconds), once it has partitions.
for _ in $(seq 150); do
  http_get "$url/status" >"$work/status.json" || true
  grep -q '"assigned_since"' "$work/status.json" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
http_get "$url/status" >"$work/status.json" || true
http_get "$url/metrics" >"$work/metrics.txt" || true
wait "$pid" || fail "consume over SASL/SCRAM exited $?"
grep -q "processed $count messages in total" "$work/consume.log" ||
  fail "consume did not process exactly $count: $(grep 'in total' "$work/consume.log")"
grep -q "$group" "$work/status.json" || fail "/status was not captured while consuming: $(head -c 300 "$work/status.json")"
[ -s "$work/metrics.txt" ] || fail "/metrics was not captured while consuming"
"$kstrand" groups list "${good[@]}" >"$work/groups.log" 2>&1 || fail "groups list over SASL/SCRAM failed"
grep -qx "$group" "$work/groups.log" || fail "groups list does not show $group: $(head -5 "$work/groups.log")"
# librdkafka's debug logging ran (so a leak through it would show).
grep -q "SASL" "$work/consume.log" || fail "no SASL debug lines in consume's log: the check below proves little"
no_password "$work/create.log" "$work/produce.log" "$work/consume.log" "$work/groups.log" "$work/status.json" "$work/metrics.txt"
# Everything any client wrote to the broker, the members topic among it.
grep -rqF -- "$group" "$broker_dir"/data/__kstrand_members-* || fail "no announcement of group $group in the members topic"
if grep -rlF -- "$password" "$broker_dir/data" >"$work/leaks" 2>/dev/null; then
  fail "the password is stored in the broker's data: $(cat "$work/leaks")"
fi

echo "== wrong password"
wrong="wrong-$RANDOM-$RANDOM-pw"
bad=("${auth[@]}" -X "sasl.password=$wrong" --connect-timeout 60s)
attempts() { grep -c "Failed authentication with" "$broker_log" || true; }
check_rejected() {  # check_rejected NAME COMMAND...: exits 1, quickly, naming the user, few attempts
  local name="$1" before after start ms code=0
  shift
  before=$(attempts)
  start=$(date +%s%N)
  timeout 60 "$@" >"$work/$name.log" 2>&1 || code=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  sleep 0.5  # the broker logs the last rejection after answering it
  after=$(attempts)
  echo "$name: exit $code after $ms ms, $((after - before)) failed authentication(s) at the broker"
  [ "$code" = 1 ] || fail "$name with a wrong password exited $code, not 1: $(tail -5 "$work/$name.log")"
  [ "$ms" -le $((fail_within_s * 1000)) ] || fail "$name took $ms ms to fail (limit ${fail_within_s}s)"
  grep -q "authentication failed as user '$user' with mechanism SCRAM-SHA-256" "$work/$name.log" ||
    fail "$name's error does not name the authentication failure and user: $(grep -i error "$work/$name.log" | head -3)"
  grep -qF -- "$wrong" "$work/$name.log" && fail "$name printed the wrong password"
  [ $((after - before)) -ge 1 ] || fail "the broker logged no failed authentication for $name: the count proves nothing"
  [ $((after - before)) -le "$max_attempts" ] ||
    fail "$name made $((after - before)) authentication attempts (at most $max_attempts): a retry storm"
}
check_rejected topics "$kstrand" topics create "${bad[@]}" -t "$topic-bad" -p 1
check_rejected groups "$kstrand" groups list "${bad[@]}"
check_rejected produce "$kstrand" produce "${bad[@]}" -t "$topic" --count 10
# Without --http: the status server's member directory is a second client,
# whose attempts are not the runtime's.
check_rejected consume "$kstrand" consume "${bad[@]}" -t "$topic" -G "$group-bad" --max-messages 1
echo "== scram_auth_test passed"
