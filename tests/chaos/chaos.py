#!/usr/bin/env python3
"""The chaos harness: tries to make kstrand lose, repeat or reorder messages.

A producer (`kstrand produce`) writes per-key sequence numbers to IN while
replicas of `kstrand consume --forward-to OUT` process them in one group. At
random times drawn from --seed, a driver SIGKILLs, SIGTERMs, restarts and adds
replicas and injects broker faults. Afterwards the survivors drain what is left,
stop gracefully, and verify_sequences reads IN and OUT with a plain consumer and
counts lost, duplicated and out-of-order records.

Modes (what varies; see MODES):
  mock-graceful  embedded broker, KIP-848 group protocol, key ordering,
                 at-least-once; only graceful
                 events (SIGTERM, restart, add), so no duplicates are allowed
  mock-faults    embedded broker with 3 brokers, classic group protocol
                 (as the real-Kafka modes), partition ordering,
                 at-least-once; SIGKILLs, brokers down/up, injected request
                 errors too: duplicates are allowed (at-least-once), losses and
                 reordering are not
  kafka-eos      a real Kafka broker (KSTRAND_KAFKA_BOOTSTRAP, and
                 KSTRAND_KAFKA_DIR of scripts/kafka.sh for restarts), key
                 ordering, exactly-once; SIGKILLs, broker restarts and
                 SIGSTOP/SIGCONT pauses: no duplicates allowed
  kafka-alo      the same faults at-least-once with partition ordering

Pass: lost = 0, order violations = 0, no unexpected records, every replica
exits 0 after a SIGTERM and none exits on its own, the producer delivers
everything, and duplicates = 0 where the mode says so. Prints one `chaos …`
summary line and writes it as JSON to --summary.

Usage: chaos.py --kstrand BIN --verify BIN --mode MODE [--seed N] [--duration S]
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MODES = {
    "mock-graceful": dict(broker="mock", brokers=1, protocol="consumer", order="key", exactly_once=False,
                          no_duplicates=True,
                          events={"sigterm": 3, "restart": 3, "add": 1}),
    "mock-faults": dict(broker="mock", brokers=3, protocol="classic", order="partition", exactly_once=False,
                        no_duplicates=False,
                        events={"sigkill": 2, "sigterm": 2, "restart": 3, "add": 1, "broker_down": 2,
                                "request_errors": 2}),
    "kafka-eos": dict(broker="kafka", protocol="classic", order="key", exactly_once=True, no_duplicates=True,
                      events={"sigkill": 2, "sigterm": 2, "restart": 3, "add": 1, "broker_restart": 1,
                              "broker_pause": 1}),
    "kafka-alo": dict(broker="kafka", protocol="classic", order="partition", exactly_once=False, no_duplicates=False,
                      events={"sigkill": 2, "sigterm": 2, "restart": 3, "add": 1, "broker_restart": 1,
                              "broker_pause": 1}),
}

# Retriable errors the embedded broker answers the next requests of an API with
# (Kafka API key: error codes). Each makes clients retry, refresh metadata, find
# the coordinator again or rejoin the group.
REQUEST_ERRORS = {
    0: [6, 7],     # Produce: NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT
    1: [6, 3],     # Fetch: NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION
    8: [15, 16],   # OffsetCommit: COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR
    11: [14, 15],  # JoinGroup: COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE
    12: [27, 16],  # Heartbeat: REBALANCE_IN_PROGRESS, NOT_COORDINATOR
}

# librdkafka debug lines (-X debug=broker,eos) that tell why a replica stopped
# committing: coordinator lookups, broker state changes, transaction state.
DEBUG_TRAIL = re.compile(r" (COORD|TXNCOORD|STATE|TXNSTATE|TXNERR|ADDOFFSETS|RECONNECT|FAIL): ")

PARTITIONS = 12
MIN_RUNNING = 1          # the driver never stops the last running replica
MAX_REPLICAS = 5         # three at the start, `add` brings up to two more
SHUTDOWN_TIMEOUT_S = 20  # --shutdown-timeout of the replicas (waiting for in-flight messages)
SHUTDOWN_SLACK_S = 15    # then committing, flushing and leaving the group


class Failure(Exception):
    pass


class Replica:
    """One slot (r1, r2, ...): a `kstrand consume` process, restarted under the same name."""

    def __init__(self, name, command, log_path):
        self.name, self.command, self.log_path = name, command, log_path
        self.proc = None
        self.stop_deadline = None  # set while a SIGTERMed process shuts down
        self.starts = 0
        self.log_at_start = 0  # the log's size when the process started

    def running(self):
        return self.proc is not None and self.stop_deadline is None

    def up(self):
        """Running and past its start-up: it has written to its log, so its SIGTERM
        handler is in. (An ASan build on a loaded machine has taken over 2.5 s to
        reach main; a SIGTERM before that kills it, as it would any program.)"""
        return self.running() and os.path.getsize(self.log_path) > self.log_at_start

    def stopped(self):
        return self.proc is None

    def start(self):
        log = open(self.log_path, "a")
        log.write(f"--- start {self.starts + 1}\n")
        log.flush()
        self.log_at_start = log.tell()
        # cwd: a crash's core file (where the system keeps them) lands beside the log.
        self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=os.path.dirname(self.log_path))
        log.close()
        self.starts += 1

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def terminate(self):
        """SIGTERM: drain, commit, leave. reap() checks that it exits 0 in time."""
        self.proc.terminate()
        self.stop_deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S + SHUTDOWN_SLACK_S

    def reap(self):
        """Checks a process the driver did not kill: one shutting down must exit 0 by
        its deadline; one running must not exit at all (that would be a crash)."""
        if self.proc is None:
            return
        code = self.proc.poll()
        if self.stop_deadline is None:
            if code is not None:
                raise Failure(f"{self.name} exited on its own with {code}")
        elif code is not None:
            self.proc, self.stop_deadline = None, None
            if code != 0:
                raise Failure(f"{self.name} exited with {code} after SIGTERM")
        elif time.monotonic() > self.stop_deadline:
            raise Failure(f"{self.name} did not exit within {SHUTDOWN_TIMEOUT_S + SHUTDOWN_SLACK_S} s of its SIGTERM")


class Broker:
    """The broker under test and its faults."""

    def __init__(self, mode, args, work):
        self.mode, self.args, self.work = mode, args, work
        self.proc = None
        self.down = set()  # embedded broker ids now down
        self.paused = False

    def start(self):
        if self.mode["broker"] == "kafka":
            self.bootstrap = os.environ.get("KSTRAND_KAFKA_BOOTSTRAP")
            self.kafka_dir = os.environ.get("KSTRAND_KAFKA_DIR")
            if not self.bootstrap or not self.kafka_dir:
                raise Failure("kafka modes need KSTRAND_KAFKA_BOOTSTRAP and KSTRAND_KAFKA_DIR "
                              "(scripts/test.sh sets both; scripts/kafka.sh starts a broker)")
            return
        log = open(os.path.join(self.work, "broker.log"), "w")
        self.proc = subprocess.Popen([self.args.kstrand, "broker", "--brokers", str(self.mode["brokers"])],
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        control = self.proc.stdout.readline().split()
        if not self.bootstrap or len(control) != 2:
            raise Failure("`kstrand broker` did not print its bootstrap and control addresses")
        self.control = control[1]

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.paused:
            self.resume()

    def post(self, path, body=None):
        req = urllib.request.Request(self.control + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            if res.status != 200:
                raise Failure(f"control channel {path}: HTTP {res.status}")

    def set_down(self, broker_id):
        self.post(f"/brokers/{broker_id}/down")
        self.down.add(broker_id)

    def set_up(self, broker_id):
        self.post(f"/brokers/{broker_id}/up")
        self.down.discard(broker_id)

    def kafka_pid(self):
        with open(os.path.join(self.kafka_dir, "kafka.pid")) as f:
            return int(f.read().strip())

    def pause(self):
        os.kill(self.kafka_pid(), signal.SIGSTOP)
        self.paused = True

    def resume(self):
        os.kill(self.kafka_pid(), signal.SIGCONT)
        self.paused = False

    def restart(self):
        """Restarts the real broker on the same ports with the same data (scripts/kafka.sh restart)."""
        out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "kafka.sh"), "restart", self.kafka_dir],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise Failure(f"scripts/kafka.sh restart failed:\n{out.stdout}{out.stderr}")


class Chaos:
    def __init__(self, args):
        self.args = args
        self.mode = MODES[args.mode]
        self.rng = random.Random(args.seed)
        self.work = args.work_dir or tempfile.mkdtemp(prefix=f"chaos-{args.mode}-")
        os.makedirs(self.work, exist_ok=True)
        self.broker = Broker(self.mode, args, self.work)
        suffix = f"{args.mode}-{args.seed}-{os.getpid()}"
        self.topic_in, self.topic_out, self.group = f"chaos-in-{suffix}", f"chaos-out-{suffix}", f"chaos-{suffix}"
        self.replicas = []
        self.events = {}
        self.pending = []  # (due time, description, action): the undoing half of a fault
        self.log_lines = []

    def say(self, text):
        line = f"[{time.monotonic() - self.t0:6.1f}s] {text}"
        self.log_lines.append(line)
        print(line, flush=True)

    def kstrand(self, *argv):
        out = subprocess.run([self.args.kstrand, *argv], capture_output=True, text=True)
        if out.returncode != 0:
            raise Failure(f"kstrand {' '.join(argv)} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        return out.stdout

    def add_replica(self):
        name = f"r{len(self.replicas) + 1}"
        cmd = [self.args.kstrand, "consume", "-b", self.broker.bootstrap, "-t", self.topic_in, "-G", self.group,
               "--forward-to", self.topic_out, "--order", self.mode["order"], "--work", "1ms",
               "--shutdown-timeout", f"{SHUTDOWN_TIMEOUT_S}s", "-X", f"group.protocol={self.mode['protocol']}"]
        if self.mode["protocol"] == "classic":
            # A SIGKILLed member's partitions move when its session expires. (KIP-848
            # members take their timing from the broker.)
            cmd += ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000"]
        if self.mode["exactly_once"]:
            # The same transactional.id after a restart aborts what the killed one left open.
            cmd += ["--exactly-once", "--transactional-id", f"{self.group}-{name}"]
        if self.mode["broker"] == "kafka":
            # A replica that stops making progress after a broker restart is rare and
            # has needed librdkafka's own account of its connections, coordinators and
            # transactions to explain (the failure report below quotes it).
            cmd += ["-X", "debug=broker,eos"]
        cmd += self.args.replica_arg
        replica = Replica(name, cmd, os.path.join(self.work, f"{name}.log"))
        self.replicas.append(replica)
        replica.start()
        return replica

    def running(self):
        return [r for r in self.replicas if r.running()]

    def up(self):
        return [r for r in self.replicas if r.up()]

    def stopped(self):
        return [r for r in self.replicas if r.stopped()]

    def reap(self):
        for r in self.replicas:
            r.reap()

    def wait_for_stopping(self):
        while any(r.stop_deadline for r in self.replicas):
            time.sleep(0.1)
            self.reap()

    # --- events -----------------------------------------------------------
    def possible_events(self):
        kinds = []
        for kind, weight in self.mode["events"].items():
            ok = {
                "sigkill": len(self.running()) > MIN_RUNNING,
                "sigterm": len(self.running()) > MIN_RUNNING and bool(self.up()),
                "restart": bool(self.stopped()),
                "add": len(self.replicas) < MAX_REPLICAS,
                "broker_down": not self.broker.down,
                "request_errors": True,
                "broker_restart": not self.broker.paused,
                "broker_pause": not self.broker.paused,
            }[kind]
            if ok:
                kinds += [kind] * weight
        return kinds

    def do_event(self, kind):
        rng = self.rng
        if kind in ("sigkill", "sigterm"):
            victim = rng.choice(self.running() if kind == "sigkill" else self.up())
            victim.kill() if kind == "sigkill" else victim.terminate()
            self.say(f"{kind.upper()} {victim.name}")
        elif kind == "restart":
            r = rng.choice(self.stopped())
            r.start()
            self.say(f"restart {r.name} (start {r.starts})")
        elif kind == "add":
            self.say(f"add {self.add_replica().name}")
        elif kind == "broker_down":
            broker_id = rng.randint(1, self.mode["brokers"])
            self.broker.set_down(broker_id)
            back = rng.uniform(2, 6)
            self.pending.append((time.monotonic() + back, f"broker {broker_id} up",
                                 lambda: self.broker.set_up(broker_id)))
            self.say(f"broker {broker_id} down for {back:.1f}s")
        elif kind == "request_errors":
            api = rng.choice(sorted(REQUEST_ERRORS))
            errors = [rng.choice(REQUEST_ERRORS[api]) for _ in range(rng.randint(1, 4))]
            self.broker.post("/errors", {"api_key": api, "errors": errors})
            self.say(f"request errors: API {api} answers {errors}")
        elif kind == "broker_restart":
            self.say("broker restart …")
            started = time.monotonic()
            self.broker.restart()
            self.say(f"broker restarted ({time.monotonic() - started:.1f}s)")
        elif kind == "broker_pause":
            pause = rng.uniform(2, 8)
            self.broker.pause()
            self.pending.append((time.monotonic() + pause, "broker SIGCONT", self.broker.resume))
            self.say(f"broker SIGSTOP for {pause:.1f}s")
        self.events[kind] = self.events.get(kind, 0) + 1

    def run_pending(self, everything=False):
        now = time.monotonic()
        due = [p for p in self.pending if everything or p[0] <= now]
        self.pending = [p for p in self.pending if p not in due]
        for _, what, action in due:
            action()
            self.say(what)

    # --- verification -----------------------------------------------------
    def verify(self, no_duplicates):
        cmd = [self.args.verify, self.broker.bootstrap, self.topic_in, self.topic_out]
        if no_duplicates:
            cmd.append("--no-duplicates")
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode == 2:
            raise Failure(f"verify_sequences could not read the topics:\n{out.stdout}{out.stderr}")
        words = out.stdout.split()
        figures = {words[i]: int(words[i + 1]) for i in range(0, 14, 2)} if len(words) >= 14 else None
        if figures is None:
            raise Failure(f"verify_sequences printed no figures:\n{out.stdout}{out.stderr}")
        return out.returncode == 0, figures, out.stdout.strip()

    def run(self):
        self.t0 = time.monotonic()
        args, mode = self.args, self.mode
        print(f"chaos: mode {args.mode}, seed {args.seed}, {args.duration:.0f}s of events, work dir {self.work}",
              flush=True)
        self.broker.start()
        if mode["broker"] == "kafka":
            for topic in (self.topic_in, self.topic_out):
                self.kstrand("topics", "create", "-b", self.broker.bootstrap, "-t", topic, "-p", str(PARTITIONS))
        else:
            for topic in (self.topic_in, self.topic_out):
                self.broker.post("/topics", {"name": topic, "partitions": PARTITIONS})
        count = int(args.rate * args.duration)
        produce_log = open(os.path.join(self.work, "produce.log"), "w")
        producer = subprocess.Popen(
            [args.kstrand, "produce", "-b", self.broker.bootstrap, "-t", self.topic_in, "--count", str(count),
             "--rate", str(args.rate), "--keys", "300", "--size", "64"], stdout=produce_log, stderr=subprocess.STDOUT)
        for _ in range(3):
            self.add_replica()
        self.say(f"producing {count} messages at {args.rate:.0f}/s; replicas r1-r3 started")

        end = time.monotonic() + args.duration
        next_event = time.monotonic() + self.rng.uniform(2, 6)
        while time.monotonic() < end:
            time.sleep(0.1)
            self.run_pending()
            self.reap()
            if time.monotonic() >= next_event:
                kinds = self.possible_events()
                if kinds:
                    self.do_event(self.rng.choice(kinds))
                next_event = time.monotonic() + self.rng.uniform(2, 6)
        self.run_pending(everything=True)

        # The producer gets the time its rate needs plus a minute of slack for faults.
        try:
            code = producer.wait(timeout=max(0.0, count / args.rate - (time.monotonic() - self.t0)) + 60)
        except subprocess.TimeoutExpired:
            producer.kill()
            raise Failure("the producer did not finish within a minute of its schedule")
        if code != 0:
            raise Failure(f"the producer failed ({code}); see {produce_log.name}")

        # At least two replicas drain the rest; the check repeats until nothing is missing.
        self.wait_for_stopping()
        while len(self.running()) < 2:
            r = self.stopped()[0]
            r.start()
            self.say(f"restart {r.name} to drain")
        deadline = time.monotonic() + 120
        while True:
            self.reap()
            complete, figures, line = self.verify(no_duplicates=False)
            if figures["lost"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(2)
        self.say(f"drained: {line}")
        for r in self.running():
            r.terminate()
        self.wait_for_stopping()
        self.say("replicas stopped with SIGTERM, exit 0")
        passed, figures, line = self.verify(no_duplicates=mode["no_duplicates"])
        self.say(f"verified: {line}")
        events = sum(self.events.values())
        summary = dict(mode=args.mode, seed=args.seed, duration_s=args.duration, events=events,
                       event_counts=self.events, replicas=len(self.replicas),
                       replica_starts=sum(r.starts for r in self.replicas), **figures,
                       no_duplicates_required=mode["no_duplicates"], passed=passed)
        print(f"chaos mode={args.mode} seed={args.seed} events={events} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(self.events.items()))}) "
              f"produced={figures['produced']} checked={figures['checked']} lost={figures['lost']} "
              f"duplicates={figures['duplicates']} order_violations={figures['order_violations']} "
              f"unexpected={figures['unexpected']} {'PASS' if passed else 'FAIL'}", flush=True)
        if args.summary:
            with open(args.summary, "w") as f:
                json.dump(summary, f, indent=1)
        if not passed:
            raise Failure("verification failed (figures above)")

    def cleanup(self, failed):
        for r in self.replicas:
            if r.proc:
                r.kill()
        try:
            self.broker.stop()
        except Exception as e:  # the run's own failure matters more
            print(f"stopping the broker: {e}")
        if failed:
            for name in ["produce"] + [r.name for r in self.replicas]:
                path = os.path.join(self.work, f"{name}.log")
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        lines = f.readlines()
                    own = [line for line in lines if " debug librdkafka: " not in line][-30:]
                    print(f"--- {path} (last {len(own)} lines, librdkafka's debug left out)\n{''.join(own)}", end="")
                    trail = [line for line in lines if " debug librdkafka: " in line and DEBUG_TRAIL.search(line)][-60:]
                    if trail:
                        print(f"--- {path}: the last {len(trail)} coordinator, connection and transaction "
                              f"debug lines\n{''.join(trail)}", end="")
            print(f"(logs kept in {self.work})")
        elif not self.args.work_dir:
            subprocess.run(["rm", "-rf", self.work])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kstrand", required=True, help="the kstrand binary")
    p.add_argument("--verify", required=True, help="the verify_sequences binary")
    p.add_argument("--mode", required=True, choices=sorted(MODES))
    p.add_argument("--seed", type=int, default=1, help="seeds the event schedule (default 1)")
    p.add_argument("--duration", type=float, default=60, help="seconds of events (default 60)")
    p.add_argument("--rate", type=float, default=500, help="messages per second produced during the events")
    p.add_argument("--summary", help="write the figures as JSON here")
    p.add_argument("--replica-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for every replica's `kstrand consume` (repeat it), e.g. "
                        "--replica-arg=-X --replica-arg=debug=eos,broker to trace a failing seed")
    p.add_argument("--work-dir", help="keep logs here (default: a temporary dir, removed on success)")
    args = p.parse_args()
    # Absolute: the replicas run in the work dir.
    args.kstrand, args.verify = os.path.abspath(args.kstrand), os.path.abspath(args.verify)
    if args.duration <= 0 or args.rate <= 0:
        p.error("--duration and --rate must be positive")
    chaos = Chaos(args)
    failed = True
    try:
        chaos.run()
        failed = False
    except Failure as e:
        print(f"chaos FAILED (mode {args.mode}, seed {args.seed}): {e}", flush=True)
    finally:
        chaos.cleanup(failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
