#!/usr/bin/env bash
# Configures and builds kstrand into build/ (or $1) with extra CMake arguments.
# Usage: scripts/build.sh [build-dir] [cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
ninja -C "$dir" ${NINJA_ARGS:-}
