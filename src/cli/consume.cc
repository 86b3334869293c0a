// `kstrand consume`: the replica of the scaling scenario. Joins the group with
// --members runtimes in one process, logs every assignment and revocation,
// simulates work per message and can forward what it processed to a topic
// (same key and value, headers naming the source) for outside verification.
#include <spdlog/spdlog.h>

#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "kafka/producer.h"
#include "kstrand/runtime.h"
#include "kstrand/shutdown.h"
#include "runtime/parse.h"

namespace kstrand::cli {
namespace {

struct ConsumeOptions {
  Connection conn;
  std::vector<std::string> topics;
  std::string group = "kstrand";
  int members = 1;
  std::string work = "0ms";
  std::string forward_to;
  SettingsFlags settings;
};

void LogRebalance(const RebalanceEvent& ev) {
  const char* what = ev.kind == RebalanceKind::kAssigned ? "assigned" : ev.kind == RebalanceKind::kRevoked ? "revoked" : "lost";
  spdlog::info("{}: partitions {} ({}): {}; now owns {} ({})", ev.member, what, ev.partitions.size(),
               FormatPartitions(ev.partitions), FormatPartitions(ev.assignment), ev.assignment.size());
}

int RunConsume(ConsumeOptions& opts) {
  // Bad flags first, before anything talks to a broker.
  RuntimeConfig base;
  if (Status st = opts.settings.Apply(base); !st.ok()) return Fail(st);
  if (Status st = opts.conn.Resolve(); !st.ok()) return Fail(st);
  auto props = opts.conn.Properties(true);
  if (!props.ok()) return Fail(props.status());
  auto work = ParseDuration(opts.work);
  if (!work.ok()) return Fail(Status(Errc::kInvalidArgument, "--work: " + work.status().detail()));

  std::unique_ptr<kafka::Producer> forward;
  if (!opts.forward_to.empty()) {
    auto fp = opts.conn.Properties(false).value();
    fp["bootstrap.servers"] = opts.conn.brokers;
    fp["linger.ms"] = "1";
    auto p = kafka::Producer::Create(fp);
    if (!p.ok()) return Fail(p.status());
    forward = std::move(p.value());
  }

  Handler handler = [&, delay = *work](const Message& m) -> Status {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (!forward) return Status::Ok();
    // Acknowledged before we return, so the commit never passes an unforwarded message.
    return forward->ProduceAndWait(opts.forward_to, m.key(), m.value(),
                                   {{"kstrand-source-topic", std::string(m.topic())},
                                    {"kstrand-source-partition", std::to_string(m.partition().value())},
                                    {"kstrand-source-offset", std::to_string(m.offset().value())}});
  };

  std::vector<std::unique_ptr<Runtime>> members;
  for (int i = 1; i <= opts.members; ++i) {
    RuntimeConfig config = base;
    config.name = "member-" + std::to_string(i);
    config.brokers = opts.conn.brokers;
    config.group_id = opts.group;
    config.kafka = *props;
    config.connect_timeout = std::chrono::milliseconds(opts.conn.connect_timeout_ms());
    for (const auto& t : opts.topics) config.topics.push_back({t, handler});
    config.on_rebalance = LogRebalance;
    auto rt = Runtime::Create(std::move(config));
    if (!rt.ok()) return Fail(rt.status());
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
  std::vector<std::thread> stoppers;
  for (auto& m : members) stoppers.emplace_back([&m] { m->Stop(); });
  for (auto& t : stoppers) t.join();
  uint64_t total = 0;
  for (auto& m : members) {
    auto s = m->Stats();
    total += s.processed;
    spdlog::info("{}: processed {}, failed {}, rebalances {}", m->config().name, s.processed, s.failed, s.rebalances);
    if (Status st = m->Wait(); !st.ok() && failure.ok()) failure = st;
  }
  if (forward) {
    if (Status st = forward->Flush(10000); !st.ok() && failure.ok()) failure = st;
  }
  spdlog::info("processed {} messages in total", total);
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
  cmd->add_option("--forward-to", opts->forward_to,
                  "Produce every processed message to this topic, with kstrand-source-* headers");
  opts->settings.Add(*cmd);
  cmd->callback([opts, set_action] { set_action([opts] { return RunConsume(*opts); }); });
}

}  // namespace kstrand::cli
