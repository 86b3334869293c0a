// kstrand-bench-restore: how fast a table restores from its topic, end to end
// (fetch, lane, apply, readiness), into RocksDB and into memory, side by side
// in one run on one embedded cluster.
//
// Produces --records records (--value-bytes values, keys cycling over
// --distinct-keys so later records overwrite, as a changelog does) to a topic
// of --partitions partitions, then for each backend starts a Runtime that
// materialises the topic into a table and times from Start() until every
// partition is caught up. Prints records/s per backend and their ratio.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "kafka/client.h"
#include "kafka/producer.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/runtime.h"
#include "kstrand/state.h"

namespace {

using namespace kstrand;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t records = 1'000'000;
  int partitions = 24;  // the embedded broker keeps ~5 MB per partition
  size_t value_bytes = 40;
  int64_t distinct_keys = 1'000'000;
};

Result<double> TimeRestore(const EmbeddedCluster& cluster, const std::string& topic, StateConfig state,
                           const Options& opts) {
  auto stores = Stores::Open(state);
  if (!stores.ok()) return stores.status();
  auto table = Table::Open("bench", *stores);
  if (!table.ok()) return table.status();
  RuntimeConfig config;
  config.name = "restore-bench";
  config.brokers = cluster.bootstrap();
  config.group_id = fmt::format("restore-bench-{}", ::getpid() ^ std::random_device{}());
  config.kafka = EmbeddedCluster::ClientProperties();
  config.members_topic.clear();
  config.topics.push_back({.topic = topic, .table = *table});
  auto runtime = Runtime::Create(config);
  if (!runtime.ok()) return runtime.status();
  const auto start = Clock::now();
  KSTRAND_RETURN_IF_ERROR((*runtime)->Start());
  for (;;) {
    auto stats = (*table)->Stats();
    uint64_t applied = 0;
    bool ready = static_cast<int>(stats.size()) == opts.partitions;
    for (const auto& p : stats) {
      ready = ready && p.availability == Availability::kReady;
      applied += p.applied_since_assigned;
    }
    if (ready) {
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      (*runtime)->Stop();
      if (static_cast<int64_t>(applied) != opts.records) {
        return Status(Errc::kInternal, fmt::format("applied {} of {} records", applied, opts.records));
      }
      return opts.records / seconds;
    }
    if (Clock::now() - start > std::chrono::minutes(5)) return Status(Errc::kTimedOut, "restore took over 5 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int Run(const Options& opts) {
  auto cluster = EmbeddedCluster::Start();
  if (!cluster.ok()) return fmt::print(stderr, "{}\n", cluster.status().ToString()), 1;
  const std::string topic = "changelog";
  if (Status st = (*cluster)->CreateTopic(topic, opts.partitions); !st.ok()) {
    return fmt::print(stderr, "{}\n", st.ToString()), 1;
  }
  auto producer = kafka::Producer::Create(
      kafka::ConnectionProperties((*cluster)->bootstrap(), EmbeddedCluster::ClientProperties(), "restore-bench"));
  if (!producer.ok()) return fmt::print(stderr, "{}\n", producer.status().ToString()), 1;
  const std::string value(opts.value_bytes, 'v');
  for (int64_t i = 0; i < opts.records; ++i) {
    if (Status st = (*producer)->Produce(topic, fmt::format("user-{:010}", i % opts.distinct_keys), value); !st.ok()) {
      return fmt::print(stderr, "{}\n", st.ToString()), 1;
    }
  }
  if (Status st = (*producer)->Flush(120000); !st.ok()) return fmt::print(stderr, "{}\n", st.ToString()), 1;
  fmt::print("restore of {} records ({} B values, {} partitions) from the embedded broker\n", opts.records,
             opts.value_bytes, opts.partitions);

  const auto dir = std::filesystem::temp_directory_path() / fmt::format("kstrand-restore-bench-{}", ::getpid());
  auto rocks = TimeRestore(**cluster, topic, {StoreBackend::kRocksDb, dir.string()}, opts);
  std::filesystem::remove_all(dir);
  auto memory = TimeRestore(**cluster, topic, {}, opts);
  if (!rocks.ok() || !memory.ok()) {
    fmt::print(stderr, "{}\n", (!rocks.ok() ? rocks.status() : memory.status()).ToString());
    return 1;
  }
  fmt::print("rocksdb  {:>12.0f} records/s\nmemory   {:>12.0f} records/s\nrocksdb/memory {:.2f}\n", *rocks, *memory,
             *rocks / *memory);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{"kstrand-bench-restore: table restore rate, RocksDB and memory, from the embedded broker"};
  app.add_option("--records", opts.records, "Records in the topic")->capture_default_str();
  app.add_option("--partitions", opts.partitions, "Partitions of the topic")->capture_default_str();
  app.add_option("--value-bytes", opts.value_bytes, "Bytes per value")->capture_default_str();
  app.add_option("--distinct-keys", opts.distinct_keys, "Keys cycle over this many")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return Run(opts);
}
