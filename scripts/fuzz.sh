#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang into build-fuzz/ and runs
# each for SECONDS (default 20) from the seed corpus in tests/fuzz/corpus/<target>.
# Fails on the first crash or broken invariant, naming the input that caused it.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [target...]   (targets: offset_metadata
# config routing users_request partitioner; default all)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(offset_metadata config routing users_request partitioner)
dir="$root/build-fuzz"

# Only the fuzz targets and the sources they use, not the library or the tests.
CC=clang-14 CXX=clang++-14 NINJA_ARGS="$(printf 'fuzz_%s ' "${targets[@]}")" \
  "$root/scripts/build.sh" "$dir" -DKSTRAND_FUZZ=ON -DKSTRAND_BUILD_TESTS=OFF -DKSTRAND_BUILD_BENCH=OFF

# Leaks are findings too; UBSan already stops at the first report (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
failed=()
for t in "${targets[@]}"; do
  # New inputs go to a corpus in the build dir, kept across runs so a later run
  # goes on from there; the repo's seeds are only read.
  work="$dir/fuzz-run/$t"
  rm -rf "$work/crashes" && mkdir -p "$work/corpus" "$work/crashes"
  log="$work/log"
  status=0
  # -timeout: an input that runs 10 s is a hang, a finding like a crash.
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
    "$work/corpus" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  found=$(find "$work/crashes" -type f | head -n 1)
  if [ "$status" -ne 0 ] || [ -n "$found" ]; then
    echo "fuzz $t: FAILED (exit $status) on input ${found:-?}; log $log"
    grep -E 'ERROR|runtime error|invariant violated|SUMMARY' "$log" | head -n 5 | sed 's/^/  /'
    failed+=("$t")
  else
    echo "fuzz $t: ${execs:-?} runs in ${seconds}s (${rate:-?}/s), ${cov:-?}, $(ls "$work/corpus" | wc -l) inputs found so far"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (reproduce: build-fuzz/tests/fuzz/fuzz_<target> <input>)"
  exit 1
fi
