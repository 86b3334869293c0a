/// @file
/// @brief Routing: any instance answers any key.
///
/// A key's partition is what every Kafka producer computes (murmur2, as Java clients); the partition's owner
/// is read from the group's member announcements (each Runtime announces its
/// assignment and RuntimeConfig::endpoint to `members.topic`), which works on
/// the embedded broker, where there is no DescribeGroups, and on real Kafka.
///
/// An owner is known when exactly one live member of the group claims the
/// partition. While a partition moves (revoked by one member, not yet
/// announced by the next) or after a member crashed (its claim lingers until
/// it expires), the owner is unknown: callers answer 503 with Retry-After,
/// never a wrong 404. A forwarded request carries kForwardedHeader, and the
/// receiver never forwards it again: a stale table costs a 503, not a loop.
///
/// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// What a Router follows.
struct RouterConfig {
  std::string brokers;                       ///< bootstrap.servers; empty: the `kstrand broker` of this machine.
  std::map<std::string, std::string> kafka;  ///< librdkafka properties (security settings).
  std::string group_id;                      ///< The group whose members own the partitions.
  std::string topic;                         ///< The keyed topic (a table's topic).
  std::string members_topic{kDefaultMembersTopic};  ///< Where the group's members announce their assignments.
  std::chrono::milliseconds connect_timeout{10000};  ///< How long Start() waits for a broker.
};

/// Finds the member that owns a key's partition, and forwards requests to it.
class Router {
 public:
  /// The HTTP header a forwarded request carries; its receiver never forwards it again.
  static constexpr std::string_view kForwardedHeader = "Kstrand-Forwarded-By";

  /// Reads the topic's partition count (kNotFound if the topic is missing)
  /// and starts following the announcements.
  static Result<std::unique_ptr<Router>> Start(RouterConfig config);
  /// Stops following the announcements.
  ~Router();

  /// The topic's partition count.
  int32_t partitions() const;
  /// The partition of `key`, as every Kafka producer computes it (murmur2).
  Partition PartitionFor(std::string_view key) const;
  /// The endpoint of the partition's owner; nullopt while unknown (see above).
  std::optional<std::string> Owner(Partition partition) const;
  /// Every partition with a known owner, and that owner's endpoint.
  std::map<int32_t, std::string> Owners() const;

  /// The owner's answer to a forwarded request.
  struct Response {
    int status = 0;    ///< HTTP status.
    std::string body;  ///< Response body.
    std::vector<std::pair<std::string, std::string>> headers;  ///< As the owner sent them.
  };
  /// Sends the request to `endpoint` (an http:// URL) marked as forwarded by
  /// `self`, and returns the owner's answer as it is. kTimedOut if the owner
  /// does not answer within `timeout`.
  Result<Response> Forward(const std::string& endpoint, std::string_view self, std::string_view method,
                           const std::string& target, const std::string& body, const std::string& content_type,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;

 private:
  class Impl;
  explicit Router(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
