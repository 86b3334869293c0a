#!/usr/bin/env bash
# The README's second command: set up, build, check the locking annotations with clang,
# build the API reference, and run every test tier that
# needs no external Kafka (unit, mock, the multi-process, install and headless-browser tests),
# then the resource tests, then each libFuzzer target for a bounded time (scripts/fuzz.sh;
# KSTRAND_FUZZ_SECONDS, default 20), then the chaos harness on the embedded broker,
# then the kafka tier against the newest Kafka release, a classic-protocol compatibility
# pass on Kafka 3.9, the broker-faults tests (the broker restarted under exactly-once
# replicas) and the chaos harness's exactly-once run on Kafka 4.1, each on a
# broker this script starts (scripts/kafka.sh), then the unit and mock tiers again under ASan+UBSan
# and under TSan (built in the background during the embedded chaos and kafka tiers).
# Set KSTRAND_SKIP_SANITIZERS=1 for a quick local run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$SECONDS
# Each tier's header says when it started, so a slow CI run shows where its time went.
section() { printf '== %s (at %dm%02ds)\n' "$*" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }
section "set-up (scripts/setup.sh)"
scripts/setup.sh

section "build (RelWithDebInfo)"
scripts/build.sh build-test -DKSTRAND_BUILD_BENCH=ON
section "thread-safety analysis (clang -Wthread-safety -Werror, syntax only, over src/)"
scripts/thread-safety.sh build-test
section "API reference (Doxygen over include/kstrand/; a warning, an undocumented public member too, fails)"
ninja -C build-test docs
ctest --test-dir build-test -L '^docs$' --output-on-failure --no-tests=error  # the guide's code blocks compile
section "tests: unit, mock, multiprocess, install, browser"
# Anchored: an unanchored regex would also match labels that merely contain one of these.
# Unit and mock tests run two at a time (as under the sanitizers below); the
# process tests one at a time, each owning the machine's two cores.
ctest --test-dir build-test -L '^(unit|mock)$' -j2 --output-on-failure --no-tests=error
ctest --test-dir build-test -L '^(multiprocess|install|browser)$' --output-on-failure --no-tests=error
section "tests: resources (bounded memory, fds and threads across rebalances, hung-handler shutdown)"
# Alone, after the first pass: its memory figures and shutdown deadline mean
# most on a machine that runs nothing else.
ctest --test-dir build-test -L '^resources$' --output-on-failure --no-tests=error

fuzz_seconds="${KSTRAND_FUZZ_SECONDS:-20}"
section "fuzz (libFuzzer, ${fuzz_seconds} s per target)"
scripts/fuzz.sh "$fuzz_seconds"

# The sanitizer builds start now, in the background at the lowest CPU priority: the
# embedded chaos and kafka tiers below mostly wait (on brokers, rebalances, timers), and
# a waiting test gets its core back from a nice-19 compiler at once.
sanitizers=0
[ "${KSTRAND_SKIP_SANITIZERS:-0}" = "1" ] || sanitizers=1
sanitizer_builds=
sanitizer_log="$root/build-sanitizers.log"
if [ "$sanitizers" = 1 ]; then
  section "build for ASan+UBSan and TSan (in the background; output in build-sanitizers.log)"
  # Only the two test executables: the CLI is covered by the multiprocess test above.
  # setsid: its own process group, so a failing run stops the compilers too (stop_all).
  NINJA_ARGS="kstrand_unit_tests kstrand_mock_tests" setsid nice -n 19 bash -c '
    set -e
    scripts/build.sh build-asan -DKSTRAND_SANITIZE=address,undefined -DKSTRAND_BUILD_BENCH=OFF
    scripts/build.sh build-tsan -DKSTRAND_SANITIZE=thread -DKSTRAND_BUILD_BENCH=OFF' >"$sanitizer_log" 2>&1 &
  sanitizer_builds=$!
fi

