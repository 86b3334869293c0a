# Sourced by the process tests: a private work directory, removed at exit
# together with every process recorded in `pids`, and `kstrand broker`.
# After sourcing: $work; start_broker KSTRAND_BIN TOPIC:PARTITIONS... starts
# the broker and sets $brokers to its bootstrap.
work=$(mktemp -d)
export XDG_RUNTIME_DIR="$work"   # private broker state file
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# start_consumer GROUP PARTITIONS ARGS...: `kstrand consume -t in -G GROUP ARGS`
# in the background, output in $work/consume.log; sets $consumer once it owns
# PARTITIONS partitions (needs $kstrand).
start_consumer() {
  local group="$1" partitions="$2"
  shift 2
  "$kstrand" consume -t in -G "$group" "$@" >"$work/consume.log" 2>&1 &
  consumer=$!
  pids+=("$consumer")
  for _ in $(seq 300); do grep -q "partitions assigned ($partitions" "$work/consume.log" && return; sleep 0.1; done
  echo "never assigned"; cat "$work/consume.log"; exit 1
}

# sigterm_and_time PID: SIGTERM, then waits; sets $code (its exit code) and
# $took_ms (from the signal to its exit).
sigterm_and_time() {
  local start
  start=$(date +%s%N)
  kill -TERM "$1"
  code=0
  wait "$1" || code=$?
  took_ms=$((($(date +%s%N) - start) / 1000000))
}

start_broker() {
  local kstrand="$1" t topics=()
  shift
  for t in "$@"; do topics+=(--topic "$t"); done
  "$kstrand" broker "${topics[@]}" >"$work/broker.out" 2>"$work/broker.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
  brokers=$(head -n 1 "$work/broker.out")
  [ -n "$brokers" ] || { echo "the broker did not start"; cat "$work/broker.err"; exit 1; }
  echo "broker at $brokers"
}
