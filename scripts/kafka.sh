#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker and controller in one
# process) on loopback, for the kafka test tier.
#
# Usage: scripts/kafka.sh start DIR [VERSION]
#                                      start a broker with its data, logs and pid in DIR;
#                                      VERSION is a Kafka release on Maven Central (3.9.0
#                                      or newer: KRaft with SCRAM users at format time);
#                                      the default is scripts/kafka/pom.xml's kafka.version;
#                                      prints `bootstrap HOST:PORT` and writes DIR/bootstrap
#                                      (PLAINTEXT), DIR/bootstrap-scram (SASL_PLAINTEXT,
#                                      SCRAM-SHA-256) and DIR/scram.properties (the
#                                      user's sasl.username= and sasl.password= lines)
#        scripts/kafka.sh stop DIR    stop it (SIGTERM, SIGKILL after 30 s); no-op if not running
#        scripts/kafka.sh restart DIR stop it and start it again with the same ports and data
#
# The jars come from Maven Central through scripts/kafka/pom.xml into
# .deps/kafka-<version>/libs, once: a stamp holding the pom's sha256 skips the copy.
# `restart` runs the version DIR was started with (DIR/version).
# Needs java (17+) and mvn; scripts/setup.sh installs both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${KSTRAND_DEPS:-$root/.deps}"
pom="$root/scripts/kafka/pom.xml"
default_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
kafka_version= libs=  # set by use_version
start_timeout_s=90
stop_timeout_s=30

die() { echo "kafka.sh: $*" >&2; exit 1; }