kafka_run="$root/build-test/kafka-run"
stop_all() {
  scripts/kafka.sh stop "$kafka_run"
  [ -z "$sanitizer_builds" ] || kill -- "-$sanitizer_builds" 2>/dev/null || true
}
trap stop_all EXIT

section "tests: chaos (embedded broker; tests/chaos, docs/reliability.md)"
# Both modes at once: each has its own embedded broker, and they mostly wait.
ctest --test-dir build-test -L '^chaos$' -LE '^kafka$' -j2 --output-on-failure --no-tests=error

# The kafka tier runs on the test broker's default version (scripts/kafka/pom.xml: the
# newest Kafka release), then its classic-protocol group, delivery and exactly-once
# scenarios once more on the oldest release we support.
start_kafka() {
  scripts/kafka.sh stop "$kafka_run"  # one left running by an interrupted earlier run
  scripts/kafka.sh start "$kafka_run" "$@"
  export KSTRAND_KAFKA_BOOTSTRAP="$(cat "$kafka_run/bootstrap")"
  export KSTRAND_KAFKA_SCRAM_BOOTSTRAP="$(cat "$kafka_run/bootstrap-scram")"
  export KSTRAND_KAFKA_SCRAM_PROPERTIES="$kafka_run/scram.properties"
}
section "tests: kafka (a real broker, both group protocols)"
start_kafka
# Two at a time: each test has its own topics and group, and most of its time is
# spent waiting for the broker. The broker-faults tests restart the broker: below.
ctest --test-dir build-test -L '^kafka$' -LE '^(chaos|broker-faults)$' -j2 --output-on-failure --no-tests=error

oldest_kafka=3.9.2
section "tests: kafka $oldest_kafka compatibility (classic protocol: group, delivery, processing, exactly-once)"
start_kafka "$oldest_kafka"
ctest --test-dir build-test -R '^kafka\.((Group|Delivery|Processing|ExactlyOnce)Test\..*/classic|exactly_once_survives_sigkilled_replicas/classic)' \
  -j2 --output-on-failure --no-tests=error

# The harness restarts the broker: on a machine busy compiling, a restart took 20-40 s
# and broke runs, so the sanitizer builds finish first.
if [ "$sanitizers" = 1 ]; then
  section "waiting for the sanitizer builds"
  if ! wait "$sanitizer_builds"; then
    sanitizer_builds=
    tail -n 60 "$sanitizer_log"
    echo "test.sh: a sanitizer build failed (the end of $sanitizer_log is above)" >&2
    exit 1
  fi
  sanitizer_builds=
fi

section "tests: broker faults (exactly-once through a broker restart and a stalled replica)"
start_kafka
# One at a time, on their own broker: each restarts it (KSTRAND_KAFKA_DIR).
KSTRAND_KAFKA_DIR="$kafka_run" ctest --test-dir build-test -L '^broker-faults$' --output-on-failure --no-tests=error

# The exactly-once chaos harness still runs on Kafka 4.1.2: on 4.4.0 one run (with a
# 22 s restart) showed 4 duplicates not explained yet (docs/reliability.md, Open).
chaos_kafka=4.1.2
section "tests: chaos (the real broker, Kafka $chaos_kafka)"
start_kafka "$chaos_kafka"
# The harness restarts, stops and continues the broker (KSTRAND_KAFKA_DIR).
KSTRAND_KAFKA_DIR="$kafka_run" ctest --test-dir build-test -L '^kafka$' -L '^chaos$' --output-on-failure --no-tests=error
scripts/kafka.sh stop "$kafka_run"

if [ "$sanitizers" = 1 ]; then
  section "tests under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L "^(unit|mock)$" -j2 --output-on-failure --no-tests=error
  section "tests under TSan"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
    ctest --test-dir build-tsan -L "^(unit|mock)$" -j2 --output-on-failure --no-tests=error
fi
trap - EXIT
section "all tests passed"
