#!/usr/bin/env bash
# Clang's thread-safety analysis over the library: every source of src/ is
# compiled syntax-only by clang with -Wthread-safety -Werror, with the flags
# the build gave it (BUILD_DIR/compile_commands.json). GUARDED_BY, REQUIRES and
# EXCLUDES (src/base/thread_annotations.h) are then rules the compiler checks.
# A minute or two on two cores; no object files.
#
#   scripts/thread-safety.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build}"
cd "$root"
clang="$(command -v clang++-14 || command -v clang++ || true)"
[ -n "$clang" ] || { echo "thread-safety: clang++ not found (scripts/setup.sh installs clang-14)" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "thread-safety: no $build/compile_commands.json; build first" >&2; exit 1; }
python3 - "$clang" "$build/compile_commands.json" "$root/src" <<'PY'
import json, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
clang, db, src = sys.argv[1], sys.argv[2], sys.argv[3]
jobs = []
for entry in json.load(open(db)):
    if not entry["file"].startswith(src + "/") or "/src/cli/" in entry["file"]:
        continue
    args = shlex.split(entry["command"])
    if args[0] == "ccache":
        args = args[1:]
    out = [clang]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD", "-Wno-restrict") or a == entry["file"]:
            continue
        out.append(a)
    out += ["-fsyntax-only", "-Wthread-safety", "-Wthread-safety-beta", "-Werror", entry["file"]]
    jobs.append((entry["file"], out, entry["directory"]))
def run(job):
    f, cmd, cwd = job
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return f, p.returncode, p.stderr
failed = 0
with ThreadPoolExecutor(max_workers=2) as pool:
    for f, rc, err in pool.map(run, jobs):
        if rc != 0:
            failed += 1
            sys.stderr.write(err)
print(f"thread-safety: {len(jobs)} files, {failed} failed")
sys.exit(1 if failed else 0)
PY
