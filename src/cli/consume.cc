// `kstrand consume`: the replica of the scaling scenario. Joins the group with
// --members runtimes in one process, logs every assignment and revocation,
// simulates work per message (sleeping, spinning, or as asynchronous I/O on
// timers), can fail a share of attempts to exercise the failure policies, and
// can forward what it processed to a topic (same key and value, headers naming
// the source) for outside verification, exactly once with --exactly-once. With --http it serves the dashboard,
// /status, /metrics and the probes for its members. --report, --trace and
// --max-messages make it the kstrand side of scripts/bench (bench/peers/README.md).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/report.h"
#include "kafka/handles.h"
#include "kstrand/runtime.h"
#include "kstrand/shutdown.h"
#include "kstrand/status_server.h"
#include "kstrand/parse.h"
#include "runtime/timer_queue.h"

namespace kstrand::cli {
namespace {

struct ConsumeOptions {
  Connection conn;
  std::vector<std::string> topics;
  std::string group = "kstrand";
  int members = 1;
  std::string work = "0ms";
  std::string work_mode = "sleep";
  std::string order = "partition";
  double fail_rate = 0;
  int max_attempts = 1;
  std::string backoff = "100ms";
  std::string on_failure;  // default: dead-letter with --dlq, else stop-partition
  std::string dlq;
  std::string forward_to;
  bool exactly_once = false;
  std::string http;  // [HOST:]PORT of the status server; empty: none
  uint64_t max_messages = 0;  // stop after this many processed; 0: until a signal
  std::string trace;          // one line per processed message; empty: none
  bool report = false;        // print the RESULT line at exit
  SettingsFlags settings;
};

// The topic settings the flags describe.
Result<TopicHandler> TopicPolicy(const ConsumeOptions& opts) {
  TopicHandler t;
  if (opts.order == "partition") t.ordering = Ordering::kPartition;
  else if (opts.order == "key") t.ordering = Ordering::kKey;
  else t.ordering = Ordering::kUnordered;
  FailurePolicy& f = t.on_failure;
  f.max_attempts = opts.max_attempts;
  auto backoff = ParseDuration(opts.backoff);
  if (!backoff.ok()) return Status(Errc::kInvalidArgument, "--backoff: " + backoff.status().detail());
  f.backoff = *backoff;
  f.max_backoff = std::max(f.max_backoff, f.backoff);
  std::string action = opts.on_failure.empty() ? (opts.dlq.empty() ? "stop-partition" : "dead-letter") : opts.on_failure;
  if (action == "dead-letter") f.then = FailureAction::kDeadLetter;
  else if (action == "skip") f.then = FailureAction::kSkip;
  else if (action == "stop-runtime") f.then = FailureAction::kStopRuntime;
  else f.then = FailureAction::kStopPartition;
  if (f.then == FailureAction::kDeadLetter && opts.dlq.empty()) {
    return Status(Errc::kInvalidArgument, "--on-failure dead-letter needs --dlq TOPIC");
  }
  if (f.then != FailureAction::kDeadLetter && !opts.dlq.empty()) {
    return Status(Errc::kInvalidArgument, "--dlq conflicts with --on-failure " + action);
  }
  f.dead_letter_topic = opts.dlq;
  return t;
}

// Whether this attempt fails, under --fail-rate.
bool SimulatedFailure(double rate) {
  if (rate <= 0) return false;
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate;
}

const Status kSimulatedFailure(Errc::kHandlerFailed, "simulated failure (--fail-rate)");

// The record --forward-to produces for `m`: same key and value, headers naming the source.
OutputRecord Forwarded(const Message& m, const std::string& topic) {
  return {topic,
          m.key() ? std::optional<std::string>(*m.key()) : std::nullopt,
          std::string(m.value()),
          {{"kstrand-source-topic", std::string(m.topic())},
           {"kstrand-source-partition", std::to_string(m.partition().value())},
           {"kstrand-source-offset", std::to_string(m.offset().value())}}};
}

void LogRebalance(const RebalanceEvent& ev) {
  const char* what = ev.kind == RebalanceKind::kAssigned ? "assigned" : ev.kind == RebalanceKind::kRevoked ? "revoked" : "lost";
  spdlog::info("{}: partitions {} ({}): {}; now owns {} ({})", ev.member, what, ev.partitions.size(),
               FormatPartitions(ev.partitions), FormatPartitions(ev.assignment), ev.assignment.size());
}

int RunConsume(ConsumeOptions& opts) {
  // Bad flags first, before anything talks to a broker.
  RuntimeConfig base;
  if (Status st = opts.settings.Apply(base); !st.ok()) return Fail(st);
  if (opts.exactly_once) {
    if (opts.forward_to.empty()) return Fail(Status(Errc::kInvalidArgument, "--exactly-once needs --forward-to TOPIC"));
    base.delivery = Delivery::kExactlyOnce;
  }
  // Started before anything talks to a broker, so a bad --http fails first;
  // owned below by `server`, which the runtimes outlive.
  std::unique_ptr<StatusServer> status_server;
  if (!opts.http.empty()) {
    auto started = StartStatusServer(opts.http);
    if (!started.ok()) return Fail(started.status());
    status_server = std::move(started.value());
  }
  if (Status st = opts.conn.Resolve(); !st.ok()) return Fail(st);
  auto props = opts.conn.Properties(true);
  if (!props.ok()) return Fail(props.status());
  auto work = ParseDuration(opts.work);
  if (!work.ok()) return Fail(Status(Errc::kInvalidArgument, "--work: " + work.status().detail()));

  runtime::TimerQueue io;  // --work-mode async; outlives the runtimes (stopped first)
  const std::string forward_to = opts.forward_to;

  // Measured only when asked: the counters are shared by every worker.
  std::unique_ptr<ProcessingReport> report;
  if (opts.report || opts.max_messages > 0 || !opts.trace.empty()) {
    auto opened = ProcessingReport::Open(opts.trace);
    if (!opened.ok()) return Fail(opened.status());
    report = std::move(opened.value());
  }
  // Called as a message's processing succeeds.
  auto processed = [r = report.get(), max = opts.max_messages](const Message& m) {
    if (r == nullptr) return;
    if (r->Record(m.partition().value(), m.timestamp()) == max) RequestShutdown();
  };

  auto policy = TopicPolicy(opts);
  if (!policy.ok()) return Fail(policy.status());
  const auto delay = *work;
  const double fail_rate = opts.fail_rate;
  if (opts.work_mode == "async") {
    // Simulated I/O: a timer completes the message; no thread waits for it.
    policy->async_handler = [&, delay, fail_rate](const Message& m, Completion done) {
      auto finish = [done, fail_rate, forward_to, processed, &m = m] {
        if (SimulatedFailure(fail_rate)) return done(kSimulatedFailure);
        if (!forward_to.empty()) m.Produce(Forwarded(m, forward_to));
        processed(m);
        done(Status::Ok());
      };
      if (delay.count() > 0) io.After(delay, std::move(finish));
      else finish();
    };
  } else {
    const bool spin = opts.work_mode == "cpu";
    policy->handler = [delay, fail_rate, spin, forward_to, processed](const Message& m) -> Status {
      if (spin) {
        for (auto until = std::chrono::steady_clock::now() + delay; std::chrono::steady_clock::now() < until;) {
        }
      } else if (delay.count() > 0) {
        std::this_thread::sleep_for(delay);
      }
      if (SimulatedFailure(fail_rate)) return kSimulatedFailure;
      // Sent as the message completes: its offset is never committed before it.
      if (!forward_to.empty()) m.Produce(Forwarded(m, forward_to));
      processed(m);
      return Status::Ok();
    };
  }

  std::vector<std::unique_ptr<Runtime>> members;
  // Declared after `members`, so it stops serving before they are destroyed.
  std::unique_ptr<StatusServer> server = std::move(status_server);
  for (int i = 1; i <= opts.members; ++i) {
    RuntimeConfig config = base;
    config.name = "member-" + std::to_string(i);
    config.brokers = opts.conn.brokers;
    if (server) config.endpoint = server->url();
    config.group_id = opts.group;
    // Each member is a producer of its own: one id per member.
    if (!config.transactional_id.empty() && opts.members > 1) config.transactional_id += "-" + config.name;
    config.kafka = *props;
    config.connect_timeout = std::chrono::milliseconds(opts.conn.connect_timeout_ms());
    for (const auto& t : opts.topics) {
      TopicHandler topic = *policy;
      topic.topic = t;
      config.topics.push_back(std::move(topic));
    }
    config.on_rebalance = LogRebalance;
    auto rt = Runtime::Create(std::move(config));
    if (!rt.ok()) return Fail(rt.status());
    if (server) server->Add(**rt);
    members.push_back(std::move(rt.value()));
  }
  for (auto& m : members) {
    if (Status st = m->Start(); !st.ok()) return Fail(st);
    spdlog::info("{}: joined group {}, waiting for partitions", m->config().name, opts.group);
  }

  // Run until a signal, or until a runtime stops on its own (fatal error).
  Status failure;
  while (!WaitForShutdown(std::chrono::milliseconds(200))) {
    bool all_running = std::all_of(members.begin(), members.end(), [](auto& m) { return m->running(); });
    if (!all_running) break;
  }
  spdlog::info("shutting down: draining in-flight work, committing, leaving the group");
  // One stopper per member, so their drains overlap. Stop() is bounded: a
  // handler still running after shutdown.timeout (and a short grace) is left
  // to itself, its message uncommitted, and Wait() says which partitions.
  std::vector<std::thread> stoppers;
  for (auto& m : members) stoppers.emplace_back([&m] { m->Stop(); });
  for (auto& t : stoppers) t.join();
  const bool hung =
      std::any_of(members.begin(), members.end(), [](auto& m) { return m->Stats().busy_workers > 0; });
  if (!hung) io.Stop();  // timers still pending complete into stopped runtimes: dropped, uncommitted
  uint64_t total = 0;
  for (auto& m : members) {
    auto s = m->Stats();
    total += s.processed;
    spdlog::info("{}: processed {}, failed {} (retried {}, dead-lettered {}, skipped {}), rebalances {}",
                 m->config().name, s.processed, s.failed, s.retried, s.dead_lettered, s.skipped, s.rebalances);
    Status st = m->Wait();
    if (st.code() == make_error_code(Errc::kTimedOut)) {
      // The drain outlived --shutdown-timeout (a broker slow to acknowledge,
      // a slow handler): what completed is committed, the rest is read again
      // by the next owner. A failure only while a handler never returns (below).
      spdlog::warn("{}: {}", m->config().name, st.detail());
    } else if (!st.ok() && failure.ok()) {
      failure = st;
    }
  }
  spdlog::info("processed {} messages in total", total);
  if (opts.report) std::printf("%s\n", report->ResultLine().c_str());
  members.clear();
  if (kafka::ClientsBeingDestroyed() > 0) {
    // A member could not leave its group in time (coordinator unreachable);
    // librdkafka still winds its handle down on another thread. Leave without
    // waiting for it, and without destructors that would run beside it.
    std::fflush(stdout);
    spdlog::shutdown();
    std::_Exit(failure.ok() ? 0 : Fail(failure));
  }
  if (hung) {
    spdlog::error("a handler was still running after the group was left (shutdown timeout {}); "
                  "exiting without it, its message uncommitted",
                  FormatDuration(base.shutdown_timeout));
    std::fflush(stdout);
    spdlog::shutdown();
    std::_Exit(1);  // no destructors: they would join the hung thread
  }
  return failure.ok() ? 0 : Fail(failure);
}

}  // namespace

void AddConsumeCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<ConsumeOptions>();
  auto* cmd = app.add_subcommand("consume", "Join a consumer group and process partitions in parallel");
  AddConnectionFlags(*cmd, opts->conn);
  cmd->add_option("-t,--topic", opts->topics, "Topic to consume (repeatable)")->required();
  cmd->add_option("-G,--group", opts->group, "Consumer group id")->capture_default_str();
  cmd->add_option("--members", opts->members, "Group members to run in this process")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--work", opts->work, "Simulated work per message (e.g. 2ms)")->capture_default_str();
  cmd->add_option("--work-mode", opts->work_mode,
                  "sleep (a blocked thread), cpu (a busy thread) or async (a timer: no thread waits)")
      ->capture_default_str()->check(CLI::IsMember({"sleep", "cpu", "async"}));
  cmd->add_option("--order", opts->order,
                  "partition (one message per partition at a time), key (one per key) or unordered")
      ->capture_default_str()->check(CLI::IsMember({"partition", "key", "unordered"}));
  cmd->add_option("--fail-rate", opts->fail_rate, "Share of attempts that fail, 0..1 (exercises the failure policy)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-attempts", opts->max_attempts, "Attempts per message before the failure policy applies")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--backoff", opts->backoff, "Wait before the second attempt; doubles after each further failure")
      ->capture_default_str();
  cmd->add_option("--on-failure", opts->on_failure,
                  "After the last attempt: stop-partition, dead-letter, skip or stop-runtime "
                  "(default: dead-letter with --dlq, else stop-partition)")
      ->check(CLI::IsMember({"stop-partition", "dead-letter", "skip", "stop-runtime"}));
  cmd->add_option("--dlq", opts->dlq, "Dead-letter topic for messages that failed every attempt");
  cmd->add_option("--forward-to", opts->forward_to,
                  "Produce every processed message to this topic, with kstrand-source-* headers");
  cmd->add_flag("--exactly-once", opts->exactly_once,
                "With --forward-to: forward and commit the input offsets in one transaction per commit interval "
                "(--delivery exactly-once; set --transactional-id per replica for fast recovery)");
  AddHttpFlag(*cmd, opts->http);
  cmd->add_option("--max-messages", opts->max_messages,
                  "Stop (drain, commit, leave) after processing this many messages; 0: run until a signal")
      ->capture_default_str();
  cmd->add_option("--trace", opts->trace, "Write a line '<partition> <unix-ms>' per processed message to this file");
  cmd->add_flag("--report", opts->report,
                "At exit, print the RESULT line (count, rate, latency percentiles, peak RSS) of bench/peers/README.md");
  opts->settings.Add(*cmd);
  cmd->callback([opts, set_action] { set_action([opts] { return RunConsume(*opts); }); });
}

}  // namespace kstrand::cli
