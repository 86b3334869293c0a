/// @file
/// @brief Admin: topic administration, against Kafka (the Admin API) and against the
/// embedded broker `kstrand broker` runs (which has no CreateTopics API:
/// creation goes through its control channel). For an in-process
/// EmbeddedCluster, create topics with EmbeddedCluster::CreateTopic.
///
/// ```
/// auto admin = kstrand::Admin::Connect({.brokers = "localhost:9092"});
/// Status st = (*admin)->EnsureTopic({.name = "users", .partitions = 6,
///                                    .configs = kstrand::CompactedTopicConfigs()});
/// ```
///
/// Errors name the topic: kAlreadyExists ("topic users already exists"),
/// kNotFound ("topic users does not exist"), kTimedOut, or the broker's error
/// (kafka_category(), with its text).
///
/// Thread safety: every method may be called from any thread. Each call waits
/// for its answer, at most AdminConfig::timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// How an Admin connects, and how long it waits.
struct AdminConfig {
  /// bootstrap.servers. Empty: the embedded broker `kstrand broker` runs on
  /// this machine (fails if none runs).
  std::string brokers;
  /// librdkafka properties; only the connection and security settings
  /// (security.protocol, sasl.*, ssl.*, ...) are used, so a Runtime's map
  /// may be passed as it is.
  std::map<std::string, std::string> kafka;
  /// client.id, as brokers log it. Default "kstrand-admin".
  std::string client_id = "kstrand-admin";
  /// How long Connect waits for a broker, and each request for its answer. Default 10 s.
  std::chrono::milliseconds timeout{10000};
};

/// A topic to create.
struct NewTopic {
  std::string name;    ///< The topic's name.
  int partitions = 1;  ///< Its partition count. Default 1.
  /// -1: the cluster's default.replication.factor.
  int replication_factor = -1;
  /// Topic configs such as cleanup.policy=compact. The embedded broker ignores them.
  std::map<std::string, std::string> configs;
};

/// A compacted topic (cleanup.policy=compact) that Kafka compacts within
/// minutes, not after a 1 GB segment fills: the configs for a table's topic,
/// which keeps only each key's latest record.
std::map<std::string, std::string> CompactedTopicConfigs();

/// One partition of a topic, as Admin::DescribeTopic() found it.
struct PartitionDescription {
  Partition partition{0};  ///< The partition.
  int32_t leader = -1;  ///< Broker id, -1 if none.
  Offset low{-1};       ///< First offset still in the log; -1 unless watermarks were asked for.
  Offset high{-1};      ///< The next offset to be written; -1 unless watermarks were asked for.
};

/// A topic and its partitions.
struct TopicDescription {
  std::string name;  ///< The topic's name.
  std::vector<PartitionDescription> partitions;  ///< Ascending by partition.
};

/// Creates, describes and lists topics (see the top of this file).
class Admin {
 public:
  /// Resolves `brokers` and waits until a broker answers (kTimedOut naming the
  /// bootstrap servers otherwise; at once for rejected credentials or TLS).
  static Result<std::unique_ptr<Admin>> Connect(AdminConfig config);
  /// Closes its Kafka client.
  ~Admin();
  Admin(const Admin&) = delete;             ///< Not copyable: it owns a Kafka client.
  Admin& operator=(const Admin&) = delete;  ///< Not copyable.

  /// Creates the topic; kAlreadyExists naming it if it exists. Returns once
  /// the cluster accepted it (its metadata may lag a moment: see EnsureTopic).
  Status CreateTopic(const NewTopic& topic);
  /// Creates the topic unless it exists (a program started twice at once may
  /// race with itself: losing is success), then waits until it shows in the
  /// metadata, so it can be used at once. An existing topic is used as it is,
  /// whatever its partition count.
  Status EnsureTopic(const NewTopic& topic);
  /// kNotFound ("topic NAME does not exist") if it is missing. `watermarks`
  /// also reads each partition's low and high offsets (one request each).
  Result<TopicDescription> DescribeTopic(const std::string& name, bool watermarks = false);
  /// Every topic but Kafka's internal ones ("__..."), ascending by name.
  Result<std::vector<TopicDescription>> ListTopics();

  /// The bootstrap servers this admin talks to (resolved, when `brokers` was empty).
  const std::string& bootstrap() const;
  /// Whether they are the embedded broker `kstrand broker` runs on this machine.
  bool embedded() const;

  class Impl;  // kstrand's own code

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