use_version() {
  [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "'$1' is not a Kafka release version (like $default_version)"
  kafka_version="$1"
  libs="$deps/kafka-$kafka_version/libs"
}

resolve_jars() {
  local sum stamp="$deps/kafka-$kafka_version/pom.sha256"
  sum=$(sha256sum "$pom" | cut -d' ' -f1)
  if [ -d "$libs" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then return; fi
  command -v mvn >/dev/null || die "mvn not found (scripts/setup.sh installs maven)"
  echo "kafka.sh: resolving Kafka $kafka_version jars into $libs"
  rm -rf "$libs" "$stamp"
  mkdir -p "$libs"
  # copy-dependencies of a packaging-pom project writes only the jars (no target/ next to the pom).
  local log="$deps/kafka-$kafka_version/mvn.log"
  mvn -B -q -Dstyle.color=never -f "$pom" -Dkafka.version="$kafka_version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; rm -rf "$libs"; die "mvn could not resolve the jars of Kafka $kafka_version (the end of $log is above)"; }
  echo "$sum" >"$stamp"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on now, below Linux's ephemeral range (32768+) so no
# outgoing connection holds it. Another program can still take it before the
# broker binds; start() then fails clearly (the broker's log says so) and may be rerun.
free_port() {
  local port _
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 12000))
    port_open "$port" || { echo "$port"; return; }
  done
  die "found no free port on 127.0.0.1"
}

# The broker's pid if it still runs. Checks the command line too: after a
# reboot the pid in the file may belong to some other process.
running_pid() {
  local dir="$1" pid
  [ -f "$dir/kafka.pid" ] || return 1
  pid=$(cat "$dir/kafka.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $dir/server.properties" || return 1
  echo "$pid"
}

# Our CLI lists topics through a real metadata request; without a built CLI, an
# open port is the best evidence we have.
metadata_answers() {
  local bootstrap="$1" cli
  for cli in "$root"/build-test/src/cli/kstrand "$root"/build/src/cli/kstrand "$root"/build-*/src/cli/kstrand; do
    if [ -x "$cli" ]; then
      "$cli" topics list -b "$bootstrap" --connect-timeout 3s >/dev/null 2>&1
      return
    fi
  done
  port_open "${bootstrap##*:}"
}

start() {
  local dir="$1"
  command -v java >/dev/null || die "java not found: the test broker needs a JDK 17+ (scripts/setup.sh installs default-jdk-headless)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if pid=$(running_pid "$dir"); then die "a broker already runs from $dir (pid $pid); stop it first"; fi
  use_version "${2:-$default_version}"
  resolve_jars

  local port cport sport
  port=$(free_port)
  cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  sport=$(free_port)
  while [ "$sport" = "$port" ] || [ "$sport" = "$cport" ]; do sport=$(free_port); done
  rm -rf "$dir/data" "$dir/logs"
  mkdir -p "$dir/data" "$dir/logs"
  # The SCRAM user the kafka tier authenticates as; a fresh password per
  # broker, so no test can pass with a remembered one.
  local scram_user=kstrand scram_password
  scram_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077 && printf 'sasl.username=%s\nsasl.password=%s\n' "$scram_user" "$scram_password" >"$dir/scram.properties")
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
# Clients only: the controller and inter-broker traffic stay on PLAINTEXT. The
# user is created at format time (--add-scram below).
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
# Tests create every topic through the Admin API with an explicit partition
# count; auto-creation would let a producer hide a missing CreateTopic behind a
# one-partition topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# The first classic join completes at once instead of after 3 s.
group.initial.rebalance.delay.ms=0
# KIP-848 (group.protocol=consumer): the broker sets the members' timing. Its
# defaults (5 s heartbeats, 45 s sessions) would make each test wait seconds for
# every assignment change; 1 s heartbeats keep rebalances quick.
group.consumer.min.heartbeat.interval.ms=500
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.session.timeout.ms=6000
group.consumer.session.timeout.ms=10000
EOF
  java -cp "$libs/*" kafka.tools.StorageTool format -t "$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid)" \
    -c "$dir/server.properties" --ignore-formatted \
    --add-scram "SCRAM-SHA-256=[name=$scram_user,password=$scram_password]" >"$dir/logs/format.log" 2>&1 \
    || { cat "$dir/logs/format.log" >&2; die "formatting the broker's storage failed"; }

  echo "$kafka_version" >"$dir/version"
  launch "$dir"
  echo "$bootstrap" >"$dir/bootstrap"
  echo "127.0.0.1:$sport" >"$dir/bootstrap-scram"
  echo "bootstrap $bootstrap"
}

# Runs the broker configured in DIR/server.properties and waits until it answers.
launch() {
  local dir="$1" port
  port=$(sed -n 's|^advertised.listeners=PLAINTEXT://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/server.properties")
  [ -n "$port" ] || die "$dir/server.properties names no PLAINTEXT listener"
  echo "kafka.sh: starting Kafka $kafka_version on 127.0.0.1:$port (and SASL/SCRAM, controller), logs in $dir/logs"
  # setsid: the broker outlives this script and is not hit by the caller's Ctrl-C;
  # `stop` ends it by its pid.
  KAFKA_LOGS="$dir/logs" setsid java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/kafka.pid"

  local waited=0
  bootstrap="127.0.0.1:$port"  # global: the callers print it
  until port_open "$port" && metadata_answers "$bootstrap"; do
    # kill -0, not running_pid: until setsid has exec'd java, the child's
    # command line is still this script's, and running_pid would call a
    # starting broker dead (it did, under load, in a chaos run's restart).
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/logs/stdout.log" "$dir/logs/server.log" >&2 2>/dev/null || true
      die "the broker exited during startup (logs above, all in $dir/logs)"
    fi
    if [ "$waited" -ge "$start_timeout_s" ]; then
      tail -n 40 "$dir/logs/server.log" >&2 2>/dev/null || true
      stop "$dir"
      die "the broker did not answer on $bootstrap within ${start_timeout_s}s (logs above, all in $dir/logs)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# Stops the broker of DIR and starts it again on the same ports with the same
# data, as an operator's rolling restart would (the chaos harness's broker fault).
restart() {
  local dir="$1"
  [ -f "$dir/server.properties" ] || die "no broker was started from $dir"
  dir="$(cd "$dir" && pwd)"
  use_version "$(cat "$dir/version" 2>/dev/null || echo "$default_version")"
  stop "$dir"
  launch "$dir"
  echo "bootstrap $bootstrap"
}

stop() {
  local dir="$1" pid waited=0
  [ -d "$dir" ] || return 0
  dir="$(cd "$dir" && pwd)"  # as start() wrote it into the broker's command line
  if ! pid=$(running_pid "$dir"); then
    rm -f "$dir/kafka.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((stop_timeout_s * 10)) ]; then
      echo "kafka.sh: broker (pid $pid) still running after ${stop_timeout_s}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$dir/kafka.pid"
  echo "kafka.sh: broker stopped"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: $0 start DIR [VERSION]"; start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  restart) [ $# -eq 2 ] || die "usage: $0 restart DIR"; restart "$2" ;;
  *) die "usage: $0 start DIR [VERSION] | stop DIR | restart DIR" ;;
esac
