# Helpers for the browser tests: background processes that are always cleaned
# up, waiting with deadlines, HTTP without curl, and headless Chromium.
# Source it; it sets $work (a private temp dir) and an EXIT trap.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/kstrand-browser.XXXXXX")
# `kstrand broker` records its address here; a private dir keeps parallel runs
# (and a developer's own broker) apart.
export XDG_RUNTIME_DIR="$work"
pids=()

cleanup() {
  local status=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    echo "--- logs of the failed run:"
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "== $(basename "$f")"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME CMD...: runs CMD in the background, output in $work/NAME.log.
start() {
  local name="$1"
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  disown  # cleanup() ends it; no job notices in the test's output
}

# wait_for SECONDS DESCRIPTION CMD...: retries CMD until it succeeds; fails the test after SECONDS.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "FAIL: timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.5
  done
}

# log_line NAME REGEX: the first line of $work/NAME.log matching REGEX (empty if none).
log_line() { grep -m1 -E "$2" "$work/$1.log" 2>/dev/null || true; }

# http_get URL: the body of a GET, with bash's /dev/tcp (no curl needed).
http_get() {
  local rest="${1#http://}"
  local hostport="${rest%%/*}" path="/${rest#*/}"
  [ "$rest" = "$hostport" ] && path="/"
  local host="${hostport%:*}" port="${hostport##*:}"
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
  sed '1,/^\r\{0,1\}$/d' <&3
  exec 3<&-
}

chromium_bin() {
  local c
  for c in "${CHROMIUM:-}" chromium chromium-browser; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return; }
  done
  echo "FAIL: chromium not found (scripts/setup.sh installs Debian's chromium)" >&2
  return 1
}

chromium_flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
                --user-data-dir="$work/chromium-profile")

# dump_dom URL [VIRTUAL_MS]: the page's DOM after its scripts ran for VIRTUAL_MS of virtual time.
dump_dom() {
  timeout 60 "$(chromium_bin)" "${chromium_flags[@]}" --virtual-time-budget="${2:-3000}" --dump-dom "$1" \
    2>>"$work/chromium.log"
}

# screenshot URL PNG: a 1400x900 screenshot after 8 s of virtual time.
screenshot() {
  mkdir -p "$(dirname "$2")"
  timeout 90 "$(chromium_bin)" "${chromium_flags[@]}" --virtual-time-budget=8000 --window-size=1400,900 \
    --screenshot="$2" "$1" 2>>"$work/chromium.log"
  [ -s "$2" ] || { echo "FAIL: no screenshot written to $2" >&2; return 1; }
  echo "screenshot: $2"
}

# tags DOM TAG CLASS: every start tag <TAG class="CLASS" ...>, one a line.
tags() { sed 's/</\n</g' <<<"$1" | grep -E "^<$2 class=\"$3( [^\"]*)?\"" | sed 's/>.*//' || true; }

# attr TAG NAME: the value of attribute NAME in a start tag.
attr() { sed -n "s/.* $2=\"\\([^\"]*\\)\".*/\\1/p" <<<"$1"; }
