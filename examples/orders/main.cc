// orders: the orders processor (orders.h) and a generator of test orders.
//
//   orders process   one replica: reads `orders`, writes `order-events`,
//                    dead-letters invalid orders to `orders-dlq`
//   orders produce   writes deterministic test orders, a share of them invalid
//
// Both create their topics if missing. examples/orders/README.md walks through
// them on the embedded broker and on real Kafka.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include <kstrand/admin.h>
#include <kstrand/producer.h>
#include <kstrand/runtime.h>
#include <kstrand/shutdown.h>
#include <kstrand/status_server.h>

#include "common/example_cli.h"
#include "orders/orders.h"

namespace kstrand::orders {
namespace {

struct ProcessOptions {
  examples::Connection conn;
  OrdersOptions orders;
  std::string group = "order-processors";
  std::string name;
  std::string delivery = "exactly-once";
  int partitions = 12;
  std::string http;
  examples::SettingsFlags settings;
};

struct ProduceOptions {
  examples::Connection conn;
  std::string topic = "orders";
  int partitions = 12;
  GeneratorSpec spec;
};

const char* const kEmbeddedHint =
    "the embedded broker (kstrand broker) cannot do exactly-once; pass --delivery at-least-once there";

std::string DefaultName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "orders";
  return std::string("orders-") + host;
}

void LogRebalance(const RebalanceEvent& ev) {
  const char* what = ev.kind == RebalanceKind::kAssigned  ? "assigned"
                     : ev.kind == RebalanceKind::kRevoked ? "revoked"
                                                          : "lost";
  spdlog::info("{}: partitions {}: {}; now owns {}", ev.member, what, examples::FormatPartitions(ev.partitions),
               examples::FormatPartitions(ev.assignment));
}

int RunProcess(ProcessOptions& opts) {
  // Bad flags first, before anything talks to a broker.
  RuntimeConfig config;
  if (Status st = opts.settings.Apply(config); !st.ok()) return examples::Fail(st);
  config.delivery = opts.delivery == "exactly-once" ? Delivery::kExactlyOnce : Delivery::kAtLeastOnce;
  std::unique_ptr<StatusServer> server;
  if (!opts.http.empty()) {
    auto started = examples::StartStatusServer(opts.http);
    if (!started.ok()) return examples::Fail(started.status());
    server = std::move(started.value());
  }

  auto admin = examples::Connect(opts.conn, "orders-setup");
  if (!admin.ok()) return examples::Fail(admin.status());
  if (opts.conn.embedded && config.delivery == Delivery::kExactlyOnce) {
    return examples::Fail(Status(Errc::kInvalidArgument, "--delivery exactly-once: " + std::string(kEmbeddedHint)));
  }
  for (const std::string& topic :
       {opts.orders.input_topic, opts.orders.events_topic, opts.orders.dead_letter_topic}) {
    if (Status st = (*admin)->EnsureTopic({.name = topic, .partitions = opts.partitions}); !st.ok()) {
      return examples::Fail(st);
    }
  }
  admin->reset();

  config.name = opts.name.empty() ? DefaultName() : opts.name;
  config.brokers = opts.conn.brokers;
  config.group_id = opts.group;
  config.kafka = opts.conn.ConsumerProperties();
  config.connect_timeout = opts.conn.timeout;
  // A transactional id that survives restarts lets a restarted replica fence
  // its own unfinished transaction at once instead of waiting for it to time
  // out; it must differ between replicas, as --name does.
  if (config.delivery == Delivery::kExactlyOnce && config.transactional_id.empty() && !opts.name.empty()) {
    config.transactional_id = opts.group + "-" + opts.name;
  }
  if (server) config.endpoint = server->url();
  config.topics.push_back(OrdersTopic(opts.orders));
  config.on_rebalance = LogRebalance;

  auto rt = Runtime::Create(std::move(config));
  if (!rt.ok()) return examples::Fail(rt.status());
  Runtime& runtime = **rt;
  if (server) server->Add(runtime);
  if (Status st = runtime.Start(); !st.ok()) {
    // -b naming an embedded broker that this program did not recognise as one.
    if (st.detail().find("exactly-once needs Apache Kafka") != std::string::npos) {
      st = Status(st.code(), st.detail() + "; " + kEmbeddedHint);
    }
    if (server) server->Remove(runtime);
    return examples::Fail(st);
  }
  spdlog::info("{}: {} -> {} (invalid orders -> {}), group {}, delivery {}", runtime.config().name,
               opts.orders.input_topic, opts.orders.events_topic, opts.orders.dead_letter_topic, opts.group,
               runtime.config().Get("delivery"));

  while (!WaitForShutdown(std::chrono::milliseconds(200)) && runtime.running()) {
  }
  spdlog::info("shutting down: finishing in-flight orders, committing, leaving the group");
  runtime.Stop();
  auto stats = runtime.Stats();
  spdlog::info("{}: processed {} orders, dead-lettered {}", runtime.config().name, stats.processed,
               stats.dead_lettered);
  if (server) server->Remove(runtime);
  Status exit = runtime.Wait();
  return exit.ok() ? 0 : examples::Fail(exit);
}

int RunProduce(ProduceOptions& opts) {
  auto admin = examples::Connect(opts.conn, "orders-setup");
  if (!admin.ok()) return examples::Fail(admin.status());
  if (Status st = (*admin)->EnsureTopic({.name = opts.topic, .partitions = opts.partitions}); !st.ok()) {
    return examples::Fail(st);
  }
  admin->reset();
  auto producer = Producer::Create(opts.conn.Producer("orders-producer"));
  if (!producer.ok()) return examples::Fail(producer.status());

  const auto orders = GenerateOrders(opts.spec);
  uint64_t invalid = 0;
  for (const GeneratedOrder& order : orders) {
    if (ShutdownRequested()) break;
    if (!order.fault.empty()) ++invalid;
    if (Status st = (*producer)->SendAsync({.topic = opts.topic, .key = order.key, .value = order.value}); !st.ok()) return examples::Fail(st);
  }
  if (Status st = (*producer)->Flush(std::chrono::seconds(30)); !st.ok()) return examples::Fail(st);
  std::printf("produced %lu orders to %s (%lu invalid): %lu delivered, %lu failed\n",
              static_cast<unsigned long>(orders.size()), opts.topic.c_str(), static_cast<unsigned long>(invalid),
              static_cast<unsigned long>((*producer)->delivered()),
              static_cast<unsigned long>((*producer)->failed()));
  if ((*producer)->failed() > 0) return examples::Fail((*producer)->first_error());
  return 0;
}

void AddProcessCommand(CLI::App& app, ProcessOptions& opts) {
  auto* cmd = app.add_subcommand("process", "Run one replica of the orders processor");
  examples::AddConnectionFlags(*cmd, opts.conn);
  cmd->add_option("-G,--group", opts.group, "Consumer group of the replicas")->capture_default_str();
  cmd->add_option("--name", opts.name,
                  "This replica's name, different per replica (default: orders-<hostname>); with exactly-once it "
                  "also makes the transactional id <group>-<name> unless --transactional-id is given");
  cmd->add_option("--delivery", opts.delivery,
                  "exactly-once (events and input offsets in one transaction; needs Apache Kafka) or "
                  "at-least-once (what the embedded broker can do)")
      ->check(CLI::IsMember({"exactly-once", "at-least-once"}))
      ->capture_default_str();
  cmd->add_option("--input", opts.orders.input_topic, "Topic of the orders")->capture_default_str();
  cmd->add_option("--events", opts.orders.events_topic, "Topic the events go to")->capture_default_str();
  cmd->add_option("--dlq", opts.orders.dead_letter_topic, "Dead-letter topic for invalid orders")
      ->capture_default_str();
  cmd->add_option("--high-value-cents", opts.orders.high_value_cents,
                  "Orders totalling at least this also get a high_value_order event")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 62))
      ->capture_default_str();
  cmd->add_option("--max-order-bytes", opts.orders.max_order_bytes, "Larger orders are dead-lettered unread")
      ->check(CLI::Range(size_t{2}, size_t{16} << 20))
      ->capture_default_str();
  cmd->add_option("--partitions", opts.partitions, "Partitions of the topics this creates")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  examples::AddHttpFlag(*cmd, opts.http);
  // After --delivery, which it then leaves alone: the example's default differs.
  opts.settings.Add(*cmd);
}

