// `kstrand demo`: the scaling scenario on the embedded broker in one command.
// Two members split a 12-partition topic while a keyed stream is produced; a
// third joins, later the first leaves gracefully. After each rebalance the
// assignment table is printed; the summary (produced, processed, duplicates,
// per-key order violations) is computed from what the handlers actually saw.
// With --http the dashboard shows the partitions moving as it happens.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/load.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/runtime.h"
#include "kstrand/shutdown.h"
#include "kstrand/status_server.h"
#include "kstrand/parse.h"

namespace kstrand::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoOptions {
  LoadSpec load{"demo", 20000, 1000, 48, 64};
  int partitions = 12;
  std::string work = "1ms";
  std::string join_at = "8s";
  std::string leave_at = "18s";
  // KIP-848 by default, as everywhere on the embedded broker (see
  // EmbeddedCluster::ClientProperties for what goes wrong with classic there).
  std::string group_protocol = "consumer";
  std::string http;  // [HOST:]PORT of the status server; empty: none
};

// What the handlers saw, checked against what was produced.
class Ledger {
 public:
  void Record(const Message& m) {
    const uint64_t id = (static_cast<uint64_t>(m.partition().value()) << 40) | static_cast<uint64_t>(m.offset().value());
    auto seq = LoadSeq(m.value());
    std::lock_guard lock(mu_);
    if (!seen_.insert(id).second) {
      ++duplicates_;
      return;
    }
    ++processed_;
    if (!seq || !m.key()) return;
    auto [it, fresh] = last_seq_.try_emplace(std::string(*m.key()), *seq);
    if (!fresh) {
      if (*seq <= it->second) ++violations_;
      it->second = std::max(it->second, *seq);
    }
  }
  uint64_t processed() const { std::lock_guard lock(mu_); return processed_; }
  uint64_t duplicates() const { std::lock_guard lock(mu_); return duplicates_; }
  uint64_t violations() const { std::lock_guard lock(mu_); return violations_; }

 private:
  mutable std::mutex mu_;
  std::unordered_set<uint64_t> seen_;
  std::unordered_map<std::string, uint64_t> last_seq_;
  uint64_t processed_ = 0, duplicates_ = 0, violations_ = 0;
};

