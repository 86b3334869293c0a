/// @file
/// @brief GroupInspector: who is in a consumer group, what it has committed, and
/// how far behind it is; what `kafka-consumer-groups.sh --describe` shows.
///
/// Works against real Kafka through the Admin API (ListGroups, DescribeGroups or
/// ConsumerGroupDescribe, ListConsumerGroupOffsets, ListOffsets) and against the
/// embedded broker, which has no ListGroups or DescribeGroups: there, groups and
/// members come from the announcements kstrand members publish (members.topic),
/// so only kstrand members are seen. `members_from` says which source answered.
///
/// Thread safety: one inspector may be used from any thread, one call at a time.
/// It owns a Kafka client; destroy it before the process exits.
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

/// One partition of a group's topics: its committed offset, end and lag.
struct GroupPartition {
  TopicPartition partition;  ///< The topic and partition.
  int64_t committed = -1;    ///< The group's committed offset, -1 if none.
  int64_t end_offset = -1;   ///< The high watermark.
  /// end_offset - committed (minus the low watermark if nothing is committed),
  /// never negative; -1 if the end offset is not known.
  int64_t lag = -1;
  std::string owner;  ///< member_id of the member assigned the partition, empty if none known.
};

/// One member of a group.
struct GroupMember {
  std::string member_id;  ///< The broker's member id, or a kstrand member's instance id.
  std::string client_id;  ///< The member's client.id.
  std::string host;       ///< The host the member connects from.
  std::string endpoint;   ///< A kstrand member's advertised HTTP endpoint, may be empty.
  std::vector<TopicPartition> assignment;  ///< Its partitions, sorted.
};

/// A consumer group as GroupInspector::Describe() found it.
struct GroupDescription {
  std::string group;  ///< The group id.
  /// The broker's group state (Stable, PreparingRebalance, CompletingRebalance,
  /// Empty, Dead, Assigning, Reconciling); from announcements: Stable with
  /// members, Empty without.
  std::string state;
  /// Where members came from: "broker" (DescribeGroups), "announcements" (the
  /// broker has no DescribeGroups; kstrand members only), or "none" (neither:
  /// the broker has no DescribeGroups and Options::members_topic is empty).
  std::string members_from;
  std::vector<GroupMember> members;        ///< Sorted by client_id, member_id.
  std::vector<GroupPartition> partitions;  ///< Sorted; every partition of the group's topics.
  /// Sum of the known lags.
  int64_t TotalLag() const;
};

/// Describes consumer groups, on real Kafka and on the embedded broker.
class GroupInspector {
 public:
  /// Where and how to connect.
  struct Options {
    std::string brokers;                         ///< bootstrap.servers; empty: the `kstrand broker` of this machine.
    std::map<std::string, std::string> kafka;    ///< librdkafka properties (security etc.).
    std::string members_topic{kDefaultMembersTopic};  ///< Where kstrand members announce themselves.
    std::chrono::milliseconds timeout{10000};    ///< Per call.
  };
  /// Connects; fails if no broker answers within the timeout.
  static Result<std::unique_ptr<GroupInspector>> Connect(Options options);
  /// Closes its Kafka client.
  ~GroupInspector();
  GroupInspector(const GroupInspector&) = delete;             ///< Not copyable: it owns a Kafka client.
  GroupInspector& operator=(const GroupInspector&) = delete;  ///< Not copyable.

  /// Consumer groups, sorted. On a broker without ListGroups (the embedded
  /// one) these are the groups with live kstrand members only; `groups_from`,
  /// when given, is set to "broker" or "announcements" to say which.
  Result<std::vector<std::string>> ListGroups(std::string* groups_from = nullptr);
  /// Describes `group`. kNotFound if the broker knows nothing of the group (no
  /// members, no commits). `topics` limits the partitions shown (kNotFound
  /// names a topic that does not exist); empty means the topics the group has
  /// committed offsets for or its members are assigned. Fails with kTimedOut,
  /// naming the brokers, when they do not answer within Options::timeout.
  Result<GroupDescription> Describe(const std::string& group, const std::vector<std::string>& topics = {});

 private:
  class Impl;
  explicit GroupInspector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
