// users-api: one instance of the users service (users_app.h). Start several
// with different --http ports; each answers any user. scripts/users-api.sh
// starts three on the embedded broker.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include <kstrand/admin.h>
#include <kstrand/http.h>
#include <kstrand/shutdown.h>

#include "common/example_cli.h"
#include "users-api/users_app.h"

namespace kstrand::users {
namespace {

struct Options {
  examples::Connection conn;
  std::string http = "8081";
  std::string state = "memory";
  std::string state_dir;
  std::string name;
  std::string group = "users-api";
  std::string topic = "users";
  int partitions = 6;
};

int Run(Options& opts) {
  auto listen = http::ParseListenAddress(opts.http);
  if (!listen.ok()) return examples::Fail(Status(Errc::kInvalidArgument, "--http: " + listen.status().detail()));
  auto admin = examples::Connect(opts.conn, "users-api");
  if (!admin.ok()) return examples::Fail(admin.status());
  // The topic is the users' only copy: compacted, it keeps each user's latest record.
  Status st = (*admin)->EnsureTopic(
      {.name = opts.topic, .partitions = opts.partitions, .configs = CompactedTopicConfigs()});
  if (!st.ok()) return examples::Fail(st);

  UsersAppConfig config;
  config.name = opts.name.empty() ? "users-api-" + std::to_string(listen->port) : opts.name;
  config.brokers = opts.conn.brokers;
  config.kafka = opts.conn.ConsumerProperties();
  config.group_id = opts.group;
  config.topic = opts.topic;
  config.listen_host = listen->host;
  config.port = listen->port;
  if (opts.state == "rocksdb") {
    config.state.backend = StoreBackend::kRocksDb;
    config.state.directory = opts.state_dir.empty() ? "users-api-state/" + config.name : opts.state_dir;
  }
  auto app = UsersApp::Start(config);
  if (!app.ok()) return examples::Fail(app.status());
  std::printf("%s\n", (*app)->url().c_str());
  std::fflush(stdout);
  while (!WaitForShutdown(std::chrono::milliseconds(200))) {
  }
  (*app)->Stop();
  Status exit = (*app)->Wait();
  return exit.ok() ? 0 : examples::Fail(exit);
}

}  // namespace
}  // namespace kstrand::users

int main(int argc, char** argv) {
  using namespace kstrand;
  users::Options opts;
  CLI::App app{"users-api: a CRUD service whose users live in a compacted Kafka topic; run several instances"};
  examples::AddConnectionFlags(app, opts.conn);
  app.add_option("--http", opts.http, "Where to serve the API: [HOST:]PORT (loopback when only a port is given)")
      ->capture_default_str();
  app.add_option("--state", opts.state, "Where the table lives: memory (replays its partitions at each start) "
                                        "or rocksdb (replays only what it has not applied)")
      ->check(CLI::IsMember({"memory", "rocksdb"}))
      ->capture_default_str();
  app.add_option("--state-dir", opts.state_dir, "RocksDB directory (default: users-api-state/<name>)");
  app.add_option("--name", opts.name, "This instance's name in the group (default: users-api-<port>)");
  app.add_option("-G,--group", opts.group, "Consumer group of the instances")->capture_default_str();
  app.add_option("-t,--topic", opts.topic, "The users topic")->capture_default_str();
  app.add_option("--partitions", opts.partitions, "Partitions of the users topic, when it is created")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  return examples::RunProgram(app, argc, argv, "users-api", [&] { return users::Run(opts); });
}
