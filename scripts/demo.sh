#!/usr/bin/env bash
# The README's first command: set up, build, and run the scaling demo on the
# embedded broker (two members, a third joins, one leaves; summary at the end).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
NINJA_ARGS="kstrand-cli" "$root/scripts/build.sh" "$root/build" -DKSTRAND_BUILD_TESTS=OFF -DKSTRAND_BUILD_BENCH=OFF
exec "$root/build/src/cli/kstrand" demo "$@"
