/// @file
/// @brief GlobalTable: the latest value of every key of a topic, in every process
/// that opens one, as a compacted topic means it (Kafka Streams calls this a
/// global table). It follows the topic from its beginning in a background
/// thread, reading every partition without joining a group and without
/// committing; a null value (a tombstone) removes its key. A missing topic is
/// an empty table until the topic appears.
///
/// Use it for data every member needs whole (reference data, a dashboard's
/// view of counters); for data partitioned over the group's members, where
/// each member holds only its own partitions, use Table (state.h).
///
/// ```
/// auto counters = kstrand::GlobalTable::Start({.topic = "team-counters"});
/// (*counters)->WaitCaughtUp(std::chrono::seconds(10));
/// auto value = (*counters)->Get("team-1/0");
/// ```
///
/// The whole topic is held in memory.
///
/// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "kstrand/status.h"

namespace kstrand {

/// Which topic a GlobalTable follows, and how it connects.
struct GlobalTableConfig {
  /// bootstrap.servers. Empty: the embedded broker `kstrand broker` runs on
  /// this machine (fails if none runs).
  std::string brokers;
  /// librdkafka properties; only the connection and security settings
  /// (security.protocol, sasl.*, ssl.*, ...) are used, so a Runtime's map
  /// may be passed as it is.
  std::map<std::string, std::string> kafka;
  std::string topic;  ///< The topic to follow; required.
  /// client.id, as brokers log it. Default "kstrand-global-table".
  std::string client_id = "kstrand-global-table";
};

/// The latest value of every key of a topic, in this process (see the top of this file).
class GlobalTable {
 public:
  /// Starts reading; does not wait for a broker (see WaitCaughtUp).
  static Result<std::unique_ptr<GlobalTable>> Start(GlobalTableConfig config);
  ~GlobalTable();  ///< Stops reading.
  GlobalTable(const GlobalTable&) = delete;             ///< Not copyable: it owns a Kafka client and a thread.
  GlobalTable& operator=(const GlobalTable&) = delete;  ///< Not copyable.

  /// Waits until every record in the topic when this was called has been
  /// read, so a record acknowledged before the call is visible after it.
  /// False when `timeout` passed first (or the topic does not exist yet).
  bool WaitCaughtUp(std::chrono::milliseconds timeout) const;
  /// The latest value of `key`; nullopt if it has none (never written, or deleted by a tombstone).
  std::optional<std::string> Get(const std::string& key) const;
  /// Every key and its latest value.
  std::map<std::string, std::string> Snapshot() const;

  class Impl;  // kstrand's own code

 private:
  explicit GlobalTable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
