#!/usr/bin/env bash
# Installs everything kstrand needs on a fresh Debian 12 machine. Idempotent:
# packages already present are skipped, and librdkafka is built once into
# .deps/prefix (a second run reuses it).
#
# Why librdkafka is built here: Debian 12 ships 2.0.2, which loses messages when
# batch consumption meets pause/resume, aborts when a cooperative consumer closes
# mid-join, and drops stored-offset metadata. We build the pinned version (the
# one tested) from Debian's own source package (the sid suite), fetched with a
# project-local apt configuration so the machine's apt sources are left
# untouched. sid keeps only its current version: when the pin is gone, the
# newest sid version of the same major line is built instead, if our patches
# apply or are already upstream (scripts/rdkafka-source.sh). What was built is
# recorded in .deps/librdkafka/kstrand-source, which `kstrand --version` prints.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${KSTRAND_DEPS:-$root/.deps}"
# The librdkafka the project is tested with; KSTRAND_RDKAFKA_PIN overrides it.
rdkafka_pin="${KSTRAND_RDKAFKA_PIN:-2.14.2}"
# The build uses this link; it points at .deps/librdkafka-<version>.
link="$deps/librdkafka"
source "$root/scripts/rdkafka-source.sh"

packages=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  # a compiler cache (scripts/build.sh uses it when present) and the API reference (docs/Doxyfile.in)
  ccache doxygen
  librocksdb-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libbenchmark-dev
  # the users API's HTTP benchmark; scripts/bench and its charts
  wrk python3 gnuplot-nox
  # browser tests: headless Chromium, and an emoji font for the leaderboard's icons
  chromium fonts-noto-color-emoji
  # the fuzz tier (scripts/fuzz.sh): clang and libFuzzer's runtime, which clang-14 only recommends
  clang-14 libclang-rt-14-dev
  # librdkafka's own build dependencies (compression, TLS, SASL)
  libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev
)
# The kafka test tier's broker (scripts/kafka.sh) runs Apache Kafka's jars, which
# Maven fetches. Only when missing: a machine may have its own JDK and Maven.
command -v java >/dev/null || packages+=(default-jdk-headless)
command -v mvn >/dev/null || packages+=(maven)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The mirror this machine already uses, so no host is hard-coded here.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "setup: cannot find a Debian mirror in /etc/apt" >&2; exit 1; }
  echo "$uri"
}

# Bundled tinycthread on pthreads rather than glibc's C11 threads: GCC 12's
# ThreadSanitizer intercepts pthreads but not thrd_*/mtx_*, so with C11 threads
# every librdkafka thread and lock would be invisible to our TSan test run.
configure_flags=(--disable-curl --disable-gssapi --disable-c11threads --enable-ssl --enable-zstd --enable-lz4-ext)
# Our fixes to librdkafka, applied on top of upstream's source; each says why.
patches=("$root"/scripts/librdkafka-patches/*.patch)
# What the built tree was made from: a change to the flags or the patches rebuilds it.
build_id="${configure_flags[*]} patches:$(cat "${patches[@]}" | sha256sum | cut -c1-16)"

# A tree built from these flags and patches (any version: a working build is
# not replaced because sid moved on).
built_here() { [ -f "$1/lib/pkgconfig/rdkafka.pc" ] && [ "$(cat "$1/kstrand-build-flags" 2>/dev/null)" = "$build_id" ]; }

build_librdkafka() {
  if built_here "$link"; then return; fi
  if built_here "$deps/librdkafka-$rdkafka_pin"; then  # built before the link existed
    ln -sfn "librdkafka-$rdkafka_pin" "$link"
    [ -f "$link/kstrand-source" ] || echo "pinned $rdkafka_pin (built before setup recorded its source)" >"$link/kstrand-source"
    return
  fi
  local work="$deps/build"
  rm -rf "$work" && mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) sid main" \
    > "$work/apt/sources.list"
  local apt_opts=(
    -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache"
    -o APT::Sandbox::User=root
  )
  apt-get "${apt_opts[@]}" update -qq
  local version upstream prefix
  version=$(apt-cache "${apt_opts[@]}" showsrc librdkafka | awk '/^Version:/ {print $2}' \
            | choose_rdkafka_source "$rdkafka_pin") || exit 1
  upstream="${version%-*}"
  prefix="$deps/librdkafka-$upstream"
  if [ "$upstream" = "$rdkafka_pin" ]; then
    echo "setup: fetching librdkafka $version (the pinned $rdkafka_pin) source from Debian sid"
  else
    echo "setup: Debian sid no longer has librdkafka $rdkafka_pin; building its newest $upstream ($version) instead"
  fi
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq "librdkafka=$version")
  # --skip-patches: Debian's patches switch to system nanopb/cJSON and regenerated
  # OpenTelemetry headers; upstream's vendored copies build with fewer packages.
  (cd "$work" && dpkg-source --no-check --skip-patches -x librdkafka_*.dsc src >/dev/null)
  local applied
  applied=$(apply_rdkafka_patches "$work/src" "${patches[@]}") || exit 1
  echo "$applied" | sed 's/^/setup: patch /'
  echo "setup: building librdkafka $upstream into $prefix"
  (cd "$work/src" \
    && ./configure --prefix="$prefix" "${configure_flags[@]}" >"$deps/librdkafka-build.log" 2>&1 \
    && make -j"$(nproc)" libs >>"$deps/librdkafka-build.log" 2>&1 \
    && make install-subdirs DESTDIR="$work/stage" >>"$deps/librdkafka-build.log" 2>&1) \
    || { echo "setup: librdkafka build failed; see $deps/librdkafka-build.log" >&2; exit 1; }
  [ -f "$work/stage$prefix/lib/pkgconfig/rdkafka.pc" ] || { echo "setup: librdkafka build failed" >&2; exit 1; }
  # Swap in the finished tree whole, so an interrupted build never leaves a half prefix.
  echo "$build_id" >"$work/stage$prefix/kstrand-build-flags"
  echo "Debian source $version (pinned $rdkafka_pin); patches: $(echo "$applied" | paste -sd, | sed 's/,/, /g')" \
    >"$work/stage$prefix/kstrand-source"
  rm -rf "$prefix.old" && { [ ! -d "$prefix" ] || mv "$prefix" "$prefix.old"; }
  mv "$work/stage$prefix" "$prefix" && rm -rf "$prefix.old" "$work"
  ln -sfn "librdkafka-$upstream" "$link"
}

install_packages
build_librdkafka
echo "setup: ready (librdkafka $(awk '/^Version:/ {print $2}' "$link/lib/pkgconfig/rdkafka.pc") at $(readlink -f "$link");" \
     "$(cat "$link/kstrand-source" 2>/dev/null || echo "source not recorded")"")"
