#include "cli/common.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "kafka/local_broker.h"
#include "log/log.h"
#include "kstrand/shutdown.h"
#include "kstrand/parse.h"

namespace kstrand::cli {

void AddConnectionFlags(CLI::App& app, Connection& conn) {
  app.add_option("-b,--brokers", conn.brokers,
                 "Bootstrap servers (host:port,...); default: the broker started by `kstrand broker`");
  app.add_option("-X", conn.properties, "librdkafka property key=value (repeatable)");
  app.add_option("--connect-timeout", conn.connect_timeout, "Fail if no broker answers within this")
      ->capture_default_str();
}

Status Connection::Resolve() {
  auto target = kafka::ResolveBrokers(brokers, "-b");
  if (!target.ok()) return target.status();
  brokers = target->bootstrap;
  embedded = target->embedded;
  control = target->control;
  return ParseDuration(connect_timeout).status();
}

int Connection::connect_timeout_ms() const {
  auto d = ParseDuration(connect_timeout);
  return d.ok() ? static_cast<int>(d->count()) : 10000;
}

Result<std::map<std::string, std::string>> Connection::Properties(bool for_consumer) const {
  auto parsed = ParseProperties(properties);
  if (!parsed.ok()) return parsed.status();
  std::map<std::string, std::string> given = std::move(parsed.value());
  if (!embedded || !for_consumer) return given;
  return kafka::EmbeddedConsumerProperties(given);  // -X wins over the embedded defaults
}

void SettingsFlags::Add(CLI::App& app) {
  for (const Setting& s : Settings()) {
    std::string flag = "--" + std::string(s.name);
    std::replace(flag.begin(), flag.end(), '.', '-');
    // connect.timeout is already a connection flag on every subcommand.
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

int Fail(const Status& status) {
  std::fprintf(stderr, "kstrand: error: %s\n", status.detail().c_str());
  return status.code() == make_error_code(Errc::kInvalidArgument) ? 2 : 1;
}

std::string FormatPartitions(const std::vector<TopicPartition>& tps) {
  // Group by topic: "orders[0,3,5] users[1]".
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

// Before the first line: kstrand's log output (kstrand/log.h), which every
// client installs anyway, also for what a command logs before its first client.
void SetUpLogging() { log::Install(); }

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

int RunProgram(CLI::App& app, int argc, char** argv, const char* program, const std::function<int()>& run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  SetUpLogging();
  InstallShutdownSignals();
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace kstrand::cli
