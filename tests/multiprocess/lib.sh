# Sourced by the process tests: a private work directory, removed at exit
# together with every process recorded in `pids`, and `kstrand broker`.
# After sourcing: $work; start_broker KSTRAND_BIN TOPIC:PARTITIONS... starts
# the broker and sets $brokers to its bootstrap.
work=$(mktemp -d)
export XDG_RUNTIME_DIR="$work"   # private broker state file
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

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
