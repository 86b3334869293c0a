# Sourced by the example scripts (tutorial.sh, users-api.sh): starting an
# example's programs, each logging to $logs/<name>.log, on the embedded broker,
# and stopping them in reverse order when the script exits (Ctrl-C included).
# Needs $kstrand (the CLI) and $logs set by the caller.

pids=()
stop_all() {
  echo
  echo "stopping: the programs in reverse order (they commit and leave their groups), the broker last"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    # Each waits for the one started after it, so the broker goes last.
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND...: each program in its own session, so Ctrl-C reaches only
# the script, which then stops the programs in order (a broker gone first would
# leave the others unable to commit).
start() {
  local name="$1"
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
}

# Uses the embedded broker that runs already, or starts one.
start_broker() {
  if "$kstrand" topics list --connect-timeout 2s >/dev/null 2>&1; then
    echo "using the embedded broker that is already running"
  else
    start broker "$kstrand" broker
    for _ in $(seq 100); do [ -s "$logs/broker.log" ] && break; sleep 0.1; done
    echo "embedded broker at $(head -n 1 "$logs/broker.log")"
  fi
}