int RunDemo(DemoOptions& opts) {
  auto work = ParseDuration(opts.work), join_at = ParseDuration(opts.join_at), leave_at = ParseDuration(opts.leave_at);
  for (auto* d : {&work, &join_at, &leave_at}) {
    if (!d->ok()) return Fail(d->status());
  }
  // Started first, so a bad --http fails before anything else; owned below by
  // `server`, which members outlive.
  std::unique_ptr<StatusServer> status_server;
  if (!opts.http.empty()) {
    auto started = StartStatusServer(opts.http);
    if (!started.ok()) return Fail(started.status());
    status_server = std::move(started.value());
  }
  auto cluster = EmbeddedCluster::Start();
  if (!cluster.ok()) return Fail(cluster.status());
  if (Status st = (*cluster)->CreateTopic(opts.load.topic, opts.partitions); !st.ok()) return Fail(st);
  std::printf("embedded broker at %s; topic %s with %d partitions; producing %lu messages over %lu keys at %.0f/s\n",
              (*cluster)->bootstrap().c_str(), opts.load.topic.c_str(), opts.partitions, opts.load.count,
              opts.load.keys, opts.load.rate);

  const auto client_props = EmbeddedCluster::ClientProperties(opts.group_protocol);
  auto producer = kafka::Producer::Create({{"bootstrap.servers", (*cluster)->bootstrap()}});
  if (!producer.ok()) return Fail(producer.status());

  Ledger ledger;
  std::atomic<int> rebalances{0};
  Handler handler = [&ledger, delay = *work](const Message& m) {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    ledger.Record(m);
    return Status::Ok();
  };
  std::map<int, std::unique_ptr<Runtime>> members;
  // Declared after `members`, so it stops serving before they are destroyed.
  std::unique_ptr<StatusServer> server = std::move(status_server);
  auto make_member = [&](int n) -> Result<std::unique_ptr<Runtime>> {
    RuntimeConfig config;
    config.name = "member-" + std::to_string(n);
    config.brokers = (*cluster)->bootstrap();
    config.group_id = "kstrand-demo";
    config.kafka = client_props;
    config.commit_interval = std::chrono::milliseconds(500);
    if (server) config.endpoint = server->url();
    config.topics.push_back({opts.load.topic, handler});
    config.on_rebalance = [&rebalances](const RebalanceEvent& ev) {
      const char* what = ev.kind == RebalanceKind::kAssigned ? "assigned" : "revoked";
      spdlog::info("{}: {} {}", ev.member, what, FormatPartitions(ev.partitions));
      rebalances++;
    };
    auto rt = Runtime::Create(std::move(config));
    if (!rt.ok()) return rt.status();
    if (server) server->Add(**rt);
    if (Status st = (*rt)->Start(); !st.ok()) {
      if (server) server->Remove(**rt);
      return st;
    }
    return rt;
  };

  std::atomic<uint64_t> produced{0};
  std::atomic<bool> stop_producing{false};
  Status produce_status;
  std::thread load([&] {
    produce_status = ProduceLoad(**producer, opts.load, produced, stop_producing);
    if (produce_status.ok()) produce_status = (*producer)->Flush(30000);
  });

  for (int n : {1, 2}) {
    auto m = make_member(n);
    if (!m.ok()) return Fail(m.status());
    members[n] = std::move(m.value());
  }
  std::printf("started member-1 and member-2 (group protocol %s)\n", opts.group_protocol.c_str());

  const auto start = Clock::now();
  const bool tty = isatty(STDOUT_FILENO);
  bool joined = false, left = false;
  std::map<std::string, std::string> printed_table;
  std::map<std::string, std::string> last_table;
  auto table_since = Clock::now();
  int table_no = 0;
  auto last_line = Clock::now();
  const auto deadline_after_load = std::chrono::seconds(60);
  std::optional<Clock::time_point> load_done_at;

  while (!ShutdownRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto elapsed = Clock::now() - start;
    if (!joined && elapsed >= *join_at) {
      joined = true;
      std::printf("%sadding member-3\n", tty ? "\r\33[K" : "");
      auto m = make_member(3);
      if (!m.ok()) return Fail(m.status());
      members[3] = std::move(m.value());
    }
    if (!left && elapsed >= *leave_at) {
      left = true;
      std::printf("%sstopping member-1 (graceful: drain, commit, leave)\n", tty ? "\r\33[K" : "");
      members[1]->Stop();
      if (server) server->Remove(*members[1]);
      members.erase(1);
    }
    // The assignment table, once it settled (unchanged for a second) after a change.
    std::map<std::string, std::string> table;
    size_t owned = 0;
    bool someone_idle = false;  // a cooperative rebalance is still handing partitions over
    for (auto& [n, m] : members) {
      auto a = m->Assignment();
      owned += a.size();
      someone_idle |= a.empty();
      table[m->config().name] = FormatPartitions(a);
    }
    if (table != last_table) {
      last_table = table;
      table_since = Clock::now();
    } else if (table != printed_table && Clock::now() - table_since >= std::chrono::seconds(1) &&
               owned == static_cast<size_t>(opts.partitions) &&
               (!someone_idle || members.size() > static_cast<size_t>(opts.partitions))) {
      printed_table = table;
      std::printf("%sassignment #%d (%zu members, %zu partitions):\n", tty ? "\r\33[K" : "", ++table_no,
                  table.size(), owned);
      for (const auto& [name, parts] : table) std::printf("  %-9s %s\n", name.c_str(), parts.c_str());
    }
    uint64_t done = ledger.processed();
    if (tty) {
      std::printf("\r\33[K[%5.1fs] produced %lu  processed %lu  members %zu  behind %ld",
                  std::chrono::duration<double>(elapsed).count(), produced.load(), done, members.size(),
                  static_cast<long>(produced.load()) - static_cast<long>(done));
      std::fflush(stdout);
    } else if (Clock::now() - last_line >= std::chrono::seconds(3)) {
      last_line = Clock::now();
      std::printf("[%5.1fs] produced %lu  processed %lu  members %zu\n", std::chrono::duration<double>(elapsed).count(),
                  produced.load(), done, members.size());
    }
    bool load_finished = produced.load() >= opts.load.count;
    if (load_finished && !load_done_at) load_done_at = Clock::now();
    if (load_finished && joined && left && done >= opts.load.count && table == printed_table) break;
    if (load_done_at && Clock::now() - *load_done_at > deadline_after_load) {
      std::printf("\ngave up waiting: processing did not catch up within %lds\n",
                  static_cast<long>(deadline_after_load.count()));
      break;
    }
  }
  if (tty) std::printf("\n");
  stop_producing = true;
  load.join();
  for (auto& [n, m] : members) m->Stop();

  const uint64_t delivered = (*producer)->delivered();
  const uint64_t processed = ledger.processed();
  std::printf("\nsummary: produced %lu, processed %lu, duplicates %lu, per-key order violations %lu, lost %ld\n",
              delivered, processed, ledger.duplicates(), ledger.violations(),
              static_cast<long>(delivered) - static_cast<long>(processed));
  if (!produce_status.ok()) return Fail(produce_status);
  return processed == delivered && ledger.violations() == 0 ? 0 : 1;
}

}  // namespace

void AddDemoCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "The scaling scenario on the embedded broker: members join and leave mid-stream");
  cmd->add_option("--count", opts->load.count, "Messages to produce")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1000000000000}));
  cmd->add_option("--rate", opts->load.rate, "Messages per second")->capture_default_str()->check(CLI::Range(1.0, 1e9));
  cmd->add_option("--keys", opts->load.keys, "Distinct keys")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--partitions", opts->partitions, "Partitions of the demo topic")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--work", opts->work, "Simulated work per message")->capture_default_str();
  cmd->add_option("--join-at", opts->join_at, "When member-3 joins")->capture_default_str();
  cmd->add_option("--leave-at", opts->leave_at, "When member-1 leaves")->capture_default_str();
  cmd->add_option("--group-protocol", opts->group_protocol,
                  "consumer (KIP-848) or classic (cooperative-sticky; on the embedded broker, revokes can "
                  "duplicate work)")
      ->capture_default_str()->check(CLI::IsMember({"consumer", "classic"}));
  AddHttpFlag(*cmd, opts->http);
  cmd->callback([opts, set_action] { set_action([opts] { return RunDemo(*opts); }); });
}

}  // namespace kstrand::cli
