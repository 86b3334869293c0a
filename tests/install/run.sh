#!/usr/bin/env bash
# The installed package stands alone. From a scratch directory outside the
# checkout: install the build tree into a prefix, MOVE the prefix, and with
# only that prefix
#   (a) build tests/install (find_package + target_link_libraries, nothing
#       else) and run it against the prefix's own `kstrand broker`: it must run
#       the librdkafka of the build and process every message, and ldd must show no
#       shared librdkafka (kstrand links it statically, so Debian's
#       librdkafka.so.1 can never be loaded in its place);
#   (b) run the installed `kstrand --version`, which must name the build's librdkafka;
#   (e) build each example (examples/*) as a separate project against it;
# then (c) build the .deb with cpack, unpack it with `dpkg -x` into a fresh root
# and do (a) and (b) against that root (the examples, the slow part, once).
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$(cd "$1" && pwd)" src="$(cd "$2" && pwd)"
# The librdkafka this build carries: what scripts/setup.sh built (the pinned
# version, or its successor once Debian moved on).
want_rdkafka=$(awk -F= '$1 == "RDKAFKA_VERSION:INTERNAL" {print $2}' "$build/CMakeCache.txt")
[ -n "$want_rdkafka" ] || { echo "FAIL: no RDKAFKA_VERSION in $build/CMakeCache.txt"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kstrand-install.XXXXXX")
case "$work/" in "$src"/*) echo "FAIL: scratch dir $work is inside the checkout"; exit 1 ;; esac
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export XDG_RUNTIME_DIR="$work"  # the broker's state file, private to this test
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fail() { echo "FAIL: $*"; exit 1; }

check_prefix() {  # NAME PREFIX [examples]
  local name="$1" prefix="$2" examples="${3:-}" out
  echo "== $name: $prefix"
  # Relocatable: nothing installed names the build machine's checkout or build tree.
  if grep -rlF -e "$src" -e "$build" -e "/.deps/" "$prefix/lib" "$prefix/include" 2>/dev/null | grep -v '\.a$'; then
    fail "$name: the files above name $src or $build"
  fi
  # (b) the CLI
  out=$("$prefix/bin/kstrand" --version) || fail "$name: kstrand --version exited $?"
  echo "$out"
  grep -q "^librdkafka $want_rdkafka " <<<"$out" || fail "$name: kstrand --version does not name librdkafka $want_rdkafka"
  if ldd "$prefix/bin/kstrand" | grep rdkafka; then fail "$name: the CLI loads a shared librdkafka"; fi
  ldd "$prefix/bin/kstrand" | grep -q "not found" && fail "$name: the CLI misses a shared library: $(ldd "$prefix/bin/kstrand" | grep 'not found')"

  # (a) a program built against the prefix, from a copy of tests/install outside the checkout
  rm -rf "$work/app-src" && cp -r "$src/tests/install" "$work/app-src" && rm -f "$work/app-src/run.sh"
  cmake -S "$work/app-src" -B "$work/app-$name" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    "${launcher[@]}" >"$work/app-$name.log" 2>&1 || { cat "$work/app-$name.log"; fail "$name: configure"; }
  ninja -C "$work/app-$name" >>"$work/app-$name.log" 2>&1 || { cat "$work/app-$name.log"; fail "$name: build"; }
  echo "ldd install_check:"
  ldd "$work/app-$name/install_check" | grep -E "rdkafka|ssl|zstd|lz4|rocksdb" || true
  if ldd "$work/app-$name/install_check" | grep rdkafka; then fail "$name: the program loads a shared librdkafka"; fi

  # ... run against the prefix's own embedded broker, with messages its CLI produced.
  "$prefix/bin/kstrand" broker --topic installed:3 >"$work/broker.out" 2>"$work/broker.err" &
  local broker=$!
  pids+=($broker)
  for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
  local brokers
  brokers=$(head -n 1 "$work/broker.out")
  [ -n "$brokers" ] || { cat "$work/broker.err"; fail "$name: the broker did not start"; }
  "$prefix/bin/kstrand" produce -b "$brokers" -t installed --count 1000 --keys 10 >/dev/null 2>"$work/produce.err" \
    || { cat "$work/produce.err"; fail "$name: kstrand produce"; }
  out=$("$work/app-$name/install_check" "$brokers" installed 1000 2>"$work/app.err") \
    || { echo "$out"; tail -20 "$work/app.err"; fail "$name: install_check"; }
  echo "$out"
  grep -q "librdkafka $want_rdkafka " <<<"$out" || fail "$name: the program does not run librdkafka $want_rdkafka"
  kill "$broker" && wait "$broker" 2>/dev/null || true

  # (e) the examples, each a project of its own (examples/common is their
  # shared command-line code, not an example: they include it)
  [ -n "$examples" ] || return 0
  local ex
  rm -rf "$work/ex-src" && cp -r "$src/examples" "$work/ex-src"
  for ex in "$src"/examples/*/; do
    ex=$(basename "$ex")
    [ "$ex" = common ] && continue
    grep -q "find_package(kstrand" "$src/examples/$ex/CMakeLists.txt" \
      || fail "$name: examples/$ex does not build against an installed kstrand (no find_package(kstrand))"
    cmake -S "$work/ex-src/$ex" -B "$work/ex-$name-$ex" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$work/ex.log" 2>&1 || { cat "$work/ex.log"; fail "$name: configure examples/$ex"; }
    ninja -C "$work/ex-$name-$ex" >>"$work/ex.log" 2>&1 || { tail -40 "$work/ex.log"; fail "$name: build examples/$ex"; }
    echo "examples/$ex builds against $name"
  done
}

# Install, then move: the package must not remember where it was installed.
cmake --install "$build" --prefix "$work/installed" --strip >/dev/null
mv "$work/installed" "$work/moved"
echo "installed prefix: $(du -sh "$work/moved" | cut -f1)"
check_prefix moved "$work/moved" examples

# (c) the .deb, unpacked into a fresh root.
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/deb/kstrand_*.deb)
echo "package: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
dpkg-deb -f "$deb" Depends
dpkg -x "$deb" "$work/root"
check_prefix deb "$work/root/usr"
echo "install test passed"