void AddProduceCommand(CLI::App& app, ProduceOptions& opts) {
  auto* cmd = app.add_subcommand("produce", "Write test orders keyed by customer; the same --seed writes the same orders");
  examples::AddConnectionFlags(*cmd, opts.conn);
  cmd->add_option("-t,--topic", opts.topic, "Topic to write to")->capture_default_str();
  cmd->add_option("--count", opts.spec.count, "Orders to write")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}))
      ->capture_default_str();
  cmd->add_option("--customers", opts.spec.customers, "Distinct customers, picked uniformly")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  cmd->add_option("--invalid-share", opts.spec.invalid_share, "Share of orders with one validation fault, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--seed", opts.spec.seed, "Generator seed")->capture_default_str();
  cmd->add_option("--max-lines", opts.spec.max_lines, "Lines per order: 1 to this")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--partitions", opts.partitions, "Partitions of the topic, when it is created")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
}

}  // namespace
}  // namespace kstrand::orders

int main(int argc, char** argv) {
  using namespace kstrand;
  orders::ProcessOptions process;
  orders::ProduceOptions produce;
  CLI::App app{"orders: validate orders, write their events, dead-letter the invalid ones"};
  app.require_subcommand(1);
  orders::AddProcessCommand(app, process);
  orders::AddProduceCommand(app, produce);
  return examples::RunProgram(app, argc, argv, "orders", [&] {
    return app.got_subcommand("process") ? orders::RunProcess(process) : orders::RunProduce(produce);
  });
}
