// Pieces every kstrand subcommand shares: connection flags (-b, -X), finding a
// running embedded broker when no -b is given, settings-table flags, and the
// mapping from Status to exit codes (2 = bad input, 1 = runtime failure).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kstrand/config.h"
#include "kstrand/status.h"
#include "kstrand/status_server.h"

namespace kstrand::cli {

struct Connection {
  std::string brokers;                 // -b; empty: the running embedded broker
  std::vector<std::string> properties;  // -X key=value, as typed
  std::string connect_timeout = "10s";

  // librdkafka properties from -X, plus the embedded broker's client
  // properties when talking to one. Errors name the malformed -X argument.
  // `for_consumer` adds the embedded broker's consumer timing properties.
  Result<std::map<std::string, std::string>> Properties(bool for_consumer) const;
  // Resolves brokers: -b, else the embedded broker started by `kstrand broker`
  // (kafka/local_broker.h, as every library client does).
  Status Resolve();
  int connect_timeout_ms() const;
  bool embedded = false;   // set by Resolve when the brokers are an embedded broker
  std::string control;     // that broker's control URL, if known
};

void AddConnectionFlags(CLI::App& app, Connection& conn);

// One --flag per RuntimeConfig setting (dots become dashes), from the single
// settings table. Apply() copies the given ones into a config.
class SettingsFlags {
 public:
  void Add(CLI::App& app);
  Status Apply(RuntimeConfig& config) const;

 private:
  std::map<std::string, std::string> values_;  // setting name -> value as typed
};

// Prints the error and returns the exit code for it.
int Fail(const Status& status);

std::string FormatPartitions(const std::vector<TopicPartition>& tps);

void SetUpLogging();

// The body of an example program's main(): parses `app` (exit code 2 on bad
// flags), sets up logging and SIGINT/SIGTERM handling, then returns what
// `run` returns; an exception escaping it prints "<program>: error: ..." and
// gives exit code 1.
int RunProgram(CLI::App& app, int argc, char** argv, const char* program, const std::function<int()>& run);

// --http [HOST:]PORT: the status server (dashboard, /status, /metrics, probes).
void AddHttpFlag(CLI::App& app, std::string& listen);
// Starts it and prints "dashboard: URL" on stderr; errors name --http.
Result<std::unique_ptr<StatusServer>> StartStatusServer(const std::string& listen);

}  // namespace kstrand::cli
