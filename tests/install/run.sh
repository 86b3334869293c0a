#!/usr/bin/env bash
# Installs the build tree into a scratch prefix and builds tests/install against it.
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1" src="$2"
prefix="$build/install-check/prefix"
rm -rf "$build/install-check"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src/tests/install" -B "$build/install-check/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
ninja -C "$build/install-check/build" >/dev/null
"$build/install-check/build/install_check"
