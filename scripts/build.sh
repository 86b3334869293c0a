#!/usr/bin/env bash
# Configures and builds kstrand into build/ (or $1) with extra CMake arguments.
# Usage: scripts/build.sh [build-dir] [cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
# ccache when present: CI builds on the same machine as everyone, and files
# unchanged since the last build come from the cache (with ccache's base_dir
# set above the checkouts, one checkout's entries serve another). A launcher
# given in "$@" wins (the last -D of a variable is the one CMake keeps).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}" "$@" >/dev/null
ninja -C "$dir" ${NINJA_ARGS:-}
