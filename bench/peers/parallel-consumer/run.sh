#!/usr/bin/env bash
# Runs the Parallel Consumer peer built by
#   mvn -q -f bench/peers/parallel-consumer/pom.xml package
# Arguments pass through (see ../README.md; this peer adds --concurrency N, PC's
# maxConcurrency, default 100), e.g.
#   run.sh --brokers 127.0.0.1:9092 --topic bench-b --group g1 --work 5ms --concurrency 500
# exec, so signals reach the JVM directly.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -d "$here/target/classes" ] && [ -d "$here/target/lib" ] \
  || { echo "run.sh: not built; run: mvn -q -f $here/pom.xml package" >&2; exit 2; }
exec java -Xmx1g -cp "$here/target/classes:$here/target/lib/*" kstrand.bench.PcPeer "$@"
