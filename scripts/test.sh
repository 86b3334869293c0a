#!/usr/bin/env bash
# The README's second command: set up, build, check the locking annotations with clang,
# build the API reference, and run every test tier that
# needs no external Kafka (unit, mock, the multi-process, install and headless-browser tests),
# then the resource tests, then the chaos harness on the embedded broker,
# then each libFuzzer target for a bounded time (scripts/fuzz.sh; KSTRAND_FUZZ_SECONDS, default 20),
# then the kafka tier and the chaos harness's exactly-once run against a Kafka 4.1 broker this script starts (scripts/kafka.sh),
# then the unit and mock tiers again under ASan+UBSan and under TSan.
# Set KSTRAND_SKIP_SANITIZERS=1 for a quick local run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh

echo "== build (RelWithDebInfo)"
scripts/build.sh build-test -DKSTRAND_BUILD_BENCH=ON
echo "== thread-safety analysis (clang -Wthread-safety -Werror, syntax only, over src/)"
scripts/thread-safety.sh build-test
echo "== API reference (Doxygen over include/kstrand/; a warning, an undocumented public member too, fails)"
ninja -C build-test docs
ctest --test-dir build-test -L '^docs$' --output-on-failure --no-tests=error  # the guide's code blocks compile
echo "== tests: unit, mock, multiprocess, install, browser"
# Anchored: an unanchored regex would also match labels that merely contain one of these.
# Unit and mock tests run two at a time (as under the sanitizers below); the
# process tests one at a time, each owning the machine's two cores.
ctest --test-dir build-test -L '^(unit|mock)$' -j2 --output-on-failure --no-tests=error
ctest --test-dir build-test -L '^(multiprocess|install|browser)$' --output-on-failure --no-tests=error
echo "== tests: resources (bounded memory, fds and threads across rebalances, hung-handler shutdown)"
# Alone, after the first pass: its memory figures and shutdown deadline mean
# most on a machine that runs nothing else.
ctest --test-dir build-test -L '^resources$' --output-on-failure --no-tests=error

echo "== tests: chaos (embedded broker; tests/chaos, docs/reliability.md)"
# Both modes at once: each has its own embedded broker, and they mostly wait.
ctest --test-dir build-test -L '^chaos$' -LE '^kafka$' -j2 --output-on-failure --no-tests=error

fuzz_seconds="${KSTRAND_FUZZ_SECONDS:-20}"
echo "== fuzz (libFuzzer, ${fuzz_seconds} s per target)"
scripts/fuzz.sh "$fuzz_seconds"

echo "== tests: kafka (a real broker)"
kafka_run="$root/build-test/kafka-run"
trap 'scripts/kafka.sh stop "$kafka_run"' EXIT
scripts/kafka.sh stop "$kafka_run"  # one left running by an interrupted earlier run
scripts/kafka.sh start "$kafka_run"
export KSTRAND_KAFKA_BOOTSTRAP="$(cat "$kafka_run/bootstrap")"
export KSTRAND_KAFKA_SCRAM_BOOTSTRAP="$(cat "$kafka_run/bootstrap-scram")"
export KSTRAND_KAFKA_SCRAM_PROPERTIES="$kafka_run/scram.properties"
ctest --test-dir build-test -L '^kafka$' -LE '^chaos$' --output-on-failure --no-tests=error
echo "== tests: chaos (the real broker)"
# Last: the harness restarts, stops and continues the broker (KSTRAND_KAFKA_DIR).
KSTRAND_KAFKA_DIR="$kafka_run" ctest --test-dir build-test -L '^kafka$' -L '^chaos$' --output-on-failure --no-tests=error
scripts/kafka.sh stop "$kafka_run"
trap - EXIT

if [ "${KSTRAND_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build and test under ASan+UBSan"
  # Only the two test executables: the CLI is covered by the multiprocess test above.
  export NINJA_ARGS="kstrand_unit_tests kstrand_mock_tests"
  scripts/build.sh build-asan -DKSTRAND_SANITIZE=address,undefined -DKSTRAND_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L "^(unit|mock)$" -j2 --output-on-failure --no-tests=error
  echo "== build and test under TSan"
  scripts/build.sh build-tsan -DKSTRAND_SANITIZE=thread -DKSTRAND_BUILD_BENCH=OFF
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
    ctest --test-dir build-tsan -L "^(unit|mock)$" -j2 --output-on-failure --no-tests=error
fi
echo "== all tests passed"
