#include "common/example_cli.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include <kstrand/embedded_cluster.h>
#include <kstrand/parse.h>
#include <kstrand/shutdown.h>

namespace kstrand::examples {
namespace {

std::string program_name = "example";

}  // namespace

void AddConnectionFlags(CLI::App& app, Connection& conn) {
  app.add_option("-b,--brokers", conn.brokers,
                 "Bootstrap servers (host:port,...); default: the broker started by `kstrand broker`");
  app.add_option("-X", conn.properties, "librdkafka property key=value (repeatable)");
  app.add_option("--connect-timeout", conn.connect_timeout, "Fail if no broker answers within this")
      ->capture_default_str();
}

Result<std::unique_ptr<Admin>> Connect(Connection& conn, const std::string& client_id) {
  auto kafka = ParseProperties(conn.properties);
  if (!kafka.ok()) return kafka.status();
  conn.kafka = std::move(kafka.value());
  auto timeout = ParseDuration(conn.connect_timeout);
  if (!timeout.ok()) return Status(Errc::kInvalidArgument, "--connect-timeout: " + timeout.status().detail());
  if (timeout->count() == 0) return Status(Errc::kInvalidArgument, "--connect-timeout: must be positive");
  conn.timeout = *timeout;
  auto admin = Admin::Connect({.brokers = conn.brokers, .kafka = conn.kafka, .client_id = client_id,
                               .timeout = conn.timeout});
  if (!admin.ok()) return admin.status();
  conn.brokers = (*admin)->bootstrap();
  conn.embedded = (*admin)->embedded();
  return admin;
}

std::map<std::string, std::string> Connection::ConsumerProperties() const {
  if (!embedded) return kafka;
  auto protocol = kafka.find("group.protocol");
  auto out = protocol == kafka.end() ? EmbeddedCluster::ClientProperties()
                                     : EmbeddedCluster::ClientProperties(protocol->second);
  for (const auto& [k, v] : kafka) out[k] = v;  // -X wins over the embedded defaults
  return out;
}

ProducerConfig Connection::Producer(const std::string& client_id) const {
  return ProducerConfig::SameClusterAs(brokers, kafka, client_id);
}

void SettingsFlags::Add(CLI::App& app) {
  for (const Setting& s : Settings()) {
    std::string flag = "--" + std::string(s.name);
    std::replace(flag.begin(), flag.end(), '.', '-');
    // connect.timeout is already a connection flag.
    if (app.get_option_no_throw(flag) != nullptr) continue;
    std::string name(s.name);
    app.add_option_function<std::string>(
           flag, [this, name](const std::string& v) { values_[name] = v; },
           std::string(s.description) + " (default " + std::string(s.default_value) + ")")
        ->type_name("VALUE");
  }
}

Status SettingsFlags::Apply(RuntimeConfig& config) const {
  for (const auto& [name, value] : values_) {
    Status st = config.Set(name, value);
    if (!st.ok()) {
      std::string flag = "--" + name;
      std::replace(flag.begin(), flag.end(), '.', '-');
      return Status(st.code(), flag + ": " + st.detail());
    }
  }
  return Status::Ok();
}

void AddHttpFlag(CLI::App& app, std::string& listen) {
  app.add_option("--http", listen,
                 "Serve the live dashboard (/), /status, /metrics, /healthz and /readyz at [HOST:]PORT "
                 "(127.0.0.1 unless HOST is given; port 0 picks a free one)");
}

Result<std::unique_ptr<StatusServer>> StartStatusServer(const std::string& listen) {
  auto server = StatusServer::Start(listen);
  if (!server.ok()) return Status(server.status().code(), "--http: " + server.status().detail());
  std::fprintf(stderr, "dashboard: %s\n", (*server)->url().c_str());
  return server;
}

std::string FormatPartitions(const std::vector<TopicPartition>& tps) {
  std::string out;
  std::string topic;
  for (const auto& tp : tps) {
    if (tp.topic != topic) {
      if (!topic.empty()) out += "] ";
      topic = tp.topic;
      out += topic + "[";
    } else {
      out += ",";
    }
    out += std::to_string(tp.partition.value());
  }
  if (!topic.empty()) out += "]";
  return out.empty() ? "(none)" : out;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "%s: error: %s\n", program_name.c_str(), status.detail().c_str());
  return status.code() == make_error_code(Errc::kInvalidArgument) ? 2 : 1;
}

int RunProgram(CLI::App& app, int argc, char** argv, const char* program, const std::function<int()>& run) {
  program_name = program;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  InstallShutdownSignals();
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace kstrand::examples
