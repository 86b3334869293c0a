#!/usr/bin/env bash
# scripts/rdkafka-source.sh: which librdkafka source setup.sh builds once
# Debian's sid has moved past the pin, and how the patches go on it.
# Usage: rdkafka_source_test.sh SOURCE_DIR
set -euo pipefail
source "$1/scripts/rdkafka-source.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_choice() {  # expect_choice PIN WANT VERSIONS...
  local pin="$1" want="$2" got
  shift 2
  got=$(printf '%s\n' "$@" | choose_rdkafka_source "$pin") || fail "pin $pin among [$*]: no choice"
  [ "$got" = "$want" ] || fail "pin $pin among [$*]: chose $got, want $want"
  echo "ok: pin $pin among [$*] -> $got"
}
expect_choice 2.14.2 2.14.2-2 2.13.0-1 2.14.2-1 2.14.2-2 2.15.0-1   # the pin, its newest revision
expect_choice 2.14.2 2.14.2-1 2.14.2-1                              # sid today
expect_choice 2.14.2 2.16.1-1 2.15.0-1 2.16.1-1 3.0.0-1              # the pin gone: newest 2.x, not 3.x
expect_choice 2.9.0 2.10.0-1 2.8.0-1 2.10.0-1                       # versions compare as numbers
if msg=$(printf '3.0.0-1\n' | choose_rdkafka_source 2.14.2 2>&1); then fail "no 2.x in sid, yet chose $msg"; fi
grep -q "no librdkafka 2.14.2 nor any 2.x (it has: 3.0.0-1)" <<<"$msg" || fail "unclear error: $msg"
echo "ok: no version of the major line: $msg"

mkdir -p "$work/src"
printf 'one\ntwo\nthree\n' >"$work/src/a.txt"
# line_patch FILE OLD NEW: a patch changing a.txt's middle line OLD into NEW.
line_patch() {
  printf -- '--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-%s\n+%s\n three\n' "$2" "$3" >"$1"
}
line_patch "$work/fix.patch" two TWO
line_patch "$work/clash.patch" deux DEUX   # a.txt has no "deux": applies neither way
out=$(apply_rdkafka_patches "$work/src" "$work/fix.patch")
[ "$out" = "fix.patch applied" ] && grep -q TWO "$work/src/a.txt" || fail "a fresh tree: $out"
echo "ok: $out"
out=$(apply_rdkafka_patches "$work/src" "$work/fix.patch")  # upstream took the fix
[ "$out" = "fix.patch already upstream" ] && [ "$(grep -c TWO "$work/src/a.txt")" = 1 ] || fail "a fixed tree: $out"
echo "ok: $out"
if msg=$(apply_rdkafka_patches "$work/src" "$work/clash.patch" 2>&1); then fail "a clashing patch was accepted: $msg"; fi
grep -q "patch clash.patch neither applies" <<<"$msg" || fail "unclear error: $msg"
echo "ok: $msg"
