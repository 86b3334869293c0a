/// @file
/// @brief EmbeddedCluster: librdkafka's in-process mock Kafka cluster, for
/// development, demos and tests.
///
/// Any Kafka client can connect to bootstrap(). Not for production: partitions
/// keep only about 5 MB or 100,000 batches each, there is no
/// CreateTopics/DescribeGroups API, static membership is ignored and
/// transactions are not enforced. Topics must be created through CreateTopic().
///
/// Thread safety: all methods may be called from any thread. The cluster stops
/// when the object is destroyed; clients still connected then see it go down.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kstrand/status.h"

namespace kstrand {

/// An in-process mock Kafka cluster on loopback (see the file's description for its limits).
class EmbeddedCluster {
 public:
  /// Starts `brokers` mock brokers listening on loopback.
  static Result<std::unique_ptr<EmbeddedCluster>> Start(int brokers = 1);
  /// Stops the cluster; clients still connected see it go down.
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;             ///< Not copyable: it owns the brokers.
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;  ///< Not copyable.

  /// The bootstrap.servers value for clients, e.g. "127.0.0.1:39201".
  const std::string& bootstrap() const;
  /// How many brokers it runs; their ids are 1..broker_count().
  int broker_count() const;

  /// Creates `topic` with `partitions` partitions (the mock has no CreateTopics API).
  Status CreateTopic(const std::string& topic, int partitions);

  /// @name Fault injection
  /// Broker ids are 1..broker_count().
  /// @{

  /// Takes broker `broker` down: its connections close and it refuses new ones.
  Status SetBrokerDown(int32_t broker);
  /// Brings broker `broker` back up.
  Status SetBrokerUp(int32_t broker);
  /// Delays every response of broker `broker` by `rtt`.
  Status SetBrokerRtt(int32_t broker, std::chrono::milliseconds rtt);
  /// The next requests of Kafka API `api_key` fail with these Kafka error codes,
  /// one per request, in order.
  Status PushRequestErrors(int16_t api_key, const std::vector<int32_t>& errors);
  /// @}

  /// KIP-848: the heartbeat interval the broker gives members (the mock's
  /// default is 3 s), so how soon a member sees the group change; shorter
  /// speeds up tests that churn the group.
  void SetGroupHeartbeatInterval(std::chrono::milliseconds interval);

  /// Consumer properties that suit the mock, for a group protocol: "consumer"
  /// (KIP-848, the default) or "classic". Nobody needs to pass them: a Runtime
  /// whose brokers are a running EmbeddedCluster of this process, or the broker
  /// of `kstrand broker`, gets them underneath its own `kafka` properties (see
  /// RuntimeConfig::brokers). The mock's classic protocol is unsafe
  /// with more than one member: a follower whose SyncGroup arrives after the
  /// leader's gets INVALID_REQUEST and rejoins, and while it rejoins the mock
  /// refuses every offset commit, including a revoke's final one (duplicates).
  /// Classic also delays each join after the first by session.timeout.ms - 1000
  /// ms, hence its short session timeout. KIP-848 rejects those timing properties
  /// (the broker sets them). Both: short fetch waits keep latency low.
  static std::map<std::string, std::string> ClientProperties(std::string_view group_protocol = "consumer");

 private:
  class Impl;
  explicit EmbeddedCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
