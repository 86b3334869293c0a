// Rebalance: the revoke path, and the assign and lost paths beside it. The
// consumer's rebalance callback (on the poll thread) lands here; this is the
// one place that hands partitions over.
//
//   assigned  read the committed offsets and the completions above them
//             (commit metadata) -> tables start where their stores stopped ->
//             one lane per partition (Assignment::Add), held while its stores
//             restore -> assign the partitions -> resume them
//   revoked   tables stop answering -> Drain: Lane::Revoke (drop what is
//             queued, unless at-most-once already committed it) and wait up to
//             revoke.timeout -> Lane::Retire (stragglers send nothing) -> one
//             synchronous commit of what completed (CommitStrategy::Commit,
//             retried while the group rebalances) -> stores released -> lanes
//             removed -> unassign
//   lost      another member may own them already: Retire, Revoke dropping
//             everything, wait for the running slice (so a partition coming
//             back never runs beside its old lane), never commit; exactly-once
//             aborts the open transaction (CommitStrategy::OnLost)
//
// Exactly-once: a partition whose committed offsets cannot be read gets no
// lane and stays paused (processing it from anywhere else would write records
// twice); RetryUnread, each second, reads them again, then creates the lanes,
// seeks to the committed offsets and resumes.
//
// Thread safety: the poll thread (the consumer's close runs the callback on
// the stopping thread once the poll thread is gone).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "kafka/consumer.h"
#include "kstrand/config.h"
#include "kstrand/runtime.h"
#include "runtime/assignment.h"
#include "runtime/commit_strategy.h"
#include "runtime/lane.h"
#include "runtime/state_binding.h"

namespace kstrand::runtime {

class Rebalance {
 public:
  struct Parts : MemberParts {
    StateBinding& state;
    CommitStrategy& commit_strategy;
  };
  explicit Rebalance(Parts parts) : parts_(std::move(parts)) {}
  // Bound on reading the committed offsets (and their metadata) of an assignment.
  static constexpr int kReadCommittedTimeoutMs = 5000;

  // The consumer's rebalance callback: assigns, revokes or loses `partitions`,
  // then tells config.on_rebalance. Returns what it was.
  RebalanceKind OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  // Revokes `lanes` and waits for them; returns those still busy at the timeout.
  std::vector<std::shared_ptr<Lane>> Drain(const std::vector<std::shared_ptr<Lane>>& lanes,
                                           std::chrono::milliseconds timeout);
  // Sets the committed offsets of `partitions` in the list and returns the
  // completions a previous owner left above them (commit metadata).
  // Exactly-once: nullopt if they could not be read.
  std::optional<std::map<TopicPartition, std::vector<int64_t>>> ReadCommitted(
      rd_kafka_topic_partition_list_t* partitions, int timeout_ms = kReadCommittedTimeoutMs);
  // Exactly-once: `partitions` wait, paused and without a lane, until their
  // committed offsets can be read.
  void DeferUnread(const std::vector<TopicPartition>& partitions);
  // Each second: tries to read the deferred partitions' offsets again.
  void RetryUnread();

 private:
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void Revoke(rd_kafka_topic_partition_list_t* partitions, bool lost);
  void Notify(RebalanceKind kind, std::vector<TopicPartition> changed);

  Parts parts_;
  std::vector<TopicPartition> unread_;  // exactly-once: assigned, waiting for their committed offsets
};

}  // namespace kstrand::runtime
