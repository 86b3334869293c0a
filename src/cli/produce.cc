// `kstrand produce`: a keyed load generator.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/load.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kstrand/shutdown.h"

namespace kstrand::cli {
namespace {

struct ProduceOptions {
  Connection conn;
  LoadSpec load;
};

int RunProduce(ProduceOptions& opts) {
  if (Status st = opts.conn.Resolve(); !st.ok()) return Fail(st);
  auto props = opts.conn.Properties(false);
  if (!props.ok()) return Fail(props.status());
  (*props)["bootstrap.servers"] = opts.conn.brokers;
  auto producer = kafka::Producer::Create(*props);
  if (!producer.ok()) return Fail(producer.status());
  rd_kafka_t* rk = (*producer)->handle();
  if (Status st = kafka::WaitForBrokers(rk, opts.conn.brokers, opts.conn.connect_timeout_ms()); !st.ok()) return Fail(st);
  if (auto t = kafka::DescribeTopics(rk, opts.conn.connect_timeout_ms(), opts.load.topic); !t.ok()) return Fail(t.status());

  std::atomic<uint64_t> sent{0};
  std::atomic<bool> stop{false};
  Status result;
  const auto start = std::chrono::steady_clock::now();
  std::thread worker([&] {
    result = ProduceLoad(**producer, opts.load, sent, stop);
    if (result.ok()) result = (*producer)->Flush(30000);
    stop = true;
  });
  const bool tty = isatty(STDERR_FILENO);
  while (!stop.load()) {
    if (ShutdownRequested()) stop = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (tty) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\rproduced %lu/%lu, delivered %lu (%.0f msg/s)   ", sent.load(), opts.load.count,
                   (*producer)->delivered(), secs > 0 ? sent.load() / secs : 0.0);
    }
  }
  worker.join();
  if (tty) std::fprintf(stderr, "\n");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("produced %lu messages to %s in %.1f s (%.0f msg/s): %lu delivered, %lu failed\n", sent.load(),
              opts.load.topic.c_str(), secs, secs > 0 ? sent.load() / secs : 0.0, (*producer)->delivered(),
              (*producer)->failed());
  if (!result.ok()) return Fail(result);
  return (*producer)->failed() == 0 ? 0 : 1;
}

}  // namespace

void AddProduceCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<ProduceOptions>();
  auto* cmd = app.add_subcommand("produce", "Produce a keyed load: key-N, value key-N:SEQ:padding");
  AddConnectionFlags(*cmd, opts->conn);
  cmd->add_option("-t,--topic", opts->load.topic, "Topic to produce to")->required();
  cmd->add_option("--count", opts->load.count, "Messages to produce")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1000000000000}));
  cmd->add_option("--rate", opts->load.rate, "Messages per second (0: unlimited)")->capture_default_str()->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--keys", opts->load.keys, "Distinct keys")->capture_default_str()->check(CLI::Range(1, 100000000));
  cmd->add_option("--size", opts->load.size, "Value size in bytes")->capture_default_str()->check(CLI::Range(1, 10000000));
  cmd->callback([opts, set_action] { set_action([opts] { return RunProduce(*opts); }); });
}

}  // namespace kstrand::cli
