// What the example programs share: their command lines. Connection flags
// (-b, -X, --connect-timeout) like the kstrand CLI's, connecting, and a
// main() body that maps a failure to an exit code. Everything here is a user
// of kstrand's public API (<kstrand/...>) and CLI11; copy it freely.
//
// Thread safety: call from main's thread.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <kstrand/admin.h>
#include <kstrand/config.h>
#include <kstrand/producer.h>
#include <kstrand/status.h>
#include <kstrand/status_server.h>
#include <kstrand/types.h>

namespace kstrand::examples {

struct Connection {
  std::string brokers;                  // -b; empty: the embedded broker `kstrand broker` runs
  std::vector<std::string> properties;  // -X key=value, as typed
  std::string connect_timeout = "10s";

  // Set by Connect:
  std::map<std::string, std::string> kafka;  // -X, parsed
  std::chrono::milliseconds timeout{10000};  // --connect-timeout, parsed
  bool embedded = false;                     // the brokers are `kstrand broker`'s

  // librdkafka properties for a Runtime or Router: -X, over the embedded
  // broker's client properties when talking to one.
  std::map<std::string, std::string> ConsumerProperties() const;
  // A producer to the same cluster (-X's connection and security settings).
  ProducerConfig Producer(const std::string& client_id) const;
};

void AddConnectionFlags(CLI::App& app, Connection& conn);

// Parses -X and --connect-timeout, resolves the brokers (-b, or the running
// embedded broker; conn.brokers becomes the bootstrap servers) and waits until
// one answers. Errors name the flag or the brokers.
Result<std::unique_ptr<Admin>> Connect(Connection& conn, const std::string& client_id);

// One --flag per RuntimeConfig setting (dots become dashes), from the
// settings table (Settings()). Apply() sets the given ones on a config.
class SettingsFlags {
 public:
  void Add(CLI::App& app);
  Status Apply(RuntimeConfig& config) const;

 private:
  std::map<std::string, std::string> values_;  // setting name -> value as typed
};

// --http [HOST:]PORT: the status server (dashboard, /status, /metrics, probes).
void AddHttpFlag(CLI::App& app, std::string& listen);
// Starts it and prints "dashboard: URL" on stderr; errors name --http.
Result<std::unique_ptr<StatusServer>> StartStatusServer(const std::string& listen);

// "orders[0,3,5] users[1]", "(none)" when empty.
std::string FormatPartitions(const std::vector<TopicPartition>& tps);

// Prints "<program>: error: ..." and returns the exit code for it: 2 for bad
// input (kInvalidArgument), 1 otherwise.
int Fail(const Status& status);

// The body of main(): parses `app` (exit code 2 on bad flags), sets up
// SIGINT/SIGTERM handling, then returns what `run` returns; an exception
// escaping it prints "<program>: error: ..." and gives exit code 1.
int RunProgram(CLI::App& app, int argc, char** argv, const char* program, const std::function<int()>& run);

}  // namespace kstrand::examples
