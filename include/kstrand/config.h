// RuntimeConfig: everything a Runtime needs, validated before it starts.
//
// Every tunable is declared once in the settings table (Settings()): name,
// default, description and validation. That table drives RuntimeConfig::Set,
// the CLI's flags and --help, error messages and the status API.
// librdkafka properties pass through untouched in `kafka` and are validated by
// librdkafka itself when the Runtime is created.
//
// Thread safety: a plain value; build it on one thread, hand it to Runtime.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kstrand/message.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

enum class Delivery {
  kAtLeastOnce,  // commit after the handler completed (default)
  kAtMostOnce,   // commit before the handler runs; a crash may skip messages
};

// A synchronous handler: runs on a worker thread, one message of a partition at
// a time, in offset order. Return an error Status (or throw) to fail the
// message; a failed message is never committed and its partition stops until
// it is reassigned (retries and dead-letter topics come with the failure policies).
using Handler = std::function<Status(const Message&)>;

struct TopicHandler {
  std::string topic;
  Handler handler;
};

enum class RebalanceKind { kAssigned, kRevoked, kLost };

struct RebalanceEvent {
  RebalanceKind kind;
  std::string member;                       // RuntimeConfig::name
  std::vector<TopicPartition> partitions;   // the partitions that changed
  std::vector<TopicPartition> assignment;   // everything assigned after the change
};

struct RuntimeConfig {
  // Identity and connection.
  std::string name = "kstrand";   // shows in logs and client.id
  std::string brokers;            // bootstrap.servers; required
  std::string group_id;           // required
  // Tunables; see Settings() for defaults, meaning and validation.
  size_t workers = 4;
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds revoke_timeout{10000};
  std::chrono::milliseconds shutdown_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  size_t lane_max_messages = 10000;
  size_t lane_max_bytes = 16 * 1024 * 1024;
  Delivery delivery = Delivery::kAtLeastOnce;

  // librdkafka properties, passed through as given (e.g. "session.timeout.ms").
  std::map<std::string, std::string> kafka;

  std::vector<TopicHandler> topics;

  // Called on the poll thread after every assignment change; keep it short.
  std::function<void(const RebalanceEvent&)> on_rebalance;

  // Sets a tunable by its settings-table name (e.g. "commit.interval.ms").
  // Errors name the setting and say what was wrong with the value.
  Status Set(std::string_view name, std::string_view value);
  // Current value of a tunable, formatted as Set accepts it.
  std::string Get(std::string_view name) const;
};

struct Setting {
  std::string_view name;
  std::string_view default_value;
  std::string_view description;
};

// The single declaration of every tunable.
std::span<const Setting> Settings();

}  // namespace kstrand
